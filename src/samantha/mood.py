"""A quick read of how the person seems, from their words, passed to the prompt.

Small models miss feelings that are stated plainly; naming them in the prompt ("they seem
low: 'rough day'") makes the reply meet the person where they are. The read is a lexicon
of cues with simple negation handling: cheap, explainable, and shown with its evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CUES: dict[str, tuple[str, ...]] = {
    "low": (
        "rough day",
        "bad day",
        "awful",
        "terrible",
        "sad",
        "down",
        "depressed",
        "miserable",
        "crying",
        "cried",
        "hopeless",
        "heartbroken",
        "upset",
        "hurt",
        "lost my",
        "miss her",
        "miss him",
        "grief",
        "worst",
    ),
    "anxious": (
        "anxious",
        "worried",
        "nervous",
        "scared",
        "afraid",
        "stressed",
        "stress",
        "panic",
        "overwhelmed",
        "can't sleep",
        "freaking out",
        "dread",
    ),
    "angry": ("angry", "furious", "annoyed", "pissed", "frustrated", "hate", "unfair", "fed up"),
    "lonely": ("lonely", "alone", "no one", "nobody", "isolated", "no friends", "left out"),
    "tired": ("tired", "exhausted", "drained", "worn out", "burnt out", "burned out", "sleepy"),
    "happy": (
        "happy",
        "great news",
        "good news",
        "excited",
        "thrilled",
        "amazing",
        "wonderful",
        "finally",
        "got the job",
        "passed",
        "proud",
        "love it",
        "can't wait",
        "yay",
        "awesome",
    ),
}
GUIDANCE = {
    "low": "They seem low: be gentle, listen first.",
    "anxious": "They seem anxious: be calm and steady.",
    "angry": "They seem frustrated: acknowledge it, don't lecture.",
    "lonely": "They seem lonely: be present, ask about their people.",
    "tired": "They seem tired: keep it short and kind.",
    "happy": "They seem happy: share their joy.",
    "neutral": "",
}
_PATTERNS = {
    label: tuple((cue, re.compile(rf"\b{re.escape(cue)}\b")) for cue in cues)
    for label, cues in CUES.items()
}  # compiled once: every message a person sends is read for its mood
_NEGATION = re.compile(r"\b(not|never|no longer|isn't|wasn't|don't|didn't|not that)\s+(\w+\s+)?$")


@dataclass(frozen=True)
class Mood:
    label: str
    cues: tuple[str, ...]

    def describe(self) -> str:
        """The guidance for the prompt: short, since every word here is read every turn."""
        return GUIDANCE[self.label]


def read_mood(text: str) -> Mood:
    """The strongest mood in ``text``, with the words that suggested it."""
    lowered = " ".join(text.lower().split())
    scores: dict[str, list[str]] = {}
    for label, cues in _PATTERNS.items():
        for cue, pattern in cues:
            if cue not in lowered:  # most cues are absent: skip the pattern
                continue
            for match in pattern.finditer(lowered):
                if _NEGATION.search(lowered[: match.start()][-20:]):
                    continue
                scores.setdefault(label, []).append(cue)
                break
    if not scores:
        return Mood("neutral", ())
    label = max(scores, key=lambda k: (len(scores[k]), k != "happy"))
    return Mood(label, tuple(scores[label]))
