"""Customer x product interaction matrices: id vocabularies, construction and weighting.

The model only ever sees integer rows and columns of a CSR matrix; :class:`IdIndex` owns the
mapping between string ids and those integers, and raises
:class:`~recsys.errors.UnknownCustomerError` for an id it does not know.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from recsys.data import schema as S
from recsys.data.codes import factorize_text
from recsys.errors import DataValidationError, UnknownCustomerError, make_problem
from recsys.params import VALUES, WEIGHTINGS

logger = logging.getLogger(__name__)

__all__ = [
    "VALUES",
    "WEIGHTINGS",
    "IdIndex",
    "InteractionMatrix",
    "Weighting",
    "build_interactions",
]


Missing = Literal["raise", "drop", "mask"]


class IdIndex:
    """A vocabulary: sorted unique string ids <-> positions ``0..n-1``.

    Parameters
    ----------
    ids : iterable of str
        Ids, in any order, duplicates allowed; they are kept as text and sorted, so the same set
        of ids always gets the same positions.
    what : str, default="customer"
        What the ids name; used in the :class:`~recsys.errors.UnknownCustomerError` message.

    Attributes
    ----------
    ids : ndarray of object
        The sorted unique ids; ``ids[i]`` is the id at position ``i``.

    Examples
    --------
    >>> index = IdIndex(["c2", "c10", "c2", "007"])
    >>> index.ids.tolist()
    ['007', 'c10', 'c2']
    >>> index.index_of("c2"), "c3" in index
    (2, False)
    >>> index.indices_of(["c10", "nope"], missing="mask").tolist()
    [1, -1]
    """

    def __init__(self, ids: Iterable[object], *, what: str = "customer") -> None:
        values = pd.Series(list(ids), dtype=object).astype(str).to_numpy(dtype=object)
        self.ids: np.ndarray = np.unique(values)
        self.what = what
        self._lookup = pd.Index(self.ids)

    @classmethod
    def _from_sorted(cls, ids: np.ndarray, what: str) -> IdIndex:
        # Construction from ids already unique and sorted (e.g. pd.factorize(sort=True)).
        index = cls.__new__(cls)
        index.ids = np.asarray(ids, dtype=object)
        index.what = what
        index._lookup = pd.Index(index.ids)
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, id: object) -> bool:
        return str(id) in self._lookup

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdIndex) and np.array_equal(self.ids, other.ids)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container; compare by value

    def __repr__(self) -> str:
        return f"IdIndex(n={len(self)}, what={self.what!r})"

    def __getstate__(self) -> dict[str, object]:
        # The hash table is rebuilt on load: smaller artifacts, no pandas-internal pickles.
        return {"ids": self.ids, "what": self.what}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.ids = np.asarray(state["ids"], dtype=object)
        self.what = str(state["what"])
        self._lookup = pd.Index(self.ids)

    def _arrow_ids(self) -> pa.Array:
        # Built on first use, never pickled (see __getstate__).
        arrow = getattr(self, "_arrow", None)
        if arrow is None:
            arrow = self._arrow = pa.array(self.ids.tolist(), type=pa.string())
        return arrow

    def take(self, positions: np.ndarray) -> pd.api.extensions.ExtensionArray:
        """The ids at ``positions``, as a pandas ``str`` array (no Python object per id).

        >>> IdIndex(["b", "a"]).take(np.array([1, 1, 0])).tolist()
        ['b', 'b', 'a']
        """
        text = getattr(self, "_str_ids", None)
        if text is None:  # built on first use, never pickled (see __getstate__)
            text = self._str_ids = pd.array(self.ids, dtype="str")
        return text.take(np.asarray(positions, dtype=np.int64))

    def index_of(self, id: object) -> int:
        """Position of one id; raises :class:`~recsys.errors.UnknownCustomerError` if unknown."""
        pos = self._lookup.get_indexer([str(id)])[0]
        if pos < 0:
            raise UnknownCustomerError(id, self.what)
        return int(pos)

    def indices_of(self, ids: Iterable[object], *, missing: Missing = "raise") -> np.ndarray:
        """Positions of many ids (int64, vectorised).

        Parameters
        ----------
        ids : iterable of str
        missing : {"raise", "drop", "mask"}, default="raise"
            Unknown ids raise :class:`~recsys.errors.UnknownCustomerError` (naming the first),
            are dropped, or are returned as ``-1``.
        """
        if missing not in ("raise", "drop", "mask"):
            raise ValueError(f"missing must be 'raise', 'drop' or 'mask', got {missing!r}")
        keys = _text(ids)
        # A hash lookup in C++ (pyarrow), no Python object per id: 2M purchase lines in well
        # under a second, where pandas' get_indexer on object ids took seconds.
        found = pc.index_in(keys, value_set=self._arrow_ids())
        pos = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        unknown = pos < 0
        if unknown.any():
            if missing == "raise":
                first = int(np.flatnonzero(unknown)[0])
                raise UnknownCustomerError(keys[first].as_py(), self.what)
            if missing == "drop":
                pos = pos[~unknown]
        return pos


def _text(ids: Iterable[object]) -> pa.Array:
    """Ids as one arrow string array, converted as ``str(id)`` (the vocabulary's rule)."""
    if isinstance(ids, pd.Series | pd.Index):
        values = ids if isinstance(ids.dtype, pd.StringDtype) else ids.astype(object).astype(str)
    elif isinstance(ids, np.ndarray):
        values = pd.Series(ids.astype(object), copy=False).astype(str)
    else:
        values = pd.Series(list(ids), dtype=object).astype(str)
    arrow = pa.array(values.array if isinstance(values, pd.Series) else values, type=pa.string())
    return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow


@dataclass
class InteractionMatrix:
    """Raw customer x product values and the vocabularies of its rows and columns.

    Attributes
    ----------
    matrix : csr_matrix of shape (n_customers, n_products)
        float64, sorted indices, no duplicates and no explicit zeros.
    customers, products : IdIndex
    """

    matrix: sp.csr_matrix
    customers: IdIndex
    products: IdIndex

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape


def _codes(column: pd.Series, index: IdIndex | None, what: str) -> tuple[np.ndarray, IdIndex]:
    if index is None:
        codes, uniques = factorize_text(column, sort=True)
        return codes, IdIndex._from_sorted(np.asarray(uniques, dtype=object), what)
    return index.indices_of(column, missing="mask"), index


def build_interactions(
    purchases: pd.DataFrame,
    *,
    value: str = "count",
    customers: IdIndex | None = None,
    products: IdIndex | None = None,
) -> InteractionMatrix:
    """Aggregate purchase lines into a sparse customer x product matrix of raw values.

    Parameters
    ----------
    purchases : DataFrame
        Canonical purchases (``customer_id``, ``product_id``, ``quantity``, ``amount``).
    value : {"count", "quantity", "amount"}, default="count"
        ``count`` = number of purchase lines, ``quantity`` = units bought, ``amount`` = spend
        (empty amounts count as 0).
    customers, products : IdIndex, optional
        Fixed vocabularies (e.g. those of a fitted model, for a test period). Purchase lines whose
        customer or product is not in them are dropped (logged). By default the vocabularies are
        the sorted ids found in ``purchases``.

    Returns
    -------
    InteractionMatrix

    Raises
    ------
    ValueError
        For an unknown ``value``.
    DataValidationError
        ``value="amount"`` on a file whose amounts are all empty (no amount column).

    Examples
    --------
    >>> df = pd.DataFrame({"customer_id": ["a", "a", "b"], "product_id": ["x", "x", "y"],
    ...                    "quantity": [1, 2, 1], "amount": [5.0, float("nan"), 3.0]})
    >>> build_interactions(df).matrix.toarray().tolist()
    [[2.0, 0.0], [0.0, 1.0]]
    >>> build_interactions(df, value="quantity").matrix.toarray().tolist()
    [[3.0, 0.0], [0.0, 1.0]]
    >>> build_interactions(df, value="amount").matrix.toarray().tolist()
    [[5.0, 0.0], [0.0, 3.0]]
    """
    if value not in VALUES:
        raise ValueError(f"value must be one of {VALUES}, got {value!r}")
    if value == "count":
        data = np.ones(len(purchases), dtype=np.float64)
    elif value == "quantity":
        data = purchases[S.QUANTITY].to_numpy(dtype=np.float64, na_value=1.0)
    else:
        amount = purchases[S.AMOUNT].to_numpy(dtype=np.float64, na_value=np.nan)
        if len(amount) and np.isnan(amount).all():
            problem = make_problem(
                "purchases",
                S.AMOUNT,
                "the purchases file has no amount column (every amount is empty), so spend "
                "cannot be used as the interaction value",
                "choose value 'count' or 'quantity', or upload purchases with an amount column",
            )
            raise DataValidationError([problem])
        data = np.nan_to_num(amount, nan=0.0)

    rows, customers = _codes(purchases[S.CUSTOMER_ID], customers, "customer")
    cols, products = _codes(purchases[S.PRODUCT_ID], products, "product")
    known = (rows >= 0) & (cols >= 0)
    if not known.all():
        logger.info(
            "dropped %d purchase lines with ids outside the given vocabularies", int((~known).sum())
        )
        rows, cols, data = rows[known], cols[known], data[known]

    # COO -> CSR sums the duplicates (one entry per customer/product pair).
    matrix = sp.coo_matrix(
        (data, (rows, cols)), shape=(len(customers), len(products)), dtype=np.float64
    ).tocsr()
    matrix.sum_duplicates()
    # A zero spend is not evidence of interest; explicit zeros would also count as "bought".
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return InteractionMatrix(matrix=matrix, customers=customers, products=products)


class Weighting(TransformerMixin, BaseEstimator):
    """Turn raw interaction values into the weights the similarity is computed on.

    Parameters
    ----------
    weighting : {"binary", "count", "log1p", "tfidf", "bm25"}, default="binary"
        - ``binary``: 1 for every product bought;
        - ``count``: the raw value (count, quantity or amount);
        - ``log1p``: ``log(1 + value)``, damps heavy buyers;
        - ``tfidf``: raw value x ``idf``, ``idf = log((1 + n) / (1 + df)) + 1`` (smoothed, as in
          scikit-learn; ``n`` customers, ``df`` customers who bought the product): products
          everybody buys weigh less;
        - ``bm25``: ``value * (k1 + 1) / (value + k1 * (1 - b + b * length / avg_length)) * idf``
          with ``idf = log(1 + (n - df + 0.5) / (df + 0.5))`` and ``length`` the row sum.
    k1, b : float, default=1.2, 0.75
        BM25 saturation and length normalisation.

    Attributes
    ----------
    idf_ : ndarray of shape (n_products,) or None
        Learned in ``fit`` (tfidf, bm25), so new rows (what-if baskets) are weighted consistently.
    avg_length_ : float or None
        Mean row sum seen in ``fit`` (bm25).
    n_features_in_ : int

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[2.0, 1.0], [0.0, 3.0]]))
    >>> Weighting(weighting="binary").fit_transform(X).toarray().tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    >>> w = Weighting(weighting="tfidf").fit(X)
    >>> w.idf_.round(3).tolist()
    [1.405, 1.0]
    """

    def __init__(self, *, weighting: str = "binary", k1: float = 1.2, b: float = 0.75) -> None:
        self.weighting = weighting
        self.k1 = k1
        self.b = b

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        return tags

    def _check(self, X: object, *, reset: bool) -> sp.csr_matrix:
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=reset)
        X = sp.csr_matrix(X)
        if X.nnz and X.data.min() < 0:
            raise ValueError(
                "Negative values in data passed to Weighting: interaction values must be >= 0."
            )
        return X

    def fit(self, X: object, y: object = None) -> Weighting:
        """Learn the product idf and mean row length (only used by tfidf / bm25)."""
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {self.weighting!r}")
        if not (np.isscalar(self.k1) and self.k1 >= 0):
            raise ValueError(f"k1 must be a number >= 0, got {self.k1!r}")
        if not (np.isscalar(self.b) and 0 <= self.b <= 1):
            raise ValueError(f"b must be a number in [0, 1], got {self.b!r}")
        X = self._check(X, reset=True)
        n = X.shape[0]
        df = np.bincount(X.indices[X.data > 0], minlength=X.shape[1]).astype(np.float64)
        self.idf_: np.ndarray | None = None
        self.avg_length_: float | None = None
        if self.weighting == "tfidf":
            self.idf_ = np.log((1.0 + n) / (1.0 + df)) + 1.0
        elif self.weighting == "bm25":
            self.idf_ = np.log1p((n - df + 0.5) / (df + 0.5))
            lengths = np.asarray(X.sum(axis=1)).ravel()
            self.avg_length_ = float(lengths.mean()) if n else 1.0
        return self

    def transform(self, X: object) -> sp.csr_matrix:
        """Weight rows (training rows or new ones) with what ``fit`` learned."""
        check_is_fitted(self, "n_features_in_")
        X = self._check(X, reset=False).astype(np.float64, copy=True)
        X.sum_duplicates()
        w = self.weighting
        if w == "binary":
            X.data[:] = 1.0
        elif w == "log1p":
            np.log1p(X.data, out=X.data)
        elif w == "tfidf":
            X.data *= self.idf_[X.indices]
        elif w == "bm25":
            lengths = np.asarray(X.sum(axis=1)).ravel()
            avg = self.avg_length_ or 1.0
            norm = self.k1 * (1.0 - self.b + self.b * lengths / avg)
            row_norm = np.repeat(norm, np.diff(X.indptr))
            X.data = X.data * (self.k1 + 1.0) / (X.data + row_norm) * self.idf_[X.indices]
        X.eliminate_zeros()
        X.sort_indices()
        return X
