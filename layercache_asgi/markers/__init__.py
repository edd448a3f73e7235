"""Provider adapters for prompt caching, one module each: where markers go, what to strip."""
