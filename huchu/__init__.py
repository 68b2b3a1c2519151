"""Huchu: find the face that represents us."""

__version__ = "0.1.0"
