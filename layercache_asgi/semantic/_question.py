"""A question taken apart into what the guard compares: numbers, names, negation, tense, content words.

Parsing is word-level and cached per text (the same stored questions are parsed again on
every lookup that finds them).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from ._abbreviations import expand
from ._register import FUTURE_TIME, plain

__all__ = ["DETERMINERS", "MAX_COMPARED_CHARS", "NEGATIONS", "RELATIONS", "STOPWORDS", "Question", "parse", "words_of"]


def _list(text: str) -> list[str]:
    return text.split()


def words_of(text: str) -> frozenset[str]:
    return frozenset(_list(text))


_TOKEN = re.compile(
    r"\"[^\"]{1,80}\"|'[^'\s][^']{0,78}[^'\s]'|\d[\d,]*(?:\.\d+)?[a-zA-Z%]*|[A-Za-z][A-Za-z'\-/]*|[$€£¥%→]"
)

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        _list(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen twenty"
        )
    )
}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70"})
_NUMBER_WORDS.update({"eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000", "million": "1e6"})
_NUMBER_WORDS.update({"billion": "1e9", "dozen": "12", "twice": "2", "once": "1", "single": "1"})
_ORDINALS = {
    w: str(i + 1)
    for i, w in enumerate(
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
    )
}
# Units and currency signs written as symbols count with the number they qualify.
_SYMBOLS = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy", "%": "percent"}
_UNITS_BEFORE = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy"}
# A unit after a number is part of it: "10 km" and "10 m" are different numbers. Spellings of
# one unit share a symbol; currencies are there so "100 USD to EUR" keeps its amount's unit.
_UNITS = {
    **{w: "km" for w in words_of("km kms kilometer kilometers kilometre kilometres")},
    **{w: "m" for w in words_of("m meter meters metre metres")},
    **{w: "cm" for w in words_of("cm centimeter centimeters centimetre centimetres")},
    **{w: "mm" for w in words_of("mm millimeter millimeters millimetre millimetres")},
    **{w: "mi" for w in words_of("mi mile miles")},
    **{w: "kg" for w in words_of("kg kgs kilo kilos kilogram kilograms")},
    **{w: "g" for w in words_of("g gram grams")},
    **{w: "lb" for w in words_of("lb lbs pound pounds")},
    **{w: "oz" for w in words_of("oz ounce ounces")},
    **{w: "l" for w in words_of("l liter liters litre litres")},
    **{w: "ml" for w in words_of("ml milliliter milliliters millilitre millilitres")},
    **{w: "gb" for w in words_of("gb gigabyte gigabytes")},
    **{w: "mb" for w in words_of("mb megabyte megabytes")},
    **{w: "tb" for w in words_of("tb terabyte terabytes")},
    **{w: "s" for w in words_of("sec secs seconds")},
    **{w: "min" for w in words_of("min mins minute minutes")},
    **{w: "h" for w in words_of("h hr hrs hour hours")},
    **{w: "d" for w in words_of("day days")},
    **{w: "wk" for w in words_of("wk wks week weeks")},
    **{w: "mo" for w in words_of("month months")},
    **{w: "y" for w in words_of("yr yrs year years")},
    **{w: "percent" for w in words_of("percent per-cent")},
    **{w: "c" for w in words_of("c celsius")},
    **{w: "f" for w in words_of("f fahrenheit")},
}
_CURRENCY_OF = {
    **{w: "usd" for w in words_of("usd dollar dollars buck bucks")},
    **{w: "eur" for w in words_of("eur euro euros")},
    **{w: "jpy" for w in words_of("jpy yen")},
    **{w: "inr" for w in words_of("inr rupee rupees")},
    **{w: "chf" for w in words_of("chf franc francs")},
    **{w: "cny" for w in words_of("cny yuan renminbi rmb")},
    **{w: w for w in words_of("gbp cad aud nzd sek nok dkk mxn brl krw sgd hkd")},
}
_NATIONAL_CURRENCY = {
    ("us", "usd"): "usd",
    ("american", "usd"): "usd",
    ("canadian", "usd"): "cad",
    ("australian", "usd"): "aud",
    ("singapore", "usd"): "sgd",
    ("japanese", "jpy"): "jpy",
    ("swiss", "chf"): "chf",
    ("indian", "inr"): "inr",
    ("chinese", "cny"): "cny",
}
# Closed classes that name a specific thing even when written in lower case.
_CALENDAR = words_of(
    "monday tuesday wednesday thursday friday saturday sunday january february april june july "
    "august september october november december today tomorrow yesterday tonight"
)
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
    "ridden thrown understood put set cut hit let read run kept left meant met drawn flown frozen begun sung"
)
# Never names, even capitalised mid-sentence (unlike "Go", "Swift" or "May").
_FUNCTION_WORDS = words_of(
    "a an the this that these those there here it its i me my we us our you your he him his she her they them "
    "their what which who whom whose when where why how is are was were be been do does did have has had will "
    "would shall should can could may might must of in on at by for with about as and or but if so please hi "
    "hello hey thanks"
)
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
    text = plain(text)
    for match in _TOKEN.finditer(text):
        raw = match.group()
        if raw[0] in "\"'":
            quoted = " ".join(raw[1:-1].lower().split())
            names.add(quoted)
            words.append(quoted)
            continue
        at_start = _sentence_starts(text, match.start())
        for piece in _split_word(raw):
            lower = piece.lower()
            if lower == "→":
                words.append("to")
                continue
            if lower in _SYMBOLS:
                if words and _bare_number(words[-1]):  # 5% -> 5percent
                    numbers[words[-1]] -= 1
                    words[-1] += _SYMBOLS[lower]
                    numbers[words[-1]] += 1
                else:
                    words.append(lower)
                continue
            if words and _bare_number(words[-1]) and lower in _UNITS:  # 10 km -> 10km; before short forms: 10 wk
                numbers[words[-1]] -= 1
                words[-1] += _UNITS[lower]
                numbers[words[-1]] += 1
                continue
            long_form = expand(lower)
            if long_form is not None:
                words.extend(long_form.split())
                negated = negated or lower in NEGATIONS or not NEGATIONS.isdisjoint(long_form.split())
                continue
            acronym = _DIGIT_ACRONYM.fullmatch(piece)
            if acronym and acronym.group(2).lower() not in _UNITS:  # 2SV, 4WD: a number, then an acronym
                digit, letters = acronym.group(1), acronym.group(2).lower()
                numbers[digit] += 1
                names.add(letters)
                words += [digit, letters]
                continue
            number = _number(lower)
            if number is not None and lower not in ("one", "ones", "single", "once", "second"):
                if words and words[-1] in _UNITS_BEFORE:  # $100 -> 100usd
                    number += _UNITS_BEFORE[words.pop()]
                numbers[number] += 1
                words.append(number)
                continue
            if words and _bare_number(words[-1]) and lower in ("degree", "degrees", "deg"):
                continue  # "200 degrees Celsius" / "200°C"
            if lower in _CURRENCY_OF:  # "US dollars", "euros": the currency's code
                code = _CURRENCY_OF[lower]
                if words and (words[-1], code) in _NATIONAL_CURRENCY:  # "Canadian dollars" -> cad
                    names.discard(words[-1])
                    code = _NATIONAL_CURRENCY[(words.pop(), code)]
                if words and _bare_number(words[-1]):  # "100 US dollars" -> 100usd
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
    question = Question(tuple(words), +numbers, frozenset(names), negated, asking, tense, content)
    return dataclasses.replace(question, possessors=frozenset(possessors), passive=passive)


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


def _bare_number(word: str) -> bool:
    return word.replace(".", "", 1).isdigit()


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


def _is_name(word: str, at_sentence_start: bool) -> bool:
    if any(ch.isdigit() for ch in word):
        return True
    letters = word.replace("-", "").replace("'", "")
    if letters.lower() in ("ok", "id"):
        return False  # "OK", "ID": words, whatever their case
    if len(letters) >= 2 and letters.isupper():
        return True  # GBP, NASA, SQL
    if any(ch.isupper() for ch in word[1:]):
        return True  # iPhone, JavaScript, McDonald
    return word[0].isupper() and not at_sentence_start and word.lower() not in _FUNCTION_WORDS


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
    if unit == "k":  # 1k, 2.5k
        value, unit = f"{float(value) * 1000:.6f}", ""
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") + unit if value.lstrip("0") else "0" + unit
