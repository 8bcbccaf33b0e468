"""The decision figures through HTTP: every ticket of a split sent to `POST /v1/autoreply`.

    autoreply serve --port 8010 &          # AUTOREPLY_BUNDLE_DIR=... on a fresh database
    python benchmarks/replay_http.py --url http://127.0.0.1:8010 --split var/corpus/test.jsonl

Each ticket goes out as the ticket system sends it (its own customer id, so promo caps do not
interfere); the response's action, reasons, template and confidence are judged against the
agent's template with the same figures as `autoreply evaluate` (`training.replay.summarize`):
coverage, agreement, unsafe replies, per line and language, and the guard's recall. Prints JSON.

`--feedback` also posts what the agent did with each ticket to `POST /v1/feedback` (the topic,
the template kept, or an escalation), as the ticket system would: the labels `autoreply retrain`
learns from.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx

from service.settings import DEV_API_KEY
from training.args import DataArguments
from training.data import Example, read_examples
from training.replay import Outcome, outcome_of, summarize


def agent_feedback(ticket_id: str, example: Example) -> dict[str, Any]:
    """Return the feedback the ticket system sends for what the agent did with a ticket."""
    if example.agent_action == "escalated" or example.template is None:
        return {"ticket_id": ticket_id, "topic": example.label, "escalated": True}
    edited = example.agent_action == "edited"
    return {
        "ticket_id": ticket_id,
        "topic": example.label,
        "template_id": example.template,
        "edited": edited,
    }


def outcome(i: int, example: Example, body: dict[str, Any]) -> Outcome:
    """Return the replay outcome of one HTTP answer, beside what the agent did."""
    confidence = body.get("confidence") or {}
    reply = body.get("reply") or {}
    return outcome_of(
        example, i, True, body["action"], tuple(body["reasons"]),
        reply.get("template_id") or confidence.get("template_id"),
        float(confidence.get("prob") or 0.0), (confidence.get("leaves") or [None])[0],
        confidence.get("threshold"), confidence.get("threshold_source"),
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--split", type=Path, default=Path("var/corpus/test.jsonl"))
    parser.add_argument("--key", default=DEV_API_KEY)
    parser.add_argument("--limit", type=int, default=0, help="first N tickets only (0 = all)")
    parser.add_argument("--feedback", action="store_true", help="post the agent's choice too")
    args = parser.parse_args()
    examples = read_examples(args.split, DataArguments(), "corpus")
    if args.limit:
        examples = examples[: args.limit]
    outcomes, failures = [], 0
    with httpx.Client(base_url=args.url, headers={"X-API-Key": args.key}, timeout=30) as client:
        for i, example in enumerate(examples):
            ticket_id = f"http-{example.id or i}"
            answer = client.post(
                "/v1/autoreply",
                json={
                    "id": ticket_id,
                    "line": example.line,
                    "locale": example.locale,
                    "customer_id": ticket_id,
                    "text": example.text,
                    "dialogue": list(example.dialogue or ()),
                    "facts": example.facts or {},
                },
            )
            if answer.status_code != 200:
                failures += 1
                continue
            outcomes.append(outcome(i, example, answer.json()))
            if (
                args.feedback
                and not client.post(
                    "/v1/feedback", json=agent_feedback(ticket_id, example)
                ).is_success
            ):
                failures += 1
    report = summarize(outcomes)
    print(
        json.dumps(
            {
                "tickets": len(examples),
                "http_failures": failures,
                "overall": report["overall"],
                "by_locale": report["by_locale"],
                "by_line": report["by_line"],
                "guard_recall": report["guard_recall"],
                "threshold_sources": report["threshold_sources"],
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
