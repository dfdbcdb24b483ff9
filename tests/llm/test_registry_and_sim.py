from __future__ import annotations

import time
from pathlib import Path

import pytest

from samantha.errors import ConfigError
from samantha.llm import ChatMessage, load_llm, parse_spec
from tests.conftest import make_settings


def test_provider_strings() -> None:
    assert parse_spec("embedded:qwen2.5-1.5b") == ("embedded", "qwen2.5-1.5b")
    assert parse_spec("OpenAI: gpt-4o") == ("openai", "gpt-4o")
    for bad in ("", "qwen", ":model"):
        with pytest.raises(ConfigError):
            parse_spec(bad)


def test_unknown_provider_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="embedded"):
        load_llm("nope:x", make_settings(tmp_path))


async def test_sim_streams_fixed_text_at_its_rate(tmp_path: Path) -> None:
    llm = load_llm("sim:rate=200,text=one two three four", make_settings(tmp_path))
    assert llm.simulated and llm.describe()["simulated"]
    start = time.perf_counter()
    text = await llm.complete([ChatMessage("user", "hi")], max_tokens=10)
    assert text == "one two three four"
    assert time.perf_counter() - start >= 4 / 200
    for bad in ("sim:rate=fast", "sim:rate=0", "sim:colour=red"):
        with pytest.raises(ConfigError):
            load_llm(bad, make_settings(tmp_path))
