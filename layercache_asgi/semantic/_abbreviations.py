"""Short forms people type for longer words: a small curated table plus acronyms by initials.

The table holds shortenings no rule can derive (pw, repo, config). Acronyms (NYC, 2FA,
GDP) are matched by their letters against the initials of consecutive words in the other
question, so no list of acronyms is needed for them; the table only adds those whose
letters are not initials (2fa, wifi).
"""

from __future__ import annotations

from ._register import INFORMAL

__all__ = ["expand", "initials_match", "pair_acronyms"]

_TABLE = {
    "pw": "password",
    "pwd": "password",
    "passwd": "password",
    "db": "database",
    "repo": "repository",
    "repos": "repositories",
    "config": "configuration",
    "configs": "configurations",
    "env": "environment",
    "envs": "environments",
    "app": "application",
    "apps": "applications",
    "info": "information",
    "docs": "documentation",
    "doc": "document",
    "msg": "message",
    "msgs": "messages",
    "img": "image",
    "pic": "picture",
    "pics": "pictures",
    "approx": "approximately",
    "yr": "year",
    "yrs": "years",
    "hrs": "hours",
    "mins": "minutes",
    "dept": "department",
    "govt": "government",
    "intl": "international",
    "admin": "administrator",
    "auth": "authentication",
    "temp": "temperature",
    "max": "maximum",
    "ppl": "people",
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "bc": "because",
    "cuz": "because",
    "w/": "with",
    "w/o": "without",
    "2fa": "two factor authentication",
    "mfa": "multi factor authentication",
    "wifi": "wireless network",
    "tv": "television",
    "fridge": "refrigerator",
    "phone": "telephone",
    "bday": "birthday",
    "diff": "difference",
    "prob": "probably",
    "specs": "specifications",
    "stats": "statistics",
    "abt": "about",
    "btw": "by the way",
    "eg": "for example",
    "ie": "that is",
    "etc": "and so on",
    "mgr": "manager",
    "acct": "account",
    "addr": "address",
    "amt": "amount",
    "avg": "average",
    "qty": "quantity",
    "ref": "reference",
    "req": "request",
    "reqs": "requirements",
    "dl": "download",
    "lang": "language",
    "libs": "libraries",
    "lib": "library",
    "dir": "directory",
    "dirs": "directories",
    "func": "function",
    "var": "variable",
    "vars": "variables",
    "sync": "synchronise",
    "k8s": "kubernetes",
    "js": "javascript",
    "ts": "typescript",
    "py": "python",
    "mgmt": "management",
    "uni": "university",
    "gym": "gymnasium",
    "ads": "advertisements",
    "exam": "examination",
    "math": "mathematics",
    "maths": "mathematics",
    "lab": "laboratory",
    "flu": "influenza",
    "vax": "vaccine",
    "meds": "medications",
    "med": "medication",
    "rx": "prescription",
    "ac": "air conditioning",
    "tsp": "teaspoon",
    "tsps": "teaspoons",
    "tbsp": "tablespoon",
    "tbsps": "tablespoons",
    "veg": "vegetables",
    "veggies": "vegetables",
    "biz": "business",
    "hw": "homework",
    "convo": "conversation",
    "fav": "favourite",
    "fave": "favourite",
    "bf": "boyfriend",
    "gf": "girlfriend",
    "min.": "minimum",
    "cert": "certificate",
    "cals": "calories",
    "certs": "certificates",
    "atm": "cash machine",
}


def expand(word: str) -> str | None:
    """The words a lower-case short form stands for, or None."""
    return _TABLE.get(word) or INFORMAL.get(word)


def initials_match(acronym: str, words: list[str]) -> int:
    """How many of ``words`` (from the start) spell ``acronym`` by their initials; 0 if they do not.

    "nyc" and ["new", "york", "city", ...] -> 3. Words of one letter do not count as acronyms.
    """
    letters = acronym.replace(".", "").replace("-", "")
    if len(letters) < 2 or not letters.isalnum() or len(words) < len(letters):
        return 0
    for letter, word in zip(letters, words, strict=False):
        if not word or word[0] != letter:
            return 0
    return len(letters)


# Words an acronym's letters usually skip: "ETA" is estimated time *of* arrival.
_SKIPPED = frozenset(["of", "and", "the", "for", "a", "an", "to", "in", "on", "&"])


def pair_acronyms(
    words_a: tuple[str, ...], words_b: tuple[str, ...], left_a: list[int], left_b: list[int]
) -> tuple[list[int], list[int]]:
    """``left_a`` and ``left_b`` (positions of unpaired words) without an acronym on one side and
    the words that spell it on the other, framing words too ("2SV" / "two-*step* verification"),
    as long as one of them is unpaired."""
    for short_words, long_words, short_left, long_left in (
        (words_a, words_b, left_a, left_b),
        (words_b, words_a, left_b, left_a),
    ):
        runs = [(run, "".join(long_words[k][:1] or "\0" for k in run)) for run in _runs(long_words)]
        for i in list(short_left):
            letters = short_words[i].replace(".", "").replace("-", "")
            if len(letters) < 2 or not letters.isalnum():
                continue  # what initials_match refuses, decided once for all the runs
            for run, initials in runs:
                span = len(letters) if initials.startswith(letters) else 0  # initials_match, on the run's initials
                if span and not set(run[:span]).isdisjoint(long_left):
                    short_left.remove(i)
                    long_left[:] = [k for k in long_left if k not in run[:span]]
                    break
    return left_a, left_b


def _runs(words: tuple[str, ...]) -> list[list[int]]:
    """From each position on, the positions an acronym may spell: all words (TOEFL: Test *Of* English...),
    then without the small words acronyms usually skip (ETA: estimated time *of* arrival)."""
    found = []
    for start in range(len(words)):
        every = list(range(start, len(words)))
        found += [every, [k for k in every if words[k] not in _SKIPPED]]
    return found
