"""Request and response schemas of the HTTP API (validated before anything reaches the domain)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    computed_field,
    field_validator,
    model_validator,
)

from rules.facts import FactSchema, FactType

MAX_TEXT_CHARS = 10_000
MAX_DIALOGUE = 10
# Facts are small values about one ride; these bounds keep a ticket (and its row) small on every
# database. Each fact: a bool, a finite number, a short string or a short list of short strings.
MAX_FACTS = 64
MAX_FACT_CHARS = 256
MAX_FACT_ITEMS = 32
FACT_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
# C0 controls except tab, newline and carriage return, DEL and C1 controls, and lone surrogates:
# PostgreSQL refuses NUL and surrogates (SQLite stores them), and none is text a person typed.
# Surrogates stay out of the schema's pattern (JSON text cannot hold them; generators choke).
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_SURROGATE = re.compile(r"[\ud800-\udfff]")
TEXT_PATTERN = f"^[^{_CONTROLS}]*$"
# A message: the same, with at least one character that is not white space (as _not_blank says).
MESSAGE_PATTERN = f"^[^{_CONTROLS}]*[^\\s{_CONTROLS}][^{_CONTROLS}]*$"
LINE_PATTERN = f"^[^{_CONTROLS}\\t\\n\\r]*$"  # one-line values: no line breaks or tabs either


def _refusing(pattern: str, what: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None or _SURROGATE.search(value):
            raise ValueError(f"must not contain {what}")
        return value

    return check


_check_text = _refusing(TEXT_PATTERN, "control characters (NUL and the like) or lone surrogates")
_check_line = _refusing(LINE_PATTERN, "control characters, line breaks or lone surrogates")
# Strings as they may be stored: the pattern is in the schema, the validator says what is wrong.
Text = Annotated[
    str, AfterValidator(_check_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})
]
OneLine = Annotated[
    str, AfterValidator(_check_line), Field(json_schema_extra={"pattern": LINE_PATTERN})
]


def _fact_name(name: str) -> str:
    if re.fullmatch(FACT_NAME_PATTERN, name) is None:
        raise ValueError("a fact name is snake_case: a-z, 0-9 and _, at most 64 characters")
    return name


def _fact_value(value: Any) -> Any:
    """Return `value` if it may be stored as a fact; the rulebook checks its type afterwards."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a number must be finite (no NaN or Infinity)")
    if isinstance(value, str):
        _fact_string(value)
    elif isinstance(value, list):
        if len(value) > MAX_FACT_ITEMS or not all(isinstance(v, str) for v in value):
            raise ValueError(f"a list fact holds at most {MAX_FACT_ITEMS} strings")
        for item in value:
            _fact_string(item)
    elif value is not None and not isinstance(value, bool | int | float):
        raise ValueError("a fact is a bool, a number, a string, a list of strings or null")
    return value


def _fact_string(value: str) -> None:
    if len(value) > MAX_FACT_CHARS:
        raise ValueError(f"a fact's string is at most {MAX_FACT_CHARS} characters")
    _check_line(value)


_FACT_STRING_SCHEMA = {"type": "string", "maxLength": MAX_FACT_CHARS, "pattern": LINE_PATTERN}
FactName = Annotated[
    str,
    AfterValidator(_fact_name),
    WithJsonSchema({"type": "string", "pattern": FACT_NAME_PATTERN}),
]
FactValue = Annotated[
    Any,
    AfterValidator(_fact_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "integer"},
                {"type": "number"},
                _FACT_STRING_SCHEMA,
                {"type": "array", "items": _FACT_STRING_SCHEMA, "maxItems": MAX_FACT_ITEMS},
                {"type": "null"},
            ]
        }
    ),
]

WORKED_EXAMPLE: dict[str, Any] = {
    "id": "T-100500",
    "line": "riders",
    "locale": "en",
    "customer_id": "rider-42",
    "text": "I was given a 100 rub promo code, and the driver took the money without the discount! "
    "What is the point of a promo code!",
    "dialogue": [],
    "facts": {
        "complete_rides": 12,
        "success_order_flg": True,
        "paid_cancel_tag": False,
        "final_transaction_status": "success",
        "coupon_used": True,
        "coupon_use_value": 100,
    },
}


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain some non-space text")
    return value


def facts_json_schema(facts: FactSchema) -> dict[str, Any]:
    """Return the JSON schema of `facts` as the rulebook declares them: names, types, nullability.

    The OpenAPI schema carries it, so that what the schema allows is what the service accepts.
    """
    properties = {}
    for name, spec in facts.specs.items():
        value = {**_FACT_TYPE_SCHEMAS[spec.type], "description": spec.description}
        if spec.type is FactType.ENUM:
            value["enum"] = list(spec.values)
        properties[name] = {"anyOf": [value, {"type": "null"}]} if spec.nullable else value
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "maxProperties": MAX_FACTS,
        "description": "Ride facts, as the rulebook's facts.yaml declares them",
    }


_FACT_TYPE_SCHEMAS: dict[FactType, dict[str, Any]] = {
    FactType.BOOL: {"type": "boolean"},
    FactType.INT: {"type": "integer"},
    FactType.FLOAT: {"type": "number"},
    FactType.STR: _FACT_STRING_SCHEMA,
    FactType.ENUM: {"type": "string"},
    FactType.DATETIME: {"type": "string", "format": "date-time"},
    FactType.LIST: {"type": "array", "items": _FACT_STRING_SCHEMA, "maxItems": MAX_FACT_ITEMS},
}


class TicketIn(BaseModel):
    """A ticket from the ticket system: who wrote, in which language, what, and the ride's facts."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [WORKED_EXAMPLE]})

    id: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="The ticket system's id",
    )
    line: OneLine = Field(
        min_length=1, max_length=64, description="Support line: riders, drivers, ..."
    )
    locale: OneLine = Field(
        min_length=2, max_length=16, description="Language of the text and of the reply: ru, en"
    )
    customer_id: OneLine = Field(
        min_length=1, max_length=128, description="The rider's or driver's id (promo caps)"
    )
    text: Text = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description="The customer's latest message",
        json_schema_extra={"pattern": MESSAGE_PATTERN},
    )
    dialogue: list[Text] = Field(
        default_factory=list,
        max_length=MAX_DIALOGUE,
        description="Earlier messages of the conversation, oldest first",
    )
    facts: dict[FactName, FactValue] = Field(
        default_factory=dict,
        max_length=MAX_FACTS,
        description="Ride facts, named as in rules/book/facts.yaml",
        json_schema_extra={"additionalProperties": False},
    )

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, text: str) -> str:
        return _not_blank(text)

    @field_validator("dialogue")
    @classmethod
    def _dialogue_sizes(cls, messages: list[str]) -> list[str]:
        if any(len(m) > MAX_TEXT_CHARS for m in messages):
            raise ValueError(f"each dialogue message is at most {MAX_TEXT_CHARS} characters")
        return messages


class LevelOut(BaseModel):
    """The probability of one node on the topic's path."""

    path: str
    prob: float


class TopicOut(BaseModel):
    """A predicted leaf topic with its probability at every level."""

    path: str
    prob: float
    title: str | None = None
    levels: list[LevelOut]


class ConfidenceOut(BaseModel):
    """The decision-level confidence: how probable the best template is, and the bar it must pass."""

    template_id: str
    prob: float = Field(description="Sum of P(leaf) over the leaves whose rules choose it")
    leaves: list[str] = Field(description="Those leaves, most probable first (the anchor)")
    margin: float = Field(description="Its lead over the next outcome")
    threshold: float | None = Field(description="The autoreply threshold that applies (None: none)")
    threshold_source: Literal["own", "parent", "line", "global"] | None = Field(
        description="Whose threshold: the anchor leaf's own, an ancestor's, the line's, or the "
        "one fitted on every line together"
    )


class SuggestionOut(BaseModel):
    """One rendered reply for the agent's screen, and why it was proposed."""

    template_id: str
    title: str
    locale: str
    text: str
    template_prob: float = Field(description="Probability that this template is the right reply")
    topic: TopicOut
    rule_id: str
    autoreply_allowed: bool = Field(description="Whether this reply would be sent automatically")
    trace: list[dict[str, Any]] = Field(
        description="Every rule tried for the topic, with each condition"
    )


class SuggestResponse(BaseModel):
    """The top-k replies for a ticket, best first."""

    decision_id: str
    ticket_id: str
    model_version: str | None
    rulebook_version: str
    topic: TopicOut | None
    confidence: ConfidenceOut | None
    confident_path: str | None = Field(
        description="The deepest topic level the model is confident about"
    )
    guard: dict[str, float]
    autoreply_allowed: bool
    reasons: list[str] = Field(description="Why the top reply would not be sent automatically")
    suggestions: list[SuggestionOut]


class ReplyOut(BaseModel):
    """The reply sent to the customer."""

    template_id: str
    locale: str
    text: str
    promo_code: str | None = None


class AutoreplyResponse(BaseModel):
    """The decision on a ticket: `reply` (sent) or `handoff` (to a human, with reasons)."""

    decision_id: str
    ticket_id: str
    action: Literal["reply", "handoff"]
    mode: str
    reply: ReplyOut | None
    reasons: list[str]
    topic: TopicOut | None
    confidence: ConfidenceOut | None
    suggestions: list[SuggestionOut]
    model_version: str | None
    rulebook_version: str


# Why an agent marks a suggestion wrong: a short fixed list, so that the figures can count them.
# `unsafe` is the costly error: a reply that must never go out automatically (thanks, sarcasm,
# several problems in one message).
WrongReason = Literal["wrong_topic", "facts_differ", "wording", "needs_person", "unsafe"]
WRONG_REASONS: tuple[str, ...] = get_args(WrongReason)


# What FeedbackIn._says_something checks, stated for clients: one of these, not null (or true).
_FEEDBACK_SAYS: list[Any] = [
    *(
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
        for name in ("template_id", "topic", "csat", "wrong_reason")
    ),
    {"required": ["escalated"], "properties": {"escalated": {"const": True}}},
]


class FeedbackIn(BaseModel):
    """What the agent did with a ticket and what the customer thought of the answer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": _FEEDBACK_SAYS,
            "examples": [
                {
                    "ticket_id": "T-100500",
                    "template_id": "riders.promo_reissue",
                    "edited": False,
                    "csat": 5,
                    "agent_id": "agent-7",
                },
            ],
        },
    )

    ticket_id: OneLine = Field(min_length=1, max_length=128)
    decision_id: OneLine | None = Field(None, max_length=36)
    template_id: OneLine | None = Field(
        None, max_length=128, description="The template the agent sent"
    )
    edited: StrictBool = Field(False, description="The agent edited the text before sending")
    final_text: Text | None = Field(None, max_length=MAX_TEXT_CHARS)
    topic: OneLine | None = Field(
        None, max_length=256, description="The topic, when the agent corrected it"
    )
    csat: int | None = Field(None, ge=1, le=5, description="Customer satisfaction, 1..5")
    agent_id: OneLine | None = Field(None, max_length=128)
    escalated: StrictBool = Field(
        False, description="The agent passed the ticket on to a specialist instead of answering"
    )
    wrong_template_id: OneLine | None = Field(
        None,
        max_length=128,
        description="A suggested template the agent marked wrong (unset: the decision's best)",
    )
    wrong_reason: WrongReason | None = Field(None, description="Why that suggestion was wrong")
    idempotency_key: OneLine | None = Field(
        None,
        min_length=8,
        max_length=64,
        description="Feedback sent again with the same key is recorded once (a double click)",
    )

    @model_validator(mode="after")
    def _says_something(self) -> FeedbackIn:
        said = (self.template_id, self.topic, self.csat, self.wrong_reason)
        if all(value is None for value in said) and not self.escalated:
            raise ValueError(
                "feedback needs at least one of template_id, topic, csat, wrong_reason or "
                "escalated: true"
            )
        return self


class FeedbackResponse(BaseModel):
    """The stored feedback's id."""

    id: str
    ticket_id: str


class DecisionOut(BaseModel):
    """The full record of one decision."""

    id: str
    ticket_id: str
    kind: str
    action: str
    mode: str
    model_version: str
    rulebook_version: str
    topic: str | None
    confidence: float | None
    template_prob: float | None
    threshold: float | None
    threshold_source: str | None
    rule_id: str | None
    template_id: str | None
    reasons: list[str]
    trace: dict[str, Any]
    response: dict[str, Any]
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def suggestions(self) -> list[Any]:
        """Return the suggestions shown with this decision (kept once, in the response)."""
        return list(self.response.get("suggestions", []))


class ReloadIn(BaseModel):
    """What to reload: the rulebook, the model, or both (optionally from new directories)."""

    model_config = ConfigDict(extra="forbid")

    rules: StrictBool = True
    model: StrictBool = True
    rulebook_dir: OneLine | None = Field(None, max_length=1024)
    bundle_dir: OneLine | None = Field(None, max_length=1024)


class ErrorOut(BaseModel):
    """Every error answer: a code, a message saying what to fix, and details."""

    error: str
    message: str
    details: Any = None
