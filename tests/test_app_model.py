"""AppTest: the Model page (train on a button, cache, what was trained, save, boost trade-off)."""

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
    values,
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
    # The histogram is the public core method's sample, nothing computed in the dashboard.
    expected = state(at, keys.PIPELINE).neighbor_similarities(sample=1000)
    assert values(fig["data"][0]["x"]) == pytest.approx(expected.tolist())


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


def test_reward_boost_tradeoff_runs_on_a_button_and_marks_the_active_boost():
    at = start_app(MODEL_PAGE)
    assert "chart_tradeoff" not in charts(at)  # nothing runs before the button
    assert any("Measure the trade-off" in i for i in texts(at, "info"))
    train(at, **{keys.REWARD_BOOST: 0.3})
    at.button(key="run_tradeoff").click().run()
    assert not at.exception and not at.error
    fig = charts(at)["chart_tradeoff"]
    ndcg, coverage = fig["data"]
    assert ndcg["name"] == "NDCG@10" and coverage["name"] == "Offer coverage"
    boosts = values(ndcg["x"])
    assert boosts == pytest.approx([round(0.1 * i, 1) for i in range(11)])
    assert len(values(ndcg["y"])) == len(values(coverage["y"])) == 11
    assert coverage["yaxis"] == "y2"
    cover = values(coverage["y"])
    assert cover[-1] > cover[0]  # more exposure to offers as the boost grows
    assert [s["x0"] for s in fig["layout"]["shapes"]] == [0.3]  # the active model's boost
    sentence = next(m.value for m in at.markdown if m.value.startswith("Each 0.1 step"))
    assert "points of offer coverage" in sentence and "NDCG@10" in sentence
    assert "The active model (boost 0.3)" in sentence
    steps = next(df for df in at.dataframe if "ndcg_cost" in df.value.columns).value
    assert len(steps) == 10
    # Another boost is the same measurement (served from the cache), only the mark moves.
    train(at, **{keys.REWARD_BOOST: 0.6})
    assert [s["x0"] for s in charts(at)["chart_tradeoff"]["layout"]["shapes"]] == [0.6]
    # Other model settings: the old measurement no longer applies until asked for again.
    train(at, **{keys.K: 10})
    assert "chart_tradeoff" not in charts(at)
