"""Data: load the sample or upload CSV/Parquet files, see the validation report and a profile."""

from __future__ import annotations

import streamlit as st

from dashboard import actions, cache, charts, render, state
from dashboard.views import data as view

st.title("Data")
st.caption(
    "Upload your purchase lines (required) and, optionally, reward offers, customer attributes, "
    "a product catalogue and the offers already redeemed, as CSV or Parquet. Columns are "
    "recognised by name; map them by hand when they are not (or set a wrongly recognised one to "
    "“(not in file)”). A file with problems is rejected with a report of what to fix, and the "
    "data already loaded stay active. Accepted data are used to train the model at once."
)

with st.container(border=True):
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown("**Upload files** — or start from the bundled sample of card-spend data.")
    if right.button(
        "Use sample data", key="use_sample", icon=":material/dataset:", width="stretch"
    ):
        with render.user_errors():
            actions.load_sample_and_train()

    files, column_maps = view.upload_widgets()
    has_purchases = view.has_purchases(files)
    if st.button(
        "Load uploaded files",
        key="load_upload",
        type="primary",
        disabled=not has_purchases,
        icon=":material/publish:",
        help=None if has_purchases else "Upload a purchases file first.",
    ):
        with st.status("Loading the files …", expanded=True) as status, render.user_errors():
            # The label names the step that runs; the training's own bar shows inside.
            pipeline = actions.load_upload(
                files, column_maps, step=lambda message: status.update(label=f"{message} …")
            )
            status.update(
                label="Loaded and trained" if pipeline else "Files rejected",
                state="complete" if pipeline else "error",
                expanded=False,
            )

error = state.get(state.LAST_LOAD_ERROR)
if error is not None:
    render.show_error(error)
elif state.get(state.LAST_LOAD_OK):  # shown once, right after the load
    message = st.session_state.pop(state.LAST_LOAD_OK)
    st.success(f"{message} The model was retrained on it.", icon=":material/check_circle:")

dataset = render.require_dataset()
data = cache.data_profile(dataset.fingerprint, dataset)
summary = data["summary"]

st.subheader(f"Active data: {dataset.name}")
m = st.columns([1, 1, 1, 1, 1.7, 1])
m[0].metric("Customers", f"{summary['n_customers']:,}")
m[1].metric("Products", f"{summary['n_products']:,}")
m[2].metric("Purchases", f"{summary['n_purchases']:,}")
m[3].metric(
    "Total spend",
    render.fmt_compact(summary["total_spend"]),
    help=f"{render.fmt_money(summary['total_spend'])} in the account currency.",
)
m[4].metric(
    "Date range",
    render.fmt_month_range(summary["date_min"], summary["date_max"]),
    help=f"{render.fmt_date(summary['date_min'])} to {render.fmt_date(summary['date_max'])}",
)
m[5].metric(
    "Matrix density",
    f"{summary['density']:.2%}",
    help="Share of customer x product pairs with at least one purchase.",
)

n_warnings = len(dataset.report.warnings)
with st.expander(
    f"Validation report: {n_warnings} warning(s)" if n_warnings else "Validation report: clean",
    icon=":material/fact_check:",
):
    render.validation_report(dataset.report)

colors = cache.colors_for_dataset(dataset)
st.plotly_chart(charts.activity_over_time(data["monthly"]), key="chart_activity")
left, right = st.columns(2)
left.plotly_chart(charts.top_products_bar(data["top_products"], colors), key="chart_top")
right.plotly_chart(charts.category_mix(data["category_mix"], colors), key="chart_mix")
left, right = st.columns(2)
left.plotly_chart(charts.purchases_per_customer(data["per_customer"]), key="chart_tail")

if dataset.rewards is None:
    right.info(
        "No reward offers loaded: upload a rewards file to match recommendations with offers.",
        icon=":material/redeem:",
    )
else:
    as_of = actions.as_of_for(dataset)
    offers = cache.offers_with_status(dataset.fingerprint, dataset.rewards, as_of)
    right.plotly_chart(charts.offers_by_type(offers), key="chart_offer_types")
    st.plotly_chart(charts.offers_timeline(offers, as_of=as_of), key="chart_timeline")
