"""Derive the guard's word table from WordNet 3.0 (Debian's ``wordnet-base``).

    apt-get install wordnet-base
    python scripts/build_lexicon.py [--wordnet /usr/share/wordnet]

Writes ``layercache_asgi/semantic/data/lexicon.json.gz`` and WordNet's licence next to it.
The file is generated once and committed: nothing is read from WordNet or the network at
run time. What it holds (see ``layercache_asgi/semantic/_lexicon.py`` for how it is read):

- ``synsets``: word -> numbers of the synonym sets it belongs to, only its most frequent
  senses (:data:`SENSES`), so a rare sense does not make "buy" a synonym of "bribe";
- ``words``: the other known single words (no synonym in the table), for the typo check
  ("is the corrected word another real word?");
- ``antonyms``: word pairs WordNet marks as opposites, widened to the synonyms of both sides
  in the opposed senses (enable/disable, so also enable/disenable...);
- ``related``: a verb and its action noun (register/registration, install/installation),
  which say the same thing in another voice, an adjective and its noun (australian/australia),
  and an adjective and the attribute it measures in its first senses (hot/temperature, far/distance);
- ``up``: verb -> numbers of the hypernyms of its first senses (drink -> consume, say ->
  express): a verb and its direct hypernym are close, if their vectors agree (not nouns:
  a circle is an ellipse, yet its area is not an ellipse's);
- ``kinds``: word -> numbers of the hypernyms of its first senses (nouns and verbs), so
  two words of one kind (Paris/Lyon, boil/fry) can be told apart from synonyms;
- ``exceptions``: irregular forms -> base form (went -> go, mice -> mouse).

Collocations of two or three words (``set_up``, ``turn_off``, ``last_name``) are in
``synsets`` only, joined by ``_``, so that "switch off" pairs with "turn off" and "get out"
with "exit"; they are no word of their own for the other tables.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "layercache_asgi" / "semantic" / "data"
POS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# Senses per part of speech that count for synonymy: WordNet lists a word's senses most
# frequent first; beyond the first few, the senses are rare enough to mislead.
SENSES = 3
# Senses whose hypernyms name the word's kind: two words of one kind that are not synonyms
# (Paris / Lyon, boil / fry) are different things, whatever their vectors say.
KIND_SENSES = 2
# Action nouns: the suffixes by which a noun names the act of its verb.
_ACTION_NOUN = re.compile(r"(?:tion|sion|ment|ance|ence|al|ing|ure|age|ery|ism)$")
_WORD = re.compile(r"[a-z][a-z\-]*[a-z]$")
_PHRASE = re.compile(r"[a-z]+(?:_[a-z]+){1,2}$")


def _index(wordnet: Path, pos: str) -> dict[str, list[int]]:
    """lemma -> synset offsets, most frequent sense first."""
    senses: dict[str, list[int]] = {}
    for line in (wordnet / f"index.{POS[pos]}").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        fields = line.split()
        lemma, pointer_count = fields[0], int(fields[3])
        offsets = fields[4 + pointer_count + 2 :]
        senses[lemma] = [int(o) for o in offsets]
    return senses


def _data(wordnet: Path, pos: str) -> dict[int, tuple[list[str], list[tuple[str, int, str, int, int]]]]:
    """offset -> (member words, pointers as (symbol, target offset, target pos, source word, target word))."""
    synsets: dict[int, tuple[list[str], list[tuple[str, int, str, int, int]]]] = {}
    for line in (wordnet / f"data.{POS[pos]}").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        fields = line.split(" | ")[0].split()
        offset, count = int(fields[0]), int(fields[3], 16)
        words = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]).lower() for i in range(count)]
        at = 4 + 2 * count
        pointers = []
        for _ in range(int(fields[at])):
            symbol, target, target_pos, source_target = fields[at + 1 : at + 5]
            pointers.append((symbol, int(target), target_pos, int(source_target[:2], 16), int(source_target[2:], 16)))
            at += 4
        synsets[offset] = (words, pointers)
    return synsets


def build(wordnet: Path) -> dict[str, object]:
    synonyms: dict[str, set[tuple[str, int]]] = defaultdict(set)
    vocabulary: set[str] = set()
    antonyms: set[tuple[str, str]] = set()
    related: set[tuple[str, str]] = set()
    kinds: dict[str, set[tuple[str, int]]] = defaultdict(set)
    up: dict[str, set[tuple[str, int]]] = defaultdict(set)
    members: dict[tuple[str, int], list[str]] = {}
    for pos in POS:
        index, data = _index(wordnet, pos), _data(wordnet, pos)
        for offset, (words, _) in data.items():
            members[(pos, offset)] = words
        for lemma, offsets in index.items():
            if _PHRASE.match(lemma):
                synonyms[lemma].update((pos, offset) for offset in offsets[:SENSES])
                continue
            if not _WORD.match(lemma):
                continue
            vocabulary.add(lemma)
            for offset in offsets[:SENSES]:
                synonyms[lemma].add((pos, offset))
            if pos in "nv":
                for offset in offsets[:SENSES] if pos == "v" else ():  # nouns: a circle is not an ellipse
                    up[lemma].update((pos, parent) for parent in _parents(data, offset))
                for offset in offsets[:KIND_SENSES]:
                    parents = _parents(data, offset)
                    kinds[lemma].update((pos, parent) for parent in parents)
                    if pos == "n":  # Sweden: Scandinavian country, then European country
                        kinds[lemma].update((pos, grand) for parent in parents for grand in _parents(data, parent))
        if pos == "a":
            antonyms |= _indirect_antonyms(data)
        for _offset, (words, pointers) in data.items():
            for symbol, target, target_pos, source, target_word in pointers:
                target_pos = "a" if target_pos == "s" else target_pos
                if symbol == "!":  # antonym: widen to both synsets' members
                    for x in words:
                        for y in data_members(members, target_pos, target, 0, wordnet):
                            if _WORD.match(x) and _WORD.match(y) and x != y:
                                antonyms.add((min(x, y), max(x, y)))
                elif symbol == "\\" and pos == "a" and source and target_word and target_pos == "n":
                    adjective, noun = words[source - 1], _target_word(wordnet, target_pos, target, target_word)
                    if _WORD.match(adjective) and noun and _WORD.match(noun):
                        related.add((adjective, noun))  # pertainym: australian / australia
                elif symbol == "=" and pos == "a" and target_pos == "n":  # attribute: hot / temperature
                    for adjective in words:
                        if _WORD.match(adjective) and offset in index.get(adjective, [])[:SENSES]:
                            for noun in data_members(members, "n", target, 0, wordnet):
                                if _WORD.match(noun):
                                    related.add((adjective, noun))
                elif symbol == "+" and pos == "v" and target_pos == "n" and source and target_word:
                    verb, noun = words[source - 1], _target_word(wordnet, target_pos, target, target_word)
                    if _WORD.match(verb) and noun and _WORD.match(noun) and _ACTION_NOUN.search(noun):
                        related.add((verb, noun))
    return _pack(synonyms, vocabulary, antonyms, related, _exceptions(wordnet), kinds, up)


def _parents(data: dict[int, tuple[list[str], list[tuple[str, int, str, int, int]]]], offset: int) -> list[int]:
    return [target for symbol, target, *_ in data[offset][1] if symbol in ("@", "@i")]


def _indirect_antonyms(
    data: dict[int, tuple[list[str], list[tuple[str, int, str, int, int]]]],
) -> set[tuple[str, str]]:
    """Adjective clusters: a satellite (moist) opposes its head's antonym (dry) as the head (wet) does."""
    found: set[tuple[str, str]] = set()
    for _words, pointers in data.values():
        opposed = [target for symbol, target, *_ in pointers if symbol == "!"]
        satellites = [target for symbol, target, *_ in pointers if symbol == "&"]
        for other in opposed:
            for satellite in satellites:
                for x in data[satellite][0]:
                    for y in data[other][0]:
                        if _WORD.match(x) and _WORD.match(y) and x != y:
                            found.add((min(x, y), max(x, y)))
    return found


_DATA_CACHE: dict[str, dict[int, tuple[list[str], list[tuple[str, int, str, int, int]]]]] = {}


def _synset(wordnet: Path, pos: str, offset: int) -> list[str]:
    if pos not in _DATA_CACHE:
        _DATA_CACHE[pos] = _data(wordnet, pos)
    return _DATA_CACHE[pos][offset][0]


def _target_word(wordnet: Path, pos: str, offset: int, word: int) -> str | None:
    words = _synset(wordnet, pos, offset)
    return words[word - 1] if 0 < word <= len(words) else None


def data_members(
    members: dict[tuple[str, int], list[str]], pos: str, offset: int, word: int, wordnet: Path
) -> list[str]:
    words = members.get((pos, offset)) or _synset(wordnet, pos, offset)
    return words if word == 0 else words[word - 1 : word]


def _exceptions(wordnet: Path) -> dict[str, str]:
    table: dict[str, str] = {}
    for pos in POS:
        for line in (wordnet / f"{POS[pos]}.exc").read_text(encoding="latin-1").splitlines():
            fields = line.split()
            if len(fields) >= 2 and _WORD.match(fields[0]) and _WORD.match(fields[1]):
                table.setdefault(fields[0], fields[1])
    return table


def _pack(
    synonyms: dict[str, set[tuple[str, int]]],
    vocabulary: set[str],
    antonyms: set[tuple[str, str]],
    related: set[tuple[str, str]],
    exceptions: dict[str, str],
    kinds: dict[str, set[tuple[str, int]]],
    up: dict[str, set[tuple[str, int]]],
) -> dict[str, object]:
    # One numbering for every table. A word's own senses are kept when another word shares
    # them (synonyms) or has them as its parent (a hypernym: drink -> consume).
    parents = {sense for found in up.values() for sense in found}
    sharing: dict[tuple[str, int], int] = defaultdict(int)
    for senses in synonyms.values():
        for sense in senses:
            sharing[sense] += 1
    numbers: dict[tuple[str, int], int] = {}

    def numbered(found: set[tuple[str, int]]) -> list[int]:
        return sorted(numbers.setdefault(sense, len(numbers)) for sense in sorted(found))

    table: dict[str, list[int]] = {}
    for word in sorted(synonyms):
        kept = {sense for sense in synonyms[word] if sharing[sense] > 1 or sense in parents}
        if kept:
            table[word] = numbered(kept)
    kind_table = {word: numbered(found) for word, found in sorted(kinds.items()) if found}
    up_table = {word: numbered(found) for word, found in sorted(up.items()) if found}
    return {
        "kinds": kind_table,
        "up": up_table,
        "source": "WordNet 3.0 (Debian wordnet-base), scripts/build_lexicon.py",
        "senses_per_pos": SENSES,
        "synsets": table,
        "words": " ".join(sorted(vocabulary - set(table))),
        "antonyms": " ".join(f"{a}/{b}" for a, b in sorted(antonyms)),
        "related": " ".join(f"{a}/{b}" for a, b in sorted(related)),
        "exceptions": " ".join(f"{a}/{b}" for a, b in sorted(exceptions.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--licence", type=Path, default=Path("/usr/share/doc/wordnet-base/copyright"))
    args = parser.parse_args()
    lexicon = build(args.wordnet)
    OUT.mkdir(parents=True, exist_ok=True)
    text = json.dumps(lexicon, separators=(",", ":"), sort_keys=True).encode()
    # mtime=0: the same WordNet gives byte-identical output.
    with gzip.GzipFile(OUT / "lexicon.json.gz", "wb", compresslevel=9, mtime=0) as out:
        out.write(text)
    shutil.copyfile(args.licence, OUT / "WORDNET-LICENSE.txt")
    size = (OUT / "lexicon.json.gz").stat().st_size
    print(f"{len(lexicon['synsets'])} words with synonyms, {size / 1e6:.2f} MB compressed")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
