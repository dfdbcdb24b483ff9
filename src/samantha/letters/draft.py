"""What the model is asked when a letter is drafted, and what is kept of its answer.

The letter is the person's, so the model writes as them: in the first person, to the
recipient, from their notes, drawing only on what they themselves told her (their own
words, found by recall, and who the recipient is to them). Small models wrap a letter in
chatter ("Here is your letter:"), greetings and sign-offs of their own, or Markdown; all
of that is taken off, and the letter gets the person's salutation and closing, which stay
as they wrote them when the body is drafted again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from samantha.llm import ChatMessage

CLOSING = "With love,"
LONGEST_SAID = 300  # characters of one remembered message in the prompt
SALUTATION = re.compile(r"^(?:dear|dearest|hi|hello|hey|my dear|to)\b[^\n]{0,60}[,!:.]?$", re.I)
SIGN_OFF = re.compile(
    r"^(?:with love|love|all my love|yours|yours truly|sincerely|best|best wishes|warmly|"
    r"cheers|take care|xo+|hugs|always|forever yours)\b[^\n]{0,30}[,!.]?$",
    re.I,
)
CHATTER = re.compile(r"^(?:sure|certainly|of course|here(?:'s| is)|below is)\b[^\n]*$", re.I)
MARKUP = re.compile(r"(\*\*|__|^#+\s*|^>\s?)", re.M)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Material:
    """What one letter may draw on: the person's own, and nothing else."""

    name: str  # who writes it
    recipient: str
    notes: str  # what they asked for, each redraft's note after it
    relations: tuple[str, ...] = ()  # "Ada is their sister"
    said: tuple[tuple[str, str], ...] = ()  # (day, their own words)


def prompt(m: Material, current: str | None = None, change: str | None = None) -> list[ChatMessage]:
    """The messages that ask for a letter's body, or for ``current`` redrafted by ``change``."""
    system = (
        f"You help {m.name} write a letter to {m.recipient}. Write it as {m.name}, in the "
        f"first person, in {m.name}'s own voice: plain, warm, the way their own words below "
        "sound. Use the notes. Mention only things from the notes or from what they said; "
        "invent no events, names or dates. Write only the body of the letter, in a few short "
        "paragraphs: no greeting line, no sign-off, no title, no comments about the letter."
    )
    parts = [f"Notes from {m.name} for the letter to {m.recipient}:\n{m.notes}"]
    if m.relations:
        parts.append("Who they are to each other:\n" + "\n".join(f"- {r}" for r in m.relations))
    if m.said:
        said = "\n".join(f"- ({day}) {words}" for day, words in m.said)
        parts.append(f"Things {m.name} said that may belong in it, in their own words:\n{said}")
    if current is not None:
        parts.append(f"The letter as it stands:\n{current}")
        parts.append(f"Write it again with this change: {change}")
    else:
        parts.append(f"Now write the body of {m.name}'s letter to {m.recipient}.")
    return [ChatMessage("system", system), ChatMessage("user", "\n\n".join(parts))]


def material(
    name: str, recipient: str, notes: str, relations: Sequence[str], said: Sequence[tuple[str, str]]
) -> Material:
    """The letter's material, with remembered words cut to a length a prompt can carry."""
    short = tuple((day, " ".join(words.split())[:LONGEST_SAID]) for day, words in said)
    return Material(name, recipient, notes, tuple(relations), short)


def body_of(raw: str, name: str) -> str:
    """The letter's body in the model's answer: chatter, greeting, sign-off and markup off."""
    text = MARKUP.sub("", raw.replace("\r\n", "\n")).strip()
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and (not lines[0].strip() or CHATTER.match(lines[0].strip())):
        lines.pop(0)
    if lines and SALUTATION.match(lines[0].strip()) and len(lines[0]) <= 60:
        lines.pop(0)
    while lines and (not lines[-1].strip() or _signature(lines[-1], name)):
        lines.pop()
    if lines and SIGN_OFF.match(lines[-1].strip()):
        lines.pop()
    return _finished(_unrepeated(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()))


def _unrepeated(text: str) -> str:
    """Each sentence once, and no clause twice in a row: small models fall into loops
    ("I'm going to tell you, I'm going to tell you, ..."), which no one writes."""
    seen: set[str] = set()
    paragraphs = []
    for paragraph in text.split("\n\n"):
        kept = []
        for sentence in SENTENCE_END.split(paragraph.strip()):
            clauses = [c for i, c in enumerate(sentence.split(", ")) if _new_clause(sentence, i)]
            said = ", ".join(clauses).rstrip(".!?") + sentence[len(sentence.rstrip(".!?")) :]
            key = re.sub(r"\W+", " ", said.lower()).strip()
            if key not in seen:  # (an emoji alone has no key, and is kept)
                seen.add(key or said)
                kept.append(said)
        if kept:
            paragraphs.append(" ".join(kept))
    return "\n\n".join(paragraphs)


def _new_clause(sentence: str, i: int) -> bool:
    clauses = sentence.split(", ")
    return i == 0 or clauses[i].strip(".!?").lower() != clauses[i - 1].strip(".!?").lower()


def _finished(text: str) -> str:
    """The text without a last sentence the token limit cut off half-way."""
    if not text or not (text[-1].isalnum() or text[-1] in ",;:-"):
        return text  # it ends as a sentence does (or with an emoji)
    cut = max(text.rfind(end) for end in ".!?")
    return text[: cut + 1] if cut > len(text) // 2 else text


def _signature(line: str, name: str) -> bool:
    words = line.strip().strip(",.!-").strip()
    return words.lower() in {name.lower(), f"[{name.lower()}]", "[your name]", "your name"} or (
        bool(SIGN_OFF.match(line.strip())) and len(words) <= 40
    )


def split(text: str) -> tuple[str, str, str]:
    """A letter as (salutation, body, closing); either end may be empty."""
    paragraphs = [p.strip("\n") for p in text.strip().split("\n\n")]
    head = tail = ""
    if len(paragraphs) > 1 and SALUTATION.match(paragraphs[0].strip()):
        head = paragraphs.pop(0)
    if len(paragraphs) > 1 and _is_closing(paragraphs[-1]):
        tail = paragraphs.pop()
    return head, "\n\n".join(paragraphs), tail


def _is_closing(paragraph: str) -> bool:
    """A sign-off ("With love,\nTheo"), or a bare signature: one short line, no sentence."""
    lines = paragraph.strip().splitlines()
    if len(lines) <= 3 and SIGN_OFF.match(lines[0].strip()):
        return True
    return len(lines) == 1 and len(lines[0]) <= 30 and not lines[0].rstrip().endswith((".", "?"))


def assemble(salutation: str, body: str, closing: str) -> str:
    return "\n\n".join(part for part in (salutation, body, closing) if part.strip())


def first_letter(recipient: str, name: str, body: str) -> str:
    """A new letter: the body between the person's salutation and closing."""
    return assemble(f"Dear {recipient},", body, f"{CLOSING}\n{name}")
