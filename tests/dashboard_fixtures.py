"""Shared helpers for the dashboard's AppTest and browser tests (plain functions and constants;
the pytest fixtures live in ``tests/conftest.py``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

# Re-exported only for tests/test_app_evaluation.py (evaluation room), which still imports it;
# the fixture itself is tests/conftest.py's (autouse). Drop this line once that import goes.
from tests.conftest import model_dir_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE_DIR = ROOT / "sample_data"
TIMEOUT = 120

DATA_PAGE = "pages/1_data.py"
MODEL_PAGE = "pages/2_model.py"
CUSTOMER_PAGE = "pages/3_customers.py"
REWARDS_PAGE = "pages/4_rewards.py"
STORE_PAGE = "pages/5_saved_models.py"


def sample_bytes(table: str) -> bytes:
    """The bundled sample file of ``table`` as uploaded bytes."""
    return (SAMPLE_DIR / f"{table}.csv").read_bytes()


def small_purchases_csv(header: str = "customer_id,product_id,purchase_date,amount") -> bytes:
    """A small, valid purchases file: 6 customers, 5 products (ids with leading zeros)."""
    rows = [
        ("007", "A1", "2026-01-03", "10.5"), ("007", "B2", "2026-01-04", "20"),
        ("007", "C3", "2026-02-01", "5"), ("008", "A1", "2026-01-05", "11"),
        ("008", "B2", "2026-01-09", "19"), ("008", "D4", "2026-02-11", "7"),
        ("009", "A1", "2026-01-15", "9"), ("009", "C3", "2026-03-01", "4"),
        ("010", "B2", "2026-02-02", "21"), ("010", "D4", "2026-02-20", "8"),
        ("010", "E5", "2026-03-03", "30"), ("011", "E5", "2026-03-05", "31"),
        ("011", "D4", "2026-03-06", "6"), ("012", "A1", "2026-03-07", "12"),
    ]  # fmt: skip
    return (header + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def bad_purchases_csv() -> bytes:
    """Purchases with a negative quantity and an unparseable date: must be rejected."""
    return (
        b"customer_id,product_id,purchase_date,quantity\n"
        b"1,A,2026-01-01,1\n"
        b"2,B,not a date,-3\n"
        b"3,A,2026-01-02,2\n"
    )


def start_app(page: str | None = None) -> AppTest:
    """Run the app once (bootstrap: sample data + default model), then open ``page``."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert_no_exception(at)
    if page is not None:
        at.switch_page(page).run()
        assert_no_exception(at)
    return at


def assert_no_exception(at: AppTest) -> None:
    """No uncaught exception (a traceback) on the page."""
    assert not at.exception, [e.value for e in at.exception]


def charts(at: AppTest) -> dict[str, dict[str, Any]]:
    """Plotly figure specs on the page, by widget key (the figure JSON is in the proto)."""
    out = {}
    for element in at.get("plotly_chart"):
        out[element.key or element.proto.id] = json.loads(element.proto.spec)
    return out


def values(data: Any) -> list[Any]:
    """A figure array as a list: plotly encodes numeric arrays as base64 typed arrays."""
    if isinstance(data, dict) and "bdata" in data:
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        if "shape" in data:
            array = array.reshape([int(n) for n in str(data["shape"]).split(",")])
        return array.tolist()
    return list(data)


def dataframes(at: AppTest) -> list[pd.DataFrame]:
    """Every st.dataframe on the page, as DataFrames."""
    return [df.value for df in at.dataframe]


def texts(at: AppTest, kind: str) -> list[str]:
    """The bodies of st.error / st.warning / st.info / st.success elements."""
    return [e.value for e in getattr(at, kind)]


def state(at: AppTest, key: str, default: Any = None) -> Any:
    """A session-state value (``default`` when absent)."""
    try:
        return at.session_state[key]
    except KeyError:
        return default
