"""Persistence: SQLAlchemy 2 tables, sessions and the repository of queries."""
