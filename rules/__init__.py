"""The business-logic engine: facts, topics, templates and rules as YAML, checked and compiled."""
