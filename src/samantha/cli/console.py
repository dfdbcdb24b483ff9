"""What every sub-command shares: the two consoles, one-line rows, questions, bars."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TimeRemainingColumn,
)

from samantha.config import Settings
from samantha.errors import NotFound

err = Console(stderr=True)
out = Console(highlight=False)
GRACEFUL_STOP_S = 3  # seconds a stopping server gives open streams and replies to end
# connections waiting to be accepted: 8,316 people may connect at once (uvicorn's default is
# 2,048; the kernel caps it at net.core.somaxconn, 4,096 on many machines)
BACKLOG = 8316
# how long an idle connection is kept for the client's next request. uvicorn's default is
# 5 s, and people write a message a minute or so: each message then came on a new
# connection. Setting one up and tearing it down cost both ends CPU, and new ones waited to
# be accepted behind the event loop's other work (``bench load`` at 8,316 people, 120 s:
# server_ms p50 10-11 s against 0.5 s, issue 4). Browsers keep a used connection up to 300 s
# (Chrome; Firefox 115 s) when the server does too.
KEEP_ALIVE_S = 300


def row(*fields: object) -> None:
    """One tab-separated line on stdout, for people and for `cut -f`: a field's own tabs and
    line breaks become spaces, so every record stays on one line."""
    print("\t".join(" ".join(str(f).split()) for f in fields), flush=True)


def progress_bar(
    label: str, counter: ProgressColumn | None = None
) -> tuple[Progress, Callable[[int, int], None]]:
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        counter or DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
    )
    task = bar.add_task(label, total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


async def confirmed(question: str) -> bool:
    try:
        answer = await asyncio.to_thread(input, question)
    except EOFError:
        out.print()
        return False
    return answer.strip().lower() in {"y", "yes"}


def when(at: float | None) -> str:
    """A moment as people read it on this machine ("-" for never)."""
    return "-" if at is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def no_database(settings: Settings, what: str) -> NotFound:
    return NotFound(f"{what}: there is no database at {settings.db_path}; check SAMANTHA_HOME")


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)
