"""The semantic cache: exact key + embedding similarity + a guard against near-misses."""
