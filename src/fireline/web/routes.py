"""Puts the web application on the FastAPI app: static files, pages, HTML errors."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fireline.web import auth, dashboard

STATIC = Path(__file__).parent / "static"
# Each domain's pages, in the order their routes are matched.
ROUTERS = [auth.router, dashboard.router]


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
