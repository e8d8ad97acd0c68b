"""Plan persistence: a plan's rows as Parquet plus its settings as JSON, written atomically.

``save_plan(plan, directory, name)`` writes ``<name>.parquet`` (the allocation, with ``group``
when drawn) and ``<name>.json`` (constraints, seed, solver, totals, bound, gap), each to a
temporary file in the same directory then ``os.replace``-d into place, so a reader never sees a
half-written file. The JSON is written last: a plan exists once its JSON does.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from recsys.campaigns.allocation import CampaignPlan, summarise
from recsys.campaigns.constraints import CampaignConstraints
from recsys.data import schema as S
from recsys.errors import CampaignError

__all__ = ["PLAN_FORMAT", "list_plans", "load_plan", "save_plan"]

log = logging.getLogger(__name__)

PLAN_FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise CampaignError(
            f"Plan name {name!r} is not usable: use 1-64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit (no path separators)."
        )
    return name


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_plan(plan: CampaignPlan, directory: str | Path, name: str) -> Path:
    """Save ``plan`` as ``<directory>/<name>.parquet`` + ``.json``; returns the JSON path.

    Examples
    --------
    >>> import tempfile
    >>> from recsys.campaigns.allocation import allocate
    >>> cands = pd.DataFrame({"customer_id": ["a"], "offer_id": ["X"], "propensity": [0.5],
    ...                       "expected_cost": [2.0]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_plan(allocate(cands, CampaignConstraints(seed=3)), d, "march")
    ...     load_plan(d, "march").constraints.seed
    3
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    name = _check_name(name)
    meta: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "name": name,
        "constraints": plan.constraints.to_dict(),
        "solver": plan.solver,
        "objective_value": plan.objective_value,
        "upper_bound": plan.upper_bound,
        "gap": plan.gap,
        "seconds": plan.seconds,
        "n_contacts": int(len(plan.allocation)),
        "has_groups": S.GROUP in plan.allocation,
    }
    _atomic_write(folder / f"{name}.parquet", lambda p: plan.allocation.to_parquet(p, index=False))
    text = json.dumps(meta, indent=2, sort_keys=True)
    _atomic_write(folder / f"{name}.json", lambda p: Path(p).write_text(text, encoding="utf-8"))
    log.info("saved plan %s (%d contacts) to %s", name, len(plan.allocation), folder)
    return folder / f"{name}.json"


def load_plan(directory: str | Path, name: str) -> CampaignPlan:
    """Load a plan saved by :func:`save_plan` (totals are recomputed from the rows)."""
    folder = Path(directory)
    name = _check_name(name)
    meta_path, rows_path = folder / f"{name}.json", folder / f"{name}.parquet"
    if not meta_path.is_file() or not rows_path.is_file():
        raise CampaignError(f"No saved plan '{name}' in {folder}: check the name (list_plans).")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != PLAN_FORMAT:
        raise CampaignError(f"Plan '{name}' has format {meta.get('format')!r}; re-save it.")
    rows = pd.read_parquet(rows_path)
    constraints = CampaignConstraints.from_dict(meta["constraints"])
    return summarise(rows, constraints, meta["solver"], meta["upper_bound"], meta["seconds"])


def list_plans(directory: str | Path) -> list[str]:
    """Names of the complete plans saved in ``directory``, sorted."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if (folder / f"{p.stem}.parquet").is_file())
