"""Talking and the people she talks with: serve, chat, people, proactive follow-ups."""

from __future__ import annotations

import argparse
import asyncio
import getpass

from samantha.auth import add_person, clean_name, ensure_admin_token
from samantha.cli.console import (
    BACKLOG,
    GRACEFUL_STOP_S,
    KEEP_ALIVE_S,
    err,
    no_database,
    out,
    row,
)
from samantha.config import REMINDER_MAX_MIN, Settings, reminder_minutes, time_of_day
from samantha.errors import Departing, InputError, NotFound, SamanthaError
from samantha.proactive import preferences
from samantha.store import PersonSettings
from samantha.system import Samantha, running
from samantha.turn import validate_text
from samantha.wellbeing import reminder_in_force


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
        create_app(settings, stop=stop, own_process=True),
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=GRACEFUL_STOP_S,
        timeout_keep_alive=KEEP_ALIVE_S,
        backlog=BACKLOG,
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


def _reminder(text: str | None) -> int | None:
    """``30`` as minutes; ``off`` (or 0) for no session reminder."""
    if text is None:
        return None
    if text.strip().lower() == "off":
        return 0
    try:
        return reminder_minutes(int(text))
    except ValueError:
        raise InputError(
            f"--reminder {text!r}: give whole minutes from 1 to {REMINDER_MAX_MIN}, or off;"
            " e.g. --reminder 30"
        ) from None


async def _people_settings(settings: Settings, args: argparse.Namespace) -> int:
    start, end = _quiet_hours(args.quiet)  # refused before anything is opened
    reminder = _reminder(args.reminder)
    if not settings.db_path.exists():
        raise no_database(settings, f"no person named {args.name!r}")
    switch = None if args.proactive is None else args.proactive == "on"
    async with running(settings, load_model=False) as sam:
        person = await sam.person_named(args.name)
        if person is None:
            raise NotFound(f"no person named {args.name!r}; see `samantha people list`")
        changes = PersonSettings(switch, start, end, reminder)
        if changes != PersonSettings():
            await sam.store.change_person_settings(person.id, changes)
        own = await sam.store.person_settings(person.id)
    prefs = preferences(settings, own)
    quiet = "none" if prefs.quiet_start == prefs.quiet_end else prefs.quiet_start
    minutes = reminder_in_force(settings, own)
    shown = f"{minutes} min" if minutes else "off"
    row("proactive", "on" if prefs.proactive else "off")
    row("quiet", quiet if quiet == "none" else f"{quiet}-{prefs.quiet_end}")
    row("reminder", shown if own.session_reminder_min is not None else f"{shown} (default)")
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
        await not_departing(sam, name)  # before the model loads: she may be gone
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
                await not_departing(sam, name)
            except SamanthaError as exc:
                err.print(f"[red]{exc}[/]")


async def not_departing(sam: Samantha, name: str) -> None:
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
