"""The HTTP interface: a FastAPI app with one router module per resource and a static page."""

from samantha.web.app import create_app

__all__ = ["create_app"]
