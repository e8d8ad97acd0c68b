"""Saved models page pieces: the table of the model store's models, the save-area choice."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import auth, render, state


def models_table(infos: list[Any]) -> pd.DataFrame:
    """One row per saved model: name, area, owner, parameters, data, created, size, problem."""
    rows = []
    for info in infos:
        p = info.params or {}
        rows.append(
            {
                "name": info.name,
                "area": info.area,
                "owner": auth.owner_label(info.owner),
                "model": f"k={p.get('n_neighbors', '?')} · {p.get('metric', '?')} · "
                f"{p.get('weighting', '?')}/{p.get('value', '?')}" + _neighbourhood_text(p),
                "min_similarity": p.get("min_similarity"),
                "dataset": info.dataset,
                "customers": info.n_customers,
                "products": info.n_products,
                "fingerprint": info.fingerprint[:12],
                "created": render.fmt_timestamp(info.created_at),
                "size": render.fmt_size(info.size_bytes),
                "problem": info.problem,
            }
        )
    return pd.DataFrame(rows)


# User-kNN settings shown when not neutral (a model saved before one existed lacks it: neutral).
_NEIGHBOURHOOD = (
    ("similarity_power", "power", 1.0),
    ("asymmetry", "asymmetry", 0.5),
    ("shrink", "shrink", 0.0),
    ("popularity_penalty", "penalty", 0.0),
)


def _neighbourhood_text(params: dict[str, Any]) -> str:
    return "".join(
        f" · {label} {float(params[name]):g}"
        for name, label, neutral in _NEIGHBOURHOOD
        if float(params.get(name, neutral)) != neutral
    )


AREA_LABELS = {"private": "Private (only you)", "team": "Team (everyone signed in)"}


def area_choice(container: Any) -> str | None:
    """Where to save: a private/team choice when signed in; ``None`` (the only area) if not."""
    if auth.current_user() is None:
        return None
    return container.radio(
        "Save in",
        list(AREA_LABELS),
        format_func=AREA_LABELS.get,
        horizontal=True,
        key=state.SAVE_AREA,
    )


def option_label(info: Any) -> str:
    """A model in the picker: its name, and its area when there are two."""
    return info.name if auth.current_user() is None else f"{info.name} ({info.area})"


def can_delete(info: Any) -> bool:
    """Only the owner deletes (anyone in local mode; anyone may remove unreadable junk)."""
    me = auth.current_user()
    return me is None or info.owner == me or bool(info.problem)


MODEL_COLUMNS = {
    "name": st.column_config.TextColumn("Name"),
    "area": st.column_config.TextColumn("Area", help="private: only its owner sees it"),
    "owner": st.column_config.TextColumn("Saved by"),
    "problem": st.column_config.TextColumn("Problem", help="why the file cannot be loaded"),
    "model": st.column_config.TextColumn("Parameters", width="medium"),
    "min_similarity": st.column_config.NumberColumn("Min sim.", format="%.2f"),
    "dataset": st.column_config.TextColumn("Trained on"),
    "customers": st.column_config.NumberColumn("Customers", format="%d"),
    "products": st.column_config.NumberColumn("Products", format="%d"),
    "fingerprint": st.column_config.TextColumn("Data fingerprint", help="sha256 of the data"),
    "created": st.column_config.TextColumn("Created"),
    "size": st.column_config.TextColumn("Size"),
}
