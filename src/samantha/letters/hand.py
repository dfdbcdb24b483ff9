"""The handwriting letters are written in: a font found on this machine, and what it can draw.

``SAMANTHA_LETTER_FONT`` names one; otherwise the first found of Debian's
``fonts-dancingscript`` and ``fonts-dkg-handwriting`` is used. Without any, letters are
still written, in a built-in italic, and a warning says how to get the handwriting.

Dancing Script is drawn in cubic curves (CFF). A PDF embeds such a font differently from a
TrueType one, and fpdf2 embeds every font as TrueType, so it is redrawn once in TrueType's
quadratic curves and kept in ``$SAMANTHA_HOME/fonts``. Characters the font has no glyph
for are written as their nearest plain letters ("ő" as "o", "—" as "-"), or left out (an
emoji), so a page never shows an empty box and rendering never fails on text.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

from samantha.errors import InputError
from samantha.files import write_atomically

log = logging.getLogger(__name__)
FOUND_IN = (
    Path("/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf"),
    Path("/usr/share/fonts/truetype/fifthhorseman/dkg.ttf"),
)
INSTALL_HINT = (
    "no handwriting font found, so letters are written in a plain italic; install one with "
    "`apt-get install fonts-dancingscript` or set SAMANTHA_LETTER_FONT to a .ttf or .otf file"
)
PLAIN = {  # typography a handwriting font often lacks, as the plain marks it has
    "\u2014": "-",
    "\u2013": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u00a0": " ",
}
LATIN_1 = frozenset([*range(32, 127), *range(160, 256)])  # what built-in PDF fonts draw


@dataclass(frozen=True)
class Hand:
    """A font ready for a PDF: its TrueType file (None: the built-in italic) and the
    characters it can draw."""

    path: Path | None
    drawable: frozenset[int] = field(default=LATIN_1, repr=False)

    @property
    def name(self) -> str:
        return self.path.stem if self.path else "built-in italic"

    def clean(self, text: str) -> str:
        """``text`` with only characters this hand can draw (line breaks kept)."""
        return "".join(self._char(c) for c in text)

    def _char(self, c: str) -> str:
        if c == "\n" or ord(c) in self.drawable:
            return c
        if c in ("\t", "\r") or unicodedata.category(c).startswith("Z"):
            return " "
        plain = PLAIN.get(c) or unicodedata.normalize("NFKD", c)
        base = [p for p in plain if not unicodedata.combining(p)]  # "ő" is "o" and a mark
        return "".join(base) if base and all(ord(p) in self.drawable for p in base) else ""


def find_hand(chosen: Path | None, fonts_dir: Path) -> Hand:
    """The handwriting to use: ``chosen``, else the first font found, else the built-in."""
    for source in [chosen] if chosen else list(FOUND_IN):
        if source.is_file():
            try:
                return _load(source, fonts_dir)
            except Exception as exc:  # a broken font must not stop a letter being written
                log.warning("cannot use the font %s (%s); trying the next", source, exc)
    if chosen:
        log.warning("SAMANTHA_LETTER_FONT %s is not a file; %s", chosen, INSTALL_HINT)
    else:
        _warn_once()
    return Hand(None)


@lru_cache(maxsize=1)
def _warn_once() -> None:
    log.warning(INSTALL_HINT)


@lru_cache(maxsize=8)
def _load(source: Path, fonts_dir: Path) -> Hand:
    font = TTFont(source)
    drawable = frozenset(font.getBestCmap())
    if "glyf" in font:
        return Hand(source, drawable)
    stat = source.stat()
    target = fonts_dir / f"{source.stem}-{stat.st_size}-{int(stat.st_mtime)}.ttf"
    if not target.exists():
        log.info("redrawing %s in TrueType curves for PDFs, once: %s", source.name, target)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, to_truetype(font), force=True)
        except (OSError, InputError) as exc:  # most PDF readers draw the font as it is
            log.warning("cannot keep a TrueType copy of %s (%s); using it as it is", source, exc)
            return Hand(source, drawable)
    return Hand(target, drawable)


def to_truetype(font: TTFont) -> bytes:
    """A font drawn in cubic (CFF) curves, redrawn in TrueType's quadratic ones."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    for table in ("CFF ", "CFF2", "VORG"):
        if table in font:
            del font[table]
    font["glyf"], font["loca"] = glyf, newTable("loca")
    font["head"].glyphDataFormat = 0
    _truetype_limits(font)
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _truetype_limits(font: TTFont) -> None:
    """``maxp`` as TrueType has it (version 1.0); the counts are recomputed on save."""
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for name in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxComponentDepth",
    ):
        setattr(maxp, name, 0)
    maxp.maxZones = 1
    maxp.maxPoints = maxp.maxContours = 0
    maxp.maxCompositePoints = maxp.maxCompositeContours = 0
