"""How the words of a question relate: what a marker points at, whose thing it is, who does what.

The guard pairs the content words of two questions; these checks then say whether the
pairing keeps the relations between them ("100 USD to EUR" is not "100 EUR to USD").
"""

from __future__ import annotations

from ._question import RELATIONS, Question, words_of
from ._roles import of_heads_moved, passive_doer_swapped, person_pairs, subjects_traded

__all__ = ["ASKING_LEAVE", "MODAL_ADJECTIVES", "agent_positions", "order_swapped", "past", "tense_differs"]


def order_swapped(a: Question, b: Question, pairs: list[tuple[int, int]]) -> bool:
    """Numbers keep their order ("15% of 80"). Paired words may move ("the GDP of Japan", "Japan's
    GDP"), but what a relational marker points at may not change: "100 USD *to* EUR" / "*to* USD",
    "faster *than* Go" / "*than* Rust", "9am *in* London ... *in* Sydney" / the other way round."""
    shared = set(a.numbers) & set(b.numbers)
    if _first(a.words, shared) != _first(b.words, shared):
        return True
    if _symmetric(a) and _symmetric(b):
        return False  # "Does coffee interact with alcohol?" asks what "Does alcohol interact with coffee?" does
    partner = dict(pairs)
    paired_b = set(partner.values())
    if _possession_moved(a, b, partner) or _possession_moved(b, a, {j: i for i, j in pairs}):
        return True
    if (
        _sentence(a)
        and _sentence(b)
        and (_roles_swapped(pairs + person_pairs(a, b)) or _subject_swapped(a, b, partner))
    ):
        return True  # persons count: "*I* sued my landlord" / "my landlord sued *me*"
    if subjects_traded(a, b, pairs) or passive_doer_swapped(a, b, pairs) or of_heads_moved(a, b, pairs):
        return True
    objects_a, objects_b = _objects(a), _objects(b)
    for marker in objects_a.keys() & objects_b.keys():
        # Paired words by their position in b, personal pronouns by themselves.
        in_a = [f"#{partner[i]}" if i in partner else a.words[i] for i in objects_a[marker]]
        in_b = [f"#{j}" if j in paired_b else b.words[j] for j in objects_b[marker]]
        in_a = [x for x in in_a if x[0] == "#" or x in _PERSONS or x in a.numbers]
        in_b = [x for x in in_b if x[0] == "#" or x in _PERSONS or x in b.numbers]
        if len(in_a) != len(objects_a[marker]) or len(in_b) != len(objects_b[marker]) or not in_a or not in_b:
            continue  # an object without a partner: the content-word checks judged it
        if not (set(in_a) <= set(in_b) or set(in_b) <= set(in_a)):
            return True  # "roll a 401k *into* an IRA" / "roll an IRA *into* a 401k", "to" pointing at "roll" in both
        if set(in_a) == set(in_b) and list(dict.fromkeys(in_a)) != list(dict.fromkeys(in_b)):
            return True
    return False


# Relations that hold both ways: the order of what they relate does not change the question.
_SYMMETRIC = words_of(
    "interact interacts interaction interactions compatible compatibility incompatible mix mixing mixed combine "
    "combining combined differ differs difference differences distance far similar similarity similarities "
    "equivalent marry married conflict conflicts relationship compare comparison"
)
# Words that give a comparison a direction ("faster than", "more", "better", "prefer").
_DIRECTED = words_of("than more less most least better worse best worst prefer rather ahead behind")


def _symmetric(question: Question) -> bool:
    """A symmetric relation, with nothing that gives it a direction (no comparative: "-er", "more")."""
    words = question.words
    if _SYMMETRIC.isdisjoint(words) or not _DIRECTED.isdisjoint(words):
        return False
    return not any(len(w) > 4 and w.endswith(("er", "est")) for w in words)


def _roles_swapped(pairs: list[tuple[int, int]]) -> bool:
    """Two paired words changed sides of a third: "Does a will override a trust?" / "a trust override a will"."""
    for i, j in pairs:
        for k, m in pairs:
            if i < k and j > m and any(i < p < k and m < q < j for p, q in pairs):
                return True
    return False


def _subject_swapped(a: Question, b: Question, partner: dict[int, int]) -> bool:
    """One question's doer is a person ("Can *I* cancel my policy with my insurer?"), the other's a thing
    it names after the verb ("Can *my insurer* cancel my policy?"): the same act, done by another."""
    subject_a, subject_b = _subject(a), _subject(b)
    if subject_a is None or subject_b is None or a.words[0] != b.words[0]:
        return False
    for (noun_q, noun, person_q, person), to_person in (
        ((a, subject_a, b, subject_b), partner),
        ((b, subject_b, a, subject_a), {j: i for i, j in partner.items()}),
    ):
        verb = noun + 1
        if person_q.words[person] not in _DOERS or noun not in noun_q.content or noun not in to_person:
            continue
        # The same verb: two paired by meaning may be converses ("Can my dog eat it?" / "Can I feed my dog it?").
        same_verb = to_person.get(verb) == person + 1 and noun_q.words[verb] == person_q.words[person + 1]
        if same_verb and to_person[noun] > person + 1:
            return True
    return False


def _subject(question: Question) -> int | None:
    """Where the subject of a yes/no question stands: after its opening auxiliary and any determiner."""
    words = question.words
    if not words or words[0] not in _AUXILIARIES:
        return None
    at = 1
    while at < len(words) and words[at] in _DETERMINERS:
        at += 1
    return at if at + 1 < len(words) else None


def _sentence(question: Question) -> bool:
    """A full active sentence (an auxiliary, or a statement that opens with its subject: "I reported my coworker";
    no passive): word order there carries who does what."""
    if question.passive or not question.words:
        return False
    return question.words[0] in _OPENING_SUBJECTS or not _AUXILIARIES.isdisjoint(question.words)


_OPENING_SUBJECTS = words_of("i we he she they my our his her their")


def _possession_moved(a: Question, b: Question, partner: dict[int, int]) -> bool:
    """A's "wife's car" must stay "wife('s) car" or "car of (the) wife" in B, not "wife driving my car"."""
    for i in a.possessors:
        k = next((c for c in a.content if c > i), None)
        if k is None or i not in partner or k not in partner:
            continue
        pi, pk = partner[i], partner[k]
        after_pi = next((c for c in b.content if c > pi), None)
        if after_pi == pk or (pk < pi and "of" in b.words[pk:pi]):
            continue
        return True
    return False


# "Is it safe / legal / OK to ..." asks what "Can I ..." asks.
MODAL_ADJECTIVES = words_of("safe legal ok okay possible allowed fine acceptable permitted")
# What "Is it OK to ...?" may stand for: "Can I ...?", "Is it correct / right / proper to ...?"
ASKING_LEAVE = words_of("can could may correct right proper")
_AUXILIARIES = words_of("do does did can could will would should")
_DETERMINERS = words_of("a an the my your our their his her its this that these those")
_DOERS = words_of("i we you")


def agent_positions(a: Question, b: Question) -> tuple[set[int], set[int]]:
    """Who does it, in the active form of a passive question: "How do *dealers* calculate a value?" for
    "How is a value calculated?". The passive leaves the agent out; it asks the same."""
    found: tuple[set[int], set[int]] = (set(), set())
    for side, (active, passive) in enumerate(((a, b), (b, a))):
        if active.passive or not passive.passive:
            continue
        for at, word in enumerate(active.words):
            if word in _AUXILIARIES:
                nxt = at + 1
                while nxt < len(active.words) and active.words[nxt] in _DETERMINERS:
                    nxt += 1
                if nxt < len(active.words) and nxt in active.content:
                    found[side].add(nxt)
                break
    return found


# Markers whose object is what the question is about: "to", "into" and "onto" point the same way.
_PERSONS = words_of("me you him her us them")
_MARKER_CLASS = {"into": "to", "onto": "to", "towards": "to", "toward": "to", "versus": "vs", "against": "vs"}


def _objects(question: Question) -> dict[str, list[int]]:
    """Per relational marker, the positions of the content words (or personal pronouns, or numbers: "from my
    401k *to* my IRA") right after it."""
    found: dict[str, list[int]] = {}
    content = [
        i
        for i, w in enumerate(question.words)
        if (i in question.content and w not in RELATIONS) or w in _PERSONS or w in question.numbers
    ]
    for at, word in enumerate(question.words):
        if word in RELATIONS:
            following = next((i for i in content if i > at), None)
            if following is not None:
                found.setdefault(_MARKER_CLASS.get(word, word), []).append(following)
    return found


_BE = words_of("be is are am was were been being get gets got")


def past(question: Question, at: int, other: Question | None = None) -> bool:
    """A verb in -ed that is not a participle ("lived", not "is taxed", "be salted", "can I freeze *cooked* rice"),
    or a bare verb after "did" where ``other`` has its -ed form ("did my score drop" / "my score dropped")."""
    word, before = question.words[at], question.words[:at]
    if other is not None and "did" in before and _BE.isdisjoint(before) and not word.endswith("ed"):
        return any(
            w.endswith("ed") and w.startswith(word[:-1]) and len(w) <= len(word) + 3 and past(other, k)
            for k, w in enumerate(other.words)
        )
    if not word.endswith("ed") or len(word) <= 4 or not _BE.isdisjoint(before):
        return False
    if _keyword_participle(question, at):
        return False
    return _MODALS.isdisjoint(before) or not _PAST_AUXILIARIES.isdisjoint(question.words)


def _keyword_participle(question: Question, at: int) -> bool:
    """In a keyword query (no auxiliary, no subject) an -ed word before another content word describes it:
    "soft *boiled* egg time", "calories *burned* running a mile" ask what "boil an egg" and "burn calories" do."""
    if question.tense or not _SUBJECTS.isdisjoint(question.words):
        return False
    return at + 1 in question.content


_MODALS = words_of("can could should would may might must will shall")
# Who does a thing, or whose it is: with one of them a statement ("my score dropped") tells of the past.
_SUBJECTS = words_of("i you we he she they it my our your his her their me us them")
_PAST_AUXILIARIES = words_of("did was were had")


def _first(words: tuple[str, ...], keep: set[str]) -> list[str]:
    """The numbers in ``keep`` in their order, two joined by a commutative word in one sorted group: "7 times 8" is
    "8 times 7", "the GCD of 12 and 18" is "of 18 and 12"; "20% of 50", "10 to the power of 2" keep their order."""
    found: list[str] = []
    for at, word in enumerate(words):
        if word not in keep:
            continue
        if at >= 2 and words[at - 1] in _COMMUTATIVE and words[at - 2] in keep and found:
            found[-1] = " ".join(sorted((found[-1], word)))
        else:
            found.append(word)
    return list(dict.fromkeys(found))


_COMMUTATIVE = words_of("and times plus")


def tense_differs(x: frozenset[str], y: frozenset[str]) -> bool:
    """One of two tense sets asks about another time: future against not, past against present only."""
    if ("future" in x) != ("future" in y):
        return True
    past_x, past_y = "past" in x, "past" in y
    return (past_x and not past_y and "present" in y) or (past_y and not past_x and "present" in x)
