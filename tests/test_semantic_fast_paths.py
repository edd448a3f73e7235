"""The semantic path's shortcuts decide exactly what the long way decides.

Each shortcut here (a substring test before a regex scan, a memo) is checked against the
long way on every question of the labelled sets and the probes, and on texts written to
hit the shortcut's edges (case, non-ASCII letters, a rule whose output wakes the next).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from layercache_asgi.semantic import _casual, _chatter, _everyday, _negating, _question, _regional, _register, _spelling
from layercache_asgi.semantic._apart import near
from layercache_asgi.semantic._guard import Guard, compare_questions
from layercache_asgi.semantic._hinted import Rule
from layercache_asgi.semantic._lexicon import load_lexicon
from layercache_asgi.semantic._question import parse
from layercache_asgi.semantic._register import plain
from layercache_asgi.semantic._relations import OPPOSITES, opposed, stem
from layercache_asgi.semantic._word_memo import word_memo

ROOT = Path(__file__).resolve().parent.parent
EDGES = [
    "How 2 get 2 the airport B4 noon?",
    "HOW LONG 2 WAIT 4 A REFUND",
    "is it ok 2 go l8r or w8 till 2moro",
    "see u 2MRW",
    "c u 2morrow",
    "What's the process for renewing a passport?",
    "WHAT DOES IT TAKE TO become a pilot",
    "No.   of people in NYC",
    "best time to go to Iceland, or goes to Norway",
    "Going to bed: when?",
    "any1 know a gr8 place 4 me 2day? b/c wknds r busy",
    "sub 4 buttermilk; good 4 days; safe 4 dogs; 4ever; 2nite",
    "what is 48 plus 48",
    "question measured-48: what is 48 plus 48?",
    "How 2 convert 50 \u212aelvin (Kelvin sign) to C",  # non-ASCII: the long way
    "W\u212aND plans and \u017fome1 else",
    "Ünïcödé what is the process of 2 the end",
    "",
]


def _questions() -> list[str]:
    texts = list(EDGES)
    for path in [*sorted((ROOT / "tests/data").glob("*.jsonl")), *sorted((ROOT / "bench/data").rglob("*.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            texts += [row[k] for k in ("a", "b") if isinstance(row.get(k), str)]
    return texts


QUESTIONS = _questions()


def _all_rules(text: str) -> str:
    """The shorthand rules as they ran before the hints: every pattern, in order."""
    for _hint, pattern, replacement in _register._SHORTHAND:
        text = pattern.sub(replacement, text)
    return text


def test_the_sets_were_read() -> None:
    assert len(QUESTIONS) > 2000


# Texts that wake the chat-aside rules, which the labelled sets hardly hold.
_CHATTER_TEXTS = ["wtf is a monad", "KINDA STUCK ON HOW TO exit vim", "can i nap?? Asking for a friend!"]
# And the negating verbs.
_CHATTER_TEXTS += ["What if it FAILS TO pay?", "I forgot to renew it", "my phone stopped charging", "He refused to"]


@pytest.mark.parametrize(
    "rules",
    [_register._SHORTHAND, _everyday._REWRITES, _chatter._RULES, _regional._RULES, _casual._RULES, _negating._REWRITES],
    ids=["shorthand", "everyday", "chatter", "regional", "casual", "negating"],
)
def test_every_hint_is_in_every_ascii_text_its_rule_matches(rules: tuple[Rule, ...]) -> None:
    hints: dict[re.Pattern[str], set[str]] = {}  # one rule may carry several hints ("earth", "planet", "world")
    for hint, pattern, _replacement in rules:
        hints.setdefault(pattern, set()).add(hint)
    for text in [*QUESTIONS, *_CHATTER_TEXTS]:
        for pattern, its_hints in hints.items():
            for variant in (text, text.upper(), text.lower()):
                if variant.isascii() and pattern.search(variant):
                    assert any(hint in variant.lower() for hint in its_hints), (its_hints, pattern.pattern, variant)


def _respelt_long_way(word: str) -> str:
    """A word put through every respelling rule of ``_spelling.py``, with no hint to skip it."""
    for british, us in _spelling._WORDS:
        if word.startswith(british):
            word = us + word[len(british) :]
            break
    for pattern, replacement in _spelling._RULES:
        word = pattern.sub(replacement, word)
    return word


def test_a_word_without_the_spelling_hint_has_no_respelling() -> None:
    words = {w for text in QUESTIONS for w in parse(text).words}
    for word in [*words, "colour", "organising", "centred", "paediatric", "greyish", "mummy"]:
        if not _spelling._HINT.search(word):
            assert _respelt_long_way(word) == word, word


def test_everyday_rewrites_outside_ascii_run_every_rule() -> None:
    # "\u212a" (the Kelvin sign) matches "k" under IGNORECASE, and str.lower() gives no "k": no hint skips the rule.
    assert _everyday.everyday("make a \u212aLAIM claim") != "make a \u212aLAIM claim"
    assert _everyday.everyday("What if it rains?") == "what happens if it rains?"


@pytest.mark.parametrize("case", [str, str.upper, str.lower])
def test_spelling_out_with_hints_is_the_long_way(case: object) -> None:
    assert callable(case)
    for text in QUESTIONS:
        variant = case(text)
        assert _register._spell_out(variant) == _all_rules(variant), variant


def test_plain_spells_out_shorthand() -> None:
    assert plain("How 2 get 2 the airport B4 noon?") == "How to get to the airport before noon?"
    assert plain("any1 know a gr8 place 4 me 2day?") == "anyone know a great place for me today?"
    # Outside ASCII the rules still run, all of them: IGNORECASE matches the Kelvin sign as a k.
    assert re.search("weekends", plain("W\u212aND plans"))


def test_the_guard_judges_each_new_question_as_itself() -> None:
    """The guard keeps the last new question's digest: the next new question never reuses it."""
    load_lexicon()
    guard = Guard(None)
    pairs = [
        ("Convert 50 GBP to JPY", "convert 50 gbp to jpy", True),
        ("Convert 50 JPY to GBP", "convert 50 gbp to jpy", False),
        ("How do I enable 2FA?", "How do I disable 2FA?", False),
        ("How do I enable 2FA?", "how do I enable 2FA", True),
        ("Convert 50 GBP to JPY", "convert 50 gbp to jpy", True),
    ]
    for _ in range(2):  # the second time the verdicts come from the guard's memo
        for new, cached, same in pairs:
            assert guard.check(new, cached).same is same, (new, cached)
            assert compare_questions(new, cached).same is same


def _is_name_long_way(word: str, at_sentence_start: bool) -> bool:
    """How a name was told before the per-word memo (one function of the word and its place)."""
    if any(ch.isdigit() for ch in word):
        return True
    letters = word.replace("-", "").replace("'", "")
    if letters.lower() in ("ok", "id"):
        return False
    if len(letters) >= 2 and letters.isupper():
        return True
    if any(ch.isupper() for ch in word[1:]):
        return True
    return word[0].isupper() and not at_sentence_start and word.lower() not in _question._FUNCTION_WORDS


def test_names_told_by_the_memoised_word_shape_are_the_long_ways() -> None:
    tokens = {piece for text in QUESTIONS for raw in _question._TOKEN.findall(text) for piece in _question._pieces(raw)}
    tokens |= {"Go", "May", "OK", "Id", "iPhone", "NASA", "X2", "\u01c5x", "A" * 60, "b" * 60 + "C"}  # > the memo's 40
    assert len(tokens) > 1000
    for word in sorted(t for t in tokens if t):
        for at_start in (True, False):
            assert _question._is_name(word, at_start) is _is_name_long_way(word, at_start), (word, at_start)


def test_a_long_token_is_parsed_without_the_memo() -> None:
    long_name = "Zz" + "q" * 60  # capitalised, over the memo's length: still a name mid-sentence
    assert long_name.lower() in parse(f"is {long_name} up?").names
    assert len("9" * 50) > _question._MEMO_CHARS and parse(f"what is {'9' * 50} plus 1").numbers["9" * 50] == 1


def test_the_word_memo_answers_as_the_table_and_lists_do() -> None:
    """Opposites and forms remembered per word table are what the table and the fixed lists say."""
    lexicon = load_lexicon()
    memo = word_memo(lexicon)
    assert word_memo(lexicon) is memo
    words = sorted({w for text in QUESTIONS[:600] for w in parse(text).words})[:400]
    words += ["enable", "disable", "legal", "illegal", "show", "hide", "buy", "sell", "upload", "download"]
    words += ["colours", "organising", "aluminium", "tour", "filled"]

    def forms_of(word: str) -> frozenset[str]:  # its forms and, if it has one, its American spelling's
        us = _spelling.american(word, lexicon)
        return frozenset((*lexicon.bases(word), stem(word), *((*lexicon.bases(us), stem(us)) if us else ())))

    for x in words:
        forms = forms_of(x)
        assert memo.forms(x) == forms
        for y in words[::7]:
            by = forms_of(y)
            listed = any(lexicon.opposite(p, q) or (min(p, q), max(p, q)) in OPPOSITES for p in forms for q in by)
            expected = listed or opposed(stem(x), stem(y))
            assert memo.opposite(x, y) is expected and memo.opposite(x, y) is expected, (x, y)  # computed, then kept
    assert memo.opposite("enable", "disable") and memo.opposite("show", "hide") and not memo.opposite("show", "display")


def test_acronyms_pair_with_the_words_their_initials_spell() -> None:
    assert compare_questions("Best pizza in NYC?", "Best pizza in New York City?").same
    assert compare_questions("What is my ETA?", "What is my estimated time of arrival?").same
    assert not compare_questions("Best pizza in NYC?", "Best pizza in New Jersey?").same


def test_a_typo_of_a_long_word_is_judged_without_the_memo() -> None:
    long_word = "pneumonoultramicroscopicsilicovolcanoconiosis"  # 45 letters, over the memo's 40
    assert near(long_word, long_word.replace("silico", "silica")) and near("password", "pasword")
    assert not near(long_word, long_word[:30]) and not near("cat", "cut")
