"""One self-contained HTML report of a run, a comparison or an optimisation folder.

``report(DIR)`` writes ``DIR/report.html``: what was compared, the headline effects with their 95 %
intervals and what they mean, the charts (PNG inlined as base64: the file needs no network and no
other file), the assumptions (the levers in force and where each default comes from) and the
provenance (momentsim version, seeds, date). A strategist can mail it as it is.
"""

from __future__ import annotations

import base64
import html
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .. import api, economics
from ..params import BRAND_SCHEMA, SCHEMA, ScenarioError
from ..scenario import Scenario
from .compare import BASE_ARM, KPIS, _package_version, _show

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{padding:.25em .7em;border-bottom:1px solid #eee;
text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}
.sure{color:#1a7f37}.unsure{color:#9a6700}.note{color:#555;font-size:.9em}code{background:#f4f4f4;padding:0 .2em}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></p>'


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if str(c).startswith('<span') else html.escape(str(c))}</td>"
                                    for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _verdict(low: float, high: float) -> str:
    if low != low or high != high:
        return '<span class="unsure">one replicate: no interval</span>'
    if low > 0 or high < 0:
        return '<span class="sure">clear at 95 %: the interval does not include zero</span>'
    return '<span class="unsure">not clear: the interval includes zero (could be luck)</span>'


def _assumptions(scenario: Scenario, brands: list[str]) -> str:
    p = scenario.params
    rows = [[key, p[key], SCHEMA[key].help] for key in SCHEMA if key.startswith("economics.")]
    out = "<h3>Economics</h3>" + _table(["parameter", "value", "meaning and source"], rows)
    levers = [k for k in BRAND_SCHEMA if not k.startswith("initial_")]
    rows = [[lever, *[p.brand(b)[lever] for b in brands], BRAND_SCHEMA[lever].help] for lever in levers]
    out += "<h3>Brand levers at the start</h3>" + _table(["lever", *brands, "meaning and source"], rows)
    if p.events:
        rows = [[e.day, e.brand, e.lever, e.value] for e in p.events]
        out += "<h3>Events (levers changed during the run)</h3>" + _table(["day", "brand", "lever", "value"], rows)
    return out


def _page(title: str, sections: list[str], provenance: dict[str, Any]) -> str:
    prov = {**provenance, "report written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "report by momentsim": _package_version()}
    rows = [[k, json.dumps(v) if isinstance(v, (list, dict)) else v] for k, v in prov.items()]
    body = "\n".join(sections) + "<h2>Provenance</h2>" + _table(["", ""], rows)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n")


def _compare_page(folder: Path) -> str:
    meta = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
    effects = pd.read_csv(folder / "compare.csv")
    scenario = api.load(folder / "scenario.toml")
    cur = meta["currency"]
    n = meta["replicates"]
    what = (f"<p>Scenario <b>{html.escape(meta['scenario'])}</b> against {len(meta['variants'])} variant(s), "
            f"each run on the same {n} seeds (common random numbers), {meta['steps']} days, "
            f"{meta['population']:,} consumers, brand <b>{html.escape(meta['brand'])}</b>; money in {cur}. "
            f"An effect is the variant minus the scenario on the same seed, averaged; its 95 % interval is a "
            f"paired t-interval over the {n} replicates.</p>")
    what += _table(["variant", "changes"], [[name, ", ".join(f"{k} = {v}" for k, v in ch.items())]
                                           for name, ch in meta["variants"].items()])
    sections = ["<h2>What was compared</h2>" + what, "<h2>Headline effects</h2>"]
    for arm in meta["variants"]:
        rows = []
        for kpi, (label, kind) in KPIS.items():
            e = effects[(effects["kpi"] == kpi)]
            base, var = e[e["arm"] == BASE_ARM].iloc[0], e[e["arm"] == arm].iloc[0]
            rows.append([label, _show(base["mean"], kind), _show(var["mean"], kind),
                         _show(var["effect"], kind, sign=True),
                         f"{_show(var['effect_low'], kind, sign=True)} to {_show(var['effect_high'], kind, sign=True)}",
                         _verdict(var["effect_low"], var["effect_high"])])
        profit = effects[(effects["kpi"] == "profit") & (effects["arm"] == arm)].iloc[0]
        spend = effects[(effects["kpi"] == "spend") & (effects["arm"] == arm)]
        ret = economics.return_on_spend(profit["effect"], spend["effect"].iloc[0]) if len(spend) else float("nan")
        ret_text = (f" Return on the extra spend: {ret:+.2f} of profit per 1 spent on ads, prompts and service "
                    f"(-1: the spend brings nothing back)." if ret == ret else "")
        sections.append(f"<h3>{html.escape(arm)}</h3><p>Effect on profit: <b>{_show(profit['effect'], 'money', True)} "
                        f"{cur}</b> (95 % interval {_show(profit['effect_low'], 'money', True)} to "
                        f"{_show(profit['effect_high'], 'money', True)}).{ret_text}</p>"
                        + _table(["KPI", "scenario (mean)", f"{arm} (mean)", "effect", "95 % interval", "how sure"],
                                 rows))
    sections.append('<p class="note">Market share in percentage points (pp); sentiment and rating on the last '
                    'day; totals over the run.</p>')
    sections.append("<h2>Charts</h2>" + _img(folder / "compare.png", "mean and 90 % band of runs per arm"))
    sections.append("<h2>Assumptions</h2>" + _assumptions(scenario, scenario.params.brand_names))
    prov = {k: meta[k] for k in ("momentsim", "created", "seed", "seeds", "replicates", "engine", "executor",
                                 "seconds") if k in meta}
    return _page(f"What-if: {meta['scenario']}", sections, prov)


def _optimise_page(folder: Path) -> str:
    meta = json.loads((folder / "optimise.json").read_text(encoding="utf-8"))
    spec, best, plan = meta["spec"], meta["best"], meta["plan"]
    scenario = api.load(folder / "best.toml")
    cur = meta["currency"]
    kind = {"profit": "money", "npv": "money", "share": "points", "sentiment": "index"}[spec["objective"]]
    what = (f"<p>Budget of <b>{spec['budget']:,.0f} {cur} per {spec['period']} days</b> for brand "
            f"<b>{html.escape(spec['brand'])}</b> in scenario <b>{html.escape(spec['scenario'])}</b>, split across "
            f"{', '.join(spec['levers'])}; objective <b>{spec['objective']}</b>"
            + (f" with a profit floor of {spec['profit_floor']:,.0f}" if spec["objective"] == "sentiment" else "")
            + f" over {spec['horizon']} days. {spec['trials']} trials ({spec['sampler'].upper()}, Optuna), each "
            f"run on the same {spec['replicates']} seeds.</p>")
    bounds = _table(["lever", "lowest share", "highest share"], [[k, *v] for k, v in spec["bounds"].items()])
    rows = [["share of the budget", *[f"{best['shares'][lv]:.0%}" for lv in spec["levers"]]]]
    split = _table(["", *spec["levers"]], rows)
    headline = (f"<p>Best split: {', '.join(f'{k} {v:.0%}' for k, v in best['shares'].items())}: "
                f"{spec['objective']} <b>{_show(best['mean'], kind)}</b> (95 % interval {_show(best['low'], kind)} "
                f"to {_show(best['high'], kind)}); the current plan on the same seeds: {_show(plan['mean'], kind)} "
                f"({_show(plan['low'], kind)} to {_show(plan['high'], kind)}).</p>"
                f"<p>Best minus current plan: <b>{_show(best['effect'], kind, True)}</b> (95 % interval "
                f"{_show(best['effect_low'], kind, True)} to {_show(best['effect_high'], kind, True)}): "
                f"{_verdict(best['effect_low'], best['effect_high'])}.</p>")
    shown = [("profit", f"profit ({cur})", "money"), ("npv", f"NPV ({cur})", "money"),
             ("revenue", f"revenue ({cur})", "money"), ("share", "market share", "points"),
             ("sentiment", "net sentiment, last day", "index"), ("spend_ads", f"spent on ads ({cur})", "money"),
             ("spend_prompts", f"spent on prompts ({cur})", "money"),
             ("spend_service", f"spent on service ({cur})", "money")]
    figures = _table(["over the horizon, mean of the paired runs", "best split", "current plan"],
                     [[label, _show(best[k], kind), _show(plan[k], kind)] for k, label, kind in shown])
    levers = _table(["lever", "best split"], [[k, v] for k, v in best["levers"].items()])
    sections = ["<h2>What was optimised</h2>" + what + bounds, "<h2>Headline</h2>" + headline + split + figures,
                "<h3>Levers of the best split</h3>" + levers
                + '<p class="note">The best of many trials flatters itself a little (it was picked for its '
                  'luck too): rerun <code>best.toml</code> with other seeds to confirm.</p>',
                "<h2>Charts</h2>" + _img(folder / "response.png", "response of the objective to each share")
                + _img(folder / "history.png", "trial history"),
                "<h2>Assumptions (the best plan's scenario)</h2>" + _assumptions(scenario, scenario.params.brand_names)]
    prov = {"momentsim": meta["momentsim"], "created": meta["created"], "seeds": meta["seeds"],
            "engine": meta["engine"], "population": meta["population"], "executor": meta["executor"],
            "seconds": meta["seconds"], "eligible per day (current plan)": meta["eligible_per_day"]}
    return _page(f"Budget plan: {spec['name']}", sections, prov)


def _run_page(folder: Path) -> str:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    scenario = api.load(folder / "scenario.toml")
    cur = summary.get("currency", economics.currency(scenario.params))
    brands = list(summary["brands"])
    measures = [("market_share", "market share", "points"), ("sentiment", "net sentiment, last day", "index"),
                ("rating", "rating, last day", "index"), ("purchases", "sales", "count"),
                ("revenue", f"revenue ({cur})", "money"), ("gross_margin", f"gross margin ({cur})", "money"),
                ("acquisition_cost", f"cost of winning customers ({cur})", "money"),
                ("retention_cost", f"cost of keeping customers ({cur})", "money"),
                ("spend_ads", f"ads ({cur})", "money"), ("spend_prompts", f"review prompts ({cur})", "money"),
                ("spend_service", f"service ({cur})", "money"),
                ("spend_remarketing", f"remarketing ({cur})", "money"), ("profit", f"profit ({cur})", "money"),
                ("npv", f"NPV ({cur})", "money"), ("clv", f"customer lifetime value ({cur})", "index"),
                ("clv_to_acquisition_cost", "CLV : acquisition cost", "index")]
    rows = [[label, *[_show(summary["brands"][b][key], kind) if summary["brands"][b].get(key) is not None
                      else "n/a" for b in brands]] for key, label, kind in measures if key in summary["brands"][brands[0]]]
    sections = [f"<h2>What was run</h2><p>Scenario <b>{html.escape(summary['scenario'])}</b>, {summary['days']} days, "
                f"{summary['population']:,} consumers, one run (seed {summary['seed']}). One run is one possible "
                f"history: use <code>momentsim compare</code> for effects with intervals.</p>",
                "<h2>Headline figures</h2>" + _table(["", *brands], rows)]
    sections.append(_returns_section(summary, cur))
    if (folder / "sentiment.png").is_file():
        sections.append("<h2>Charts</h2>" + _img(folder / "sentiment.png", "sentiment and the journey funnel"))
    sections.append("<h2>Assumptions</h2>" + _assumptions(scenario, brands))
    return _page(f"Run: {summary['scenario']}", sections, {"seed": summary["seed"], "days": summary["days"],
                                                            "engine": scenario.params["engine"]})


def _returns_section(summary: dict[str, Any], cur: str) -> str:
    """The return on each lever's spend (``momentsim run --returns N``), or a line saying how to get it."""
    blocks = {b: f.get("returns") or {} for b, f in summary["brands"].items()}
    done = {b: r for b, r in blocks.items() if r.get("computed")}
    if not done:
        return ("<h2>Return on each lever's spend</h2><p class=\"note\">Not computed: it needs the same market "
                "run with each lever off on paired seeds (<code>momentsim run SCENARIO --returns N</code>).</p>")

    def shown(figure: dict | None, fmt: str) -> str:
        if not figure or figure.get("mean") is None:
            return "n/a"
        text = fmt.format(figure["mean"])
        if figure.get("low") is not None and figure.get("high") is not None:
            text += f" ({fmt.format(figure['low'])} to {fmt.format(figure['high'])})"
        return text

    def verdict(ret: dict | None) -> str:
        if not ret or ret.get("low") is None or ret.get("high") is None:
            return '<span class="unsure">no interval</span>'
        if ret["low"] > 0:
            return '<span class="sure">pays back: the whole interval is above 0</span>'
        if ret["high"] < 0:
            return '<span class="sure">does not pay back: the whole interval is below 0</span>'
        return '<span class="unsure">not clear: the interval includes 0</span>'

    rows = []
    for brand, block in done.items():
        for lever, r in block["levers"].items():
            if r.get("return_on_spend") is None:
                rows.append([brand, lever, "none", "", "no return (no spend)", ""])
                continue
            rows.append([brand, lever, shown(r.get("spend"), "{:,.0f}"), shown(r.get("incremental_margin"), "{:+,.0f}"),
                         shown(r["return_on_spend"], "{:+.0%}"), verdict(r["return_on_spend"])])
    first = next(iter(done.values()))
    return (f"<h2>Return on each lever's spend</h2><p>Each lever switched off in the same market, on the same "
            f"{first['replicates']} seeds (common random numbers): {html.escape(first['counterfactual'])}. Return = "
            f"(incremental gross margin - spend) / spend: -100 % means the spend brought nothing back, 0 % that it "
            f"paid for itself. Mean over the paired runs with its 95 % interval; money in {html.escape(cur)}.</p>"
            + _table(["brand", "lever", "spend", "incremental gross margin", "return", "how sure"], rows))


def report(folder: str | Path) -> Path:
    """Write ``folder/report.html`` for a run, compare or optimise folder; its path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: expected a run, compare or optimise output folder, found "
                            f"{'a file' if folder.exists() else 'nothing'}")
    if (folder / "compare.json").is_file():
        page = _compare_page(folder)
    elif (folder / "optimise.json").is_file():
        page = _optimise_page(folder)
    elif (folder / "summary.json").is_file():
        page = _run_page(folder)
    else:
        raise ScenarioError(f"{folder}: expected compare.json (momentsim compare), optimise.json (momentsim "
                            f"optimise) or summary.json (momentsim run), found none")
    target = folder / "report.html"
    tmp = target.with_name("report.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
