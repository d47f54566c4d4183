"""Run every guided lesson of the teaching page and print what its two settings give.

For each lesson: the mean of each outcome its text points to under settings A and B (same
seeds for both), the difference, whether it has the sign the lesson claims (in every run, or
on average), and in what share of seeds B differs from A in that direction. The numbers quoted in docs/teaching.md come from
this script:

    .venv/bin/python scripts/check_lessons.py [--seeds 12]
"""

from __future__ import annotations

import argparse

import numpy as np

from simulation.app import LESSONS
from simulation.model import run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12, help="replicates per setting (default: 12)")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    raise SystemExit(main())
