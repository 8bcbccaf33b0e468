"""One reader per kind of rulebook file; each takes parsed YAML and a `Problems` collector."""
