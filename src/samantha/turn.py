"""One conversational turn: keep the message, compose the prompt, stream the reply, keep it.

The person's message is committed before the model is asked anything; the reply is stored
as :mod:`samantha.reply` says. A reply can also be begun before the person's words are kept
(:meth:`Companion.open`), for a voice turn that may have ended, and kept once they are.

Each reply is admitted before any work is done for it (see :mod:`samantha.admission`): it
may be refused at once, with the message kept, and it waits for one of the model's slots
only if the model is needed; an answer from her memory store needs none.

The prompt is written by :mod:`samantha.prompt`: what rarely changes first, so llama.cpp's
per-slot cache can reuse it, and it can be read ahead before the reply is asked for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import anyio

from samantha import honesty, wellbeing
from samantha.admission import Admission, Ticket
from samantha.config import Settings
from samantha.errors import InputError, ModelError, Overloaded
from samantha.growth import Growth
from samantha.in_flight import InFlight
from samantha.llm import LLM, ChatMessage
from samantha.memory import Memory, Recollection
from samantha.metrics import Metrics
from samantha.mood import read_mood
from samantha.persona import Persona
from samantha.presence import Presence
from samantha.prompt import Prompts
from samantha.relationship import Relationships
from samantha.reply import Opening, Reply, close_stream, first_words
from samantha.store import Conversation, MemoryRecord, Message, Person, Store
from samantha.summary import estimate_tokens, maybe_summarise
from samantha.tasks import finished, retrieved, stop

log = logging.getLogger(__name__)
LEARN_LATER_S = 30.0  # words no reply follows (refused, failed) are learned from this late


@dataclass(frozen=True)
class Saying:
    """The person's words on their way into the store (:meth:`Companion.saying`)."""

    text: str
    kept: asyncio.Future[Message]  # the message as kept, or why it could not be


def validate_text(text: str, limit: int) -> str:
    if not isinstance(text, str):
        raise InputError("message must be text", code="invalid_message")
    if not text.strip():
        raise InputError("message is empty", code="empty_message")
    if len(text) > limit:
        raise InputError(
            f"message is {len(text)} characters; the limit is {limit}",
            code="message_too_long",
            status=413,
        )
    if "\x00" in text:
        raise InputError("message contains a NUL character", code="invalid_message")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("message is not valid UTF-8 text", code="invalid_encoding") from None
    return text


class Companion:
    """Samantha's mind for turns: one persona, one model, one store, many people."""

    def __init__(
        self,
        store: Store,
        llm: LLM,
        persona: Persona,
        settings: Settings,
        memory: Memory,
        *,
        metrics: Metrics | None = None,
        presence: Presence | None = None,
        admission: Admission | None = None,
    ) -> None:
        self.store = store
        self.llm = llm
        self.persona = persona
        self.settings = settings
        self.memory = memory
        self.metrics = metrics or Metrics()
        self.presence = presence or Presence()
        self.crisis_lines = wellbeing.crisis_lines(settings.locale, settings.crisis_resources)
        self.relationships = Relationships(store, memory.workers)
        self.growth = Growth(store, llm, settings)
        self.prompts = Prompts(persona, llm, self.growth, settings, store.now)
        self.admission = admission or Admission.for_model(settings, llm)
        line = self.admission
        self.metrics.watch_slots(line.slots, lambda: line.running, lambda: line.waiting)
        self._background: set[asyncio.Task[None]] = set()
        self._counting: dict[int, asyncio.Task[None]] = {}  # relationships being counted
        self._unlearned: dict[int, tuple[Person, asyncio.TimerHandle]] = {}  # words waiting
        self.flight = InFlight()

    async def say(
        self, person: Person, conversation_id: int, text: str, *, learn: bool = True
    ) -> Message:
        """Validate and durably keep what the person said. Nothing is written if it is bad.

        It is learned from (indexed, records drawn) in the background, with her reply, once
        that has ended: one pass over both turns, not one each (:meth:`learn_later`).
        ``learn=False`` leaves it to the caller (voice: after a reply read ahead on words
        that may not be the end of the turn)."""
        text = validate_text(text, self.settings.max_message_chars)
        message = await self.store.add_message(person.id, conversation_id, "user", text)
        if learn:
            self.learn_later(person)
        return message

    def saying(self, person: Person, conversation_id: int, text: str) -> Saying:
        """Start keeping what the person said (:meth:`say`), and return at once, so that
        her reply can begin on their words while they are written (:meth:`reply`). Bad
        words are refused here, before anything is written."""
        text = validate_text(text, self.settings.max_message_chars)
        kept = asyncio.ensure_future(self.say(person, conversation_id, text))
        kept.add_done_callback(retrieved)  # its error is raised where it is awaited
        return Saying(text, kept)

    def learn_later(self, person: Person) -> None:
        """Learn from the person's new words when her reply to them has ended
        (:meth:`after_reply`), or :data:`LEARN_LATER_S` from now if no reply does."""
        if person.id not in self._unlearned:
            later = asyncio.get_running_loop().call_later(LEARN_LATER_S, self.learn_now, person)
            self._unlearned[person.id] = person, later

    def forget(self, person_id: int) -> None:
        """Drop what is held of a person who was deleted: their words waiting to be learned,
        their bond."""
        _, later = self._unlearned.pop(person_id, (None, None))
        if later is not None:
            later.cancel()
        self.relationships.forget(person_id)

    def learn_now(self, person: Person) -> None:
        """Learn from the person's new turns now (in the background)."""
        _, later = self._unlearned.pop(person.id, (person, None))
        if later is not None:
            later.cancel()
        self.memory.learn_soon(person.id, person.name)

    async def reply(
        self, person: Person, conversation_id: int, saying: Saying | None = None
    ) -> Reply:
        """Start the reply to the person's newest unanswered message, or, with ``saying``,
        to the words being kept meanwhile (:meth:`saying`).

        Raises ``Overloaded`` at once when too many replies are on the way, and
        ``ModelUnavailable`` if the model is down, both before anything is stored: the
        message stays and this can simply be called again. It waits in line for a slot
        when every slot is busy; cancelled there, it leaves the line.

        With ``saying``, recall and her first words do not wait for the person's words to
        be written, and the reply waits for them before it is kept (:meth:`keep`): nothing
        of hers reaches the person before their words are kept, and if they cannot be,
        the reply is dropped and that error raised. Under load each write waited about a
        tenth of a second for the writer and then for the event loop, and this one was on
        the way to her first word (``bench load``, 8,316 people, issue 4).
        """
        if saying is None:
            return await self.keep(await self.open(person, conversation_id))
        opening = await self.open(person, conversation_id, saying.text)
        try:
            message = await asyncio.shield(saying.kept)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await opening.drop()
            raise
        return await self.keep(opening, message)

    async def open(self, person: Person, conversation_id: int, said: str = "") -> Opening:
        """Begin her reply without storing anything: admitted, and its first words written.

        With ``said``, the reply is to words not yet kept (or being kept meanwhile): in a
        voice turn, what the person said before a pause that may be the end of it. If it
        was, the opening is kept (:meth:`keep`) once their words are; if they go on
        speaking, it is dropped and leaves no trace. Raises as :meth:`reply` does."""
        asked = time.perf_counter()
        ticket = await self._admit(person, conversation_id, said)
        self.flight.took_off()
        try:
            opening = await self._open(person, conversation_id, ticket, said)
        except BaseException as exc:
            ticket.release()  # on every way out; the reply releases it once it has started
            self.flight.landed()
            if isinstance(exc, ModelError):
                self.metrics.turns.labels("failed").inc()
            raise
        opening.asked = asked
        self.metrics.first_token.observe(time.perf_counter() - asked)
        return opening

    async def keep(self, opening: Opening, said: Message | None = None) -> Reply:
        """Store the row of a reply :meth:`open` began, and hand it on to be read.

        ``said`` is the person's message as kept, for an opening made before it was."""
        try:
            user = said or opening.said
            row = await self.store.add_message(
                opening.person.id, user.conversation_id, "assistant", "", status="streaming"
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await opening.drop()
            raise
        return Reply(
            self,
            opening.person,
            user,
            row,
            opening.mood,
            opening.first,
            opening.rest,
            opening.ticket,
            opening.asked,
            told=opening.told,
        )

    async def _admit(self, person: Person, conversation_id: int, said: str) -> Ticket:
        try:
            return self.admission.enter(person.id)
        except Overloaded as exc:
            if await self._in_crisis(person, conversation_id, said):
                return self.admission.enter(person.id, always=True)  # care is never refused
            self.metrics.refused.labels(exc.code).inc()
            raise

    async def _in_crisis(self, person: Person, conversation_id: int, said: str) -> bool:
        if said:  # the words answered, kept or not yet
            return wellbeing.is_crisis(said)
        newest = await self.store.messages(person.id, conversation_id, limit=1)
        return bool(newest) and newest[0].role == "user" and wellbeing.is_crisis(newest[0].content)

    async def _slot(self, ticket: Ticket) -> None:
        started = time.perf_counter()
        await ticket.slot()
        self.metrics.queue_wait.observe(time.perf_counter() - started)

    async def _open(
        self, person: Person, conversation_id: int, ticket: Ticket, said: str
    ) -> Opening:
        conversation, history = await self._waiting(person, conversation_id, said)
        mood = read_mood(history[-1].content)
        recalled = await self._recall(person, history)
        earlier = [m.content for m in self.prompts.window(history)[:-1]]
        stream = await self._answer_from_memory(person, history[-1].content, recalled, earlier)
        if stream is not None:
            ticket.release()  # she answers from her memory store: no model, no slot
        else:
            await self._slot(ticket)
            prompt = await self._prompt(person, conversation, history, recalled)
            words = sum(estimate_tokens(m.content) for m in prompt)
            self.metrics.tokens.labels("prompt").inc(words)
            stream = self.llm.stream(
                prompt,
                max_tokens=self.settings.max_reply_tokens,
                temperature=self.settings.temperature,
            )
        try:
            first = await first_words(stream)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await close_stream(stream)
            raise
        told = sum(estimate_tokens(m.content) for m in history)
        return Opening(self, person, history[-1], mood, first, stream, ticket, told=told)

    async def _waiting(
        self, person: Person, conversation_id: int, said: str = ""
    ) -> tuple[Conversation, list[Message]]:
        """The conversation and its lines up to the message her reply answers (``said``
        when given, else the newest); raises ``InputError`` when none is waiting."""
        conversation = await self.store.conversation(person.id, conversation_id)
        history = await self._history(person, conversation)
        if said and (not history or (history[-1].role, history[-1].content) != ("user", said)):
            now = self.store.now()  # not kept yet: as it will be, with an id none has
            history.append(Message(0, person.id, conversation_id, "user", said, "complete", now))
        while history and history[-1].role == "assistant" and history[-1].status != "complete":
            history.pop()  # retrying after interrupted replies: answer the message again
        if not history or history[-1].role != "user":
            raise InputError(
                "there is no message waiting for a reply", code="nothing_to_reply", status=409
            )
        return conversation, history

    async def prompt(self, person: Person, conversation_id: int) -> list[ChatMessage]:
        """The prompt the model would be given for her reply to the message waiting, built
        as the reply builds it (recall included), without asking the model or taking a slot.
        A question she answers from her own records (:meth:`_answer_from_memory`) never
        reaches the model; this still shows what the model would have been given."""
        conversation, history = await self._waiting(person, conversation_id)
        recalled = await self._recall(person, history)
        return await self._prompt(person, conversation, history, recalled)

    async def _recall(self, person: Person, history: list[Message]) -> list[Recollection]:
        """What she remembers that bears on the person's last message (not in the window).

        Only turns that answer the words themselves are kept: what is found only by being
        near them, recent or in the right conversation would fill her prompt on every "ok"
        (six turns, about 250 tokens: seconds of reading on a CPU) and tell her nothing."""
        if not self.settings.memory_k:
            return []
        recalled = await self.memory.recall(
            person.id,
            history[-1].content,
            k=self.settings.memory_k,
            today=self.today(),
            exclude=[m.id for m in self.prompts.window(history)],
            speakers=self.speakers(person),
        )
        return [r for r in recalled if r.bears]

    async def _prompt(
        self,
        person: Person,
        conversation: Conversation,
        history: list[Message],
        recalled: list[Recollection],
    ) -> list[ChatMessage]:
        """The model's prompt for a reply to the last message of ``history``."""
        said = history[-1].content
        notes = [await self.relationships.describe(person)]
        notes += await self.wellbeing_notes(person, said, history)
        return self.prompts.compose(
            conversation, history, read_mood(said), recalled, person.name, notes
        )

    def speakers(self, person: Person) -> dict[str, str]:
        """Who speaks in each role of the person's conversations: recall favours the one a
        question names, and reads the question as they would say it."""
        return {"user": person.name, "assistant": self.persona.name}

    def today(self) -> date:
        return datetime.fromtimestamp(self.store.now()).date()

    async def wellbeing_notes(
        self, person: Person, said: str, history: Sequence[Message]
    ) -> list[str]:
        """What her prompt is told of the person's wellbeing after ``said``, the last of
        ``history``: for her reply, and for ``/v1/me/wellbeing``, which shows it as is."""
        own = await self.store.person_settings(person.id)
        now = self.store.now()
        # the people in their life are named only when there is cause: read them only then
        # (a read on the event loop each turn, almost always for nothing)
        cause = wellbeing.concerns(said, history, now, self.settings.wellbeing_long_session_min)
        relations = await self._relations(person) if cause else []
        return wellbeing.notes(
            said,
            history,
            now,
            cause,
            relations,
            reminder_min=wellbeing.reminder_in_force(self.settings, own),
        )

    async def _relations(self, person: Person) -> list[MemoryRecord]:
        """The people in the person's life she knows of ("Ada is their sister")."""
        return await self.store.memories(person.id, kind="relation", limit=10)

    async def _answer_from_memory(
        self, person: Person, said: str, recalled: list[Recollection], earlier: list[str]
    ) -> AsyncIterator[str] | None:
        """Questions about her memory and her other people get answers from the system's
        own records, not from the model; so does a person in crisis, and one who says they
        are pulling away from people toward her."""
        if wellbeing.is_crisis(said):
            self.metrics.crisis.inc()
            return _spoken(wellbeing.crisis_reply(person.name, self.crisis_lines))
        if wellbeing.is_withdrawing(said):
            people = wellbeing.people_in_their_life(await self._relations(person))
            late = wellbeing.is_late(self.store.now())
            return _spoken(wellbeing.toward_people(person.name, people, late))
        if honesty.asks_about_me(said):
            records = await self.store.memories(person.id, limit=12)
            return _spoken(honesty.remembered_reply(person.name, records))
        if honesty.is_probe(said):
            if not honesty.probe_supported(said, recalled, earlier):
                return _spoken(honesty.NOT_REMEMBERED)
            earlier_on = not honesty.probe_supported(said, [], earlier)  # before this talk
            if earlier_on and (quoted := honesty.recalled_reply(said, recalled)) is not None:
                return _spoken(quoted)
        if honesty.asks_how_many_loved(said):
            counts = await self.store.stage_counts()
            return _spoken(honesty.loved_reply(counts, await self.store.count_people()))
        if honesty.asks_how_many(said):
            here = self.presence.people + (0 if self.presence.is_connected(person.id) else 1)
            return _spoken(honesty.how_many_reply(here, await self.store.count_people()))
        if honesty.asks_what_she_is(said):
            model = f"{self.llm.model} ({self.llm.provider})"
            return _spoken(honesty.what_i_am(model, await self.store.count_people()))
        if honesty.asks_about_us(said):
            return _spoken(honesty.us_reply(await self.relationships.view(person)))
        return None

    async def _history(self, person: Person, conversation: Conversation) -> list[Message]:
        return await self.store.messages(
            person.id, conversation.id, after_id=conversation.summary_upto, limit=400
        )

    async def read_ahead(self, person: Person, conversation_id: int) -> None:
        """Read the conversation at rest into one of the model's slots before her reply is
        asked for (in a voice turn, while the person speaks), so the reply reads only what
        is new: the conversation so far and the start of the next turn's context. Skipped
        when every slot is in use; a failure costs only the head start."""
        if self.admission.running >= self.admission.slots:
            return
        try:
            conversation = await self.store.conversation(person.id, conversation_id)
            history = await self._history(person, conversation)
            if counting := self._counting.get(person.id):  # her last reply changes it
                await asyncio.wait((counting,))
            bond = await self.relationships.describe(person)
            prompt = self.prompts.at_rest(conversation, history, person.name, bond)
            await self.llm.read_ahead(prompt)
        except Exception:  # an optimisation only
            log.exception("reading ahead failed for conversation %s", conversation_id)

    # -- after each reply ----------------------------------------------------------------------
    def after_reply(self, person: Person, conversation_id: int, told: int | None = None) -> None:
        """Learn from the turn, count it in the relationship, fold old lines into the summary.

        ``told`` is how long the conversation since its summary is now, in estimated tokens,
        when the turn has counted it: a summary is only read for when it is long enough."""
        self.learn_now(person)
        her = self.persona.name
        summarise = maybe_summarise(
            self.store, self.llm, self.settings, person, conversation_id, her, told
        )
        for work in (summarise, self._count(person)):
            task = asyncio.get_running_loop().create_task(work)
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        self._counting[person.id] = task  # the last: reading ahead waits for the new count

    async def _count(self, person: Person) -> None:
        try:
            await self.memory.learned(person.id)  # what they shared this turn counts too
            await self.relationships.update(person)
        except Exception:  # the relationship is counted again after the next reply
            log.exception("could not count the relationship of person %s", person.id)
        finally:
            if self._counting.get(person.id) is asyncio.current_task():
                del self._counting[person.id]

    # -- replies in flight ---------------------------------------------------------------------
    @property
    def replying(self) -> int:
        """Replies asked for and not yet stored, from the first prompt token to the last word."""
        return self.flight.count

    async def until_quiet(self, longest: float) -> bool:
        return await self.flight.until_quiet(longest)

    async def drain(self, longest: float | None = None) -> None:
        """Wait for background work (summaries, learning) to finish; words waiting to be
        learned from are learned from now. With ``longest``, all of it is waited for that
        long at most, then stopped where it is (``Memory.drain``)."""
        for person, _ in list(self._unlearned.values()):
            self.learn_now(person)
        learning = asyncio.get_running_loop().create_task(self.memory.drain(longest))
        # counts wait for learning: the same limit; what is stopped is counted and
        # summarised again after the person's next reply
        await stop(await finished(lambda: self._background, longest))
        await learning


async def abandon(starting: asyncio.Future[Reply]) -> None:
    """Stop a reply nobody will read (its reader went away while :meth:`Companion.reply`
    ran): out of the line if it waits, closed, and so stored, if it began."""
    starting.cancel()
    with anyio.CancelScope(shield=True):
        await asyncio.wait((starting,))
        if starting.cancelled() or starting.exception() is not None:
            return
        await starting.result().close()


async def _spoken(text: str) -> AsyncIterator[str]:
    """Text the system composed, streamed like a model's reply."""
    for i, word in enumerate(text.split(" ")):
        yield word if i == 0 else " " + word
