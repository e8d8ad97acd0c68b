"""Saved models: list the model store, load one as the active model, download or delete one."""

from __future__ import annotations

import streamlit as st

from dashboard import actions, auth, render, state
from dashboard.views import saved_models as view

st.title("Saved models")
st.caption(
    "Models saved from the Model page live in the model store on disk and survive restarts of "
    "the app. Load one to make it the active model (no retraining), download its file, or "
    "delete it. Only models saved by this app can be loaded."
)

store = auth.store()
with render.user_errors(stop=True):
    infos = store.list()
st.caption(f"Store: {store.describe()}")  # never the server's absolute path
if auth.current_user() is None:
    st.caption(
        "Single-user mode: sign-in is not configured, so every model here belongs to the local "
        "user and anyone using this app can load or delete it (see the README, Configuration)."
    )
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

by_label = {view.option_label(info): info for info in infos}
if state.get(state.STORE_SELECTED) not in by_label:
    st.session_state.pop(state.STORE_SELECTED, None)
label = st.selectbox("Model", list(by_label), key=state.STORE_SELECTED)
info = by_label[label]
selected, area = info.name, info.area
if info.problem:
    st.warning(f"**{selected}** cannot be loaded: {info.problem}", icon=":material/warning:")

c1, c2, c3 = st.columns(3)
if c1.button(
    "Load as active model",
    key="load_model",
    type="primary",
    width="stretch",
    icon=":material/play_arrow:",
    disabled=bool(info.problem),
):
    with st.spinner(f"Loading {selected} …"), render.user_errors():
        pipeline, load_warnings = actions.load_model(selected, area)
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
    "Download model file",  # the store's signed artifact: `python -m recsys --model-file` reads it
    data=lambda: info.path.read_bytes(),
    file_name=info.path.name,
    mime="application/octet-stream",
    key="download_saved",
    width="stretch",
    icon=":material/download:",
    on_click="ignore",
    help="The model store's file (checksummed); the CLI loads it with --model-file.",
)
deletable = view.can_delete(info)
if c3.button(
    "Delete …",
    key="delete_model",
    width="stretch",
    icon=":material/delete:",
    disabled=not deletable,
    help=None if deletable else f"Only its owner ({info.owner}) can delete it.",
):
    st.session_state[state.STORE_CONFIRM_DELETE] = label

if deletable and state.get(state.STORE_CONFIRM_DELETE) == label:
    with st.container(border=True):
        st.warning(
            f"Delete **{selected}** permanently? This cannot be undone.", icon=":material/warning:"
        )
        y, n, _ = st.columns([1, 1, 3])
        if y.button("Yes, delete", key="confirm_delete", type="primary"):
            with render.user_errors():
                store.delete(selected, area)
                st.session_state[state.STORE_CONFIRM_DELETE] = None
                st.toast(f"Deleted {selected}.")
                st.rerun()
        if n.button("Cancel", key="cancel_delete"):
            st.session_state[state.STORE_CONFIRM_DELETE] = None
            st.rerun()
