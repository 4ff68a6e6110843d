"""The docking verdict as text: the console table and ``validation.md``.

One line per comparison: the check, what is compared, the expected and measured
values, the pass criterion in a few words and pass/fail. A skipped check (NDlib
missing) gets one line saying why.
"""

from __future__ import annotations

import math

from model.validation.checks import CheckOutcome, CheckRow

HEADERS: tuple[str, ...] = ("check", "what is compared", "expected", "measured", "criterion")
"""Column headers of the console table and validation.md (then ``result``)."""


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
        return f"{x:.2e}"
    return f"{x:.4f}"


def criterion(row: CheckRow) -> str:
    """Return the pass criterion of a row in a few words, with its numbers."""
    if row.criterion:
        return row.criterion
    return f"|measured - expected| <= {row.tolerance:.4f}"


def format_table(outcomes: list[CheckOutcome]) -> str:
    """Format the verdict as a plain-text table (one line per comparison, with headers).

    Columns are as wide as their longest entry: nothing is cut.
    """
    cells = []
    for outcome in outcomes:
        if outcome.skipped:
            cells.append((outcome.name, f"(skipped: {outcome.skipped})", "", "", "", ""))
            continue
        for row in outcome.rows:
            cells.append(
                (
                    outcome.name,
                    row.name,
                    _fmt(row.expected),
                    _fmt(row.measured),
                    criterion(row),
                    "pass" if row.passed else "FAIL",
                )
            )
    titles = (*HEADERS, "result")
    widths = [max([len(titles[i])] + [len(c[i]) for c in cells]) for i in range(len(titles))]
    right = {2, 3}  # numbers

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(
            v.rjust(widths[i]) if i in right else v.ljust(widths[i]) for i, v in enumerate(values)
        ).rstrip()

    header = line(titles)
    return "\n".join([header, "-" * len(header), *(line(c) for c in cells)])


def format_markdown(outcomes: list[CheckOutcome]) -> str:
    """Format the verdict as a Markdown table (written as ``validation.md``)."""
    lines = [
        "| " + " | ".join(HEADERS) + " | result |",
        "|---|---|---:|---:|---|---|",
    ]
    for outcome in outcomes:
        if outcome.skipped:
            lines.append(f"| `{outcome.name}` | skipped: {outcome.skipped} | | | | |")
            continue
        for row in outcome.rows:
            lines.append(
                f"| `{outcome.name}` | {_cell(row.name)} | {_fmt(row.expected)} "
                f"| {_fmt(row.measured)} | {_cell(criterion(row))} "
                f"| {'pass' if row.passed else '**FAIL**'} |"
            )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Escape a Markdown table cell (``|diff|`` would end the cell)."""
    return text.replace("|", "\\|")
