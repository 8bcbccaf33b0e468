"""Request and response schemas of the HTTP API (validated before anything reaches the domain)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

MAX_TEXT_CHARS = 10_000
MAX_DIALOGUE = 10

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


class TicketIn(BaseModel):
    """A ticket from the ticket system: who wrote, in which language, what, and the ride's facts."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [WORKED_EXAMPLE]})

    id: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="The ticket system's id",
    )
    line: str = Field(min_length=1, max_length=64, description="Support line: riders, drivers, ...")
    locale: str = Field(
        min_length=2, max_length=16, description="Language of the text and of the reply: ru, en"
    )
    customer_id: str = Field(
        min_length=1, max_length=128, description="The rider's or driver's id (promo caps)"
    )
    text: str = Field(
        min_length=1, max_length=MAX_TEXT_CHARS, description="The customer's latest message"
    )
    dialogue: list[str] = Field(
        default_factory=list,
        max_length=MAX_DIALOGUE,
        description="Earlier messages of the conversation, oldest first",
    )
    facts: dict[str, Any] = Field(
        default_factory=dict, description="Ride facts, named as in rules/book/facts.yaml"
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
    threshold_source: Literal["own", "parent", "line"] | None = Field(
        description="Whose threshold: the anchor leaf's own, an ancestor's, or the line's"
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


class FeedbackIn(BaseModel):
    """What the agent did with a ticket and what the customer thought of the answer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ticket_id": "T-100500",
                    "template_id": "riders.promo_reissue",
                    "edited": False,
                    "csat": 5,
                    "agent_id": "agent-7",
                },
            ]
        },
    )

    ticket_id: str = Field(min_length=1, max_length=128)
    decision_id: str | None = Field(None, max_length=36)
    template_id: str | None = Field(None, max_length=128, description="The template the agent sent")
    edited: bool = Field(False, description="The agent edited the text before sending")
    final_text: str | None = Field(None, max_length=MAX_TEXT_CHARS)
    topic: str | None = Field(
        None, max_length=256, description="The topic, when the agent corrected it"
    )
    csat: int | None = Field(None, ge=1, le=5, description="Customer satisfaction, 1..5")
    agent_id: str | None = Field(None, max_length=128)

    @model_validator(mode="after")
    def _says_something(self) -> FeedbackIn:
        if self.template_id is None and self.topic is None and self.csat is None:
            raise ValueError("feedback needs at least one of template_id, topic or csat")
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

    rules: bool = True
    model: bool = True
    rulebook_dir: str | None = None
    bundle_dir: str | None = None


class ErrorOut(BaseModel):
    """Every error answer: a code, a message saying what to fix, and details."""

    error: str
    message: str
    details: Any = None
