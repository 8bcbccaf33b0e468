"""`python -m service`: the serving process that `autoreply serve` becomes once it has migrated.

It imports only what serving needs (no command line, no Alembic), so a worker's memory is the
service's.
"""

from __future__ import annotations

import argparse

from service.serving import serve

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, help="Default: AUTOREPLY_WORKERS (1).")
    args = parser.parse_args()
    serve(args.host, args.port, args.workers)
