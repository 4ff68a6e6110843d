"""docs/odd.md: every ODD+D element has its section, and every generated table is the code's.

The elements and their order are those of the ODD+D protocol (Müller et al. 2013, table
1), with Grimm et al.'s (2020) "patterns" joined to the purpose. The tables between
``gen:`` markers are checked by ``python -m docs.build --check`` against what their
generators write from the code now, so the test fails when the phases, the state
arrays, the scenario schema, its reference values, the levers or the mechanism modules
change and the document does not (``python -m docs.build --from-records`` rewrites them).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "odd.md"

ELEMENTS = (
    "Purpose and patterns",
    "Entities, state variables and scales",
    "Process overview and scheduling",
    "Theoretical and empirical background",
    "Individual decision making",
    "Learning",
    "Individual sensing",
    "Individual prediction",
    "Interaction",
    "Collectives",
    "Heterogeneity",
    "Stochasticity",
    "Observation",
    "Implementation details",
    "Initialisation",
    "Input data",
    "Submodels",
)
"""The ODD+D elements, in the protocol's order."""

GENERATED = {
    "Entities, state variables and scales": "odd-state",
    "Process overview and scheduling": "odd-schedule",
    "Submodels": ("odd-submodels", "odd-levers", "odd-parameters"),
}
"""The generated tables, by the section that holds them."""


def sections() -> dict[str, str]:
    """The document's level-3 sections: title without its number -> text."""
    parts = re.split(r"^### ", ODD.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    found = {}
    for part in parts:
        title, _, body = part.partition("\n")
        found[re.sub(r"^[IVX]+\.[ivx]+\s+", "", title).strip()] = body.split("\n## ")[0]
    return found


@pytest.mark.parametrize("element", ELEMENTS)
def test_every_odd_d_element_has_its_section(element):
    text = sections().get(element)
    assert text is not None, f"docs/odd.md has no section '{element}'"
    assert len(text.split()) >= 30, f"section '{element}' of docs/odd.md is nearly empty"


def test_sections_follow_the_protocol_order():
    titles = [title for title in sections() if title in ELEMENTS]
    assert titles == list(ELEMENTS)


@pytest.mark.parametrize("element", sorted(GENERATED))
def test_generated_tables_sit_in_their_sections(element):
    names = GENERATED[element]
    for name in (names,) if isinstance(names, str) else names:
        text = sections()[element]
        assert f"<!-- gen:{name}:start -->" in text and f"<!-- gen:{name}:end -->" in text


def test_generated_tables_match_the_code():
    done = subprocess.run(
        [sys.executable, "-m", "docs.build", "--check", str(ODD)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "5 generated block(s)" in done.stdout
