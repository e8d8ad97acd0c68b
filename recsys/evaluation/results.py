"""What an offline evaluation returns: metrics per :class:`ModelParams` at every N asked for.

Both results are tidy frames keyed by the configuration itself (a ``params`` column holding the
frozen :class:`~recsys.params.ModelParams`), so a caller selects rows with the same objects it
asked for and reads their fields; nothing is encoded as text on the way. A result that kept its
top-N lists also says how sure each figure is (:meth:`EvaluationResult.intervals`, bootstrap over
customers) and whether two configurations can be told apart
(:meth:`EvaluationResult.difference`, paired), see :mod:`recsys.evaluation.bootstrap`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.evaluation import bootstrap
from recsys.evaluation.bootstrap import Difference
from recsys.evaluation.metrics import PER_CUSTOMER_METRICS
from recsys.evaluation.selection import Choice
from recsys.params import ModelParams

__all__ = [
    "INTERVAL_COLUMNS",
    "METRIC_COLUMNS",
    "SEGMENT_COLUMNS",
    "Difference",
    "EvaluationResult",
    "SweepResult",
]

METRIC_COLUMNS = ["params", "model", "n", "metric", "value"]
SEGMENT_COLUMNS = ["params", "model", "n", "segment", "metric", "value"]
INTERVAL_COLUMNS = ["params", "model", "metric", "value", "low", "high"]


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


@dataclass(eq=False)
class EvaluationResult:
    """Metrics of several configurations on one split, at every requested N.

    Attributes
    ----------
    metrics : DataFrame
        Tidy: ``params`` (:class:`ModelParams`), ``model`` (its kind), ``n``, ``metric``,
        ``value``. Metrics are those of :func:`~recsys.evaluation.metrics.ranking_metrics` at
        ``n`` plus ``seconds`` (fit and scoring time of the configuration, once for all N).
    by_segment : DataFrame
        Tidy: ``params``, ``model``, ``n``, ``segment``, ``metric``, ``value`` (empty without
        segments).
    split : dict
        :meth:`~recsys.evaluation.split.Split.describe` of the split evaluated.
    ns : tuple of int
        The list lengths N of the metrics, ascending.
    skipped : dict
        :class:`ModelParams` -> reason, for configurations that could not run (e.g. EASE on a
        huge catalogue, segment popularity without segments).
    lists : dict
        :class:`ModelParams` -> its top-``max(ns)`` products (columns, ``-1`` padded) for every
        customer evaluated, in the rows of ``truth``; empty when the lists were not kept (the
        validation part of a sweep).
    truth : csr_matrix, optional
        The held-out products of the customers evaluated (one row each).
    popularity : ndarray, optional
        Share of training customers who bought each product.
    """

    metrics: pd.DataFrame
    by_segment: pd.DataFrame
    split: dict[str, Any]
    ns: tuple[int, ...]
    skipped: dict[ModelParams, str] = field(default_factory=dict)
    lists: dict[ModelParams, np.ndarray] = field(default_factory=dict)
    truth: sp.csr_matrix | None = None
    popularity: np.ndarray | None = None

    @property
    def params(self) -> list[ModelParams]:
        """The configurations evaluated, in the order they were given."""
        return list(dict.fromkeys(self.metrics["params"]))

    def _n(self, n: int | None) -> int:
        if n is None:
            if len(self.ns) != 1:
                raise ValueError(f"Say which N: this result has metrics at N = {self.ns}.")
            return self.ns[0]
        if n not in self.ns:
            raise ValueError(f"No metrics at N = {n}: this result has N = {self.ns}.")
        return int(n)

    def table(
        self, n: int | None = None, params: Sequence[ModelParams] | None = None
    ) -> pd.DataFrame:
        """Wide view at one N: one row per configuration, one column per metric.

        Parameters
        ----------
        n : int, optional
            The list length; may be left out when the result has only one.
        params : sequence of ModelParams, optional
            Only these configurations, in this order (those skipped are left out).

        Returns
        -------
        DataFrame
            ``params``, ``model``, then ``precision@N``, ..., ``coverage``, ``avg_popularity``,
            ``n_customers``, ``seconds``.
        """
        n = self._n(n)
        rows = self.metrics[self.metrics["n"] == n]
        if rows.empty:
            return pd.DataFrame(columns=["params", "model"])
        wide = rows.pivot_table(
            index="params",
            columns="metric",
            values="value",
            sort=False,
            aggfunc="first",
            dropna=False,
        )
        order = self.params if params is None else [p for p in params if p in wide.index]
        wide = wide.reindex(pd.Index(order, name="params", dtype=object))
        wide.columns.name = None
        out = wide.reset_index()
        out.insert(1, "model", [p.model for p in out["params"]])
        return out

    def _lists(self, params: ModelParams) -> np.ndarray:
        if params not in self.lists or self.truth is None:
            raise ValueError(
                f"No top-N lists were kept for {params.label()}: evaluate it with its lists to "
                "get intervals."
            )
        return self.lists[params]

    def intervals(
        self,
        n: int | None = None,
        params: Sequence[ModelParams] | None = None,
        *,
        n_boot: int = bootstrap.N_BOOT,
        level: float = 0.95,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Every metric at ``n`` with its bootstrap interval (customers resampled, seeded).

        Parameters
        ----------
        n : int, optional
            The list length; may be left out when the result has only one.
        params : sequence of ModelParams, optional
            Only these configurations (default: every one whose lists were kept).
        n_boot, level, seed
            See :func:`recsys.evaluation.bootstrap.intervals`.

        Returns
        -------
        DataFrame
            Tidy: ``params``, ``model``, ``metric`` (``ndcg@N``, ..., ``coverage``,
            ``avg_popularity``), ``value`` (on all customers), ``low``, ``high``.
        """
        n = self._n(n)
        chosen = [p for p in (self.params if params is None else params) if p in self.lists]
        rows = []
        for p in chosen:
            found = bootstrap.intervals(
                self._lists(p),
                self.truth,
                n,
                popularity=self.popularity,
                n_boot=n_boot,
                level=level,
                seed=seed,
            )
            rows += [
                {"params": p, "model": p.model, "metric": metric, **vars(interval)}
                for metric, interval in found.items()
            ]
        return pd.DataFrame(rows, columns=INTERVAL_COLUMNS)

    def difference(
        self,
        a: ModelParams,
        b: ModelParams,
        n: int | None = None,
        *,
        metric: str = "ndcg",
        n_boot: int = bootstrap.N_BOOT,
        level: float = 0.95,
        seed: int = 0,
    ) -> Difference:
        """``metric`` of ``a`` minus that of ``b`` at ``n``, with a paired bootstrap interval.

        ``Difference.distinguishable`` is False when the interval includes 0;
        ``Difference.sentence()`` says it in words. Labels are the configurations' labels.
        """
        n = self._n(n)
        return bootstrap.paired_difference(
            self._lists(a),
            self._lists(b),
            self.truth,
            n,
            metric=metric,
            labels=(a.label(), b.label()),
            popularity=self.popularity,
            n_boot=n_boot,
            level=level,
            seed=seed,
        )

    def against_best(
        self,
        n: int | None = None,
        params: Sequence[ModelParams] | None = None,
        *,
        metric: str = "ndcg",
        seed: int = 0,
    ) -> list[Difference]:
        """The configuration with the highest ``metric`` minus each other one (paired).

        Only configurations whose lists were kept take part; first in order on ties.
        """
        n = self._n(n)
        chosen = [p for p in (self.params if params is None else params) if p in self.lists]
        if len(chosen) < 2:
            return []
        column = f"{metric}@{n}" if metric in PER_CUSTOMER_METRICS else metric
        values = self.table(n, chosen).set_index("params")[column].fillna(-np.inf)
        best = chosen[int(np.argmax([values[p] for p in chosen]))]
        return [
            self.difference(best, other, n, metric=metric, seed=seed)
            for other in chosen
            if other != best
        ]

    def segments(self, n: int | None = None) -> pd.DataFrame:
        """The tidy per-segment metrics at one N."""
        return self.by_segment[self.by_segment["n"] == self._n(n)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: one entry per configuration with its settings and metrics per N."""
        models = []
        for params in self.params:
            rows = self.metrics[self.metrics["params"] == params]
            by_n: dict[str, dict[str, float | None]] = {}
            for n, metric, value in zip(rows["n"], rows["metric"], rows["value"], strict=True):
                by_n.setdefault(str(n), {})[metric] = _number(value)
            models.append({"params": params.to_dict(), "label": params.label(), "metrics": by_n})
        return {
            "ns": [int(n) for n in self.ns],
            "split": dict(self.split),
            "models": models,
            "skipped": [
                {"params": p.to_dict(), "label": p.label(), "reason": reason}
                for p, reason in self.skipped.items()
            ],
        }

    @classmethod
    def combine(cls, results: Sequence[EvaluationResult]) -> EvaluationResult:
        """One result from several on the same split and customers (e.g. the per-configuration
        results of ``evaluate(on_result=...)``), configurations in the order given; their kept
        lists too (truth and popularity are the same on one split: the first kept is used)."""
        if not results:
            raise ValueError("Nothing to combine: give at least one EvaluationResult.")
        first = results[0]
        frames = [r.metrics for r in results if len(r.metrics)]
        segments = [r.by_segment for r in results if len(r.by_segment)]
        skipped = {p: why for r in results for p, why in r.skipped.items()}
        lists = {p: recs for r in results for p, recs in r.lists.items()}
        truth = next((r.truth for r in results if r.truth is not None), None)
        popularity = next((r.popularity for r in results if r.popularity is not None), None)
        return cls(
            pd.concat(frames, ignore_index=True) if frames else first.metrics.iloc[:0],
            pd.concat(segments, ignore_index=True) if segments else first.by_segment.iloc[:0],
            dict(first.split),
            first.ns,
            skipped,
            lists,
            truth,
            popularity,
        )

    @classmethod
    def from_rows(
        cls,
        rows: list[dict[str, Any]],
        segment_rows: list[dict[str, Any]],
        split: dict[str, Any],
        ns: Sequence[int],
        skipped: dict[ModelParams, str],
        *,
        lists: dict[ModelParams, np.ndarray] | None = None,
        truth: sp.csr_matrix | None = None,
        popularity: np.ndarray | None = None,
    ) -> EvaluationResult:
        """Build from tidy row dicts (see :data:`METRIC_COLUMNS` and :data:`SEGMENT_COLUMNS`)."""
        metrics = pd.DataFrame(rows, columns=METRIC_COLUMNS)
        by_segment = pd.DataFrame(segment_rows, columns=SEGMENT_COLUMNS)
        metrics["value"] = metrics["value"].astype(np.float64)
        by_segment["value"] = by_segment["value"].astype(np.float64)
        return cls(
            metrics,
            by_segment,
            split,
            tuple(sorted(ns)),
            skipped,
            dict(lists or {}),
            truth,
            popularity,
        )


@dataclass(eq=False)
class SweepResult:
    """Outcome of :func:`~recsys.evaluation.runner.sweep`.

    Attributes
    ----------
    validation : EvaluationResult
        Every configuration of the grid on the validation split.
    best : dict
        Model kind -> the chosen :class:`ModelParams`: the kind's default, unless the highest
        ``ndcg@N`` on validation is clearly ahead of it (see :mod:`recsys.evaluation.selection`).
    test : EvaluationResult
        The chosen configurations evaluated on the test split.
    seconds : float
        Wall time of the whole sweep.
    choices : dict
        Model kind -> :class:`~recsys.evaluation.selection.Choice`: the default, the validation
        winner, their paired difference and the decision, with :meth:`Choice.sentence`.
    """

    validation: EvaluationResult
    best: dict[str, ModelParams]
    test: EvaluationResult
    seconds: float
    choices: dict[str, Choice] = field(default_factory=dict)

    def sentences(self) -> list[str]:
        """Per model kind, what tuning chose and why, in plain words."""
        return [choice.sentence() for choice in self.choices.values()]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "validation": self.validation.to_dict(),
            "best": {kind: params.to_dict() for kind, params in self.best.items()},
            "test": self.test.to_dict(),
            "seconds": float(self.seconds),
            "decisions": {
                kind: {"kept_default": c.kept_default, "why": c.sentence()}
                for kind, c in self.choices.items()
            },
        }
