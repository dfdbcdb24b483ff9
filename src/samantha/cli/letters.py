"""Letters from the terminal: write one with her, list, show, change, redraft, bind, delete."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path

from samantha.cli.console import confirmed, err, out, row
from samantha.config import Settings
from samantha.errors import InputError, NotFound
from samantha.files import write_atomically
from samantha.letters import Letter
from samantha.store import Person
from samantha.system import Samantha, running

DRAFTING = ("write", "redraft")  # the actions that need the model


def add_letter_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    letter = sub.add_parser("letter", help="letters a person writes with her, in their voice")
    actions = letter.add_subparsers(dest="action", required=True)
    for action, text in (
        ("write", "draft a letter from notes, in the person's voice, and keep it"),
        ("list", "the person's letters, newest first"),
        ("show", "a letter's words (and its handwritten pages with --pdf)"),
        ("edit", "keep the person's own words for a letter"),
        ("redraft", "draft a letter's body again with a note"),
        ("book", "all of the person's letters as one PDF book"),
        ("delete", "delete a letter"),
    ):
        p = actions.add_parser(action, help=text)
        p.add_argument("--person", required=True, help="whose letter (created by write)")
        if action not in ("write", "list", "book"):
            p.add_argument("id", type=int)
        if action in ("write", "edit"):
            p.add_argument("--to", required=action == "write", help="whom it is to")
        if action == "write":
            p.add_argument("--notes", required=True, help="what to say; - reads standard input")
        if action == "edit":
            p.add_argument("--text", help="its new words; - reads standard input")
        if action == "redraft":
            p.add_argument("--note", required=True, help="what to change")
        if action in ("write", "show", "redraft"):
            p.add_argument("--pdf", type=Path, help="also write its handwritten pages here")
        if action == "book":
            p.add_argument("--out", type=Path, required=True, help="the PDF book to write")
        if action in ("write", "show", "redraft", "book"):
            p.add_argument("--force", action="store_true", help="replace an existing file")
        if action == "delete":
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    letter.set_defaults(run=cmd_letter)


def cmd_letter(args: argparse.Namespace, settings: Settings) -> int:
    for name in ("notes", "text"):
        if getattr(args, name, None) == "-":
            setattr(args, name, sys.stdin.read())
    return asyncio.run(_letter(settings, args))


async def _letter(settings: Settings, args: argparse.Namespace) -> int:
    async with running(settings, load_model=args.action in DRAFTING) as sam:
        person = await sam.person_named(args.person, create=args.action == "write")
        if person is None:
            raise NotFound(f"no person named {args.person!r}; see `samantha people list`")
        if args.action == "list":
            for x in await sam.store.letters(person.id, limit=10_000):
                row(x.id, x.recipient, _day(x.created_at), _first_words(x.text))
            return 0
        if args.action == "book":
            write_atomically(args.out, await sam.letters.book(person), force=args.force)
            err.print(f"Bound {person.name}'s letters into {args.out}", markup=False)
            return 0
        if args.action == "delete":
            return await _delete(sam, person, args.id, args.yes)
        letter = await _change(sam, person, args)
        sys.stdout.write(letter.text + "\n")  # as written: no rewrapping for the terminal
        sys.stdout.flush()
        if args.action != "edit" and args.pdf is not None:
            write_atomically(args.pdf, await sam.letters.pdf(person, letter.id), force=args.force)
            err.print(f"Its handwritten pages are in {args.pdf}", markup=False)
        if args.action != "show":
            err.print(f"Letter {letter.id} to {letter.recipient} is kept.", markup=False)
    return 0


async def _change(sam: Samantha, person: Person, args: argparse.Namespace) -> Letter:
    if args.action == "write":
        return await sam.letters.write(person, args.to, args.notes)
    if args.action == "redraft":
        return await sam.letters.redraft(person, args.id, args.note)
    if args.action == "edit":
        if args.text is None and args.to is None:
            raise InputError("say what to change: --text TEXT (or - to read it) and/or --to NAME")
        return await sam.letters.edit(person, args.id, args.text, args.to)
    return await sam.store.letter(person.id, args.id)


async def _delete(sam: Samantha, person: Person, letter_id: int, yes: bool) -> int:
    letter = await sam.store.letter(person.id, letter_id)
    question = f"Delete letter {letter.id} to {letter.recipient}? It cannot be undone. [y/N] "
    if not yes and not await confirmed(question):
        err.print("Nothing was deleted.")
        return 1
    await sam.store.delete_letter(person.id, letter.id)
    out.print(f"Deleted letter {letter.id} to {letter.recipient}.", markup=False)
    return 0


def _day(when: float) -> str:
    return f"{datetime.fromtimestamp(when):%Y-%m-%d}"


def _first_words(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    words = " ".join(lines[1:2] or lines[:1])  # the line after the salutation
    return words if len(words) <= 60 else words[:59] + "…"
