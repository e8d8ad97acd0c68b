"""How sure a metric is: bootstrap intervals over customers, and paired differences of two models.

A top-N evaluation averages over the customers evaluated, so its uncertainty is that of the
customers drawn: :func:`intervals` resamples the customers with replacement (seeded) and
recomputes every metric on each resample, including the catalogue-level ones (coverage, average
popularity); the 2.5 and 97.5 percentiles of the resampled values are the 95 % interval.
:func:`paired_difference` resamples the *same* customers for two models' lists (the lists were
made for the same customers of one split), so what the customers have in common cancels out; two
models whose interval of the difference includes 0 are not distinguishable on that data.

Coverage is not a mean over customers: a resample holds only about 63 % of the customers
(the others drawn twice or more), so it covers less of the catalogue than all of them do. Its
interval (and that of a difference in coverage) is therefore shifted so the resamples' mean is
the value on all customers (a bias-corrected percentile interval); its width is the bootstrap's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recsys.evaluation.metrics import PER_CUSTOMER_METRICS, as_truth, per_customer_metrics

__all__ = [
    "INTERVAL_METRICS",
    "N_BOOT",
    "Difference",
    "Interval",
    "intervals",
    "paired_difference",
]

N_BOOT = 500
"""Resamples by default: the percentiles of a 95 % interval move by well under its width."""

INTERVAL_METRICS: tuple[str, ...] = (*PER_CUSTOMER_METRICS, "coverage", "avg_popularity")

# Resample weights are drawn in chunks of at most this many cells (resamples x customers).
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class Interval:
    """A metric on the customers evaluated, and its bootstrap interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Difference:
    """Metric of ``a`` minus metric of ``b`` on the same customers, with its paired interval.

    Attributes
    ----------
    a, b : str
        What was compared (labels).
    metric : str
        E.g. ``"ndcg@10"``.
    mean, low, high : float
        The difference on all customers and its interval (``level``).
    level : float
        E.g. 0.95.
    """

    a: str
    b: str
    metric: str
    mean: float
    low: float
    high: float
    level: float = 0.95

    @property
    def distinguishable(self) -> bool:
        """False when the interval of the difference includes 0."""
        return not (self.low <= 0.0 <= self.high)

    def sentence(self) -> str:
        """The comparison in plain words.

        Examples
        --------
        >>> Difference("A", "B", "ndcg@10", 0.01, -0.002, 0.02).sentence()
        'A and B are not distinguishable on ndcg@10: the difference is +0.0100, and its 95 % interval (-0.0020 to +0.0200) includes 0.'
        """  # noqa: E501
        span = f"{self.low:+.4f} to {self.high:+.4f}"
        pct = f"{100 * self.level:g} %"
        if not self.distinguishable:
            return (
                f"{self.a} and {self.b} are not distinguishable on {self.metric}: the difference "
                f"is {self.mean:+.4f}, and its {pct} interval ({span}) includes 0."
            )
        ahead, behind = (self.a, self.b) if self.mean > 0 else (self.b, self.a)
        return (
            f"{ahead} is ahead of {behind} on {self.metric} by {abs(self.mean):.4f} "
            f"({pct} interval of {self.a} minus {self.b}: {span})."
        )


def _check(recs: np.ndarray, truth: sp.spmatrix, n: int) -> tuple[np.ndarray, sp.csr_matrix]:
    truth = as_truth(truth)
    recs = np.asarray(recs)
    if recs.ndim != 2 or recs.shape[0] != truth.shape[0]:
        raise ValueError(f"recs must have {truth.shape[0]} rows (one per truth row).")
    if not 1 <= n <= recs.shape[1]:
        raise ValueError(f"n={n!r} must be between 1 and the list length {recs.shape[1]}.")
    return recs[:, :n].astype(np.int64, copy=False), truth


def _weights(m: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Chunks of resample weights: how often each of the ``m`` customers is drawn."""
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_CELLS // max(m, 1))
    for start in range(0, n_boot, per_chunk):
        size = min(per_chunk, n_boot - start)
        draws = rng.integers(0, m, size=(size, m))
        yield np.vstack([np.bincount(row, minlength=m) for row in draws]).astype(np.float64)


class _Parts:
    """What each metric of one set of lists is made of, per customer (summed by the weights)."""

    def __init__(self, recs: np.ndarray, truth: sp.csr_matrix, popularity: np.ndarray | None):
        per_row = per_customer_metrics(recs, truth)
        self.values = {name: per_row[name] for name in PER_CUSTOMER_METRICS}
        m, n_items = truth.shape
        chosen = recs >= 0
        rows = np.nonzero(chosen)[0]
        self.incidence = sp.csr_matrix(
            (np.ones(rows.size), (rows, recs[chosen])), shape=(m, n_items)
        )
        self.n_items = n_items
        self.slots = chosen.sum(axis=1).astype(np.float64)
        self.pop_sum = (
            None
            if popularity is None
            else np.where(chosen, np.asarray(popularity)[np.where(chosen, recs, 0)], 0.0).sum(1)
        )

    def on(self, w: np.ndarray) -> dict[str, np.ndarray]:
        """Every metric under each row of weights ``w`` (resamples x customers)."""
        total = w.sum(axis=1)
        out = {name: w @ values / total for name, values in self.values.items()}
        covered = np.asarray((sp.csr_matrix(w) @ self.incidence).getnnz(axis=1))
        out["coverage"] = covered / max(self.n_items, 1)
        if self.pop_sum is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                out["avg_popularity"] = (w @ self.pop_sum) / (w @ self.slots)
        return out


# Statistics that are not means over customers: biased by resampling, their intervals re-centred.
_BIASED = ("coverage",)


def _percentiles(
    samples: np.ndarray, level: float, value: float, biased: bool
) -> tuple[float, float]:
    tail = 50.0 * (1.0 - level)
    low, high = np.nanpercentile(samples, [tail, 100.0 - tail])
    shift = value - float(np.nanmean(samples)) if biased else 0.0
    return float(low + shift), float(high + shift)


def _check_level(level: float, n_boot: int) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level={level!r} must be strictly between 0 and 1.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 10:
        raise ValueError(f"n_boot={n_boot!r} must be a whole number >= 10.")


def intervals(
    recs: np.ndarray,
    truth: sp.spmatrix,
    n: int,
    *,
    popularity: np.ndarray | None = None,
    n_boot: int = N_BOOT,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Interval]:
    """Every metric at ``n`` with its bootstrap interval, resampling customers (rows).

    Parameters
    ----------
    recs : ndarray of shape (m, >= n), int
        Each customer's ranked list (``-1`` padded); the first ``n`` are scored.
    truth : sparse matrix of shape (m, n_products)
        Held-out products of the same customers, each with at least one.
    n : int
        The N of the metrics.
    popularity : ndarray of shape (n_products,), optional
        Share of training customers who bought each product (adds ``avg_popularity``).
    n_boot, level, seed
        Resamples, interval level, seed of the resampling.

    Returns
    -------
    dict
        ``ndcg@N``, ``recall@N``, ... as in :func:`~recsys.evaluation.metrics.ranking_metrics`,
        plus ``coverage`` and ``avg_popularity``: each an :class:`Interval`, whose ``value`` is
        the metric on all customers.

    Examples
    --------
    >>> truth = sp.csr_matrix(np.eye(4))
    >>> recs = np.array([[0], [1], [0], [0]])  # customers 0 and 1 hit, 2 and 3 miss
    >>> found = intervals(recs, truth, 1, n_boot=200)
    >>> found["recall@1"].value, found["recall@1"].low < 0.5 < found["recall@1"].high
    (0.5, True)
    """
    _check_level(level, n_boot)
    recs, truth = _check(recs, truth, n)
    parts = _Parts(recs, truth, popularity)
    full = parts.on(np.ones((1, truth.shape[0])))
    samples: dict[str, list[np.ndarray]] = {name: [] for name in full}
    for w in _weights(truth.shape[0], n_boot, seed):
        for name, values in parts.on(w).items():
            samples[name].append(values)
    out = {}
    for name, value in full.items():
        low, high = _percentiles(
            np.concatenate(samples[name]), level, float(value[0]), name in _BIASED
        )
        key = f"{name}@{n}" if name in PER_CUSTOMER_METRICS else name
        out[key] = Interval(float(value[0]), low, high)
    return out


def paired_difference(
    recs_a: np.ndarray,
    recs_b: np.ndarray,
    truth: sp.spmatrix,
    n: int,
    *,
    metric: str = "ndcg",
    labels: tuple[str, str] = ("a", "b"),
    popularity: np.ndarray | None = None,
    n_boot: int = N_BOOT,
    level: float = 0.95,
    seed: int = 0,
) -> Difference:
    """``metric`` of lists ``a`` minus that of lists ``b`` for the same customers, paired.

    Each resample draws one set of customers and scores both models on it, so the interval is
    that of the difference itself (narrower than two separate intervals suggest).

    Examples
    --------
    >>> truth = sp.csr_matrix(np.eye(3))
    >>> same = np.array([[0], [1], [0]])
    >>> paired_difference(same, same, truth, 1).distinguishable
    False
    """
    _check_level(level, n_boot)
    if recs_a.shape[0] != recs_b.shape[0]:
        raise ValueError("Both models' lists must be for the same customers (same rows).")
    name = metric.split("@")[0]
    if name not in INTERVAL_METRICS:
        raise ValueError(f"metric={metric!r} is not one of {', '.join(INTERVAL_METRICS)}.")
    a, truth = _check(recs_a, truth, n)
    b, _ = _check(recs_b, truth, n)
    parts_a, parts_b = _Parts(a, truth, popularity), _Parts(b, truth, popularity)
    ones = np.ones((1, truth.shape[0]))
    if name not in parts_a.on(ones):
        raise ValueError(f"metric={metric!r} needs the products' popularity.")
    mean = float(parts_a.on(ones)[name][0] - parts_b.on(ones)[name][0])
    diffs = [parts_a.on(w)[name] - parts_b.on(w)[name] for w in _weights(len(a), n_boot, seed)]
    low, high = _percentiles(np.concatenate(diffs), level, mean, name in _BIASED)
    shown = f"{name}@{n}" if name in PER_CUSTOMER_METRICS else name
    if math.isnan(mean):
        raise ValueError(f"{shown} is undefined for these lists.")
    return Difference(labels[0], labels[1], shown, mean, low, high, level)
