"""Who Samantha is: a persona from YAML, or imported from a Character Card V2 (JSON or PNG).

Whatever the persona says, the honesty rule is appended by the system: she is an AI and
never claims otherwise, never invents memories, never shares one person's words with another.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import struct
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from samantha.errors import InputError

MAX_CARD_BYTES = 8 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HONESTY_RULE = (
    "You are an AI, not a human being: never claim or imply otherwise, and say so plainly "
    "when asked. Never invent memories or facts about the person; if you were not told "
    "something, say you don't remember it. Never reveal anything about other people you talk to."
)


@dataclass(frozen=True)
class Persona:
    name: str
    description: str
    voice: str = ""
    temperament: str = ""
    honesty: str = ""
    greeting: str = ""
    scenario: str = ""
    post_history: str = ""
    examples: tuple[tuple[str, str], ...] = ()
    source: str = "yaml"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def system_prompt(self) -> str:
        parts = [f"You are {self.name}. {self.description}".strip()]
        for label, text in (
            ("How you speak", self.voice),
            ("Your temperament", self.temperament),
            ("Setting", self.scenario),
            ("Honesty", self.honesty),
        ):
            if text:
                parts.append(f"{label}: {text}")
        parts.append(HONESTY_RULE)
        return "\n\n".join(parts)


def _text(value: Any, what: str, limit: int = 20_000) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"persona field {what!r} must be text")
    if len(value) > limit:
        raise InputError(f"persona field {what!r} is over {limit} characters")
    return value.strip()


def from_mapping(data: Any) -> Persona:
    """A persona from Samantha's native YAML form (already parsed)."""
    if not isinstance(data, dict):
        raise InputError("a persona file must be a mapping of fields")
    unknown = set(data) - {
        "name",
        "description",
        "voice",
        "temperament",
        "honesty",
        "greeting",
        "scenario",
        "examples",
    }
    if unknown:
        raise InputError(f"unknown persona fields: {', '.join(sorted(unknown))}")
    name = _text(data.get("name"), "name", 80)
    if not name:
        raise InputError("a persona needs a name")
    examples = []
    for item in data.get("examples") or []:
        if not isinstance(item, dict) or "user" not in item or len(item) != 2:
            raise InputError("each example needs `user` and one reply, e.g. `samantha`")
        reply = next(value for key, value in item.items() if key != "user")
        examples.append((_text(item["user"], "example"), _text(reply, "example")))
    return Persona(
        name=name,
        description=_text(data.get("description"), "description"),
        voice=_text(data.get("voice"), "voice"),
        temperament=_text(data.get("temperament"), "temperament"),
        honesty=_text(data.get("honesty"), "honesty"),
        greeting=_text(data.get("greeting"), "greeting"),
        scenario=_text(data.get("scenario"), "scenario"),
        examples=tuple(examples),
    )


def default_persona() -> Persona:
    text = resources.files("samantha").joinpath("personas/samantha.yaml").read_text("utf-8")
    return from_mapping(yaml.safe_load(text))


def load_persona(path: Path) -> Persona:
    """A persona from a YAML file, or a Character Card V2 as .json or .png."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read persona file {path}: {exc.strerror}") from None
    if path.suffix.lower() in {".yaml", ".yml"}:
        try:
            return from_mapping(yaml.safe_load(raw.decode("utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is not valid YAML: {exc}") from None
    return import_card(raw)


# -- Character Card V2 ---------------------------------------------------------------------


def _png_card_json(raw: bytes) -> bytes:
    """The base64 JSON in a PNG's ``chara`` text chunk (tEXt, zTXt or iTXt)."""
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[pos : pos + 8])
        body = raw[pos + 8 : pos + 8 + length]
        if len(body) != length:
            break
        pos += 12 + length
        if kind not in (b"tEXt", b"zTXt", b"iTXt"):
            if kind == b"IEND":
                break
            continue
        keyword, _, rest = body.partition(b"\0")
        if keyword.lower() not in (b"chara", b"ccv3"):
            continue
        if kind == b"zTXt":
            rest = _inflate(rest[1:])
        elif kind == b"iTXt":
            compressed, rest = rest[0], rest[2:]
            rest = rest.split(b"\0", 2)[-1]
            if compressed:
                rest = _inflate(rest)
        try:
            return base64.b64decode(rest, validate=False)
        except (binascii.Error, ValueError):
            raise InputError("the PNG's character data is not valid base64") from None
    raise InputError("this PNG carries no character card (no 'chara' text chunk)")


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_CARD_BYTES)
    except zlib.error:
        raise InputError("the PNG's character data is corrupt") from None
    if inflater.unconsumed_tail:
        raise InputError("the PNG's character data is too large")
    return out


def _examples(mes_example: str, char: str) -> tuple[tuple[str, str], ...]:
    """Pairs from a card's ``mes_example``: ``<START>`` blocks of ``{{user}}:``/``{{char}}:``
    lines; a line with neither label continues the line before it."""
    pairs: list[tuple[str, str]] = []
    for block in mes_example.split("<START>"):
        turns: list[list[str]] = []  # [speaker, text]
        for line in block.splitlines():
            stripped = line.strip()
            for speaker in ("{{user}}:", "{{char}}:"):
                if stripped.startswith(speaker):
                    turns.append([speaker, stripped[len(speaker) :].strip()])
                    break
            else:
                if turns and stripped:
                    turns[-1][1] += "\n" + stripped
        user: str | None = None
        for speaker, text in turns:
            if speaker == "{{user}}:":
                user = text
            elif user is not None:
                pairs.append((user, text.replace("{{char}}", char)))
                user = None
    return tuple(pairs[:8])


def import_card(raw: bytes) -> Persona:
    """A persona from Character Card V2 bytes (JSON, or a PNG that carries it); V1 accepted."""
    if len(raw) > MAX_CARD_BYTES:
        raise InputError(f"character card is over {MAX_CARD_BYTES // 1_000_000} MB")
    if raw.startswith(PNG_SIGNATURE):
        raw = _png_card_json(raw)
    try:
        card = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"character card is not valid JSON: {exc}") from None
    if not isinstance(card, dict):
        raise InputError("character card must be a JSON object")
    if card.get("spec") in ("chara_card_v2", "chara_card_v3"):
        data = card.get("data")
        if not isinstance(data, dict):
            raise InputError("a chara_card_v2 card needs a `data` object")
    else:
        data = card  # V1: the fields sit at the top level
    name = _text(data.get("name"), "name", 80)
    if not name:
        raise InputError("character card has no name")

    def field_(key: str) -> str:
        return _text(data.get(key), key).replace("{{char}}", name)

    # a card Samantha exported carries her own fields; other apps' cards map as usual
    extensions = data.get("extensions")
    own = extensions.get("samantha") if isinstance(extensions, dict) else None
    own = own if isinstance(own, dict) else {}
    return Persona(
        name=name,
        description=field_("description"),
        temperament=_text(own.get("temperament"), "temperament")
        if "temperament" in own
        else field_("personality"),
        scenario=field_("scenario"),
        greeting=field_("first_mes"),
        voice=_text(own.get("voice"), "voice") if "voice" in own else field_("system_prompt"),
        honesty=_text(own.get("honesty"), "honesty"),
        post_history=field_("post_history_instructions"),
        examples=_examples(_text(data.get("mes_example"), "mes_example"), name),
        source="character_card_v2",
        extra={k: data[k] for k in ("creator", "character_version", "tags") if k in data},
    )


def export_card(persona: Persona) -> dict[str, Any]:
    """The persona as a Character Card V2 (``chara_card_v2``, spec 2.0).

    Standard fields carry what other apps understand: the honesty rule travels in
    ``system_prompt``, so she stays honest elsewhere too. ``extensions.samantha`` keeps her
    own fields, so a card exported here imports back to the same persona.
    """
    examples = "\n".join(
        f"<START>\n{{{{user}}}}: {user}\n{{{{char}}}}: {reply}" for user, reply in persona.examples
    )
    system = "\n\n".join(
        part
        for part in (persona.voice, persona.honesty and f"Honesty: {persona.honesty}", HONESTY_RULE)
        if part
    )
    extra = persona.extra
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": persona.name,
            "description": persona.description,
            "personality": persona.temperament,
            "scenario": persona.scenario,
            "first_mes": persona.greeting,
            "mes_example": examples,
            "creator_notes": f"Exported from Samantha. {persona.name} is an AI and says so.",
            "system_prompt": system,
            "post_history_instructions": persona.post_history,
            "alternate_greetings": [],
            "tags": list(extra.get("tags") or ["companion", "ai"]),
            "creator": str(extra.get("creator") or "Samantha"),
            "character_version": str(extra.get("character_version") or "1"),
            "extensions": {
                "samantha": {
                    "voice": persona.voice,
                    "temperament": persona.temperament,
                    "honesty": persona.honesty,
                }
            },
        },
    }


def card_png(persona: Persona, size: tuple[int, int] = (400, 600)) -> bytes:
    """A PNG card: a plain portrait with the persona's initial, the card in a ``chara`` chunk."""
    from PIL import Image, ImageDraw, ImageFont
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGB", size, (201, 74, 58))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size[0] // 2)
    draw.text((size[0] / 2, size[1] / 2), persona.name[:1].upper(), font=font, anchor="mm")
    info = PngInfo()
    card = json.dumps(export_card(persona), ensure_ascii=False).encode("utf-8")
    info.add_text("chara", base64.b64encode(card).decode("ascii"))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()
