"""British spellings read in their American form where the guard compares words (``_word_memo.py``).

"colour" / "color", "organising" / "organizing", "centred" / "centered", "paediatric" / "pediatric", "catalogue" /
"catalog", "licence" / "license", "counsellor" / "counselor", "programme" / "program", and a list of single words
(grey, tyre, cheque, mould, plough, kerb, storey, pyjamas, aluminium...). WordNet lists most of these as synonyms;
reading them as one form also pairs their inflections and the words it lacks ("colourways", "decentralised").

A respelling counts only if the word table knows the result (or its base form) and the word as written is not
itself a different known word: "tour" is no "tor", "filled" no "filed", "canoes" no "canes", "acre" no "acer".
"""

from __future__ import annotations

import re

from ._lexicon import Lexicon

__all__ = ["american"]

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=\w\w)our"), "or"),  # colour, flavoured, neighbourhood (not "hour", "sour")
    (re.compile(r"(?<=\w\w)is(?=e$|es$|ed$|ing$|er$|ers$|ation$|ations$)"), "iz"),  # organise, organisation
    (re.compile(r"ys(?=e$|es$|ed$|ing$|er$|ers$)"), "yz"),  # analyse, paralysed
    (re.compile(r"(?<=[bcgtv])re(s?)$"), r"er\1"),  # centre, fibre, meagre, manoeuvre
    (re.compile(r"(?<=[bcgtv])r(ed|ing)$"), r"er\1"),  # centred, centring
    (re.compile(r"[ao]e(?=[a-z])"), "e"),  # paediatric, oestrogen, foetus, manoeuvre
    (re.compile(r"(?<=[cf])ence(s?)$"), r"ense\1"),  # licence, defence, offence
    (re.compile(r"ll(?=ed$|ing$|er$|ers$|or$|ors$|ery$|ous$|en$)"), "l"),  # counsellor, marvellous, woollen
    (re.compile(r"(?<=\w\w)ogue(s?)$"), r"og\1"),  # catalogue, dialogue
    (re.compile(r"(?<=\w\w)mme(s?)$"), r"m\1"),  # programme
)
# Words no rule above spells (their inflections follow: "tyres", "moulding").
_WORDS = (
    ("grey", "gray"),
    ("tyre", "tire"),
    ("cheque", "check"),
    ("mould", "mold"),
    ("plough", "plow"),
    ("scept", "skept"),
    ("kerb", "curb"),
    ("storey", "story"),
    ("pyjama", "pajama"),
    ("aluminium", "aluminum"),
    ("practis", "practic"),
    ("yoghurt", "yogurt"),
    ("moustache", "mustache"),
    ("sulphur", "sulfur"),
    ("draught", "draft"),
    ("jewellery", "jewelry"),
    ("ageing", "aging"),
    ("judgement", "judgment"),
    ("artefact", "artifact"),
    ("instalment", "installment"),
    ("skilful", "skillful"),
    ("fulfil", "fulfill"),
    ("enrol", "enroll"),
)
# Every word a rule or the list may change holds one of these (a cheap test for all the others).
_HINT = re.compile(
    r"our|is[eia]|ys[eia]|re[sd]?$|ring$|ae|oe|ence|ll|ogue|mme|"
    r"^(?:grey|tyre|cheque|mould|plough|scept|kerb|storey|pyjama|alumin|practis|yoghurt|moustache|sulphur|draught|"
    r"jewel|ageing|judgement|artefact|instal|skilful|fulfil|enrol)"
)


def american(word: str, lexicon: Lexicon) -> str | None:
    """``word`` respelt in its American form, or None when it has none the word table knows."""
    if not _HINT.search(word):
        return None
    respelt = word
    for british, us in _WORDS:
        if respelt.startswith(british):
            respelt = us + respelt[len(british) :]
            break
    for pattern, replacement in _RULES:
        respelt = pattern.sub(replacement, respelt)
    if respelt == word:
        return None
    target = [base for base in lexicon.bases(respelt) if lexicon.known(base)]
    if not target:
        return None
    source = [base for base in lexicon.bases(word) if lexicon.known(base)]
    if source and not any(lexicon.synonyms(s, t) for s in source for t in target):
        return None  # a word of its own: "tour" / "tor", "filled" / "filed"
    return respelt
