"""AppTest: an unexpected error shows a short message with an error id, never a traceback."""

from __future__ import annotations

import logging
import re

import pytest

from recsys.data.dataset import load_sample
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.store import ModelStore
from tests.dashboard_fixtures import STORE_PAGE, start_app, texts


def test_unexpected_error_shows_an_id_and_logs_the_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    pipeline = RecommenderPipeline(ModelParams(n_neighbors=5)).fit(load_sample())
    ModelStore().save(pipeline, "k5")

    def broken(self, name, area=None):
        raise RuntimeError("boom in /srv/secret/internal.py")

    monkeypatch.setattr(ModelStore, "load", broken)
    at = start_app(STORE_PAGE)
    with caplog.at_level(logging.ERROR, logger="dashboard.render"):
        at.button(key="load_model").click().run()
    assert not at.exception
    errors = texts(at, "error")
    assert len(errors) == 1
    match = re.search(r"error id `([0-9a-f]{8})`", errors[0])
    assert match, errors
    shown = " ".join(
        str(getattr(e, "value", ""))
        for kind in ("error", "markdown", "code", "text")
        for e in at.get(kind)
    )
    for internal in ("Traceback", "/srv/secret", "RuntimeError", "boom"):
        assert internal not in shown
    assert not at.expander  # no "Technical details"
    logged = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the server log
