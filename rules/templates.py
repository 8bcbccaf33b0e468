"""Reply templates: per-locale texts with declared slots, rendered in a sandbox; and the actions
(vocabulary in code) whose outputs may fill slots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.nodes import Template as JinjaAst
from jinja2.sandbox import SandboxedEnvironment


@dataclass(frozen=True)
class ActionParam:
    """One parameter of an action: its Python type and whether a fact may supply it."""

    type: type
    from_fact: bool = False


@dataclass(frozen=True)
class ActionKind:
    """An action a template may ask for once the decision to reply is taken."""

    name: str
    description: str
    params: Mapping[str, ActionParam]
    outputs: tuple[str, ...]


ACTIONS: dict[str, ActionKind] = {
    "issue_promo_code": ActionKind(
        name="issue_promo_code",
        description="Issue a fresh single-use promo code to the rider (at most one per ticket).",
        params={
            "value": ActionParam(int, from_fact=True),
            "currency": ActionParam(str),
            "days_valid": ActionParam(int),
        },
        outputs=("promo_code", "promo_value", "promo_currency", "promo_expires_on"),
    ),
}


@dataclass(frozen=True)
class ActionCall:
    """An action with its parameters: literals, or `{fact: name}` references resolved per ticket."""

    kind: ActionKind
    params: Mapping[str, Any]  # literal value, or FactRef

    def resolve(self, facts: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return the parameters with fact references filled in, or None if a referenced fact is missing."""
        out: dict[str, Any] = {}
        for name, value in self.params.items():
            if isinstance(value, FactRef):
                if facts.get(value.name) is None:
                    return None
                out[name] = facts[value.name]
            else:
                out[name] = value
        return out


@dataclass(frozen=True)
class FactRef:
    """An action parameter taken from a ticket fact."""

    name: str


class RenderError(Exception):
    """A template could not be rendered for this ticket (a slot is missing, a locale is absent)."""


def _format_date(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def make_environment() -> SandboxedEnvironment:
    """Return the sandboxed Jinja2 environment every template renders in (strict undefined slots)."""
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.filters["date"] = _format_date
    return env


ENV = make_environment()


def variables_used(source: str) -> set[str]:
    """Return the names a template text reads; raise jinja2.TemplateSyntaxError on bad syntax."""
    ast: JinjaAst = ENV.parse(source)
    return set(meta.find_undeclared_variables(ast))


@dataclass
class Template:
    """A reply template: what it says in each locale, which slots it reads, what it does."""

    id: str
    title: str
    texts: dict[str, str]
    slots: tuple[str, ...]
    autoreply: bool
    action: ActionCall | None = None
    compiled: dict[str, Any] = field(default_factory=dict, repr=False)

    def compile(self) -> None:
        """Compile every locale's text once (raise jinja2.TemplateSyntaxError)."""
        self.compiled = {locale: ENV.from_string(text) for locale, text in self.texts.items()}

    def render(self, locale: str, values: Mapping[str, Any]) -> str:
        """Return the text for `locale` with its slots filled; raise RenderError when it cannot."""
        compiled = self.compiled.get(locale)
        if compiled is None:
            raise RenderError(f"template '{self.id}' has no '{locale}' text")
        missing = [slot for slot in self.slots if values.get(slot) is None]
        if missing:
            raise RenderError(f"template '{self.id}' needs {', '.join(missing)}")
        try:
            return str(compiled.render({slot: values[slot] for slot in self.slots})).strip()
        except TemplateError as exc:
            raise RenderError(f"template '{self.id}': {exc}") from exc
