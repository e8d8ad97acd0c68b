"""One call from a fitted model to a campaign plan with a control group, and its files.

Shared by the dashboard's Campaigns page and ``python -m recsys plan``: read a suppression list
(:func:`read_suppression`), build the candidates with a calibrated propensity, allocate under the
constraints, draw the control group (:func:`plan_campaign`), and write the plan as a
spreadsheet-safe CSV or as Parquet (:func:`write_plan`, :func:`plan_bytes`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recsys.campaigns.allocation import CampaignConstraints, CampaignPlan, allocate
from recsys.campaigns.candidates import build_candidates
from recsys.campaigns.control import assign_control
from recsys.campaigns.export import neutralise_formulas, write_csv_chunks
from recsys.data import schema as S
from recsys.data.reading import read_raw
from recsys.errors import CampaignError, DataValidationError

if TYPE_CHECKING:
    from recsys.evaluation.calibration import PropensityCalibrator
    from recsys.pipeline import RecommenderPipeline

__all__ = ["plan_bytes", "plan_campaign", "read_suppression", "write_plan"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
_CUSTOMER_NAMES = (S.CUSTOMER_ID, "cust_id", "user_id", "customer", "client_id", "customerid")


def read_suppression(source: str | Path | bytes, name: str = "suppression file") -> frozenset[str]:
    """Customer ids of a suppression list: a CSV with a ``customer_id`` column (or an alias).

    Raises
    ------
    CampaignError
        Naming the file, the column and example rows, with the fix.

    Examples
    --------
    >>> sorted(read_suppression(b"customer_id\\nc1\\nc2\\n"))
    ['c1', 'c2']
    """
    # The project's reader: delimiter sniffing, encodings and a report naming file and rows.
    try:
        frame, _, _ = read_raw(source, name)
    except DataValidationError as exc:
        raise CampaignError(str(exc)) from None
    by_lower = {str(c).strip().lower(): c for c in frame.columns}
    column = next((by_lower[n] for n in _CUSTOMER_NAMES if n in by_lower), None)
    if column is None:
        raise CampaignError(
            f"{name}: no customer_id column (columns found: {list(map(str, frame.columns))}). "
            "Name the column of customer ids 'customer_id'."
        )
    ids = frame[column].astype("str").str.strip().fillna("")
    empty = np.flatnonzero(ids.eq("").to_numpy())
    if empty.size:
        # The index is the record's position: +2 gives its spreadsheet row (the header is 1).
        rows = ", ".join(str(int(r) + 2) for r in frame.index.to_numpy()[empty[:5]])
        raise CampaignError(
            f"{name}: column '{column}' is empty on row(s) {rows}. Fill in or delete those rows."
        )
    return frozenset(ids)


def plan_campaign(
    pipe: RecommenderPipeline,
    offer_ids: Iterable[str],
    constraints: CampaignConstraints,
    *,
    control_share: float = 0.1,
    calibrator: PropensityCalibrator | None = None,
    n: int = 10,
    progress: Progress | None = None,
) -> CampaignPlan:
    """Candidates -> allocation -> control group, in one call (with counted progress)."""
    report = progress or (lambda fraction, message: None)
    offers = [str(o) for o in offer_ids]
    if not offers:
        raise CampaignError("Choose at least one offer for the campaign.")
    report(0.1, "Scoring every customer for the chosen offers")
    candidates = build_candidates(pipe, offers, n=n, calibrator=calibrator)
    if not len(candidates):
        raise CampaignError(
            "No customer has a recommendation these offers apply to: choose other offers or "
            "raise the number of recommendations searched."
        )
    report(0.5, f"Allocating {len(candidates):,} candidate contacts")
    plan = allocate(candidates, constraints)
    report(0.9, "Drawing the control group")
    plan = assign_control(plan, control_share)
    report(1.0, "Done")
    return plan


def _export_frame(plan: CampaignPlan) -> pd.DataFrame:
    return neutralise_formulas(plan.allocation.reset_index(drop=True))


def write_plan(plan: CampaignPlan, out: str | Path) -> int:
    """Write the plan's rows (with ``group``) to ``.csv`` (formula-safe) or ``.parquet``."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise CampaignError(f"--out {path}: use a .csv or .parquet file name.")
    frame = _export_frame(plan)
    if suffix == ".parquet":
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return len(frame)
    return write_csv_chunks([frame], path, list(frame.columns))


def plan_bytes(plan: CampaignPlan, fmt: str) -> bytes:
    """The plan file as bytes (``fmt`` "csv" or "parquet"), for a download button."""
    frame = _export_frame(plan)
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    text = io.StringIO()
    write_csv_chunks([frame], text, list(frame.columns))
    return text.getvalue().encode("utf-8")
