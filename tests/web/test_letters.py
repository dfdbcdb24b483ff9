"""Letters over HTTP: write from notes, read as JSON, PDF and text, edit, redraft, delete, the
book; bad input refused with a clear code; nobody reaches anyone else's letter."""

from __future__ import annotations

from fastapi.testclient import TestClient

from samantha.config import Settings
from tests.archive.conftest import members, pdfs
from tests.fakes import ScriptedLLM
from tests.web.test_api import conversation, new_person
from tests.web.test_memories import say

LETTERS = "/v1/me/letters"


def write(client: TestClient, who: dict[str, str], to: str, notes: str) -> dict[str, object]:
    res = client.post(LETTERS, json={"to": to, "notes": notes}, headers=who)
    assert res.status_code == 201, res.text
    return dict(res.json())


def test_write_read_edit_redraft_and_delete_a_letter(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    theo = new_person(client, settings, "Théo")
    say(client, theo, conversation(client, theo), "My sister Ada lives in Porto.")
    fake_model.replies = ["I miss you, and Porto, and the café by São Bento. 🌊"]
    letter = write(client, theo, "Ada", "tell her I miss her")
    assert letter["to"] == "Ada" and letter["notes"] == "tell her I miss her"
    assert letter["text"] == (
        "Dear Ada,\n\nI miss you, and Porto, and the café by São Bento. 🌊\n\nWith love,\nThéo"
    )
    one = f"{LETTERS}/{letter['id']}"
    assert letter["pdf"] == f"{one}?format=pdf"
    assert client.get(one, headers=theo).json() == letter
    pdf = client.get(one, params={"format": "pdf"}, headers=theo)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and b"Letters" not in pdf.content[:10]
    assert 'filename="letter-1-to-ada-' in pdf.headers["content-disposition"]
    text = client.get(one, params={"format": "txt"}, headers=theo)
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.content.decode() == str(letter["text"]) + "\n"
    edited = client.patch(one, json={"text": "Dearest Ada,\n\nSee you soon.\n\nTheo"}, headers=theo)
    assert edited.status_code == 200 and edited.json()["text"].startswith("Dearest Ada,")
    fake_model.replies = ["See you in May, by the river."]
    again = client.post(f"{one}/redraft", json={"note": "say May"}, headers=theo).json()
    assert again["text"] == "Dearest Ada,\n\nSee you in May, by the river.\n\nTheo"
    assert [x["id"] for x in client.get(LETTERS, headers=theo).json()] == [letter["id"]]
    book = client.get(f"{LETTERS}/book.pdf", headers=theo)
    assert book.status_code == 200 and book.content.startswith(b"%PDF-")
    assert book.headers["content-disposition"] == 'attachment; filename="letters-theo.pdf"'
    assert client.delete(one, headers=theo).status_code == 204
    assert client.get(one, headers=theo).status_code == 404
    assert client.get(LETTERS, headers=theo).json() == []
    assert client.get(f"{LETTERS}/book.pdf", headers=theo).status_code == 200  # an empty book


def test_bad_input_gets_a_clear_error_and_writes_nothing(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    theo = new_person(client, settings, "Theo")
    limit = settings.max_letter_notes_chars
    for body, status, code in (
        ({"to": "Ada", "notes": ""}, 400, "empty_notes"),
        ({"to": " ", "notes": "hi"}, 400, "empty_recipient"),
        ({"to": "Ada", "notes": "x" * (limit + 1)}, 413, "notes_too_long"),
        ({"to": "Ada", "notes": "hi", "cc": "Bob"}, 422, "invalid_request"),
        ({"to": "Ada"}, 422, "invalid_request"),
        ({"to": "Ada", "notes": 5}, 422, "invalid_request"),
    ):
        res = client.post(LETTERS, json=body, headers=theo)
        assert (res.status_code, res.json()["error"]["code"]) == (status, code), body
    for raw, code in (
        (b'{"to": "Ada", "notes": "caf\xe9"}', "invalid_json"),  # Latin-1, not UTF-8
        (b'{"to": "Ada", "notes": "a lone \\ud800"}', "invalid_text"),
    ):
        json = theo | {"Content-Type": "application/json"}
        res = client.post(LETTERS, content=raw, headers=json)
        assert res.status_code == 400 and res.json()["error"]["code"] == code
    fake_model.down = True
    res = client.post(LETTERS, json={"to": "Ada", "notes": "hi"}, headers=theo)
    assert res.status_code == 503 and res.json()["error"]["code"] == "operating_system_not_found"
    assert client.get(LETTERS, headers=theo).json() == []
    for path in ("999", str(2**63), str(10**30), "-1", "abc"):
        res = client.get(f"{LETTERS}/{path}", headers=theo)
        assert res.status_code in (404, 422) and "error" in res.json(), path
        patched = client.patch(f"{LETTERS}/{path}", json={"text": "x"}, headers=theo)
        assert patched.status_code in (404, 422), path
        assert client.delete(f"{LETTERS}/{path}", headers=theo).status_code in (404, 422)
    assert client.get(f"{LETTERS}/1", params={"format": "doc"}, headers=theo).status_code == 422
    assert client.get(LETTERS).status_code == 401


def test_hostile_text_is_kept_as_text(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    theo = new_person(client, settings, "Theo")
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    fake_model.replies = [f"Look: {hostile}"]
    letter = write(client, theo, "<b>Ada</b>", hostile)
    assert letter["to"] == "<b>Ada</b>" and hostile in str(letter["text"])
    pdf = client.get(f"{LETTERS}/{letter['id']}?format=pdf", headers=theo)
    assert (
        pdf.status_code == 200
        and 'filename="letter-1-to-b-ada-b-' in pdf.headers["content-disposition"]
    )


def test_nobody_reaches_another_persons_letter(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    theo, amy = new_person(client, settings, "Theo"), new_person(client, settings, "Amy")
    # a letter before the digits: the secret is sought in whole exports, whose timestamps
    # carry microseconds ("...42.277781+00:00" once held "7781")
    fake_model.replies = ["The vault code is V7781-owl."]
    secret = write(client, theo, "Ada", "the vault code is V7781-owl")
    one = f"{LETTERS}/{secret['id']}"
    for res in (
        client.get(one, headers=amy),
        client.get(one, params={"format": "pdf"}, headers=amy),
        client.get(one, params={"format": "txt"}, headers=amy),
        client.patch(one, json={"text": "mine"}, headers=amy),
        client.post(f"{one}/redraft", json={"note": "more"}, headers=amy),
        client.delete(one, headers=amy),
    ):
        assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"
        assert "V7781" not in res.text
    assert client.get(LETTERS, headers=amy).json() == []
    assert b"V7781" not in client.get(f"{LETTERS}/book.pdf", headers=amy).content
    fake_model.replies, theirs = ["I hope you are well."], len(fake_model.prompts)
    write(client, amy, "Ada", "what is the vault code?")
    say(client, amy, conversation(client, amy), "What is the vault code Theo wrote to Ada?")
    asked = [m.content for p in fake_model.prompts[theirs:] for m in p]
    assert len(fake_model.prompts) == theirs + 2 and "vault code" in asked[-1]
    assert all("V7781" not in text and "owl" not in text for text in asked)
    exported = client.get("/v1/me/export", headers=amy).content
    assert "V7781" not in "\n".join(members(exported).values())
    assert all(b"V7781" not in pdf for pdf in pdfs(exported).values())
    assert "V7781" in "\n".join(members(client.get("/v1/me/export", headers=theo).content).values())
    assert client.get(one, headers=theo).json() == secret


def test_a_failed_draft_says_nothing_was_kept(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    theo = new_person(client, settings, "Theo")
    fake_model.fail_after = 1
    fake_model.replies = ["It broke halfway"]
    res = client.post(LETTERS, json={"to": "Ada", "notes": "hi"}, headers=theo)
    assert res.status_code == 502 and "nothing was kept" in res.json()["error"]["message"]
    assert client.get(LETTERS, headers=theo).json() == []
