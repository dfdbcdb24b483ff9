"""The operator's tools: the model catalog, her persona card, benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from rich.table import Table

from samantha.cli.console import (
    err,
    out,
    progress_bar,
)
from samantha.config import Settings
from samantha.errors import InputError, SamanthaError
from samantha.files import write_atomically
from samantha.llm import catalog
from samantha.persona import card_png, default_persona, export_card, load_persona


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
    bar, update = progress_bar(f"{args.action} {args.name}")
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
    if args.bench == "load" and args.embedded:
        from samantha.bench.sustain import run_sustain_bench

        return asyncio.run(run_sustain_bench(settings, args, out))
    if args.bench == "voice":
        from samantha.bench.voice import run_voice_bench

        return asyncio.run(run_voice_bench(settings, args, out))
    if args.bench == "load":
        import uvloop

        from samantha.bench.load import run_load_bench

        # the generator shares the machine with the server it measures: on uvloop, as the
        # server is, its thousands of connections cost less of the machine
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(run_load_bench(settings, args, out))
    run = run_model_bench if args.bench == "model" else run_replies_bench
    return asyncio.run(run(settings, args, out))
