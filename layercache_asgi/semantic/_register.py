"""How people type a question, put back into plain words before the guard compares it.

General chat and informal register, not any one domain's: courtesies that wrap a question
("sorry to bother you", "thanks in advance"), shorthand that would read as a number or a
negation ("how 2", "b4"), informal spellings with a standard form ("gotta", "gimme",
"tmrw", "footy"), and the time words that make a present-tense question ask about the future
("Is rain forecast for tomorrow?" asks what "Will it rain tomorrow?" asks).
"""

from __future__ import annotations

import re

from ._casual import casual
from ._chatter import chatter
from ._everyday import everyday
from ._hinted import Rule, rewrite
from ._negating import negating
from ._regional import regional

__all__ = ["FUTURE_TIME", "INFORMAL", "plain"]

_ASKING_SO = "(?:silly|stupid|dumb|basic|obvious|naive|newbie|beginner|simple)"
# Courtesies that wrap a question without changing it. "on earth" only as an intensifier after a
# question word: "the largest desert on Earth" keeps its Earth.
_POLITE = re.compile(
    r"\b(?:sorry to (?:trouble|bother) you|thanks?(?: you)?(?: (?:a lot|so much|very much|in advance))?|"
    r"many thanks|would you happen to know|i(?:'d| would) be (?:grateful|thankful) if you could|"
    r"i was wondering|quick question|hope you(?:'re| are) (?:well|doing well)|if you don'?t mind|"
    r"when you (?:get|have) a (?:chance|moment)|any help (?:would be|is) appreciated|"
    r"would you mind(?: (?:telling|showing|explaining to|letting) me)?|(?:excuse|pardon) me|"
    r"(?:may|can|could|might) i ask(?: you)?|(?:do|does) (?:you|anyone|anybody|someone|somebody) know|"
    r"i(?:'d| would)? (?:really )?(?:like|love|want|need) to (?:know|ask|find out)|"
    r"i(?:'d| would)? (?:really |greatly )?appreciate (?:it )?if you could|"
    r"good (?:morning|afternoon|evening|day)|the (?:heck|hell|fuck)|if (?:at all )?possible|"
    # Excuses for asking: "sorry if this is a silly question", "I hate to bother you", "pardon the interruption".
    r"(?:sorry|apologies|forgive me) (?:if|for) (?:this is |it'?s )?(?:a |the |such a |asking )?"
    rf"(?:{_ASKING_SO} )?(?:question|one|obvious|asking)|"
    rf"(?:this|it) (?:might|may|could) be a (?:{_ASKING_SO} )?question|"
    r"i hate to (?:bother|trouble|disturb|ask) you|sorry to (?:disturb|interrupt) you|"
    r"(?:pardon|sorry for|apologies for) the (?:interruption|intrusion|bother)|"
    r"if it'?s not too much (?:trouble|bother|to ask)|i was hoping (?:you could|someone could|to find out)|"
    r"(?:do|would) you happen to know|could you do me a favou?r and|"
    r"i(?:'d| would) be (?:most |very |really |so )?(?:grateful|thankful) for "
    r"(?:some )?(?:advice|help|guidance|tips) on)\b",
    re.IGNORECASE,
)
_DETERMINER = r"(?:a|an|the|this|that|these|those|my|your|ur|his|her|its|our|their|me|you|u|him|them|us)\b"
_TAKES_TO = (
    "ok|okay|safe|time|often|much|early|late|soon|allowed|supposed|normal|legal|possible|fine|wise|tryna|trying|able|"
    "how|ways?"
)
_TAKES_FOR = (
    "bad|good|safe|ok|okay|healthy|toxic|dangerous|poisonous|harmful|suitable|ready|enough|sub|substitute|"
    "replacement|alternative|time|study|studying|prepare|prep|tips|ideas|recipe|visa|need|needed|required|apply|pay"
)
# Nouns that a number counts: after them "2" / "4" stays a number ("safe 4 days", "ok 2 hours later").
_COUNTED = r"(?:\w+s|people|times|more|less|or|and|x|am|pm|percent|%)\b"
_UNWISE = "(?:dumb|stupid|silly|foolish|unwise)"
# One word (an adjective, after an intensifier) that ends the sentence: "comes out (too) dense."
_LAST_WORD = r"(?:(?:too|so|really|very|quite|always) )?[a-z]+\s*(?:[.?!,]|$)"
_INTENSIFIER = re.compile(r"\b(what|where|why|how|who|which) on earth\b", re.IGNORECASE)
# Chat shorthand that would read as a number or a negation: "how 2 ...", "how long 2 wait", "b4", "no. of".
# Each rule: (hint, pattern, replacement); the hint, in lower case, is in every text the pattern matches.
_SHORTHAND: tuple[Rule, ...] = (
    (
        " 2",
        re.compile(r"\b(how|long|want|need|going|have|got|way|ways|where|what|try|trying|able|hard|easy) 2\b", re.I),
        r"\1 to",
    ),
    # "2" / "4" before a determiner or pronoun is "to" / "for": no count stands there ("2 the airport", "4 a refund").
    (" 2 ", re.compile(rf"(?<=[a-z] )2 (?={_DETERMINER})", re.IGNORECASE), "to "),
    (" 4 ", re.compile(rf"(?<=[a-z] )4 (?={_DETERMINER})", re.IGNORECASE), "for "),
    # ... and after a word that asks "to" or "for", unless a count's noun follows: "ok 2 go", "bad 4 dogs",
    # not "good 4 days".
    (" 2 ", re.compile(rf"\b({_TAKES_TO}) 2 (?!{_COUNTED})", re.IGNORECASE), r"\1 to "),
    (" 4 ", re.compile(rf"\b({_TAKES_FOR}) 4 (?!{_COUNTED})", re.IGNORECASE), r"\1 for "),
    ("b4", re.compile(r"\bb4\b", re.IGNORECASE), "before"),
    # "the best time to go to Iceland" is the best time to visit it (a place's name follows; not "go to bed").
    (" to ", re.compile(r"\b(?:go|goes|went|going) to (?=[A-Z])"), "visit "),
    # "What's the process for applying..." asks "how to apply".
    ("what", re.compile(r"\bwhat(?:'s| is) the (?:process|procedure|steps?) (?:for|of|to)\b", re.IGNORECASE), "how to"),
    ("what", re.compile(r"\bwhat (?:does|would|will) it take to\b", re.IGNORECASE), "how to"),
    ("no.", re.compile(r"\bno\.\s*of\b", re.IGNORECASE), "number of"),
    ("wknd", re.compile(r"\bwknds?\b", re.IGNORECASE), "weekends"),
    ("4 ", re.compile(r"\b4 (me|you|u|my|your)\b", re.IGNORECASE), r"for \1"),
    ("2m", re.compile(r"\b2(?:moro|morrow|mrw)\b", re.IGNORECASE), "tomorrow"),
    ("2day", re.compile(r"\b2day\b", re.IGNORECASE), "today"),
    ("1", re.compile(r"\b(some|any|every|no)1\b", re.IGNORECASE), r"\1one"),
    ("l8r", re.compile(r"\bl8r\b", re.IGNORECASE), "later"),
    ("w8", re.compile(r"\bw8\b", re.IGNORECASE), "wait"),
    ("gr8", re.compile(r"\bgr8\b", re.IGNORECASE), "great"),
    ("4ever", re.compile(r"\b4ever\b", re.IGNORECASE), "forever"),
    ("b/c", re.compile(r"\bb/c\b", re.IGNORECASE), "because"),
    ("2nite", re.compile(r"\b2nite\b", re.IGNORECASE), "tonight"),
)
# Idioms said in plain words. Each holds a word of _IDIOM_WORDS, whose one search skips them all
# for most questions (parsing a new question stays as cheap as before).
_IDIOM_WORDS = re.compile(
    r"\b(?:all the time|constantly|every single time|most recent|newest|is it|up with|non|can'?t|cannot|can not|"
    r"don'?t|do not|dunno|idk|most effective|optimal|ideal|keep|keeps|keeping|"
    r"(?:come|comes|came|turn|turns|turned|end|ends|ended) (?:out|up))\b",
    re.IGNORECASE,
)
_IDIOMS = (
    # Idioms with a one-word standard form: "loud all the time" complains of what "always loud" does.
    (re.compile(r"\b(?:all the time|constantly|every single time)\b", re.IGNORECASE), "always"),
    (re.compile(r"\b(?:most recent|newest)\b", re.IGNORECASE), "latest"),
    # "Is it a good idea to X?" asks "Should I X?"; "is it dumb / a bad idea to" asks one thing.
    (re.compile(r"\bis it (?:a )?good idea to\b", re.IGNORECASE), "should i"),
    (re.compile(rf"\bis it (?:a bad idea|a mistake|{_UNWISE}) to\b", re.IGNORECASE), "is it unwise to"),
    # "whats up with my eye twitching" asks why; "I can't figure out how to X" asks how to X (no negation).
    (re.compile(r"\bwhat(?:'?s| is) up with\b", re.IGNORECASE), "why"),
    (
        re.compile(
            r"\b(?:i )?(?:can'?t|cannot|can not|don'?t know|do not know|dunno|idk)(?: (?:figure|work) out)? how to\b",
            re.IGNORECASE,
        ),
        "how to",
    ),
    # "non refundable" is the one word "non-refundable" (an opposite of "refundable").
    (re.compile(r"\bnon (?=[a-z]{4})", re.IGNORECASE), "non-"),
    # "the most effective way to learn" asks for "the best way".
    (re.compile(r"\b(?:most effective|optimal|ideal)\s+(?=(?:way|method|approach)s?\b)", re.IGNORECASE), "best "),
    # "My bread comes out dense." says it is dense: come / turn / end out or up before a last adjective.
    (re.compile(rf"\b(?:come|turn|end) (?:out|up) (?={_LAST_WORD})", re.IGNORECASE), "be "),  # "does it come out..."
    (re.compile(rf"\b(?:comes|turns|ends) (?:out|up) (?={_LAST_WORD})", re.IGNORECASE), "is "),
    (re.compile(rf"\b(?:came|turned|ended) (?:out|up) (?={_LAST_WORD})", re.IGNORECASE), "was "),
    # "keep avocados from browning" is "stop them browning".
    (re.compile(r"\bkeep(s|ing)? ((?:\w+ ){1,3})from (?=\w+ing\b)", re.IGNORECASE), r"stop\1 \2from "),
)

# What each shorthand above holds (a digit, "go", "what", "no.", "wknd", "b/c"): most questions hold none.
_SHORTHAND_SIGNS = re.compile(r"\d|\bno\.|\b(?:go|goes|went|going|what|wknds?|b/c)\b", re.IGNORECASE)

# Informal and chat spellings -> their standard words (lower case, one token each).
INFORMAL = {
    "gotta": "have to",
    "outta": "out of",
    "lotta": "lot of",
    "lotsa": "lots of",
    "shoulda": "should have",
    "coulda": "could have",
    "woulda": "would have",
    "aint": "is not",
    "prolly": "probably",
    "probs": "probably",
    "ofc": "of course",
    "obv": "obviously",
    "obvs": "obviously",
    "lmk": "let me know",
    "irl": "in real life",
    "diy": "do it yourself",
    "peeps": "people",
    "fam": "family",
    "hubby": "husband",
    "xmas": "christmas",
    "newbie": "beginner",
    "noob": "beginner",
    "vid": "video",
    "vids": "videos",
    "pix": "pictures",
    "mic": "microphone",
    "cuppa": "cup of tea",
    "loo": "toilet",
    "hafta": "have to",
    "gimme": "give me",
    "lemme": "let me",
    "kinda": "kind of",
    "sorta": "sort of",
    "dunno": "do not know",
    "tho": "though",
    "thru": "through",
    "ya": "you",
    "yall": "you",
    # Modals with their vowels dropped, as texted.
    "shd": "should",
    "shld": "should",
    "shud": "should",
    "wud": "would",
    "wld": "would",
    "cud": "could",
    "cld": "could",
    "wot": "what",
    "wht": "what",
    "whr": "where",
    "thnx": "thanks",
    "thanx": "thanks",
    "wut": "what",
    "bout": "about",
    "coz": "because",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmw": "tomorrow",
    "tonite": "tonight",
    "tryna": "trying to",
    "nite": "night",
    "rn": "right now",
    "asap": "quickly",  # in a question it asks for a fast way
    "idk": "i do not know",
    "tbh": "honestly",
    "imo": "in my opinion",
    "fyi": "for your information",
    "aka": "also known as",
    "smth": "something",
    "sth": "something",
    "ty": "thank you",
    "wk": "week",
    "wks": "weeks",
    "footy": "football",
    "telly": "television",
    "brekkie": "breakfast",
    "vacay": "vacation",
    "hols": "holidays",
    "comfy": "comfortable",
    "bike": "bicycle",
    "cig": "cigarette",
    "ciggie": "cigarette",
}

# Common phrasal verbs and set phrases WordNet does not list as synonyms of the one-word verb they
# mean: (forms of the verb: base, -s, past, -ing; the words after it; the same for what it means). A verb whose past
# is its base (set, put, cut) lists the base last, so "set up" reads as the base (the later key wins).
_RETURN = ("return returns returned returning", "")
_LOG = ("log logs logged logging", "")
_CONTACT = ("contact contacts contacted contacting", "")
_GET = "get gets got getting"
_PHRASES = (
    ("send sends sent sending", "back", *_RETURN),
    ("give gives gave giving", "back", *_RETURN),
    ("bring brings brought bringing", "back", *_RETURN),
    ("use uses used using", "instead of", "substitute substitutes substituted substituting", "for"),
    ("sign signs signed signing", "out", "log logs logged logging", "out"),
    ("sign signs signed signing", "in", "log logs logged logging", "in"),
    ("change changes changed changing", "the name of", "rename renames renamed renaming", ""),
    ("reach reaches reached reaching", "out to", *_CONTACT),
    ("set sets setting set", "up", "configure configures configuring configure", ""),
    (_GET, "in touch with", *_CONTACT),
    ("call calls called calling", "in sick", "report reports reported reporting", "sick"),
    *((_GET, f"{whose} money back", _GET, "a refund") for whose in ("my", "your", "the", "our", "their")),
    ("come comes came coming", "back", *_RETURN),
    ("go goes went going", "back", *_RETURN),
    ("pay pays paid paying", "back", "repay repays repaid repaying", ""),
    ("hand hands handed handing", "in", "submit submits submitted submitting", ""),
    ("sign signs signed signing", "up for", "register registers registered registering", "for"),
    ("look looks looked looking", "into", "investigate investigates investigated investigating", ""),
    ("put puts putting put", "up with", "tolerate tolerates tolerating tolerate", ""),
    ("print prints printed printing", "out", "print prints printed printing", ""),
    ("cash cashes cashed cashing", "out", "withdraw withdraws withdrew withdrawing", ""),
    ("cut cuts cutting cut", "back on", "reduce reduces reducing reduce", ""),
    ("cut cuts cutting cut", "down on", "reduce reduces reducing reduce", ""),
    ("chill chills chilled chilling", "out", "relax relaxes relaxed relaxing", ""),
    ("freak freaks freaked freaking", "out", "panic panics panicked panicking", ""),
)


def _phrase_table() -> dict[str, str]:
    table = {}
    for verbs, rest, targets, target_rest in _PHRASES:
        for verb, target in zip(verbs.split(), targets.split(), strict=True):
            table[f"{verb} {rest}"] = f"{target} {target_rest}".strip()
    return table


_PHRASE_TABLE = _phrase_table()
# One pass over the text for every phrase (longest first, so "sign up for" wins over "sign up").
_PHRASE = re.compile(
    r"\b(?:" + "|".join(re.escape(k) for k in sorted(_PHRASE_TABLE, key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def _one_word(match: re.Match[str]) -> str:
    return _PHRASE_TABLE[" ".join(match.group().lower().split())]


# Words that put a question in the future whatever its verb's tense.
FUTURE_TIME = frozenset(["tomorrow", "tonight", "upcoming", "forecast", "forecasts", "forecasted", "predicted"])


def _spell_out(text: str) -> str:
    """The shorthand rules in order. A rule whose hint is not in the (ASCII) text cannot match
    it: a substring test skips its regex scan (a digit or "what" woke them all, 20 scans)."""
    return rewrite(text, _SHORTHAND)


def plain(text: str) -> str:
    """``text`` without courtesies, its chat shorthand spelt out."""
    text = _INTENSIFIER.sub(r"\1", _POLITE.sub(" ", everyday(negating(casual(regional(chatter(text)))))))
    if _SHORTHAND_SIGNS.search(text):
        text = _spell_out(text)
    if _IDIOM_WORDS.search(text):
        for pattern, replacement in _IDIOMS:
            text = pattern.sub(replacement, text)
    return _PHRASE.sub(_one_word, text)
