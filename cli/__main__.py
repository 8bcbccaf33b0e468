"""`python -m cli` runs the same command line as `autoreply`."""

from cli import app

app()
