"""``samantha voice``: say something in a WAV file, hear her answer in another.

The same spoken turn as the voice socket (:class:`samantha.voice.session.VoiceSession`),
with the file as the person's whole turn and her phrases joined into one file.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from typing import Any

from samantha.auth import clean_name
from samantha.cli.console import err, out
from samantha.cli.talk import not_departing
from samantha.config import Settings
from samantha.errors import InputError, SamanthaError
from samantha.files import write_atomically
from samantha.system import running
from samantha.voice import Voice
from samantha.voice.audio import Sound, read_wav
from samantha.voice.session import VoiceSession

FEED_BYTES = 32_000  # one second of audio at a time, as a client would stream it


class FileChannel:
    """Collects her phrases' audio and prints the conversation as it happens."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pcm = bytearray()
        self.rate = 0
        self.problem: str | None = None
        self.understood = False

    async def send(self, event: str, **fields: Any) -> None:
        if event == "heard":
            self.understood = True
            out.print(f"you: {fields['text']}", markup=False)
        elif event == "not_heard":
            out.print(f"{self.name}: {fields['text']}", markup=False)
        elif event == "done":
            out.print(f"{self.name}: {fields['message'].content}", markup=False)
        elif event == "speaking":
            self.rate = fields["sample_rate"]
        elif event == "error":
            self.problem = fields["message"]

    async def send_audio(self, pcm: bytes) -> None:
        self.pcm += pcm


async def _voice(settings: Settings, args: argparse.Namespace, name: str) -> int:
    heard = read_wav(args.input.read_bytes(), str(args.input))
    if heard.seconds > settings.voice_max_utterance_s:
        raise InputError(
            f"{args.input} is {heard.seconds:.0f} s long; she takes at most "
            f"{settings.voice_max_utterance_s:.0f} s at once (SAMANTHA_VOICE_MAX_UTTERANCE_S)"
        )
    if args.output.exists() and not args.force:
        raise InputError(f"{args.output} already exists; choose another name or use --force")
    async with running(settings, load_model=False) as sam:
        await not_departing(sam, name)
        voice = Voice(settings)
        await asyncio.gather(sam.llm.start(), voice.start())
        if not voice.available:
            raise SamanthaError(voice.error or "no voice")
        person = await sam.person_named(name, create=True)
        assert person is not None
        latest = None if args.new else await sam.store.latest_conversation(person.id)
        conversation = latest or await sam.store.create_conversation(person.id)
        channel = FileChannel(sam.persona.name)
        session = VoiceSession(
            sam.companion, voice, person, conversation.id, channel, hands_free=False
        )
        for start in range(0, len(heard.pcm), FEED_BYTES):
            await session.hear(heard.pcm[start : start + FEED_BYTES])
        await session.end_of_turn()
        await session.finished()
    if channel.problem:
        raise SamanthaError(channel.problem)
    write_atomically(args.output, Sound(bytes(channel.pcm), channel.rate).wav(), force=args.force)
    err.print(f"her answer is in {args.output} ({len(channel.pcm) / 2 / channel.rate:.1f} s)")
    return 0 if channel.understood else 1


def cmd_voice(args: argparse.Namespace, settings: Settings) -> int:
    name = args.person or getpass.getuser()
    clean_name(name)
    return asyncio.run(_voice(settings, args, name))
