"""Who does what to whom in a short question, where two paired words trade places and the answer changes.

``_structure.py`` reads what a marker points at; these read the roles the words hold: the subject of a yes/no
question ("Can my *dog* give my cat fleas?" / "Can my *cat* give my dog fleas?"), the doer of a passive ("Was
Napoleon defeated *by* Wellington?" asks "Did Wellington defeat Napoleon?", not "Did Napoleon defeat
Wellington?"), the person who acts ("*I* owe my brother" / "my brother owes *me*") and the head of an "of"
("a *pound* of iron" / "a *kilogram* of iron").
"""

from __future__ import annotations

from ._question import Question, words_of

__all__ = ["of_heads_moved", "passive_doer_swapped", "person_pairs", "subjects_traded"]

# A yes/no question's opening word: what stands after it (and its determiners) is the subject.
_OPENERS = words_of("do does did can could will would should is are was were am")
_DETERMINERS = words_of("a an the my your our their his her its this that these those every each all any some")
# Between two words these join them as equals ("Can cats and dogs live together?"): no roles to trade.
_JOINING = words_of("and or nor vs versus with plus together")
# One person, as subject or object: "I sued my landlord" / "my landlord sued me".
_PERSON = {"i": "i", "me": "i", "we": "we", "us": "we", "he": "he", "him": "he", "she": "she", "they": "they"}
_PERSON |= {"them": "they"}


def person_pairs(a: Question, b: Question) -> list[tuple[int, int]]:
    """The personal pronouns that change case, subject in one and object in the other ("I" / "me"), paired in
    order per person where each names that person as often. One case both ways says nothing: "If I cancel, do I
    get a refund?" / "Do I get a refund if I cancel?" moves a clause, not a role."""
    found: list[tuple[int, int]] = []
    for person in set(_PERSON.values()):
        in_a = [i for i, w in enumerate(a.words) if _PERSON.get(w) == person]
        in_b = [j for j, w in enumerate(b.words) if _PERSON.get(w) == person]
        if len(in_a) == len(in_b):
            found += [(i, j) for i, j in zip(in_a, in_b, strict=True) if a.words[i] != b.words[j]]
    return found


def _subject(question: Question) -> int | None:
    words = question.words
    if not words or words[0] not in _OPENERS:
        return None
    at = 1
    while at < len(words) and words[at] in _DETERMINERS:
        at += 1
    return at if at + 1 < len(words) else None


def subjects_traded(a: Question, b: Question, pairs: list[tuple[int, int]]) -> bool:
    """Two active yes/no questions whose subjects trade places with a word after the verb: "Do plants need
    animals?" / "Do animals need plants?", "Is a tomato a type of fruit?" / "Is a fruit a type of tomato?"."""
    if a.passive or b.passive or not a.words or not b.words or a.words[0] != b.words[0]:
        return False
    sa, sb = _subject(a), _subject(b)
    partner = dict(pairs)
    back = {j: i for i, j in pairs}
    if sa is None or sb is None or sa not in partner or sb not in back:
        return False
    ja, ib = partner[sa], back[sb]
    if ja <= sb or ib <= sa:
        return False  # not traded: each subject keeps its place or moves forward
    return _JOINING.isdisjoint(a.words[sa:ib]) and _JOINING.isdisjoint(b.words[sb:ja])


def passive_doer_swapped(a: Question, b: Question, pairs: list[tuple[int, int]]) -> bool:
    """A passive with its doer ("Was Caesar killed *by* Brutus?") against an active question: the passive's
    subject is the active's object, so the two subjects may not be paired ("Did Caesar kill Brutus?")."""
    for passive, active, partner in ((a, b, dict(pairs)), (b, a, {j: i for i, j in pairs})):
        if not passive.passive or active.passive or "by" not in passive.words:
            continue
        sp, sa = _subject(passive), _subject(active)
        if sp is not None and sa is not None and partner.get(sp) == sa:
            return True
    return False


def of_heads_moved(a: Question, b: Question, pairs: list[tuple[int, int]]) -> bool:
    """In both, what an "of" belongs to must stay with it: "a kilogram of iron or a pound of feathers" is not
    "a pound of iron or a kilogram of feathers". Only where every word either side of an "of" is paired."""
    partner = dict(pairs)
    in_b = {j for _, j in pairs}
    links_a = [(i - 1, i + 1) for i, w in enumerate(a.words) if w == "of" and 0 < i < len(a.words) - 1]
    links_b = [(j - 1, j + 1) for j, w in enumerate(b.words) if w == "of" and 0 < j < len(b.words) - 1]
    if not links_a or not links_b:
        return False
    if any(h not in partner or o not in partner for h, o in links_a) or any(
        h not in in_b or o not in in_b for h, o in links_b
    ):
        return False
    return {(partner[h], partner[o]) for h, o in links_a} != set(links_b)
