"""Shared pytest fixtures: every test writes saved models into its own temporary store."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True, name="model_dir")
def model_dir_fixture(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """An empty model store for each test (``RECSYS_MODEL_DIR``), never ./workspace/models.

    Autouse, so no test can touch the real store; ask for ``model_dir`` to get its path.
    """
    path = tmp_path_factory.mktemp("models")
    monkeypatch.setenv("RECSYS_MODEL_DIR", str(path))
    return path
