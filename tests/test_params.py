"""Parameter declaration and validation: every field declared once, bad values refused by name."""

import dataclasses
import math

import pytest

from simulation.params import (
    SPECS, TABLES, Innovation, ParamError, Params, Style, allowed, cell_names, check_names,
    check_value, default_innovations, default_styles, parse_value, scalar_fields, spec,
)


def test_every_scalar_parameter_is_fully_declared():
    for f in scalar_fields():
        s = SPECS[f.name]
        assert s["doc"], f"Expected a description for {f.name}"
        assert s["group"], f"Expected a group for {f.name}"
        if s["kind"] in ("float", "int"):
            assert s["low"] <= s["default"] <= s["high"], f"Default of {f.name} outside its bounds"
            assert s["unit"], f"Expected a unit for {f.name}"
        if s["kind"] == "choice":
            assert s["default"] in s["choices"]


def test_defaults_build():
    p = Params()
    assert len(p.innovations) == 7 and len(p.styles) == 7
    assert math.isclose(sum(s.share for s in p.styles), 1.0)


@pytest.mark.parametrize("name,value", [
    ("autonomy_base", 1.5), ("autonomy_base", -0.1), ("n_practices", 0), ("n_practices", 2.5),
    ("exits_on", 1), ("leader_selection", "votes"), ("pressure_level", float("nan")),
    ("pressure_level", "high"), ("plan_min_brokers", True),
])
def test_bad_values_are_refused_naming_field_value_and_range(name, value):
    with pytest.raises(ParamError) as err:
        Params(**{name: value})
    message = str(err.value)
    assert name in message, message
    assert repr(value) in message or str(value) in message, f"Expected the value in: {message}"
    assert allowed(name) in message, f"Expected the allowed range in: {message}"


def test_unknown_name_is_refused_with_suggestions_and_the_valid_list():
    with pytest.raises(ParamError, match="Did you mean autonomy_base") as err:
        Params.from_dict({"autonmy_base": 0.3})
    assert "pressure_level" in str(err.value), "Expected the list of valid parameters"


def test_whole_floats_are_accepted_for_ints_and_values_are_normalised():
    p = Params(n_practices=12.0, pressure_level=1)
    assert p.n_practices == 12 and isinstance(p.n_practices, int)
    assert isinstance(p.pressure_level, float)


def test_from_dict_toml_and_replace_agree(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text("[params]\npressure_level = 0.6\n[params.innovations.pdsa]\nthreshold_mean = 0.5\n")
    a = Params.from_toml(f)
    b = Params.from_dict({"pressure_level": 0.6, "innovations": {"pdsa": {"threshold_mean": 0.5}}})
    c = Params().replace(pressure_level=0.6, innovations={"pdsa": {"threshold_mean": 0.5}})
    assert a == b == c
    assert a.innovations[a.innovation_index("pdsa")].threshold_mean == 0.5


def test_table_rows_are_validated():
    with pytest.raises(ParamError, match="kind"):
        Params().replace(innovations={"pdsa": {"kind": "viral"}})
    with pytest.raises(ParamError, match="unknown column"):
        Params().replace(innovations={"pdsa": {"thresold_mean": 0.5}})
    with pytest.raises(ParamError, match="p_external"):
        Params().replace(innovations={"pdsa": {"p_external": 1.5}})
    with pytest.raises(ParamError, match=r"unknown innovation 'new_method'\. Valid: .*pdsa.*"
                                         r"must give every column; missing column"):
        Params().replace(innovations={"new_method": {"kind": "simple"}})
    with pytest.raises(ParamError, match="unknown innovation 'pdas', did you mean 'pdsa'"):
        Params().replace(innovations={"pdas": {"threshold_mean": 0.3}})
    with pytest.raises(ParamError, match="market_potential = 1.5 is out of range"):
        Params().replace(innovations={"pdsa": {"market_potential": 1.5}})
    with pytest.raises(ParamError, match=r"initial_share = 0.5 is above market_potential = 0.4"):
        Params().replace(innovations={"clinical_audit": {"initial_share": 0.5, "market_potential": 0.4}})
    with pytest.raises(ParamError, match="add up to 1"):
        Params().replace(styles={"servant": {"share": 0.9}})


def test_a_new_innovation_row_can_be_added():
    row = dataclasses.asdict(default_innovations()[0]) | {"name": "huddles"}
    name = row.pop("name")
    p = Params().replace(innovations={name: row})
    assert p.innovations[-1].name == "huddles" and len(p.innovations) == 8


@pytest.mark.parametrize("name,text,expected", [
    ("pressure_level", "0.4", 0.4), ("n_practices", "12", 12), ("exits_on", "false", False),
    ("leader_selection", "influence", "influence"),
])
def test_parse_value(name, text, expected):
    assert parse_value(name, text) == expected


@pytest.mark.parametrize("name,text", [("pressure_level", "x"), ("n_practices", "1.5"),
                                       ("exits_on", "maybe"), ("pressure_level", "7")])
def test_parse_value_refuses(name, text):
    with pytest.raises(ParamError, match=name):
        parse_value(name, text)


def test_default_tables_load_and_are_frozen():
    assert all(isinstance(r, Innovation) for r in default_innovations())
    assert all(isinstance(r, Style) for r in default_styles())
    with pytest.raises(dataclasses.FrozenInstanceError):
        Params().pressure_level = 0.9


# --- table cells by dotted name ------------------------------------------------------------------

DOTTED = {"innovations.pdsa.threshold_mean": 0.3, "innovations.pdsa.mandated": True,
          "styles.servant.reach": 1.2}
NESTED = {"innovations": {"pdsa": {"threshold_mean": 0.3, "mandated": True}},
          "styles": {"servant": {"reach": 1.2}}}


def test_every_table_column_is_fully_declared():
    for table, cls in TABLES.items():
        assert list(cls.FIELD_SPECS) == list(cls.FIELDS[1:]), f"Expected every {table} column declared"
        for name in cell_names(table=table):
            s = spec(name)
            assert s["doc"] and s["group"] == table, f"Expected a description and group for {name}"
            if s["kind"] in ("float", "int"):
                assert s["low"] <= s["default"] <= s["high"], f"Default of {name} outside its bounds"
                assert s["unit"], f"Expected a unit for {name}"
            assert check_value(name, s["default"]) == s["default"]


def test_the_bounds_rows_enforce_are_the_declared_ones():
    assert Innovation.BOUNDS["threshold_mean"] == (spec("innovations.pdsa.threshold_mean")["low"],
                                                   spec("innovations.pdsa.threshold_mean")["high"])
    assert Style.BOUNDS["reach"] == (0.0, 10.0) == tuple(Style.FIELD_SPECS["reach"][k] for k in ("low", "high"))


def test_a_dotted_cell_gives_the_same_params_as_a_table_override_through_every_entry_point(tmp_path):
    from simulation.model import PrimaryCareModel, build_params

    table = Params.from_dict(NESTED)
    assert table.innovations[table.innovation_index("pdsa")].threshold_mean == 0.3
    assert Params.from_dict(DOTTED) == table and repr(Params.from_dict(DOTTED)) == repr(table)
    assert Params().replace(**DOTTED) == table
    assert Params.from_dict({**DOTTED, "pressure_level": 0.6}) == table.replace(pressure_level=0.6)
    assert build_params("high_pressure", **DOTTED) == build_params("high_pressure", **NESTED)
    scenario = tmp_path / "mine.toml"
    scenario.write_text('[params]\n"innovations.pdsa.threshold_mean" = 0.3\n'
                        '"innovations.pdsa.mandated" = true\n"styles.servant.reach" = 1.2\n')
    assert build_params(str(scenario)) == build_params("baseline", **NESTED)
    as_tables = tmp_path / "tables.toml"
    as_tables.write_text("[innovations.pdsa]\nthreshold_mean = 0.3\nmandated = true\n"
                         "[styles.servant]\nreach = 1.2\n")
    assert build_params(str(as_tables)) == build_params(str(scenario))
    model = PrimaryCareModel(rng=1, n_practices=4, **DOTTED)
    assert model.params == build_params("baseline", n_practices=4, **NESTED)


def test_dotted_cells_and_whole_rows_combine():
    row = dataclasses.asdict(default_innovations()[0]) | {"name": "huddles"}
    name = row.pop("name")
    del row["month_introduced"]  # given by its dotted name below
    p = Params.from_dict({"innovations": {name: row}, "innovations.huddles.month_introduced": 12,
                          "innovations.pdsa.initial_share": 0.01})
    assert p.innovations[-1].name == "huddles" and p.innovations[-1].month_introduced == 12
    assert p == Params().replace(innovations={name: row | {"month_introduced": 12},
                                              "pdsa": {"initial_share": 0.01}})
    with pytest.raises(ParamError, match="given twice"):
        Params.from_dict({"innovations": {"pdsa": {"threshold_mean": 0.5}},
                          "innovations.pdsa.threshold_mean": 0.3})


@pytest.mark.parametrize("name,fragment", [
    ("innovations.pdas.threshold_mean", "unknown innovation 'pdas', did you mean 'pdsa'?"),
    ("styles.servent.reach", "unknown style 'servent', did you mean 'servant'?"),
    ("innovations.pdsa.treshold_mean", "unknown column 'treshold_mean' of innovations, did you mean "
                                       "'threshold_mean'?"),
    ("styles.servant.raech", "unknown column 'raech' of styles, did you mean 'reach'?"),
    ("innovation.pdsa.threshold_mean", "'innovation' is not a table, did you mean 'innovations'?"),
    ("innovations.pdsa", "a table cell is named innovations.ROW.COLUMN"),
])
def test_an_unknown_dotted_name_is_refused_in_one_line_naming_the_bad_part(name, fragment):
    for build in (lambda: Params.from_dict({name: 0.3}), lambda: Params().replace(**{name: 0.3}),
                  lambda: check_names([name])):
        with pytest.raises(ParamError) as err:
            build()
        message = str(err.value)
        assert fragment in message and "\n" not in message, message


def test_a_bad_cell_value_is_refused_naming_the_cell_and_the_range():
    with pytest.raises(ParamError, match=r"innovations.pdsa.threshold_mean = 5.0 is out of range: "
                                         r"allowed \[-1.0, 2.0\]"):
        check_value("innovations.pdsa.threshold_mean", 5.0)
    with pytest.raises(ParamError, match=r"innovation 'pdsa': threshold_mean = 5.0 is out of range"):
        Params.from_dict({"innovations.pdsa.threshold_mean": 5.0})
    with pytest.raises(ParamError, match="add up to 1"):
        Params.from_dict({"styles.servant.share": 0.9})


@pytest.mark.parametrize("name,text,expected", [
    ("innovations.pdsa.threshold_mean", "0.3", 0.3), ("innovations.pdsa.mandated", "true", True),
    ("innovations.pdsa.kind", "simple", "simple"), ("innovations.pdsa.month_introduced", "12", 12),
    ("styles.servant.reach", "1.2", 1.2),
    ("innovations.a_new_row.p_external", "0.1", 0.1),  # rows are checked against the scenario's tables
])
def test_parse_value_of_cells(name, text, expected):
    value = parse_value(name, text)
    assert value == expected and type(value) is type(expected)


def test_calibration_overrides_name_cells_and_give_the_params_they_always_gave():
    """The calibrated quantities reach the model as the nested table overrides they replace
    did: a shared quantity sets each of its rows, whole-number scalars stay whole."""
    from simulation import calibrate
    from simulation.model import build_params

    values = {"simple.p_external": 0.01, "structured.threshold_sd": 0.1,
              "pdsa.threshold_mean": 0.35, "plan_min_brokers": 3.0, "w_practice": 0.5}
    ov = calibrate.overrides(values)
    assert ov == {"innovations.clinical_audit.p_external": 0.01,
                  "innovations.significant_event_analysis.p_external": 0.01,
                  "innovations.pdsa.threshold_mean": 0.35,
                  **{f"innovations.{m}.threshold_sd": 0.1 for m in calibrate.STRUCTURED},
                  "w_practice": 0.5, "plan_min_brokers": 3}
    assert type(ov["plan_min_brokers"]) is int
    nested = {"w_practice": 0.5, "plan_min_brokers": 3, "innovations": {
        "clinical_audit": {"p_external": 0.01}, "significant_event_analysis": {"p_external": 0.01},
        "pdsa": {"threshold_mean": 0.35, "threshold_sd": 0.1},
        **{m: {"threshold_sd": 0.1} for m in calibrate.STRUCTURED[1:]}}}
    assert build_params("baseline", **ov) == build_params("baseline", **nested)
    for start in (calibrate.HAND_SET, calibrate.PREVIOUS):
        build_params("baseline", **calibrate.overrides(start))


def test_calibration_priors_lie_inside_the_declared_bounds():
    from simulation import calibrate

    for name, targets in calibrate.SPACE.items():
        low, high = calibrate.prior(name)
        for target in targets:
            s = spec(target)
            assert s["low"] <= low < high <= s["high"], f"prior of {name} leaves {target}'s bounds"
    assert calibrate.prior("simple.p_external") == (0.002, 0.05)
    assert calibrate.prior("rel_openness_threshold") == (0.0, 1.0)  # the declared bounds
    assert calibrate.is_integer("plan_min_brokers") and "informal_bar" in calibrate.LOG
