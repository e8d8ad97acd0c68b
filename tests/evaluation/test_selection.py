"""Tests for recsys.evaluation.selection: tuning keeps the default unless the gain is clear."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.evaluation.metrics import ranking_metrics
from recsys.evaluation.results import EvaluationResult
from recsys.evaluation.selection import choose
from recsys.params import ModelParams
from tests.known_data import plain_knn

M = 400  # validation customers
DEFAULT = plain_knn()  # the kind's default of these tests (its label is in the sentences)
OTHER = plain_knn(n_neighbors=50)
POP = ModelParams(model="popularity")
DEFAULTS = {"user_knn": DEFAULT, "popularity": POP}

# Customer c held out product c % 3; a one-item list hits when it names that product.
TRUTH = sp.csr_matrix((np.ones(M), (np.arange(M), np.arange(M) % 3)), shape=(M, 3))


def lists_hitting(hits: np.ndarray) -> np.ndarray:
    """One-item lists that hit exactly the customers where ``hits`` is True."""
    held_out = np.arange(M) % 3
    return np.where(hits, held_out, (held_out + 1) % 3)[:, None]


def validation_of(lists: dict[ModelParams, np.ndarray]) -> EvaluationResult:
    """A validation result at N = 1 made from the given lists (metrics computed from them)."""
    rows = []
    for params, recs in lists.items():
        for metric, value in ranking_metrics(recs, TRUTH).items():
            rows.append(
                {"params": params, "model": params.model, "n": 1, "metric": metric, "value": value}
            )
    return EvaluationResult.from_rows(rows, [], {}, [1], {}, lists=lists, truth=TRUTH)


BASE_HITS = np.arange(M) < 120  # the default hits 120 of 400 customers: NDCG@1 = 0.30


def test_a_tiny_noisy_gain_keeps_the_default() -> None:
    # OTHER hits 6 customers the default misses and misses 4 it hits: +2 hits, NDCG +0.005,
    # with a paired standard error of about 0.008, so the interval includes 0.
    hits = BASE_HITS.copy()
    hits[200:206] = True
    hits[:4] = False
    validation = validation_of(
        {DEFAULT: lists_hitting(BASE_HITS), OTHER: lists_hitting(hits), POP: lists_hitting(hits)}
    )
    choice = choose(validation, DEFAULTS, 1)["user_knn"]
    assert choice.best == OTHER and choice.chosen == DEFAULT and choice.kept_default
    assert choice.difference.mean == pytest.approx(2 / M)
    assert choice.difference.low <= 0.0
    assert choice.tried == 2
    sentence = choice.sentence()
    assert sentence.startswith("user_knn: kept the default settings (user_knn k=20 cosine")
    assert "+0.0050 ndcg@1" in sentence and "may be luck" in sentence


def test_a_clear_gain_switches() -> None:
    # OTHER hits 60 more customers and misses none the default hits: NDCG +0.15, interval > 0.
    hits = BASE_HITS | ((np.arange(M) >= 200) & (np.arange(M) < 260))
    validation = validation_of({DEFAULT: lists_hitting(BASE_HITS), OTHER: lists_hitting(hits)})
    choice = choose(validation, DEFAULTS, 1)["user_knn"]
    assert choice.chosen == OTHER and not choice.kept_default
    assert choice.difference.mean == pytest.approx(60 / M)
    assert choice.difference.low > 0.1
    assert choice.sentence().startswith(
        "user_knn: switched from the default (user_knn k=20 cosine binary/count) to "
        "user_knn k=50 cosine binary/count: ahead by +0.1500 ndcg@1"
    )


def test_the_default_wins_a_tie_and_a_lone_default_is_kept_without_a_bootstrap() -> None:
    same = lists_hitting(BASE_HITS)
    choices = choose(validation_of({OTHER: same, DEFAULT: same.copy(), POP: same}), DEFAULTS, 1)
    assert choices["user_knn"].best == DEFAULT == choices["user_knn"].chosen
    assert choices["user_knn"].difference is None
    assert choices["popularity"].kept_default and choices["popularity"].tried == 1
    assert choices["popularity"].sentence() == (
        "popularity: kept the default settings (popularity), the only setting tried."
    )
    assert "none of the other 1 settings tried scored higher" in choices["user_knn"].sentence()


def test_a_worse_candidate_never_replaces_the_default() -> None:
    worse = BASE_HITS & (np.arange(M) >= 50)
    validation = validation_of({OTHER: lists_hitting(worse), DEFAULT: lists_hitting(BASE_HITS)})
    choice = choose(validation, DEFAULTS, 1)["user_knn"]
    assert choice.best == DEFAULT == choice.chosen and choice.difference is None


def test_a_kind_without_its_default_evaluated_is_an_error() -> None:
    validation = validation_of({OTHER: lists_hitting(BASE_HITS)})
    with pytest.raises(ValueError, match="was not evaluated"):
        choose(validation, DEFAULTS, 1)
    with pytest.raises(ValueError, match="No default"):
        choose(validation, {}, 1)
