"""The leadership contrasts of docs/validation.md ("Does leadership mean something?"), paired on
the same seeds, and how long informal leaders last:

- a mandated scheme: the baseline with and without its mandated innovation;
- a pay-for-performance scheme: ``qof_2004`` against the baseline;
- dictatorial against seductive management at pressure 0.6 (lesson 5);
- a drive of badges chosen at random: ``top_down_drive`` against the baseline;
- the informal leaders' spells (completed spells' median length, share of GPs ever a leader);
- the share of each method's new adoptions caused by ties (where the model reports it).

Runs on the code of the current directory, so that two versions can be compared:

    .venv/bin/python scripts/leadership_contrasts.py [--seeds 12]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path.cwd()))

from simulation import interventions  # noqa: E402
from simulation.model import PrimaryCareModel  # noqa: E402
from simulation.params import SPECS  # noqa: E402

OUTCOMES = ("informal_leaders", "federations_with_plan", "complex_adoption")


def management(seductive: bool) -> dict:
    """Lesson 5's two settings, in this code's parameters."""
    if "seduction" in SPECS:
        return dict(seduction=0.9, dictation=0.1) if seductive else dict(seduction=0.1, dictation=0.9)
    return dict(management_mode=0.1 if seductive else 0.9)


def final(seed, scenario="baseline", params=None, **overrides):
    model = PrimaryCareModel(scenario=scenario, params=params, rng=seed, **overrides)
    model.run(120)
    return model.timeseries().iloc[-1]


def without_mandates(seed):
    if hasattr(interventions, "without_mandates"):  # (neutralised rows: common random numbers)
        return interventions.without_mandates(PrimaryCareModel(rng=seed).params)
    base = PrimaryCareModel(rng=seed).params
    return dataclasses.replace(base, innovations=tuple(i for i in base.innovations if not i.mandated))


CONTRASTS = {
    "mandated scheme (with - without)": (lambda s: final(s, params=without_mandates(s)),
                                         lambda s: final(s)),
    "qof_2004 - baseline": (lambda s: final(s), lambda s: final(s, "qof_2004")),
    "dictatorial - seductive (pressure 0.6)": (
        lambda s: final(s, pressure_level=0.6, **management(True)),
        lambda s: final(s, pressure_level=0.6, **management(False))),
    "top_down_drive - baseline": (lambda s: final(s), lambda s: final(s, "top_down_drive")),
}


def spells(seed: int) -> tuple[list[int], float]:
    """Lengths of the completed informal-leader spells of one baseline run (a post's spell ends
    when its GP stops being a leader or leaves), and the share of GPs ever a leader."""
    model = PrimaryCareModel(rng=seed)
    n = model.state.n_gps
    since = np.full(n, -1)
    person = model.state.person.copy()
    lengths, ever = [], set()
    for month in range(1, 121):
        model.step()
        s = model.state
        if hasattr(s, "informal_since"):  # the model's own standing
            informal = s.active & (s.informal_since >= 0)
        else:  # (code before leader status was kept)
            informal = s.active & (s.influence > 0) & (s.influence >= model.params.informal_bar)
        changed_person = s.person != person
        ended = (since >= 0) & (~informal | changed_person)
        lengths += (month - since[ended]).tolist()
        since[ended] = -1
        started = informal & (since < 0)
        since[started] = month
        ever.update(s.person[informal].tolist())
        person = s.person.copy()
    people = model.state.next_person
    return lengths, len(ever) / people


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=12)
    args = ap.parse_args(argv)
    seeds = range(1, args.seeds + 1)
    print(f"{'contrast':<42}" + "".join(f"{o:>26}" for o in OUTCOMES))
    for name, (a, b) in CONTRASTS.items():
        d = np.array([[b(s)[o] - a(s)[o] for o in OUTCOMES] for s in seeds], dtype=float)
        mean, sd = d.mean(axis=0), d.std(axis=0, ddof=1) / np.sqrt(len(seeds))
        print(f"{name:<42}" + "".join(f"{m:>+17.3f} ± {1.96 * e:6.3f}" for m, e in zip(mean, sd)))
    lengths, ever = [], []
    for s in seeds:
        spell, share = spells(s)
        lengths += spell
        ever.append(share)
    print(f"completed informal-leader spells: median {np.median(lengths):.0f} months "
          f"(n = {len(lengths)}); GPs ever a leader: {np.mean(ever):.0%}")
    model = PrimaryCareModel(rng=1)
    model.run(120)
    ts = model.timeseries()
    if any(c.startswith("new_social_") for c in ts):
        print("share of new adoptions over the run caused by ties (seed 1):")
        for inn in model.params.innovations:
            social = ts[f"new_social_{inn.name}"].iloc[1:].sum()
            external = ts[f"new_external_{inn.name}"].iloc[1:].sum()
            mandated = ts[f"new_mandated_{inn.name}"].iloc[1:].sum()
            total = social + external + mandated
            if total:
                print(f"  {inn.name:<28} ties {social / total:5.0%}  external {external / total:5.0%}"
                      f"  mandated {mandated / total:5.0%}  ({total:.0f} adoptions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
