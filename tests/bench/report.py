"""Printing for the benchmark scripts."""

from __future__ import annotations


def verdict_lines(checks: list[tuple[str, bool]]) -> list[str]:
    """A line per target: "met: ..." or "below target: ...", the figure in the text. The
    benchmarks measure and never fail on a figure: a shared machine moves them."""
    return [f"{'met' if met else 'below target'}: {what}" for what, met in checks]


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table: the first column left-aligned, the figures right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
