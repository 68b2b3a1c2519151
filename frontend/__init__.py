"""Jinja templates and static assets of the participant web page."""
