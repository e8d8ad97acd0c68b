"""AppTest: the Evaluation page (holdout evaluation, tuning, settings sent to the Model page)."""

from __future__ import annotations

from collections import Counter

import pytest
import streamlit as st

from dashboard import cache
from dashboard import charts as charts_module
from dashboard import state as keys
from dashboard.views import evaluation as view
from recsys.evaluation import runner
from recsys.evaluation.results import EvaluationResult
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from tests.dashboard_fixtures import (
    DATA_PAGE,
    MODEL_PAGE,
    charts,
    dataframes,
    model_dir_fixture,  # noqa: F401 - provides the model_dir fixture
    start_app,
    state,
    texts,
    values,
)

pytestmark = pytest.mark.usefixtures("model_dir")

EVALUATION_PAGE = "pages/6_evaluation.py"
CHART_KEYS = {"chart_eval_metrics", "chart_eval_k", "chart_eval_tradeoff", "chart_eval_segments"}


def evaluated(**widgets):
    """The Evaluation page on the sample data after pressing Evaluate (widgets set first)."""
    at = start_app(EVALUATION_PAGE)
    for key, value in widgets.items():
        at.number_input(key=key).set_value(value)
    at.button(key="run_evaluation").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def undated_purchases_csv() -> bytes:
    """Purchases without dates: 8 customers x 6 products of 10, in two taste groups."""
    rows = ["customer_id,product_id"]
    for c in range(8):
        offset = 0 if c < 4 else 4
        rows += [f"C{c},P{(offset + i) % 10}" for i in range(6)]
    return ("\n".join(rows) + "\n").encode()


def test_guard_when_no_data_is_loaded():
    at = start_app()
    at.session_state[keys.DATASET] = None
    at.session_state[keys.PIPELINE] = None
    at.switch_page(EVALUATION_PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Evaluation"
    assert any("No data loaded yet" in s for s in texts(at, "info"))
    assert not at.button  # nothing to evaluate: no controls below the guard


def test_page_explains_the_holdout_and_waits_for_the_button():
    at = start_app(EVALUATION_PAGE)
    assert "temporal holdout" in at.caption[0].value
    assert at.number_input(key=keys.EVAL_N).value == 10
    assert at.slider(key=keys.EVAL_TEST_FRACTION).value == 0.2
    assert at.number_input(key=keys.EVAL_MIN_PRODUCTS).value == 5
    assert any("Press **Evaluate**" in s for s in texts(at, "info"))
    assert not charts(at)


def test_evaluation_compares_the_current_settings_with_baselines():
    at = evaluated()
    assert not at.error
    table = dataframes(at)[-1]
    assert table["model"].tolist() == [
        "User-kNN",
        "Item-kNN",
        "RP3beta",
        "EASE",
        "ALS",
        "Popularity",
        "Popularity in segment",
    ]
    assert table.loc[0, "settings"] == ModelParams().label()  # the app's default model
    knn, pop = table.set_index("model").loc[["User-kNN", "Popularity"], "ndcg"]
    assert knn > 1.5 * pop  # the sample data's segments share tastes
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["User-kNN vs popularity"].endswith("× popularity")
    assert float(metrics["User-kNN vs popularity"].split("×")[0]) > 1.5
    assert any("1,830 of 2,000 customers evaluated" in c.value for c in at.caption)
    # Every number has its 95 % interval beside it, and the best model is compared with each
    # other one in a sentence.
    assert all(text.endswith(" %") for text in table["ndcg_ci"])
    assert all(text.endswith(" %") for text in table["coverage_ci"])
    lines = [m.value for m in at.markdown if m.value.startswith("- **")]
    assert len(lines) == len(table) - 1
    assert all("ahead of" in line or "not distinguishable" in line for line in lines)
    # The plain-words definitions sit next to the charts.
    definitions = " ".join(m.value for m in at.markdown)
    assert "hits / 10" in definitions and "Coverage" in definitions


def test_one_evaluate_click_fits_each_configuration_once_for_every_n_and_view(monkeypatch):
    """The comparison, the k curve and the trade-off across N all read one evaluation."""
    at = start_app(EVALUATION_PAGE)
    fits: Counter[ModelParams] = Counter()
    make_model = runner.factory.make_model

    def counting(params: ModelParams):
        fits[params] += 1
        return make_model(params)

    monkeypatch.setattr(runner.factory, "make_model", counting)
    st.cache_data.clear()
    at.button(key="run_evaluation").click().run()
    assert not at.exception and not at.error
    expected = view.page_configs(state(at, keys.PIPELINE).params)
    # Each once: 7 compared models + the curve's k=5, 10, 20, 50, 100, 500 (the default's k=200
    # is the compared user-kNN).
    assert fits == Counter(expected)
    assert len(expected) == 13 and set(fits.values()) == {1}
    # Results at another N the page already scores come from the same cached evaluation.
    at.number_input(key=keys.EVAL_N).set_value(5)
    at.button(key="run_evaluation").click().run()
    assert not at.exception and at.subheader[0].value == "Results at N = 5"
    assert sum(fits.values()) == 13


def test_evaluation_charts_have_a_trace_per_model_and_axis_titles():
    at = evaluated()
    figs = charts(at)
    assert CHART_KEYS <= set(figs)
    for key in CHART_KEYS:
        layout = figs[key]["layout"]
        assert layout["title"]["text"], key
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"], key
        assert all(trace.get("hovertemplate") for trace in figs[key]["data"]), key
    bars = figs["chart_eval_metrics"]
    names = [t["name"] for t in bars["data"]]
    assert names == [
        "User-kNN", "Popularity", "Popularity in segment", "Item-kNN", "RP3beta", "EASE", "ALS"
    ]  # fmt: skip
    assert list(bars["data"][0]["x"]) == [
        "Precision@10",
        "Recall@10",
        "NDCG@10",
        "MAP@10",
        "Hit rate@10",
    ]
    assert "%" in bars["layout"]["yaxis"]["title"]["text"]
    # k curve: NDCG and coverage at k in (5, ..., 500) around the default's 200, coverage on the
    # right axis.
    curve = figs["chart_eval_k"]
    assert values(curve["data"][0]["x"]) == [5, 10, 20, 50, 100, 200, 500]
    assert curve["data"][1]["yaxis"] == "y2"
    # Trade-off across N: user-kNN and popularity, one point per N, same colours as the bars.
    tradeoff = figs["chart_eval_tradeoff"]
    assert [t["name"] for t in tradeoff["data"]] == ["User-kNN", "Popularity"]
    assert list(tradeoff["data"][0]["text"]) == ["N=1", "N=3", "N=5", "N=10", "N=20"]
    colour = {t["name"]: t["marker"]["color"] for t in bars["data"]}
    assert tradeoff["data"][0]["line"]["color"] == colour["User-kNN"]
    # Per-segment NDCG: one group per segment of the sample data.
    segments = figs["chart_eval_segments"]
    assert len(segments["data"]) == 7  # one trace per model compared
    assert len(segments["data"][0]["x"]) >= 3


def test_results_are_downloadable_as_csv():
    at = evaluated()
    button = at.get("download_button")[0]
    assert button.proto.label == "Download results (CSV)"


def test_tuning_shows_the_chosen_settings_and_beats_popularity():
    at = start_app(EVALUATION_PAGE)
    at.button(key="run_tuning").click().run()
    assert not at.exception and not at.error
    tuned = next(df for df in dataframes(at) if "chosen settings" in df)
    assert {"User-kNN", "Item-kNN", "EASE", "Popularity"} <= set(tuned["model"])
    knn = tuned.set_index("model").loc["User-kNN"]
    pop = tuned.set_index("model").loc["Popularity"]
    assert knn["test NDCG@10"] > 1.5 * pop["test NDCG@10"]
    metrics = {m.label: m for m in at.metric}
    assert "Tuned user-kNN NDCG@10" in metrics
    assert "validation split" in " ".join(c.value for c in at.caption)
    assert tuned["test NDCG@10 95 % interval"].str.endswith(" %").all()
    assert {"RP3beta", "ALS"} <= set(tuned["model"])
    assert any("(tuning)" in m.value for m in at.markdown)
    # Per model, whether tuning kept its default, and why.
    said = [m.value for m in at.markdown]
    assert any(v.startswith("- user_knn: switched from the default") for v in said)
    assert any(v.startswith("- ease: kept the default settings") for v in said)


def test_use_these_settings_applies_the_tuned_best_and_trains_it():
    at = start_app(EVALUATION_PAGE)
    at.button(key="run_tuning").click().run()
    before = state(at, keys.PIPELINE)
    dataset = state(at, keys.DATASET)
    # The sweep the page ran (default grid, default split), served by the page's cache.
    tuned = cache.tuning(dataset.fingerprint, dataset, 10, 0.2, 5).best["user_knn"]
    expected = view.tuned_onto(before.params, tuned)
    assert (expected.n_neighbors, expected.similarity_power) == (200, 2.0)  # beyond the old form
    assert not any("outside what the Model page" in c.value for c in at.caption)
    at.button(key="use_settings").click().run()
    assert not at.exception
    assert at.title[0].value == "Model"
    notice = state(at, keys.PAGE_NOTICE)
    assert "applied" in notice and "Train model" in notice
    assert "k = 200, similarity power 2," in notice
    assert state(at, keys.PIPELINE) is before  # nothing is trained until Train is pressed
    # AppTest reruns the page it last switched to itself, not the one st.switch_page opened:
    # open the Model page explicitly, then train the applied settings with its button.
    at.switch_page(MODEL_PAGE).run()
    assert not at.exception and not at.error
    assert at.slider(key=keys.K).value == 200
    assert at.select_slider(key=keys.SIMILARITY_POWER).value == 2.0
    assert at.selectbox(key=keys.WEIGHTING).value == tuned.weighting
    assert at.slider(key=keys.MIN_SIMILARITY).value == tuned.min_similarity
    assert any("sent from the Evaluation page" in c.value for c in at.caption)
    at.button(key="FormSubmitter:train_form-Train model").click().run()
    assert not at.exception and not at.error
    assert state(at, keys.PIPELINE).params == expected
    assert state(at, keys.APPLIED_PARAMS) is None  # the form follows the trained model now
    assert {m.label: m.value for m in at.metric}["Model"] == "k=200, cosine, power 2"


def test_applied_settings_replace_a_model_of_another_kind():
    """Applied user-kNN settings train user-kNN, even when the active model is another kind."""
    at = start_app()
    ease = ModelParams(model="ease", l2=50.0, reward_boost=0.2)
    at.session_state[keys.PIPELINE] = RecommenderPipeline(ease).fit(state(at, keys.DATASET))
    at.switch_page(EVALUATION_PAGE).run()
    at.button(key="run_evaluation").click().run()
    at.button(key="use_settings").click().run()
    at.switch_page(MODEL_PAGE).run()
    at.button(key="FormSubmitter:train_form-Train model").click().run()
    assert not at.exception and not at.error
    params = state(at, keys.PIPELINE).params
    assert params.model == "user_knn" and params.reward_boost == 0.2


def test_too_few_products_is_an_error_with_a_fix():
    at = evaluated(**{keys.EVAL_MIN_PRODUCTS: 100})
    errors = texts(at, "error")
    assert any("No customer has 100 or more" in e and "Fix" in e for e in errors)
    assert not charts(at)


def test_undated_upload_states_the_random_split():
    at = start_app(DATA_PAGE)
    at.file_uploader(key=f"{keys.UPLOAD_PREFIX}purchases").set_value(
        ("undated.csv", undated_purchases_csv(), "text/csv")
    )
    at.run()
    at.button(key="load_upload").click().run()
    assert state(at, keys.DATASET).name == "undated"
    at.switch_page(EVALUATION_PAGE).run()
    at.button(key="run_evaluation").click().run()
    assert not at.exception and not at.error
    assert any("no dates" in s and "at random" in s for s in texts(at, "info"))
    # Without customer segments, segment popularity is skipped with the reason.
    assert any("Popularity in segment was not evaluated" in s for s in texts(at, "info"))
    assert "No customer segments" in str(charts(at)["chart_eval_segments"]["layout"])


def test_evaluation_trains_on_a_seeded_sample_of_customers_and_says_so():
    at = start_app(EVALUATION_PAGE)
    at.number_input(key=keys.EVAL_TRAIN_SAMPLE).set_value(1000)
    at.button(key="run_evaluation").click().run()
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    assert any(
        "seeded random sample of 1,000 of the 2,000 customers" in c and "train" in c
        for c in captions
    ), captions


def test_model_page_is_reachable_after_an_evaluation():
    at = evaluated()
    at.switch_page(MODEL_PAGE).run()
    assert not at.exception and at.title[0].value == "Model"


def test_evaluation_scores_a_seeded_sample_of_customers_and_says_so():
    at = start_app(EVALUATION_PAGE)
    assert at.number_input(key=keys.EVAL_SAMPLE).value == view.SAMPLE_DEFAULT
    assert any(f"up to {view.SAMPLE_DEFAULT:,} customers" in s for s in texts(at, "info"))
    assert at.number_input(key=keys.EVAL_TRAIN_SAMPLE).value == view.TRAIN_SAMPLE_DEFAULT
    assert any(f"up to {view.TRAIN_SAMPLE_DEFAULT:,} customers" in s for s in texts(at, "info"))
    at.number_input(key=keys.EVAL_SAMPLE).set_value(500)
    at.button(key="run_evaluation").click().run()
    assert not at.exception and not at.error
    # 1,830 of the sample's 2,000 customers have 5 distinct products; 500 of them are scored.
    assert any(
        "sample of 500 customers" in c.value and "1,830" in c.value and "2,000" in c.value
        for c in at.caption
    )
    main = EvaluationResult.combine(list(state(at, keys.EVAL_RESULTS)["results"].values()))
    assert set(main.table(10)["n_customers"]) == {500.0}
    assert main.split["customers_evaluated"] == 500 and main.split["customers_eligible"] == 1830


def test_a_stopped_evaluation_keeps_what_finished_and_only_runs_the_rest(monkeypatch):
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    at = start_app(EVALUATION_PAGE)
    configs = view.page_configs(state(at, keys.PIPELINE).params)
    fits: Counter[ModelParams] = Counter()
    make_model = runner.factory.make_model
    stop_at = {"fit": 4}  # the 4th fit is "stopped" (what Stop raises inside the script)

    def counting(params: ModelParams):
        fits[params] += 1
        if sum(fits.values()) == stop_at["fit"]:
            raise StopException()
        return make_model(params)

    monkeypatch.setattr(runner.factory, "make_model", counting)
    at.button(key="run_evaluation").click().run()
    assert not at.exception
    kept = state(at, keys.EVAL_RESULTS)["results"]
    assert list(kept) == list(configs[:3])  # stored as each finished

    at.run()  # the next rerun shows what finished, and does not restart by itself
    assert not at.exception
    assert any(f"stopped after 3 of {len(configs)}" in w for w in texts(at, "warning"))
    first_three = [charts_module.model_label(p.model) for p in configs[:3]]
    partial_table = dataframes(at)[-1]
    assert partial_table["Model"].tolist() == first_three
    assert sum(fits.values()) == 4

    stop_at["fit"] = 0
    at.button(key="resume_evaluation").click().run()
    assert not at.exception and not at.error
    assert fits == Counter({**{p: 1 for p in configs}, configs[3]: 2})  # the rest, once each
    assert at.subheader[0].value == "Results at N = 10"
    assert dataframes(at)[-1]["model"].tolist()[:3] == first_three
    assert not at.get("button") or not any(b.key == "resume_evaluation" for b in at.button)
