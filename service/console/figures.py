"""The operations view's figures: per line and topic, and a small chart over time (inline SVG)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from service.db.console import as_utc


@dataclass
class TopicFigures:
    """One line and topic over the window."""

    line: str
    topic: str
    decisions: int = 0
    replied: int = 0  # sent automatically (mode on)
    on: int = 0  # decisions while the line was on
    shadow: int = 0  # decisions while the line was in shadow mode
    would_reply: int = 0  # shadow decisions that would have been sent
    reasons: Counter[str] = field(default_factory=Counter)
    feedback: int = 0  # agent actions with a template or an escalation
    agreed: int = 0  # the agent sent the decision's template unedited
    wrong: int = 0
    unsafe: int = 0

    @property
    def autoreply_rate(self) -> float | None:
        """Return the share of decisions sent automatically while the line was on."""
        return self.replied / self.on if self.on else None

    @property
    def shadow_rate(self) -> float | None:
        """Return the share of shadow decisions that would have been sent."""
        return self.would_reply / self.shadow if self.shadow else None

    @property
    def agreement(self) -> float | None:
        """Return the share of agent actions that sent the decision's template as it was."""
        return self.agreed / self.feedback if self.feedback else None


def topic_figures(
    decisions: Iterable[Sequence[Any]], feedback: Iterable[Sequence[Any]]
) -> list[TopicFigures]:
    """Return figures per (line, topic), busiest first, from the rows of `service.db.console`."""
    table: dict[tuple[str, str], TopicFigures] = {}

    def row(line: str, topic: str | None) -> TopicFigures:
        key = (line, topic or "(no topic)")
        return table.setdefault(key, TopicFigures(*key))

    for line, topic, mode, action, reasons, _at in decisions:
        figures = row(line, topic)
        figures.decisions += 1
        figures.reasons.update(reasons)
        figures.on += mode == "on"
        figures.replied += action == "reply"
        figures.shadow += mode == "shadow"
        figures.would_reply += mode == "shadow" and "shadow_mode" in reasons
    for line, topic, decided, sent, edited, escalated, wrong in feedback:
        figures = row(line, topic)
        if sent is not None or escalated:
            figures.feedback += 1
            figures.agreed += sent is not None and sent == decided and not edited
        figures.wrong += wrong is not None
        figures.unsafe += wrong == "unsafe"
    return sorted(table.values(), key=lambda f: (-f.decisions, f.line, f.topic))


@dataclass(frozen=True)
class Series:
    """One line on the chart: a support line's daily automatic (or would-be) reply rate."""

    name: str
    points: tuple[tuple[float, float], ...]  # (x, y) in SVG units, one per day with decisions
    last: float | None

    @property
    def polyline(self) -> str:
        """Return the points as an SVG polyline's `points` attribute."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclass(frozen=True)
class Chart:
    """A small chart of daily rates, laid out for inline SVG."""

    width: int
    height: int
    days: tuple[date, ...]
    series: tuple[Series, ...]


def daily_rates(decisions: Iterable[Sequence[Any]]) -> dict[str, dict[date, float]]:
    """Return per line and mode ("riders (shadow)") the share of decisions (would have) sent, per day."""
    counts: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for line, _topic, mode, action, reasons, at in decisions:
        if mode == "off":
            continue
        name = line if mode == "on" else f"{line} ({mode})"
        day = counts[name][as_utc(at).date()]
        day[0] += action == "reply" or "shadow_mode" in reasons
        day[1] += 1
    return {
        name: {day: sent / total for day, (sent, total) in sorted(days.items())}
        for name, days in counts.items()
    }


def rate_chart(
    rates: dict[str, dict[date, float]], since: datetime, until: datetime, size: tuple[int, int]
) -> Chart:
    """Return the rates as SVG polylines over the days of the window, 0..100% bottom to top."""
    width, height = size
    first, last = as_utc(since).date(), as_utc(until).date()
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    step = width / max(len(days) - 1, 1)
    series = []
    for name, by_day in sorted(rates.items()):
        points = tuple(
            (i * step, height - by_day[day] * height) for i, day in enumerate(days) if day in by_day
        )
        series.append(Series(name, points, by_day[max(by_day)] if by_day else None))
    return Chart(width, height, days, tuple(series))
