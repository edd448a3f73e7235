"""The near-miss guard: cosine similarity says two questions are close; this says they ask the same.

Small embedding models score "Convert 50 GBP to JPY" and "Convert 50 JPY to GBP" at
0.95-0.99. What tells such pairs apart is a handful of words carrying most of the
meaning, so the guard compares those explicitly, in this order:

- numbers (digits or number words) must match as a multiset;
- names (capitalised or all-caps words, words with digits, quoted text, day and month
  names) must each appear in the other question;
- negation (not, never, without, n't, ...) must be present in both or in neither, and so
  must the question words that change what is asked (who, when, where, why) and tense
  (is/was, will);
- content words may differ only by inflection or by request framing ("how do I" vs
  "steps to"); a content word swapped for another (Sweden/Switzerland, legal/illegal,
  enable/disable, buy/sell) or added (reset my *router* password) is a different question;
- shared names, numbers and the words around relational markers (to, from, than,
  vs, ...) must keep their order, so "Boston to Chicago" never answers "Chicago to Boston".

It is deliberately strict: a false hit serves a wrong answer, a false miss costs one
upstream call. Everything is word-level and rule-based; no word list of any dataset.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Verdict", "compare_questions"]


def _words(text: str) -> list[str]:
    return text.split()


_TOKEN = re.compile(r"\"[^\"]{1,80}\"|'[^'\s][^']{0,78}[^'\s]'|\d[\d,]*(?:\.\d+)?[a-zA-Z%]*|[A-Za-z][A-Za-z'\-]*")
_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$")

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        _words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen twenty"
        )
    )
}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70"})
_NUMBER_WORDS.update({"eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000", "million": "1e6"})
_NUMBER_WORDS.update({"billion": "1e9", "dozen": "12", "half": "0.5", "twice": "2", "once": "1", "single": "1"})
_ORDINALS = {
    w: str(i + 1) for i, w in enumerate(_words("first second third fourth fifth sixth seventh eighth ninth tenth"))
}
# Closed classes that name a specific thing even when written in lower case.
_CALENDAR = frozenset(
    _words(
        "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
        "august september october november december"
    )
) - {"may", "march"}  # also ordinary words; they still count when capitalised mid-sentence
# Question words that change what is asked (when/where was X born); "what" and "how" only frame it.
_ASKING = frozenset(_words("who whom whose when where why"))
# Tense: "Who is the president" and "Who was the president" have different answers.
_TENSES = {"was": "past", "were": "past", "did": "past", "had": "past", "will": "future", "gonna": "future"}
_NEGATIONS = frozenset(
    _words(
        "not no never none nobody nothing neither nor without cannot cant dont doesnt didnt isnt arent wasnt "
        "werent wont wouldnt shouldnt couldnt hasnt havent hadnt mustnt"
    )
)
# Function words and request framing: they shape how a question is put, not what it asks.
# Words that carry direction or quantity (up/down, on/off, more, only, all...) are not here.
_STOPWORDS = frozenset(
    _words(
        "a an the this that these those there here it its i me my mine we us our you your yours he him his she "
        "her they them their what which who whom whose when where why how is are was were be been being am do does "
        "did doing done have has had having will would shall should can could may might must of in on at by for "
        "with about as like through then such so too very just also and or but if because while s t d ll m o re "
        "ve y please kindly hi hello hey thanks thank let lets im ive id youre whats hows "
        "tell show give explain describe know find get go want need wanna gonna way ways step steps guide "
        "instructions help quick quickly simple simply easy easily exactly actually really basically possible "
        "best good anyone someone somebody something anything thing things one ones use using work question "
        "questions answer mean means meaning info information detail details example examples overview summary "
        "summarize summarise briefly number calculate compute many much"
    )
)
# Direction words: paraphrases drop or move them freely ("Boston to Chicago" / "from Boston to
# Chicago"), so they are not compared as words; the order check below watches what they relate.
_DIRECTIONS = frozenset(_words("to from into onto towards toward"))
# With any of these in both questions, the order of the shared content words must agree.
_RELATIONS = _DIRECTIONS | frozenset(_words("than vs versus against before after over under above below per"))
# Opposing affixes: "legal"/"illegal", "enable"/"disable", "increase"/"decrease", "upload"/"download".
_OPPOSED_PREFIXES = frozenset(
    _words("un in im il ir dis non non- de anti mis en em ex up down out over under pre post max min inter intra")
)
_OPPOSED_SUFFIXES = (("ful", "less"), ("est", "er"))


@dataclass(frozen=True)
class Verdict:
    same: bool
    reason: str = ""


@dataclass(frozen=True)
class _Parsed:
    words: tuple[str, ...]  # lower-case, in order, possessives and contractions split off
    numbers: Counter[str]
    names: frozenset[str]
    negated: bool
    asking: frozenset[str]  # who / when / where / why, and tense markers
    past: frozenset[str]  # stems of -ed forms ("lived")
    content: frozenset[str]  # stems of content words
    stems: tuple[str, ...]  # stems of all words, in order


def compare_questions(new: str, cached: str) -> Verdict:
    """Whether a cached answer to ``cached`` also answers ``new``."""
    a, b = _parse(new), _parse(cached)
    if a.numbers != b.numbers:
        return Verdict(False, "numbers differ")
    if any(n not in b.words for n in a.names) or any(n not in a.words for n in b.names):
        return Verdict(False, "names differ")
    if a.negated != b.negated:
        return Verdict(False, "negation differs")
    if a.asking != b.asking:
        return Verdict(False, "question word or tense differs")
    if any(stem in a.stems and stem in b.stems for stem in a.past ^ b.past):
        return Verdict(False, "tense differs")  # "live" / "lived"
    only_a, only_b = a.content - b.content, b.content - a.content
    for x in only_a:
        for y in only_b:
            if _opposed(x, y):
                return Verdict(False, f"opposites {x}/{y}")
    if only_a or only_b:
        return Verdict(False, "content words differ")
    if not _same_order(a, b):
        return Verdict(False, "order differs")
    return Verdict(True)


@lru_cache(maxsize=4096)
def _parse(text: str) -> _Parsed:
    words: list[str] = []
    names: set[str] = set()
    numbers: Counter[str] = Counter()
    negated = False
    for match in _TOKEN.finditer(text):
        raw = match.group()
        if raw[0] in "\"'":
            names.add(" ".join(raw[1:-1].lower().split()))
            words.append(" ".join(raw[1:-1].lower().split()))
            continue
        at_start = match.start() == 0 or bool(_SENTENCE_END.search(text[: match.start()]))
        for piece in _split_word(raw):
            lower = piece.lower()
            number = _number(lower)
            if number is not None:
                numbers[number] += 1
                words.append(number)
                continue
            if lower in _NEGATIONS:
                negated = True
            if _is_name(piece, at_start) or lower in _CALENDAR:
                names.add(lower)
            words.append(lower)
            at_start = False
    stems = tuple(_stem(w) for w in words)
    asking = frozenset(w for w in words if w in _ASKING) | frozenset(_TENSES[w] for w in words if w in _TENSES)
    content = frozenset(
        s
        for w, s in zip(words, stems, strict=True)
        if w not in _STOPWORDS and w not in _NEGATIONS and w not in _DIRECTIONS and not _number_like(w)
    )
    past = frozenset(s for w, s in zip(words, stems, strict=True) if w.endswith("ed") and len(w) > 4)
    return _Parsed(tuple(words), numbers, frozenset(names), negated, asking, past, content, stems)


def _split_word(raw: str) -> list[str]:
    # "Sweden's" -> "Sweden"; "doesn't" -> "doesnt" (a negation); hyphenated words stay whole.
    lower = raw.lower()
    if lower.endswith("'s") or lower.endswith("s'"):
        raw = raw[:-2] if lower.endswith("'s") else raw[:-1]
    elif lower.endswith("n't"):
        return [raw.replace("'", "")]
    word = raw.strip("'-").replace("'", "")  # "I'm" -> "Im", "you're" -> "youre"
    return [word] if word else []


def _is_name(word: str, at_sentence_start: bool) -> bool:
    if any(ch.isdigit() for ch in word):
        return True
    letters = word.replace("-", "").replace("'", "")
    if len(letters) >= 2 and letters.isupper():
        return True  # GBP, NASA, SQL
    if any(ch.isupper() for ch in word[1:]):
        return True  # iPhone, JavaScript, McDonald
    return word[0].isupper() and not at_sentence_start and word.lower() not in _STOPWORDS


def _number(word: str) -> str | None:
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    if word in _ORDINALS:
        return _ORDINALS[word]
    if not word[0].isdigit():
        return None
    match = re.fullmatch(r"([\d,]+(?:\.\d+)?)([a-z%]*)", word)
    if match is None:
        return word
    digits, unit = match.groups()
    if unit in ("st", "nd", "rd", "th"):
        unit = ""
    value = digits.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") + unit if value.lstrip("0") else "0" + unit


def _number_like(word: str) -> bool:
    return bool(word) and word[0].isdigit()


def _stem(word: str) -> str:
    """A light stemmer: enough to equate inflections (passwords/password, creating/create)."""
    base = word
    for suffix in ("ing", "edly", "ed", "ies", "es", "s", "ly"):
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            break  # "less", "status", "analysis"
        base = word[: -len(suffix)]
        if suffix == "ies":
            base += "y"
        elif suffix in ("ing", "ed") and base[-1] == base[-2] and base[-1] not in "ls":
            base = base[:-1]  # resetting -> reset, stopped -> stop
        elif suffix == "es" and not base.endswith(("s", "x", "z", "ch", "sh")):
            base = word[:-1]  # releases -> release
        break
    # A final "e" comes and goes with inflection: create/creating, merge/merging.
    return base[:-1] if base.endswith("e") and len(base) > 3 else base


def _opposed(x: str, y: str) -> bool:
    """Two stems that differ by an opposing affix: legal/illegal, enable/disable, useful/useless."""
    for long, short in ((x, y), (y, x)):
        if long.endswith(short) and long[: len(long) - len(short)] in _OPPOSED_PREFIXES and len(short) >= 3:
            return True
    for cut in range(3, min(len(x), len(y))):
        if x[-cut:] == y[-cut:] and x[:-cut] in _OPPOSED_PREFIXES and y[:-cut] in _OPPOSED_PREFIXES:
            return True
    for end_x, end_y in _OPPOSED_SUFFIXES:
        for p, q in ((x, y), (y, x)):
            if p.endswith(end_x) and q.endswith(end_y) and p[: -len(end_x)] == q[: -len(end_y)]:
                return True
    return False


def _same_order(a: _Parsed, b: _Parsed) -> bool:
    """Numbers keep their order ("15% of 80"); other shared words may move ("the GDP of Japan",
    "Japan's GDP") unless a relational marker stood between two that swapped ("Boston to Chicago")."""
    numbers = set(a.numbers) & set(b.numbers)
    if _first_positions(a.words, numbers) != _first_positions(b.words, numbers):
        return False
    shared = ({_stem(n) for n in a.names} | a.content) & ({_stem(n) for n in b.names} | b.content)
    where_a, where_b = _positions(a.stems, shared), _positions(b.stems, shared)
    for x in shared:
        for y in shared:
            if where_a[x] < where_a[y] and where_b[x] > where_b[y]:
                between = a.words[where_a[x] : where_a[y]] + b.words[where_b[y] : where_b[x]]
                if _RELATIONS.intersection(between):
                    return False
    return True


def _positions(stems: tuple[str, ...], keep: set[str]) -> dict[str, int]:
    where: dict[str, int] = {}
    for i, stem in enumerate(stems):
        if stem in keep:
            where.setdefault(stem, i)
    return where


def _first_positions(words: tuple[str, ...], keep: set[str] | frozenset[str]) -> list[str]:
    seen: dict[str, None] = {}
    for word in words:
        if word in keep and word not in seen:
            seen[word] = None
    return list(seen)
