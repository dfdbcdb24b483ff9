"""The voice socket: a spoken question gets her words and her voice; bad audio, bad
messages and bad tokens get clear errors, never a crash. Real ears and voice, scripted
model."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from samantha.config import Settings
from samantha.voice import LISTEN_RATE, Voice
from samantha.voice.audio import from_pcm, resample, to_pcm
from samantha.web import create_app
from tests.conftest import silence, spoken
from tests.fakes import ScriptedLLM

QUESTION = "Tell me something that will make me smile."
ANSWER = "Oh, I love that you asked. Think of a puppy in a raincoat. Does that help?"
Event = dict[str, Any]


@pytest.fixture
def client(settings: Settings, fake_model: ScriptedLLM, voice: Voice) -> Iterator[TestClient]:
    with TestClient(create_app(settings, llm=fake_model, speech=voice)) as c:
        yield c


@pytest.fixture
def token(client: TestClient, settings: Settings) -> str:
    admin = (settings.home / "admin.token").read_text().strip()
    made = client.post("/v1/people", json={"name": "theo"}, headers=auth(admin))
    return str(made.json()["token"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def offer(token: str) -> list[str]:
    return ["samantha.voice", f"bearer.{token}"]


def stream(ws: WebSocketTestSession, pcm: bytes) -> None:
    """Send audio 20 ms at a time, as a microphone would."""
    for start in range(0, len(pcm), 640):
        ws.send_bytes(pcm[start : start + 640])


def until(ws: WebSocketTestSession, *ends: str) -> list[Event]:
    """Events (and {"type": "audio"} for audio) up to and including one of ``ends``."""
    seen: list[Event] = []
    while True:
        frame = ws.receive()
        if frame["type"] == "websocket.close":
            seen.append({"type": "closed", "code": frame["code"]})
            return seen
        if frame.get("bytes") is not None:
            seen.append({"type": "audio", "pcm": frame["bytes"]})
            if "audio" in ends:
                return seen
            continue
        seen.append(json.loads(frame["text"]))
        if seen[-1]["type"] in ends:
            return seen


def kinds(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_a_spoken_question_gets_her_words_then_her_voice(
    client: TestClient, token: str, fake_model: ScriptedLLM, voice: Voice
) -> None:
    fake_model.replies = [ANSWER]
    with client.websocket_connect("/v1/voice", subprotocols=offer(token)) as ws:
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["sample_rate"] == 16000
        stream(ws, silence(0.3) + spoken(QUESTION) + silence(1.0))
        events = until(ws, "done")
    assert kinds(events)[:2] == ["listening", "heard"]
    heard = events[1]
    assert words(heard["text"]) == words(QUESTION)
    assert heard["message"]["role"] == "user" and heard["message"]["content"] == heard["text"]
    assert "".join(e["text"] for e in events if e["type"] == "reply") == ANSWER
    speaking = [e for e in events if e["type"] == "speaking"]
    audio = [e["pcm"] for e in events if e["type"] == "audio"]
    assert [s["text"] for s in speaking] == [
        "Oh, I love that you asked.",
        "Think of a puppy in a raincoat.",
        "Does that help?",
    ]
    assert [len(a) for a in audio] == [s["bytes"] for s in speaking]
    done = events[-1]
    assert done["message"]["content"] == ANSWER and done["message"]["status"] == "complete"
    assert set(done["timings"]) == {
        "stt_ms",
        "asked_ms",
        "first_token_ms",
        "first_sentence_ms",
        "tts_ms",
        "first_audio_ms",
        "begun_in_pause",
    }
    stored = client.get(
        f"/v1/conversations/{ready['conversation_id']}/messages", headers=auth(token)
    )
    assert [(m["role"], m["content"]) for m in stored.json()] == [
        ("user", heard["text"]),
        ("assistant", ANSWER),
    ]


def test_her_answer_is_begun_in_the_pause_before_the_end(
    client: TestClient,
    token: str,
    fake_model: ScriptedLLM,
    voice: Voice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pause that ends a turn is heard before it is long enough to be the end: the
    words are transcribed once, and her reply to them is begun before they are kept, then
    kept with them: asked for once, stored once, after their words."""
    heard: list[int] = []
    transcribe = voice.stt.transcribe

    async def counted(samples: Any) -> Any:
        heard.append(len(samples))
        return await transcribe(samples)

    kept_when_asked: list[int] = []

    async def note_what_is_kept() -> None:
        sam = client.app.state.samantha  # type: ignore[attr-defined]
        kept_when_asked.append(len(await sam.store.messages(person_id, conversation_id)))

    monkeypatch.setattr(voice.stt, "transcribe", counted)
    fake_model.before_stream = note_what_is_kept
    fake_model.replies = [ANSWER]
    with client.websocket_connect("/v1/voice", subprotocols=offer(token)) as ws:
        ready = ws.receive_json()
        conversation_id = ready["conversation_id"]
        person_id = client.get("/v1/me", headers=auth(token)).json()["id"]
        stream(ws, silence(0.3) + spoken(QUESTION) + silence(1.0))
        events = until(ws, "done")
    said = next(e["text"] for e in events if e["type"] == "heard")
    assert heard.count(heard[-1]) == 1  # the last pause's words were the turn's: not heard again
    (asked,) = fake_model.prompts  # her reply was asked for once
    assert asked[-1].content == said
    assert kept_when_asked == [0]  # before their words were kept: in the pause
    assert events[-1]["timings"]["begun_in_pause"] is True
    assert events[-1]["message"]["content"] == ANSWER
    stored = client.get(f"/v1/conversations/{conversation_id}/messages", headers=auth(token))
    assert [(m["role"], m["content"]) for m in stored.json()] == [
        ("user", said),
        ("assistant", ANSWER),
    ]


def test_a_pause_that_was_not_the_end_leaves_no_trace(
    client: TestClient, token: str, fake_model: ScriptedLLM
) -> None:
    """Her reply begun in a pause is dropped when the person goes on: one answer, to all
    they said, and nothing stored of the reply to half of it."""
    first, second = "I went for a run this morning.", "It rained the whole way."
    fake_model.replies = ["To half of it.", "Running in the rain sounds wonderful."]
    gap = silence(0.3)  # a breath: long enough to be heard as a pause, not as the end
    with client.websocket_connect("/v1/voice", subprotocols=offer(token)) as ws:
        ready = ws.receive_json()
        stream(ws, silence(0.3) + spoken(first) + gap)
        waited = time.monotonic() + 30
        while not fake_model.prompts and time.monotonic() < waited:  # she begins to answer
            time.sleep(0.02)
        stream(ws, spoken(second) + silence(1.0))
        events = until(ws, "done")
    said = next(e["text"] for e in events if e["type"] == "heard")
    assert "rained" in words(said) and "run" in words(said)
    assert len(fake_model.prompts) == 2  # begun in the pause, then again for the whole
    assert words(fake_model.prompts[0][-1].content) == words(first)
    assert fake_model.prompts[-1][-1].content == said
    stored = client.get(
        f"/v1/conversations/{ready['conversation_id']}/messages", headers=auth(token)
    ).json()
    assert [(m["role"], m["status"]) for m in stored] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert stored[0]["content"] == said
    assert stored[1]["content"] == events[-1]["message"]["content"] != "To half of it."
    companion = client.app.state.samantha.companion  # type: ignore[attr-defined]
    assert (companion.admission.running, companion.replying) == (0, 0)  # its slot given back


async def test_her_voice_says_her_words(
    client: TestClient, token: str, fake_model: ScriptedLLM, voice: Voice
) -> None:
    fake_model.replies = ["Do you like music?"]
    with client.websocket_connect("/v1/voice", subprotocols=offer(token)) as ws:
        ws.receive_json()
        stream(ws, spoken(QUESTION) + silence(1.0))
        events = until(ws, "done")
    (speaking,) = [e for e in events if e["type"] == "speaking"]
    (audio,) = [e["pcm"] for e in events if e["type"] == "audio"]
    samples = resample(from_pcm(audio), speaking["sample_rate"], LISTEN_RATE)
    assert words((await voice.stt.transcribe(samples)).text) == ["do", "you", "like", "music"]


def test_hold_to_talk_waits_for_the_release(
    client: TestClient, token: str, fake_model: ScriptedLLM
) -> None:
    with client.websocket_connect("/v1/voice?mode=hold", subprotocols=offer(token)) as ws:
        assert ws.receive_json()["mode"] == "hold"
        stream(ws, spoken(QUESTION) + silence(1.5))  # a long pause: still holding
        assert ws.receive_json()["type"] == "listening"
        ws.send_text(json.dumps({"type": "end"}))
        events = until(ws, "done")
    assert kinds(events)[0] == "heard"


def test_the_token_may_come_as_a_header(client: TestClient, token: str) -> None:
    with client.websocket_connect("/v1/voice", headers=auth(token)) as ws:
        assert ws.receive_json()["type"] == "ready"


@pytest.mark.parametrize("offered", [[], ["samantha.voice"], ["samantha.voice", "bearer.nope"]])
def test_no_valid_token_no_voice(client: TestClient, offered: list[str]) -> None:
    with client.websocket_connect("/v1/voice", subprotocols=offered) as ws:
        events = until(ws, "closed")
    assert events[0]["type"] == "error" and events[0]["code"] == "unauthorized"
    assert events[-1] == {"type": "closed", "code": 4401}


@pytest.mark.parametrize(
    ("query", "code", "close"),
    [
        ("conversation_id=999", "not_found", 4404),
        (f"conversation_id={2**64}", "not_found", 4404),  # more than SQLite can hold
        (f"conversation_id={2**63}", "not_found", 4404),
        ("conversation_id=0", "not_found", 4404),
        ("conversation_id=-1", "not_found", 4404),
        ("mode=shout", "bad_mode", 4400),
    ],
)
def test_unknown_conversations_and_modes_are_refused(
    client: TestClient, token: str, query: str, code: str, close: int
) -> None:
    with client.websocket_connect(f"/v1/voice?{query}", subprotocols=offer(token)) as ws:
        events = until(ws, "closed")
    assert [events[0]["code"], events[-1]["code"]] == [code, close]


def test_malformed_frames_get_errors_and_the_talk_goes_on(client: TestClient, token: str) -> None:
    with client.websocket_connect("/v1/voice", subprotocols=offer(token)) as ws:
        ws.receive_json()
        ws.send_text("hello?")
        assert ws.receive_json()["code"] == "bad_message"
        ws.send_text(json.dumps({"type": "dance"}))
        assert ws.receive_json()["code"] == "bad_message"
        ws.send_bytes(b"\x01\x02\x03")
        assert ws.receive_json()["code"] == "bad_audio"
        ws.send_text(json.dumps({"type": "end"}))
        assert kinds(until(ws, "audio")) == ["not_heard", "speaking", "audio"]


def test_a_huge_frame_closes_the_socket(client: TestClient, token: str) -> None:
    with client.websocket_connect("/v1/voice", subprotocols=offer(token)) as ws:
        ws.receive_json()
        ws.send_bytes(bytes(1_000_000))
        events = until(ws, "closed")
    assert [events[0]["code"], events[-1]["code"]] == ["frame_too_large", 1009]


def noise(seconds: float) -> bytes:
    rng = np.random.default_rng(3)
    return to_pcm((rng.standard_normal(int(LISTEN_RATE * seconds)) * 0.3).astype(np.float32))


@pytest.mark.parametrize("sound", [silence(2), noise(2)], ids=["silence", "white-noise"])
def test_silence_and_noise_are_not_heard_politely(
    client: TestClient, token: str, fake_model: ScriptedLLM, sound: bytes
) -> None:
    with client.websocket_connect("/v1/voice", subprotocols=offer(token)) as ws:
        conversation = ws.receive_json()["conversation_id"]
        stream(ws, sound)
        ws.send_text(json.dumps({"type": "end"}))
        events = until(ws, "audio")
    assert kinds(events) == ["not_heard", "speaking", "audio"]
    assert events[0]["reason"] == "no_speech" and "didn't catch that" in events[0]["text"]
    assert fake_model.prompts == []  # no turn, nothing stored
    listed = client.get(f"/v1/conversations/{conversation}/messages", headers=auth(token))
    assert listed.json() == []


def test_speaking_too_long_is_refused_politely(
    settings: Settings, fake_model: ScriptedLLM, voice: Voice, tmp_path: Path
) -> None:
    brief = settings.model_copy(update={"voice_max_utterance_s": 2.0})
    short = Voice(brief, stt=voice.stt, tts=voice.tts, judge=voice.judge)
    with TestClient(create_app(settings, llm=fake_model, speech=short)) as client:
        admin = (settings.home / "admin.token").read_text().strip()
        token = client.post("/v1/people", json={"name": "ada"}, headers=auth(admin)).json()
        with client.websocket_connect("/v1/voice", subprotocols=offer(token["token"])) as ws:
            ws.receive_json()
            stream(ws, spoken(f"{QUESTION} {QUESTION} {QUESTION}"))
            events = until(ws, "audio")
    assert kinds(events) == ["listening", "not_heard", "speaking", "audio"]
    assert events[1]["reason"] == "too_long"


def test_speaking_over_her_stops_her(
    client: TestClient, token: str, fake_model: ScriptedLLM
) -> None:
    fake_model.replies = [" ".join(["Let me tell you a long story."] * 12), "Okay."]
    fake_model.delay = 0.05
    question = spoken(QUESTION)
    with client.websocket_connect("/v1/voice", subprotocols=offer(token)) as ws:
        conversation = ws.receive_json()["conversation_id"]
        stream(ws, question + silence(1.0))
        until(ws, "audio")  # she has begun to speak
        stream(ws, question + silence(1.0))
        events = until(ws, "done")
    assert "interrupted" in kinds(events)
    assert events[-1]["message"]["content"] == "Okay."
    listed = client.get(f"/v1/conversations/{conversation}/messages", headers=auth(token)).json()
    assert [(m["role"], m["status"]) for m in listed] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]


def test_when_the_model_is_down_the_words_are_kept(
    client: TestClient, token: str, fake_model: ScriptedLLM
) -> None:
    fake_model.down = True
    with client.websocket_connect("/v1/voice", subprotocols=offer(token)) as ws:
        ws.receive_json()
        stream(ws, spoken(QUESTION) + silence(1.0))
        events = until(ws, "error")
    error = events[-1]
    assert error["code"] == "operating_system_not_found"
    assert error["kept_message"]["content"] == events[1]["text"]


def test_without_speech_models_the_socket_says_so(
    settings: Settings, fake_model: ScriptedLLM
) -> None:
    with TestClient(create_app(settings, llm=fake_model)) as client:  # SAMANTHA_STT=none
        assert client.get("/v1/status").json()["voice"]["available"] is False
        admin = (settings.home / "admin.token").read_text().strip()
        made = client.post("/v1/people", json={"name": "theo"}, headers=auth(admin)).json()
        with client.websocket_connect("/v1/voice", subprotocols=offer(made["token"])) as ws:
            events = until(ws, "closed")
    assert [events[0]["code"], events[-1]["code"]] == ["voice_unavailable", 4503]
