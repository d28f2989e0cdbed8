"""Teaching helpers for the notebooks: the controls a student changes, paired runs, and the figures.

A notebook shows a :func:`panel`: sliders and drop-downs, a *Run* button, and the figures below them.
The panel runs once with its default values as soon as the cell runs (so *Run All* and the tests
produce every figure without anyone touching a control); the button runs it again with the values
the student chose. The code that draws lives here, so a notebook shows a story and its settings,
not a hundred lines of matplotlib; each notebook keeps a "For those who code" section.

Words, as everywhere in the teaching kit: a *source document* is one of the articles the model
is built from (``seeds/`` in the repository); a *random seed* is the number that fixes the
model's random draws. Two runs with the same random seed and different settings are a *pair*
(common random numbers); their difference is mostly the effect of the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import api
from .plots import brand_colour

# --- controls ---------------------------------------------------------------------------------

_STYLE = {"description_width": "16em"}
_LAYOUT = {"width": "36em"}


def slider(description: str, value: float, min: float, max: float, step: float | None = None):
    """A labelled slider: whole numbers if ``value`` and ``step`` are whole, else decimals."""
    import ipywidgets as widgets

    whole = isinstance(value, int) and (step is None or float(step).is_integer())
    kind = widgets.IntSlider if whole else widgets.FloatSlider
    options = {} if step is None else {"step": step}
    return kind(value=value, min=min, max=max, description=description, style=_STYLE, layout=_LAYOUT,
                continuous_update=False, **options)


def choice(description: str, options: Sequence[Any] | dict[str, Any], value: Any = None):
    """A labelled drop-down; ``options`` a list, or a dict of shown label -> value."""
    import ipywidgets as widgets

    pairs = list(options.items()) if isinstance(options, dict) else [(str(o), o) for o in options]
    value = pairs[0][1] if value is None else value
    return widgets.Dropdown(options=pairs, value=value, description=description, style=_STYLE,
                            layout=_LAYOUT)


class Panel:
    """Controls, a Run button and an output area; ``run(**values)`` draws into the area.

    ``result`` is what the last run returned (for the "For those who code" cells).
    """

    def __init__(self, run: Callable[..., Any], controls: dict[str, Any], title: str = ""):
        import ipywidgets as widgets

        self.run = run
        self.controls = controls
        self.title = title
        self.result: Any = None
        self.runs = 0
        self.button = widgets.Button(description="Run with these settings", button_style="primary",
                                     icon="play", layout={"width": "20em"})
        self.output = widgets.Output()
        self.button.on_click(lambda _: self._run_here(raise_errors=False))

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _run_here(self, raise_errors: bool) -> Any:
        """Run into the output area; the first run (cell execution) lets errors through, a click shows them."""
        error = None
        self.output.clear_output(wait=True)
        with self.output:
            try:
                self.result = self.run(**self.values)
                self.runs += 1
            except Exception as exc:  # noqa: BLE001 - a student's click must never leave a silent panel
                if raise_errors:
                    error = exc
                else:
                    print(f"This run could not be made: {exc}")
        if error is not None:
            raise error
        return self.result

    def widget(self):
        import ipywidgets as widgets

        parts = [widgets.HTML(f"<b>{self.title}</b>")] if self.title else []
        return widgets.VBox([*parts, *self.controls.values(), self.button, self.output])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget())
        self._run_here(raise_errors=True)


def panel(run: Callable[..., Any], title: str = "", **controls) -> Panel:
    """A :class:`Panel`; shown by leaving it as the last line of a cell (it then runs once)."""
    return Panel(run, controls, title)


# --- paired runs and their spread ------------------------------------------------------------

def paired(scenario, changes: dict[str, Any], seeds: Iterable[int], steps: int | None = None) -> list:
    """One :class:`sim.api.Comparison` per random seed: the scenario and the changed copy, same seed."""
    return [api.compare(scenario, changes, steps=steps, seed=int(seed)) for seed in seeds]


def effect(base: Sequence[float], changed: Sequence[float]) -> dict[str, float]:
    """Mean of paired values, their mean difference, its standard error and the ratio of the two."""
    base, changed = np.asarray(base, float), np.asarray(changed, float)
    diff = changed - base
    n = len(diff)
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    mean = float(diff.mean())
    return {"base": float(base.mean()), "changed": float(changed.mean()), "difference": mean,
            "standard error": se, "difference / SE": mean / se if se and se > 0 else float("nan"), "n": n}


def effects(base: pd.DataFrame, changed: pd.DataFrame) -> pd.DataFrame:
    """:func:`effect` for every column of two tables with one row per random seed."""
    return pd.DataFrame({column: effect(base[column], changed[column]) for column in base.columns}).T


def days_to_reach(series: Sequence[float], level: float, start: int = 0) -> float:
    """First day (index) at or after ``start`` on which the series reaches ``level``; NaN if never.

    Reaching means crossing in the direction the series moves from its value on day ``start``.
    """
    values = np.asarray(series, float)
    rising = level >= values[start]
    hit = values[start:] >= level if rising else values[start:] <= level
    found = np.flatnonzero(hit)
    return float(start + found[0]) if len(found) else float("nan")


# --- figures -----------------------------------------------------------------------------------

def band(ax, tables: Sequence[pd.DataFrame], column: str, label: str, colour: str | None = None,
         linestyle: str = "-") -> None:
    """The mean of ``column`` over runs (one per random seed) as a line, their range shaded."""
    values = np.vstack([t[column].to_numpy(float) for t in tables])
    step = tables[0]["step"].to_numpy()
    line, = ax.plot(step, values.mean(axis=0), linestyle, color=colour, linewidth=2,
                    label=f"{label} (mean of {len(tables)})" if len(tables) > 1 else label)
    if len(tables) > 1:
        ax.fill_between(step, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.18,
                        linewidth=0)


def mark_days(ax, days: dict[int, str]) -> None:
    """Dotted vertical lines at the given days, labelled at the top of the axes."""
    for day, text in days.items():
        ax.axvline(day, color="grey", linestyle=":", linewidth=1.2)
        ax.annotate(text, (day, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                    textcoords="offset points", fontsize="small", color="grey")


def dots(ax, values: dict[str, Sequence[float]], ylabel: str, title: str = "") -> None:
    """One dot per random seed for each measure, with the mean and ± 2 standard errors beside it."""
    for x, (name, vals) in enumerate(values.items()):
        vals = np.asarray(vals, float)
        n = len(vals)
        ax.plot(x + np.linspace(-0.12, 0.12, n), vals, "o", color="tab:blue", alpha=0.55,
                label="one random seed" if x == 0 else None)
        if n > 1:
            se = vals.std(ddof=1) / np.sqrt(n)
            ax.errorbar(x + 0.3, vals.mean(), yerr=2 * se, fmt="s", color="black", capsize=6,
                        label="mean ± 2 standard errors" if x == 0 else None)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(values)), list(values))
    ax.set_xlim(-0.5, len(values) - 0.3)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")


def brand_colours(brands: Sequence[str]) -> dict[str, str]:
    """The colours the app and the CLI give the brands, by name."""
    return {b: brand_colour(i) for i, b in enumerate(brands)}
