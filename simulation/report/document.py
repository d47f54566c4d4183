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
import re
from pathlib import Path
from typing import Any

import pandas as pd

from .. import output
from . import analysis, figures, stats
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
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap}
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
        self.html.append(f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>")
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
        return (f"Leadership impact: {study.intervention.describe(study.extra.get('chosen'))} "
                f"at month {study.at_month} ({study.extra['scenario_label']})")
    return "Scenario comparison: " + " vs ".join(study.labels)


def _meta(study: Study, created: str) -> str:
    arms = "pairs of runs" if study.kind == "impact" else "replicates per scenario"
    where = f" ({study.area.label()})" if getattr(study, "area", None) else ""
    return (f"{study.scale.capitalize()} scale{where} · {study.months} months · {study.replicates} {arms} "
            f"on common random numbers (root seed {study.seed}) · created {created} · "
            f"{study.seconds:.1f} s of simulation")


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
    for i, arm in enumerate(study.arms):
        against = "the built-in baseline" if i == 0 else f"the reference, {study.reference}"
        _arm_changes(doc, arm.label + (" (reference)" if i == 0 else ""), arm.description,
                     arm.changes, against)


def _arm_changes(doc: _Doc, label: str, description: str, changes: pd.DataFrame, against: str):
    doc.heading(3, label)
    if description:
        doc.para(description)
    if changes.empty:
        doc.para(f"No parameter differs from {against}.")
        return
    doc.para(f"Parameters that differ from {against}:")
    doc.table(["parameter", "reference", "this scenario", "what it is"],
              [[r.parameter, _value(r.reference), _value(r.value), r.description]
               for r in changes.itertuples()],
              [["", "num", "num", ""] for _ in range(len(changes))])


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
    doc.table(["outcome"] + study.labels, rows,
              [[""] + ["num"] * len(study.labels) for _ in rows])


def _difference_section(doc: _Doc, study: Study, diffs: pd.DataFrame, figs: dict[str, Path]):
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
        doc.para(f"Difference scenario - {study.reference} within each replicate (same seed) at "
                 "the last month: mean, and " + below)
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
    header = ["outcome"] + ([f"{lab} - {study.reference}" for lab in comparisons]
                            if study.kind == "compare" else ["intervention - control"])
    doc.table(header, rows, classes)
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
    doc.heading(2, f"The network at month {study.months}", "networks")
    doc.para("One run per arm (replicate 1, the same seed in every arm). Each dot is a GP post, "
             "grouped by practice (a cluster) and federation (a ring of practices); colour: how "
             "many complex QI methods the GP has adopted genuinely; triangles: informal leaders, "
             "squares: formal leaders, diamonds: both; a red edge marks a broker; grey lines: "
             "ties across practices (ties within a practice are not drawn).")
    for label in study.labels:
        name = f"network_{_slug(label)}"
        doc.figure(figs[name], f"figures/{name}.png", f"network snapshot: {label}",
                   f"{label}: GPs at month {study.months} (data: data/network_nodes.parquet and "
                   f"data/network_edges.parquet, arm = {label}).")


def _methods_section(doc: _Doc, study: Study, boot: stats.Bootstrap):
    doc.heading(2, "Methods", "methods")
    if stats.intervals_meaningful(study.replicates):
        intervals = [
            f"Paired differences are taken within a replicate. Their confidence intervals are "
            f"percentile bootstrap intervals ({boot.counts.shape[0]:,} resamples of the "
            f"{study.replicates} replicates, {stats.LEVEL:.0%} level), drawn from a stream derived "
            "from the root seed, so the report is reproducible. With few replicates the percentile "
            "interval is slightly narrower than nominal.",
            "Differences are ranked for the summary by their size relative to the reference's "
            f"spread across replicates (standard deviation). With {len(OUTCOMES)} outcomes, about "
            "one 95% interval in 20 excludes zero by chance when nothing differs: read an isolated "
            "clear difference with care."]
    else:
        intervals = [
            f"Paired differences are taken within a replicate and averaged. With "
            f"{stats.replicates_text(study.replicates)} (fewer than {stats.MIN_REPLICATES}) no "
            "interval is computed: a bootstrap or percentile range from so few values says "
            "nothing about the uncertainty, so the data files hold NaN where intervals would be."]
    doc.bullets([
        f"Common random numbers: replicate r of every arm is run from the same seed, derived from "
        f"the root seed {study.seed} by numpy's SeedSequence(seed).spawn; each run draws its "
        "population, ties and monthly random numbers from three child streams, so arms that do "
        "not change population parameters share the population exactly.",
        "Outcomes are read at the last month; 'GPs who left' is the total over the run.",
    ] + intervals + ([_alignment_note(study)] if study.kind == "impact" else []))


def _alignment_note(study: Study) -> str:
    """What common random numbers mean for the two arms of an impact study."""
    return ("Both arms of a pair are the same run up to the intervention month, and they draw "
            "identical monthly random numbers after it: the attributes of GPs who fill vacant "
            "posts come from each month's own random stream, so an arm that fills more or fewer "
            "posts does not shift the other draws. The differences are therefore due to the "
            "intervention and what follows from it.")


def _data_section(doc: _Doc, study: Study):
    doc.heading(2, "Data", "data")
    doc.para("Every table and figure has its data in data/ as Parquet and CSV:")
    doc.table(["file", "contents"], [
        ["data/outcomes", "one row per arm and replicate: seed and every outcome at the last month"],
        ["data/summary", "mean, sd and 95% range per arm and outcome (outcome table)"],
        ["data/differences", "paired differences with bootstrap intervals (differences table and figure)"],
        ["data/timeseries", "every run, month by month, every reporter"],
        ["data/ribbons", "median and 95% range per arm, outcome and month (ribbons figure)"],
        ["data/paired_timeseries", "paired difference per month with bootstrap interval"],
        ["data/network_nodes", "GP positions, roles and adoption in the network snapshots"],
        ["data/network_edges", "ties of the snapshot runs (layer: practice or across)"],
        ["data/parameter_changes", "what each arm changes, against its reference"],
    ])


def _provenance_section(doc: _Doc, manifest: dict):
    doc.heading(2, "Provenance", "provenance")
    v = manifest["versions"]
    doc.table(["item", "value"], [
        ["command", manifest["command"]],
        ["created", manifest["created"]],
        ["root seed", str(manifest["seed"])],
        ["replicate seeds", ", ".join(str(s) for s in manifest["replicate_seeds"])],
        ["pcsim / mesa / numpy / python",
         f"{v.get('pcsim', '?')} / {v.get('mesa', '?')} / {v.get('numpy', '?')} / {v.get('python', '?')}"],
        ["git commit", str(manifest["git_commit"])],
    ] + [[f"scenario {s['label']}", f"{s['source']} (sha256 {s['sha256']})"] for s in manifest["scenarios"]])
    doc.para("SHA-256 of the data files (manifest.json has them all, with every parameter of every arm):")
    doc.pre("\n".join(f"{h}  {p}" for p, h in manifest["files"].items() if p.endswith(".parquet")))


# --- the whole report ---------------------------------------------------------------------------------

def write(study: Study, folder: Path, command: str) -> Path:
    """Compute the report's tables and figures and write the folder atomically."""
    boot = analysis.bootstrap_for(study)
    summary = analysis.summary_table(study)
    diffs = analysis.differences_table(study, boot)
    ribbons = analysis.ribbons_table(study)
    paired = analysis.paired_timeseries_table(study, boot)
    sentences = analysis.summary_sentences(study, diffs, paired)
    snapshots = {label: figures.snapshot_tables(label, snap) for label, snap in study.snapshots.items()}
    changes = pd.concat([a.changes.assign(arm=a.label) for a in study.arms], ignore_index=True)
    if study.kind == "impact":
        changes = study.extra["scenario_changes"].assign(arm=study.extra["scenario_label"])
    tables = {
        "outcomes": study.outcomes, "summary": summary, "differences": diffs,
        "timeseries": study.timeseries, "ribbons": ribbons, "paired_timeseries": paired,
        "network_nodes": pd.concat([n for n, _ in snapshots.values()], ignore_index=True),
        "network_edges": pd.concat([e for _, e in snapshots.values()], ignore_index=True),
        "parameter_changes": changes[["arm", "parameter", "reference", "value", "description"]]
        .astype({"reference": str, "value": str}),
    }
    title = _title(study)
    with output.atomic_folder(folder) as tmp:
        files = _write_data(tables, tmp / "data")
        fig_dir = tmp / "figures"
        fig_dir.mkdir()
        figs = {"ribbons": figures.ribbons(ribbons, study.labels, fig_dir / "ribbons.png",
                                           f"{title}: median and 95% range", study.at_month)}
        if len(study.labels) > 1:
            figs["differences"] = figures.differences(
                diffs, study.labels[1:], study.reference, fig_dir / "differences.png",
                f"Paired differences from {study.reference} at month {study.months}")
            figs["paired_over_time"] = figures.paired_over_time(
                paired, study.labels[1:], study.reference, fig_dir / "paired_over_time.png",
                f"Paired differences from {study.reference} over time", study.at_month)
        for label, (nodes, edges) in snapshots.items():
            name = f"network_{_slug(label)}"
            figs[name] = figures.network_snapshot(nodes, edges, fig_dir / f"{name}.png",
                                                  f"{label}: month {study.months}, replicate 1")
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
        doc.heading(2, "Summary", "summary")
        doc.bullets(sentences, "summary")
        _changes_section(doc, study)
        _outcome_section(doc, study, summary)
        if len(study.labels) > 1:
            _difference_section(doc, study, diffs, figs)
        _time_section(doc, study, figs)
        _network_section(doc, study, figs)
        _methods_section(doc, study, boot)
        _data_section(doc, study)
        _provenance_section(doc, manifest)
        (tmp / "report.html").write_text(doc.render_html(title), encoding="utf-8")
        (tmp / "report.md").write_text(doc.render_md(), encoding="utf-8")
    return folder

