"""Where each GP post, practice and federation sits in a drawing of the network.

One layout, computed once from the structure alone (which practice each post is in, which
federation each practice is in): no random numbers, no spring forces, so the same structure
always gives the same picture. The teaching page (:mod:`simulation.app`) and the reports' network
snapshots (:mod:`simulation.report.figures`) both draw from it. Drawing libraries are not
imported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


@dataclass(frozen=True)
class NetworkLayout:
    """Positions of GP posts, practices and federations (units: the spacing of two GPs)."""

    xy: np.ndarray  # (n, 2) GP posts
    practice_xy: np.ndarray  # (P, 2)
    practice_radius: np.ndarray  # (P,)
    federation_xy: np.ndarray  # (F, 2)
    federation_radius: np.ndarray  # (F,)


def sunflower(k: np.ndarray, spacing: float = 1.0) -> np.ndarray:
    """Point k of a sunflower (Vogel) spiral: evenly spread points filling a disc."""
    r = 0.5 * spacing * np.sqrt(k + 0.5)
    return np.column_stack([r * np.cos(k * GOLDEN_ANGLE), r * np.sin(k * GOLDEN_ANGLE)])


def pack_circles(radii: np.ndarray, gap: float, chunk: int = 512) -> np.ndarray:
    """Centres for circles of the given radii, none overlapping, packed round the origin.

    Largest first, each circle takes the first free place on a sunflower spiral of candidate
    centres, searched outward a chunk at a time (deterministic; no random numbers)."""
    radii = np.asarray(radii, dtype=float)
    order = np.argsort(-radii, kind="stable")
    centres = np.zeros((radii.size, 2))
    step = max(0.25 * radii.min(), 0.1)
    placed = [int(order[0])]
    for i in order[1:]:
        start = 0
        while True:
            candidates = sunflower(np.arange(start, start + chunk), step)
            d = np.linalg.norm(candidates[:, None, :] - centres[placed][None, :, :], axis=2)
            free = np.all(d >= radii[placed][None, :] + radii[i] + gap, axis=1)
            if free.any():
                centres[i] = candidates[np.argmax(free)]
                break
            start += chunk
        placed.append(int(i))
    return centres


def federation_grid(n_federations: int, aspect: float = 1.5, tile: int | None = None) -> np.ndarray:
    """(column, row) of each federation's cell, row by row from federation 0 at the top left,
    on a grid of about ``aspect`` columns per row.

    With ``tile``, more than ``tile`` x ``tile`` federations go in square tiles of that many
    (row by row within a tile; tiles on a grid of about ``aspect``, half a cell apart), so
    that the first tile can be shown alone."""
    f = np.arange(n_federations)
    if tile is None or n_federations <= tile * tile:
        cols = max(1, min(n_federations, math.ceil(math.sqrt(n_federations * aspect))))
        return np.column_stack([f % cols, f // cols])
    which, within = f // (tile * tile), f % (tile * tile)
    tiles = math.ceil(n_federations / (tile * tile))
    cols = max(1, min(tiles, math.ceil(math.sqrt(tiles * aspect))))
    return (np.column_stack([which % cols, which // cols]) * (tile + 0.5)
            + np.column_stack([within % tile, within // tile]))


def network_layout(practice: np.ndarray, practice_federation: np.ndarray,
                   aspect: float = 1.5, tile: int | None = None) -> NetworkLayout:
    """Practices as tight discs of their GPs (a sunflower each), packed into one disc per
    federation; federations on a grid of about the given width/height ratio (see
    :func:`federation_grid` for ``tile``). Computed once from the structure."""
    practice = np.asarray(practice)
    practice_federation = np.asarray(practice_federation)
    n_p, n_f = practice_federation.size, int(practice_federation.max()) + 1
    posts = np.bincount(practice, minlength=n_p)
    order = np.argsort(practice, kind="stable")
    start = np.concatenate([[0], np.cumsum(posts)[:-1]])
    rank = np.empty(practice.size, dtype=np.int64)
    rank[order] = np.arange(practice.size) - start[practice[order]]
    offset = sunflower(rank)
    practice_radius = 0.5 * np.sqrt(np.maximum(posts, 1)) + 0.5

    practice_xy = np.zeros((n_p, 2))
    federation_radius = np.zeros(n_f)
    for f in range(n_f):
        members = np.flatnonzero(practice_federation == f)
        if members.size == 0:
            continue
        centres = pack_circles(practice_radius[members], gap=0.8)
        centres -= centres.mean(axis=0)
        practice_xy[members] = centres
        federation_radius[f] = np.max(np.linalg.norm(centres, axis=1) + practice_radius[members]) + 0.8

    cell = 2.0 * federation_radius.max() + 1.5
    grid = federation_grid(n_f, aspect, tile)
    federation_xy = np.column_stack([grid[:, 0] * cell, -grid[:, 1] * cell])
    practice_xy = practice_xy + federation_xy[practice_federation]
    xy = practice_xy[practice] + offset
    return NetworkLayout(xy, practice_xy, practice_radius, federation_xy, federation_radius)
