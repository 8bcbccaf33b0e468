"""The autoreply service: HTTP API, decision pipeline, persistence and the command line."""
