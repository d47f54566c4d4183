"""``pcsim sweep``, ``pcsim sensitivity`` and ``pcsim discover``: run an experiment file,
resumably, anywhere, and find the inputs behind an outcome (PRIM).

Heavy imports (pandas, pyarrow, SALib, matplotlib, Dask) happen inside the handlers, so that
``pcsim --help`` stays quick.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys

from .. import resources
from ..cli_options import positive_int, whole_number

SWEEP_EPILOG = """examples:
  pcsim sweep experiments/leadership_autonomy.toml            all cores, results/leadership_autonomy/
  pcsim sweep experiments/pressure.toml --workers 1           one worker process
  pcsim sweep experiments/pressure.toml --workers 0           in this process
  pcsim sweep experiments/leadership_autonomy.toml --dask-local 2
  pcsim sweep experiments/sobol_leadership.toml --scheduler tcp://10.0.0.5:8786

Running the same command again resumes: finished runs are skipped. After Ctrl-C the runs in
progress are finished and saved. Exit status: 0 done, 1 some runs failed (see the failures
table; a run that crashes its worker process is one of them) or the worker processes could not
start, 2 bad input, 130 interrupted. Every part of the store is checked against its
SHA-256 when the store is opened; a damaged one is moved to quarantine/ and its runs redone.
`--verify` only reports the store's health. The file format: docs/experiments.md.
"""


def _add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("experiment", metavar="EXPERIMENT.toml", help="the experiment file")
    p.add_argument("--workers", type=whole_number("workers", 0), metavar="N",
                   help="local worker processes (default: all cores); a run that crashes its "
                        "worker is recorded as failed and the sweep goes on. 0 runs in this "
                        "process (quickest to start, but a crash ends the sweep)")
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", metavar="ADDRESS",
                         help="run on an existing Dask cluster, e.g. tcp://host:8786")
    cluster.add_argument("--dask-local", type=positive_int("dask-local"), metavar="N",
                         help="start a Dask LocalCluster of N worker processes on 127.0.0.1")
    p.add_argument("--out", metavar="DIR",
                   help="results folder (default: results/<experiment name>; an existing "
                        "folder of the same experiment is resumed)")
    p.add_argument("--new", action="store_true",
                   help="start a new results folder (results/<name>-<time>) instead of resuming")
    p.add_argument("--chunk-size", type=positive_int("chunk-size"), metavar="N",
                   help="runs per chunk, the unit of work and of saving (default: about four "
                        "chunks per worker, at most 25 runs)")
    p.add_argument("--no-figures", action="store_true",
                   help="do not draw figures (a later rerun of the finished sweep draws them)")
    resources.add_options(p)
    p.add_argument("--verify", action="store_true",
                   help="only check the store (results/<name>/ or --out): every part against its "
                        "SHA-256 and row count; runs nothing, changes nothing; exit 0 if healthy, "
                        "1 if not")
    p.add_argument("--replicate-check", action="store_true",
                   help="only report on the store (results/<name>/ or --out) how the 95%% CI "
                        "half-width of each outcome's mean narrows with replicates 2..R, against "
                        "the experiment's tolerance; writes replicates/replicate_check.csv and "
                        ".png; runs nothing (every finished sweep with 2+ replicates writes them too)")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep", help="run an experiment file (grid, lhs, sobol, morris): resumable, local or Dask",
        description="Run every run of an experiment file, in chunks, into a Parquet store "
                    "(results/<name>/), then draw the experiment's figures.",
        epilog=SWEEP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_options(p)
    p.set_defaults(func=cmd_sweep)

    p = subparsers.add_parser(
        "sensitivity", help="Sobol' or Morris sensitivity indices of an experiment's outcomes",
        description="Run (or resume) the sweep of a sobol or morris experiment, then compute "
                    "Sobol' S1/ST (with confidence intervals) or Morris mu*/sigma for each "
                    "outcome with SALib: tables and one bar chart per outcome in sensitivity/.",
        epilog="example:\n  pcsim sensitivity experiments/sobol_leadership.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_options(p)
    p.set_defaults(func=cmd_sensitivity)

    p = subparsers.add_parser(
        "discover", help="scenario discovery: PRIM boxes of the inputs where an outcome meets a condition",
        description="Mark the finished runs of a sweep store whose OUTCOME meets --where as cases "
                    "of interest and run PRIM (the EMA workbench) over the varied parameters: "
                    "the box of inputs that holds them, its coverage and density, and the "
                    "peeling trajectory, written to STORE/discover-<outcome>/.",
        epilog="example:\n  pcsim discover results/leadership_autonomy --outcome federations_with_plan --where \"< 0.1\"\n\n"
               "coverage: share of all cases of interest inside the box; density: share of the "
               "runs inside the box that are cases of interest. See docs/experiments.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("store", metavar="STORE", help="a sweep's results folder (holding manifest.json)")
    p.add_argument("--outcome", required=True, metavar="NAME",
                   help="an outcome column of the runs table (summary or derived)")
    p.add_argument("--where", required=True, metavar="CONDITION",
                   help="what makes a run a case of interest: an operator and a number, e.g. \"< 0.1\"")
    p.add_argument("--inputs", metavar="A,B,...",
                   help="the varied parameters PRIM may restrict (default: all of them)")
    p.add_argument("--threshold", type=float, default=0.8, metavar="DENSITY",
                   help="report the box of largest coverage with at least this density (default 0.8)")
    p.add_argument("--box", type=int, metavar="N",
                   help="report box N of the peeling trajectory instead")
    p.set_defaults(func=cmd_discover)


def cmd_discover(args) -> int:
    from pathlib import Path

    from . import discover
    from .spec import ExperimentError
    from .store import Store

    store = Store(Path(args.store))
    if not store.exists():
        raise ExperimentError(f"STORE {args.store!r} holds no pcsim sweep store (no manifest.json)")
    discover.condition(args.where)  # bad input is refused before reading anything
    runs, design = store.runs(), store.design()
    if runs.empty:
        raise ExperimentError(f"STORE {args.store!r} has no finished run yet")
    requested = [n.strip() for n in args.inputs.split(",") if n.strip()] if args.inputs else None
    result = discover.discover(runs, args.outcome, args.where, discover.inputs_of(runs, design, requested),
                               threshold=args.threshold, box=args.box)
    name = store.manifest().get("experiment", store.path.name)
    folder = store.path / f"discover-{args.outcome}"
    paths = discover.write(result, folder, name)
    print(f"pcsim discover: {name}")
    print("\n".join(discover.summary_lines(result)))
    print(f"results: {folder} ({', '.join(p.name for p in paths)})")
    return 0


def cmd_sweep(args) -> int:
    return _run(args, sensitivity=False)


def cmd_sensitivity(args) -> int:
    return _run(args, sensitivity=True)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """A batch system's SIGTERM stops the sweep as cleanly as Ctrl-C does."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args, sensitivity: bool) -> int:
    from .. import output
    from . import executors, figures, spec, sweep
    from .spec import ExperimentError
    from . import store as store_module
    from .store import Store

    experiment = spec.load(args.experiment)
    if args.verify:
        return _verify(args, experiment)
    if args.replicate_check:
        return _replicate_check(args, experiment)
    if sensitivity and experiment.design not in ("sobol", "morris"):
        raise ExperimentError(f"sensitivity needs design.type = \"sobol\" or \"morris\"; "
                              f"{args.experiment} has a {experiment.design} design (use pcsim sweep)")
    if args.workers is not None and (args.scheduler or args.dask_local):
        raise ExperimentError("--workers sets the local process pool; with --scheduler or "
                              "--dask-local the cluster's workers run the chunks")
    check_resources(experiment)
    path = output.preflight(sweep.target_folder(experiment, args.out, args.new))
    command = args.command
    resume = shlex.join(["pcsim", command, args.experiment, "--out", str(path)])

    with _sigterm_as_interrupt(), executors.make(args.workers, args.scheduler, args.dask_local) as executor:
        resuming = Store(path).exists()
        store = sweep.open_store(path, experiment)
        note = sweep.version_note(store) if resuming else None
        if note:
            print(note, file=sys.stderr)
        try:
            total = len(store.design())
            done = len(store.done_keys())
            rows = total // experiment.replicates
            print(f"pcsim {command}: {experiment.name}: {total} runs ({rows} design rows x "
                  f"{experiment.replicates} replicates, {experiment.months} months, "
                  f"{experiment.scale})" + (f", {done} already finished" if resuming else "")
                  + f"; {executor.name}", flush=True)
            try:
                outcome = sweep.execute(experiment, store, executor, chunk=args.chunk_size)
            except executors.WorkerStartFailed as err:
                print(f"pcsim {command}: error: {err}", file=sys.stderr)
                return 1
        finally:
            store.unlock()

    if outcome.interrupted:
        print(f"pcsim {command}: interrupted: {outcome.finished}/{outcome.total} runs are finished "
              f"and saved in {path}. Resume with: {resume}", file=sys.stderr)
        return 130
    print(f"finished {outcome.finished}/{outcome.total} runs ({outcome.new} in this session, "
          f"{outcome.seconds:.1f} s, {outcome.rate:.2f} runs/s); {outcome.failed} failed")
    paths = [] if args.no_figures else figures.draw_all(experiment, store)
    print(f"results: {path}\n  runs: {path / 'runs'} (Parquet, one row per run; the same table "
          f"as {path / 'runs.csv'})")
    if experiment.timeseries_outcomes:
        series_csv = path / "timeseries.csv"
        print(f"  time series: {path / 'timeseries'} (Parquet)" + (
            f"; with each run's seed and varied values in {series_csv}" if series_csv.exists()
            else f"; no CSV: over {store_module.TIMESERIES_CSV_MAX_ROWS:,} rows"))
    if paths:
        print(f"  figures: {path / 'figures'} ({', '.join(p.name for p in paths if p.suffix == '.png')})")
    if outcome.failed:
        print(f"pcsim {command}: {outcome.failed} run(s) failed: see {path / 'failures'} (error, "
              f"traceback and a `pcsim run` command per run); rerun `{resume}` to retry them",
              file=sys.stderr)
        return 1
    if experiment.replicates >= 2:
        _report_replicates(experiment, store, brief=True)
    if sensitivity:
        _write_sensitivity(experiment, store)
    return 0


def _report_replicates(experiment, store, brief: bool) -> None:
    from . import replicates

    table, paths = replicates.write(experiment, store)
    if table.empty:
        print("replicate check: no design row has 2 finished replicates yet")
        return
    if not brief:
        print(f"replicate check of {store.path}: 95% CI half-width of a design row's mean "
              f"at {experiment.replicates} replicates")
        print("\n".join(replicates.summary_lines(experiment, table)))
    for line in replicates.warnings(experiment, table):
        print(line, file=sys.stderr)
    print(f"  replicate check: {paths[0]} and {paths[1].name}"
          + ("" if experiment.tolerance else " (set tolerance = ... in the experiment file to be warned)"))


def _replicate_check(args, experiment) -> int:
    from pathlib import Path

    from .. import output
    from .spec import ExperimentError
    from .store import Store

    if args.new:
        raise ExperimentError("--replicate-check reads an existing store; leave out --new")
    path = output.out_folder(args.out) if args.out is not None else Path(output.DEFAULT_ROOT) / experiment.name
    store = Store(path, experiment)
    if not store.exists():
        raise ExperimentError(f"--replicate-check: {str(path)!r} holds no pcsim sweep store "
                              "(no manifest.json); run the sweep first")
    store.check_compatible(experiment)
    if experiment.replicates < 2:
        raise ExperimentError(f"--replicate-check: replicates = {experiment.replicates}; a "
                              "confidence interval needs at least 2")
    _report_replicates(experiment, store, brief=False)
    return 0


def check_resources(experiment) -> None:
    """Refuse an experiment over a resource limit before its run table is made: months,
    replicates, runs in all (design rows x replicates), and the memory of its largest model
    (each varied parameter at whichever end of its values gives the larger estimate)."""
    from . import designs

    resources.check_counts(months=experiment.months, replicates=experiment.replicates)
    resources.check_counts(design_runs=designs.expected_rows(experiment) * experiment.replicates)
    if experiment.model != spec_default_model():
        return  # another model's memory is its own
    largest = experiment.base_params
    for name, values in experiment.parameters.items():
        if name not in resources.SIZE_PARAMETERS:
            continue
        ends = [largest.replace(**{name: v}) for v in (min(values), max(values))]
        largest = max(ends, key=resources.estimate_bytes)
    resources.check_memory(largest, what=f"the largest model of {experiment.name}")


def spec_default_model() -> str:
    from . import spec
    return spec.DEFAULT_MODEL


def _verify(args, experiment) -> int:
    from pathlib import Path

    from .. import output
    from . import sweep
    from .spec import ExperimentError
    from .store import Store

    if args.new:
        raise ExperimentError("--verify checks an existing store; leave out --new")
    path = output.out_folder(args.out) if args.out is not None else Path(output.DEFAULT_ROOT) / experiment.name
    if not Store(path).exists():
        raise ExperimentError(f"--verify: {str(path)!r} holds no pcsim sweep store (no manifest.json)")
    lines, healthy = sweep.verify(path)
    print("\n".join(lines))
    return 0 if healthy else 1


def _write_sensitivity(experiment, store) -> None:
    import os

    from . import analysis, figures

    tables = analysis.analyse(experiment, store.design(), store.runs())
    folder = store.path / "sensitivity"
    folder.mkdir(exist_ok=True)
    for name, table in tables.items():
        stem = name if name == "sobol_second_order" else f"{name}_indices"
        figures.save_csv(table, folder / f"{stem}.csv")
        tmp = folder / f".{stem}.parquet.tmp"
        table.to_parquet(tmp, index=False)
        os.replace(tmp, folder / f"{stem}.parquet")
    method = experiment.design
    main = tables[method]
    title = f"{experiment.name}: {'Sobol' if method == 'sobol' else 'Morris'} indices"
    for outcome in experiment.outcome_names:
        figures.sensitivity_bars(method, main, outcome, title, folder / f"{method}_{outcome}.png")
    columns = (["S1", "S1_conf", "ST", "ST_conf"] if method == "sobol"
               else ["mu_star", "mu_star_conf", "sigma", "mu"])
    print_indices(main, columns)
    print(f"  sensitivity: {folder} ({method}_indices.csv, one bar chart per outcome)")
    if not experiment.common_random_numbers:
        print("note: common_random_numbers = false, so each run of a pair has its own seed and the "
              "model's noise adds to every index; see docs/experiments.md", file=sys.stderr)


def print_indices(table, columns) -> None:
    for outcome, sub in table.groupby("outcome", sort=False):
        print(f"\n{outcome}")
        print(sub.set_index("parameter")[columns].round(3).to_string())
