"""Saved models: list the model store, load one as the active model, download or delete one."""

from __future__ import annotations

import streamlit as st

from dashboard import actions, render, state
from dashboard.views import saved_models as view
from recsys.store import ModelStore

st.title("Saved models")
st.caption(
    "Models saved from the Model page live in the model store on disk and survive restarts of "
    "the app. Load one to make it the active model (no retraining), download its file, or "
    "delete it. Only models saved by this app can be loaded."
)

store = ModelStore()
with render.user_errors(stop=True):
    infos = store.list()
st.caption(f"Store: `{store.root.resolve()}`")
if not infos:
    st.info(
        "No saved models yet. Train a model and save it on the Model page.",
        icon=":material/inventory_2:",
    )
    st.page_link(render.MODEL_PAGE, label="Go to Model", icon=":material/model_training:")
    st.stop()

st.dataframe(
    view.models_table(infos),
    hide_index=True,
    width="stretch",
    key="table_models",
    column_config=view.MODEL_COLUMNS,
)

names = [info.name for info in infos]
by_name = {info.name: info for info in infos}
if state.get(state.STORE_SELECTED) not in by_name:
    st.session_state.pop(state.STORE_SELECTED, None)
selected = st.selectbox("Model", names, key=state.STORE_SELECTED)
info = by_name[selected]

c1, c2, c3 = st.columns(3)
if c1.button(
    "Load as active model",
    key="load_model",
    type="primary",
    width="stretch",
    icon=":material/play_arrow:",
):
    with st.spinner(f"Loading {selected} …"), render.user_errors():
        pipeline, load_warnings = actions.load_model(selected)
        for message in load_warnings:
            st.warning(message)
        st.success(f"**{selected}** is now the active model.", icon=":material/check_circle:")
        dataset = state.get(state.DATASET)
        if not render.model_matches_data(pipeline, dataset):
            st.warning(
                "It was trained on other data than the active dataset: recommendations "
                "work, customer profiles come from the active dataset."
            )
        st.page_link(
            render.CUSTOMER_PAGE, label="Explore customers", icon=":material/person_search:"
        )
c2.download_button(
    "Download (.joblib)",
    data=lambda: info.path.read_bytes(),
    file_name=info.path.name,
    mime="application/octet-stream",
    key="download_saved",
    width="stretch",
    icon=":material/download:",
    on_click="ignore",
)
if c3.button("Delete …", key="delete_model", width="stretch", icon=":material/delete:"):
    st.session_state[state.STORE_CONFIRM_DELETE] = selected

if state.get(state.STORE_CONFIRM_DELETE) == selected:
    with st.container(border=True):
        st.warning(
            f"Delete **{selected}** permanently? This cannot be undone.", icon=":material/warning:"
        )
        y, n, _ = st.columns([1, 1, 3])
        if y.button("Yes, delete", key="confirm_delete", type="primary"):
            with render.user_errors():
                store.delete(selected)
                st.session_state[state.STORE_CONFIRM_DELETE] = None
                st.toast(f"Deleted {selected}.")
                st.rerun()
        if n.button("Cancel", key="cancel_delete"):
            st.session_state[state.STORE_CONFIRM_DELETE] = None
            st.rerun()
