from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from samantha.errors import InputError
from samantha.persona import (
    HONESTY_RULE,
    card_png,
    default_persona,
    export_card,
    import_card,
    load_persona,
)

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


# the fields of `data` in the published Character Card V2 spec, and their JSON types
V2_FIELDS = {
    "name": str,
    "description": str,
    "personality": str,
    "scenario": str,
    "first_mes": str,
    "mes_example": str,
    "creator_notes": str,
    "system_prompt": str,
    "post_history_instructions": str,
    "alternate_greetings": list,
    "tags": list,
    "creator": str,
    "character_version": str,
    "extensions": dict,
}


def test_exported_card_follows_the_v2_spec_and_carries_honesty() -> None:
    card = export_card(default_persona())
    assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
    data = card["data"]
    assert set(V2_FIELDS) <= set(data)
    for key, kind in V2_FIELDS.items():
        assert isinstance(data[key], kind), key
    assert data["name"] == "Samantha" and data["first_mes"].startswith("Hi, I'm Samantha")
    assert HONESTY_RULE in data["system_prompt"]  # she stays honest in other apps too
    assert data["mes_example"].count("<START>") == len(default_persona().examples)


def test_export_then_import_is_the_same_persona_as_json_and_png() -> None:
    persona = default_persona()
    from_json = import_card(json.dumps(export_card(persona)).encode())
    png = card_png(persona)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (400, 600)
    from_png = import_card(png)
    expected = replace(persona, source="character_card_v2")
    assert from_json == expected and from_png == expected


def test_an_imported_card_exports_back_unchanged() -> None:
    multi_line = json.loads(json.dumps(CARD))
    multi_line["data"]["mes_example"] += "\n<START>\n{{user}}: Two lines?\n{{char}}: Yes.\nAnd two."
    persona = import_card(json.dumps(multi_line).encode())
    assert persona.examples[-1] == ("Two lines?", "Yes.\nAnd two.")
    again = import_card(card_png(persona))
    assert again == persona
    exported = export_card(persona)["data"]
    assert exported["tags"] == ["calm"] and exported["creator"] == "tests"
