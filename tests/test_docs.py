"""Every example in docs/ runs, as a reader would run it, against a real Samantha.

Each page becomes one bash script, in order: ``console`` blocks contribute their ``$ ``
lines (other lines are sample output), ``bash`` blocks run whole, ``python`` blocks run
with the project's Python, and a block right after ``<!-- file: NAME -->`` is written to
NAME first. The port 8316 in a page is swapped for a free one, so pages can use the
documented default. Blocks in other languages (``text``, ``http``, ``json`` shapes) are
not examples and do not run.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from samantha.config import Settings
from tests.conftest import free_port

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"(?:<!-- file: (\S+) -->\n)?^```(\w+)[^\n]*\n(.*?)^```", re.M | re.S)
PAGES = sorted(DOCS.glob("*.md"))


def script(page: Path) -> str:
    lines = []
    for n, (filename, lang, body) in enumerate(BLOCK.findall(page.read_text())):
        where = f"{page.name} example {n + 1}"
        if filename:
            lines += [f"cat > {filename} <<'SAMANTHA_DOC'", body.rstrip("\n"), "SAMANTHA_DOC"]
        elif lang == "console":
            commands, more = [], False
            for line in body.splitlines():
                if line.startswith("$ ") or more:
                    commands.append(line[2:] if line.startswith("$ ") else line)
                    more = line.endswith("\\")
            lines += [f'echo "### {where} $SECONDS s" >&2', *commands]
        elif lang == "bash":
            lines += [f'echo "### {where} $SECONDS s" >&2', body]
        elif lang == "python":
            lines += [
                f'echo "### {where} $SECONDS s" >&2',
                "python - <<'SAMANTHA_DOC'",
                body,
                "SAMANTHA_DOC",
            ]
    return "\n".join(lines)


def test_every_page_has_examples() -> None:
    assert {p.name for p in PAGES} >= {
        "cli.md",
        "http.md",
        "openai.md",
        "personas.md",
        "configuration.md",
    }
    for page in PAGES:
        assert script(page).strip(), f"{page.name} has no runnable example"


def test_configuration_page_lists_every_setting() -> None:
    text = (DOCS / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`SAMANTHA_{name.upper()}`" in text, name


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_examples_run(page: Path, tmp_path: Path, cli_env: dict[str, str]) -> None:
    port = str(free_port())
    bin_dir = str(Path(sys.executable).parent)
    env = {**cli_env, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "PYTHON": sys.executable}
    env.update(SAMANTHA_HOME=str(tmp_path / "home"), SAMANTHA_PORT=port)
    body = "set -euo pipefail\n" + script(page).replace("8316", port)
    log = tmp_path / "output.txt"
    with log.open("w") as output:  # a file, not a pipe: a background server keeps pipes open
        proc = subprocess.Popen(
            ["bash", "-c", body],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a server the page starts in the background goes with it
        )
        try:
            proc.wait(timeout=600)  # a page with model work, on two cores shared with others
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
    assert proc.returncode == 0, log.read_text()
