"""Turn a phrasing family, the ticket's facts and its guard kind into the customer's text and
optional earlier dialogue (raw, before noise)."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from training.corpus.phrasing import Common, Family

_END = (".", "!", "?", "…", ")")
# A message that already greets gets no second greeting from the opener pool.
_GREETS = re.compile(
    r"^(hi|hello|hey|good|dear|здравствуйте|добрый|доброго|привет|приветствую|здрасьте|уважаемая|алло)\b",
    re.IGNORECASE,
)
_PLATE_LETTERS = {"ru": "АВЕКМНОРСТУХ", "en": "ABEKMHOPCTYX"}


@dataclass
class Draft:
    """A ticket's customer-side wording: the latest message and the earlier turns."""

    text: str
    dialogue: list[str] | None = None


def _days(n: int, locale: str) -> str:
    """Return 'N days' with the plural the locale needs (2 дня, 5 дней, 21 день)."""
    if locale == "en":
        return f"{n} days"
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} день"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} дня"
    return f"{n} дней"


def _amount(value: Any, fallback: int) -> str:
    return str(int(value)) if isinstance(value, int | float) and value > 0 else str(fallback)


def slot_values(
    rng: random.Random, facts: Mapping[str, Any], common: Common, locale: str
) -> dict[str, str]:
    """Return every slot's value for one ticket: from its facts where they exist, else plausible."""
    price = int(facts.get("ride_cost") or rng.randrange(250, 1500, 10))
    estimate = int(facts.get("estimated_cost") or 0)
    if not 0 < estimate < price:  # the customer remembers a lower quote than what they paid
        estimate = int(price * rng.uniform(0.6, 0.9))
    coupon = _amount(facts.get("coupon_use_value"), rng.choice([100, 150, 200, 300]))
    days = facts.get("payout_delay_days") or 0
    digits = "".join(str(rng.randrange(10)) for _ in range(7))
    letters = _PLATE_LETTERS[locale]
    values = {
        "price": str(price),
        "estimate": str(estimate),
        "diff": str(max(10, price - estimate) if price > estimate else rng.randrange(50, 400, 10)),
        "discounted": str(max(50, price - int(coupon))),
        "coupon": coupon,
        "fee": _amount(facts.get("cancel_fee") or facts.get("waiting_fee"), rng.choice([99, 149])),
        "wait_min": _amount(facts.get("paid_waiting_minutes"), rng.randint(3, 15)),
        "late_min": _amount(facts.get("driver_late_minutes"), rng.randint(5, 25)),
        "refund": _amount(facts.get("refund_amount"), price),
        "payout": _amount(facts.get("payout_amount"), rng.randrange(3000, 40000, 10)),
        "ndays": _days(days if days >= 2 else rng.randint(2, 9), locale),
        "pct": _amount(facts.get("commission_pct"), 25),
        "plan_pct": _amount(facts.get("tariff_commission_pct"), 15),
        "rating": f"{facts.get('driver_rating') or rng.uniform(4.3, 4.8):.2f}",
        "stars": _amount(facts.get("rider_rating_given"), 1),
        "hours": str(rng.randint(3, 12)),
        "goal": str(rng.choice([30, 40, 50, 60, 80])),
        "phone": f"+7 9{digits[:2]} {digits[2:5]}-{digits[5:7]}-{rng.randrange(10, 99)}",
        "plate": f"{rng.choice(letters)}{digits[:3]}{rng.choice(letters)}{rng.choice(letters)}{rng.choice(['77', '99', '197', '750', '116'])}",
    }
    values.update({name: rng.choice(pool) for name, pool in common.pools.items()})
    return values


def expand(rng: random.Random, family: Family, slots: Mapping[str, str]) -> str:
    """Return one realisation of one of the family's patterns."""
    return rng.choice(family.patterns).expand(rng, slots)


def join(rng: random.Random, first: str, second: str) -> str:
    """Return two sentences run together the way people type them."""
    if not first:
        return second
    if first.rstrip().endswith(_END) or not first[-1].isalnum():
        return f"{first} {second}"
    glue = rng.choice([". ", " ", ", "])
    return f"{first}{glue}{second[:1].lower() + second[1:] if glue == ', ' else second}"


def sarcastic(rng: random.Random, core: str, frame: Family, slots: Mapping[str, str]) -> str:
    """Return the complaint dressed in a frame of praise."""
    pattern = rng.choice(frame.patterns)
    inline = "{complaint}," in pattern.source or ", {complaint}" in pattern.source
    complaint = core.rstrip(".!? ")
    if inline:
        complaint = complaint[:1].lower() + complaint[1:]
    elif complaint and complaint[-1].isalnum():
        complaint += rng.choice([".", "!", "..."])
    return pattern.expand(rng, {**slots, "complaint": complaint})


def two_problems(rng: random.Random, first: str, second: str, common: Common) -> str:
    """Return two complaints in one message, joined the way people join them."""
    first = first if first.rstrip().endswith(_END) else first.rstrip() + "."
    second = second[:1].lower() + second[1:]
    return rng.choice(common.multi).expand(rng, {"first": first, "second": second})


def decorate(rng: random.Random, core: str, common: Common, rates: tuple[float, ...]) -> str:
    """Return the core with an opener, an irrelevant detail and a closer, each at its rate."""
    opener, detail, closer = rates
    text = core
    if rng.random() < detail:
        extra = rng.choice(common.pools["detail"])
        before = rng.random() < 0.4 and not _GREETS.match(text)
        text = join(rng, extra, text) if before else join(rng, text, extra)
    if rng.random() < closer:
        text = join(rng, text, rng.choice(common.pools["closer"]))
    if rng.random() < opener and not _GREETS.match(text):
        text = f"{rng.choice(common.pools['opener'])} {text}"
    return text


def in_dialogue(
    rng: random.Random, message: str, common: Common, slots: Mapping[str, str]
) -> Draft:
    """Return the message placed in a short dialogue: before the agent's question, or after a greeting."""
    turns = common.dialogue
    shape = rng.choices(["context_first", "greet_first", "three"], weights=[45, 35, 20])[0]
    followup = rng.choice(turns["followup"]).expand(rng, slots)
    if shape == "greet_first":
        greet = rng.choice(turns["customer_greet"]).expand(rng, slots)
        return Draft(message, [greet, rng.choice(turns["agent_greet"]).expand(rng, slots)])
    ask = rng.choice(turns["agent_ask"]).expand(rng, slots)
    if shape == "context_first":
        return Draft(followup, [message, ask])
    second = rng.choice(turns["followup"]).expand(rng, slots)
    return Draft(second, [message, ask, followup])


def with_subject(rng: random.Random, core: str, subject: str, common: Common) -> str:
    """Return the message with the customer's own name for its subject before or after it."""
    if rng.random() < 0.5:
        subject = subject[:1].upper() + subject[1:]
    return rng.choice(common.subject_formats).expand(rng, {"subject": subject, "core": core})
