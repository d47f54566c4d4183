"""The network layout shared by the teaching page and the reports' network snapshots: fixed,
computed from the structure alone, practices tight inside their federations, nothing overlapping."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import PrimaryCareModel
from simulation.layout import federation_grid, network_layout

# the teaching page's arguments (the default), and the reports' (square, tiles of 4 x 4)
ARGUMENTS = {"page": {}, "report": {"aspect": 1.0, "tile": 4}}


@pytest.fixture(scope="module", params=[80, 200], ids=["county", "20 federations"])
def state(request):
    return PrimaryCareModel(rng=1, n_practices=request.param).state


@pytest.mark.parametrize("who", ARGUMENTS)
def test_layout_keeps_practices_tight_and_federations_apart(state, who):
    s = state
    lay = network_layout(s.practice, s.practice_federation, **ARGUMENTS[who])
    # every GP inside its practice's disc
    distance = np.linalg.norm(lay.xy - lay.practice_xy[s.practice], axis=1)
    assert np.all(distance <= lay.practice_radius[s.practice]), "Expected GPs inside their practice"
    # practice discs never overlap, and sit inside their federation's disc
    centre_gap = np.linalg.norm(lay.practice_xy[:, None] - lay.practice_xy[None], axis=2)
    touching = lay.practice_radius[:, None] + lay.practice_radius[None]
    np.fill_diagonal(centre_gap, np.inf)
    assert np.all(centre_gap >= touching), "Expected practice discs not to overlap"
    fed = s.practice_federation
    reach = np.linalg.norm(lay.practice_xy - lay.federation_xy[fed], axis=1) + lay.practice_radius
    assert np.all(reach <= lay.federation_radius[fed] + 1e-9), "Expected practices inside their federation"
    fed_gap = np.linalg.norm(lay.federation_xy[:, None] - lay.federation_xy[None], axis=2)
    np.fill_diagonal(fed_gap, np.inf)
    assert np.all(fed_gap >= lay.federation_radius[:, None] + lay.federation_radius[None]), (
        "Expected federation discs not to overlap")
    # laid out from the structure alone: the same structure gives the same picture
    again = network_layout(s.practice.copy(), s.practice_federation.copy(), **ARGUMENTS[who])
    assert np.array_equal(again.xy, lay.xy), "Expected a deterministic layout"


def test_grid_is_row_by_row_of_about_the_aspect_asked():
    assert federation_grid(8).tolist() == [[0, 0], [1, 0], [2, 0], [3, 0], [0, 1], [1, 1], [2, 1], [3, 1]]
    assert federation_grid(9, aspect=1.0).tolist() == [[c, r] for r in range(3) for c in range(3)]


def test_tiles_keep_the_first_federations_together():
    grid = federation_grid(40, aspect=1.0, tile=4)
    first, rest = grid[:16], grid[16:]
    assert first.tolist() == [[c, r] for r in range(4) for c in range(4)], (
        "Expected the first 16 federations as a 4 x 4 block, row by row")
    outside = (rest[:, 0] > first[:, 0].max()) | (rest[:, 1] > first[:, 1].max())
    assert outside.all(), "Expected no other federation inside the first tile"
    assert federation_grid(16, aspect=1.0, tile=4).tolist() == first.tolist(), (
        "Expected up to one tile's worth to be laid out as without tiles")
