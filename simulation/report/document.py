"""Write a report folder: data tables, figures, ``report.html``, ``report.md``, ``manifest.json``.

Layout of the folder::

    report.html        self-contained: figures embedded as base64 PNG, CSS inline, no scripts,
                       no external files or fonts, so it opens from disk with no network
    report.md          the same text and tables; figures linked from figures/
    figures/*.png      ribbons, differences, paired_over_time, network_<arm>
    data/*.parquet     the data behind every table and figure (and the same as CSV)
    manifest.json      command, seeds, versions, git commit, hashes of scenario and data files

The folder is built under a temporary name and renamed when complete
(:func:`simulation.output.atomic_folder`): an error leaves nothing behind.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .. import output
from .. import scenarios as scenario_files
from . import analysis, figures, stats
from ..params import _TABLE_SOURCE, SPECS, provenance_of
from .study import OUTCOMES, Study, scenario_source_hash

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1d2329;background:#fff;margin:0;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.7em;margin:.2em 0 .1em}h2{font-size:1.3em;margin-top:1.8em;border-bottom:2px solid #dde3ea;
 padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .3em}
.meta{color:#56606b;margin:0 0 1em}
.summary{background:#f3f7fb;border-left:4px solid #2b6cb0;padding:.6em 1.2em;margin:1em 0}
.summary li{margin:.35em 0}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.92em}
th,td{border:1px solid #d5dbe1;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#eef2f6}td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.clear{font-weight:600;background:#fff7e0}small{color:#56606b}
.notice{background:#fff4e5;border-left:4px solid #c05621;padding:.6em 1.2em;margin:1em 0;font-weight:600}
figure{margin:1em 0 1.6em}figure img{max-width:100%;height:auto;border:1px solid #e3e7eb}
figcaption{color:#56606b;font-size:.9em;margin-top:.3em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}
.keybox{background:#f3f7fb;border:1px solid #c3d3e6;border-left:6px solid #2b6cb0;padding:.4em 1.4em 1em;
 margin:1.2em 0 1.6em}.keybox h2{border:0;margin-top:.5em}
.keybox .headline{font-size:1.1em;font-weight:600}.keybox li{margin:.45em 0}
.keybox .caveat{color:#3b4651;border-top:1px solid #c3d3e6;padding-top:.6em}
.scroll{overflow-x:auto;max-width:100%}td,th{overflow-wrap:break-word}
a{color:#1f5fa8}.appendix{color:#3b4651}
"""


# --- building blocks --------------------------------------------------------------------------------

def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "arm"


def _write_data(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for name, table in tables.items():
        table.to_parquet(folder / f"{name}.parquet", index=False)
        table.to_csv(folder / f"{name}.csv", index=False)
        paths += [folder / f"{name}.parquet", folder / f"{name}.csv"]
    return paths


def _value(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "(absent)"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _cell(text: str, cls: str) -> str:
    """A table cell; a second line (after a newline) is set small, under the first."""
    first, _, second = text.partition("\n")
    inner = html.escape(first) + (f"<br><small>{html.escape(second)}</small>" if second else "")
    return f'<td class="{cls}">{inner}</td>' if cls else f"<td>{inner}</td>"


class _Doc:
    """Collects the report once, and renders it as HTML and as Markdown."""

    def __init__(self):
        self.html: list[str] = []
        self.md: list[str] = []

    def heading(self, level: int, text: str, anchor: str | None = None):
        ident = f' id="{anchor}"' if anchor else ""
        self.html.append(f"<h{level}{ident}>{html.escape(text)}</h{level}>")
        self.md.append(f"\n{'#' * level} {text}\n")

    def para(self, text: str, cls: str | None = None):
        c = f' class="{cls}"' if cls else ""
        self.html.append(f"<p{c}>{html.escape(text)}</p>")
        self.md.append(f"{text}\n")

    def notice(self, text: str):
        """A prominent warning: a highlighted box in HTML, a quoted bold paragraph in Markdown."""
        self.html.append(f'<p class="notice">{html.escape(text)}</p>')
        self.md.append(f"> **{text}**\n")

    def bullets(self, items: list[str], cls: str | None = None):
        c = f' class="{cls}"' if cls else ""
        self.html.append(f"<ul{c}>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
        self.md.append("\n".join(f"- {i}" for i in items) + "\n")

    def table(self, header: list[str], rows: list[list[str]], classes: list[list[str]] | None = None):
        """Cells are plain text; ``classes`` may mark cells (``num``, ``clear``)."""
        classes = classes or [[""] * len(r) for r in rows]
        h = "".join(f"<th>{html.escape(c)}</th>" for c in header)
        body = "".join("<tr>" + "".join(_cell(c, k) for c, k in zip(r, ks)) + "</tr>"
                       for r, ks in zip(rows, classes))
        self.html.append(f'<div class="scroll"><table><thead><tr>{h}</tr></thead>'
                         f"<tbody>{body}</tbody></table></div>")
        esc = lambda c: c.replace("|", "\\|").replace("\n", " [", 1) + ("]" if "\n" in c else "")
        md_rows = [[(f"**{esc(c)}**" if "clear" in k else esc(c)) for c, k in zip(r, ks)]
                   for r, ks in zip(rows, classes)]
        self.md.append("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
                       + "\n".join("| " + " | ".join(r) + " |" for r in md_rows) + "\n")

    def figure(self, path: Path, relative: str, alt: str, caption: str):
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        self.html.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        self.md.append(f"![{alt}]({relative})\n\n*{caption}*\n")

    def rich(self, html_text: str, md_text: str, cls: str | None = None):
        """A paragraph whose HTML (already escaped, with links) and Markdown differ."""
        c = f' class="{cls}"' if cls else ""
        self.html.append(f"<p{c}>{html_text}</p>")
        self.md.append(f"{md_text}\n")

    def keybox(self, title: str, anchor: str, headline: str | None, items: list[str],
               caveat: str):
        """The box a report opens with: a heading, an optional headline, the key findings, and
        the line on what the intervals cover (a blockquote in Markdown)."""
        parts = [f'<section class="keybox" id="{anchor}"><h2>{html.escape(title)}</h2>']
        md = [f"\n## {title}\n"]
        if headline:
            parts.append(f'<p class="headline">{html.escape(headline)}</p>')
            md.append(f"> **{headline}**\n>")
        parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
        md += [f"> - {i}" for i in items]
        parts.append(f'<p class="caveat">{html.escape(caveat)}</p></section>')
        md.append(f">\n> *{caveat}*\n")
        self.html.append("".join(parts))
        self.md.append("\n".join(md))

    def downloads(self, files: list[tuple[str, str, bytes | None, str]]):
        """Data files as links: in the HTML a data: URI download of the CSV (self-contained),
        or the file's path when it is too large to embed; in Markdown the path."""
        items_html, items_md = [], []
        for name, what, data, note in files:
            if data is not None:
                uri = "data:text/csv;base64," + base64.b64encode(data).decode("ascii")
                link = f'<a download="{html.escape(name)}.csv" href="{uri}">{html.escape(name)}.csv</a>'
            else:
                link = f"<code>data/{html.escape(name)}.csv</code>"
            items_html.append(f"<li>{link}: {html.escape(what)}"
                              + (f" <small>({html.escape(note)})</small>" if note else "") + "</li>")
            items_md.append(f"- [data/{name}.csv](data/{name}.csv): {what}"
                            + (f" ({note})" if note else ""))
        self.html.append("<ul>" + "".join(items_html) + "</ul>")
        self.md.append("\n".join(items_md) + "\n")

    def pre(self, text: str):
        self.html.append(f"<pre>{html.escape(text)}</pre>")
        self.md.append(f"```\n{text}\n```\n")

    def render_html(self, title: str) -> str:
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
                + "\n".join(self.html) + "\n</main>\n</body>\n</html>\n")

    def render_md(self) -> str:
        return "\n".join(self.md).lstrip() + "\n"


# --- sections ---------------------------------------------------------------------------------------

def _title(study: Study) -> str:
    if study.kind == "impact":
        title = scenario_files.load(study.arms[0].scenario).title
        return (f"Leadership impact: {study.intervention.describe(study.extra.get('chosen'))} "
                f"at month {study.at_month} · {title}")
    names = list(analysis.arm_titles(study).values())
    if len(names) == 1:
        return f"Scenario outcomes: {names[0]}"
    others = names[1:]
    listed = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
    return f"Scenario comparison: {listed} against {names[0]}"


def _meta(study: Study, created: str) -> str:
    arms = "pairs of runs" if study.kind == "impact" else "replicates per scenario"
    span = f"{study.months / 12:g} years"
    if study.scale == "england":  # England's runs start from the April 2023 data
        from ..england import START
        start = pd.Period(START, freq="M")
        span += f", {start.strftime('%B %Y')} to {(start + study.months - 1).strftime('%B %Y')}"
    return (f"{analysis.scale_text(study)} · {study.months} months ({span}) · "
            f"{study.replicates} {arms} · created {created[:10]}")


def notices(study: Study) -> list[str]:
    """What a reader must know before reading the numbers: too few replicates for intervals;
    an intervention asked for more GPs than qualified."""
    out = [stats.few_replicates_notice(study.replicates)]
    if study.kind == "impact" and study.extra.get("shortfall"):
        out.append(study.extra["shortfall"][0].upper() + study.extra["shortfall"][1:] + ".")
    return [text for text in out if text]


def _changes_section(doc: _Doc, study: Study):
    if study.kind == "impact":
        iv = study.intervention
        doc.heading(2, "What the intervention changes", "changes")
        doc.para(f"Each replicate runs {study.extra['scenario_label']} to month {study.at_month}; "
                 f"the run is then copied exactly (state and random-number streams), and in the "
                 f"copy we {iv.describe(study.extra.get('chosen'))}. Both continue to month {study.months} on the same random "
                 f"numbers, so the two arms are identical up to month {study.at_month} and every "
                 "difference after it is caused by the intervention.")
        fewer = study.extra["fewer_than_k"]
        low, high = study.extra["min_chosen"], study.extra["max_chosen"]
        doc.para(f"GPs chosen per replicate: {study.extra['mean_chosen']:.1f} on average"
                 + (f" ({low} to {high})" if low != high else "")
                 + (f"; in {fewer} of {study.replicates} replicates fewer than the {iv.k} asked "
                    "qualified, and all who did were chosen." if fewer
                    else f" ({iv.k} in every replicate)."))
        if iv.kind != "add_formal":
            doc.para("Removed GPs leave: their posts fall vacant and are refilled at the usual rate "
                     "by newcomers; their removal is not counted among the leavers.")
        _arm_changes(doc, study.extra["scenario_label"], study.extra["scenario_description"],
                     study.extra["scenario_changes"], "the built-in baseline")
        return
    doc.heading(2, "What each scenario changes", "changes")
    if study.overrides:
        doc.para("Applied to every scenario (--set): "
                 + ", ".join(f"{k} = {v}" for k, v in study.overrides.items()) + ".")
    names = analysis.arm_titles(study)
    for i, arm in enumerate(study.arms):
        against = "the built-in baseline" if i == 0 else f"the reference, {names[study.reference]}"
        _arm_changes(doc, f"{names[arm.label]} · scenario {arm.label}{', the reference' if i == 0 else ''}",
                     arm.description, arm.changes, against)


def _arm_changes(doc: _Doc, label: str, description: str, changes: pd.DataFrame, against: str):
    doc.heading(3, label)
    if description:
        doc.para(description)
    if changes.empty:
        doc.para(f"No parameter differs from {against}.")
        return
    doc.para(f"Parameters that differ from {against}, with where each value comes from:")
    doc.table(["parameter", "reference", "this scenario", "what it is", "provenance"],
              [[r.parameter, _value(r.reference), _value(r.value), r.description,
                provenance(r.parameter)] for r in changes.itertuples()],
              [["", "num", "num", "", ""] for _ in range(len(changes))])


def provenance(key: str) -> str:
    """Where a parameter's or table cell's value comes from: its provenance label (sourced,
    calibrated or assumed; :func:`simulation.params.provenance_of`) with its source (a table
    cell: its table's), or the source alone for a name with no label (a row a scenario adds)."""
    spec = SPECS.get(key)
    source = spec["source"] if spec is not None else _TABLE_SOURCE.get(key.split(".", 1)[0], "")
    basis = provenance_of(key)["basis"]
    if basis:
        return f"{basis}: {source}" if source and source != basis else basis
    return source or "not stated"


def provenance_counts() -> dict[str, int]:
    """How many of the model's numbers are labelled sourced, calibrated or assumed
    (:func:`simulation.params.provenance`): scalar parameters and table cells apart, the
    switches (the model's structure, not numbers) counted on their own."""
    from ..params import provenance as labels

    table = labels()
    cells = table["name"].str.startswith(("innovations.", "styles."))
    switches = table["group"] == "switches"
    scalars = table[~cells & ~switches]
    counts = {f"scalar_{b}": int((scalars["basis"] == b).sum())
              for b in ("sourced", "calibrated", "assumed")}
    counts |= {f"cell_{b}": int((table[cells]["basis"] == b).sum())
               for b in ("sourced", "calibrated", "assumed")}
    return counts | {"scalars": len(scalars), "cells": int(cells.sum()), "switches": int(switches.sum())}


def _outcome_section(doc: _Doc, study: Study, summary: pd.DataFrame):
    doc.heading(2, f"Outcomes after {study.months} months", "outcomes")
    if stats.intervals_meaningful(study.replicates):
        doc.para(f"Mean across {study.replicates} replicates; below it, the 95% range of the "
                 "replicate values (2.5th to 97.5th percentile).")
    else:
        doc.para(f"Mean across {stats.replicates_text(study.replicates)}; below it, n/a where the "
                 f"95% range of the replicate values would be (not meaningful with fewer than "
                 f"{stats.MIN_REPLICATES} replicates).")
    s = summary.set_index(["arm", "outcome"])
    rows = []
    for o in OUTCOMES:
        row = [o.label]
        for label in study.labels:
            r = s.loc[(label, o.name)]
            row.append(f"{analysis.fmt(o.name, r['mean'])}\n"
                       f"{analysis.fmt_interval(o.name, r['low'], r['high'], False, study.replicates)}")
        rows.append(row)
    names = analysis.arm_titles(study)
    doc.table(["outcome"] + [names[label] for label in study.labels], rows,
              [[""] + ["num"] * len(study.labels) for _ in rows])


def _difference_section(doc: _Doc, study: Study, diffs: pd.DataFrame, figs: dict[str, Path],
                        sentences: list[str]):
    below = ("below it the 95% percentile-bootstrap confidence interval. Highlighted: intervals "
             "that exclude zero." if stats.intervals_meaningful(study.replicates) else
             f"below it n/a where the 95% confidence interval would be (not meaningful with "
             f"fewer than {stats.MIN_REPLICATES} replicates).")
    if study.kind == "impact":
        doc.heading(2, "Effect of the intervention", "differences")
        doc.para("Paired difference intervention - control in each replicate at the last month: "
                 "mean, and " + below)
    else:
        doc.heading(2, f"Paired differences from {study.reference}", "differences")
        doc.para(f"Difference scenario - {analysis.arm_titles(study)[study.reference]} within "
                 "each replicate (same seed) at the last month: mean, and " + below)
    d = diffs.set_index(["arm", "outcome"])
    comparisons = study.labels[1:]
    rows, classes = [], []
    for o in OUTCOMES:
        row, cls = [o.label], [""]
        for label in comparisons:
            r = d.loc[(label, o.name)]
            row.append(f"{analysis.fmt(o.name, r['difference'], True)}\n"
                       f"{analysis.fmt_interval(o.name, r['ci_low'], r['ci_high'], True, study.replicates)}")
            cls.append("num clear" if r["clear"] else "num")
        rows.append(row)
        classes.append(cls)
    names = analysis.arm_titles(study)
    header = ["outcome"] + ([f"{names[lab]} - {names[study.reference]}" for lab in comparisons]
                            if study.kind == "compare" else ["intervention - control"])
    doc.table(header, rows, classes)
    doc.para("In words, every outcome:")
    doc.bullets(sentences)
    doc.figure(figs["differences"], "figures/differences.png", "paired differences",
               f"Mean paired difference at the last month {_with_interval(study, 'bootstrap interval')} "
               "(data: data/differences.parquet, per replicate: data/outcomes.parquet).")


def _with_interval(study: Study, what: str) -> str:
    """'with its 95% <what>', or why there is none."""
    if stats.intervals_meaningful(study.replicates):
        return f"with its 95% {what}"
    return f"without an interval (only {stats.replicates_text(study.replicates)})"


def _time_section(doc: _Doc, study: Study, figs: dict[str, Path]):
    doc.heading(2, "Over time", "timeseries")
    doc.figure(figs["ribbons"], "figures/ribbons.png", "time-series ribbons",
               "Median across replicates (line) and "
               + ("95% range (band)" if stats.intervals_meaningful(study.replicates)
                  else f"no range (only {stats.replicates_text(study.replicates)})")
               + ", all arms overlaid "
               "(data: data/ribbons.parquet; every run month by month: data/timeseries.parquet).")
    if "paired_over_time" in figs:
        doc.figure(figs["paired_over_time"], "figures/paired_over_time.png",
                   "paired differences over time",
                   f"Mean paired difference month by month "
                   f"{_with_interval(study, 'bootstrap interval')} "
                   "(data: data/paired_timeseries.parquet).")


def _network_section(doc: _Doc, study: Study, figs: dict[str, Path]):
    doc.heading(2, f"The network of practices at month {study.months}", "networks")
    doc.para("One run per scenario (replicate 1, the same seed in every scenario). Each circle is "
             "a practice, sized by its GPs and coloured by the share of its GPs genuinely using "
             "the structured (complex) quality-improvement methods, on the same colour scale in "
             "every picture; lines are the professional ties between GPs of different practices "
             "(thicker: more or stronger ties); F1, F2, ... mark the centre of each federation's "
             "practices. The layout is computed once, from the reference's ties, so practices "
             "keep their place from one picture to the next.")
    names = analysis.arm_titles(study)
    for label in study.labels:
        name = f"network_{_slug(label)}"
        doc.figure(figs[name], f"figures/{name}.png", f"network of practices: {names[label]}",
                   f"{names[label]}: practices at month {study.months} (data: "
                   f"network_practices.csv and network_practice_ties.csv, arm = {label}; "
                   "every GP: network_nodes, network_edges).")


def _doc_link(folder: Path, name: str) -> str | None:
    """A relative link from the report folder to ``docs/NAME`` of the project the running
    ``simulation`` package belongs to, or None when the package has no docs beside it (an
    installed wheel): then the report names the file without a link."""
    docs = Path(__file__).resolve().parents[2] / "docs" / name
    if not docs.is_file():
        return None
    return Path(os.path.relpath(docs, folder.resolve())).as_posix()


def _methods_section(doc: _Doc, study: Study, boot: stats.Bootstrap, folder: Path):
    doc.heading(2, "Methods in brief", "methods")
    facts = analysis.scale_facts(study)
    links = {n: _doc_link(folder, n) for n in ("ODD.md", "validation.md", "calibration.md")}

    def ref(name: str, text: str) -> tuple[str, str]:
        target = links[name]
        if target is None:
            return html.escape(f"{text} (docs/{name} in the pcsim repository)"), f"{text} (docs/{name})"
        return f'<a href="{html.escape(target)}">{html.escape(text)}</a>', f"[{text}]({target})"

    odd_h, odd_m = ref("ODD.md", "the model description (ODD protocol)")
    val_h, val_m = ref("validation.md", "the validation against published patterns")
    cal_h, cal_m = ref("calibration.md", "the calibration")
    model = (f"The model: an agent-based simulation of English general practice: "
             f"{facts['gps']:,} GP posts in {facts['practices']:,} practices and "
             f"{facts['federations']:,} federations, month by month for {study.months} months. "
             "Each GP has autonomy, strain, cynicism and ties to colleagues; leaders emerge "
             "informally or are appointed; quality-improvement methods spread through the ties; "
             "GPs leave under strain and their posts are refilled. ")
    doc.rich(html.escape(model) + f"Full description: {odd_h}; how well it reproduces observed "
             f"patterns: {val_h}; how its free parameters were fitted: {cal_h}.",
             model + f"Full description: {odd_m}; how well it reproduces observed patterns: "
             f"{val_m}; how its free parameters were fitted: {cal_m}.")
    runs = ("Each replicate is one pair of runs, identical up to the intervention month; one of "
            "the pair then gets the intervention." if study.kind == "impact" else
            "Every scenario is run with the same replicate seeds (common random numbers), so a "
            "difference between scenarios is measured within each replicate, free of the noise "
            "the runs share.")
    sets = (f"{study.parameter_sets} calibrated parameter sets" if study.parameter_sets > 1
            else "one calibrated parameter set (the shipped defaults)")
    doc.bullets([
        f"Runs: {study.replicates} replicates of {study.months} months, from {sets}. {runs}",
        f"Seeds: replicate seeds are derived from the root seed {study.seed} (numpy SeedSequence); "
        "the same command gives the same report, number for number.",
        "Outcomes are read at the last month; GPs who left are counted over the whole run.",
    ] + _interval_bullets(study, boot) + ([_alignment_note(study)] if study.kind == "impact" else []))


def _interval_bullets(study: Study, boot: stats.Bootstrap) -> list[str]:
    if stats.intervals_meaningful(study.replicates):
        return [
            f"Intervals: a difference's 95% interval is a percentile bootstrap over the "
            f"replicates ({boot.counts.shape[0]:,} resamples); a range of values is the 2.5th "
            f"to 97.5th percentile across replicates. They cover {analysis.covers(study)}. With few "
            "replicates the bootstrap interval is slightly narrower than nominal.",
            f"With {len(OUTCOMES)} outcomes, about one 95% interval in 20 excludes zero by "
            "chance when nothing differs: read an isolated difference with care."]
    return [f"Paired differences are averaged over {stats.replicates_text(study.replicates)} "
            f"(fewer than {stats.MIN_REPLICATES}): no interval is computed, since a bootstrap or "
            "percentile range from so few values says nothing about the uncertainty; the data "
            "files hold NaN where intervals would be."]


def _assumptions_section(doc: _Doc, study: Study):
    doc.heading(2, "Assumptions and limitations", "limitations")
    c = provenance_counts()
    fixed = study.parameter_sets <= 1
    real = study.scale == "england"
    doc.bullets([
        f"Many numbers are assumptions. Of the model's {c['scalars']} numeric parameters, "
        f"{c['scalar_sourced']} take their value from a published source, "
        f"{c['scalar_calibrated']} are calibrated to published patterns and "
        f"{c['scalar_assumed']} are assumptions; of the {c['cells']} cells of its innovations and "
        f"leadership-styles tables, {c['cell_calibrated']} are calibrated and "
        f"{c['cell_assumed']} assumed (every leadership-style multiplier and every innovation's "
        "cost and benefit among them). The tables below label each parameter a scenario changes; "
        "the command pcsim params --basis assumed lists them all with their reasoning.",
        ("The intervals cover simulation noise at one parameter point. Other parameter values "
         "fit the calibration patterns equally well and can change the size, and for some "
         "contrasts the direction, of a difference." if fixed else
         f"The intervals cover {study.parameter_sets} calibrated parameter sets; values outside "
         "that ensemble, and other model structures, are not covered."),
        analysis.screening_text(study),
        ("The practices, their GP headcounts by role, list sizes and PCNs are England's own "
         "(NHS open data, 2022/23; docs/ODD.md, 'Input data'), but the ties between GPs are "
         "generated, not observed" if real else
         "The model is a stylised county: practices, federations and ties are generated, not "
         "read from real data")
        + ", and the scenarios are illustrative settings of the centre's pressure, management "
        "style and leadership drive, not costed policies.",
        "Outcomes are indices and counts inside the model: quality of care and autonomy are "
        "relative scales (compare scenarios with one another), not measured indicators.",
        "Use the results to compare directions and rough sizes of effects between scenarios, "
        "not as forecasts for a particular area.",
    ])


def _alignment_note(study: Study) -> str:
    """What common random numbers mean for the two arms of an impact study."""
    return ("Both arms of a pair are the same run up to the intervention month, and they draw "
            "identical monthly random numbers after it: the attributes of GPs who fill vacant "
            "posts come from each month's own random stream, so an arm that fills more or fewer "
            "posts does not shift the other draws. The differences are therefore due to the "
            "intervention and what follows from it.")


#: Data files, what they hold, in the order the report lists them.
DATA_FILES = {
    "outcomes": "one row per scenario and replicate: seed and every outcome at the last month",
    "summary": "mean, sd and 95% range per scenario and outcome (outcome table)",
    "differences": "paired differences with bootstrap intervals (differences table and figure)",
    "parameter_changes": "what each scenario changes, against its reference, with provenance",
    "ribbons": "median and 95% range per scenario, outcome and month (ribbons figure)",
    "paired_timeseries": "paired difference per month with bootstrap interval",
    "network_practices": "practices in the network pictures: GPs, leaders, adoption",
    "network_practice_ties": "ties between practices in the network pictures",
    "timeseries": "every run, month by month, every reporter",
    "network_nodes": "every GP of the snapshot runs: position, roles, adoption",
    "network_edges": "every tie of the snapshot runs (layer: practice or across)",
}
#: Larger CSV files are not embedded in the HTML (it would grow past what mail accepts); the
#: report gives their path in data/ instead.
EMBED_LIMIT = 600_000


def _data_section(doc: _Doc, study: Study, folder: Path):
    doc.heading(2, "Data", "data")
    doc.para("The data behind every table and figure, as CSV (and as Parquet in the data folder "
             "beside this report). In the HTML, the links download the CSV from the report itself; "
             f"files over {EMBED_LIMIT // 1000} kB are only in the data folder.")
    files = []
    for name, what in DATA_FILES.items():
        data = (folder / "data" / f"{name}.csv").read_bytes()
        small = len(data) <= EMBED_LIMIT
        files.append((name, what, data if small else None,
                      "" if small else f"{len(data) / 1e6:.1f} MB, in the data folder only"))
    doc.downloads(files)


def _provenance_section(doc: _Doc, manifest: dict):
    doc.heading(2, "Appendix: provenance", "provenance")
    v = manifest["versions"]
    doc.table(["item", "value"], [
        ["command", manifest["command"]],
        ["created", manifest["created"]],
        ["root seed", str(manifest["seed"])],
        ["replicate seeds", ", ".join(str(s) for s in manifest["replicate_seeds"])],
        ["pcsim / mesa / numpy / python",
         f"{v.get('pcsim', '?')} / {v.get('mesa', '?')} / {v.get('numpy', '?')} / {v.get('python', '?')}"],
        ["git commit", str(manifest["git_commit"])],
        ["simulation time", f"{manifest['seconds']:.1f} s"],
    ] + [[f"scenario {s['label']}", f"{s['source']} (sha256 {s['sha256']})"] for s in manifest["scenarios"]])
    doc.para("SHA-256 of the data files (manifest.json has them all, with every parameter of every arm):")
    doc.pre("\n".join(f"{h}  {p}" for p, h in manifest["files"].items() if p.endswith(".parquet")))


# --- the whole report ---------------------------------------------------------------------------------

def _layout_seed(seed: int) -> int:
    """The network layout's seed, derived from the root seed (a report is reproducible)."""
    return int(stats.derived_stream(seed, LAYOUT_KEY).integers(2**31 - 1))


#: Spawn key of the network layout's stream ("layo"), beside those of :mod:`stats`.
LAYOUT_KEY = 0x6C61796F


def write(study: Study, folder: Path, command: str) -> Path:
    """Compute the report's tables and figures and write the folder atomically."""
    boot = analysis.bootstrap_for(study)
    summary = analysis.summary_table(study)
    diffs = analysis.differences_table(study, boot)
    ribbons = analysis.ribbons_table(study)
    paired = analysis.paired_timeseries_table(study, boot)
    sentences = analysis.summary_sentences(study, diffs, paired)
    findings = analysis.key_findings(study, diffs, summary)
    headline = analysis.lasting_headline(study, diffs)
    names = analysis.arm_titles(study)
    snapshots = {label: figures.snapshot_tables(label, snap) for label, snap in study.snapshots.items()}
    practices = {label: figures.practice_tables(n, e) for label, (n, e) in snapshots.items()}
    ref_practices, ref_ties = practices[study.reference]
    pos_ref = figures.practice_layout(ref_practices, ref_ties, _layout_seed(study.seed))
    vmax = max(0.1, math.ceil(10 * max(p["adoption"].max() for p, _ in practices.values())) / 10)
    changes = pd.concat([a.changes.assign(arm=a.label) for a in study.arms], ignore_index=True)
    if study.kind == "impact":
        changes = study.extra["scenario_changes"].assign(arm=study.extra["scenario_label"])
    changes = changes.assign(provenance=[provenance(k) for k in changes["parameter"]])
    tables = {
        "outcomes": study.outcomes, "summary": summary, "differences": diffs,
        "timeseries": study.timeseries, "ribbons": ribbons, "paired_timeseries": paired,
        "network_nodes": pd.concat([n for n, _ in snapshots.values()], ignore_index=True),
        "network_edges": pd.concat([e for _, e in snapshots.values()], ignore_index=True),
        "network_practices": pd.concat([p for p, _ in practices.values()], ignore_index=True),
        "network_practice_ties": pd.concat([e for _, e in practices.values()], ignore_index=True),
        "parameter_changes": changes[["arm", "parameter", "reference", "value", "description",
                                      "provenance"]].astype({"reference": str, "value": str}),
    }
    title = _title(study)
    with output.atomic_folder(folder) as tmp:
        files = _write_data(tables, tmp / "data")
        fig_dir = tmp / "figures"
        fig_dir.mkdir()
        figs = {"ribbons": figures.ribbons(ribbons, study.labels, fig_dir / "ribbons.png",
                                           "Median and 95% range across replicates", study.at_month,
                                           names=names)}
        if len(study.labels) > 1:
            what = ("Effect of the intervention (with it - without it)" if study.kind == "impact"
                    else f"Paired differences from {names[study.reference]}")
            figs["differences"] = figures.differences(
                diffs, study.labels[1:], study.reference, fig_dir / "differences.png",
                f"{what} at month {study.months}", names=names)
            figs["paired_over_time"] = figures.paired_over_time(
                paired, study.labels[1:], study.reference, fig_dir / "paired_over_time.png",
                f"{what} over time", study.at_month, names=names)
        for label, (nodes, ties) in practices.items():
            name = f"network_{_slug(label)}"
            same = set(nodes["practice"]) == set(ref_practices["practice"])
            pos = pos_ref if same else figures.practice_layout(nodes, ties, _layout_seed(study.seed))
            figs[name] = figures.network_snapshot(
                nodes, ties, pos, fig_dir / f"{name}.png",
                f"{names[label]}: practices at month {study.months} (replicate 1)", vmax)
        files += list(figs.values())
        manifest = output.manifest(
            command=command, kind=study.kind, scale=study.scale,
            **({"area": study.area.label()} if getattr(study, "area", None) else {}), months=study.months,
            replicates=study.replicates, seed=study.seed, replicate_seeds=study.seeds,
            bootstrap=dict(method="percentile", resamples=int(boot.counts.shape[0]),
                           level=stats.LEVEL, stream_spawn_key=stats.BOOTSTRAP_KEY,
                           intervals_shown=stats.intervals_meaningful(study.replicates),
                           min_replicates=stats.MIN_REPLICATES),
            notices=notices(study),
            outcomes={o.name: o.description for o in OUTCOMES},
            scenarios=[dict(label=a.label, scenario=a.scenario, source=a.source,
                            description=a.description, sha256=scenario_source_hash(a.source))
                       for a in (study.arms if study.kind == "compare" else study.arms[:1])],
            overrides=study.overrides,
            intervention=(None if study.intervention is None else dict(
                kind=study.intervention.kind, k=study.intervention.k,
                choose=study.intervention.choose, at_month=study.at_month,
                description=study.intervention.describe(study.extra.get("chosen")),
                stream_spawn_key=stats.INTERVENTION_KEY,
                mean_chosen=study.extra["mean_chosen"], min_chosen=study.extra["min_chosen"],
                max_chosen=study.extra["max_chosen"], chosen=study.extra["chosen"],
                fewer_than_k=study.extra["fewer_than_k"])),
            uncertainty=study.uncertainty, parameter_sets=study.parameter_sets,
            seconds=round(study.seconds, 3),
            params={a.label: a.params.to_dict() for a in study.arms},
            files={str(p.relative_to(tmp)): output.file_hash(p) for p in files},
        )
        output.write_json(tmp / "manifest.json", manifest)

        doc = _Doc()
        doc.heading(1, title)
        doc.para(_meta(study, manifest["created"]), "meta")
        for text in notices(study):
            doc.notice(text)
        doc.keybox("Key findings and caveats", "summary", headline, findings,
                   analysis.intervals_line(study))
        _methods_section(doc, study, boot, folder)
        _assumptions_section(doc, study)
        _changes_section(doc, study)
        _outcome_section(doc, study, summary)
        if len(study.labels) > 1:
            _difference_section(doc, study, diffs, figs, sentences)
        else:
            doc.bullets(sentences)
        _time_section(doc, study, figs)
        _network_section(doc, study, figs)
        _data_section(doc, study, tmp)
        _provenance_section(doc, manifest)
        (tmp / "report.html").write_text(doc.render_html(title), encoding="utf-8")
        (tmp / "report.md").write_text(doc.render_md(), encoding="utf-8")
    return folder

