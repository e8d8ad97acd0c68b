"""Fit the propensity calibrator of a model on a temporal holdout (the campaign default).

:func:`fit_propensity` holds out each customer's most recently discovered products
(:func:`recsys.evaluation.split.temporal_split`), fits a pipeline with the same parameters on the
rest, recommends ``n`` products to every evaluated customer, labels each recommendation 1 when
the customer bought it in the held-out part, and fits a
:class:`~recsys.evaluation.calibration.PropensityCalibrator` on ``(score, rank) -> bought``.
The reliability table of the fit (predicted against observed, on the same recommendations) comes
with it, for a reliability chart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.data.dataset import Dataset
from recsys.errors import RecsysError
from recsys.evaluation.calibration import PropensityCalibrator, reliability_table
from recsys.evaluation.runner import sample_customers
from recsys.evaluation.split import temporal_split
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline

__all__ = ["PropensityFit", "fit_propensity"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass(frozen=True, eq=False)
class PropensityFit:
    """A fitted calibrator and how well it fits.

    Attributes
    ----------
    calibrator : PropensityCalibrator
    reliability : DataFrame
        :func:`~recsys.evaluation.calibration.reliability_table` of the fit.
    n_recommendations, n_customers : int
        Recommendations labelled and customers they went to.
    base_rate : float
        Share of those recommendations bought in the holdout.
    """

    calibrator: PropensityCalibrator
    reliability: pd.DataFrame
    n_recommendations: int
    n_customers: int
    base_rate: float


def fit_propensity(
    dataset: Dataset,
    params: ModelParams,
    *,
    n: int = 10,
    test_fraction: float = 0.2,
    min_products: int = 3,
    seed: int = 0,
    max_customers: int | None = None,
    progress: Progress | None = None,
) -> PropensityFit:
    """Fit P(buy | score, rank) for ``params`` on a temporal holdout of ``dataset``.

    ``max_customers``: label the recommendations of a seeded sample of at most this many of the
    customers with held-out products (:func:`recsys.evaluation.runner.sample_customers`; the
    model still trains on everyone's history, so its scores have the full model's scale);
    default all. ``progress(fraction, message)`` is told each step (split, fit, recommend).

    Raises
    ------
    RecsysError
        When no customer has ``min_products`` products, or nothing recommended was bought.
    """
    report = progress or (lambda fraction, message: None)
    report(0.0, "holding out each customer's latest products")
    split = temporal_split(
        dataset.purchases, test_fraction=test_fraction, min_products=min_products, seed=seed
    )
    customers = np.asarray(split.customers).astype(str)
    if not customers.size:
        raise RecsysError(
            f"No customer has {min_products} distinct products: too little history to calibrate "
            "the propensity."
        )
    train = Dataset(
        purchases=split.train,
        rewards=dataset.rewards,
        customers=dataset.customers,
        products=dataset.products,
    )
    pipe = RecommenderPipeline(params).fit(
        train, progress=lambda f, m: report(0.2 + 0.5 * f, f"training on the rest: {m}")
    )
    customers = customers[np.isin(customers, pipe.customers_.ids.astype(str))]
    customers = customers[sample_customers(np.arange(customers.size), max_customers, seed=seed)]
    recs = pipe.recommend_many(
        list(customers),
        n,
        progress=lambda f, m: report(0.7 + 0.25 * f, f"recommending: {m}"),
    )
    report(0.95, "calibrating")
    held = split.test[[S.CUSTOMER_ID, S.PRODUCT_ID]].astype(str).assign(_bought=1)
    labelled = recs.astype({S.CUSTOMER_ID: str, S.PRODUCT_ID: str}).merge(
        held, on=[S.CUSTOMER_ID, S.PRODUCT_ID], how="left"
    )
    bought = labelled["_bought"].fillna(0).to_numpy(np.float64)
    X = labelled[[S.SCORE, S.RANK]].to_numpy(np.float64)
    calibrator = PropensityCalibrator().fit(X, bought, groups=labelled[S.CUSTOMER_ID].to_numpy())
    prob = calibrator.predict_proba(X)[:, 1]
    log.info(
        "propensity: %s on %d recommendations, %.2f%% bought",
        calibrator.method_,
        len(labelled),
        100 * bought.mean(),
    )
    return PropensityFit(
        calibrator=calibrator,
        reliability=reliability_table(prob, bought),
        n_recommendations=int(len(labelled)),
        n_customers=int(labelled[S.CUSTOMER_ID].nunique()),
        base_rate=float(bought.mean()),
    )
