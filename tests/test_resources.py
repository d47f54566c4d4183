"""Resource limits: inputs that would run without end or exhaust memory are refused in one line,
exit 2, before anything is built or written; --no-limits and --max-memory lift them."""

import pytest

import simulation.population as population
from simulation import resources
from simulation.cli import main
from simulation.model import PrimaryCareModel, build_params

HUGE = ["--set", "n_practices=20000", "--set", "patients_per_gp=200", "--set", "mean_list_size=100000"]

SWEEP = """name = "big"
months = 4
replicates = 1
[design]
type = "grid"
[parameters]
leadership_propensity = [0.2, 0.6]
[fixed]
n_practices = 4
"""


@pytest.fixture
def nothing_built(monkeypatch):
    """Drawing a population fails the test: the limit must refuse the input first."""
    def built(*args, **kwargs):
        raise AssertionError("the population was built before the limit was checked")
    monkeypatch.setattr(population, "build_state", built)


def _refused(cwd, capsys, argv, *fragments):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, f"Expected one line, got {err!r}"
    for fragment in fragments:
        assert fragment in err, err
    assert list(cwd.iterdir()) == [p for p in cwd.iterdir() if p.suffix == ".toml"], \
        "Expected nothing written"
    return err


def test_a_run_of_a_billion_months_is_refused(cwd, capsys, nothing_built):
    _refused(cwd, capsys, ["run", "--months", "1000000000"],
             "--months = 1,000,000,000", "limit of 12,000 months", "--no-limits")


@pytest.mark.parametrize("command", [["run"], ["compare", "baseline"], ["impact", "--remove-informal", "1"]])
def test_a_population_too_large_for_memory_is_refused_before_it_is_built(cwd, capsys, nothing_built,
                                                                         command):
    err = _refused(cwd, capsys, command + HUGE + ["--max-memory", "16"],
                   "n_practices=20000", "memory limit of 16.0 GB", "GP posts")
    need = float(err.split("would need about ")[1].split(" GB")[0].replace(",", ""))
    assert need > 100, "Expected ten million GP posts in complete practices to need > 100 GB"


def test_the_model_itself_refuses_a_population_too_large(nothing_built):
    with pytest.raises(resources.ResourceError, match="memory limit"):
        PrimaryCareModel(n_practices=20000, patients_per_gp=200, mean_list_size=100000, rng=1)


def test_replicates_over_the_limit_are_refused(cwd, capsys, nothing_built):
    _refused(cwd, capsys, ["compare", "baseline", "--replicates", "1000000000"],
             "--replicates = 1,000,000,000", "limit of 100,000")


GRID_OF_110 = ("leadership_propensity = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]\n"
               "autonomy_base = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.05]")


@pytest.mark.parametrize("old, new, fragment", [
    ("months = 4", "months = 1000000000", "months = 1,000,000,000 is over the limit of 12,000"),
    ("replicates = 1", "replicates = 1000000000", "replicates = 1,000,000,000 is over the limit"),
    # 110 design rows x 100,000 replicates: each within its limit, 11 million runs in all
    ("replicates = 1\n[design]\ntype = \"grid\"\n[parameters]\nleadership_propensity = [0.2, 0.6]",
     "replicates = 100000\n[design]\ntype = \"grid\"\n[parameters]\n" + GRID_OF_110,
     "design_runs = 11,000,000 is over the limit of 10,000,000 runs"),
    # n_practices varied up to its bound, with the largest practices: the largest model is refused
    ("leadership_propensity = [0.2, 0.6]\n[fixed]\nn_practices = 4",
     "n_practices = [4, 20000]\n[fixed]\npatients_per_gp = 200\nmean_list_size = 100000",
     "the largest model of big (n_practices=20000, mean_list_size=100000, patients_per_gp=200"),
])
def test_a_sweep_over_a_limit_is_refused_before_its_run_table(cwd, capsys, monkeypatch, old, new,
                                                              fragment):
    import simulation.experiment.sweep as sweep

    def started(*args, **kwargs):
        raise AssertionError("the sweep started before its limits were checked")
    monkeypatch.setattr(sweep, "open_store", started)
    assert old in SWEEP
    (cwd / "big.toml").write_text(SWEEP.replace(old, new))
    _refused(cwd, capsys, ["sweep", "big.toml", "--workers", "1"], fragment)


def test_the_estimate_follows_the_measured_national_model():
    """Calibrated against the measured peak of a national model (78 MB above the interpreter)."""
    mb = resources.estimate_bytes(build_params("baseline", "national")) / 2 ** 20
    assert 70 < mb < 90


def test_max_memory_and_no_limits_let_a_larger_model_through(cwd, capsys):
    # 30 practices of ~6 GPs: about 0.4 MB by the estimate, refused under a 0.2 MB ceiling ...
    small = ["run", "--months", "2", "--set", "n_practices=30"]
    assert 0.3 < resources.estimate_bytes(build_params("baseline", "county", n_practices=30)) / 2 ** 20 < 0.5
    _refused(cwd, capsys, small + ["--max-memory", "0.0002"], "memory limit of 0.2 MB",
             "(set by --max-memory)")
    # ... let through by a ceiling that allows it, or by --no-limits
    assert main(small + ["--max-memory", "0.001"]) == 0
    assert main(small + ["--no-limits", "--max-memory", "0.0002"]) == 0
    assert len(list((cwd / "results").iterdir())) == 2
    assert resources.enabled(), "Expected the limits back on after the command"


def test_no_limits_lifts_the_count_limits_only_within_its_block():
    with resources.settings(no_limits=True):
        resources.check_counts(months=10 ** 9, replicates=10 ** 9, design_runs=10 ** 12)
    assert resources.enabled()
    with pytest.raises(resources.ResourceError):
        resources.check_counts(months=10 ** 9)
