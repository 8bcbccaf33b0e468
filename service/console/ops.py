"""The operations pages: per line and topic figures with a chart, and the rulebook comparison."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from rules.errors import RulebookError
from service.comparison import compare_challenger
from service.console.compare import compare_rulebook, rulebook_dirs
from service.console.figures import daily_rates, rate_chart, topic_figures
from service.console.pages import console_of
from service.console.routes import SessionDep
from service.console.views import title_of
from service.console.words import reason_words
from service.db import console as queries
from service.db.repository import utcnow
from service.db.shadow import latest_challenger
from service.deps import StateDep
from service.errors import Forbidden
from service.state import AppState

router = APIRouter(prefix="/console/ops", include_in_schema=False)
CHART_SIZE = (640, 160)


@router.get("")
def operations(request: Request, state: StateDep, session: SessionDep, days: int = 30) -> Response:
    """Show per line and topic: autoreply rate, agreement with agents, hand-off reasons, unsafe
    reports, shadow against on, the daily rate as a chart, and the challenger against the
    champion."""
    days = min(max(days, 1), 365)
    until = utcnow()
    since = until - timedelta(days=days)
    with state.sessions() as db:
        decisions = queries.decision_rows(db, since=since)
        feedback = queries.feedback_rows(db, since=since)
        challenger = challenger_figures(db, state, since)
    rulebook = state.rulebooks.current
    context = {
        "days": days,
        "figures": topic_figures(decisions, feedback),
        "chart": rate_chart(daily_rates(decisions), since, until, CHART_SIZE),
        "title": lambda path: title_of(rulebook, path, "en"),
        "reason_words": reason_words,
        "challenger": challenger,
    }
    return console_of(request).page(request, "ops.html", context, session=session)


def challenger_figures(db: Session, state: AppState, since: datetime) -> dict[str, Any] | None:
    """Return the challenger scored in shadow against the champion over the window: the one
    loaded now, else the latest scored (None: no challenger ever)."""
    loaded = state.challenger.current
    version = loaded.classifier.version if loaded else latest_challenger(db)
    if version is None:
        return None
    return compare_challenger(db, challenger=version, since=since).as_dict()


@router.get("/compare")
def compare(
    request: Request, state: StateDep, session: SessionDep, directory: str = ""
) -> Response:
    """Replay recorded tickets through another rulebook directory (admin scope) and show which
    decisions would change, with examples."""
    context: dict[str, object] = {
        "directory": directory,
        "choices": rulebook_dirs(state.settings.reload_roots),
        "serving": str(state.rulebooks.root),
        "comparison": None,
        "problems": [],
        "error": None,
    }
    status = 200
    if "admin" not in session.scopes:
        context["error"], status = "Comparing rulebooks needs a key with the admin scope.", 403
    elif directory:
        try:
            context["comparison"] = compare_rulebook(state, directory)
        except Forbidden as refused:
            context["error"], status = refused.message, 403
        except RulebookError as broken:
            context["error"], status = "That rulebook does not load.", 422
            context["problems"] = [str(p) for p in broken.problems]
    return console_of(request).page(
        request, "compare.html", context, session=session, status=status
    )
