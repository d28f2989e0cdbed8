"""The teaching notebooks: each runs top to bottom without error, draws its figures, and is committed clean.

Every ``notebooks/*.ipynb`` is found by glob, so a new notebook is tested as
soon as it is added. Notebooks run in a Jupyter kernel (nbclient, kernel
``python3``) started from this interpreter, with ``notebooks/`` as the working
folder, as a teacher would run them. Panels of sliders (``sim.teach.panel``) run
once with their default values when their cell runs, drawing into an output
widget; the figures they draw are counted from the widget state nbclient keeps.

Each notebook's run time is reported at the end of the module (in the terminal summary, whatever the
capture mode) and is the source of the run times quoted in docs/teaching.md; it is not asserted. Two
figures per notebook: the wall-clock time of the test, which grows with whatever else runs on the
machine, and the processor time the notebook's kernel used (its own and its worker processes'), close
to what the notebook takes on a quiet machine with a core to itself, such as a laptop.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path
from queue import Empty

import nbformat
import pytest
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.client import timestamp

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
TEACHING = NOTEBOOK_DIR.parent / "docs" / "teaching.md"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell: a guard against a hung kernel on a busy machine, not a time test
IDS = [p.name for p in NOTEBOOKS]


TIMINGS: dict[str, float] = {}
KERNEL_CPU: dict[str, float] = {}
CPU_PROBE = ("import resource as _r\n"
             "print('kernel cpu seconds', sum(u.ru_utime + u.ru_stime for u in "
             "(_r.getrusage(_r.RUSAGE_SELF), _r.getrusage(_r.RUSAGE_CHILDREN))))")


@pytest.fixture(scope="module", autouse=True)
def report_timings(request):
    """After the module: every notebook's run time in the test output, whatever the capture mode."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if TIMINGS and reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
            reporter.write_line("")
            reporter.write_line(f"notebook run times ({len(TIMINGS)} notebooks, "
                                f"{sum(TIMINGS.values()):.0f} s in all; load average "
                                f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}):")
            reporter.write_line(f"  {'notebook':40s} {'wall clock':>10s} {'kernel CPU':>11s}")
            for name, seconds in sorted(TIMINGS.items()):
                cpu = f"{KERNEL_CPU[name]:9.1f} s" if name in KERNEL_CPU else ""
                reporter.write_line(f"  {name:40s} {seconds:8.1f} s {cpu:>11s}")


def figures(nb: nbformat.NotebookNode) -> int:
    """Images drawn: in cell outputs, and in the output widgets of panels (saved in the widget state)."""
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    outputs += [out for model in state.values() if model.get("model_name") == "OutputModel"
                for out in model.get("state", {}).get("outputs", [])]
    return sum("image/png" in out.get("data", {}) for out in outputs)


class PollingClient(NotebookClient):
    """nbclient, with the shell channel polled once a second for a cell's reply.

    Waiting for the reply with one long timeout sometimes notices it only when the timeout ends if
    the cell shows widgets (jupyter/nbclient#312): a panel cell then took CELL_TIMEOUT seconds
    instead of a few (seen here once in eight runs of a one-panel notebook; none in fourteen with
    this polling). The rest is nbclient's own ``_async_poll_for_reply`` (nbclient 0.10).
    """

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=1))
            except Empty:
                if deadline is not None and time.monotonic() > deadline:
                    task_poll_kernel_alive.cancel()
                    await self._async_check_alive()
                    await self._async_handle_timeout(timeout, cell)  # raises CellTimeoutError
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if self.record_timing:
                cell["metadata"]["execution"]["shell.execute_reply"] = timestamp(msg)
            try:
                await asyncio.wait_for(task_poll_output_msg, self.iopub_timeout)
            except (asyncio.TimeoutError, Empty):
                self.log.warning("Timeout waiting for IOPub output")
            task_poll_kernel_alive.cancel()
            return msg


def execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    client = PollingClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
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
    assert "Learning goals" in first.source and "Source document" in first.source, path.name
    ending = "\n".join(c.source for c in nb.cells[-3:] if c.cell_type == "markdown")
    assert "## Things to try" in ending and "## Exercise" in ending, path.name


def test_words_source_document_and_random_seed():
    """A seed article is a "source document", the number a "random seed": never a bare "seed 000"."""
    for path in NOTEBOOKS:
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        assert not re.search(r"\b[Ss]eeds? \d{3}|[Ss]eed documents?", text), path.name
    assert not re.search(r"\b[Ss]eeds? \d{3}|[Ss]eed documents?", TEACHING.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CPU_PROBE))   # in memory only: the kernel's processor time
    start = time.perf_counter()
    execute(nb)  # raises CellExecutionError, naming the cell, on any error
    elapsed = time.perf_counter() - start
    TIMINGS[path.name] = elapsed
    probe = "".join(out.get("text", "") for out in nb.cells.pop().outputs)
    if match := re.search(r"kernel cpu seconds ([0-9.]+)", probe):
        KERNEL_CPU[path.name] = float(match.group(1))
    print(f"notebook run time: {path.name}: {elapsed:.1f} s")
    assert figures(nb) > 0, f"{path.name} drew no figure"
    # A cell that embeds the app must show it as a widget, not only run without error.
    for cell in nb.cells:
        if cell.cell_type == "code" and ("Page()" in cell.source or "teach.panel(" in cell.source):
            kinds = [key for out in cell.outputs for key in out.get("data", {})]
            assert "application/vnd.jupyter.widget-view+json" in kinds, (path.name, kinds)


SETTING = re.compile(r"^[A-Z][A-Z0-9_]* = [^#]+?(\s+#.*)?$")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_needs_no_code(path):
    """What a student changes is a slider (a panel) or a value in the one ✏️ Settings cell of plain
    `NAME = value` lines; every other code cell is folded; things to try and exercises name only
    settings that exist; a "For those who code" section is kept."""
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## For those who code" in markdown, path.name
    code = [c for c in nb.cells if c.cell_type == "code"]
    if any("teach.panel(" in c.source for c in code):
        return  # a notebook of panels: the sliders are the settings
    visible = [i for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and not c.metadata.get("jupyter", {}).get("source_hidden")]
    assert len(visible) == 1, f"{path.name}: code cells {visible} are open; only the ✏️ Settings cell may be"
    settings = nb.cells[visible[0]]
    assert "✏️ Settings" in nb.cells[visible[0] - 1].source, f"{path.name}: the open cell is not under ✏️ Settings"
    lines = [line for line in settings.source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    odd = [line for line in lines if not SETTING.match(line)]
    assert not odd, f"{path.name}: the settings cell holds more than `NAME = value` lines: {odd}"
    names = {line.split(" = ")[0] for line in lines}
    rest = "\n".join(c.source for c in code if c is not settings)
    unused = {name for name in names if not re.search(rf"\b{name}\b", rest)}
    assert not unused, f"{path.name}: settings no code cell uses: {unused}"
    tail = markdown[markdown.index("## Things to try"):]
    unknown = set(re.findall(r"`([A-Z][A-Z0-9_]*) = ", tail)) - names
    assert not unknown, f"{path.name}: things to try name settings that do not exist: {unknown}"
