"""``samantha people settings`` for a person's session reminder: a real process, no model."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.test_cli import flat, samantha


def reminder(env: dict[str, str], name: str, *change: str) -> str:
    done = samantha(env, "people", "settings", name, *change)
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("reminder\t")]
    return line.split("\t", 1)[1]


def test_the_session_reminder_from_the_terminal(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "SAMANTHA_LLM": "sim:rate=1000", "SAMANTHA_SESSION_REMINDER_MIN": "30"}
    for name in ("Theo", "Amy"):
        assert samantha(env, "people", "add", name, "--token-only").returncode == 0
    assert reminder(env, "Theo") == "30 min (default)"
    assert reminder(env, "theo", "--reminder", "20") == "20 min"
    assert reminder(env, "Theo", "--reminder", "off") == "off"
    assert reminder(env, "Theo", "--reminder", "45", "--proactive", "off") == "45 min"
    assert reminder(env, "Theo", "--reminder", "0") == "off"
    for bad in ("-1", "1441", "abc", "1.5", "9" * 40, ""):
        refused = samantha(env, "people", "settings", "Theo", "--reminder", bad, "--quiet", "none")
        assert refused.returncode == 2, refused.stderr
        assert "give whole minutes from 1 to 1440, or off; e.g. --reminder 30" in flat(
            refused.stderr
        )
    shown = samantha(env, "people", "settings", "Theo").stdout.splitlines()
    assert shown == ["proactive\toff", "quiet\t22:00-08:00", "reminder\toff"]  # nothing written
    assert reminder(env, "Amy") == "30 min (default)"  # Theo's choice is his
    with sqlite3.connect(Path(env["SAMANTHA_HOME"]) / "samantha.db") as db:
        rows = db.execute("SELECT person_id, session_reminder_min FROM person_settings")
        assert rows.fetchall() == [(1, 0)]
