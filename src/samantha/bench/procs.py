"""The server the benchmarks drive, as a process of its own: started, waited for, stopped,
and, with the processes it started, measured as Linux's /proc sees them (what ``bench
load`` reports of the server's CPU and memory)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from samantha.bench import wire

HOST = "127.0.0.1"
STOP_WAIT_S = 60.0  # how long the server may take to stop once the run is over


def processes(pid: int) -> list[int]:
    """The server and the processes it started (its recall workers), from Linux's /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found = [pid]
    for each in found:
        found += children.get(each, [])
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time the server and its workers have used so far."""
    ticks = 0
    for each in processes(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The server's and its workers' peak resident memory, added up (an upper bound)."""
    kb = 0
    for each in processes(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    kb += int(line.split()[1])
    return kb / 1024


@dataclass
class Served:
    """A server :func:`serving` runs: its pid, and once the block has ended, how long it
    took to stop once asked."""

    pid: int
    stop_s: float = 0.0


@contextlib.asynccontextmanager
async def serving(home: Path, env: dict[str, str], port: int) -> AsyncIterator[Served]:
    """``samantha serve`` as its own process on ``home``, until the block ends. Its log is
    ``home/serve.log``."""
    with (home / "serve.log").open("w") as log:
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "samantha",
            "serve",
            "--port",
            str(port),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=_die_with_parent,
        )
        served = Served(server.pid)
        try:
            await until_ready(port)
            yield served
        finally:
            asked = time.monotonic()
            server.terminate()
            try:
                await asyncio.wait_for(server.wait(), STOP_WAIT_S)
            except TimeoutError:  # the run is still reported; the log says it was killed
                log.write(f"server still running {STOP_WAIT_S:.0f} s after SIGTERM: killed\n")
                server.kill()
                await server.wait()
            served.stop_s = time.monotonic() - asked


def _die_with_parent() -> None:
    """In the server's process, before it starts: end it if the bench itself is killed,
    so no server is left behind (Linux; elsewhere, only the bench's own ending stops it)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def until_ready(port: int, tries: int = 1500) -> None:
    """Wait for the server's ``/readyz`` (the model loaded), up to five minutes."""
    for _ in range(tries):
        with contextlib.suppress(OSError, ValueError, asyncio.IncompleteReadError):
            res = await wire.request(HOST, port, "GET", "/readyz")
            await res.close()
            if res.status == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the server on port {port} never became ready")


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
