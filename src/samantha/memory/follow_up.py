"""Which remembered events deserve a "how did it go?", and the words to ask it with.

An event memory found by the rules keeps the person's own sentence and its date: "My
interview at the aquarium is on Thursday. (Thursday 05 March 2026)". A plan said before
its day is worth asking about; a story told after it is not, nor a question, a plan that
fell through ("isn't", "cancelled") or a habit ("every Thursday"). The question is built
from their words, turned round to speak to them ("my" becomes "your", "is" becomes "was")
with the time said again from the day she asks:

- "How did your interview at the aquarium go?"
- "You mentioned your sister Ada was visiting on Thursday. How did it go?"
- where the words cannot be turned round safely, she quotes them: "On Monday you told me:
  “My flight leaves tomorrow.” How did it go?"

No model writes it, so nothing is invented. Memories the model wrote (in the third person)
are left to the person's own words about the same day.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from samantha.memory.dates import TimeMention, find_times
from samantha.store import MemoryRecord

MAX_SPAN_DAYS = 7  # a weekend or a trip; a month or "next summer" is too vague to ask about
STILL_AHEAD = ("tonight", "this evening")  # said on the day itself, and still to come
WHEN = "\x00"  # where the time goes once the words are turned round
NOT_PLANS = re.compile(
    r"(?:\b(?:am|is|are|was|were|do|does|did|will|can|could|should|would|have|has)"
    r"|'(?:m|re|s))\s+not\b|n't\b|\bnever\b|\bcancel|\bpostpone"
    r"|\b(?:every|each|usually|always|often|sometimes|daily|weekly)\b",
    re.IGNORECASE,
)
RELATIVE = re.compile(
    r"\b(?:today|tonight|tomorrow|yesterday|next|last|this|coming|ago|in \w+ \w+)\b", re.I
)
OPENERS = re.compile(
    r"^(?:(?:oh|ah|well|so|and|but|also|anyway|btw|by the way|guess what|hey|yes|yeah|ok|okay"
    r"|um|uh)\b[,!]?\s+)+",
    re.IGNORECASE,
)
TURNED = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "we": "you",
    "us": "you",
    "our": "your",
    "ours": "yours",
    "ourselves": "yourselves",
    "you": "me",
    "your": "my",
    "yours": "mine",
    "yourself": "myself",
}
BACKSHIFTED = {
    "i'm": "you were",
    "i've got": "you had",
    "i've": "you had",
    "i'll": "you would",
    "we're": "you were",
    "we've got": "you had",
    "we've": "you had",
    "we'll": "you would",
    "it's": "it was",
    "that's": "that was",
    "there's": "there was",
    "he's": "he was",
    "she's": "she was",
    "they're": "they were",
    "they'll": "they would",
    "it'll": "it would",
    "have got": "had",
    "has got": "had",
    "am": "were",
    "is": "was",
    "are": "were",
    "will": "would",
    "shall": "would",
    "can": "could",
    "has": "had",
    "have": "had",
    "do": "did",
    "does": "did",
}
MODALS = {"would", "could", "should", "might", "must", "to", "will", "can", "may"}
LOWER_FIRST = {"the", "a", "an", "this", "that", "it", "there", "these", "those", "his", "her"}
WORD = re.compile(r"(?:i've|we've|ha(?:ve|s)) got\b|[A-Za-z]+(?:'[A-Za-z]+)?|" + WHEN, re.I)
AS_EVENT = re.compile(rf"^((?:your|the|[A-Z][\w-]*'s) [^,;{WHEN}]+?) (?:was|were) {WHEN}$")
HAD_EVENT = re.compile(rf"^you had (?:a|an|your) ([^,;{WHEN}]+?) {WHEN}$")


def question(memory: MemoryRecord, said_at: float, on: date) -> str | None:
    """What to ask on the day ``on`` about ``memory`` (first said at ``said_at``), or None
    if it is not a plan of theirs that has happened."""
    if memory.kind != "event" or memory.origin == "model" or not memory.happened_on:
        return None
    start = date.fromisoformat(memory.happened_on)
    end = date.fromisoformat(memory.happened_until or memory.happened_on)
    if (end - start).days > MAX_SPAN_DAYS or end >= on:
        return None
    sentence = _their_sentence(memory.text, start, end)
    if sentence is None:
        return None
    said = datetime.fromtimestamp(said_at).date()
    mention = _mention(sentence, said, start, end)
    spoken = mention.text.lower() if mention else ""
    if said > start or (said == start and spoken not in STILL_AHEAD):
        return None  # told after it happened: a story, not a plan
    return _ask(sentence, mention, _when(start, end, on), _day_said(said, on))


def told_after(memory: MemoryRecord, said_at: float) -> bool:
    """Whether they spoke of the event only once it had begun: then they have told her how
    it went, and asking would show she was not listening."""
    if not memory.happened_on:
        return False
    return datetime.fromtimestamp(said_at).date() > date.fromisoformat(memory.happened_on)


def _their_sentence(text: str, start: date, end: date) -> str | None:
    """The person's own sentence in a memory, without the date the rules added to it."""
    added = f" ({TimeMention('', start, end).describe()})"
    sentence = text.removesuffix(added).replace("\u2019", "'").strip()  # typographic apostrophe
    if not sentence or sentence.endswith("?") or NOT_PLANS.search(sentence):
        return None
    return OPENERS.sub("", sentence).rstrip(".!…; ").strip() or None


def _mention(sentence: str, said: date, start: date, end: date) -> TimeMention | None:
    """The words in ``sentence`` that name the event's day, as they were meant when said."""
    for mention in find_times(sentence, said):
        if (mention.start, mention.end) == (start, end):
            return mention
    return None


def _when(start: date, end: date, on: date) -> str:
    """The event's time, said from the day ``on``: "yesterday", "on Thursday", ..."""
    ago = (on - end).days
    if start == end:
        if ago == 1:
            return "yesterday"
        return f"on {start:%A}" if ago < 7 else f"on {start.day} {start:%B}"
    if start.weekday() == 5 and (end - start).days == 1:
        return "last weekend" if ago < 7 else f"the weekend of {start.day} {start:%B}"
    if start.weekday() == 0 and (end - start).days == 6 and ago <= 7:
        return "last week"
    return f"from {start.day} {start:%B} to {end.day} {end:%B}"


def _day_said(said: date, on: date) -> str:
    ago = (on - said).days
    if ago == 1:
        return "Yesterday"
    return f"On {said:%A}" if ago < 7 else f"On {said.day} {said:%B}"


def _ask(sentence: str, mention: TimeMention | None, when: str, said: str) -> str:
    """Their words turned round into her question; their words quoted where that fails."""
    marked = sentence
    if mention is not None:
        at = sentence.find(mention.text)
        marked = f"{sentence[:at]}{WHEN}{sentence[at + len(mention.text) :]}"
        marked = re.sub(rf"({WHEN}[^,;]*)[,;].*", r"\1", marked)  # "..., I hope it goes well"
    for other in find_times(marked.replace(WHEN, " "), date(2000, 1, 1)):
        if RELATIVE.search(other.text):  # another "tomorrow" would now mean the wrong day
            marked = marked.replace(other.text, "", 1)
    turned, shifted = _turn_round(re.sub(r"\s+", " ", marked).strip())
    if not shifted:
        return f"{said} you told me: “{sentence}.” How did it go?"
    for pattern in (AS_EVENT, HAD_EVENT):
        found = pattern.match(turned)
        if found:
            subject = found.group(1)
            if pattern is HAD_EVENT:
                subject = f"your {subject}"
            return f"How did {subject} go?"
    if turned.startswith(WHEN):  # "Tomorrow is my first day": "Tuesday was your first day"
        when = when.removeprefix("on ")
    words = turned.replace(f"on {WHEN}", WHEN).replace(WHEN, when).replace(" ,", ",")
    return f"You mentioned {words}. How did it go?"


def _turn_round(sentence: str) -> tuple[str, bool]:
    """``sentence`` as she would report it to them: pronouns turned, tenses moved back.
    Also says whether a verb was moved back (if none was, reporting it would be wrong)."""
    out: list[str] = []
    shifted, last, position = False, "", 0
    for found in WORD.finditer(sentence):
        out.append(sentence[position : found.start()])
        position = found.end()
        word = found.group(0)
        key = word.lower()
        if key in BACKSHIFTED and not (key == "have" and last in MODALS):
            new, shifted = BACKSHIFTED[key], True
        elif key in TURNED:
            new = TURNED[key]
        elif not last and key in LOWER_FIRST:
            new = key  # "The party" inside her sentence is "the party"
        else:
            new = word
        out.append(new)
        last = new.split(" ")[-1].lower()
    out.append(sentence[position:])
    return "".join(out).strip(), shifted
