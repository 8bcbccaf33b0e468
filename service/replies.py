"""Rendering a template for a ticket: previews for the agent's screen, final texts after actions ran."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rules.templates import RenderError, Template

# What a suggestion shows where a promo code will be issued only when the reply is sent.
PROMO_PLACEHOLDER = {
    "ru": "[промокод будет выдан при отправке]",
    "en": "[promo code issued on send]",
}


def action_params(template: Template, facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the template's action parameters for these facts; raise RenderError if one is missing."""
    if template.action is None:
        return None
    params = template.action.resolve(facts)
    if params is None:
        raise RenderError(
            f"action '{template.action.kind.name}' of '{template.id}' needs a fact the ticket lacks"
        )
    return params


def promo_outputs(code: str, value: int, currency: str, expires_on: date) -> dict[str, Any]:
    """Return the slot values an issued promo code fills."""
    return {
        "promo_code": code,
        "promo_value": value,
        "promo_currency": currency,
        "promo_expires_on": expires_on,
    }


def preview_outputs(
    template: Template, locale: str, facts: Mapping[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """Return placeholder action outputs for a preview: nothing is issued while suggesting."""
    params = action_params(template, facts)
    if params is None:
        return {}
    now = now or datetime.now(UTC)
    expires = (now + timedelta(days=int(params["days_valid"]))).date()
    placeholder = PROMO_PLACEHOLDER.get(locale, PROMO_PLACEHOLDER["en"])
    return promo_outputs(placeholder, int(params["value"]), str(params["currency"]), expires)


def render(
    template: Template, locale: str, facts: Mapping[str, Any], outputs: Mapping[str, Any]
) -> str:
    """Return the template's text with its slots filled; raise RenderError when it cannot render."""
    return template.render(locale, {**facts, **outputs})
