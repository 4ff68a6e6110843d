"""The notebooks in notebooks/: stored without outputs, and each one runs from top to bottom.

Each notebook is executed with nbclient in a fresh kernel of this environment (the
kernel spec ``python3`` of the running Python, i.e. the project's venv), with the
notebook's folder as working directory, exactly as "Run All" in Jupyter would. A cell
that raises fails the test with the cell's traceback. Run times are measured
separately (docs/notebooks.md), not asserted here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook tests need nbformat (test extra)")
nbclient = pytest.importorskip("nbclient", reason="the notebook tests need nbclient (test extra)")
pytest.importorskip("ipykernel", reason="the notebook tests need ipykernel (test extra)")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds; a hung cell fails instead of blocking CI


def test_the_five_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "01_first_run.ipynb",
        "02_policy_comparison.ipynb",
        "03_sweep_and_analysis.ipynb",
        "04_calibration.ipynb",
        "05_classroom.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    """Outputs stay out of git: clear them before committing (Jupyter: Edit > Clear Outputs)."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs or execution counts"
    assert "widgets" not in notebook.metadata, f"{path.name}: saved widget state in metadata"
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path):
    notebook = nbformat.read(path, as_version=4)
    # one extra cell at the end: which Python ran the notebook
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name}: a cell failed:\n{exc}")
    printed = "".join(out.get("text", "") for out in notebook.cells[-1].outputs).strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve(), (
        f"{path.name} ran in {printed}, not in this environment's Python {sys.executable}"
    )
