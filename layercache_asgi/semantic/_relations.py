"""Word-level relations the guard needs beyond the lexicon: opposing affixes, edit distance, a light stem."""

from __future__ import annotations

from ._question import words_of

__all__ = ["OPPOSITES", "edits", "opposed", "stem"]

_OPPOSED_PREFIXES = frozenset(
    words_of("un in im il ir dis non non- de anti mis en em ex up down out over under pre post max min inter intra")
)
_OPPOSED_SUFFIXES = (("ful", "less"), ("est", "er"))
# Opposites WordNet does not link as antonyms (or not in these senses).
OPPOSITES = frozenset(
    tuple(sorted(pair.split("/")))
    for pair in words_of(
        "before/after above/below over/under up/down on/off in/out more/less most/least min/max minimum/maximum "
        "first/last start/end begin/end open/close import/export push/pull input/output north/south east/west "
        "left/right top/bottom increase/decrease add/remove upload/download encrypt/decrypt win/lose buy/sell "
        "rise/fall early/late hot/cold inside/outside true/false yes/no pros/cons male/female men/women boy/girl "
        "husband/wife send/receive lend/borrow teach/learn give/take enable/disable install/uninstall "
        "mount/unmount ascending/descending asc/desc maximize/minimize minimise/maximise highest/lowest "
        "cheapest/expensive cheap/expensive cheapest/priciest newest/oldest latest/earliest best/worst "
        "longest/shortest biggest/smallest fastest/slowest most/fewest upstream/downstream inbound/outbound "
        "celsius/fahrenheit kg/lb kilograms/pounds miles/kilometers miles/kilometres km/miles day/night "
        "show/hide hidden/visible visible/invisible public/private lock/unlock "
        "last/next previous/next yesterday/tomorrow past/future old/new current/previous "
        "summer/winter spring/autumn spring/fall morning/evening weekday/weekend import/export "
        "stay/leave stay/go remain/leave read/write"
    )
)


# How often: one period never answers for another ("monthly interest" / "annual interest").
_PERIODS = (
    words_of("hourly"),
    words_of("daily nightly"),
    words_of("weekly"),
    words_of("biweekly fortnightly"),
    words_of("monthly"),
    words_of("quarterly"),
    words_of("annual annually yearly"),
)
# Which way a comparison points: any word of one side against any of the other ("greater than" / "less than").
_MAGNITUDES = (
    words_of("more greater higher larger bigger"),
    words_of("less fewer lower smaller"),
)
OPPOSITES = OPPOSITES | frozenset(
    (min(x, y), max(x, y))
    for groups in (_PERIODS, _MAGNITUDES)
    for i, p in enumerate(groups)
    for q in groups[i + 1 :]
    for x in p
    for y in q
)


def stem(word: str) -> str:
    """A light stemmer for words the lexicon does not know (dockerfiles -> dockerfile)."""
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def opposed(x: str, y: str) -> bool:
    """Two words that differ by an opposing affix: legal/illegal, enable/disable, useful/useless."""
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


def edits(x: str, y: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), stopping past ``limit``."""
    previous2: list[int] = []
    previous = list(range(len(y) + 1))
    for i, cx in enumerate(x, 1):
        row = [i] + [0] * len(y)
        for j, cy in enumerate(y, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (cx != cy))
            if i > 1 and j > 1 and cx == y[j - 2] and x[i - 2] == cy:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return previous[-1]
