"""`python -m service.cli` runs the same command line as `autoreply`."""

from service.cli import app

app()
