"""A question taken apart into what the guard compares: numbers, names, negation, tense, content words.

Parsing is word-level and cached per text (the same stored questions are parsed again on
every lookup that finds them).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from ._abbreviations import expand
from ._numbers import (
    CURRENCY_OF,
    NATIONAL_CURRENCY,
    SYMBOLS,
    UNITS,
    UNITS_BEFORE,
    bare_number,
    number_of,
)
from ._register import FUTURE_TIME, plain

__all__ = ["DETERMINERS", "MAX_COMPARED_CHARS", "NEGATIONS", "RELATIONS", "STOPWORDS", "Question", "parse", "words_of"]


def _list(text: str) -> list[str]:
    return text.split()


def words_of(text: str) -> frozenset[str]:
    return frozenset(_list(text))


_TOKEN = re.compile(
    r"\"[^\"]{1,80}\"|'[^'\s][^']{0,78}[^'\s]'|\d[\d,]*(?:\.\d+)?[a-zA-Z%]*|[A-Za-z][A-Za-z'\-/]*|[$€£¥%→]"
)

# Closed classes that name a specific thing even when written in lower case.
_CALENDAR = words_of(
    "monday tuesday wednesday thursday friday saturday sunday january february april june july "
    "august september october november december today tomorrow yesterday tonight "
    "mondays tuesdays wednesdays thursdays fridays saturdays sundays weekend weekends weekday weekdays"
)  # "on fridays" is no paraphrase of "at weekends", which the word vectors put close
# Question words that change what is asked (when/where was X born); "what" and "how" only frame it.
ASKING = words_of("who whom whose when where why")
_PAST = words_of("was were did had")
_PRESENT = words_of("is are am does do has have")
_FUTURE = words_of("will gonna ll shall")
# Words after which the next word is a noun (or starts a noun phrase): "a will", "the can".
DETERMINERS = words_of("a an the my your his her our their its each every another")  # "this" may stand alone
_MODAL_NOUNS = words_of("will can must might")
NEGATIONS = words_of(
    "not no never none nobody nothing neither nor without cannot cant dont doesnt didnt isnt arent wasnt "
    "werent wont wouldnt shouldnt couldnt hasnt havent hadnt mustnt w/o"
)
# Function words and request framing: they shape how a question is put, not what it asks.
# Words that carry direction or quantity (up/down, on/off, more, only, all...) are not here.
STOPWORDS = words_of(
    "a an the this that these those there here it its i me my mine we us our you your yours he him his she "
    "her they them their what which who whom whose when where why how is are was were be been being am do does "
    "did doing done have has had having will would shall should can could may might must of in on at by for "
    "with about as like through then such so too very just also and or but if because while s t d ll m o re "
    "ve y please kindly hi hello hey thanks thank let lets im ive id youre whats hows "
    "tell show give explain describe know find get go want need wanna gonna way ways step steps guide "
    "instructions help quick simple simply exactly actually really basically possible "
    "best good anyone someone somebody something anything thing things one ones use using question "
    "questions answer mean means meaning info information detail details example examples overview summary "
    "summarize summarise briefly number calculate compute many much proper properly correct correctly "
    "right any some anybody via within top hope well advance kind appreciate wondering wonder curious dear "
    "greetings cheers regards yo heck hell even wat pls list sorry grateful technique procedure method "
    "lol lmao omg ok okay um uh hmm oh ah yeah yep guys folks mate sir madam honestly seriously literally "
    "located situated between translate say required require requires vs versus idea ideas tips tricks hacks goes gone "
    "suggestion suggestions recommendation recommendations ugh argh smh jeez geez yikes sigh ffs lmfao rofl haha "
)
# A number written together with the capitals of an acronym: "2SV" (two-step verification), "4WD".
_DIGIT_ACRONYM = re.compile(r"(\d)([A-Z]{2,4})")
_BE = words_of("is are am was were be been being")
_IRREGULAR_PARTICIPLES = words_of(
    "paid held made done given taken written seen known built sold bought told found thought brought caught "
    "taught sent spent lost won chosen driven eaten grown shown spoken stolen worn broken forgotten hidden "
    "ridden thrown understood put set cut hit let read run kept left meant met drawn flown frozen begun sung "
    "beaten bitten struck fought stung"
)
# Never names, even capitalised mid-sentence (unlike "Go", "Swift" or "May").
_FUNCTION_WORDS = words_of(
    "a an the this that these those there here it its i me my we us our you your he him his she her they them "
    "their what which who whom whose when where why how is are was were be been do does did have has had will "
    "would shall should can could may might must of in on at by for with about as and or but if so please hi "
    "hello hey thanks im ive"
)  # "im", "ive": "I'm", "I've" typed with their capital I mid-sentence
# Direction words: paraphrases drop or move them freely ("Boston to Chicago" / "from Boston to
# Chicago"), so they are not compared as words; the order check watches what they relate.
DIRECTIONS = words_of("to from into onto towards toward")
# With any of these in both questions, the order of the shared content words must agree.
RELATIONS = DIRECTIONS | words_of("than vs versus against before after over under above below per for in")


@dataclass(frozen=True)
class Question:
    words: tuple[str, ...]  # lower-case, in order, abbreviations expanded, possessives split off
    numbers: Counter[str]
    names: frozenset[str]
    negated: bool
    asking: frozenset[str]  # who / when / where / why
    tense: frozenset[str]  # "past", "present", "future" as auxiliaries show them
    content: tuple[int, ...]  # positions in ``words`` of content words
    possessors: frozenset[int] = frozenset()  # positions of words written with 's ("my wife's car")
    passive: bool = False  # a form of "be" before a participle: "is calculated", "was held"
    expanded: frozenset[tuple[str, ...]] = frozenset()  # short forms' words of more than one: wifi -> wireless network


def _sentence_starts(text: str, at: int) -> bool:
    """A sentence starts at ``at``: nothing before it but spaces, or a sentence mark (.!?:;) or a line
    break before the spaces. Looks back from ``at`` only (each token of a long text must not rescan it)."""
    k = at - 1
    while k >= 0 and text[k].isspace():
        if text[k] == "\n":
            return True
        k -= 1
    return k < 0 or text[k] in ".!?:;"


# Longer questions are compared only as exact repeats. The embedding models read about this much
# (MiniLM 256 word pieces, bge-small 512), so beyond it a high cosine says nothing of the rest,
# and comparing word by word grows with the product of the two lengths, on the event loop: two
# 50 KB questions took 3 s.
MAX_COMPARED_CHARS = 2_000


# By text: the guard asks again about the texts it holds (callers pass at most MAX_COMPARED_CHARS).
@lru_cache(maxsize=8192)
def parse(text: str) -> Question:
    words: list[str] = []
    names: set[str] = set()
    numbers: Counter[str] = Counter()
    negated = False
    possessors: set[int] = set()
    expanded: set[tuple[str, ...]] = set()
    text = plain(text)
    for match in _TOKEN.finditer(text):
        raw = match.group()
        if raw[0] in "\"'":
            quoted = " ".join(raw[1:-1].lower().split())
            names.add(quoted)
            words.append(quoted)
            continue
        at_start = _sentence_starts(text, match.start())
        for piece in _pieces(raw):
            lower = piece.lower()
            if lower == "→":
                words.append("to")
                continue
            if lower in SYMBOLS:
                if words and bare_number(words[-1]):  # 5% -> 5percent
                    numbers[words[-1]] -= 1
                    words[-1] += SYMBOLS[lower]
                    numbers[words[-1]] += 1
                else:
                    words.append(lower)
                continue
            if words and bare_number(words[-1]) and lower in UNITS:  # 10 km -> 10km; before short forms: 10 wk
                numbers[words[-1]] -= 1
                words[-1] += UNITS[lower]
                numbers[words[-1]] += 1
                continue
            long_form = expand(lower)
            if long_form is not None:
                words.extend(long_form.split())
                if " " in long_form:
                    expanded.add(tuple(long_form.split()))
                negated = negated or lower in NEGATIONS or not NEGATIONS.isdisjoint(long_form.split())
                continue
            acronym = _DIGIT_ACRONYM.fullmatch(piece)
            if acronym and acronym.group(2).lower() not in UNITS:  # 2SV, 4WD: a number, then an acronym
                digit, letters = acronym.group(1), acronym.group(2).lower()
                numbers[digit] += 1
                names.add(letters)
                words += [digit, letters]
                continue
            number = _number_of(lower)
            if number is not None and lower not in ("one", "ones", "single", "once", "second"):
                if words and words[-1] in UNITS_BEFORE:  # $100 -> 100usd
                    number += UNITS_BEFORE[words.pop()]
                numbers[number] += 1
                words.append(number)
                continue
            if words and bare_number(words[-1]) and lower in ("degree", "degrees", "deg"):
                continue  # "200 degrees Celsius" / "200°C"
            if lower in CURRENCY_OF:  # "US dollars", "euros": the currency's code
                code = CURRENCY_OF[lower]
                if words and (words[-1], code) in NATIONAL_CURRENCY:  # "Canadian dollars" -> cad
                    names.discard(words[-1])
                    code = NATIONAL_CURRENCY[(words.pop(), code)]
                if words and bare_number(words[-1]):  # "100 US dollars" -> 100usd
                    numbers[words[-1]] -= 1
                    words[-1] += code
                    numbers[words[-1]] += 1
                else:
                    names.add(code)
                    words.append(code)
                continue
            if lower in NEGATIONS:
                negated = True
            if _is_name(piece, at_start) or lower in _CALENDAR:
                names.add(lower)
            if raw.lower().endswith(("'s", "s'")) and lower not in STOPWORDS:
                possessors.add(len(words))
            words.append(lower)
            at_start = False
    if any((a, b) in _ASKING_PHRASES for a, b in itertools.pairwise(words)):
        words, possessors = _asking_phrases(words, possessors)
    asking = frozenset("who" if w == "whom" else w for w in words if w in ASKING)
    nouns = {i for i, w in enumerate(words) if w in _MODAL_NOUNS and i and words[i - 1] in DETERMINERS}
    tense = _tense([w for i, w in enumerate(words) if i not in nouns])
    content = tuple(i for i, w in enumerate(words) if w in names or i in nouns or _is_content(w))
    passive = any(w in _BE and _participle(words[i + 1 : i + 7]) for i, w in enumerate(words))
    return Question(
        tuple(words),
        +numbers,
        frozenset(names),
        negated,
        asking,
        tense,
        content,
        frozenset(possessors),
        passive,
        frozenset(expanded),
    )


def _participle(following: list[str]) -> bool:
    return any((w.endswith("ed") and len(w) > 3) or w in _IRREGULAR_PARTICIPLES for w in following)


# "What year did the wall fall?" asks "when"; "what place", "where"; "how come", "why".
_ASKING_PHRASES = {
    ("what", "year"): "when",
    ("what", "date"): "when",
    ("what", "time"): "when",
    ("which", "year"): "when",
    ("what", "place"): "where",
    ("which", "place"): "where",
    ("how", "come"): "why",
    ("what", "reason"): "why",
    ("stand", "for"): "mean",
    # "What makes the sky blue?" / "What causes hiccups?" ask why; "In which country is X?" asks where.
    ("what", "makes"): "why",
    ("what", "causes"): "why",
    **{(w, place): "where" for w in ("what", "which") for place in ("country", "city", "town", "continent")},
}


def _asking_phrases(words: list[str], possessors: set[int]) -> tuple[list[str], set[int]]:
    out: list[str] = []
    kept: set[int] = set()
    for at, word in enumerate(words):
        replaced = _ASKING_PHRASES.get((out[-1], word)) if out else None
        if replaced is not None:
            out[-1] = replaced
            continue
        if at in possessors:
            kept.add(len(out))
        out.append(word)
    return out, kept


_T = TypeVar("_T")
# Per-word facts are memoised: a question's words recur across questions (each new question is parsed once a
# lookup, on the event loop). Longer tokens (a pasted hash, a URL) are computed: the memo holds short words only.
_WORDS_KEPT = 16_384
_MEMO_CHARS = 40


def _per_word(fn: Callable[[str], _T]) -> Callable[[str], _T]:
    memo = lru_cache(maxsize=_WORDS_KEPT)(fn)

    def call(word: str) -> _T:
        return memo(word) if len(word) <= _MEMO_CHARS else fn(word)

    return call


@_per_word
def _is_content(word: str) -> bool:
    if word in NEGATIONS or word in DIRECTIONS or word[0].isdigit() or len(word) < 2:
        return False
    return not (word in STOPWORDS or any(form in STOPWORDS for form in _light_bases(word)))


def _light_bases(word: str) -> list[str]:
    # "calculating", "explained", "helps" are framing as much as "calculate", "explain", "help"; every
    # form of "be" is listed, so "bees" is not one.
    found = []
    for suffix, replacement in (("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            found.append(word[: -len(suffix)] + replacement)
    return [base for base in found if base != "be"]


def _tense(words: list[str]) -> frozenset[str]:
    found = set()
    for word in words:
        if word in _PAST:
            found.add("past")
        elif word in _FUTURE:
            found.add("future")
        elif word in _PRESENT:
            found.add("present")
    if "past" not in found and not FUTURE_TIME.isdisjoint(words):
        found.add("future")  # "Is rain forecast for tomorrow?" asks what "Will it rain tomorrow?" does
    return frozenset(found)


def _split_word(raw: str) -> list[str]:
    # "Sweden's" -> "Sweden"; "doesn't" -> "doesnt" (a negation); "I'll" -> "I", "ll".
    lower = raw.lower()
    if lower.endswith("'s") or lower.endswith("s'"):
        raw = raw[:-2] if lower.endswith("'s") else raw[:-1]
    elif lower.endswith("n't"):
        return [raw.replace("'", "")]
    elif lower.endswith("'ll"):
        return [raw[:-3], "ll"]
    if "/" in raw and raw.lower() not in ("w/", "w/o"):
        return [part for piece in raw.split("/") for part in _split_word(piece)]
    word = raw.strip("'-").replace("'", "")  # "I'm" -> "Im", "you're" -> "youre"
    if "-" in word and not word.lower().startswith("non-"):  # "light-emitting"; "plug-in" -> "plug"
        return [part for part in word.split("-") if part and part.lower() not in RELATIONS]
    return [word] if word else []


_number_of = _per_word(number_of)


@_per_word
def _pieces(raw: str) -> tuple[str, ...]:
    return tuple(_split_word(raw))


def _is_name(word: str, at_sentence_start: bool) -> bool:
    kind = _name_kind(word)
    return kind == _NAME or (kind == _CAPITALISED and not at_sentence_start)


_WORD, _NAME, _CAPITALISED = 0, 1, 2  # a capitalised word is a name except where a sentence starts


@_per_word
def _name_kind(word: str) -> int:
    if any(ch.isdigit() for ch in word):
        return _NAME
    letters = word.replace("-", "").replace("'", "")
    if letters.lower() in ("ok", "id"):
        return _WORD  # "OK", "ID": words, whatever their case
    if len(letters) >= 2 and letters.isupper():
        return _NAME  # GBP, NASA, SQL
    if any(ch.isupper() for ch in word[1:]):
        return _NAME  # iPhone, JavaScript, McDonald
    return _CAPITALISED if word[0].isupper() and word.lower() not in _FUNCTION_WORDS else _WORD
