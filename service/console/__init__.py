"""The agent console: server-rendered pages under /console on the service's own app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from service.console import ops, routes
from service.console.auth import CsrfRefused, LoginRequired, Signer
from service.console.pages import HERE, Console, console_of, redirect
from service.settings import Settings


async def _login_required(request: Request, _exc: Exception) -> Response:
    """Send a page request to the sign-in form; refuse anything else with 401."""
    if request.method == "GET":
        return redirect("/console/login", next=request.url.path)
    page = console_of(request).page
    return page(request, "refused.html", {"why": "Sign in first."}, status=401)


async def _csrf_refused(request: Request, _exc: Exception) -> Response:
    page = console_of(request).page
    return page(request, "refused.html", {"why": "The form expired; reload it."}, status=403)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the console's routes, static files and sign-in handling to the app."""
    app.state.console = Console.create(Signer.from_settings(settings))
    app.include_router(routes.router)
    app.include_router(ops.router)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
