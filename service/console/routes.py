"""The agent's pages: sign-in, the queue, a ticket, acting on it."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from rules.topics import LOCALES
from service.console import auth
from service.console.acting import ActionForm, ActionRefused, act, preview_text
from service.console.pages import console_of, redirect
from service.console.views import ticket_view
from service.console.words import HANDOFF_WORDS
from service.db import console as queries
from service.db.session import database_outage
from service.deps import StateDep, scopes_for
from service.errors import ServiceError
from service.settings import hash_key
from service.state import AppState

router = APIRouter(prefix="/console", include_in_schema=False)
SessionDep = Annotated[auth.ConsoleSession, Depends(auth.current_session)]
FILTERS = ("line", "locale", "topic", "reason", "mode", "status")
LOGIN_ATTEMPTS_PER_MINUTE = 20


def queue_filter(params: dict[str, str]) -> queries.QueueFilter:
    """Return the queue filter named by query parameters, dropping values outside each vocabulary."""
    value = {name: (params.get(name) or "")[:256] or None for name in FILTERS}
    return queries.QueueFilter(
        line=value["line"],
        locale=value["locale"],
        topic=value["topic"],
        reason=value["reason"] if value["reason"] in HANDOFF_WORDS else None,
        mode=value["mode"] if value["mode"] in ("on", "shadow", "off") else None,
        status=value["status"] if value["status"] in ("done", "all") else "open",
    )


def filter_query(params: dict[str, str]) -> str:
    """Return the filter part of a queue URL's query, to carry from page to page."""
    return urlencode({k: params[k] for k in FILTERS if params.get(k)})


@router.get("")
def home() -> Response:
    """Open the queue."""
    return redirect("/console/queue")


@router.get("/login")
def login_form(request: Request, next: str = "/console/queue") -> Response:
    """Show the sign-in form (an API key with the console scope)."""
    return _login_page(request, next, error=None, status=200)


def _login_page(request: Request, next_path: str, error: str | None, status: int) -> Response:
    token = secrets.token_hex(16)
    context = {"next": next_path, "login_csrf": token, "error": error}
    response = console_of(request).page(request, "login.html", context, status=status)
    response.set_cookie(
        auth.LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/console",
        secure=request.url.scheme == "https",
    )
    return response


def _safe_next(path: str) -> str:
    """Return `path` if it is a console page of this site, else the queue (no open redirect)."""
    ok = path.startswith("/console") and not path.startswith("//") and "\\" not in path
    return path if ok else "/console/queue"


@router.post("/login")
async def login(request: Request, state: StateDep) -> Response:
    """Exchange an API key holding the console scope for a signed session cookie."""
    form = await auth.read_form(request)
    next_path = _safe_next(form.get("next", ""))
    expected = request.cookies.get(auth.LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(form.get("csrf", ""), expected):
        return _login_page(request, next_path, "The form expired; sign in again.", 403)
    client = request.client.host if request.client else "unknown"
    if state.store.hit(f"console-login:{client}") > LOGIN_ATTEMPTS_PER_MINUTE:
        return _login_page(request, next_path, "Too many attempts; wait a minute.", 429)
    key = form.get("api_key", "").strip()
    scopes = scopes_for(state.settings, key) if key else None
    if scopes is None:
        return _login_page(request, next_path, "Unknown API key.", 401)
    if auth.SCOPE not in scopes:
        return _login_page(request, next_path, "This key lacks the console scope.", 403)
    response = redirect(next_path)
    response.set_cookie(
        auth.COOKIE,
        console_of(request).signer.session_cookie(hash_key(key)),
        max_age=int(console_of(request).signer.lifetime_s),
        httponly=True,
        samesite="strict",
        path="/console",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(auth.LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    """End the session."""
    auth.check_csrf(console_of(request).signer, session, await auth.read_form(request))
    response = redirect("/console/login")
    response.delete_cookie(auth.COOKIE, path="/console")
    return response


@router.get("/queue")
def queue(request: Request, state: StateDep, session: SessionDep) -> Response:
    """List handed-off and shadow decisions, newest first, filtered, a page at a time."""
    params = dict(request.query_params)
    filters = queue_filter(params)
    after = queries.Cursor.decode(params.get("after"))
    before = queries.Cursor.decode(params.get("before"))
    with state.sessions() as db:
        rows, more = queries.queue_page(db, filters=filters, after=after, before=before)
    rulebook = state.rulebooks.current
    line = filters.line if filters.line in rulebook.topics.lines else None
    topics = [leaf.path for leaf in rulebook.topics.leaves(line)]
    context = {
        "rows": rows,
        "filters": filters,
        "q": filter_query(params),
        "older": rows[-1].cursor.encode() if rows and (more or before) else "",
        "newer": rows[0].cursor.encode() if rows and (after or (before and more)) else "",
        "lines": list(rulebook.topics.lines),
        "locales": LOCALES,
        "topics": topics,
        "reasons": HANDOFF_WORDS,
        "done": params.get("done", ""),
    }
    return console_of(request).page(request, "queue.html", context, session=session)


def _neighbours(
    db: Session, filters: queries.QueueFilter, cursor: queries.Cursor
) -> tuple[str, str]:
    """Return the decision ids of the next older and the next newer ticket in the queue."""
    older, _ = queries.queue_page(db, filters=filters, after=cursor, limit=1)
    newer, _ = queries.queue_page(db, filters=filters, before=cursor, limit=1)
    return (older[0].decision_id if older else "", newer[0].decision_id if newer else "")


def _ticket_page(
    request: Request,
    state: AppState,
    session: auth.ConsoleSession,
    decision_id: str,
    form: ActionForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    q = request.query_params.get("q", "") if form is None else form_q(request)
    filters = queue_filter(dict(parse_qsl(q)))
    with state.sessions() as db:
        record = queries.ticket_record(db, decision_id=decision_id)
        if record is None:
            return console_of(request).page(
                request, "missing.html", {"decision_id": decision_id}, session=session, status=404
            )
        decision, ticket, feedback = record
        older, newer = _neighbours(db, filters, queries.Cursor(decision.created_at, decision.id))
    view = ticket_view(state.rulebooks.current, decision, ticket, feedback)
    first = view.suggestions[0] if view.suggestions else None
    form = form or ActionForm(
        choice=first.template_id if first else "",
        text=first.text if first else "",
        idem=secrets.token_hex(16),
    )
    context = {
        "view": view,
        "form": form,
        "error": error,
        "q": q,
        "older": older,
        "newer": newer,
        "done": request.query_params.get("done", ""),
    }
    return console_of(request).page(request, "ticket.html", context, session=session, status=status)


def form_q(request: Request) -> str:
    """Return the queue filters a posted ticket form carries (kept on the request by `act_on`)."""
    return str(getattr(request.state, "queue_q", ""))


@router.get("/decisions/{decision_id}")
def ticket(decision_id: str, request: Request, state: StateDep, session: SessionDep) -> Response:
    """Show a ticket: text, dialogue, facts, the top replies with why, the hand-off reasons."""
    return _ticket_page(request, state, session, decision_id)


@router.get("/decisions/{decision_id}/preview")
def preview(decision_id: str, template: str, state: StateDep, _session: SessionDep) -> Response:
    """Return a template rendered for this ticket (the searchable list fills the editor with it)."""
    with state.sessions() as db:
        record = queries.ticket_record(db, decision_id=decision_id)
    if record is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    try:
        return JSONResponse({"text": preview_text(state.rulebooks.current, record[1], template)})
    except ActionRefused as refused:
        return JSONResponse({"error": str(refused)}, status_code=422)


@router.post("/decisions/{decision_id}/act")
async def act_on(
    decision_id: str, request: Request, state: StateDep, session: SessionDep
) -> Response:
    """Record the agent's action as feedback, then open the next ticket; on failure show the
    ticket again with the error and everything the agent typed."""
    fields = await auth.read_form(request)
    request.state.queue_q = fields.get("q", "")
    form = ActionForm.from_fields(fields)
    try:
        auth.check_csrf(console_of(request).signer, session, fields)
    except auth.CsrfRefused:
        expired = "This form expired (your sign-in changed). Check the text and send again."
        return await run_in_threadpool(
            _ticket_page, request, state, session, decision_id, form, expired, 403
        )
    return await run_in_threadpool(_act, request, state, session, decision_id, form)


def _act(
    request: Request,
    state: AppState,
    session: auth.ConsoleSession,
    decision_id: str,
    form: ActionForm,
) -> Response:
    try:
        with state.sessions() as db:
            record = queries.ticket_record(db, decision_id=decision_id)
        if record is None:
            return _ticket_page(request, state, session, decision_id)
        decision, ticket, _ = record
        act(state, form, decision, ticket, session.agent_id)
        with state.sessions() as db:
            here = queries.Cursor(decision.created_at, decision.id)
            older, _ = _neighbours(db, queue_filter(dict(parse_qsl(form_q(request)))), here)
    except ActionRefused as refused:
        return _ticket_page(request, state, session, decision_id, form, str(refused), 422)
    except ServiceError as failed:
        return _ticket_page(
            request, state, session, decision_id, form, failed.message, failed.status
        )
    except SQLAlchemyError as exc:
        if not database_outage(exc):
            raise
        # Without the database the ticket cannot be shown: show what the agent typed, to resend.
        context = {"form": form, "decision_id": decision_id, "q": form_q(request)}
        page = console_of(request).page
        return page(request, "unsaved.html", context, session=session, status=503)
    q = form_q(request)
    if older:
        return redirect(f"/console/decisions/{older}", q=q, done=ticket.id)
    return redirect("/console/queue", **dict(parse_qsl(q)), done=ticket.id)
