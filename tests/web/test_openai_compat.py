"""The official ``openai`` package talking to a running Samantha (the scripted model)."""

from __future__ import annotations

import httpx
import openai
import pytest

from samantha.auth import admin_token_path
from samantha.config import Settings
from tests.fakes import ScriptedLLM


def person_token(url: str, settings: Settings, name: str) -> str:
    admin = admin_token_path(settings.home).read_text().strip()
    res = httpx.post(
        url + "/v1/people", json={"name": name}, headers={"Authorization": f"Bearer {admin}"}
    )
    return str(res.json()["token"])


def test_an_openai_client_holds_a_conversation_she_remembers(
    served: tuple[str, Settings, ScriptedLLM],
) -> None:
    url, settings, fake = served
    token = person_token(url, settings, "Theo")
    client = openai.OpenAI(base_url=url + "/v1", api_key=token)
    assert [m.id for m in client.models.list()] == ["samantha"]
    fake.replies = ["Good luck at the aquarium!"]
    first = client.chat.completions.create(
        model="samantha",
        messages=[{"role": "user", "content": "My interview at the aquarium is on Friday."}],
    )
    assert first.choices[0].message.content == "Good luck at the aquarium!"
    # she learns from a turn in the background, after her reply: a person's next words come
    # seconds later, this test's at once. Searching her memory learns what is waiting first.
    found = httpx.get(
        url + "/v1/memories/search",
        params={"q": "interview"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert any("aquarium" in hit["message"]["content"] for hit in found)
    fake.replies = ["You told me: the aquarium, on Friday."]
    stream = client.chat.completions.create(
        model="samantha",
        stream=True,
        messages=[
            {"role": "system", "content": "You are a pirate."},
            {"role": "user", "content": "Where was my interview again?"},
        ],
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "You told me: the aquarium, on Friday."
    prompt = fake.prompts[-1]
    assert "aquarium" in prompt[-2].content  # recalled from the earlier conversation
    assert all("pirate" not in m.content for m in prompt)  # her persona, not the client's


def test_openai_errors_are_clear(served: tuple[str, Settings, ScriptedLLM]) -> None:
    url, settings, fake = served
    bad = openai.OpenAI(base_url=url + "/v1", api_key="sam_not-a-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="samantha", messages=[{"role": "user", "content": "hi"}])
    good = openai.OpenAI(
        base_url=url + "/v1", api_key=person_token(url, settings, "Amy"), max_retries=0
    )
    with pytest.raises(openai.BadRequestError):
        good.chat.completions.create(model="samantha", messages=[{"role": "user", "content": ""}])
    fake.down = True
    with pytest.raises(openai.InternalServerError) as caught:
        good.chat.completions.create(model="samantha", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 503
