"""Fixtures shared by the test modules."""

import pytest


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    """Run the test in a fresh empty folder (commands write their results folders there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
