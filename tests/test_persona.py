from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from samantha.errors import InputError
from samantha.persona import HONESTY_RULE, default_persona, import_card, load_persona

CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Ava",
        "description": "{{char}} is a gentle lighthouse keeper's AI.",
        "personality": "calm, dry humour",
        "scenario": "Evenings by the sea.",
        "first_mes": "The lamp is lit. How was your day?",
        "mes_example": "<START>\n{{user}}: Hello\n{{char}}: Hello, traveller.\n"
        "<START>\n{{user}}: Are you real?\n{{char}}: I'm {{char}}, an AI.",
        "creator_notes": "",
        "system_prompt": "",
        "post_history_instructions": "Stay kind.",
        "alternate_greetings": [],
        "tags": ["calm"],
        "creator": "tests",
        "character_version": "1",
        "extensions": {},
    },
}


def png_card(card: Mapping[str, object], keyword: str = "chara") -> bytes:
    info = PngInfo()
    info.add_text(keyword, base64.b64encode(json.dumps(card).encode()).decode())
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def test_default_persona_is_samantha_and_honest() -> None:
    persona = default_persona()
    assert persona.name == "Samantha"
    prompt = persona.system_prompt()
    assert "AI" in prompt and HONESTY_RULE in prompt
    assert len(persona.examples) >= 2


def test_card_v2_json_and_png_give_the_same_persona() -> None:
    from_json = import_card(json.dumps(CARD).encode())
    from_png = import_card(png_card(CARD))
    assert from_json == from_png
    assert from_json.name == "Ava"
    assert from_json.description.startswith("Ava is")
    assert from_json.examples == (
        ("Hello", "Hello, traveller."),
        ("Are you real?", "I'm Ava, an AI."),
    )
    assert from_json.post_history == "Stay kind."
    assert HONESTY_RULE in from_json.system_prompt()


def test_card_v1_and_compressed_chunk() -> None:
    v1 = {
        "name": "Old",
        "description": "a v1 card",
        "personality": "",
        "scenario": "",
        "first_mes": "hi",
        "mes_example": "",
    }
    assert import_card(json.dumps(v1).encode()).name == "Old"
    info = PngInfo()
    info.add_text("chara", base64.b64encode(json.dumps(CARD).encode()).decode(), zip=True)
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, "PNG", pnginfo=info)
    assert import_card(buffer.getvalue()).name == "Ava"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b"\xff\xfe\x00garbage",
        json.dumps({"spec": "chara_card_v2", "data": "nope"}).encode(),
        json.dumps({"spec": "chara_card_v2", "data": {"name": ""}}).encode(),
        json.dumps({"name": 5}).encode(),
        png_card(CARD, keyword="other"),
        png_card(CARD)[:60],
        b"x" * (9 * 1024 * 1024),
    ],
)
def test_bad_cards_get_clear_errors(raw: bytes) -> None:
    with pytest.raises(InputError):
        import_card(raw)


def test_yaml_persona_file_rejects_unknown_fields(tmp_path: Path) -> None:
    good = tmp_path / "p.yaml"
    good.write_text("name: Kai\ndescription: a test\nexamples:\n  - user: hi\n    kai: hello\n")
    assert load_persona(good).examples == (("hi", "hello"),)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Kai\nsalary: 3\n")
    with pytest.raises(InputError, match="salary"):
        load_persona(bad)
    with pytest.raises(InputError):
        load_persona(tmp_path / "missing.yaml")
