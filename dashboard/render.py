"""Small render helpers shared by the pages: guards, error display, validation report, sidebar."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import cache, charts, state
from recsys.data.schema import QUALIFIES
from recsys.errors import RecsysError, ValidationReport

log = logging.getLogger(__name__)

DATA_PAGE = "pages/1_data.py"
MODEL_PAGE = "pages/2_model.py"
CUSTOMER_PAGE = "pages/3_customers.py"
REWARDS_PAGE = "pages/4_rewards.py"
STORE_PAGE = "pages/5_saved_models.py"


# --- guards --------------------------------------------------------------------------------------
def require_dataset() -> Any:
    """The active dataset, or an explanation with a link to the Data page and ``st.stop()``."""
    dataset = state.get(state.DATASET)
    if dataset is None:
        st.info("No data loaded yet. Load the sample data or upload your CSV files first.")
        st.page_link(DATA_PAGE, label="Go to Data", icon=":material/upload_file:")
        st.stop()
    return dataset


def require_model() -> Any:
    """The active fitted pipeline, or guidance with a link to the Model page and ``st.stop()``."""
    pipeline = state.get(state.PIPELINE)
    if pipeline is None:
        st.info(
            "No model trained yet. Train one on the Model page (it takes a few seconds), or "
            "load a saved one."
        )
        col1, col2 = st.columns(2)
        with col1:
            st.page_link(MODEL_PAGE, label="Go to Model", icon=":material/model_training:")
        with col2:
            st.page_link(STORE_PAGE, label="Open saved models", icon=":material/inventory_2:")
        st.stop()
    return pipeline


def model_matches_data(pipeline: Any, dataset: Any) -> bool:
    """Whether the active model was trained on the active dataset."""
    return dataset is not None and getattr(pipeline, "fingerprint_", None) == dataset.fingerprint


def warn_if_stale(pipeline: Any, dataset: Any) -> None:
    """Warn (with a link) when the active model was trained on other data than the active one."""
    if dataset is not None and not model_matches_data(pipeline, dataset):
        st.warning(
            "The active model was trained on different data than the active dataset: "
            "profiles come from the dataset, recommendations from the model. Retrain to "
            "bring them in line.",
            icon=":material/sync_problem:",
        )
        st.page_link(
            MODEL_PAGE, label="Retrain on the Model page", icon=":material/model_training:"
        )


# --- errors --------------------------------------------------------------------------------------
def show_error(exc: BaseException) -> None:
    """A user-fixable error as ``st.error``; anything else as a short message with an error id.

    The traceback of an unexpected error goes to the server log only, under that id.
    """
    if isinstance(exc, RecsysError):
        report = getattr(exc, "report", None)
        if isinstance(report, ValidationReport) and report.problems:
            st.error(rejection_message(report), icon=":material/error:")
            validation_report(report, fixes=False)
        else:
            st.error(str(exc), icon=":material/error:")
        return
    error_id = new_error_id()
    # The traceback stays in the server log, under the id the user can quote: a shared server
    # must not show its paths, code or data to whoever is signed in.
    log.error("unexpected error %s in the dashboard", error_id, exc_info=exc)
    st.error(
        f"Something went wrong (error id `{error_id}`). The previous data and model stay "
        "active; try again, and if it persists report the error id to whoever runs the app.",
        icon=":material/error:",
    )


def new_error_id() -> str:
    """A short random id (8 hex characters) that ties a message on screen to a log entry."""
    return secrets.token_hex(4)


MAX_LISTED_PROBLEMS = 15


def rejection_message(report: ValidationReport) -> str:
    """The error text for rejected files: every problem with file, column, rows and fix."""
    errors = report.errors
    lines = [
        f"**The data was rejected: {len(errors)} problem(s) found.** Nothing was changed: the "
        "previously loaded data and model stay active. Fix the files and upload them again.",
        "",
    ]
    for problem in errors[:MAX_LISTED_PROBLEMS]:
        where = f"`{problem.file}`" + (f", column `{problem.column}`" if problem.column else "")
        rows = ""
        if problem.rows:
            more = problem.n_rows - len(problem.rows)
            rows = " (rows " + ", ".join(map(str, problem.rows))
            rows += f" and {more} more)" if more > 0 else ")"
        lines.append(f"- {where}: {problem.message}{rows}. **Fix:** {problem.fix}")
    if len(errors) > MAX_LISTED_PROBLEMS:
        lines.append(f"- … and {len(errors) - MAX_LISTED_PROBLEMS} more, listed in the table.")
    return "\n".join(lines)


@contextlib.contextmanager
def user_errors(*, stop: bool = False) -> Iterator[None]:
    """Show any exception raised inside as a friendly error (never a raw traceback).

    With ``stop=True`` the page stops after the error (nothing below would make sense).
    """
    try:
        yield
    except Exception as exc:  # shown to the user, logged for the developer
        # Streamlit's st.stop()/st.rerun() raise BaseException subclasses: they pass through.
        show_error(exc)
        if stop:
            st.stop()


# --- validation report ---------------------------------------------------------------------------
def validation_report(
    report: ValidationReport, *, title: str | None = None, fixes: bool = True
) -> None:
    """The report as a table: severity, file, column, problem, example rows, how to fix.

    Table cells do not wrap, so with ``fixes`` the fix of every problem is also written out
    below the table in full (the rejection message already lists the errors' fixes, so
    :func:`show_error` leaves it out).
    """
    if not report.problems:
        st.success("No problems found in the files.", icon=":material/check_circle:")
        return
    if title:
        st.markdown(f"**{title}**")
    frame = report.to_frame()
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "severity": st.column_config.TextColumn("Severity", width="small"),
            "file": st.column_config.TextColumn("File", width="large"),
            "column": st.column_config.TextColumn("Column", width="small"),
            "problem": st.column_config.TextColumn("Problem", width="large"),
            "rows": st.column_config.TextColumn(
                "Example rows", width="small", help="Spreadsheet row numbers (header = row 1)"
            ),
            "n_rows": st.column_config.NumberColumn("Rows", format="%d", width="small"),
            "fix": st.column_config.TextColumn("How to fix", width="large"),
        },
    )
    if fixes:
        st.markdown(fix_list(report))


def fix_list(report: ValidationReport) -> str:
    """Markdown: how to fix each problem (file, column), at most :data:`MAX_LISTED_PROBLEMS`."""
    lines = ["**How to fix**"]
    for problem in report.problems[:MAX_LISTED_PROBLEMS]:
        where = f"`{problem.file}`" + (f" · `{problem.column}`" if problem.column else "")
        lines.append(f"- {where} ({problem.severity}): {problem.fix}")
    if len(report.problems) > MAX_LISTED_PROBLEMS:
        lines.append(f"- … and {len(report.problems) - MAX_LISTED_PROBLEMS} more in the table.")
    return "\n".join(lines)


# --- tables --------------------------------------------------------------------------------------
def qualify_styler(table: pd.DataFrame) -> Any:
    """The table with its ``qualifies`` cells coloured like the charts (traffic light)."""

    def style(value: object) -> str:
        if value is None or pd.isna(value):
            return ""
        color = charts.qualify_color(value)
        return f"color: white; background-color: {color}; font-weight: 600"

    return table.style.map(style, subset=[QUALIFIES])


# --- small formatters ----------------------------------------------------------------------------
def fmt_date(value: Any, *, none: str = "—") -> str:
    """A date as YYYY-MM-DD, or ``none`` (an em dash) when missing."""
    if value is None or pd.isna(value):
        return none
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def fmt_money(value: Any) -> str:
    """A spend figure with thousands separators, or an em dash when unknown."""
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):,.0f}"


def fmt_compact(value: Any) -> str:
    """A large amount as 10.8M / 950k (an em dash when unknown)."""
    if value is None or pd.isna(value):
        return "—"
    v = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            return f"{v / limit:,.1f}{suffix}"
    return f"{v:,.0f}"


def fmt_month_range(start: Any, end: Any) -> str:
    """'May 2025 – Oct 2026' (or 'no dates')."""
    if start is None or end is None or pd.isna(start) or pd.isna(end):
        return "no dates"
    return f"{pd.Timestamp(start):%b %Y} – {pd.Timestamp(end):%b %Y}"


def fmt_size(n_bytes: int) -> str:
    """Bytes as KB/MB."""
    if n_bytes < 1024 * 1024:
        return f"{n_bytes / 1024:,.0f} KB"
    return f"{n_bytes / 1024 / 1024:,.1f} MB"


# --- sidebar -------------------------------------------------------------------------------------
# How the sidebar names where the active data came from (anything else: an upload).
SOURCE_LABELS = {"sample": "bundled sample", "start-up folder": "start-up folder"}


def sidebar_status(container: Any | None = None) -> None:
    """The active dataset and model, shown on every page (in ``container``, default sidebar)."""
    dataset = state.get(state.DATASET)
    pipeline = state.get(state.PIPELINE)
    info = state.get(state.MODEL_INFO) or {}
    with container if container is not None else st.sidebar:
        st.markdown("#### Active data")
        if dataset is None:
            st.caption("None loaded.")
        else:
            s = cache.dataset_summary(dataset.fingerprint, dataset)
            source = SOURCE_LABELS.get(state.get(state.DATASET_SOURCE), "upload")
            st.markdown(
                f"**{dataset.name}** · {source}  \n"
                f"{s['n_customers']:,} customers · {s['n_products']:,} products  \n"
                f"{s['n_purchases']:,} purchases  \n"
                f"{fmt_date(s['date_min'])} → {fmt_date(s['date_max'])}"
            )
        st.markdown("#### Active model")
        if pipeline is None:
            st.caption("None trained.")
        else:
            p = pipeline.params
            origin = (
                f"saved model **{info['name']}**"
                if info.get("source") == "saved"
                else ("trained this session")
            )
            st.markdown(
                f"k = **{p.n_neighbors}** · {p.metric} · {p.weighting} / {p.value}  \n"
                f"min similarity {p.min_similarity:g} · "
                f"{'excludes' if p.exclude_purchased else 'keeps'} purchased  \n"
                f"{origin}, {fmt_timestamp(info.get('trained_at'))}"
            )
            if not model_matches_data(pipeline, dataset):
                st.caption(":orange[Trained on other data than the active dataset.]")


def fmt_timestamp(value: Any) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC' (or 'time unknown')."""
    if not value:
        return "time unknown"
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M UTC")
