"""factorize_text gives exactly pd.factorize's codes and distinct values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data.codes import factorize_text

WORDS = np.array(["b", "a", "", " a", "Zoë", "東京", "a\u0301", "B", "10", "9", "\U0001f600"])


@pytest.mark.parametrize("sort", [False, True])
@pytest.mark.parametrize("kind", ["str", "object", "chunked"])
@pytest.mark.parametrize("seed", range(4))
def test_matches_pandas_factorize(sort: bool, kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = WORDS[rng.integers(0, len(WORDS), 300)].astype(object)
    values[rng.random(300) < 0.1] = None
    if kind == "object":
        column = pd.Series(values, dtype=object)
    elif kind == "str":
        column = pd.Series(values, dtype="str")
    else:  # several Arrow chunks, as a CSV read in blocks gives
        column = pd.concat(
            [pd.Series(values[:100], dtype="str"), pd.Series(values[100:], dtype="str")],
            ignore_index=True,
        )
    expected_codes, expected = pd.factorize(column.astype("str"), sort=sort)
    codes, uniques = factorize_text(column, sort=sort)
    assert codes.dtype == np.int64
    assert codes.tolist() == expected_codes.tolist()
    assert uniques.tolist() == list(expected) and uniques.dtype == "str"


def test_empty_and_all_missing() -> None:
    for values in ([], [None, None]):
        codes, uniques = factorize_text(pd.Series(values, dtype="str"), sort=True)
        assert codes.tolist() == [-1] * len(values) and len(uniques) == 0
