"""Her reply cut into pieces to speak while the rest is still being written.

Sentences are spoken as soon as they are complete. The first piece may end sooner, at a
clause (a comma after a few words), and a sentence mark ends it as it arrives rather than
when the next word shows it was not a decimal point or an abbreviation's: the wait for
her first sound is the wait a person notices. Later pieces run ahead of her speaking and
can be whole sentences.
"""

from __future__ import annotations

import re
import unicodedata

ENDS = re.compile(r"[.!?…]+[\"')\]]*\s|\n")
ENDED = re.compile(r"[^\W\d_]{2,}([.!?…]+)[\"')\]]*$")  # a word of letters, a mark, no more
CLAUSE = re.compile(r"[,;:\u2014\u2013]\s")  # and em and en dashes
ABBREVIATIONS = ("mr.", "mrs.", "ms.", "dr.", "e.g.", "i.e.", "etc.", "vs.", "st.")
FIRST_CLAUSE_WORDS = 3  # the first piece may end at a clause once it has this many words
LONGEST_WORDS = 30  # a run-on is cut at a space after this many words
MARKUP = re.compile(r"[*_#`~|<>\[\]{}]")


def speakable(text: str) -> str:
    """Text as it should be said: no markdown, emoji or symbols; empty if nothing to say."""
    kept = "".join(
        " " if unicodedata.category(c) in ("So", "Sk", "Cs", "Co", "Cn") else c
        for c in MARKUP.sub(" ", text)
    )
    kept = " ".join(kept.split())
    return kept if any(c.isalnum() for c in kept) else ""


class Phrases:
    """Feed pieces of text as they stream; get back the phrases ready to be spoken."""

    def __init__(self) -> None:
        self._buffer = ""
        self._spoken = 0  # phrases handed out so far

    def feed(self, piece: str) -> list[str]:
        self._buffer += piece
        ready: list[str] = []
        while (cut := self._cut()) is not None:
            phrase, self._buffer = self._buffer[:cut], self._buffer[cut:]
            if phrase.strip():
                ready.append(phrase.strip())
                self._spoken += 1
        return ready

    def flush(self) -> list[str]:
        """What is left once the reply has ended."""
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []

    def _cut(self) -> int | None:
        for end in ENDS.finditer(self._buffer):
            if not self._abbreviation(end.start()):
                return end.end()
        words = self._buffer.split()
        ended = ENDED.search(self._buffer)
        if not self._spoken and ended and not self._abbreviation(ended.end(1) - 1):
            return len(self._buffer)
        if not self._spoken and len(words) > FIRST_CLAUSE_WORDS:
            for clause in CLAUSE.finditer(self._buffer):
                if len(self._buffer[: clause.start()].split()) >= FIRST_CLAUSE_WORDS:
                    return clause.end()
        if len(words) > LONGEST_WORDS:
            return self._buffer.rstrip().rfind(" ") + 1 or None
        return None

    def _abbreviation(self, dot: int) -> bool:
        before = self._buffer[: dot + 1].split()
        return bool(before) and before[-1].lower() in ABBREVIATIONS
