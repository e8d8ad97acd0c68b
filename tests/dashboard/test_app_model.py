"""AppTest: the Model page (train on a button, cache, what was trained, save, boost trade-off)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from dashboard import state as keys
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from tests.dashboard_fixtures import (
    CUSTOMER_PAGE,
    MODEL_PAGE,
    STORE_PAGE,
    charts,
    start_app,
    state,
    texts,
    values,
)


def train(at, **settings) -> None:
    """Set the form widgets and press Train."""
    widgets = {
        keys.K: at.slider,
        keys.SIMILARITY_POWER: at.select_slider,
        keys.MIN_SIMILARITY: at.slider,
        keys.POPULARITY_PENALTY: at.slider,
        keys.ASYMMETRY: at.slider,
        keys.SHRINK: at.number_input,
        keys.HALF_LIFE: at.number_input,
        keys.REWARD_BOOST: at.slider,
        keys.METRIC: at.selectbox,
        keys.WEIGHTING: at.selectbox,
        keys.VALUE: at.selectbox,
        keys.EXCLUDE_PURCHASED: at.checkbox,
        keys.MODEL_KIND: at.selectbox,
        keys.ALPHA: at.number_input,
        keys.BETA: at.number_input,
        keys.L2: at.number_input,
        keys.FACTORS: at.number_input,
        keys.REGULARIZATION: at.number_input,
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
    assert at.slider(key=keys.K).value == ModelParams().n_neighbors  # the app's default model
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


def test_model_name_follows_the_trained_settings(model_dir: Path):
    at = start_app(MODEL_PAGE)
    assert at.text_input(key=keys.SAVE_NAME).value == f"sample-k{ModelParams().n_neighbors}-cosine"
    train(at, **{keys.K: 30})
    assert at.text_input(key=keys.SAVE_NAME).value == "sample-k30-cosine"
    # A name typed by hand stays while the model does ...
    at.text_input(key=keys.SAVE_NAME).set_value("my-campaign").run()
    at.checkbox(key=keys.SAVE_OVERWRITE).check().run()
    assert at.text_input(key=keys.SAVE_NAME).value == "my-campaign"
    # ... and after the next training the field names the new model, which is saved under it.
    train(at, **{keys.K: 40, keys.METRIC: "manhattan"})
    assert at.text_input(key=keys.SAVE_NAME).value == "sample-k40-manhattan"
    at.button(key="save_model").click().run()
    assert not at.exception and not at.error
    assert (model_dir / "sample-k40-manhattan.joblib").is_file()
    # Back from another page, the field is filled again (its widget state was dropped).
    at.switch_page(CUSTOMER_PAGE).run()
    at.switch_page(MODEL_PAGE).run()
    assert at.text_input(key=keys.SAVE_NAME).value == "sample-k40-manhattan"


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
    assert pipeline.params == ModelParams(reward_boost=0.5)  # the other settings are kept


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


def test_training_with_a_similarity_power_and_k_beyond_100():
    at = start_app(MODEL_PAGE)
    power = at.select_slider(key=keys.SIMILARITY_POWER)
    assert power.value == ModelParams().similarity_power
    assert power.options == ["0.5", "1", "1.5", "2", "3"]
    plain = {keys.ASYMMETRY: 0.5, keys.POPULARITY_PENALTY: 0.0}  # plain cosine, stated
    train(at, **{keys.K: 250, keys.SIMILARITY_POWER: 2.0}, **plain)
    assert not at.exception and not at.error
    assert state(at, keys.PIPELINE).params == ModelParams(
        n_neighbors=250, similarity_power=2.0, asymmetry=0.5, popularity_penalty=0.0
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Model"] == "k=250, cosine, power 2"
    assert any("k=250" in s and "power=2" in s for s in texts(at, "success"))
    # The form keeps showing what was trained.
    assert at.slider(key=keys.K).value == 250
    assert at.select_slider(key=keys.SIMILARITY_POWER).value == 2.0


def test_training_keeps_the_settings_the_form_does_not_show():
    at = start_app()
    ease = ModelParams(model="ease", l2=50.0, similarity_power=2.5)
    at.session_state[keys.PIPELINE] = RecommenderPipeline(ease).fit(state(at, keys.DATASET))
    at.switch_page(MODEL_PAGE).run()
    assert not at.exception
    # A power off the usual options (e.g. a model trained elsewhere) is offered as well.
    assert "2.5" in at.select_slider(key=keys.SIMILARITY_POWER).options
    train(at, **{keys.K: 30})
    assert state(at, keys.PIPELINE).params == replace(ease, n_neighbors=30)


def test_form_widgets_take_their_values_from_session_state_without_a_warning(monkeypatch):
    """The form's values are initialised in session state (from the active model, or as "use
    these settings" left them), and its widgets take no ``value=``.

    Streamlit warns when a widget gets ``value=`` while its key was set in session state in the
    same run; the check only runs under a server runtime, so the test pretends there is one.
    """
    from streamlit.elements.lib import policies

    logged: list[str] = []
    monkeypatch.setattr(policies, "runtime", SimpleNamespace(exists=lambda: True))
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda msg, *a, **kw: logged.append(msg % a))
    at = start_app(MODEL_PAGE)
    defaults = ModelParams()  # the app's default model
    assert at.slider(key=keys.K).value == defaults.n_neighbors  # initialised from the active model
    assert at.select_slider(key=keys.SIMILARITY_POWER).value == defaults.similarity_power
    at.switch_page(CUSTOMER_PAGE).run()
    assert keys.K not in at.session_state  # leaving the page forgets the form's widget values
    at.session_state[keys.K] = 150
    at.session_state[keys.SIMILARITY_POWER] = 2.0
    at.switch_page(MODEL_PAGE).run()
    assert not at.exception
    assert not [m for m in logged if "default value" in m], logged
    assert at.slider(key=keys.K).value == 150
    assert at.select_slider(key=keys.SIMILARITY_POWER).value == 2.0
    assert at.selectbox(key=keys.METRIC).value == "cosine"  # the rest from the active model


def test_every_model_is_offered_and_rp3beta_trains_with_its_settings():
    at = start_app(MODEL_PAGE)
    box = at.selectbox(key=keys.MODEL_KIND)
    assert box.value == "user_knn"
    assert list(box.options) == ["User-kNN", "Item-kNN", "RP3beta", "EASE", "ALS", "Popularity"]
    train(at, **{keys.MODEL_KIND: "rp3beta", keys.K: 40, keys.ALPHA: 0.7, keys.BETA: 0.25})
    assert not at.exception and not at.error
    params = state(at, keys.PIPELINE).params
    assert (params.model, params.n_neighbors, params.alpha, params.beta) == (
        "rp3beta", 40, 0.7, 0.25
    )  # fmt: skip
    assert {m.label: m.value for m in at.metric}["Model"] == "RP3beta, k=40, α 0.7, β 0.25"
    assert any("Model ready: rp3beta k=40 alpha=0.7 beta=0.25" in s for s in texts(at, "success"))


def test_als_trains_from_the_form_and_recommends():
    at = start_app(MODEL_PAGE)
    train(at, **{keys.MODEL_KIND: "als", keys.FACTORS: 16, keys.REGULARIZATION: 0.5})
    assert not at.exception and not at.error
    pipeline = state(at, keys.PIPELINE)
    assert (pipeline.params.model, pipeline.params.factors) == ("als", 16)
    assert pipeline.params.regularization == 0.5
    customer = str(pipeline.customer_ids[0])
    assert len(pipeline.recommend(customer, n=5)) == 5


def test_ease_trains_with_the_l2_from_the_form():
    at = start_app(MODEL_PAGE)
    before = state(at, keys.PIPELINE)
    train(at, **{keys.MODEL_KIND: "ease", keys.L2: 50.0})
    assert not at.exception and not at.error
    pipeline = state(at, keys.PIPELINE)
    assert pipeline is not before and (pipeline.params.model, pipeline.params.l2) == ("ease", 50.0)
    assert {m.label: m.value for m in at.metric}["Model"] == "EASE, l2 50"


def test_neighbourhood_settings_train_and_show_with_cosine():
    at = start_app(MODEL_PAGE)
    defaults = ModelParams()
    assert at.slider(key=keys.ASYMMETRY).value == defaults.asymmetry
    assert at.slider(key=keys.POPULARITY_PENALTY).value == defaults.popularity_penalty
    assert at.number_input(key=keys.SHRINK).value == defaults.shrink
    settings = {keys.METRIC: "cosine", keys.K: 30, keys.SIMILARITY_POWER: 2.0}
    train(at, **settings, **{keys.ASYMMETRY: 0.7, keys.SHRINK: 3.0, keys.POPULARITY_PENALTY: 0.3})
    assert not at.exception and not at.error
    params = state(at, keys.PIPELINE).params
    assert (params.asymmetry, params.shrink, params.popularity_penalty) == (0.7, 3.0, 0.3)
    model = state(at, keys.PIPELINE).model_
    assert (model.asymmetry, model.shrink, model.popularity_penalty) == (0.7, 3.0, 0.3)
    summary = {m.label: m.value for m in at.metric}["Model"]
    assert summary == "k=30, cosine, power 2, asymmetry 0.7, shrink 3, penalty 0.3"


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_cosine_only_settings_never_break_another_metric(metric):
    # Asymmetry and shrinkage left at cosine values (the defaults or set by hand) are not an
    # error with another metric: its settings carry their neutral values.
    at = start_app(MODEL_PAGE)
    train(at, **{keys.METRIC: metric, keys.K: 15, keys.SIMILARITY_POWER: 1.0,
                 keys.ASYMMETRY: 0.6, keys.SHRINK: 5.0, keys.POPULARITY_PENALTY: 0.2})  # fmt: skip
    assert not at.exception and not at.error
    params = state(at, keys.PIPELINE).params
    assert (params.metric, params.asymmetry, params.shrink) == (metric, 0.5, 0.0)
    assert params.popularity_penalty == 0.2  # the penalty applies to every metric
    assert {m.label: m.value for m in at.metric}["Model"] == f"k=15, {metric}, penalty 0.2"
    assert any("Model ready" in s and metric in s for s in texts(at, "success"))


def test_time_decay_trains_from_the_form_and_is_named():
    at = start_app(MODEL_PAGE)
    assert at.number_input(key=keys.HALF_LIFE).value == ModelParams().half_life_days
    train(at, **{keys.HALF_LIFE: 90.0})
    assert not at.exception and not at.error
    pipeline = state(at, keys.PIPELINE)
    assert pipeline.params == ModelParams(half_life_days=90.0)
    assert any("half_life=90d" in s for s in texts(at, "success"))


def test_time_decay_without_dates_is_an_error_not_a_traceback():
    at = start_app()
    frame = state(at, keys.DATASET).purchases.drop(columns="purchase_date").head(3000)
    from recsys.data.dataset import load_dataset

    at.session_state[keys.DATASET] = load_dataset(frame.to_csv(index=False).encode())
    at.switch_page(MODEL_PAGE).run()
    train(at, **{keys.HALF_LIFE: 30.0})
    assert not at.exception
    assert any("needs purchase dates" in e for e in texts(at, "error"))
