"""AppTest: the Model page (train on a button, cache, what was trained, save)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import state as keys
from tests.dashboard_fixtures import (
    MODEL_PAGE,
    STORE_PAGE,
    charts,
    model_dir_fixture,  # noqa: F401 - provides the model_dir fixture
    start_app,
    state,
    texts,
)

pytestmark = pytest.mark.usefixtures("model_dir")


def train(at, **settings) -> None:
    """Set the form widgets and press Train."""
    widgets = {
        keys.K: at.slider,
        keys.MIN_SIMILARITY: at.slider,
        keys.REWARD_BOOST: at.slider,
        keys.METRIC: at.selectbox,
        keys.WEIGHTING: at.selectbox,
        keys.VALUE: at.selectbox,
        keys.EXCLUDE_PURCHASED: at.checkbox,
    }
    for key, value in settings.items():
        widgets[key](key=key).set_value(value)
    at.button(key="FormSubmitter:train_form-Train model").click().run()


def test_model_page_shows_the_active_model():
    at = start_app(MODEL_PAGE)
    assert at.title[0].value == "Model"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Matrix"] == "2,000 × 150"
    fig = charts(at)["chart_similarity"]
    assert fig["data"][0]["type"] == "histogram"
    assert "Similarity" in fig["layout"]["xaxis"]["title"]["text"]
    assert at.slider(key=keys.K).value == 20


def test_changing_a_widget_does_not_retrain():
    at = start_app(MODEL_PAGE)
    before = state(at, keys.PIPELINE)
    at.slider(key=keys.K).set_value(7).run()
    assert state(at, keys.PIPELINE) is before


def test_training_with_non_default_k_and_metric():
    at = start_app(MODEL_PAGE)
    train(at, **{keys.K: 15, keys.METRIC: "euclidean", keys.WEIGHTING: "tfidf"})
    assert not at.exception and not at.error
    pipeline = state(at, keys.PIPELINE)
    assert pipeline.params.n_neighbors == 15
    assert pipeline.params.metric == "euclidean"
    assert pipeline.params.weighting == "tfidf"
    assert any(
        "Model ready" in s and "k=15" in s and "trained in" in s for s in texts(at, "success")
    )
    assert charts(at)["chart_similarity"]["layout"]["title"]["text"].endswith("(euclidean)")
    # (The sidebar is checked on the first run only: AppTest 1.67 drops sidebar elements of
    # st.navigation apps on reruns; the browser test checks it in a real page.)


def test_repeated_configuration_is_served_from_the_cache():
    at = start_app(MODEL_PAGE)
    train(at, **{keys.K: 12, keys.METRIC: "manhattan"})
    first = state(at, keys.PIPELINE)
    train(at, **{keys.K: 20, keys.METRIC: "cosine"})
    train(at, **{keys.K: 12, keys.METRIC: "manhattan"})
    assert state(at, keys.PIPELINE) is first  # the very same fitted object
    assert any("served from the cache" in s for s in texts(at, "success"))


def test_save_to_the_model_store(model_dir: Path):
    at = start_app(MODEL_PAGE)
    at.text_input(key=keys.SAVE_NAME).set_value("campaign-k20").run()
    at.button(key="save_model").click().run()
    assert not at.exception and not at.error
    assert (model_dir / "campaign-k20.joblib").is_file()
    assert any("Saved as **campaign-k20**" in s for s in texts(at, "success"))
    # Saving again under the same name without "replace" is a friendly error.
    at.button(key="save_model").click().run()
    assert not at.exception
    assert any("already exists" in e for e in texts(at, "error"))
    at.switch_page(STORE_PAGE).run()
    assert "campaign-k20" in at.dataframe[0].value["name"].tolist()


def test_invalid_model_name_is_an_error_not_a_traceback():
    at = start_app(MODEL_PAGE)
    at.text_input(key=keys.SAVE_NAME).set_value("../escape").run()
    at.button(key="save_model").click().run()
    assert not at.exception
    assert any("not a valid model name" in e for e in texts(at, "error"))


def test_download_button_for_the_model():
    at = start_app(MODEL_PAGE)
    assert at.get("download_button")[0].proto.label == "Download model (.joblib)"


def test_reward_boost_is_a_training_setting():
    at = start_app(MODEL_PAGE)
    train(at, **{keys.REWARD_BOOST: 0.5})
    assert not at.exception and not at.error
    pipeline = state(at, keys.PIPELINE)
    assert pipeline.params.reward_boost == 0.5
    assert pipeline.params.n_neighbors == 20  # the other settings are kept
