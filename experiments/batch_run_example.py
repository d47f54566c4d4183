"""Mesa's own batch runner on the pcsim model, for users who know Mesa.

``mesa.batch_run`` passes each combination of ``parameters`` to ``PrimaryCareModel`` as keyword
arguments (any pcsim parameter, plus ``scenario`` and ``scale``), steps it ``max_steps`` months
and returns one dict per run with the model's reporters. In Mesa 3.5 give the seeds as
``rng=[...]`` (one run per seed per combination; ``iterations=`` is deprecated), and keep the
call under ``if __name__ == "__main__":`` because with ``number_processes`` > 1 it spawns
processes that re-import this file.

For large sweeps prefer ``pcsim sweep`` (experiments/*.toml): batch_run keeps every row in
memory, has no resume, and derives no per-run seeds from one root seed.

    python experiments/batch_run_example.py            # 2 x 2 grid x 3 seeds, 120 months
    python experiments/batch_run_example.py --smoke    # a few months of a small county
"""

import sys

import mesa
import pandas as pd

from simulation import PrimaryCareModel


def main(smoke: bool = False) -> pd.DataFrame:
    parameters = {
        "scenario": "baseline",
        "leadership_propensity": [0.2, 0.5],
        "autonomy_base": [0.3, 0.7],
    }
    if smoke:
        parameters["n_practices"] = 6
    results = mesa.batch_run(
        PrimaryCareModel,
        parameters=parameters,
        rng=[1, 2, 3],  # seeds: each combination runs once per seed
        max_steps=4 if smoke else 120,
        number_processes=1,  # or None for all cores
        data_collection_period=-1,  # only the last step of each run
        display_progress=False,
    )
    table = pd.DataFrame(results)
    means = table.groupby(["leadership_propensity", "autonomy_base"])[
        ["complex_adoption", "quality", "brokers", "federations_with_plan"]].mean()
    print(f"{len(table)} rows (one per run), mean over seeds:")
    print(means.round(3).to_string())
    return table


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
