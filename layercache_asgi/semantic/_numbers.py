"""Numbers and units as the guard compares them: number words, ordinals, units and currencies in one spelling.

"10 km" and "10 m" are different numbers, "$100" and "100 US dollars" the same one: a unit is part of its number.
"""

from __future__ import annotations

import re

__all__ = [
    "CURRENCY_OF",
    "NATIONAL_CURRENCY",
    "NUMBER_WORDS",
    "ORDINALS",
    "SYMBOLS",
    "UNITS",
    "UNITS_BEFORE",
    "bare_number",
    "number_of",
]


def _split(text: str) -> list[str]:
    return text.split()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        _split(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen twenty"
        )
    )
}
NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70"})
NUMBER_WORDS.update({"eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000", "million": "1e6"})
NUMBER_WORDS.update({"billion": "1e9", "dozen": "12", "twice": "2", "once": "1", "single": "1"})
ORDINALS = {
    w: str(i + 1)
    for i, w in enumerate(
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
    )
}
# Units and currency signs written as symbols count with the number they qualify.
SYMBOLS = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy", "%": "percent"}
UNITS_BEFORE = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy"}
# A unit after a number is part of it: "10 km" and "10 m" are different numbers. Spellings of
# one unit share a symbol; currencies are there so "100 USD to EUR" keeps its amount's unit.
UNITS = {
    **{w: "km" for w in _words("km kms kilometer kilometers kilometre kilometres")},
    **{w: "m" for w in _words("m meter meters metre metres")},
    **{w: "cm" for w in _words("cm centimeter centimeters centimetre centimetres")},
    **{w: "mm" for w in _words("mm millimeter millimeters millimetre millimetres")},
    **{w: "mi" for w in _words("mi mile miles")},
    **{w: "kg" for w in _words("kg kgs kilo kilos kilogram kilograms")},
    **{w: "g" for w in _words("g gram grams")},
    **{w: "lb" for w in _words("lb lbs pound pounds")},
    **{w: "oz" for w in _words("oz ounce ounces")},
    **{w: "l" for w in _words("l liter liters litre litres")},
    **{w: "ml" for w in _words("ml milliliter milliliters millilitre millilitres")},
    **{w: "gb" for w in _words("gb gigabyte gigabytes")},
    **{w: "mb" for w in _words("mb megabyte megabytes")},
    **{w: "tb" for w in _words("tb terabyte terabytes")},
    **{w: "s" for w in _words("sec secs seconds")},
    **{w: "min" for w in _words("min mins minute minutes")},
    **{w: "h" for w in _words("h hr hrs hour hours")},
    **{w: "d" for w in _words("day days")},
    **{w: "wk" for w in _words("wk wks week weeks")},
    **{w: "mo" for w in _words("month months")},
    **{w: "y" for w in _words("yr yrs year years")},
    **{w: "percent" for w in _words("percent per-cent")},
    **{w: "c" for w in _words("c celsius")},
    **{w: "f" for w in _words("f fahrenheit")},
}
CURRENCY_OF = {
    **{w: "usd" for w in _words("usd dollar dollars buck bucks")},
    **{w: "eur" for w in _words("eur euro euros")},
    **{w: "jpy" for w in _words("jpy yen")},
    **{w: "inr" for w in _words("inr rupee rupees")},
    **{w: "chf" for w in _words("chf franc francs")},
    **{w: "cny" for w in _words("cny yuan renminbi rmb")},
    **{w: w for w in _words("gbp cad aud nzd sek nok dkk mxn brl krw sgd hkd")},
}
NATIONAL_CURRENCY = {
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


def bare_number(word: str) -> bool:
    return word.replace(".", "", 1).isdigit()


def number_of(word: str) -> str | None:
    """A number word, ordinal or numeral in one spelling ("twelve", "12th", "1,200" -> "12", "12", "1200"), or None."""
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    if word in ORDINALS:
        return ORDINALS[word]
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
