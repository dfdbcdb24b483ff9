"""``samantha relationship`` and ``samantha reflect``: a person's relationship with her as
they see it, how many people are in each stage, and her inner life."""

from __future__ import annotations

import argparse
import asyncio
import json

from samantha.cli.console import no_database, out, row, when
from samantha.config import Settings
from samantha.errors import NotFound
from samantha.relationship import STAGES, stage_share
from samantha.store.relationship import InnerLife
from samantha.system import running


async def _relationship(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.db_path.exists():
        raise no_database(settings, "no relationships yet")
    async with running(settings, load_model=False) as sam:
        if args.person is None:
            counts = stage_share(await sam.store.stage_counts())
            if args.json:
                print(json.dumps({"people": await sam.store.count_people(), "stages": counts}))
            for stage in STAGES if not args.json else ():
                row(stage.key, counts[stage.key], stage.label)
            return 0
        person = await sam.person_named(args.person)
        if person is None:
            raise NotFound(f"no person named {args.person!r}; see `samantha people list`")
        await sam.memory.learn(person.id, person.name)
        await sam.relationships.update(person)
        view = await sam.relationships.view(person)
    if args.json:
        print(json.dumps(view, indent=2))
        return 0
    out.print(
        f"{person.name} and Samantha: {view['label']} (closeness {view['closeness']:.2f},"
        f" trust {view['trust']:.2f})",
        markup=False,
    )
    for key, value in view["signals"].items():
        row(key, when(value) if key.endswith("_at") else value)
    for m in view["milestones"]:
        row(when(m["at"]), m["text"])
    return 0


def cmd_relationship(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_relationship(settings, args))


def _show(life: InnerLife) -> None:
    out.print(f"Version {life.version}, {when(life.created_at)}", markup=False)
    row("interests", ", ".join(life.state.get("interests", [])))
    for line in life.state.get("noticed", []):
        row("noticed", line)
    for line in life.state.get("thoughts", []):
        row("thought", line)
    themes = life.material.get("themes", {})
    row("from", ", ".join(f"{t}: {v['people']} people" for t, v in themes.items()))


async def _reflect(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.db_path.exists():
        raise no_database(settings, "nothing to reflect on")
    async with running(settings, load_model=not args.show) as sam:
        if args.show:
            versions = await sam.store.inner_life(limit=args.show)
            for version in versions:
                _show(version)
            if not versions:
                out.print("She has not reflected yet: `samantha reflect` lets her.")
            return 0
        life = await sam.growth.reflect()
    if life is None:
        out.print(
            f"Nothing to reflect on yet: no theme was shared by {settings.growth_min_people}"
            f" or more people in the last {settings.growth_window_days} days.",
            markup=False,
        )
        return 0
    _show(life)
    return 0


def cmd_reflect(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_reflect(settings, args))
