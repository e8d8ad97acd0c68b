"""Tuning that never does worse than doing nothing: keep a model's default unless the gain is clear.

The best of many configurations on one validation split is, by luck alone, a little ahead of the
rest: with dozens tried, the winner's margin over the default is partly noise, and on the test
split it can fall below the default. :func:`choose` therefore compares, per model kind, the
validation winner with that kind's default on the *same* validation customers (a paired bootstrap,
:func:`~recsys.evaluation.bootstrap.paired_difference`), and moves away from the default only when
the lower end of the 95 % interval of the difference is above 0. :class:`Choice` records what was
compared and says the outcome in a plain sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from recsys.evaluation.bootstrap import Difference
from recsys.params import ModelParams

__all__ = ["Choice", "choose"]


class Scored(Protocol):
    """What :func:`choose` needs of an :class:`~recsys.evaluation.results.EvaluationResult`
    (named by its methods, so that results can hold :class:`Choice` without an import cycle)."""

    def table(self, n: int | None = None) -> pd.DataFrame: ...

    def difference(
        self, a: ModelParams, b: ModelParams, n: int | None = None, *, level: float, seed: int
    ) -> Difference: ...


@dataclass(frozen=True)
class Choice:
    """What tuning chose for one model kind, and why.

    Attributes
    ----------
    kind : str
        The model kind, e.g. ``"user_knn"``.
    default : ModelParams
        The kind's default configuration (always a candidate).
    best : ModelParams
        The configuration with the highest NDCG on the validation split (the default on ties).
    chosen : ModelParams
        ``best`` when its gain over ``default`` is clear, else ``default``.
    difference : Difference or None
        ``best`` minus ``default`` on the validation customers (paired bootstrap); None when the
        best is the default.
    tried : int
        Configurations of this kind evaluated on the validation split.
    """

    kind: str
    default: ModelParams
    best: ModelParams
    chosen: ModelParams
    difference: Difference | None
    tried: int

    @property
    def kept_default(self) -> bool:
        """True when tuning left the default settings in place."""
        return self.chosen == self.default

    def sentence(self) -> str:
        """The decision in plain words.

        Examples
        --------
        >>> p, q = ModelParams(), ModelParams(n_neighbors=50)
        >>> Choice("user_knn", p, p, p, None, 3).sentence()
        'user_knn: kept the default settings (user_knn k=200 cosine power=3 asym=0.7 pop_penalty=0.2 binary/count): none of the other 2 settings tried scored higher on the validation split.'
        """  # noqa: E501
        d = self.difference
        if d is None and self.tried == 1:
            return (
                f"{self.kind}: kept the default settings ({self.default.label()}), the only "
                "setting tried."
            )
        if d is None:
            return (
                f"{self.kind}: kept the default settings ({self.default.label()}): none of the "
                f"other {self.tried - 1} settings tried scored higher on the validation split."
            )
        gain = f"{d.mean:+.4f} {d.metric}"
        span = f"{100 * d.level:g} % interval {d.low:+.4f} to {d.high:+.4f}"
        if self.kept_default:
            return (
                f"{self.kind}: kept the default settings ({self.default.label()}): the best of "
                f"{self.tried} tried on the validation split ({self.best.label()}) was ahead by "
                f"{gain}, but the {span} reaches 0 or below, so the gain may be luck."
            )
        return (
            f"{self.kind}: switched from the default ({self.default.label()}) to "
            f"{self.chosen.label()}: ahead by {gain} on the validation split ({span}, above 0)."
        )


def choose(
    validation: Scored,
    defaults: Mapping[str, ModelParams],
    n: int,
    *,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Choice]:
    """Per model kind of ``validation``, the validation winner if clearly ahead of the default.

    Parameters
    ----------
    validation : EvaluationResult
        Every configuration on the validation split, with its lists kept (each kind's default
        among them).
    defaults : mapping
        Model kind -> its default configuration.
    n : int
        The N of the NDCG that decides.
    level : float, default 0.95
        Level of the paired interval; the winner replaces the default only when the interval's
        lower end is above 0.
    seed : int, default 0
        Seed of the bootstrap.

    Returns
    -------
    dict
        Model kind -> :class:`Choice`, in the order the kinds first appear in ``validation``.

    Raises
    ------
    ValueError
        When a kind has no default in ``defaults``, or its default was not evaluated (a kind
        that was skipped as a whole is not in ``validation`` and is not an error).
    """
    table = validation.table(n)
    column = f"ndcg@{n}"
    out: dict[str, Choice] = {}
    for kind, group in table.groupby("model", sort=False):
        kind = str(kind)
        if kind not in defaults:
            raise ValueError(f"No default {kind} configuration to compare with.")
        default = defaults[kind]
        values = dict(zip(group["params"], group[column].fillna(-np.inf), strict=True))
        params = list(group["params"])
        if default not in values:
            raise ValueError(f"The default {kind} configuration ({default.label()}) was not "
                             "evaluated, so tuning has nothing to compare with.")  # fmt: skip
        # The default wins ties: a setting must be strictly ahead to be considered at all.
        best = max(params, key=lambda p: (values[p], p == default))
        difference = None
        chosen = default
        if best != default:
            difference = validation.difference(best, default, n, level=level, seed=seed)
            if difference.low > 0.0:
                chosen = best
        out[kind] = Choice(kind, default, best, chosen, difference, len(params))
    return out
