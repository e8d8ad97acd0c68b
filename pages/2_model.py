"""Model: choose the settings, train on a button, inspect what was trained, save or download."""

from __future__ import annotations

import dataclasses

import streamlit as st

from dashboard import actions, cache, charts, render, state
from dashboard.views import model as view
from dashboard.views import saved_models as store_view
from recsys.params import ModelParams

st.title("Model")
st.caption(
    "User-based collaborative filtering: each customer's k most similar customers (by what they "
    "bought) vote for products with their similarity; Item-kNN, RP3beta, EASE, ALS and "
    "popularity can rank instead. Change the settings and press **Train** — nothing retrains "
    "until you do, and a configuration trained before is served instantly."
)

dataset = render.require_dataset()
active = state.get(state.PIPELINE)
applied = state.get(state.APPLIED_PARAMS)  # sent by the Evaluation page, not trained yet
current = active.params if active is not None else ModelParams()
if applied is not None:
    current = applied
    st.caption(
        f"The form holds the settings sent from the Evaluation page ({applied.label()}); "
        "**Train model** trains them."
    )

settings = view.train_form(current)
if settings is not None:
    with render.user_errors():
        params = dataclasses.replace(current, **settings)
        pipeline = actions.train(dataset, params)
        info = state.get(state.MODEL_INFO)
        how = (
            "served from the cache (trained before with these settings)"
            if info["cached"]
            else f"trained in {info['wall_seconds']:.1f} s"
        )
        st.success(f"Model ready: {params.label()} — {how}.", icon=":material/check_circle:")

pipeline = render.require_model()
render.warn_if_stale(pipeline, dataset)
meta = pipeline.metadata_
info = state.get(state.MODEL_INFO) or {}

st.subheader("Active model")
m = st.columns(5)
m[0].metric("Model", view.model_summary(pipeline.params))
m[1].metric("Training time", f"{meta.get('fit_seconds', 0):.2f} s")
m[2].metric(
    "Matrix",
    f"{meta.get('n_customers', 0):,} × {meta.get('n_products', 0):,}",
    help="Customers × products.",
)
m[3].metric("Non-zero cells", f"{meta.get('nnz', 0):,}")
m[4].metric("Offers as of", str(meta.get("as_of", "—")))

left, right = st.columns([1, 2])
with left:
    st.markdown("**Parameters**")
    st.dataframe(view.params_table(pipeline.params), hide_index=True, width="stretch")
    st.caption(
        f"Trained on **{meta.get('dataset', '?')}** "
        f"(fingerprint `{str(meta.get('fingerprint', ''))[:12]}`), "
        f"{render.fmt_timestamp(info.get('trained_at'))}."
    )
with right:
    sims = cache.similarity_sample(cache.model_key(pipeline), pipeline)
    st.plotly_chart(
        charts.similarity_distribution(sims, metric=pipeline.params.metric), key="chart_similarity"
    )

view.boost_tradeoff_section(dataset, pipeline)

st.subheader("Save or download")
c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
name = view.model_name_field(c1, pipeline)
overwrite = c1.checkbox("Replace a saved model with the same name", key=state.SAVE_OVERWRITE)
area = store_view.area_choice(c1)  # private or team when signed in; None = the only area
if c2.button("Save to model store", key="save_model", icon=":material/save:", width="stretch"):
    with st.spinner("Saving …"), render.user_errors():
        saved = actions.save_model(pipeline, name, overwrite=overwrite, area=area)
        st.success(f"Saved as **{saved.name}** ({render.fmt_size(saved.size_bytes)}).")
        st.page_link(render.STORE_PAGE, label="Open saved models", icon=":material/inventory_2:")
c3.download_button(
    "Download model (.joblib)",
    key="download_model",
    width="stretch",
    data=lambda: cache.model_artifact(cache.model_key(pipeline), pipeline),
    file_name=f"{name or view.default_model_name(pipeline)}.joblib",
    mime="application/octet-stream",
    icon=":material/download:",
    on_click="ignore",
)
