"""Rendering console pages: autoescaped Jinja2 templates, and the headers every page carries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.console.auth import ConsoleSession, Signer
from service.console.words import WRONG_WORDS

HERE = Path(__file__).parent
# Scripts only from our own origin (no inline script, no eval): a customer's text that slipped
# into the page as markup still could not run. Styles likewise; the chart is plain SVG markup.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold customers' messages
}


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _environment() -> Environment:
    # Autoescaping on for every template: ticket text, facts and dialogue are untrusted input.
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined
    )
    env.filters["percent"] = _percent
    env.globals["wrong_words"] = WRONG_WORDS
    return env


@dataclass(frozen=True)
class Console:
    """The console's own state on the app: the signer and the templates."""

    signer: Signer
    templates: Jinja2Templates

    @classmethod
    def create(cls, signer: Signer) -> Console:
        """Return the console state for this signer."""
        return cls(signer, Jinja2Templates(env=_environment()))

    def page(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        session: ConsoleSession | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        """Return a rendered page with the security headers and this session's CSRF token."""
        base = {
            "session": session,
            "csrf": self.signer.csrf_token(session.sid) if session else "",
            "page_name": name.removesuffix(".html"),
        }
        response = self.templates.TemplateResponse(
            request, name, {**base, **context}, status_code=status
        )
        response.headers.update(SECURITY_HEADERS)
        return response


def redirect(path: str, **params: str) -> Response:
    """Return a 303 to a console path with query parameters (after a POST, or to log in)."""
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def console_of(request: Request) -> Console:
    """Return the console state of the app serving `request`."""
    console: Console = request.app.state.console
    return console
