"""HTTP routes: thin functions that validate, call the pipeline once, and return its result."""
