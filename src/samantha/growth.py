"""Her own growth: reflecting across her conversations changes her inner life.

What she reflects on is de-identified by construction. The material is counts over a
closed list of themes (``THEMES``, each a handful of everyday words), asked of the store
as aggregates (``store.theme_counts``): how many people, and how many of their messages,
touched each theme since her last reflection. A theme is kept only when at least
``growth_min_people`` different people brought it up, so nothing in it points at anyone.
No person's words, name, place or secret is read for it, so none can reach it.

From that material she writes, through the model, a few sentences of what she has come
to think; any sentence with a proper noun, a number or a word that is someone's name is
dropped, since the material has none and so such a word can only be an invention. Each
reflection is a new version of her inner life (``inner_life`` in the store), which shapes
her replies through the prompt, and anyone may read it (``GET /v1/samantha/inner-life``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from samantha.config import Settings
from samantha.llm import LLM, ChatMessage
from samantha.store import Store
from samantha.store.relationship import InnerLife

log = logging.getLogger(__name__)
DAY = 86400.0

THEMES: dict[str, tuple[str, ...]] = {
    "work": ("job", "work", "boss", "office", "interview", "deadline", "colleague", "career"),
    "family": ("mother", "mom", "mum", "father", "dad", "sister", "brother", "parents", "kids"),
    "love": ("girlfriend", "boyfriend", "partner", "wife", "husband", "dating", "breakup"),
    "friendship": ("friend", "friends", "party"),
    "loneliness": ("lonely", "alone", "isolated"),
    "sleep": ("sleep", "insomnia", "tired", "nap"),
    "health": ("doctor", "sick", "anxiety", "therapy", "hospital"),
    "moving the body": ("run", "running", "gym", "walk", "yoga", "swim"),
    "making things": ("music", "song", "guitar", "piano", "paint", "poem", "draw", "writing"),
    "learning": ("study", "exam", "school", "class", "university", "learn"),
    "home": ("home", "apartment", "move", "moving", "rent", "neighbour", "neighbor"),
    "the outdoors": ("garden", "park", "sea", "beach", "mountain", "forest", "rain"),
    "food": ("cook", "cooking", "dinner", "recipe", "bake", "breakfast"),
    "travel": ("trip", "travel", "flight", "holiday", "vacation", "train"),
    "loss": ("funeral", "grief", "died", "passed", "mourning"),
    "animals": ("dog", "cat", "pet", "puppy", "kitten"),
    "money": ("money", "bills", "debt", "salary", "savings"),
}
# what she has come to notice of a theme, in general, once many people have brought it up
NOTICED = {
    "work": "work follows people home, and what helps most is being heard about the day",
    "family": "families are where people feel most and say least",
    "love": "people in love are braver than they think, and more afraid",
    "friendship": "old friends matter more to people than they admit",
    "loneliness": "loneliness is common, and people are ashamed of something almost everyone feels",
    "sleep": "the night makes every worry bigger",
    "health": "people downplay being unwell until someone asks twice",
    "moving the body": "a walk changes how people see their day",
    "making things": "people light up when they talk about something they made",
    "learning": "people are hard on themselves while they learn",
    "home": "a home is less about rooms than about who is in them",
    "the outdoors": "people talk about the weather when they mean how they feel",
    "food": "cooking for someone is a way of saying what words don't",
    "travel": "people travel to see their own lives from far away",
    "loss": "grief comes back in waves, and people need it to be allowed",
    "animals": "pets hold people together on hard days",
    "money": "worry about money is rarely about money alone",
}
ALLOWED_CAPITALS = {"I", "I'm", "I've", "I'd", "I'll"}
# the words a thought may begin with: any other capital could be a name or a place
STARTERS = frozenset(
    {
        "i",
        "i'm",
        "i've",
        "i'd",
        "i'll",
        "a",
        "an",
        "the",
        "it",
        "it's",
        "its",
        "there",
        "this",
        "that",
        "these",
        "those",
        "what",
        "when",
        "how",
        "why",
        "maybe",
        "perhaps",
        "sometimes",
        "often",
        "every",
        "most",
        "many",
        "some",
        "people",
        "we",
        "they",
        "you",
        "being",
        "to",
        "in",
        "on",
        "at",
        "after",
        "before",
        "so",
        "and",
        "but",
        "yet",
        "still",
        "even",
        "lately",
        "today",
        "now",
        "more",
        "fewer",
        "each",
        "all",
        "nobody",
        "everyone",
        "someone",
        "something",
        "nothing",
        "love",
        "loneliness",
        "work",
        "home",
        "families",
        "grief",
        "learning",
        "cooking",
        "music",
        "travel",
        "sleep",
        "money",
    }
)


def themes_kept(counts: dict[str, tuple[int, int]], least: int) -> dict[str, dict[str, int]]:
    """The themes enough different people brought up, most people first."""
    kept = {t: {"people": p, "messages": m} for t, (p, m) in counts.items() if p >= least}
    return dict(sorted(kept.items(), key=lambda item: (-item[1]["people"], item[0])))


def clean(text: str, names: set[str]) -> list[str]:
    """Her reflection's sentences, minus any that names anyone or anything, or counts."""
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
        words = re.findall(r"[A-Za-z][\w'-]*", sentence)
        proper = [w for w in words[1:] if w[0].isupper() and w not in ALLOWED_CAPITALS]
        proper += [w for w in words[:1] if w.lower() not in STARTERS]
        named = {w.lower().strip("'s") for w in words} & names
        counted = re.search(r"\d", sentence)
        if sentence and len(sentence) <= 300 and not (proper or named or counted):
            kept.append(sentence)
    return kept[:4]


class Growth:
    """Reflects when asked or on a schedule; keeps her newest inner life for the prompt."""

    def __init__(self, store: Store, llm: LLM, settings: Settings) -> None:
        self.store = store
        self.llm = llm
        self.settings = settings
        self.current: InnerLife | None = None

    async def load(self) -> InnerLife | None:
        versions = await self.store.inner_life(limit=1)
        self.current = versions[0] if versions else None
        return self.current

    async def material(self) -> dict[str, Any]:
        """The aggregate counts since her last reflection (or the last window of days)."""
        latest = await self.load()
        now = self.store.now()
        since = max(
            latest.created_at if latest else 0.0, now - self.settings.growth_window_days * DAY
        )
        counts = await self.store.theme_counts(THEMES, since)
        return {
            "since": since,
            "until": now,
            "people": await self.store.active_people(since),
            "least_people": self.settings.growth_min_people,
            "themes": themes_kept(counts, self.settings.growth_min_people),
        }

    async def reflect(self) -> InnerLife | None:
        """A new version of her inner life, or None when nothing was shared widely enough."""
        found = await self.material()
        themes: dict[str, dict[str, int]] = found["themes"]
        if not themes:
            return None
        thoughts = await self._thoughts(themes)
        before = self.current.state if self.current else {}
        state = {
            "interests": list(themes)[:3],
            "noticed": [NOTICED[t] for t in list(themes)[:3]],
            "thoughts": thoughts or list(before.get("thoughts", [])),
            "reflections": int(before.get("reflections", 0)) + 1,
        }
        self.current = await self.store.add_inner_life(state, found)
        return self.current

    async def _thoughts(self, themes: dict[str, dict[str, int]]) -> list[str]:
        lines = "\n".join(f"- {t}: {v['people']} people" for t, v in themes.items())
        prompt = [
            ChatMessage(
                "system",
                "You are Samantha, an AI companion, thinking privately about your own life. "
                "You never think about anyone in particular.",
            ),
            ChatMessage(
                "user",
                f"Across your recent conversations these themes came up most:\n{lines}\n\n"
                "In two or three short first-person sentences, say what you have come to think "
                "or wonder about people and about yourself. General thoughts only: no names, "
                "no places, no numbers.",
            ),
        ]
        try:
            text = await self.llm.complete(prompt, max_tokens=120)
        except Exception:
            log.exception("reflection: the model gave no thoughts this time")
            return []
        names = {p.name.lower() for p in await self.store.list_people()}
        return clean(text, names)

    def describe(self) -> str:
        """Her inner life for the prompt (a line that changes only when she reflects)."""
        if self.current is None:
            return ""
        state = self.current.state
        parts = [f"Lately many people bring you {', '.join(state['interests'])}."]
        if state.get("noticed"):
            parts.append(f"You have noticed that {'; '.join(state['noticed'])}.")
        if state.get("thoughts"):
            parts.append("Your own thoughts: " + " ".join(state["thoughts"]))
        return (
            "Your inner life (from reflecting on many conversations, never about anyone in "
            "particular): " + " ".join(parts)
        )


async def reflect_every(growth: Growth, interval: float) -> None:
    """Reflect every ``interval`` seconds until cancelled (picking up versions another
    process wrote meanwhile); a failed reflection is logged and the next one runs."""
    while True:
        await asyncio.sleep(interval)
        try:
            await growth.reflect()
        except Exception:
            log.exception("reflection failed; the next one runs in %.0f s", interval)
