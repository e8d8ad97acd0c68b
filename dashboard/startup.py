"""Start the app with given data and a saved model instead of the bundled sample.

Two environment variables, read when a session starts (never from the browser):

- ``RECSYS_START_DATA``: a folder holding ``purchases.csv`` (or ``.parquet``) and, optionally,
  ``rewards``, ``customers``, ``products`` and ``redemptions`` files of the same forms. It is
  loaded once per server (shared by every session) instead of the sample.
- ``RECSYS_START_MODEL``: the name of a model in the team area of the model store
  (``RECSYS_MODEL_DIR``), made the active model instead of training a default one. Only the
  store's own checksummed artifacts are loaded, as on the Saved models page.

Both are optional and independent; the benchmark of the dashboard at 1M customers
(``bench/dashboard.py``) uses them to open the app on a large model without a browser upload.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from recsys.data.schema import TABLES
from recsys.errors import RecsysError

DATA_ENV = "RECSYS_START_DATA"
MODEL_ENV = "RECSYS_START_MODEL"
SUFFIXES = (".parquet", ".pq", ".csv")


def start_data(environ: Mapping[str, str] | None = None) -> Path | None:
    """The configured start-up data folder, or ``None``."""
    value = (os.environ if environ is None else environ).get(DATA_ENV, "").strip()
    return Path(value) if value else None


def start_model(environ: Mapping[str, str] | None = None) -> str | None:
    """The configured start-up model name, or ``None``."""
    value = (os.environ if environ is None else environ).get(MODEL_ENV, "").strip()
    return value or None


def data_files(folder: Path) -> dict[str, Path]:
    """Table -> file of a start-up data folder (the first of :data:`SUFFIXES` found per table).

    Raises
    ------
    RecsysError
        The folder is missing or has no purchases file.
    """
    if not folder.is_dir():
        raise RecsysError(f"{DATA_ENV}={folder} is not a folder: set it to a data folder.")
    found = {}
    for table in TABLES:
        for suffix in SUFFIXES:
            path = folder / f"{table}{suffix}"
            if path.is_file():
                found[table] = path
                break
    if "purchases" not in found:
        raise RecsysError(
            f"{DATA_ENV}={folder} has no purchases.csv or purchases.parquet: put the purchase "
            "lines there, or unset the variable to start with the sample."
        )
    return found
