"""Letters as handwritten pages (PDF), one at a time or bound into a book.

A letter is set on A5 writing paper: a cream page with faint rules the words sit on, the
date at the top right, the letter's own words (salutation first) and its closing set
toward the right, as a hand would. Continuation pages are numbered. A book is a title page
followed by each letter on its own pages, with a bookmark per letter.

The same letter gives the same bytes: the document's date is the letter's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from samantha.letters.hand import Hand
from samantha.store import Letter

PAGE = (148.0, 210.0)  # A5, in mm
LEFT, RIGHT, TOP, BOTTOM = 18.0, 16.0, 20.0, 18.0
LINE = 8.0  # mm between rules; every line of writing sits on one
SIZE = 17  # pt
PAPER = (252, 248, 238)
RULE = (205, 217, 234)
INK = (28, 37, 72)  # a fountain pen's blue-black
CLOSING_LINES = 3  # a last paragraph this short is the closing ("With love,\nTheo")
CLOSING_WIDTH = 40


class _Paper(FPDF):
    """An FPDF whose every page is ruled writing paper with its number at the foot."""

    ruled = True

    def header(self) -> None:
        self.set_fill_color(*PAPER)
        self.rect(0, 0, PAGE[0], PAGE[1], style="F")
        if self.ruled:
            self.set_draw_color(*RULE)
            self.set_line_width(0.2)
            y = TOP + LINE * 0.78
            while y < PAGE[1] - BOTTOM:
                self.line(LEFT - 4, y, PAGE[0] - RIGHT + 4, y)
                y += LINE
        self.set_xy(LEFT, TOP)

    def footer(self) -> None:
        if self.page_no() < 2 or not self.ruled:
            return
        self.set_y(-BOTTOM + 6)
        self.set_font(size=10)
        self.set_text_color(*INK)
        self.cell(0, 5, str(self.page_no()), align="C")


def _paper(hand: Hand, title: str, when: float) -> _Paper:
    pdf = _Paper(unit="mm", format=PAGE)
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=BOTTOM)
    if hand.path is not None:
        pdf.add_font("hand", "", str(hand.path))
        pdf.set_font("hand", size=SIZE)
    else:
        pdf.set_font("Times", "I", SIZE - 3)
    pdf.set_creation_date(datetime.fromtimestamp(when).astimezone())
    pdf.set_title(hand.clean(title))
    pdf.set_creator("Samantha")
    pdf.set_text_color(*INK)
    return pdf


def dated(when: float) -> str:
    moment = datetime.fromtimestamp(when)
    return f"{moment.day} {moment:%B %Y}"


def letter_pdf(letter: Letter, hand: Hand) -> bytes:
    """One letter as handwritten pages."""
    pdf = _paper(hand, f"To {letter.recipient}", letter.created_at)
    _write(pdf, letter, hand)
    return bytes(pdf.output())


def book_pdf(
    letters: Sequence[Letter], author: str, hand: Hand, when: float, companion: str = "Samantha"
) -> bytes:
    """A person's letters, oldest first, bound after a title page."""
    ordered = sorted(letters, key=lambda x: x.id)
    pdf = _paper(hand, f"Letters by {author}", when)
    pdf.set_author(hand.clean(author))
    _title_page(pdf, ordered, author, hand)
    pdf.set_y(PAGE[1] - 40)
    pdf.cell(0, 7, hand.clean(f"written with {companion}"), align="C")
    pdf.ruled = True
    for letter in ordered:
        pdf.start_section(hand.clean(f"To {letter.recipient}, {dated(letter.created_at)}"))
        _write(pdf, letter, hand)
    return bytes(pdf.output())


def _title_page(pdf: _Paper, letters: Sequence[Letter], author: str, hand: Hand) -> None:
    pdf.ruled = False
    pdf.add_page()
    pdf.set_y(62)
    pdf.set_font_size(SIZE + 17)
    pdf.cell(0, 18, "Letters", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font_size(SIZE)
    pdf.cell(0, 10, hand.clean(f"by {author}"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(14)
    pdf.set_font_size(SIZE - 4)
    if letters:
        first, last = dated(letters[0].created_at), dated(letters[-1].created_at)
        span = first if first == last else f"{first} to {last}"
        about = f"{len(letters)} letter{'s' * (len(letters) != 1)}, {span}"
    else:
        about = "No letters yet."
    pdf.multi_cell(0, 7, about, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _write(pdf: _Paper, letter: Letter, hand: Hand) -> None:
    pdf.add_page()
    pdf.set_font_size(SIZE - 3)
    pdf.cell(0, LINE, dated(letter.created_at), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font_size(SIZE)
    pdf.ln(LINE)
    paragraphs = _paragraphs(hand.clean(letter.text))
    closing = _closing(paragraphs)
    for n, paragraph in enumerate(paragraphs):
        if n:
            pdf.ln(LINE)
        indent = (PAGE[0] - LEFT - RIGHT) * 0.45 if closing and n == len(paragraphs) - 1 else 0
        pdf.set_x(LEFT + indent)
        pdf.multi_cell(0, LINE, paragraph, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _paragraphs(text: str) -> list[str]:
    blocks = [block.strip("\n") for block in text.replace("\r\n", "\n").split("\n\n")]
    return [block.rstrip() for block in blocks if block.strip()] or [" "]


def _closing(paragraphs: list[str]) -> bool:
    """Whether the last paragraph is a closing to set to the right (short lines, few)."""
    if len(paragraphs) < 2:
        return False
    lines = paragraphs[-1].splitlines()
    return len(lines) <= CLOSING_LINES and all(len(x) <= CLOSING_WIDTH for x in lines)
