"""The document's charts: matplotlib (Agg), SVG with the text as paths, inlined in the HTML.

Each chart gets its own id prefix, so that several SVGs on one page never share an id.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "path"  # no font to fetch: glyphs are drawn as paths
matplotlib.rcParams["svg.hashsalt"] = "bwk-accountability"  # same figures, same SVG
matplotlib.rcParams["font.size"] = 9

from matplotlib.figure import Figure  # noqa: E402 - after the backend is chosen

GREEN, GREY, RED, BLUE = "#2e7d32", "#9e9e9e", "#c62828", "#1565c0"
PALETTE = ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#9e9d24"]


def _svg(fig: Figure, prefix: str) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = svg.replace('id="', f'id="{prefix}-')
    svg = svg.replace('href="#', f'href="#{prefix}-').replace("url(#", f"url(#{prefix}-")
    return svg


def _percent_axis(ax: object) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))  # type: ignore[attr-defined]


def attainment(
    rooms: Sequence[str], activities: Sequence[str], values: Sequence[Sequence[float | None]]
) -> str:
    """Grouped bars: per activity (x), a bar per room; None (no target, or hidden) is no bar."""
    fig = Figure(figsize=(7.2, 3.4))
    ax = fig.subplots()
    width = 0.8 / max(len(rooms), 1)
    for i, room in enumerate(rooms):
        xs = [a + (i - (len(rooms) - 1) / 2) * width for a in range(len(activities))]
        ax.bar(
            xs,
            [0 if v is None else v for v in values[i]],
            width,
            label=room,
            color=PALETTE[i % len(PALETTE)],
        )
    ax.axhline(1.0, color=RED, linewidth=1, linestyle="--", label="Doel (100%)")
    ax.set_xticks(range(len(activities)), activities, rotation=30, ha="right")
    _percent_axis(ax)
    ax.set_ylabel("Realisatie t.o.v. doel")
    ax.legend(fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.45))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, "attainment")


def per_quarter(
    quarters: Sequence[str], services: Sequence[int | None], visitors: Sequence[int | None]
) -> str:
    """Services (bars, left axis) and unique visitors (line, right axis) per quarter."""
    fig = Figure(figsize=(7.2, 2.8))
    ax = fig.subplots()
    xs = range(len(quarters))
    ax.bar(xs, [0 if v is None else v for v in services], 0.6, color=BLUE, label="Diensten")
    ax.set_ylabel("Diensten")
    ax.set_xticks(xs, quarters)
    right = ax.twinx()
    shown = [(x, v) for x, v in zip(xs, visitors, strict=True) if v is not None]
    right.plot(
        [x for x, _ in shown], [v for _, v in shown], color=GREEN, marker="o", label="Bezoekers"
    )
    right.set_ylabel("Unieke bezoekers")
    # an axis of only zeros still gets a height (matplotlib warns on a flat one)
    right.set_ylim(bottom=0, top=max([v for _, v in shown] + [1]) * 1.15)
    ax.set_ylim(bottom=0, top=max([v for v in services if v is not None] + [1]) * 1.15)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(
        handles,
        ["Diensten", "Unieke bezoekers"],
        fontsize=7,
        ncols=2,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
    )
    return _svg(fig, "quarters")


def money(income: Sequence[tuple[str, float]], costs: Sequence[tuple[str, float]]) -> str:
    """Two stacked bars: income by source against costs by category."""
    fig = Figure(figsize=(7.2, 4.2))
    ax = fig.subplots()
    for x, parts in ((0, income), (1, costs)):
        bottom = 0.0
        for i, (label, amount) in enumerate(parts):
            colour = PALETTE[(i + (0 if x == 0 else len(income))) % len(PALETTE)]
            ax.bar(x, amount, 0.5, bottom=bottom, color=colour, label=label)
            bottom += amount
    ax.set_xticks([0, 1], ["Inkomsten", "Kosten"])
    ax.set_ylabel("Euro")
    ax.yaxis.set_major_formatter(
        lambda v, _: f"€ {v:,.0f}".replace(",", ".")  # Dutch thousands
    )
    ax.legend(fontsize=7, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, "money")
