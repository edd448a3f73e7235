"""The prompt engine's model of a request: layers, canonical form, token counts, prefix state.

Stages read what they need through the getters in :mod:`._facts` (computed once per request),
so each stage works whether or not the stage that usually produces a fact ran.
"""
