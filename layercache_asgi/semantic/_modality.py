"""What a question asks of its verb, beyond the verb: must / may / should, and stop / keep / start doing.

"Must I book a seat?" asks about a duty, "Can I book a seat?" about leave, "Should I book a
seat?" for advice: the answers differ, yet every word but the modal is shared and the
sentence model puts them at 0.94. A yes/no question (one that opens with its auxiliary) asks
about its modal, so any two differ there. Elsewhere a modal mostly frames the question ("How
can I / should I / do I reset it?", "What can I / should I do?" ask one thing), but a duty is
never leave: "What must I bring on a plane?" is not "What can I bring on a plane?". "Is it OK
/ safe to ...?" takes no side (it stands for either "Can I" or "Should I").

Likewise "stop paying" / "keep paying" / "start paying": a phase verb before a verb in -ing
says which part of the doing is asked about ("stop biting" and "prevent biting" stay
paraphrases: the rule needs the -ing verb).
"""

from __future__ import annotations

from ._deixis import time_differs
from ._question import DETERMINERS, Question, words_of

__all__ = ["asked_otherwise", "said_as_modal"]

# What a yes/no question asks of its verb; words in no class ("ok", "safe", "fine") take no side.
_MODALITY = {
    **{w: "duty" for w in words_of("must need needs required require requires necessary mandatory compulsory")},
    **{w: "duty" for w in words_of("obliged obligated obligatory")},
    **{w: "leave" for w in words_of("can could may allowed permitted legal legally possible able")},
    **{w: "advice" for w in words_of("should ought advisable recommended worth wise")},
}
# "have to", "has to", "got to": a duty said with a light verb.
_DUTY_VERBS = words_of("have has had got")
_OPENERS = words_of("is are am was were do does did can could may might must should shall will would have has")
# "Can you / could you tell me ...": a request, not the question's own modal.
_REQUEST = words_of("can could would will")
_PHASES = {
    **{w: "end" for w in words_of("stop stops stopped stopping quit quits quitting cease ceases ceased ceasing")},
    **{w: "go on" for w in words_of("keep keeps kept keeping continue continues continued continuing")},
    **{w: "begin" for w in words_of("start starts started starting begin begins began begun beginning")},
}


def asked_otherwise(a: Question, b: Question) -> str | None:
    """Why two questions that share their words ask otherwise, or None: a modal, a phase, a time from now."""
    x, y = _modality(a), _modality(b)
    if x and y and x != y and ((_yes_no(a) and _yes_no(b)) or {x, y} == {"duty", "leave"}):
        return "modality differs"
    x, y = _phase(a), _phase(b)
    if x and y and x != y:
        return "phase differs"
    if time_differs(a, b):  # "this year's" / "last year's"
        return "time differs"
    return None


def said_as_modal(word: str, other: Question) -> bool:
    """A word that says the modal the other question asks with its own: "Is it *necessary* to ..." /
    "Do I need to ...", "Is it *compulsory* to ..." / "Must I ...": framing, as "Is it safe to" is for "Can I"."""
    found = _MODALITY.get(word)
    return found is not None and found == _modality(other)


def _yes_no(question: Question) -> bool:
    return question.words[:1] != () and question.words[0] in _OPENERS


def _modality(question: Question) -> str | None:
    words = question.words
    start = 2 if words[:1] != () and words[0] in _REQUEST and words[1:2] == ("you",) else 0
    for at in range(start, len(words)):
        word = words[at]
        if word == "to" and at and words[at - 1] in _DUTY_VERBS:
            return "duty"
        found = _MODALITY.get(word)
        if found is not None and not (at and words[at - 1] in DETERMINERS):  # "a can of beans"
            return found
    return None


def _phase(question: Question) -> str | None:
    words = question.words
    for at, word in enumerate(words[:-1]):
        following = words[at + 1]
        if word in _PHASES and following.endswith("ing") and len(following) > 4:
            return _PHASES[word]
    return None
