"""AppTest: the Saved models page (list, load as active, download, delete with confirmation)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dashboard import state as keys
from dashboard.views import saved_models as view
from recsys.data.dataset import load_sample
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.store import ModelInfo, ModelStore
from tests.dashboard_fixtures import (
    CUSTOMER_PAGE,
    MODEL_PAGE,
    STORE_PAGE,
    charts,
    start_app,
    state,
    texts,
)


@pytest.fixture
def saved(model_dir: Path) -> RecommenderPipeline:
    """A model saved in the store before the app starts (as after a restart)."""
    pipeline = RecommenderPipeline(ModelParams(n_neighbors=9, metric="manhattan"))
    pipeline.fit(load_sample())
    ModelStore(model_dir).save(pipeline, "k9-manhattan")
    return pipeline


@pytest.mark.usefixtures("model_dir")
def test_empty_store_guides_to_the_model_page():
    at = start_app(STORE_PAGE)
    assert any("No saved models yet" in i for i in texts(at, "info"))
    assert not at.exception


def test_models_saved_earlier_are_listed(saved: RecommenderPipeline):
    at = start_app(STORE_PAGE)
    table = at.dataframe[0].value
    row = table.set_index("name").loc["k9-manhattan"]
    assert "k=9" in row["model"] and "manhattan" in row["model"]
    assert row["fingerprint"] == saved.fingerprint_[:12]
    assert row["customers"] == 2000 and row["size"].endswith("B")
    assert any(b.proto.label == "Download model file" for b in at.get("download_button"))


def test_load_as_active_model(saved: RecommenderPipeline):
    at = start_app(STORE_PAGE)
    at.button(key="load_model").click().run()
    assert not at.exception and not at.error
    active = state(at, keys.PIPELINE)
    assert active.params == saved.params
    assert state(at, keys.MODEL_INFO)["source"] == "saved"
    assert any("is now the active model" in s for s in texts(at, "success"))
    at.switch_page(CUSTOMER_PAGE).run()
    assert not at.exception
    table = next(df for df in (d.value for d in at.dataframe) if "support" in df.columns)
    assert table["product_id"].tolist() == saved.recommend("C00001", 10)["product_id"].tolist()
    assert "chart_recs" in charts(at)


def test_delete_needs_confirmation(saved: RecommenderPipeline, model_dir: Path):
    at = start_app(STORE_PAGE)
    at.button(key="delete_model").click().run()
    assert any("permanently" in w for w in texts(at, "warning"))
    at.button(key="cancel_delete").click().run()
    assert (model_dir / "k9-manhattan.joblib").is_file()
    at.button(key="delete_model").click().run()
    at.button(key="confirm_delete").click().run()
    assert not at.exception
    assert not (model_dir / "k9-manhattan.joblib").exists()
    assert any("No saved models yet" in i for i in texts(at, "info"))


def test_save_then_load_round_trip_through_the_pages(model_dir: Path):
    at = start_app(MODEL_PAGE)
    at.slider(key=keys.K).set_value(15)
    at.button(key="FormSubmitter:train_form-Train model").click().run()
    at.text_input(key=keys.SAVE_NAME).set_value("k15").run()
    at.button(key="save_model").click().run()
    trained = state(at, keys.PIPELINE)
    # Switch to another model, then load the saved one back.
    at.slider(key=keys.K).set_value(5)
    at.button(key="FormSubmitter:train_form-Train model").click().run()
    assert state(at, keys.PIPELINE).params.n_neighbors == 5
    at.switch_page(STORE_PAGE).run()
    at.selectbox(key=keys.STORE_SELECTED).set_value("k15").run()
    at.button(key="load_model").click().run()
    loaded = state(at, keys.PIPELINE)
    assert loaded.params.n_neighbors == 15 and loaded is not trained
    assert loaded.recommend("C00007", 5).equals(trained.recommend("C00007", 5))


def test_tampered_model_is_refused_with_a_message(saved: RecommenderPipeline, model_dir: Path):
    (model_dir / "k9-manhattan.joblib").write_bytes(b"not a model")
    at = start_app(STORE_PAGE)
    # The listing already knows the file is unreadable: it says why, and Load is disabled.
    assert any("cannot be loaded" in w for w in texts(at, "warning"))
    assert at.button(key="load_model").disabled
    problem = at.dataframe[0].value.set_index("name").loc["k9-manhattan", "problem"]
    assert problem and problem in " ".join(texts(at, "warning"))


def test_the_model_list_shows_a_similarity_power_other_than_1():
    info = ModelInfo("m", Path("m.joblib"), 1, "2026-01-01T00:00:00", params={
        "n_neighbors": 200, "metric": "cosine", "weighting": "bm25", "value": "count",
        "similarity_power": 2.0})  # fmt: skip
    plain = replace(info, params={**info.params, "similarity_power": 1.0})
    assert view.models_table([info, plain])["model"].tolist() == [
        "k=200 · cosine · bm25/count · power 2",
        "k=200 · cosine · bm25/count",
    ]


def test_the_model_list_shows_the_default_neighbourhood_settings():
    params = ModelParams().to_dict()
    info = ModelInfo("m", Path("m.joblib"), 1, "2026-01-01T00:00:00", params=params)
    shrunk = replace(info, params={**params, "shrink": 5.0, "popularity_penalty": 0.0})
    assert view.models_table([info, shrunk])["model"].tolist() == [
        "k=200 · cosine · binary/count · power 3 · asymmetry 0.7 · penalty 0.2",
        "k=200 · cosine · binary/count · power 3 · asymmetry 0.7 · shrink 5",
    ]
