"""Profile /v1/suggest and /v1/autoreply in one thread with pyinstrument; print each part's share.

Usage:
  python benchmarks/profile_request.py --bundle var/bundles/quick --corpus var/corpus [--requests 400]

The app is built as `autoreply serve` builds it (SQLite, prediction cache off so every request
runs the model) and driven through its ASGI interface with test-split tickets, each a new ticket.
The sync routes and dependencies, which the server runs in a thread pool, run inline here, and the
write-behind's thread is stopped and its batches committed in this thread (every 32 requests), so
a single-threaded profiler sees all of a request's work. Uvicorn's HTTP parsing is left out. The shares group the
sampled time by the innermost frame that belongs to a known part (model, tokenizer, validation,
serialisation, database, metrics, rules and rendering); `--html FILE` also writes pyinstrument's
tree.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import fastapi.dependencies.utils
import fastapi.routing
import httpx
from pyinstrument import Profiler
from pyinstrument.frame import Frame

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_suggest import KEY, bundle_parser, load_tickets

from service.db.migrate import upgrade
from service.main import create_app
from service.settings import Settings

# (part, what a frame's "file:function" contains). A sample's time goes to the innermost frame on
# its stack that names a part, so the HTTP stack keeps only the time spent in its own frames.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("serialisation", (":model_dump", ":to_json", ":dumps", ":asdict", "json/")),
    ("validation", (":validate", "pydantic", "service/schemas.py")),
    ("model (onnxruntime)", ("onnxruntime",)),
    ("tokenizer", ("tokenizers", "models/textenc.py")),
    ("prediction post-processing", ("models/",)),
    ("prediction cache (key, store)", ("service/predictions.py", "service/cache.py")),
    ("database", ("sqlalchemy", "sqlite3", "psycopg", "service/db/", "service/records.py")),
    ("metrics", ("prometheus_client", "service/metrics.py")),
    ("rules and rendering", ("rules/", "jinja2", "service/replies.py")),
    ("decision and response shaping", ("service/",)),
    ("client (left out of the shares)", ("httpx", "profile_request.py")),
    ("HTTP stack (starlette, fastapi, anyio)", ("starlette", "fastapi", "anyio", "asyncio")),
]
CLIENT = "client (left out of the shares)"


def part_of(frame: Frame) -> str:
    """Return the part a frame's self time belongs to: its innermost recognised ancestor's."""
    node: Frame | None = frame
    while node is not None:
        where = f"{node.file_path or ''}:{node.function or ''}"
        for part, needles in PARTS:
            if any(needle in where for needle in needles):
                return part
        node = node.parent
    return "other"


def shares(root: Frame) -> dict[str, float]:
    """Return each part's share of the sampled time, largest first."""
    totals: Counter[str] = Counter()
    stack = [root]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.total_self_time:
            totals[part_of(frame)] += frame.total_self_time
    totals.pop(CLIENT, None)
    whole = sum(totals.values()) or 1.0
    return {part: round(100 * t / whole, 1) for part, t in totals.most_common()}


async def _inline(func: Any, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def run_inline() -> None:
    """Make FastAPI call sync routes and dependencies in this thread (the profiler sees one)."""
    fastapi.routing.run_in_threadpool = _inline  # type: ignore[assignment]
    fastapi.dependencies.utils.run_in_threadpool = _inline  # type: ignore[assignment]


async def drive(app: Any, route: str, tickets: list[dict[str, Any]], drain: Any) -> int:
    """POST every ticket to `route`; commit pending write-behind records every 32; return 200s."""
    ok = 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://profile") as client:
        for i, ticket in enumerate(tickets):
            answer = await client.post(route, json=ticket, headers={"X-API-Key": KEY})
            ok += answer.status_code == 200
            if i % 32 == 31:
                drain()
    drain()
    return ok


def main() -> None:
    """Profile each route and print the shares as JSON."""
    parser = bundle_parser(__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--routes", default="suggest,autoreply")
    parser.add_argument("--html", type=Path, help="Also write pyinstrument's tree per route here.")
    args = parser.parse_args()
    run_inline()
    tickets = load_tickets(args.corpus, args.requests + 50, seed=11)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/profile.db"
        upgrade(url)
        settings = Settings(
            database_url=url,
            bundle_dir=args.bundle,
            cache_size=0,
            rate_limit_per_minute=10_000_000,
        )
        app = create_app(settings)
        state = app.state.autoreply
        records = getattr(state, "records", None)  # the write-behind, where there is one
        if records is not None:
            records.close()  # its thread stops; `drain` commits the batches in this one
        drain = records.drain if records is not None else lambda: None
        for route in args.routes.split(","):
            path = f"/v1/{route}"
            batch = [{**t, "id": f"{route}-{t['id']}"} for t in tickets]
            asyncio.run(drive(app, path, batch[:50], drain))  # warm-up
            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            ok = asyncio.run(drive(app, path, batch[50:], drain))
            profiler.stop()
            root = profiler.last_session.root_frame() if profiler.last_session else None
            assert root is not None
            figures[route] = {"requests": args.requests, "ok": ok, "shares_pct": shares(root)}
            if args.html:
                args.html.mkdir(parents=True, exist_ok=True)
                (args.html / f"{route}.html").write_text(profiler.output_html(), encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
