"""The ``samantha`` command as a person runs it: a real process, the real small model."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from samantha.system import running
from tests.archive.conftest import TABLES, Clock, document, life, members, rows
from tests.conftest import free_port, make_settings, wait_until_up
from tests.fakes import ScriptedLLM
from tests.test_proactive import Clock as ProactiveClock


def samantha(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "samantha", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_one_message_from_the_terminal(cli_env: dict[str, str]) -> None:
    done = samantha(
        cli_env, "chat", "--person", "theo", "--message", "Hi, I had a rough day at work."
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip()) > 5
    again = samantha(cli_env, "chat", "--person", "theo", "--message", "Thanks for listening.")
    assert again.returncode == 0, again.stderr
    listed = samantha(cli_env, "people", "list")
    assert listed.stdout.split() == ["1", "theo"]


def test_interactive_chat_streams_and_leaves_cleanly(cli_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "samantha", "chat", "--person", "ada"],
        input="Hello there\n/quit\n",
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Samantha:" in done.stdout and "you:" in done.stdout


def test_people_add_prints_a_token_once(cli_env: dict[str, str]) -> None:
    done = samantha(cli_env, "people", "add", "Amelia")
    assert done.returncode == 0 and "sam_" in done.stdout
    twice = samantha(cli_env, "people", "add", "amelia")
    assert twice.returncode == 2 and "already exists" in flat(twice.stderr)
    empty = samantha(cli_env, "people", "add", "  ")
    assert empty.returncode == 2 and "empty" in empty.stderr


def test_models_list_and_verify(cli_env: dict[str, str]) -> None:
    listed = samantha(cli_env, "models", "list")
    assert listed.returncode == 0 and "qwen2.5-1.5b" in listed.stdout
    verified = samantha(cli_env, "models", "verify", "smollm2-135m")
    assert verified.returncode == 0 and "sha256 OK" in verified.stderr


def test_bad_settings_and_missing_models_say_what_to_do(cli_env: dict[str, str]) -> None:
    missing = samantha(
        {
            **cli_env,
            "SAMANTHA_LLM": "embedded:qwen2.5-0.5b",
            "SAMANTHA_MODELS_DIR": cli_env["SAMANTHA_HOME"] + "/none",
        },
        "chat",
        "--message",
        "hi",
    )
    assert missing.returncode == 3
    assert "samantha models fetch qwen2.5-0.5b" in missing.stderr
    bad = samantha({**cli_env, "SAMANTHA_LLM": "nonsense"}, "chat", "--message", "hi")
    assert bad.returncode == 2 and "provider:model" in bad.stderr
    bad_port = samantha({**cli_env, "SAMANTHA_PORT": "eighty"}, "serve")
    assert bad_port.returncode == 2 and "SAMANTHA_PORT" in bad_port.stderr


def test_bench_model_prints_figures(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = samantha(
        cli_env,
        "bench",
        "model",
        "--tokens",
        "8",
        "--repeat",
        "1",
        "--streams",
        "2",
        "--json",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    for key in (
        "direct_tok_s",
        "samantha_tok_s",
        "ratio",
        "concurrent_streams",
        "concurrent_aggregate_tok_s",
        "concurrent_speedup",
        "direct_concurrent_aggregate_tok_s",
        "direct_concurrent_speedup",
    ):
        assert figures[key] > 0, key


@pytest.fixture
def server(cli_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    cli_env["SAMANTHA_LOG_FORMAT"] = "json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "samantha", "serve", "--port", str(port)],
        env=cli_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_up(url, "/readyz", tries=600):
            raise AssertionError((tmp_path / "serve.log").read_text())
        yield url, cli_env
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_serve_talks_over_http_with_the_real_model(
    server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = server
    made = samantha(env, "people", "add", "Theo")
    token = made.stdout.split()[-1]
    who = {"Authorization": f"Bearer {token}"}
    cid = httpx.post(url + "/v1/conversations", json={}, headers=who).json()["id"]
    with httpx.stream(
        "POST",
        f"{url}/v1/conversations/{cid}/messages",
        json={"content": "Hi, I had a rough day at work."},
        headers=who,
        timeout=120,
    ) as res:
        assert res.status_code == 200
        body = "".join(res.iter_text())
    assert body.startswith("event: accepted") and "event: token" in body
    assert "event: done" in body
    history = httpx.get(f"{url}/v1/conversations/{cid}/messages", headers=who).json()
    assert history[1]["role"] == "assistant" and history[1]["content"]
    assert "Samantha" in httpx.get(url + "/").text
    assert httpx.get(url + "/docs").status_code == 200
    admin = (Path(env["SAMANTHA_HOME"]) / "admin.token").read_text().strip()
    metrics = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {admin}"}).text
    assert 'samantha_turns_total{outcome="complete"} 1.0' in metrics
    logged = [
        json.loads(line)
        for line in (tmp_path / "serve.log").read_text().splitlines()
        if line.startswith("{")
    ]
    routes = {entry.get("route") for entry in logged if entry["logger"] == "samantha.http"}
    assert "/v1/conversations/{conversation_id}/messages" in routes
    assert all("rough day" not in json.dumps(entry).lower() for entry in logged)


def test_serve_with_the_model_unreachable_answers_503(cli_env: dict[str, str]) -> None:
    env = {
        **cli_env,
        "SAMANTHA_LLM": "openai:x",
        "SAMANTHA_OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
    }
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "samantha", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until_up(url)
        token = samantha(env, "people", "add", "Theo").stdout.split()[-1]
        who = {"Authorization": f"Bearer {token}"}
        cid = httpx.post(url + "/v1/conversations", json={}, headers=who).json()["id"]
        res = httpx.post(
            f"{url}/v1/conversations/{cid}/messages", json={"content": "hello?"}, headers=who
        )
        assert res.status_code == 503
        assert res.json()["error"]["code"] == "operating_system_not_found"
        assert res.headers["retry-after"]
        kept = httpx.get(f"{url}/v1/conversations/{cid}/messages", headers=who).json()
        assert [m["content"] for m in kept] == ["hello?"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_memory_commands(cli_env: dict[str, str]) -> None:
    said = samantha(
        cli_env,
        "chat",
        "--person",
        "theo",
        "--message",
        "My sister Ada lives in Porto and loves the sea.",
    )
    assert said.returncode == 0, said.stderr
    listed = samantha(cli_env, "memory", "list", "--person", "theo")
    assert "Ada is their sister" in listed.stdout
    memory_id = next(
        line.split("\t")[0] for line in listed.stdout.splitlines() if "Ada is their sister" in line
    )
    shown = samantha(cli_env, "memory", "show", "--person", "theo", memory_id)
    assert "lives in Porto" in shown.stdout
    found = samantha(cli_env, "memory", "search", "--person", "theo", "Where does Ada live?")
    assert "Porto" in found.stdout
    fixed = samantha(
        cli_env, "memory", "correct", "--person", "theo", memory_id, "Ada is their twin sister"
    )
    assert fixed.returncode == 0 and "twin sister" in fixed.stdout
    new_id = fixed.stdout.split(" is now ")[1].split(":")[0]
    forgot = samantha(cli_env, "memory", "forget", "--person", "theo", new_id)
    assert forgot.returncode == 0
    after = samantha(cli_env, "memory", "search", "--person", "theo", "Ada Porto sea")
    assert "Porto" not in after.stdout
    stranger = samantha(cli_env, "memory", "list", "--person", "nobody")
    assert stranger.returncode == 2 and "no person named" in stranger.stderr
    amy = samantha(cli_env, "chat", "--person", "amy", "--message", "Hello, I like boats.")
    assert amy.returncode == 0
    theirs = samantha(cli_env, "memory", "search", "--person", "amy", "Ada Porto sister sea")
    assert "Porto" not in theirs.stdout and "Ada" not in theirs.stdout


def test_bench_memory_on_a_small_locomo_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    sample = {
        "sample_id": "tiny",
        "conversation": {
            "speaker_a": "Mia",
            "speaker_b": "Leo",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {
                    "speaker": "Mia",
                    "dia_id": "D1:1",
                    "text": "I adopted a cat named Pixel yesterday!",
                },
                {"speaker": "Leo", "dia_id": "D1:2", "text": "Congrats! I started pottery class."},
                {"speaker": "Mia", "dia_id": "D1:3", "text": "Pottery sounds fun."},
            ],
            "session_2_date_time": "10:00 am on 20 June, 2023",
            "session_2": [
                {"speaker": "Leo", "dia_id": "D2:1", "text": "My pottery bowl won a prize."},
                {"speaker": "Mia", "dia_id": "D2:2", "text": "Pixel knocked over my plant."},
            ],
        },
        "qa": [
            {
                "question": "When did Mia adopt Pixel?",
                "answer": "7 May 2023",
                "evidence": ["D1:1"],
                "category": 2,
            },
            {
                "question": "What did Leo make in pottery?",
                "answer": "a bowl",
                "evidence": ["D2:1", "D1:2"],
                "category": 1,
            },
            {"question": "What is broken?", "answer": "x", "evidence": ["D9:9"], "category": 4},
        ],
    }
    data = tmp_path / "tiny.json"
    data.write_text(json.dumps([sample]))
    out, plot = tmp_path / "memory.json", tmp_path / "memory.png"
    done = samantha(
        cli_env,
        "bench",
        "memory",
        "--locomo",
        str(data),
        "--json",
        str(out),
        "--plot",
        str(plot),
        "--embedder",
        "hash:",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["skipped"] == 1
    assert result["categories"]["2"]["recall@5"] == 1.0
    assert set(result) >= {
        "k",
        "categories",
        "overall_1_4",
        "overall_1_5",
        "bm25_overall_1_4",
        "latency_ms",
    }
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert result["llm_extraction"] is False
    assert "LLM extraction off (rules only)" in " ".join(done.stdout.split())
    # the model reads the turns too, as live chat does when extraction is on
    read = samantha(
        cli_env, "bench", "memory", "--locomo", str(data), "--json", str(out), "--embedder",
        "hash:", "--llm", "embedded:smollm2-135m",
    )  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert json.loads(out.read_text())["llm_extraction"] == "embedded:smollm2-135m"
    assert "LLM extraction by embedded:smollm2-135m" in " ".join(read.stdout.split())
    # a model that finds nothing, or cannot start, is refused before anything is measured
    for spec in ("sim:", "embedded:/nowhere/model.gguf"):
        refused = samantha(
            cli_env, "bench", "memory", "--locomo", str(data), "--embedder", "hash:", "--llm", spec
        )
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert spec in refused.stderr


def test_models_fetch_assembles_with_a_checked_sha(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {**cli_env, "SAMANTHA_MODELS_DIR": str(tmp_path / "models")}
    done = samantha(env, "models", "fetch", "smollm2-135m")
    assert done.returncode == 0, done.stderr
    assert "sha256 checked" in done.stderr
    assert (tmp_path / "models" / "smollm2-135m.gguf").stat().st_size == 98_362_432


def test_bench_replies_and_memory_scale(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "replies.json"
    done = samantha(
        cli_env,
        *("bench", "replies", "--model", "embedded:smollm2-135m", "--json", str(out)),
        timeout=600,  # five replies from a real model: 149 s here once the cores were shared
    )
    assert done.returncode == 0, done.stderr
    replies = json.loads(out.read_text())[0]
    assert replies["gen_tok_s"] > 0 and len(replies["replies"]) == 5
    assert all(r["reply"] for r in replies["replies"])
    scale = tmp_path / "scale.json"
    done = samantha(
        cli_env, "bench", "memory", "--scale", "300", "--embedder", "hash:", "--json", str(scale)
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(scale.read_text())[0]
    assert measured["turns"] == 300 and measured["memory_records"] > 0
    assert measured["latency_ms"]["p99"] > 0


@pytest.mark.parametrize(
    "args,error",
    [
        (["--person", "theo", "--message", ""], "message is empty"),
        (["--person", "theo", "--message", "x" * 5000], "limit is 4000"),
        (["--person", "n" * 100, "--message", "hi"], "over 64 characters"),
        (["--person", "bad\x01name", "--message", "hi"], "control characters"),
        (["--person", "theo", "--message", "caf\udcff"], "not valid UTF-8"),
    ],
)
def test_bad_chat_input_creates_nothing(
    cli_env: dict[str, str], args: list[str], error: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "samantha", "chat", *args],
        env=cli_env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert error in done.stderr.decode("utf-8", "replace")
    assert not Path(cli_env["SAMANTHA_HOME"], "samantha.db").exists()


def test_persona_export_and_check(cli_env: dict[str, str], tmp_path: Path) -> None:
    card = tmp_path / "samantha.png"
    made = samantha(cli_env, "persona", "export", "--out", str(card))
    assert made.returncode == 0, made.stderr
    assert card.read_bytes().startswith(b"\x89PNG")
    checked = samantha(cli_env, "persona", "check", str(card))
    assert checked.returncode == 0 and "Samantha: a valid persona" in checked.stdout
    again = samantha(cli_env, "persona", "export", "--out", str(card))
    assert again.returncode != 0 and "already exists" in flat(again.stderr)
    as_json = samantha(cli_env, "persona", "export")
    assert json.loads(as_json.stdout)["spec"] == "chara_card_v2"
    nowhere = samantha(cli_env, "persona", "export", "--out", str(tmp_path / "no" / "x.json"))
    assert nowhere.returncode != 0 and "cannot write" in flat(nowhere.stderr)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    bad = samantha(cli_env, "persona", "check", str(broken))
    assert bad.returncode != 0 and "not valid JSON" in flat(bad.stderr)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


def test_delete_asks_first_and_removes_only_that_person(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "SAMANTHA_LLM": "sim:rate=1000"}
    unknown = samantha(env, "delete", "theo", "--yes")
    assert unknown.returncode == 2 and "no person named 'theo'" in unknown.stderr
    assert not Path(env["SAMANTHA_HOME"], "samantha.db").exists()
    for person, text in (("theo", "My sister Ada lives in Porto."), ("amy", "I like boats.")):
        assert samantha(env, "chat", "--person", person, "--message", text).returncode == 0
    declined = subprocess.run(
        [sys.executable, "-m", "samantha", "delete", "theo"],
        input="n\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert declined.returncode == 1 and "This cannot be undone" in declined.stdout
    assert "Nothing was deleted" in declined.stderr
    assert samantha(env, "people", "list").stdout.split() == ["1", "theo", "2", "amy"]
    done = samantha(env, "delete", "Theo", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Deleted theo: 1 memories, 0 letters, 2 messages, 1 conversations, 1 tokens." in (
        done.stdout
    )
    assert samantha(env, "people", "list").stdout.split() == ["2", "amy"]
    twice = samantha(env, "delete", "theo", "--yes")
    assert twice.returncode == 2 and "no person named" in twice.stderr
    gone = samantha(env, "memory", "search", "--person", "amy", "Ada Porto sister")
    assert gone.returncode == 0 and "Porto" not in gone.stdout


def flat(text: str) -> str:
    """Error text without the line breaks the terminal renderer puts in long lines."""
    return " ".join(text.split())


def test_backup_writes_a_checked_copy_and_never_overwrites_by_accident(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    home = Path(cli_env["SAMANTHA_HOME"])
    nothing = samantha(cli_env, "backup")
    assert nothing.returncode == 2 and "nothing to back up" in flat(nothing.stderr)
    assert not home.exists()
    assert samantha(cli_env, "people", "add", "Amelia").returncode == 0
    done = samantha(cli_env, "backup")
    assert done.returncode == 0, done.stderr
    [copy] = (home / "backups").glob("samantha-*.db")
    assert (home / "backups").stat().st_mode & 0o777 == 0o700
    db = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT name FROM people").fetchall() == [("Amelia",)]
    db.close()
    out = tmp_path / "mine.db"
    out.write_text("keep me")
    kept = samantha(cli_env, "backup", "--out", str(out))
    assert kept.returncode == 2 and "already exists" in flat(kept.stderr)
    assert out.read_text() == "keep me"
    assert samantha(cli_env, "backup", "--out", str(out), "--force").returncode == 0
    assert out.read_bytes().startswith(b"SQLite format 3\x00")
    nowhere = samantha(cli_env, "backup", "--out", str(tmp_path / "no" / "such" / "x.db"))
    assert nowhere.returncode == 2 and "does not exist" in flat(nowhere.stderr)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    noted = samantha(cli_env, "delete", "Amelia", "--yes")
    assert noted.returncode == 0 and "still hold their data" in flat(noted.stderr)


async def _a_life_in(home: Path, name: str, secret: str) -> None:
    fake, clock = ScriptedLLM(), Clock()
    async with running(make_settings(home), llm=fake, clock=clock) as sam:
        await life(sam, fake, clock, name, secret)


def test_export_and_import_from_the_terminal(cli_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(cli_env["SAMANTHA_HOME"])
    asyncio.run(_a_life_in(home, "Theo", "marmalade-47"))
    asyncio.run(_a_life_in(home, "Amy", "quince-93"))
    out = tmp_path / "theo.zip"
    done = samantha(cli_env, "export", "Theo", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Exported Theo: 3 conversation(s), 10 message(s)" in flat(done.stderr)
    assert "quince-93" not in str(members(out.read_bytes()))
    again = samantha(cli_env, "export", "Theo", "--out", str(out))
    assert again.returncode == 2 and "already exists" in flat(again.stderr)
    assert samantha(cli_env, "export", "Theo", "--out", str(out), "--force").returncode == 0
    here = tmp_path / "here"
    here.mkdir()
    default = subprocess.run(
        [sys.executable, "-m", "samantha", "export", "theo"],
        env=cli_env,
        cwd=here,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert default.returncode == 0, default.stderr
    (made,) = here.iterdir()
    assert re.fullmatch(r"theo-\d{4}-\d{2}-\d{2}\.samantha\.zip", made.name), made.name
    before = rows(home / "samantha.db")
    clash = samantha(cli_env, "import", str(out))
    assert clash.returncode == 2 and "--as NAME" in flat(clash.stderr)
    assert rows(home / "samantha.db") == before
    elsewhere = {**cli_env, "SAMANTHA_HOME": str(tmp_path / "elsewhere")}
    moved = samantha(elsewhere, "import", str(out))
    assert moved.returncode == 0, moved.stderr
    assert "Imported Theo: 3 conversation(s)" in flat(moved.stdout) and "sam_" in moved.stdout
    back = tmp_path / "back.zip"
    assert samantha(elsewhere, "export", "Theo", "--out", str(back)).returncode == 0
    kept = document(back.read_bytes())["relationship"]
    assert kept == document(out.read_bytes())["relationship"] and kept["milestones"]
    found = samantha(elsewhere, "memory", "search", "--person", "Theo", "Where does Ada live?")
    assert "Porto" in found.stdout.splitlines()[0]
    renamed = samantha(cli_env, "import", str(out), "--as", "Theo Two")
    assert renamed.returncode == 0, renamed.stderr
    assert samantha(cli_env, "people", "list").stdout.split("\n")[:3] == [
        "1\tTheo",
        "2\tAmy",
        "3\tTheo Two",
    ]


def test_a_bad_archive_from_the_terminal_writes_nothing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    text = tmp_path / "notes.zip"
    text.write_text("not a zip at all")
    for args, error in (
        (["import", str(tmp_path / "missing.zip")], "cannot read"),
        (["import", str(text)], "not a ZIP archive"),
        (["import", str(tmp_path)], "cannot read"),
        (["export", "nobody"], "no person named 'nobody'"),
    ):
        done = samantha(cli_env, *args)
        assert done.returncode == 2 and error in flat(done.stderr), done.stderr
    assert rows(Path(cli_env["SAMANTHA_HOME"]) / "samantha.db") in ({}, dict.fromkeys(TABLES, 0))


def test_bench_load_drives_the_real_server(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = samantha(
        cli_env,
        *("bench", "load", "--people", "20", "--duration", "4", "--rate", "1"),
        *(
            "--records",
            "5",
            "--sim-rate",
            "100",
            "--json",
            str(out),
            "--plot",
            str(tmp_path / "l.png"),
        ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(out.read_text())
    assert figures["connected_peak"] == 20
    assert figures["errors"] == 0 and figures["lost"] == 0
    assert figures["replies_completed"] == figures["messages_sent"] > 20
    # a small run's turns are all learned before the server has stopped: none put off
    assert figures["unlearned"] == 0
    assert set(figures["server_ms"]) == {"p50", "p99"} and figures["rss_mb"] > 0
    assert (tmp_path / "l.png").read_bytes().startswith(b"\x89PNG")


def test_bench_load_can_seed_once_and_reuse_the_people(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "seeded"
    home.mkdir()
    run = ("bench", "load", "--duration", "2", "--rate", "1", "--records", "3")
    first = samantha(cli_env, *run, "--people", "8", "--home", str(home))
    again = samantha(cli_env, *run, "--people", "5", "--home", str(home))
    assert first.returncode == again.returncode == 0, first.stdout + again.stdout
    assert "seeding 8 people" in first.stdout and "using 5 of the 8 people" in again.stdout
    assert "lost               0" in again.stdout  # this run's messages, told apart
    more = samantha(cli_env, *run, "--people", "9", "--home", str(home))
    assert more.returncode == 2 and "holds 8 seeded people" in flat(more.stderr)
    # people whose first turn would come after the run end with it, having said nothing
    quiet = tmp_path / "quiet.json"
    late = ("bench", "load", "--duration", "2", "--rate", "100000", "--people", "4")
    ended = samantha(cli_env, *late, "--home", str(home), "--json", str(quiet))
    assert ended.returncode == 0, ended.stdout + ended.stderr
    figures = json.loads(quiet.read_text())
    assert figures["connected_peak"] == 4 and figures["messages_sent"] == 0


def test_bench_load_embedded_says_how_many_conversations_the_model_sustains(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "sustain.json"
    done = samantha(
        cli_env,
        *("bench", "load", "--embedded", "--model", cli_env["SAMANTHA_LLM"], "--people", "2"),
        *("--rounds", "1", "--records", "3", "--reply-tokens", "16", "--min-rate", "0"),
        *("--json", str(out)),
        timeout=600,  # the model loads and answers three times
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(out.read_text())
    assert [level["people"] for level in figures["levels"]] == [1, 2]
    assert all(level["failed"] == 0 for level in figures["levels"])
    assert [level["replies"] for level in figures["levels"]] == [1, 2]
    assert figures["sustained"] == 2  # with no bar, both levels pass
    assert "sustained" in done.stdout


async def _plans_made_two_days_ago(home: Path) -> None:
    """Theo and Amy each said, two days ago, that their interview was the next day."""
    fake = ScriptedLLM()
    clock = ProactiveClock(datetime.fromtimestamp(time.time() - 2 * 86400).isoformat())
    async with running(make_settings(home), llm=fake, clock=clock) as sam:
        for name in ("Theo", "Amy"):
            person = await sam.person_named(name, create=True)
            assert person
            conversation = await sam.store.create_conversation(person.id)
            await sam.companion.say(person, conversation.id, "My interview is tomorrow.")
            await (await sam.companion.reply(person, conversation.id)).read_all()
            await sam.companion.drain()


def test_follow_ups_from_the_terminal(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "SAMANTHA_LLM": "sim:rate=1000"}
    nobody = samantha(env, "people", "settings", "Theo")
    assert nobody.returncode == 2 and "no person named 'Theo'" in flat(nobody.stderr)
    asyncio.run(_plans_made_two_days_ago(Path(env["SAMANTHA_HOME"])))
    shown = samantha(env, "people", "settings", "Theo")
    assert shown.stdout.splitlines() == [
        "proactive\ton",
        "quiet\t22:00-08:00",
        "reminder\toff (default)",
    ]
    changed = samantha(env, "people", "settings", "theo", "--quiet", "none", "--proactive", "off")
    assert changed.stdout.splitlines() == [
        "proactive\toff",
        "quiet\tnone",
        "reminder\toff (default)",
    ]
    for bad in ("25:00-08:00", "22:00", "late"):
        refused = samantha(env, "people", "settings", "Theo", "--quiet", bad)
        assert refused.returncode == 2 and "e.g. --quiet 22:00-08:00" in flat(refused.stderr)
    assert samantha(env, "people", "settings", "Theo").stdout.splitlines()[0] == "proactive\toff"

    amy = samantha(env, "proactive", "run", "--now")  # Amy's quiet hours do not hold it back
    assert amy.returncode == 0, amy.stderr
    assert amy.stdout.splitlines() == ["Amy\tHow did your interview go?"]
    assert "1 follow-up(s) sent." in amy.stderr
    samantha(env, "people", "settings", "Theo", "--proactive", "on")
    theo = samantha(env, "proactive", "run")  # no quiet hours for Theo: whatever the time
    assert theo.stdout.splitlines() == ["Theo\tHow did your interview go?"]
    again = samantha(env, "proactive", "run", "--now")
    assert again.returncode == 0 and again.stdout == ""
    assert "0 follow-up(s) sent." in again.stderr
