"""Stateless HTTP functions; each module is a FastAPI app with a Mangum ``handler``."""
