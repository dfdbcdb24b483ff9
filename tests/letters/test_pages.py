"""Handwritten pages: the font found or the built-in, any text drawn or replaced, never a
crash; the same letter gives the same bytes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from samantha.letters.hand import FOUND_IN, Hand, find_hand
from samantha.letters.pages import book_pdf, letter_pdf
from samantha.store import Letter

WHEN = 1772478000.0
TEXT = "Dear Zoë,\n\nThe café — “São Bento” … 🌊 naïve ﬁne\ttab ő 李\n\nWith love,\nTheo"


def letter(text: str = TEXT, letter_id: int = 1) -> Letter:
    return Letter(letter_id, 1, "Zoë", "notes", text, WHEN, WHEN)


def test_the_handwriting_is_found_and_redrawn_once(tmp_path: Path) -> None:
    if not FOUND_IN[0].is_file():
        pytest.skip("fonts-dancingscript is not installed (make test installs it)")
    hand = find_hand(None, tmp_path)
    assert hand.path is not None and hand.path.parent == tmp_path
    assert hand.path.suffix == ".ttf" and "DancingScript" in hand.name
    assert find_hand(None, tmp_path) == hand and len(list(tmp_path.iterdir())) == 1
    pdf = letter_pdf(letter(), hand)
    assert pdf.startswith(b"%PDF-") and b"FontFile2" in pdf
    assert letter_pdf(letter(), hand) == pdf  # the same letter, the same bytes


def test_what_a_hand_cannot_draw_is_replaced_or_left_out() -> None:
    plain = Hand(None)
    assert plain.clean(TEXT) == (
        'Dear Zoë,\n\nThe café - "São Bento" ...  naïve fine tab o \n\nWith love,\nTheo'
    )
    assert plain.clean("\x00\x07\u202e") == ""


def test_without_a_handwriting_font_letters_are_still_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        hand = find_hand(tmp_path / "missing.ttf", tmp_path)
    assert hand.path is None and "SAMANTHA_LETTER_FONT" in caplog.text
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    assert find_hand(broken, tmp_path).path is None
    long = letter("Dear Zoë,\n\n" + "word " * 3000 + "x" * 500 + "\n\nTheo")
    pdf = letter_pdf(long, hand)
    assert pdf.startswith(b"%PDF-") and b"/Count 1 " not in pdf  # many pages
    assert book_pdf([], "Theo", hand, WHEN).startswith(b"%PDF-")
    both = book_pdf([letter(), letter(TEXT, 2)], "Théo 🌊", hand, WHEN, "Samantha")
    assert both.startswith(b"%PDF-")
