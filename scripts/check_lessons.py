"""Run every guided lesson of the teaching page and print what its two settings give.

For each lesson: the mean of each outcome its text points to under settings A and B (same
seeds for both), the difference, whether it has the sign the lesson claims (in every run, or
on average), and in what share of seeds B differs from A in that direction. The numbers quoted in docs/teaching.md come from
this script:

    .venv/bin/python scripts/check_lessons.py [--seeds 12]

With ``--ensemble``, every claim is checked on each parameter set of the calibrated ensemble
(``simulation.ensemble``) instead, over a few seeds per set (``--ensemble-seeds``, default 3):
a claim holds in a set when the mean of B - A over those seeds has the claimed sign, and is
**not robust** when it holds in fewer than 80% of the sets. ``--write`` stores the result in
``simulation/data/lesson_robustness.toml``, which the teaching page reads:

    nice -n 5 .venv/bin/python scripts/check_lessons.py --ensemble --write
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from simulation import ensemble
from simulation.app import LESSONS
from simulation.app.lessons import ROBUST_SHARE, ClaimRobustness, check_on_set, claims, robustness_toml
from simulation.model import run

SHIPPED = Path(__file__).resolve().parents[1] / "simulation" / "data" / "lesson_robustness.toml"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12, help="replicates per setting (default: 12)")
    parser.add_argument("--ensemble", action="store_true",
                        help="check every claim on each calibrated parameter set")
    parser.add_argument("--ensemble-seeds", type=int, default=3,
                        help="seeds per parameter set with --ensemble (default: 3)")
    parser.add_argument("--write", action="store_true",
                        help=f"with --ensemble: write the result to {SHIPPED.name}")
    args = parser.parse_args(argv)
    if args.ensemble:
        return check_ensemble(range(1, args.ensemble_seeds + 1), args.write)
    if args.write:
        parser.error("--write needs --ensemble")
    seeds = range(1, args.seeds + 1)
    failures = 0
    for lesson in LESSONS:
        runs = [[run(scenario=s.scenario, months=lesson.months, seed=seed, **dict(s.params)).summary()
                 for seed in seeds] for s in lesson.settings]
        print(f"\n{lesson.title}  ({len(seeds)} seeds, month {lesson.months})")
        print(f"  A = {lesson.settings[0].label}\n  B = {lesson.settings[1].label}")
        print(f"  {'outcome':<26}{'A':>10}{'B':>10}{'B - A':>10}  claim                holds  seeds agreeing")
        claims = [(k, v, "every run") for k, v in lesson.expect.items()]
        claims += [(k, v, "on average") for k, v in lesson.on_average.items()]
        for key, sign, kind in claims:
            a = np.array([r[key] for r in runs[0]])
            b = np.array([r[key] for r in runs[1]])
            holds = (b.mean() - a.mean()) * sign > 0
            failures += not holds
            agree = np.mean((b - a) * sign > 0)
            print(f"  {key:<26}{a.mean():>10.3f}{b.mean():>10.3f}{b.mean() - a.mean():>+10.3f}"
                  f"  {('higher' if sign > 0 else 'lower') + ' (' + kind + ')':<20} {'yes' if holds else 'NO':<5}  {agree:.0%}")
    print(f"\n{'every claim holds' if not failures else f'{failures} claim(s) do not hold'}")
    return 1 if failures else 0


def check_ensemble(seeds, write: bool) -> int:
    """Every claim on every parameter set; print in how many sets each holds."""
    sets = ensemble.load()
    seeds = tuple(seeds)
    start = time.perf_counter()
    results = {}
    for lesson in LESSONS:
        failed = {claim: [] for claim in claims(lesson)}
        for pset in sets:
            for claim, ok in check_on_set(lesson, pset, seeds).items():
                if not ok:
                    failed[claim].append(pset.id)
        results[lesson.key] = {
            claim: ClaimRobustness(lesson.key, claim, sign, kind, len(sets) - len(failed[claim]),
                                   len(sets), tuple(failed[claim]))
            for claim, (sign, kind) in claims(lesson).items()}
        print(f"\n{lesson.title}  ({len(sets)} parameter sets x {len(seeds)} seeds)")
        for r in results[lesson.key].values():
            print(f"  {r.claim:<26}{'higher' if r.sign > 0 else 'lower':<7}{r.kind:<11}"
                  f"{r.held:>3}/{r.sets}  {'robust' if r.robust else 'NOT ROBUST'}")
    seconds = time.perf_counter() - start
    runs = len(sets) * len(seeds) * 2 * len(LESSONS)
    print(f"\n{runs} runs in {seconds:.0f} s")
    if write:
        about = dict(script="scripts/check_lessons.py --ensemble --write", sets=len(sets),
                     seeds=list(seeds), runs=runs, robust_share=ROBUST_SHARE,
                     rule="a claim holds in a set when the mean of B - A over the seeds has the "
                          "claimed sign; it is robust when it holds in at least 80% of the sets")
        SHIPPED.write_text(robustness_toml(results, about))
        print(f"wrote {SHIPPED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
