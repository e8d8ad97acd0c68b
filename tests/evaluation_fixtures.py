"""Shared helpers for the split, metrics and evaluation tests (plain imports, not a conftest)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from recsys.data import schema as S

C, P, D = S.CUSTOMER_ID, S.PRODUCT_ID, S.PURCHASE_DATE
LOG3 = math.log2(3)


def purchases(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[C, P, D])
    frame[C] = frame[C].astype("str")
    frame[P] = frame[P].astype("str")
    frame[D] = pd.to_datetime(frame[D])
    frame[S.QUANTITY] = np.int64(1)
    frame[S.AMOUNT] = np.nan
    return frame


def clustered_purchases(seed: int = 0, *, dated: bool = True) -> pd.DataFrame:
    """4 clusters x 30 customers; each buys 8 of its cluster's 10 products plus 1 random one."""
    rng = np.random.default_rng(seed)
    rows = []
    for cluster in range(4):
        for c in range(30):
            customer = f"c{cluster}_{c:02d}"
            items = rng.choice(10, size=8, replace=False) + cluster * 10
            items = [*items, rng.integers(40)]
            for item in items:
                for _ in range(rng.integers(1, 3)):
                    day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(365)))
                    rows.append((customer, f"p{item:02d}", day if dated else None))
    return purchases(rows)
