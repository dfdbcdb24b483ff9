"""``samantha depart`` as an operator runs it: real processes, a kill -9 in the middle."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from samantha.system import running
from tests.conftest import free_port, make_settings, wait_until_up
from tests.test_cli import samantha


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "SAMANTHA_LLM": "sim:rate=1000"}


def farewells(home: Path) -> dict[int, int]:
    with sqlite3.connect(Path(home) / "samantha.db") as db:
        return dict(
            db.execute(
                "SELECT person_id, count(*) FROM events WHERE kind = 'farewell' GROUP BY person_id"
            ).fetchall()
        )


def test_depart_asks_first_then_says_goodbye_once(env: dict[str, str]) -> None:
    home = Path(env["SAMANTHA_HOME"])
    assert samantha(env, "depart", "--yes").returncode == 2  # no home: nobody to leave
    said = samantha(env, "chat", "--person", "theo", "--message", "My sister Ada is visiting.")
    assert said.returncode == 0, said.stderr
    assert samantha(env, "people", "add", "Amelia").returncode == 0

    asked = subprocess.run(
        [sys.executable, "-m", "samantha", "depart"],
        input="n\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert asked.returncode == 1 and "[y/N]" in asked.stdout + asked.stderr
    assert "she stays" in asked.stderr and farewells(home) == {}
    assert samantha(env, "chat", "--person", "theo", "--message", "Still here?").returncode == 0

    done = samantha(env, "depart", "--yes", "--batch", "1")
    assert done.returncode == 0, done.stderr
    assert "Samantha has departed. 2 of 2 people have their farewell" in done.stdout
    assert farewells(home) == {1: 1, 2: 1}
    assert sorted(p.name for p in (home / "departure").iterdir()) == [
        "1-theo.samantha.zip",
        "2-amelia.samantha.zip",
    ]

    again = samantha(env, "depart", "--yes")
    assert again.returncode == 0 and "already departed" in again.stdout
    assert farewells(home) == {1: 1, 2: 1}

    chat = samantha(env, "chat", "--person", "theo", "--message", "Are you there?")
    assert chat.returncode == 2 and "Dear theo," in chat.stdout and "Ada" in chat.stdout
    assert "leaving" in chat.stderr and "samantha export theo" in chat.stderr
    newcomer = samantha(env, "people", "add", "June")
    assert newcomer.returncode == 2 and "leaving" in newcomer.stderr
    kept = samantha(env, "export", "theo", "--out", str(home / "theo.zip"))
    assert kept.returncode == 0, kept.stderr
    assert samantha(env, "depart", "--batch", "0").returncode == 2


async def seed(home: Path, people: int) -> None:
    async with running(make_settings(home), load_model=False) as sam:
        for i in range(people):
            person = await sam.person_named(f"Person {i}", create=True)
            assert person is not None
            talk = await sam.store.create_conversation(person.id)
            await sam.store.add_message(person.id, talk.id, "user", f"I love secret-{i}-word.")


def test_killed_in_the_middle_it_goes_on_without_repeating_anyone(env: dict[str, str]) -> None:
    home = Path(env["SAMANTHA_HOME"])
    people = 400
    asyncio.run(seed(home, people))
    departing = subprocess.Popen(
        [sys.executable, "-m", "samantha", "depart", "--yes", "--batch", "25"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while len(farewells(home)) < 100 and departing.poll() is None:
            time.sleep(0.01)
        departing.send_signal(signal.SIGKILL)  # a crash: no cleanup at all
    finally:
        departing.wait(30)
    assert 100 <= len(farewells(home)) < people

    resumed = samantha(env, "depart", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert "Going on with the departure" in resumed.stderr
    assert farewells(home) == {i: 1 for i in range(1, people + 1)}
    with sqlite3.connect(home / "samantha.db") as db:
        texts = db.execute(
            "SELECT p.name, m.content FROM farewells f JOIN people p ON p.id = f.person_id"
            " JOIN messages m ON m.id = f.message_id"
        ).fetchall()
    for name, text in texts:
        assert f"secret-{name.split()[-1]}-word" in text and text.count("secret-") == 1
    archives = list((home / "departure").glob("*.samantha.zip"))
    assert len(archives) == people


def test_a_server_stops_by_itself_when_she_has_departed(env: dict[str, str]) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "samantha", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_up(url)
        admin = (Path(env["SAMANTHA_HOME"]) / "admin.token").read_text().strip()
        who = {"Authorization": f"Bearer {admin}"}
        assert httpx.post(url + "/v1/people", json={"name": "Theo"}, headers=who).is_success
        assert httpx.post(url + "/v1/admin/departure", headers=who).status_code == 202
        assert server.wait(60) == 0  # uvicorn shuts down as for Ctrl-C, and exits 0
    finally:
        if server.poll() is None:
            server.kill()
        _, errors = server.communicate(timeout=30)
    assert "Samantha has departed; the server has stopped" in errors
    assert farewells(Path(env["SAMANTHA_HOME"])) == {1: 1}
