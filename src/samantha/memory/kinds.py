"""What a turn's nouns are kinds of, from WordNet, so a question can find the turns that
name examples of what it asks about: "what activities does Melanie do?" finds "I'm off to
go swimming", since swimming is a water sport, a sport, a recreation, an activity.

A turn's *kinds* are, for each noun in it, the words of its commonest sense (its
synonyms: "kids" gives "child") and of that sense's hypernyms up to :data:`DEPTH` steps
up ("violin" gives "bowed stringed instrument", "stringed instrument", "musical
instrument", ...). Recall searches them for questions that ask after several things
(:func:`asks_for_several`); one-answer questions are better served by the words alone
(measured on LoCoMo, see ``memory.recall.Weights``).

WordNet 3.0 is read from Debian's ``wordnet-base`` package (its data files, never a
download); ``make run`` installs it. Without it a turn has no kinds, and recall works as
before on words, meaning and time.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")  # Debian's wordnet-base
DEPTH = 6  # hypernym steps climbed from a noun's sense
MOST = 400  # words of kinds kept for one turn (LoCoMo's turns average 108; 120 lost recall)
_WORD = re.compile(r"[a-z]+")
# WordNet's own rules for a plural noun's singular (morphy), after its exception list
_SUFFIXES = (
    ("ses", "s"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("ies", "y"),
    ("s", ""),
)
# the question words after which a plural noun asks for several things
_ASKING = frozenset({"what", "which", "where", "many"})
_NOT_PLURAL = frozenset({"is", "was", "does", "has", "his", "this", "us", "its", "yes", "as"})
log = logging.getLogger(__name__)


class WordNet:
    """The noun part of WordNet: each lemma's senses, most frequent first, and each sense's
    words and hypernyms, read from the data file on demand and kept."""

    def __init__(self, folder: Path) -> None:
        self.senses: dict[str, list[int]] = {}
        with (folder / "index.noun").open(encoding="latin-1") as index:
            for line in index:
                if line.startswith(" "):  # the licence, at the top
                    continue
                fields = line.split()
                pointers = int(fields[3])
                self.senses[fields[0]] = [int(o) for o in fields[6 + pointers :]]
        self.exceptions: dict[str, str] = {}
        with (folder / "noun.exc").open(encoding="latin-1") as exc:
            for line in exc:
                fields = line.split()
                if len(fields) >= 2:
                    self.exceptions[fields[0]] = fields[1]
        self._data = (folder / "data.noun").open("rb")
        self._lock = threading.Lock()  # one file position, learning may run on threads
        self.synset = lru_cache(maxsize=65536)(self._synset)

    def lemma(self, word: str) -> str | None:
        """The noun ``word`` is a form of ("activities" -> "activity"), or None."""
        if word in self.exceptions:
            return self.exceptions[word]
        if word in self.senses:
            return word
        for ending, base in _SUFFIXES:
            if word.endswith(ending) and word[: -len(ending)] + base in self.senses:
                return word[: -len(ending)] + base
        return None

    def _synset(self, offset: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """A sense's words and its hypernyms' offsets (class and instance hypernyms)."""
        with self._lock:
            self._data.seek(offset)
            line = self._data.readline().decode("latin-1")
        fields = line.split(" | ", 1)[0].split()
        count = int(fields[3], 16)
        words = tuple(fields[4 + 2 * i].lower().replace("_", " ") for i in range(count))
        at = 4 + 2 * count
        ups = []
        for _ in range(int(fields[at])):
            symbol, target, pos = fields[at + 1], int(fields[at + 2]), fields[at + 3]
            if symbol in ("@", "@i") and pos == "n":
                ups.append(target)
            at += 4
        return tuple(w.split("(")[0] for w in words), tuple(ups)

    def kinds(self, word: str) -> tuple[str, ...]:
        """The synonyms and hypernyms of the commonest sense of the noun ``word``."""
        lemma = self.lemma(word)
        if lemma is None:
            return ()
        found: dict[str, None] = {}
        frontier = list(self.senses[lemma][:1])
        for _ in range(DEPTH + 1):
            above: list[int] = []
            for offset in frontier:
                words, ups = self.synset(offset)
                found.update(dict.fromkeys(words))
                above.extend(ups)
            frontier = above
        found.pop(lemma, None)
        return tuple(found)


_loaded: WordNet | None = None
_tried = False
_loading = threading.Lock()


def wordnet(*, wait: bool = True) -> WordNet | None:
    """WordNet, read once; None (and one warning) where it is not installed, and, unless
    ``wait``, until another thread (learning) has read it: reading takes most of a
    second."""
    global _loaded, _tried
    if not wait:
        return _loaded
    with _loading:
        if not _tried:
            _tried = True
            try:
                _loaded = WordNet(WORDNET)
            except (OSError, ValueError, IndexError) as exc:
                log.warning(
                    "WordNet is missing (%s): recall will not know what things are kinds of; "
                    "install Debian's wordnet-base",
                    exc,
                )
        return _loaded


def kinds_of(text: str, skip: Collection[str] = ()) -> str | None:
    """The kinds of the nouns in ``text`` (words in ``skip`` left out), as words for
    full-text search (``""`` when it names none); None without WordNet."""
    net = wordnet()
    if net is None:
        return None
    found: dict[str, None] = {}
    for word in dict.fromkeys(_WORD.findall(text.lower())):
        if len(word) > 2 and word not in skip:
            found.update(dict.fromkeys(_cached_kinds(net, word)))
    return " ".join(" ".join(found).split()[:MOST])


@lru_cache(maxsize=100_000)
def _cached_kinds(net: WordNet, word: str) -> tuple[str, ...]:
    return net.kinds(word)


def asks_for_several(question: str) -> bool:
    """Whether a question asks after several things ("what activities...", "which cities
    ...", "how many times..."), whose answers lie in many turns, each naming one example."""
    words = re.findall(r"[a-z']+", question.lower())
    if "both" in words or "how many" in " ".join(words):
        return True
    net = wordnet(wait=False)  # a question never waits for WordNet to be read
    for i, word in enumerate(words):
        if word in _ASKING:
            for after in words[i + 1 : i + 4]:
                if _plural(net, after):
                    return True
    return False


def _plural(net: WordNet | None, word: str) -> bool:
    if not word.endswith("s") or word.endswith(("'s", "ss")) or word in _NOT_PLURAL:
        return False
    if net is None:
        return len(word) > 3
    lemma = net.lemma(word)
    return lemma is not None and lemma != word
