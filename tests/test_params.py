"""Parameter declaration and validation: every field declared once, bad values refused by name."""

import dataclasses
import math

import pytest

from simulation.params import (
    SPECS, Innovation, ParamError, Params, Style, allowed, default_innovations, default_styles,
    parse_value, scalar_fields,
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
    with pytest.raises(ParamError, match="missing column"):
        Params().replace(innovations={"new_method": {"kind": "simple"}})
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
