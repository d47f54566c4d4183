"""The England population from the shipped NHS open data, and running one area of it."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from simulation import england
from simulation.cli import main
from simulation.model import PrimaryCareModel
from simulation.params import PcsimInputError
from simulation.state import NETWORK


@pytest.fixture(scope="module")
def model():
    return PrimaryCareModel(scale="england", rng=1)


def test_the_population_is_the_shipped_table(model):
    # every practice, GP post and role as the data give them (nothing drawn at random)
    table, facts, s = england.load().practices, england.load().facts, model.state
    assert s.n_practices == len(table) == facts["practices"] == 6341
    assert s.n_federations == facts["pcns"] == 1264
    assert np.array_equal(np.bincount(s.practice), table.gps)
    assert np.array_equal(np.bincount(s.practice, weights=s.partner).astype(int), table.partners)
    assert np.array_equal(np.bincount(s.practice, weights=~s.partner).astype(int), table.salaried)
    assert (s.n_gps, int(s.partner.sum())) == (facts["gps"], facts["partners"])
    assert np.array_equal(s.list_size, table.list_size)
    assert (table.gps >= 1).all()
    assert (s.form == NETWORK).all()


def test_pcn_membership_is_as_shipped(model):
    # the federation of each practice is its January 2023 PCN, and the table carries the codes
    practices, federations = model.practice_table(), model.federation_table()
    shipped = england.load().practices
    assert practices.practice_code.tolist() == shipped.practice_code.tolist()
    pcn_of_practice = federations.pcn_code.to_numpy()[practices.federation.to_numpy()]
    assert pcn_of_practice.tolist() == shipped.pcn_code.tolist()
    assert set(federations.pcn_code) == set(england.load().pcns.pcn_code)
    assert {"practice_code", "pcn_code", "sub_icb_code", "icb_code"} <= set(practices.columns)
    assert {"pcn_code", "pcn_name"} <= set(federations.columns)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_every_practice_is_in_one_pcn_and_one_icb(data):
    # any area, at any level: each of its practices in exactly one PCN and one ICB, and the
    # area's practices are exactly those whose code at that level is the area's
    rows = england.areas()
    i = data.draw(st.integers(0, len(rows) - 1))
    area = england.find_area(rows.code[i])
    pop = england.population(area)
    column = {"icb": "icb_code", "sub-icb": "sub_icb_code", "pcn": "pcn_code"}[area.level]
    assert (pop.table[column] == area.code).all()
    assert len(pop.table) == rows.practices[i]
    per_practice = england.load().practices.groupby("practice_code")
    assert (per_practice.pcn_code.nunique() == 1).all() and (per_practice.icb_code.nunique() == 1).all()
    assert pop.practice_federation.shape == (len(pop.table),)
    assert pop.pcns.pcn_code.to_numpy()[pop.practice_federation].tolist() == pop.table.pcn_code.tolist()


def test_regional_ties_stay_within_the_icb(model):
    # the regional layer is local: a tie between ICBs can only join members of one PCN (two
    # PCNs have practices in two ICBs), never two GPs met through the regional layer
    icb = model.practice_table().icb_code.to_numpy()[model.state.practice]
    pcn = model.state.practice_federation[model.state.practice]
    across = model.ties.across.tocoo()
    between = icb[across.row] != icb[across.col]
    assert across.nnz > 0 and between.sum() < 100
    assert (pcn[across.row[between]] == pcn[across.col[between]]).all()


def test_the_run_starts_with_the_2017_survey_levels():
    params = PrimaryCareModel(scale="england", area="QJ2", rng=1).params
    shares = {i.name: i.initial_share for i in params.innovations}
    assert shares["pdsa"] == 0.21 and shares["clinical_audit"] == 0.90
    assert params.n_practices == england.areas("icb", "QJ2").practices[0]


@pytest.mark.parametrize("text, code", [("QJ2", "QJ2"), ("nhs derby and derbyshire icb", "QJ2"),
                                        ("u89141", "U89141"), ("Stockton PCN", "U89141"),
                                        ("36L", "36L")])
def test_area_by_code_or_name(text, code):
    assert england.find_area(text).code == code


def test_area_run_writes_joinable_tables(cwd, capsys):
    assert main(["run", "--scale", "england", "--area", "stockton pcn", "--months", "3",
                 "--out", "r"]) == 0
    assert "area: Stockton PCN (PCN U89141)" in capsys.readouterr().out
    practices = pd.read_parquet(cwd / "r" / "practices.parquet")
    assert set(practices.pcn_code) == {"U89141"} and len(practices) == 7
    assert pd.read_parquet(cwd / "r" / "federations.parquet").pcn_name.tolist() == ["STOCKTON PCN"]
    manifest = json.loads((cwd / "r" / "manifest.json").read_text())
    assert manifest["area"]["code"] == "U89141" and manifest["start"] == "2023-04"


@pytest.mark.parametrize("argv, fragments", [
    (["--area", "stockton"], ["ambiguous", "U89141 STOCKTON PCN", "U07032 NORTH STOCKTON PCN"]),
    (["--area", "Stockon PCN"], ["no ICB, sub-ICB or PCN", "closest:", "U89141 STOCKTON PCN"]),
])
def test_ambiguous_or_unknown_area_exits_2_with_closest_matches(cwd, capsys, argv, fragments):
    assert main(["run", "--scale", "england", *argv, "--months", "2"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    for fragment in fragments:
        assert fragment in err
    assert not any(cwd.iterdir())


def test_area_needs_the_england_scale(cwd, capsys):
    assert main(["run", "--area", "QJ2", "--months", "2"]) == 2
    assert "--scale england" in capsys.readouterr().err
    assert not any(cwd.iterdir())
    with pytest.raises(PcsimInputError, match="scale = 'england'"):
        PrimaryCareModel(scale="county", area="QJ2")


def test_areas_lists_42_icbs(capsys):
    assert main(["areas", "--level", "icb"]) == 0
    out = capsys.readouterr().out
    assert "42 area(s)" in out
    assert sum(line.startswith("│ icb") for line in out.splitlines()) == 42


def test_steppable_areas_are_small():
    small = england.steppable_areas(200)
    assert len(small) > 1000 and (small.gps <= 200).all()
    assert set(small.level) == {"sub-icb", "pcn"}
