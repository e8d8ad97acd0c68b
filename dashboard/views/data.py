"""Data page pieces: one uploader per table of the data contract, and a column mapper per file."""

from __future__ import annotations

import streamlit as st

from dashboard import cache, render, state

UPLOAD_TYPES = ["csv", "txt", "tsv", "parquet", "pq"]


def upload_widgets(tables: dict[str, str]) -> tuple[cache.UploadedFiles, dict[str, dict[str, str]]]:
    """One uploader per table, plus a column mapper per uploaded file.

    Returns the uploaded files as ``(table, name, bytes)`` and the explicit column mappings.
    """
    uploads = {}
    for col, (table, label) in zip(st.columns(len(tables)), tables.items(), strict=True):
        uploads[table] = col.file_uploader(
            label, type=UPLOAD_TYPES, key=f"{state.UPLOAD_PREFIX}{table}"
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
            column_maps[table] = render.column_mapper(
                table, headers, detected, file_name=uploaded.name
            )
    return tuple(files), column_maps
