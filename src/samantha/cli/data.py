"""What is kept and whose it is: memory, export, import, delete, backup, depart."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from rich.progress import (
    MofNCompleteColumn,
)

from samantha.archive import export_archive, file_name, import_archive, read_archive
from samantha.auth import clean_name
from samantha.cli.console import (
    confirmed,
    err,
    no_database,
    out,
    progress_bar,
    row,
    when,
)
from samantha.config import Settings
from samantha.departure import Summary, depart
from samantha.errors import InputError, NotFound
from samantha.files import write_atomically
from samantha.store import PersonData, open_store
from samantha.system import running


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
            recalled = await sam.memory.recall(
                person.id, args.query, k=args.limit, speakers=sam.companion.speakers(person)
            )
            for found in recalled:
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
        f" {exported.messages} message(s), {exported.memories} memory record(s),"
        f" {exported.letters} letter(s) to {path}",
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
        f" {done.messages} message(s), {done.memories} memory record(s),"
        f" {done.letters} letter(s).",
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


async def _delete(settings: Settings, name: str, yes: bool) -> int:
    if not settings.db_path.exists():  # do not create a home just to find nobody in it
        raise no_database(settings, f"no person named {name!r}")
    async with running(settings, load_model=False) as sam:
        person = await sam.person_named(name)
        if person is None:
            raise NotFound(f"no person named {name!r}; see `samantha people list`")
        question = (
            f"Delete {person.name} (person {person.id}) and every conversation, message, "
            "memory, letter and token kept for them? This cannot be undone. [y/N] "
        )
        if not yes and not await confirmed(question):
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


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_delete(settings, args.person, args.yes))


async def _backup(settings: Settings, target: Path | None, force: bool) -> int:
    if not settings.db_path.exists():
        raise no_database(settings, "nothing to back up")
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


async def _depart(settings: Settings, yes: bool, batch: int | None) -> int:
    if not settings.db_path.exists():
        raise no_database(settings, "nobody to say goodbye to")
    async with running(settings, load_model=False) as sam:
        found = await sam.store.departure()
        if found is not None and found.finished_at is not None:
            out.print(
                f"Samantha has already departed ({when(found.finished_at)}): {found.done}"
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
            if not yes and not await confirmed(question):
                err.print("Nothing was changed; she stays.")
                return 1
        else:
            err.print(
                f"Going on with the departure begun {when(found.started_at)}:"
                f" {found.done} of {found.people} farewells were written.",
                markup=False,
            )
        bar, update = progress_bar("farewells", MofNCompleteColumn())
        with bar:
            summary = await depart(sam, batch=batch, progress=update)
    _departed(settings, summary)
    return 0


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
        "A server running on this home delivers the farewells within a second and"
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
