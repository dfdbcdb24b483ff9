"""Memory over HTTP: what she remembers, its sources, correcting and forgetting; privacy."""

from __future__ import annotations

from fastapi.testclient import TestClient

from samantha.config import Settings
from tests.fakes import ScriptedLLM
from tests.web.test_api import conversation, new_person


def say(client: TestClient, who: dict[str, str], cid: int, text: str) -> None:
    res = client.post(
        f"/v1/conversations/{cid}/messages", json={"content": text, "stream": False}, headers=who
    )
    assert res.status_code == 200, res.text


def memories(client: TestClient, who: dict[str, str]) -> list[dict[str, object]]:
    res = client.get("/v1/memories", headers=who)
    assert res.status_code == 200
    return list(res.json())


def test_list_show_correct_forget(client: TestClient, settings: Settings) -> None:
    theo = new_person(client, settings, "Theo")
    cid = conversation(client, theo)
    say(client, theo, cid, "My sister Ada lives in Porto. I live in Leeds.")
    found = memories(client, theo)
    texts = {m["text"] for m in found}
    assert "Ada is their sister" in texts
    ada = next(m for m in found if m["text"] == "Ada is their sister")
    shown = client.get(f"/v1/memories/{ada['id']}", headers=theo).json()
    assert shown["sources"][0]["content"] == "My sister Ada lives in Porto. I live in Leeds."
    fixed = client.patch(
        f"/v1/memories/{ada['id']}", json={"text": "Ada is their older sister"}, headers=theo
    )
    assert fixed.status_code == 200 and fixed.json()["memory"]["origin"] == "corrected"
    assert "Ada is their sister" not in {m["text"] for m in memories(client, theo)}
    hits = client.get("/v1/memories/search", params={"q": "Where does Ada live?"}, headers=theo)
    assert hits.status_code == 200 and "Porto" in hits.json()[0]["message"]["content"]
    gone = client.delete(f"/v1/memories/{fixed.json()['memory']['id']}", headers=theo)
    assert gone.status_code == 204
    hits = client.get("/v1/memories/search", params={"q": "Ada Porto"}, headers=theo).json()
    assert all("Porto" not in h["message"]["content"] for h in hits)


def test_memory_is_private_and_input_is_checked(client: TestClient, settings: Settings) -> None:
    theo = new_person(client, settings, "Theo")
    amy = new_person(client, settings, "Amy")
    cid = conversation(client, theo)
    say(client, theo, cid, "My brother Felix hides the key under the blue heron statue.")
    record = memories(client, theo)[0]
    assert memories(client, amy) == []
    for method in ("get", "delete"):
        assert (
            getattr(client, method)(f"/v1/memories/{record['id']}", headers=amy).status_code == 404
        )
    assert (
        client.patch(
            f"/v1/memories/{record['id']}", json={"text": "mine now"}, headers=amy
        ).status_code
        == 404
    )
    hits = client.get("/v1/memories/search", params={"q": "Felix key heron statue"}, headers=amy)
    assert hits.json() == []
    own = conversation(client, amy)
    say(client, amy, own, "Where is the key hidden? Is it under the heron?")
    assert "blue heron statue" not in str(
        client.get("/v1/memories/search", params={"q": "heron"}, headers=amy).json()
    )
    for body, status in (({"text": ""}, 422), ({"text": "x" * 3000}, 422), ({"txt": "a"}, 422)):
        assert (
            client.patch(f"/v1/memories/{record['id']}", json=body, headers=theo).status_code
            == status
        )
    assert client.get("/v1/memories/search", params={"q": ""}, headers=theo).status_code == 422
    assert client.get("/v1/memories?kind=secrets", headers=theo).status_code == 422
    assert client.get("/v1/memories").status_code == 401


def test_search_favours_the_speaker_it_names_as_chat_does(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    """Search recalls as she does in conversation: a question naming the person favours
    their own words over hers."""
    theo = new_person(client, settings, "Theo")
    cid = conversation(client, theo)
    fake_model.replies = ["Sailing on the lake to relax!"]
    say(
        client,
        theo,
        cid,
        "Most weekends, when work allows, I get out on the water with my old school friends, "
        "sailing around the lake for hours to relax.",
    )
    question = {"q": "How does Theo relax sailing on the lake?"}
    hits = client.get("/v1/memories/search", params=question, headers=theo).json()
    assert [h["message"]["role"] for h in hits[:2]] == ["user", "assistant"]
    assert hits[0]["score"] > 1.2 * hits[1]["score"]  # lifted as his (the words nearly tie)
