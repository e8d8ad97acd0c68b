"""Shared test configuration: every test writes saved models into its own temporary store."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_model_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never let a test read or write ./workspace/models."""
    monkeypatch.setenv("RECSYS_MODEL_DIR", str(tmp_path_factory.mktemp("models")))
