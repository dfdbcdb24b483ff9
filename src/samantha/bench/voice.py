"""``samantha bench voice``: from the end of a person's speech to her first sound, p50/p95.

The real server runs as its own process with the operator's settings (the ``make run``
defaults unless told otherwise) on a fresh home. A client streams spoken questions to the
voice socket in real time, 20 ms at a time, as a microphone would, then keeps streaming
silence while it listens. ``first_audio_ms`` runs from the moment the question's speech
ends in the stream to the first byte of her audio received: hands-free, that includes the
pause she waits for (``SAMANTHA_VOICE_END_SILENCE_MS``); ``--hold`` sends ``end`` as the
speech ends instead, as a released button does.

The questions are one conversation, spoken by espeak-ng (a different voice from hers when
Piper speaks for her); one warm-up question is not counted. After each answer the client
listens to it, as a person would (as long as her audio lasts, and a breath), before it
asks the next: the conversation is read into the model's cache while she is heard. The
breakdown comes from the server's own ``timings`` for each turn: speech to text, until
her reply is asked for, her first token, her first phrase, and speaking it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from samantha.auth import add_person
from samantha.config import Settings
from samantha.system import running
from samantha.voice.audio import LISTEN_RATE, from_pcm, resample, to_pcm, trimmed
from samantha.voice.tts import EspeakTTS, load_tts

QUESTIONS = [
    "Hi Samantha, how are you today?",
    "I had a really long day at work.",
    "What should I cook for dinner tonight?",
    "Can you tell me something that will make me smile?",
    "I think I want to learn to paint.",
    "My sister is coming to visit next week.",
    "What do you do when you can't sleep?",
    "I went for a run this morning.",
    "Do you like music?",
    "Thank you, that helps a lot.",
    "What is your favourite season?",
    "I am a bit nervous about tomorrow.",
]
FRAME = 320  # samples: 20 ms
BREAKDOWN = ("stt_ms", "asked_ms", "first_token_ms", "first_sentence_ms", "tts_ms")


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) == 1:
        return {"p50": round(values[0]), "p95": round(values[0])}
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {"p50": round(statistics.median(values)), "p95": round(cuts[18])}


async def _spoken(text: str) -> bytes:
    """A question as a person would say it: espeak-ng's plain voice (the configured voice
    when espeak-ng is missing), at the rate she listens to."""
    speaker = EspeakTTS("en-us")
    if speaker.program is None:
        return await _spoken_by(load_tts("auto"), text)
    return await _spoken_by(speaker, text)


async def _spoken_by(speaker: Any, text: str) -> bytes:
    sound = await speaker.speak(text)
    # no silence after it: the end of the speech must be where the stream says it is
    return to_pcm(trimmed(resample(from_pcm(sound.pcm), sound.rate, LISTEN_RATE)))


async def _turn(ws: ClientConnection, question: bytes, hold: bool) -> dict[str, Any]:
    """Stream one question in real time; time her first sound; wait for her to finish."""
    lead = bytes(2 * LISTEN_RATE // 4)  # a quarter second of silence first
    stream = lead + question
    began = time.perf_counter()
    speech_ends = began + len(stream) / 2 / LISTEN_RATE
    first: list[float] = []
    done: dict[str, Any] = {}
    heard = 0.0  # seconds of her voice received
    rate = LISTEN_RATE

    async def talk() -> None:
        frames = 0
        pcm = memoryview(stream)
        while not done:
            start = frames * FRAME * 2
            chunk = bytes(pcm[start : start + FRAME * 2]) or bytes(FRAME * 2)
            if hold and start == len(stream):
                await ws.send(json.dumps({"type": "end"}))
            await ws.send(chunk)
            frames += 1
            due = began + frames * FRAME / LISTEN_RATE
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    talking = asyncio.create_task(talk())
    try:
        async for frame in ws:
            if isinstance(frame, bytes):
                if not first:
                    first.append(time.perf_counter())
                heard += len(frame) / 2 / rate
                continue
            event = json.loads(frame)
            if event["type"] == "speaking":
                rate = event["sample_rate"]
            if event["type"] in ("heard", "not_heard"):
                done.setdefault("heard", event["text"])
            if event["type"] == "error":
                raise RuntimeError(f"the server said: {event['message']}")
            if event["type"] == "done":
                done.update(event)
                break
    finally:
        talking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await talking
    if not first:
        raise RuntimeError(f"no audio came back for {done.get('heard')!r}")
    await _listen(ws, first[0] + heard + 0.5 - time.perf_counter())
    timings = dict(done["timings"])
    timings["server_first_audio_ms"] = timings["first_audio_ms"]
    timings["first_audio_ms"] = round(1000 * (first[0] - speech_ends), 1)
    return {"heard": done.get("heard"), "reply": done["message"]["content"], **timings}


async def _listen(ws: ClientConnection, seconds: float) -> None:
    """Listen to her (silence from the microphone) for ``seconds``."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        await ws.send(bytes(FRAME * 2))
        await asyncio.sleep(FRAME / LISTEN_RATE)


async def _serve(home: Path, settings: Settings, port: int) -> asyncio.subprocess.Process:
    env = dict(os.environ)
    env.update(
        SAMANTHA_HOME=str(home),
        SAMANTHA_MODELS_DIR=str(settings.model_dir),
        SAMANTHA_PROACTIVE_INTERVAL_S="0",
    )
    log = (home / "serve.log").open("w")
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "samantha", "serve", "--port", str(port),
        env=env, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(1200):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url + "/readyz")).status_code == 200:
                    return server
            if server.returncode is not None:
                break
            await asyncio.sleep(0.25)
    server.terminate()
    raise RuntimeError(f"the server did not get ready; see {home / 'serve.log'}")


async def _measure(port: int, token: str, args: argparse.Namespace, out: Console) -> list[Any]:
    mode = "hold" if args.hold else "hands-free"
    url = f"ws://127.0.0.1:{port}/v1/voice?mode={mode}"
    spoken = [await _spoken(q) for q in QUESTIONS]
    turns = []
    offered = [Subprotocol("samantha.voice"), Subprotocol(f"bearer.{token}")]
    async with connect(url, subprotocols=offered, open_timeout=120) as ws:
        ready = json.loads(await ws.recv())
        if ready["type"] != "ready":
            raise RuntimeError(f"the voice socket said: {ready}")
        for n in range(args.utterances + 1):
            turn = await _turn(ws, spoken[n % len(spoken)], args.hold)
            label = "warm-up" if n == 0 else f"{n}/{args.utterances}"
            out.print(
                f"  {label:>7}  first audio {turn['first_audio_ms']:6.0f} ms  "
                f"heard {turn['heard']!r}  she said {turn['reply'][:60]!r}",
                markup=False,
            )
            if n:
                turns.append(turn)
    return turns


def _figures(turns: list[dict[str, Any]], settings: Settings, hold: bool) -> dict[str, Any]:
    figures: dict[str, Any] = {"first_audio_ms": _percentiles([t["first_audio_ms"] for t in turns])}
    for key in BREAKDOWN:
        figures[key] = _percentiles([t[key] for t in turns if t[key] is not None])
    figures["server_first_audio_ms"] = _percentiles([t["server_first_audio_ms"] for t in turns])
    figures.update(
        mode="hold" if hold else "hands-free",
        end_silence_ms=0 if hold else settings.voice_end_silence_ms,
        model=settings.llm,
        stt=settings.stt,
        tts=settings.tts,
        utterances=len(turns),
        begun_in_pause=sum(bool(t.get("begun_in_pause")) for t in turns),
        cores=len(os.sched_getaffinity(0)),
        load_average=[round(x, 2) for x in os.getloadavg()],
        turns=turns,
    )
    return figures


async def run_voice_bench(settings: Settings, args: argparse.Namespace, out: Console) -> int:
    with tempfile.TemporaryDirectory(prefix="samantha-voice-") as tmp:
        home = Path(tmp)
        seeded = settings.model_copy(update={"home": home, "models_dir": settings.model_dir})
        async with running(seeded, load_model=False) as sam:
            _, token = await add_person(sam.store, "bench")
        port = _free_port()
        out.print(f"starting the server ({settings.llm}, {settings.tts} voice)…")
        server = await _serve(home, settings, port)
        try:
            turns = await _measure(port, token, args, out)
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), 60)
    figures = _figures(turns, settings, args.hold)
    _print(figures, out)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _print(figures: dict[str, Any], out: Console) -> None:
    table = Table("measure", "p50 ms", "p95 ms", title=f"bench voice: {figures['model']}")
    for key in ("first_audio_ms", "server_first_audio_ms", *BREAKDOWN):
        table.add_row(key, str(figures[key]["p50"]), str(figures[key]["p95"]))
    out.print(table)
    out.print(
        f"{figures['utterances']} utterances ({figures['begun_in_pause']} answered from the "
        f"pause before the end), {figures['mode']}, pause "
        f"{figures['end_silence_ms']} ms, voice {figures['tts']}, load {figures['load_average']}"
    )
