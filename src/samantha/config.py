"""One settings object, read once: environment ``SAMANTHA_*``, then ``.env``, then defaults."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VECTOR_CACHE_MB = 2048  # people's dense vectors held for recall, by default (MB)
# the bundled sentence-embedding models, blended (samantha.embeddings.Blend)
DEFAULT_EMBEDDER = "onnx:minilm+e5:small"
EMBEDDERS = f"{DEFAULT_EMBEDDER}, onnx:minilm, e5:small, hash: or none"

DEFAULT_MODEL = "embedded:qwen2.5-1.5b"
TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def time_of_day(text: str) -> str:
    """``text`` if it is a time of day written ``HH:MM`` (00:00 to 23:59); else ValueError."""
    if not TIME_OF_DAY.fullmatch(text):
        raise ValueError(f"{text!r} is not a time of day; write it as HH:MM, 00:00 to 23:59")
    return text


REMINDER_MAX_MIN = 1440  # a day: a person's own session reminder is at most this long


def reminder_minutes(value: int) -> int:
    """``value`` if it is a session reminder a person may choose (whole minutes, 0: none,
    at most a day); else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= REMINDER_MAX_MIN:
        # the value is not echoed: it may be a number thousands of digits long
        raise ValueError(f"give whole minutes from 1 to {REMINDER_MAX_MIN}, or 0 for none")
    return value


class Settings(BaseSettings):
    """Every knob an operator can turn. Names map to ``SAMANTHA_<NAME>`` variables."""

    model_config = SettingsConfigDict(
        env_prefix="SAMANTHA_", env_file=".env", extra="ignore", frozen=True
    )

    home: Path = Field(default_factory=lambda: Path.home() / ".samantha")
    llm: str = DEFAULT_MODEL
    models_dir: Path | None = None
    llm_threads: int = Field(default=0, ge=0, description="0: one per free core")
    llm_parallel: int = Field(default=4, ge=1, le=64)
    llm_ctx: int = Field(default=4096, ge=512, description="context tokens per parallel slot")
    max_reply_tokens: int = Field(default=320, ge=16, le=8192)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_api_key: SecretStr | None = None
    openai_timeout_s: float = Field(default=120.0, gt=0)
    sim_rate: float = Field(default=20.0, gt=0, description="tokens/s of the simulated model")
    embedder: str = Field(default=DEFAULT_EMBEDDER, description=EMBEDDERS)
    embed_threads: int = Field(default=1, ge=1, le=64)
    vector_cache_mb: int = Field(
        default=VECTOR_CACHE_MB,
        ge=0,
        description="people's dense vectors held in memory by each recall process (least "
        "recently used dropped): about 0.65 MB for a person with 400 remembered items",
    )
    recall_processes: int = Field(
        default=2,
        ge=0,
        le=64,
        description="processes that recall beside the server's own, so it uses more than one "
        "core; they also draw what learning writes and count relationships (each loads the "
        "embedder: about 150 MB); 0: all of it in the server's process",
    )
    memory_llm_extraction: bool = Field(
        default=False,
        description="the model also reads each turn for memories and writes reflections "
        "(background); off by default: the bundled 1.5B model invents too often",
    )
    memory_k: int = Field(default=6, ge=0, le=50, description="turns recalled into each prompt")
    memory_tokens: int = Field(default=300, ge=0, description="prompt budget for memories")
    host: str = "127.0.0.1"
    port: int = Field(default=8316, ge=0, le=65535)
    persona: Path | None = None
    max_message_chars: int = Field(default=4000, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_import_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="the largest archive an import accepts, zipped and unpacked alike",
    )
    history_tokens: int = Field(default=1200, ge=64, description="recent-message budget")
    summary_tokens: int = Field(default=200, ge=16)
    retry_after_s: int = Field(default=5, ge=1)
    reply_concurrency: int = Field(
        default=0,
        ge=0,
        le=1024,
        description="replies generated at once; 0: the embedded model's parallel slots "
        "(llm_parallel), or 16 for a model server",
    )
    reply_queue_per_slot: int = Field(
        default=4,
        ge=0,
        le=100,
        description="replies that may wait in line for a slot, per slot; more are refused "
        "with 503 busy. The last in a full line waits about this many reply lengths",
    )
    replies_per_person: int = Field(
        default=2,
        ge=1,
        le=64,
        description="replies one person may have waiting or generating at once; more are "
        "refused with 429 too_many_replies",
    )
    locale: str = Field(
        default="en-US",
        pattern=r"^(?:[a-z]{2}(?:-[A-Z]{2})?|international)$",
        description="where the crisis lines she gives come from (en-US, en-GB, de-DE, ...)",
    )
    crisis_resources: Path | None = Field(
        default=None, description="a YAML file of crisis lines by locale, instead of the bundled"
    )
    wellbeing_long_session_min: int = Field(
        default=90, ge=1, description="a session this long counts as a sign of dependence"
    )
    session_reminder_min: int = Field(
        default=0, ge=0, description="remind the person of the time after this long; 0: never"
    )
    growth_reflect_h: float = Field(
        default=24.0, ge=0, description="hours between her reflections in the server; 0: never"
    )
    growth_min_people: int = Field(
        default=5,
        ge=2,
        description="a theme shapes her inner life only if this many people share it",
    )
    growth_window_days: int = Field(
        default=7, ge=1, le=365, description="the most days one reflection looks back over"
    )
    events_heartbeat_s: float = Field(
        default=15.0, gt=0, le=300, description="seconds between heartbeats on an event stream"
    )
    departure_batch: int = Field(
        default=100, ge=1, le=10_000, description="people per batch when she departs"
    )
    departure_wait_s: float = Field(
        default=120.0,
        ge=0,
        description="how long departure waits for replies in flight before the server stops",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object per line, for log collectors"
    )
    metrics_public: bool = Field(
        default=False, description="serve /metrics without the admin token"
    )
    proactive: bool = Field(
        default=True,
        description="follow-ups are on for people who have not chosen (each person can switch)",
    )
    proactive_interval_s: float = Field(
        default=60.0, ge=0, description="seconds between the server's follow-up passes; 0: none"
    )
    proactive_per_day: int = Field(
        default=1, ge=1, le=24, description="the most follow-ups one person gets in a day"
    )
    proactive_window_days: int = Field(
        default=3, ge=1, le=14, description="days after an event in which she still asks"
    )
    quiet_start: str = Field(
        default="22:00", description="quiet hours begin (HH:MM, server time); people can change"
    )
    quiet_end: str = Field(default="08:00", description="quiet hours end (HH:MM, server time)")
    letter_font: Path | None = Field(
        default=None,
        description="a handwriting font (.ttf or .otf) for letters; default: the first found of "
        "Debian's fonts-dancingscript and fonts-dkg-handwriting, else a built-in italic",
    )
    letter_tokens: int = Field(
        default=700, ge=64, le=8192, description="the longest letter the model drafts, in tokens"
    )
    max_letter_notes_chars: int = Field(
        default=4000, ge=1, description="the longest notes (or redraft note) for a letter"
    )
    max_letter_chars: int = Field(
        default=20_000, ge=100, description="the longest letter a person can keep"
    )
    stt: str = Field(
        default="whisper:tiny.en",
        description="speech to text: whisper:tiny.en (the voice extra), whisper:/a/ctranslate2 "
        "model folder, or none (no voice)",
    )
    tts: str = Field(
        default="auto",
        description="text to speech: piper:joe (the piper extra), espeak:VOICE (Debian's "
        "espeak-ng), or auto: Piper when installed, else espeak-ng",
    )
    voice_end_silence_ms: int = Field(
        default=400,
        ge=100,
        le=3000,
        description="this much silence after speech ends the person's turn (hands-free)",
    )
    voice_max_utterance_s: float = Field(
        default=30.0,
        gt=1,
        le=30,
        description="the longest a person may speak in one go; longer is politely refused",
    )

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        return time_of_day(value)

    @property
    def db_path(self) -> Path:
        return self.home / "samantha.db"

    @property
    def backups_dir(self) -> Path:
        return self.home / "backups"

    @property
    def departure_dir(self) -> Path:
        """Where departure leaves each person's archive until they take it."""
        return self.home / "departure"

    @property
    def fonts_dir(self) -> Path:
        """Where a handwriting font drawn in curves PDF cannot embed is kept as TrueType."""
        return self.home / "fonts"

    @property
    def model_dir(self) -> Path:
        return self.models_dir or self.home / "models"

    @property
    def threads(self) -> int:
        return self.llm_threads or max(1, len(os.sched_getaffinity(0)))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
