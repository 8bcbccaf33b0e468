"""What an agent's action becomes: one feedback row through the service's feedback path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from rules.facts import FactValueError
from rules.rulebook import Rulebook
from rules.templates import RenderError
from service.assess import reply_locale
from service.db.tables import Decision, Ticket
from service.errors import InvalidTicket
from service.feedback import record_feedback
from service.replies import PROMO_PLACEHOLDER, preview_outputs, render
from service.schemas import FeedbackIn, FeedbackResponse
from service.state import AppState

ACTIONS = ("send", "escalate")


class ActionRefused(Exception):
    """The agent's action cannot be recorded as given; the message says what to fix."""


@dataclass(frozen=True)
class ActionForm:
    """The ticket form as the agent submitted it (kept whole to show again after a failure)."""

    action: str = "send"
    choice: str = ""  # the template picked among the suggestions
    other_template: str = ""  # a template picked from the searchable list (wins over choice)
    text: str = ""  # the text to send; blank sends the template as rendered
    topic: str = ""  # a corrected topic, when the agent knows better
    wrong_template: str = ""
    wrong_reason: str = ""
    idem: str = ""  # the idempotency key of this form's render

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> ActionForm:
        """Return the form from posted fields (unknown fields ignored, line endings normalised)."""
        names = cls.__dataclass_fields__
        values = {k: v.replace("\r\n", "\n") for k, v in fields.items() if k in names}
        return cls(**values)

    @property
    def template(self) -> str:
        """Return the template the agent chose to send."""
        return self.other_template.strip() or self.choice


def preview_text(rulebook: Rulebook, ticket: Ticket, template_id: str) -> str:
    """Return a template rendered for this ticket, as a suggestion shows it; raise ActionRefused."""
    template = rulebook.templates.get(template_id)
    if template is None:
        raise ActionRefused(f"there is no template '{template_id}'; pick one from the list")
    locale = reply_locale(ticket.locale)
    try:
        facts = rulebook.facts.validate(dict(ticket.facts))
        return render(template, locale, facts, preview_outputs(template, locale, facts))
    except (RenderError, FactValueError) as exc:
        raise ActionRefused(f"'{template_id}' cannot be filled in for this ride: {exc}") from None


def suggested_text(decision: Decision, template_id: str) -> str | None:
    """Return the text recorded with the decision for this template, if it was suggested."""
    suggestions: list[dict[str, Any]] = decision.response.get("suggestions", [])
    return next((s["text"] for s in suggestions if s["template_id"] == template_id), None)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def feedback_of(
    form: ActionForm, rulebook: Rulebook, decision: Decision, ticket: Ticket, agent_id: str
) -> FeedbackIn:
    """Return the feedback an action records; raise ActionRefused naming what to fix."""
    if form.action not in ACTIONS:
        raise ActionRefused(f"unknown action '{form.action}'")
    values: dict[str, Any] = {
        "ticket_id": ticket.id,
        "decision_id": decision.id,
        "agent_id": agent_id,
        "topic": form.topic.strip() or None,
        "wrong_reason": form.wrong_reason or None,
        "wrong_template_id": (form.wrong_template or None) if form.wrong_reason else None,
        "idempotency_key": form.idem or None,
    }
    if form.action == "escalate":
        values.update(escalated=True, final_text=form.text.strip() or None)
    else:
        if not form.template:
            raise ActionRefused("pick a suggestion (1, 2, 3) or a template from the list")
        shown = suggested_text(decision, form.template) or preview_text(
            rulebook, ticket, form.template
        )
        final = form.text if form.text.strip() else shown
        if any(placeholder in final for placeholder in PROMO_PLACEHOLDER.values()):
            # The console issues no promo codes (the autoreply transaction does): never send a
            # customer the placeholder.
            raise ActionRefused(
                "this reply still holds the promo code placeholder: the console cannot issue "
                "codes; write the reply without it, pick another template, or escalate"
            )
        values.update(
            template_id=form.template, edited=not _same(final, shown), final_text=final.strip()
        )
    try:
        return FeedbackIn(**values)
    except ValidationError as exc:
        raise ActionRefused(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from None


def act(
    state: AppState, form: ActionForm, decision: Decision, ticket: Ticket, agent_id: str
) -> FeedbackResponse:
    """Record the agent's action as feedback (once per form render); raise ActionRefused."""
    feedback = feedback_of(form, state.rulebooks.current, decision, ticket, agent_id)
    try:
        return record_feedback(state, feedback)
    except InvalidTicket as exc:
        raise ActionRefused(exc.message) from None
