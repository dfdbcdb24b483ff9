"""What a turn's nouns are kinds of, read from Debian's WordNet (``make test`` installs it)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from samantha.memory.kinds import MOST, WordNet, asks_for_several, kinds_of, wordnet
from samantha.memory.recall import STOPWORDS


def test_a_turn_names_the_kinds_of_its_nouns() -> None:
    kinds = kinds_of("I'm off to go swimming with the kids, then violin practice.", STOPWORDS)
    assert kinds is not None
    for kind in ("sport", "activity", "child", "musical instrument"):
        assert kind in kinds
    assert "swimming" not in kinds.split()  # its own word is searched as a word already
    assert kinds_of("Rome in May", STOPWORDS) is not None
    assert "city" in (kinds_of("we flew to Rome", STOPWORDS) or "")


@pytest.mark.parametrize("text", ["", "   ", "ok", "!!! ??? 12345", "x" * 100_000, "\x00\ud800 é"])
def test_odd_text_names_no_kinds(text: str) -> None:
    assert kinds_of(text, STOPWORDS) == ""


def test_hostile_text_is_only_words() -> None:
    kinds = kinds_of("'; DROP TABLE turn_kinds; -- \" OR owner : p1", STOPWORDS) or ""
    assert "table" not in kinds.split()  # its own words are not its kinds
    assert all(word.isalpha() or word == "-" for word in kinds.replace("-", " ").split())


def test_a_huge_turn_names_a_bounded_number_of_kinds() -> None:
    started = time.perf_counter()
    kinds = kinds_of("violin tennis rome sister dog " * 20_000 + "cello", STOPWORDS) or ""
    assert 0 < len(kinds.split()) <= MOST
    assert time.perf_counter() - started < 30  # not a timing test: a hang guard


@pytest.mark.parametrize(
    ("question", "several"),
    [
        ("What activities does Melanie partake in?", True),
        ("Which cities has Jon visited?", True),
        ("What instruments does Theo play?", True),
        ("How many children does Melanie have?", True),
        ("What do Caroline and Melanie both like?", True),
        ("What is Caroline's identity?", False),
        ("What did Theo say about his sister?", False),
        ("Where does Ada live?", False),
        ("", False),
    ],
)
def test_questions_asking_after_several_things(question: str, several: bool) -> None:
    wordnet()  # read (learning reads it first in a running server)
    assert asks_for_several(question) is several


def test_a_folder_without_wordnet_is_an_error_not_a_guess(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        WordNet(tmp_path)
