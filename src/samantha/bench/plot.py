"""Bar charts for benchmark results, drawn with Pillow (no plotting stack needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

CATEGORIES = ("1 multi-hop", "2 temporal", "3 open-domain", "4 single-hop", "5 adversarial")
OURS, BASE = (196, 68, 47), (150, 150, 160)


def bars(result: dict[str, Any], k: int, path: Path) -> None:
    """Recall@k per LoCoMo category, Samantha beside BM25, as a PNG."""
    width, height, left, bottom, top = 900, 420, 60, 70, 50
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text(
        (left, 15), f"LoCoMo evidence recall@{k}: Samantha (red) vs BM25 (grey)", fill="black"
    )
    plot_h = height - bottom - top
    for tick in range(0, 11, 2):
        y = height - bottom - plot_h * tick / 10
        draw.line((left, y, width - 20, y), fill=(230, 230, 230))
        draw.text((15, y - 6), f"{tick / 10:.1f}", fill="black")
    groups = [*CATEGORIES, "overall 1-4"]
    slot = (width - left - 20) / len(groups)
    for i, label in enumerate(groups):
        if label.startswith("overall"):
            ours = result["overall_1_4"][f"recall@{k}"]
            base = result["bm25_overall_1_4"][f"recall@{k}"]
        else:
            row = result["categories"][label[0]]
            ours, base = row[f"recall@{k}"], row[f"bm25_recall@{k}"]
        x = left + i * slot + slot * 0.15
        bar_w = slot * 0.33
        for j, (value, colour) in enumerate(((ours, OURS), (base, BASE))):
            x0 = x + j * bar_w
            y0 = height - bottom - plot_h * value
            draw.rectangle((x0, y0, x0 + bar_w - 4, height - bottom), fill=colour)
            draw.text((x0, y0 - 14), f"{value:.2f}", fill="black")
        draw.text((x, height - bottom + 10), label, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def timeline(points: list[dict[str, float]], path: Path, title: str) -> None:
    """Connected people, messages per second and first-token p50/p99 over a run, as a PNG.

    Three panels share the time axis; each is scaled to its own maximum.
    """
    width, panel, left, gap = 900, 150, 70, 30
    height = 50 + 3 * (panel + gap)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 15), title, fill="black")
    end = max((p["t"] for p in points), default=1.0) or 1.0
    series = (
        ("connected people", ("connected",), ((196, 68, 47),)),
        ("messages per second", ("messages_per_s",), ((60, 110, 180),)),
        ("first token ms: p50, p99", ("p50_ms", "p99_ms"), ((90, 150, 90), (150, 150, 160))),
    )
    for row, (label, keys, colours) in enumerate(series):
        top = 45 + row * (panel + gap)
        bottom = top + panel
        peak = max((p[k] for p in points for k in keys), default=1.0) or 1.0
        draw.rectangle((left, top, width - 20, bottom), outline=(210, 210, 210))
        draw.text((left + 5, top + 3), f"{label} (max {peak:,.0f})", fill="black")
        for key, colour in zip(keys, colours, strict=True):
            xy = [
                (left + (width - 20 - left) * p["t"] / end, bottom - panel * 0.9 * p[key] / peak)
                for p in points
            ]
            if len(xy) > 1:
                draw.line(xy, fill=colour, width=2)
    draw.text((left, height - 18), f"seconds 0 to {end:,.0f}", fill="black")
    image.save(path)
