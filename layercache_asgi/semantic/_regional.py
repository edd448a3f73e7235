"""British and American words for one thing, and the words that mean different things on each side.

WordNet pairs most spelling variants (colour / color, organise / organize) and many words (petrol / gasoline,
nappy / diaper), but not lorry / truck, tap / faucet or solicitor / lawyer, and it pairs some that mislead: a British
"biscuit" is an American cookie, an American biscuit is a scone; a "chemist" is a pharmacist in Britain and a
scientist in America; British "pants" are underwear. Here:

- ``SAME``: single words one side uses for the other's (curated, one thing on both sides: "trainers" as shoes, in the
  plural; a "flat" only as a home, by the phrase rule below); the word table (``_lexicon.py``) reads them as synonyms;
- ``APART``: WordNet synonyms that an answer could not serve on both sides; the word table unlinks them and reads
  them as two of one kind, so that word vectors do not pair them either, and left unpaired they refuse
  (``_weigh.py``: the sentence model reads "shorten my pants" as "shorten my trousers");
- ``regional``: phrases put into one form before the guard compares a question (zip code / postcode, car park /
  parking lot, A&E / emergency room), each rule behind a hint (``_hinted.py``).

When in doubt a pair is left out: a false hit serves a wrong answer, a false miss costs one upstream call.
"""

from __future__ import annotations

import re

from ._hinted import Rule, rewrite

__all__ = ["APART", "SAME", "apart", "regional"]

SAME: tuple[tuple[str, str], ...] = (
    ("lorry", "truck"),
    ("motorway", "highway"),
    ("motorway", "freeway"),
    ("solicitor", "lawyer"),
    ("solicitor", "attorney"),
    ("tap", "faucet"),
    ("trainers", "sneakers"),
    ("hob", "stovetop"),
    ("hob", "cooktop"),
    ("cooker", "stove"),
    ("lead", "leash"),
    ("bonnet", "hood"),
    ("sweets", "candy"),
    ("lift", "elevator"),
    ("dummy", "pacifier"),
    ("gearbox", "transmission"),
    ("indicator", "blinker"),
    ("postbox", "mailbox"),
    ("plaster", "band-aid"),
)

APART: tuple[tuple[str, str], ...] = (
    ("biscuit", "cookie"),  # an American biscuit is a scone
    ("chemist", "pharmacist"),  # an American chemist is a scientist
    ("vest", "waistcoat"),  # a British vest is an undershirt
    ("vest", "undershirt"),  # an American vest is a waistcoat
    ("pants", "trousers"),  # British pants are underwear
    ("pant", "trouser"),  # their base forms ("a pant leg")
    ("entree", "main_course"),  # a French or British entree is a starter
    ("cot", "crib"),  # an American cot is a camp bed
    ("gas", "petrol"),  # a gas leak at home is no petrol leak (gas / gasoline, petrol / gasoline stay)
    ("purse", "handbag"),  # a British purse is a small wallet
    ("chips", "fries"),  # American chips are crisps
    ("chips", "french_fries"),
)

_APART_WORDS = frozenset(pair for x, y in APART for pair in ((x, y), (y, x)))


def apart(x: str, y: str) -> bool:
    """Two words of ``APART``, as written or in the plural: the sentence model must not weigh them alike either."""
    return any((p, q) in _APART_WORDS for p in (x, x.removesuffix("s")) for q in (y, y.removesuffix("s")))


_DET = r"(?:my|your|his|her|our|their|a|an|the|this|that|new|old)"
# "my mobile" is a phone unless a noun follows that a mobile app or network has.
_NOT_PHONE = r"(?! (?:phones?|apps?|data|network|version|site|website|games?|browser|devices?|hotspot|banking|number))"
_VACCINES = r"flu|covid|covid-19|booster|tetanus|mmr|hpv|shingles|rabies|typhoid|hepatitis|measles|travel|pneumonia"
_FLAT = re.compile(
    r"\b(a|my|your|our|their|his|her|the|this|that|rented|new|studio|council|shared|furnished|cheap) flat(s?)\b"
    r"(?=\s*(?:$|[?.!,;:]|(?:in|on|at|with|near|for|to|and|or|is|are|was|were|has|have|that|which|i|we)\b))",
    re.IGNORECASE,
)
_BAGS = r"(?:luggage|bags?|baggage|suitcases?)"
_THE_POST_ARRIVES: Rule = (
    "post",
    re.compile(r"\b(the|my|your|our) post (?=(?:\w+ )?(?:arrives?|comes?|gets? delivered)\b)", re.IGNORECASE),
    r"\1 mail ",
)
_RULES: tuple[Rule, ...] = (
    # Phones: "cell phone", "cellphone", "cellular phone", "my mobile" are a mobile phone.
    ("cell", re.compile(r"\bcell(?:ular)?[- ]?phone(s?)\b", re.IGNORECASE), r"mobile phone\1"),
    ("cell", re.compile(r"\bcell (number)\b", re.IGNORECASE), r"mobile phone \1"),
    ("mobile", re.compile(rf"\b({_DET}) mobile(s?)\b{_NOT_PHONE}", re.IGNORECASE), r"\1 mobile phone\2"),
    # Addresses and post: a zip code is a postcode; "by post", posting a parcel or a letter, is mailing it.
    ("zip", re.compile(r"\bzip ?code(s?)\b", re.IGNORECASE), r"postcode\1"),
    ("post", re.compile(r"\bpost(?:al)? code(s?)\b", re.IGNORECASE), r"postcode\1"),
    ("post", re.compile(r"\bby post\b", re.IGNORECASE), "by mail"),
    (
        "post",
        re.compile(
            r"\bpost(s|ed|ing)? ((?:(?:a|an|the|my|your|this|some|\d+) )?(?:parcel|package|letter|card)s?)\b",
            re.IGNORECASE,
        ),
        r"mail\1 \2",
    ),
    # "the post arrives": the mail, not a post online.
    _THE_POST_ARRIVES,
    ("redirect", re.compile(r"\bredirect(s|ed|ing)? (my|your|our|the) (?:post|mail)\b", re.I), r"forward\1 \2 mail"),
    # A flat lived in is an apartment: after "a", "my", "rented"... and before no noun ("a flat tyre", "flat rate").
    ("flat", _FLAT, r"\1 apartment\2"),
    # Bins: a trash can, garbage can, rubbish bin or dustbin is a bin (not a recycling bin).
    (
        "can",
        re.compile(r"\b(?:trash|garbage)[- ]?can(s?)\b", re.IGNORECASE),
        r"bin\1",
    ),
    ("bin", re.compile(r"\b(?:rubbish|trash|garbage|waste|wheelie|dust) ?bin(s?)\b", re.IGNORECASE), r"bin\1"),
    # Places: a car park is a parking lot; A&E and the ER are the emergency room; a GP is a family doctor.
    ("car park", re.compile(r"\bcar parks?\b", re.IGNORECASE), "parking lot"),
    ("&", re.compile(r"\ba ?& ?e\b", re.IGNORECASE), "emergency room"),
    ("accident and", re.compile(r"\baccident and emergency\b", re.IGNORECASE), "emergency room"),
    ("emergency dep", re.compile(r"\bemergency department\b", re.IGNORECASE), "emergency room"),
    ("er", re.compile(r"\b(the|to|in|at) (?-i:ER)\b", re.IGNORECASE), r"\1 emergency room"),
    # GPs are doctors; GPS, and "gps" as typed, is satellite navigation.
    ("gp", re.compile(rf"\b({_DET}) (?:gp(?:'s)?|(?-i:GPs))(?!\w)", re.IGNORECASE), r"\1 family doctor"),
    ("general", re.compile(r"\bgeneral practitioner\b", re.IGNORECASE), "family doctor"),
    ("primary", re.compile(r"\bprimary care (?:doctor|physician)\b", re.IGNORECASE), "family doctor"),
    ("chemist", re.compile(rf"\b(at|to|from|in) ({_DET}|(?:a|the) local) chemist(?:'?s)?\b", re.I), r"\1 \2 pharmacy"),
    ("chemist", re.compile(r"\bchemist(?:'s)? shop\b", re.IGNORECASE), "pharmacy"),
    # Travel: carry-on luggage is hand luggage, a petrol station a gas station, a number plate a license plate.
    ("carry", re.compile(rf"\b({_DET}|in) carry[- ]?on(?: {_BAGS})?\b", re.IGNORECASE), r"\1 hand luggage"),
    ("cabin", re.compile(rf"\bcabin {_BAGS}\b", re.IGNORECASE), "hand luggage"),
    ("petrol", re.compile(r"\bpetrol stations?\b", re.IGNORECASE), "gas station"),
    # Gas a car burns is petrol: a gallon or litre of it, its tank, pedal or mileage, saving it ("gas" alone may heat
    # a house, and "gas prices" in Britain are the energy bill: those stay).
    ("gas", re.compile(r"\b(gallons?|liters?|litres?) of gas\b", re.IGNORECASE), r"\1 of petrol"),
    ("gas", re.compile(r"\bgas (tanks?|pedal|mileage)\b", re.IGNORECASE), r"petrol \1"),
    ("gas", re.compile(r"\b(save|saves|saving|saved) gas\b", re.IGNORECASE), r"\1 petrol"),
    ("number plate", re.compile(r"\bnumber plate(s?)\b", re.IGNORECASE), r"license plate\1"),
    ("zebra", re.compile(r"\bzebra crossing(s?)\b", re.IGNORECASE), r"crosswalk\1"),
    # A jab after a vaccine's name is a shot ("flu jab"; a boxer's jab has no vaccine before it).
    ("jab", re.compile(rf"\b({_VACCINES}) jab(s?)\b", re.IGNORECASE), r"\1 shot\2"),
    # Work and money: annual leave is vacation days; a bank holiday is a public holiday; paying in a cheque deposits it.
    ("annual leave", re.compile(r"\b(?:days of )?annual leave\b", re.IGNORECASE), "vacation days"),
    ("bank holiday", re.compile(r"\bbank holiday(s?)\b", re.IGNORECASE), r"public holiday\1"),
    ("che", re.compile(r"\bpa(?:y|ys|id|ying) in ((?:a|the|my|this) (?:cheque|check)s?)\b", re.I), r"deposit \1"),
    # The kitchen: minced meat is ground meat; cling film is plastic wrap; the flours, sugars and creams by name.
    ("minced", re.compile(r"\bminced (beef|pork|lamb|meat|turkey|chicken)\b", re.IGNORECASE), r"ground \1"),
    ("cling", re.compile(r"\bcling ?film\b", re.IGNORECASE), "plastic wrap"),
    ("icing", re.compile(r"\bicing sugar\b", re.IGNORECASE), "powdered sugar"),
    ("plain flour", re.compile(r"\bplain flour\b", re.IGNORECASE), "all-purpose flour"),
    ("double cream", re.compile(r"\bdouble cream\b", re.IGNORECASE), "heavy cream"),
    ("bicarbonate", re.compile(r"\bbicarbonate of soda\b", re.IGNORECASE), "baking soda"),
    ("washing", re.compile(r"\bwashing[- ]up liquid\b", re.IGNORECASE), "dish soap"),
    ("kitchen roll", re.compile(r"\bkitchen roll\b", re.IGNORECASE), "paper towel"),
    ("fizzy", re.compile(r"\bfizzy drinks?\b", re.IGNORECASE), "soda"),
)


def regional(text: str) -> str:
    """``text`` with the British and American phrases above in one form."""
    return rewrite(text, _RULES)
