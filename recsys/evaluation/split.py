"""Per-customer holdout of purchases for offline evaluation.

:func:`temporal_split` holds out each customer's most recently discovered products (a random
order, seeded, when the purchases carry no dates); :func:`validation_split` carves a validation
split out of a split's training part, the same way, for tuning.
:class:`SplitMatrices` holds a split's matrices over one shared vocabulary for the runner
(:mod:`recsys.evaluation.runner`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data import schema as S
from recsys.evaluation.metrics import as_truth
from recsys.models.matrix import IdIndex, Weighting, build_interactions, time_decay

__all__ = ["NO_SEGMENT", "Split", "SplitMatrices", "temporal_split", "validation_split"]

log = logging.getLogger(__name__)

SplitMethod = Literal["temporal", "random"]

NO_SEGMENT = "(no segment)"


@dataclass(frozen=True, eq=False)
class Split:
    """A per-customer holdout of purchases.

    Attributes
    ----------
    train : DataFrame
        The purchase lines kept for training (all columns of the input).
    test : DataFrame
        Held-out ``(customer_id, product_id)`` pairs, one row per pair, sorted.
    method : {"temporal", "random"}
        ``random`` when the purchases carry no dates.
    test_fraction, min_products, seed
        The settings the split was made with.
    n_customers : int
        Customers in the input.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    method: SplitMethod
    test_fraction: float
    min_products: int
    seed: int
    n_customers: int

    @property
    def customers(self) -> np.ndarray:
        """Ids of the evaluated customers (those with test products), sorted."""
        return np.unique(self.test[S.CUSTOMER_ID].astype(str).to_numpy(dtype=object))

    def describe(self) -> dict[str, Any]:
        """JSON-able summary: method, settings, customers (evaluated), train rows, test pairs."""
        return {
            "method": self.method,
            "test_fraction": float(self.test_fraction),
            "min_products": int(self.min_products),
            "seed": int(self.seed),
            "customers": int(self.n_customers),
            "customers_evaluated": int(self.test[S.CUSTOMER_ID].nunique()),
            "train_rows": int(len(self.train)),
            "test_pairs": int(len(self.test)),
        }


def temporal_split(
    purchases: pd.DataFrame,
    *,
    test_fraction: float = 0.2,
    min_products: int = 5,
    seed: int = 0,
) -> Split:
    """Hold out each customer's most recently discovered products.

    For every customer with at least ``min_products`` distinct products, the products are
    ordered by the date the customer *first* bought them; the last
    ``max(1, floor(test_fraction * n_products))`` form the test set, and every purchase line of
    those (customer, product) pairs leaves the training data (no leakage through repeat
    purchases). Other customers keep all their purchases in training. Products with equal first
    dates are ordered at random (seeded); products without any dated purchase count as the
    oldest. When no purchase has a date, the order is random for every customer (seeded) and
    ``method`` is ``"random"``. The cut is per customer, not a global date.

    Parameters
    ----------
    purchases : DataFrame
        Canonical purchases: ``customer_id``, ``product_id`` and ``purchase_date`` (datetime64,
        may be all NaT or absent); other columns are kept in ``train``.
    test_fraction : float, default 0.2
        Share of each evaluated customer's distinct products held out, in (0, 1).
    min_products : int, default 5
        Customers with fewer distinct products are not evaluated (>= 2).
    seed : int, default 0
        Seed of the tie-breaking and random order.

    Returns
    -------
    Split

    Examples
    --------
    >>> days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    >>> df = pd.DataFrame({"customer_id": ["a"] * 4, "product_id": ["w", "x", "y", "z"],
    ...                    "purchase_date": days})
    >>> split = temporal_split(df, test_fraction=0.25, min_products=4)
    >>> split.test["product_id"].tolist(), split.method
    (['z'], 'temporal')
    """
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction={test_fraction!r} must be strictly between 0 and 1.")
    if (
        isinstance(min_products, bool)
        or not isinstance(min_products, int | np.integer)
        or min_products < 2
    ):
        raise ValueError(f"min_products={min_products!r} must be a whole number >= 2.")
    cid, pid, date = S.CUSTOMER_ID, S.PRODUCT_ID, S.PURCHASE_DATE
    missing = [c for c in (cid, pid) if c not in purchases.columns]
    if missing:
        raise ValueError(f"purchases lacks the column(s) {missing}.")
    if date in purchases.columns:
        dates = pd.to_datetime(purchases[date], errors="coerce")
    else:
        dates = pd.Series(pd.NaT, index=purchases.index, dtype="datetime64[ns]")
    lines = pd.DataFrame(
        {cid: purchases[cid].to_numpy(), pid: purchases[pid].to_numpy(), date: dates.to_numpy()}
    )
    pairs = lines.groupby([cid, pid], sort=True, observed=True)[date].min().reset_index()
    method: SplitMethod = "temporal" if pairs[date].notna().any() else "random"

    tie = "_tie"
    pairs[tie] = np.random.default_rng(seed).random(len(pairs))
    pairs = pairs.sort_values([cid, date, tie], na_position="first", kind="stable")
    # 0 = the most recently discovered product of the customer.
    recency = pairs.groupby(cid, sort=False, observed=True).cumcount(ascending=False).to_numpy()
    n_distinct = pairs.groupby(cid, sort=False, observed=True)[pid].transform("size").to_numpy()
    n_test = np.maximum(1, np.floor(test_fraction * n_distinct + 1e-9)).astype(np.int64)
    is_test = (n_distinct >= min_products) & (recency < n_test)

    test = pairs.loc[is_test, [cid, pid]].sort_values([cid, pid]).reset_index(drop=True)
    held_out = pd.MultiIndex.from_frame(test)
    in_test = pd.MultiIndex.from_arrays([purchases[cid], purchases[pid]]).isin(held_out)
    train = purchases.loc[~in_test].reset_index(drop=True)
    split = Split(
        train=train,
        test=test,
        method=method,
        test_fraction=float(test_fraction),
        min_products=int(min_products),
        seed=int(seed),
        n_customers=int(lines[cid].nunique()),
    )
    log.info("split purchases: %s", split.describe())
    return split


def validation_split(split: Split, *, seed: int | None = None) -> Split:
    """Carve a validation split out of ``split.train``, the same way (for tuning).

    Parameters
    ----------
    split : Split
        The outer split; its test pairs are never seen.
    seed : int, optional
        Defaults to ``split.seed``.

    Returns
    -------
    Split
        ``train`` and ``test`` are both drawn from ``split.train``.
    """
    return temporal_split(
        split.train,
        test_fraction=split.test_fraction,
        min_products=split.min_products,
        seed=split.seed if seed is None else seed,
    )


def _segment_labels(
    customers: pd.DataFrame | pd.Series | None, ids: np.ndarray
) -> np.ndarray | None:
    """Segment of each id in ``ids`` (NO_SEGMENT when unknown); None without any segment."""
    if customers is None:
        return None
    if isinstance(customers, pd.DataFrame):
        if S.SEGMENT not in customers.columns:
            return None
        customers = customers.drop_duplicates(S.CUSTOMER_ID).set_index(S.CUSTOMER_ID)[S.SEGMENT]
    series = pd.Series(customers.to_numpy(), index=customers.index.astype(str))
    labels = series[~series.index.duplicated()].reindex(ids)
    if labels.isna().all():
        return None
    return labels.astype(object).where(labels.notna(), NO_SEGMENT).astype(str).to_numpy(object)


class SplitMatrices:
    """The matrices of one split over one shared vocabulary, each built once on first use.

    ``truth`` holds the test products; ``raw(value)`` and ``weighted(value, weighting,
    half_life_days)`` the training purchases; ``segments`` each row's segment label (None
    without segments).
    """

    def __init__(self, split: Split, segments: pd.DataFrame | pd.Series | None) -> None:
        cid, pid = S.CUSTOMER_ID, S.PRODUCT_ID
        self.split = split
        self.customers = IdIndex(pd.concat([split.train[cid], split.test[cid]]), what="customer")
        self.products = IdIndex(pd.concat([split.train[pid], split.test[pid]]), what="product")
        shape = (len(self.customers), len(self.products))
        rows = self.customers.indices_of(split.test[cid])
        cols = self.products.indices_of(split.test[pid])
        self.truth = as_truth(sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape))
        self.segments = _segment_labels(segments, self.customers.ids)
        # What segment models see: None (not the display label) where a segment is unknown.
        self.segment_groups = (
            None
            if self.segments is None
            else np.where(self.segments == NO_SEGMENT, None, self.segments)
        )
        self._raw: dict[str, sp.csr_matrix] = {}
        self._weighted: dict[tuple[str, str, float], sp.csr_matrix] = {}

    def raw(self, value: str) -> sp.csr_matrix:
        if value not in self._raw:
            self._raw[value] = build_interactions(
                self.split.train, value=value, customers=self.customers, products=self.products
            ).matrix
        return self._raw[value]

    def weighted(self, value: str, weighting: str, half_life_days: float = 0.0) -> sp.csr_matrix:
        """The training matrix as a model with these settings is fitted on (the pipeline's
        weighting, then its time decay counted back from the training part's last date)."""
        key = (value, weighting, float(half_life_days))
        if key not in self._weighted:
            raw = self.raw(value)
            X = Weighting(weighting=weighting).fit_transform(raw).tocsr()
            self._weighted[key] = time_decay(
                X, self.split.train, self.customers, self.products, half_life_days
            )
        return self._weighted[key]
