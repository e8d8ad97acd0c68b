"""Saved models page pieces: the table of the model store's models."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import render


def models_table(infos: list[Any]) -> pd.DataFrame:
    """One row per saved model: name, parameters, data, fingerprint, created, size."""
    rows = []
    for info in infos:
        p = info.params or {}
        rows.append(
            {
                "name": info.name,
                "model": f"k={p.get('n_neighbors', '?')} · {p.get('metric', '?')} · "
                f"{p.get('weighting', '?')}/{p.get('value', '?')}"
                + _power_text(p.get("similarity_power", 1.0)),
                "min_similarity": p.get("min_similarity"),
                "dataset": info.dataset,
                "customers": info.n_customers,
                "products": info.n_products,
                "fingerprint": info.fingerprint[:12],
                "created": render.fmt_timestamp(info.created_at),
                "size": render.fmt_size(info.size_bytes),
            }
        )
    return pd.DataFrame(rows)


def _power_text(power: Any) -> str:
    return "" if float(power) == 1.0 else f" · power {float(power):g}"


MODEL_COLUMNS = {
    "name": st.column_config.TextColumn("Name"),
    "model": st.column_config.TextColumn("Parameters", width="medium"),
    "min_similarity": st.column_config.NumberColumn("Min sim.", format="%.2f"),
    "dataset": st.column_config.TextColumn("Trained on"),
    "customers": st.column_config.NumberColumn("Customers", format="%d"),
    "products": st.column_config.NumberColumn("Products", format="%d"),
    "fingerprint": st.column_config.TextColumn("Data fingerprint", help="sha256 of the data"),
    "created": st.column_config.TextColumn("Created"),
    "size": st.column_config.TextColumn("Size"),
}
