"""Data page pieces: one uploader per table of the data contract, and a column mapper per file.

The tables are the core's (:data:`recsys.data.schema.TABLES`): every one of them can be uploaded
here, with the label below and the contract's description as help.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from dashboard import cache, render, state
from recsys.data.schema import PURCHASES, TABLES

UPLOAD_TYPES = ["csv", "txt", "tsv", "parquet", "pq"]
NOT_MAPPED = "(not in file)"
# How each table of the data contract is named on the Data page (a table added to the contract
# without a label here is still offered, under its own name).
TABLE_LABELS: dict[str, str] = {
    "purchases": "Purchases (required)",
    "rewards": "Reward offers",
    "customers": "Customers",
    "products": "Products",
    "redemptions": "Redemptions",
}


def table_label(table: str) -> str:
    """The uploader label of a contract table."""
    return TABLE_LABELS.get(table, table.replace("_", " ").capitalize())


def upload_widgets() -> tuple[cache.UploadedFiles, dict[str, dict[str, str]]]:
    """One uploader per table of the data contract, plus a column mapper per uploaded file.

    Returns the uploaded files as ``(table, name, bytes)`` and the explicit column mappings
    (canonical -> header, ``""`` for a column the analyst says the file does not have).
    """
    uploads = {}
    for col, (table, spec) in zip(st.columns(len(TABLES)), TABLES.items(), strict=True):
        uploads[table] = col.file_uploader(
            table_label(table),
            type=UPLOAD_TYPES,
            key=f"{state.UPLOAD_PREFIX}{table}",
            help=spec.description,
        )
    files: list[tuple[str, str, bytes]] = []
    column_maps: dict[str, dict[str, str]] = {}
    for table, uploaded in uploads.items():
        if uploaded is None:
            continue
        content = uploaded.getvalue()
        files.append((table, uploaded.name, content))
        with render.user_errors():
            headers, detected = cache.file_headers(content, uploaded.name, table)
            column_maps[table] = column_mapper(table, headers, detected, file_name=uploaded.name)
    return tuple(files), column_maps


def has_purchases(files: cache.UploadedFiles) -> bool:
    """Whether a purchases file is among the uploads (the one table a dataset needs)."""
    return any(table == PURCHASES.name for table, _, _ in files)


def column_mapper(
    table: str, headers: list[str], detected: Mapping[str, str | None], *, file_name: str
) -> dict[str, str]:
    """Selectboxes mapping each contract column of ``table`` to a header of the uploaded file.

    Returns the explicit mapping (canonical -> header) for the columns the user mapped
    differently from detection; a detected column set to :data:`NOT_MAPPED` maps to ``""``
    (the reader then treats the column as absent). Required columns are marked; widget keys are
    ``map_<table>__<column>``.
    """
    spec = TABLES[table]
    missing = [c.name for c in spec.columns if c.required and not detected.get(c.name)]
    label = f"Columns of {file_name}" + (" — please map the required columns" if missing else "")
    explicit: dict[str, str] = {}
    with st.expander(label, expanded=bool(missing), icon=":material/table_view:"):
        if missing:
            st.warning(
                "These required columns were not recognised: "
                + ", ".join(missing)
                + ". Pick the matching column of your file below."
            )
        options = [NOT_MAPPED, *headers]
        cols = st.columns(3)
        for i, col in enumerate(spec.columns):
            found = detected.get(col.name)
            with cols[i % 3]:
                choice = st.selectbox(
                    f"{col.name}{' *' if col.required else ''}",
                    options,
                    index=options.index(found) if found in options else 0,
                    key=f"{state.MAP_PREFIX}{table}__{col.name}",
                    help=col.description,
                )
            if choice == NOT_MAPPED:
                if found:  # detected, but the analyst says the file does not have it
                    explicit[col.name] = ""
            elif choice != found:
                explicit[col.name] = choice
        unmapped = [c.name for c in spec.columns if c.required and explicit.get(c.name) == ""]
        if unmapped:
            st.error(
                f"{', '.join(unmapped)} is required in the {table} file and is set to "
                f"“{NOT_MAPPED}”: the file cannot be loaded without it. Pick the column of "
                f"{file_name} that holds it.",
                icon=":material/error:",
            )
    return explicit
