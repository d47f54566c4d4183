"""The smallest useful sweep, shared by the sweep tests: 4 design rows x 2 replicates of a
6-practice county for 4 months (about a second of work)."""


def tiny_sweep(name: str = "tiny", summary=("complex_adoption", "quality"),
               timeseries=("complex_adoption",), every: int = 2) -> str:
    """The experiment file's text (figures, if any, are appended by the caller)."""
    quoted = lambda names: ", ".join(f'"{n}"' for n in names)  # noqa: E731
    return f"""name = "{name}"
months = 4
replicates = 2
seed = 11

[design]
type = "grid"

[parameters]
leadership_propensity = [0.2, 0.6]
autonomy_base = [0.3, 0.7]

[fixed]
n_practices = 6

[outcomes]
summary = [{quoted(summary)}]
timeseries = [{quoted(timeseries)}]
every = {every}
"""
