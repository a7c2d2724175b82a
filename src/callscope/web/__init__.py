"""The dashboard and REST API (`callscope serve`): FastAPI, server-rendered pages, Chart.js."""

from callscope.web.app import create_app

__all__ = ["create_app"]
