"""The teaching notebooks: each runs top to bottom without error, and is committed clean.

Every ``notebooks/*.ipynb`` is found by glob, so a new notebook is tested as
soon as it is added. Notebooks run in a Jupyter kernel (nbclient, kernel
``python3``) started from this interpreter, with ``notebooks/`` as the working
folder, as a teacher would run them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell; each notebook aims at well under a minute in all
IDS = [p.name for p in NOTEBOOKS]


def execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    return client.execute()


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebook in {NOTEBOOK_DIR}"


def test_the_kernel_runs_this_python():
    """The kernel 'python3' must be this environment's Python, where momentsim is installed."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("import os, sys; print(sys.prefix); print(os.getcwd())"))
    out = execute(nb).cells[0].outputs[0]["text"].splitlines()
    assert Path(out[0]).resolve() == Path(sys.prefix).resolve()
    assert Path(out[1]).resolve() == NOTEBOOK_DIR


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs or execution counts; clear them "
                       f"(jupyter nbconvert --clear-output --inplace {path.name})")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_the_teaching_shape(path):
    """Learning goals and the seed documents first, things to try and exercises last."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert "Learning goals" in first.source and "Seed" in first.source, path.name
    ending = "\n".join(c.source for c in nb.cells[-3:] if c.cell_type == "markdown")
    assert "## Things to try" in ending and "## Exercise" in ending, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    execute(nb)  # raises CellExecutionError, naming the cell, on any error
    elapsed = time.perf_counter() - start
    print(f"{path.name}: {elapsed:.1f} s")
    # A cell that embeds the app must show it as a widget, not only run without error.
    for cell in nb.cells:
        if cell.cell_type == "code" and "Page()" in cell.source:
            kinds = [key for out in cell.outputs for key in out.get("data", {})]
            assert "application/vnd.jupyter.widget-view+json" in kinds, (path.name, kinds)
