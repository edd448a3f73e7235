"""Management HTTP APIs (cache, prompt templates)."""
