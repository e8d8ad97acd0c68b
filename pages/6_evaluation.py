"""Evaluation: how well each model finds held-out purchases; tune settings; apply the winner."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, render, state
from dashboard.views import evaluation as view

st.title("Evaluation")
st.caption(view.EXPLANATION)

dataset = render.require_dataset()

c1, c2, c3, c4, c5 = st.columns(5)
n = c1.number_input(
    "Recommendations per customer (N)", 1, 50, 10, key=state.EVAL_N, help="Top-N list length."
)
test_fraction = c2.slider(
    "Share of each customer's products hidden",
    0.1,
    0.5,
    0.2,
    0.05,
    key=state.EVAL_TEST_FRACTION,
    help="The most recently discovered products are hidden (at least one per customer).",
)
min_products = c3.number_input(
    "Minimum distinct products per customer",
    2,
    100,
    5,
    key=state.EVAL_MIN_PRODUCTS,
    help="Customers with fewer distinct products are not evaluated.",
)
sample = c4.number_input(
    "Customers evaluated",
    100,
    10_000_000,
    view.SAMPLE_DEFAULT,
    1_000,
    key=state.EVAL_SAMPLE,
    help="A seeded random sample of the customers with enough products is scored, the same "
    "customers for every model. Larger is more precise and slower; at least the number of "
    "customers evaluates everyone.",
)
train_sample = c5.number_input(
    "Customers trained on",
    100,
    100_000_000,
    view.TRAIN_SAMPLE_DEFAULT,
    10_000,
    key=state.EVAL_TRAIN_SAMPLE,
    help="The purchases of a seeded random sample of this many customers are split and train "
    "every model (the evaluated customers are drawn from them), so a run at a million "
    "customers costs about what it costs at 100,000. At least the number of customers uses "
    "everyone.",
)
req = view.active(state.EVAL_REQUEST, dataset)
left = view.remaining(req) if req is not None else []
b1, b2, b3, _ = st.columns([2, 1.2, 1.6, 0.2])
evaluate = b1.button(
    "Evaluate current model settings against baselines",
    key="run_evaluation",
    type="primary",
    icon=":material/leaderboard:",
)
tune = b2.button("Tune settings", key="run_tuning", icon=":material/tune:")
resume_slot = b3.empty()  # emptied once the evaluation has finished
resume = bool(left) and resume_slot.button(
    f"Finish the evaluation ({len(left)} left)",
    key="resume_evaluation",
    icon=":material/play_arrow:",
)
if evaluate or tune:
    req = view.request(
        dataset, int(n), float(test_fraction), int(min_products), int(sample), int(train_sample)
    )
    view.require_enough_products(dataset, req["min_products"])
    st.session_state[state.EVAL_REQUEST] = req
    st.session_state[state.TUNE_REQUEST] = req if tune else view.active(state.TUNE_REQUEST, dataset)

if req is None:
    st.info(
        "Press **Evaluate** to compare the active model's settings with the baselines (a few "
        "seconds on the sample data), or **Tune settings** to search for better ones first. "
        f"Each model is trained on the purchases of a seeded sample of up to "
        f"{int(train_sample):,} customers (*Customers trained on*) and scored on a seeded "
        f"sample of up to {int(sample):,} customers drawn from them (*Customers evaluated*).",
        icon=":material/leaderboard:",
    )
    st.stop()
with render.user_errors(stop=True):
    if evaluate or tune or resume:
        view.evaluate_streaming(dataset, req)
    left = view.remaining(req)
    if left:
        view.stopped_notice(req, left)
        st.stop()
    resume_slot.empty()
    res = view.run(dataset, req, view.active(state.TUNE_REQUEST, dataset))
N = req["n"]

st.subheader(f"Results at N = {N}")
view.split_notices(res)
view.headline(res, N)

left, right = st.columns([3, 2])
left.plotly_chart(charts.metrics_by_model(res.table, n=N), key="chart_eval_metrics")
right.markdown(view.definitions(N))
c1, c2 = st.columns(2)
c1.plotly_chart(charts.k_curve(res.curve, n=N), key="chart_eval_k")
c1.caption(f"From the {res.curve_source}. Coverage: share of the catalogue recommended.")
c2.plotly_chart(charts.precision_recall_tradeoff(res.tradeoff), key="chart_eval_tradeoff")
c2.caption("Longer lists find more hidden products (recall) but a smaller share of slots hit.")
st.plotly_chart(charts.segment_ndcg(res.segments, n=N), key="chart_eval_segments")

if res.sweep is not None:
    st.subheader("Tuned settings")
    st.caption(
        f"{view.n_settings_tried(res.sweep)} settings tried on a validation split "
        f"carved from the training data in {res.sweep.seconds:.1f} s; the best NDCG@{N} per "
        "model was then scored once on the test split (95 % intervals: customers resampled)."
    )
    view.tuned_tables(res.sweep)

best, source, note = view.best_user_knn(req["params"], res.sweep, res.curve)
st.markdown(f"**Best user-kNN settings for the Model page** ({source}): {best.label()}.")
if note:
    st.caption(note)
if st.button("Use these settings on the Model page", key="use_settings", icon=":material/send:"):
    view.apply_to_model_page(best, source)

st.subheader("All results")
view.results_table(res.table, N)
view.verdict_lines(res.main, N, list(res.table["params"]))
st.caption("The CSV also has the number of customers evaluated per model.")
st.download_button(
    "Download results (CSV)",
    data=view.csv_bytes(res.table, N),
    file_name=f"evaluation-{dataset.name}-n{N}.csv",
    mime="text/csv",
    key="download_evaluation",
    icon=":material/download:",
    on_click="ignore",
)
