"""The tutorial notebooks in examples/ run top to bottom, and are kept without outputs.

Each notebook is executed with nbclient in a fresh kernel of this Python, with a time limit, in
its own folder (so relative paths resolve as they do for a reader). What it writes goes to a
temporary folder: the notebooks read ``PCSIM_RESULTS`` for their output folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
# Per notebook; they take seconds to a minute or two on two cores.
TIME_LIMIT = 600


def test_there_are_three_tutorials():
    assert [p.name for p in NOTEBOOKS] == ["1_model.ipynb", "2_experiments.ipynb", "3_scenarios.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; run `nbstripout {path}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("PCSIM_RESULTS", str(tmp_path))
    # the kernel inherits this process's environment: a back end chosen by an earlier command
    # (pcsim commands run in-process by other tests choose Agg) would hide the figures
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=TIME_LIMIT, kernel_name="python3",
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    figures = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
               if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert figures, f"{path.name} draws no figure"
