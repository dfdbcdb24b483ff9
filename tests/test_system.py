"""The running system: deleting a person leaves no trace of them on disk or in memory."""

from __future__ import annotations

from pathlib import Path

from samantha.auth import add_person, hash_token, person_for_token
from samantha.config import Settings
from samantha.store import Person
from samantha.system import Samantha, running
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM

# words a file format cannot hide: FTS keeps lower-case stems and may store a word after a
# prefix it shares with its neighbour, so the inner letters are searched, in lower case
THEIRS = {
    "Quennellby": "uennellb",
    "Zephyrine lives in Quillabamba": "ephyrin",
    "Quillabamba": "uillabamb",
    "xylorimba": "ylorimb",
    "locker code is heron-4471": "eron-4471",
    "Marzipanovich": "arzipanovic",
    "Brumblewick": "rumblewic",  # in a letter's words
    "Oxtongue Lane": "xtongue",  # in a letter's notes
    "your sister, Zephyrine": "sister, zephyrin",  # only in a milestone of their relationship
}
AMYS = {"Vladivostok": "ladivosto", "Tobiasz": "obias", "Pelargonium": "elargoniu"}


async def turn(sam: Samantha, person: Person, conversation: int, text: str) -> None:
    await sam.companion.say(person, conversation, text)
    await (await sam.companion.reply(person, conversation)).read_all()
    await sam.companion.drain()


def on_disk(db_path: Path) -> bytes:
    """Every byte of the database and its -wal and -shm files, lower-cased."""
    files = [db_path, *(db_path.with_name(db_path.name + end) for end in ("-wal", "-shm"))]
    return b"".join(f.read_bytes() for f in files if f.exists()).lower()


def traces(data: bytes, words: dict[str, str]) -> list[str]:
    return [
        word
        for word, inner in words.items()
        if word.lower().encode() in data or inner.lower().encode() in data
    ]


async def plant(sam: Samantha, fake: ScriptedLLM) -> tuple[Person, str, Person]:
    """Quennellby and Amy, each with their own words in messages, replies and memories."""
    quennellby, token = await add_person(sam.store, "Quennellby")
    mine = await sam.store.create_conversation(quennellby.id)
    fake.replies = ["Marzipanovich is a lovely name for a goldfish."]
    await turn(sam, quennellby, mine.id, "My goldfish is called Marzipanovich.")
    for text in (
        "My sister Zephyrine lives in Quillabamba.",
        "I love playing the xylorimba at midnight.",
        "My locker code is heron-4471, don't tell anyone.",
    ):
        await turn(sam, quennellby, mine.id, text)
    await sam.memory.drain()
    await sam.relationships.update(quennellby)  # "told me about your sister", from memories
    fake.replies = ["Brumblewick the goldfish sends his love."]
    await sam.letters.write(quennellby, "Zephyrine", "meet me on Oxtongue Lane")
    amy = await sam.person_named("Amy", create=True)
    assert amy
    theirs = await sam.store.create_conversation(amy.id)
    await turn(sam, amy, theirs.id, "My brother Tobiasz works in Vladivostok.")
    fake.replies = ["The Pelargonium is blooming."]
    await sam.letters.write(amy, "Tobiasz", "the garden")
    return quennellby, token, amy


async def test_a_deleted_person_leaves_no_trace_and_others_keep_everything(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    settings: Settings = make_settings(tmp_path / "home")
    async with running(settings, llm=fake) as sam:
        quennellby, token, amy = await plant(sam, fake)
        kept = " ".join(m.text for m in await sam.store.memories(quennellby.id))
        assert "Zephyrine" in kept and "xylorimba" in kept  # memories were drawn from it
        found = await sam.memory.recall(quennellby.id, "Where does Zephyrine live?")
        assert "Quillabamba" in found[0].message.content
        assert quennellby.id in sam.memory.recaller._cache  # vectors held in memory
        milestones = [m.text for m in await sam.store.milestones(quennellby.id)]
        assert "The first time you told me about your sister, Zephyrine" in milestones
        assert traces(on_disk(settings.db_path), THEIRS) == list(THEIRS)  # the search works

        removed = await sam.delete_person(quennellby.id)
        assert removed["messages"] == 8 and removed["memories"] >= 2 and removed["letters"] == 1

        assert traces(on_disk(settings.db_path), THEIRS) == []  # still open, as when serving
        assert hash_token(token).encode() not in on_disk(settings.db_path)
        assert quennellby.id not in sam.memory.recaller._cache
        assert await person_for_token(sam.store, token) is None
        assert await sam.store.bond(quennellby.id) is None
        assert await sam.store.milestones(quennellby.id) == []
        assert await sam.memory.recall(quennellby.id, "Zephyrine Quillabamba") == []

    data = on_disk(settings.db_path)
    assert traces(data, THEIRS) == []
    assert traces(data, AMYS) == list(AMYS)
    async with running(settings, llm=fake) as sam:
        assert [p.name for p in await sam.store.list_people()] == ["Amy"]
        found = await sam.memory.recall(amy.id, "Where does Tobiasz work?")
        assert "Vladivostok" in found[0].message.content
        assert any("Tobiasz" in m.text for m in await sam.store.memories(amy.id))
        assert [x.recipient for x in await sam.store.letters(amy.id)] == ["Tobiasz"]


async def test_deleting_someone_mid_reply_writes_nothing_of_theirs_back(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    async with running(make_settings(tmp_path / "home"), llm=fake) as sam:
        theo = await sam.person_named("Theo", create=True)
        assert theo
        conversation = await sam.store.create_conversation(theo.id)
        await sam.companion.say(theo, conversation.id, "My sister Ada lives in Porto.")
        fake.replies = ["How lovely, tell me about Porto and about Ada."]
        reply = await sam.companion.reply(theo, conversation.id)
        pieces = 0
        async for _ in reply:
            pieces += 1
            if pieces == 1:  # she has started to answer; he deletes himself
                await sam.delete_person(theo.id)
        assert pieces > 1
        assert reply.status == "complete"
        await sam.companion.drain()
        assert await sam.store.counts() == {"people": 0, "conversations": 0, "messages": 0}
        assert await sam.store.memories(theo.id) == []
