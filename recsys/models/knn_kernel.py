"""Exact top-k neighbour search over sparse rows, one compiled kernel for every metric.

A self-contained module (numpy, scipy and numba only; nothing from ``recsys``) so that it can move
with the package layout unchanged.

For every query row the kernel walks the query's products through an inverted index
(product -> buyers with their weights) and accumulates, in one dense accumulator of length
``n_customers`` per thread, the one quantity every metric needs from the overlap:

- cosine: the dot product of the L2-normalised rows;
- euclidean: the dot product ``u.v`` of the weighted rows, then
  ``d^2 = |u|^2 + |v|^2 - 2 u.v`` (clipped at 0);
- manhattan (non-negative rows): ``sum_i min(u_i, v_i)``, then
  ``d = |u|_1 + |v|_1 - 2 sum_i min(u_i, v_i)``.

The top ``k`` are kept in a sorted ``k``-array with the exact tie rule (higher similarity first,
then lower training row), so results never depend on the visiting order, on the number of threads
or on how queries are chunked. No customer x customer block is ever materialised: the work is two
branch-free passes over the buyers lists of the query's products (scatter, then rank and reset;
see :func:`_search`), plus ``O(k)`` for the norm-only candidates of euclidean and manhattan (see
:func:`_scan_by_norm`). Threads are plain Python threads over the compiled function, which
releases the GIL.

Conventions match ``recsys.models.user_knn.UserKNN.kneighbors``: similarity is
``1 - cosine distance`` for cosine and ``1 / (1 + d)`` for euclidean and manhattan; only
similarities ``> 0`` and ``>= min_similarity`` are kept; padding is index ``-1`` with similarity
``0.0``.
"""

from __future__ import annotations

import math
import numbers
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

__all__ = ["METRICS", "KernelIndex", "build_index", "kneighbors"]

METRICS: tuple[str, ...] = ("cosine", "euclidean", "manhattan")

# Kernel modes (plain ints: numba compiles one function, the branch is per candidate, not per
# multiply-add, except for the min/product choice which the CPU predicts perfectly).
_COSINE, _ASYM_COSINE, _EUCLIDEAN, _MANHATTAN = 0, 1, 2, 3
# Rank by a sequential scan of the accumulator when the query's visits exceed n_rows / this.
_SCAN_RATIO = 32


@dataclass(frozen=True)
class KernelIndex:
    """Precomputed, read-only view of the training rows (plain numpy arrays, picklable).

    Attributes
    ----------
    n_rows, n_cols : int
        Training customers and products.
    indptr, indices, data : ndarray
        The training rows in canonical CSR form (float64 values, explicit zeros removed).
    csc_indptr, csc_rows : ndarray
        Inverted index: the buyers of product ``j`` are
        ``csc_rows[csc_indptr[j]:csc_indptr[j + 1]]`` (ascending).
    csc_data, csc_data_l2 : ndarray
        The buyers' weights, raw and divided by the buyer's L2 norm.
    sq_norm, l1_norm : ndarray of shape (n_rows,)
        ``|v|^2`` and ``sum_i v_i`` of every row, summed in CSR order (the order the kernel sums
        a query in, so a query equal to a training row has distance exactly 0 to it).
    order_l2, run_end_l2 : ndarray of shape (n_rows,)
        Rows sorted by (``sq_norm``, row); ``run_end_l2[p]`` is the first position after the
        run of equal ``sq_norm`` that contains position ``p``.
    order_l1, run_end_l1 : ndarray of shape (n_rows,)
        The same for ``l1_norm``.
    nonnegative : bool
        No stored value is negative (required by the manhattan identity).
    """

    n_rows: int
    n_cols: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    csc_indptr: np.ndarray
    csc_rows: np.ndarray
    csc_data: np.ndarray
    csc_data_l2: np.ndarray
    sq_norm: np.ndarray
    l1_norm: np.ndarray
    order_l2: np.ndarray
    run_end_l2: np.ndarray
    order_l1: np.ndarray
    run_end_l1: np.ndarray
    nonnegative: bool

    @property
    def nnz(self) -> int:
        """Stored values of the training rows."""
        return int(self.data.size)

    def csr(self) -> sp.csr_matrix:
        """The training rows as a CSR matrix sharing the index's (read-only) arrays."""
        X = sp.csr_matrix((self.n_rows, self.n_cols), dtype=np.float64)
        X.data, X.indices, X.indptr = self.data, self.indices, self.indptr
        X.has_canonical_format = True
        return X


# --- compiled pieces --------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _row_norms(indptr: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Sequential sums in CSR order: the kernel sums each query row the same way (see KernelIndex).
    n = indptr.size - 1
    sq = np.zeros(n, dtype=np.float64)
    l1 = np.zeros(n, dtype=np.float64)
    for r in range(n):
        s2 = 0.0
        s1 = 0.0
        for p in range(indptr[r], indptr[r + 1]):
            s2 += data[p] * data[p]
            s1 += data[p]
        sq[r] = s2
        l1[r] = s1
    return sq, l1


@numba.njit(cache=True, nogil=True, inline="always")
def _insert(top_s: np.ndarray, top_i: np.ndarray, filled: int, s: float, v: int) -> int:
    """Insert (s, v) into the sorted top arrays; returns the new fill count.

    Order: higher similarity first, then lower row. The caller has checked that a full array's
    last entry loses to (s, v).
    """
    k = top_s.size
    if filled < k:
        pos = filled
        filled += 1
    else:
        pos = k - 1
    while pos > 0 and (top_s[pos - 1] < s or (top_s[pos - 1] == s and top_i[pos - 1] > v)):
        top_s[pos] = top_s[pos - 1]
        top_i[pos] = top_i[pos - 1]
        pos -= 1
    top_s[pos] = s
    top_i[pos] = v
    return filled


@numba.njit(cache=True, nogil=True, inline="always")
def _beats_last(top_s: np.ndarray, top_i: np.ndarray, filled: int, s: float, v: int) -> bool:
    k = top_s.size
    if filled < k:
        return True
    return s > top_s[k - 1] or (s == top_s[k - 1] and v < top_i[k - 1])


@numba.njit(cache=True, nogil=True)
def _overlap(
    q_lo: int,
    q_hi: int,
    q_indices: np.ndarray,
    q_data: np.ndarray,
    x_indptr: np.ndarray,
    x_indices: np.ndarray,
    x_data: np.ndarray,
    v: int,
    manhattan: bool,
) -> float:
    """The overlap term of query and row ``v``, summed in the order the index walk sums it.

    Both rows are sorted, so the merge visits the shared products in ascending order, as the walk
    does (it adds the query's products one after the other): the result is bit-identical to
    ``acc[v]`` of the walk.
    """
    a = 0.0
    p = q_lo
    e = x_indptr[v]
    e_hi = x_indptr[v + 1]
    while p < q_hi and e < e_hi:
        jq = q_indices[p]
        jx = x_indices[e]
        if jq == jx:
            a += min(q_data[p], x_data[e]) if manhattan else q_data[p] * x_data[e]
            p += 1
            e += 1
        elif jq < jx:
            p += 1
        else:
            e += 1
    return a


@numba.njit(cache=True, nogil=True)
def _scan_by_norm(
    top_s: np.ndarray,
    top_i: np.ndarray,
    filled: int,
    q_lo: int,
    q_hi: int,
    q_indices: np.ndarray,
    q_data: np.ndarray,
    x_indptr: np.ndarray,
    x_indices: np.ndarray,
    x_data: np.ndarray,
    self_row: int,
    q_norm: float,
    key: np.ndarray,
    order: np.ndarray,
    run_end: np.ndarray,
    euclidean: bool,
    min_sim: float,
) -> int:
    """Add the customers who share no product with the query (euclidean, manhattan).

    Why this is exact and cheap. For a customer ``v`` whose overlap term with the query is 0,
    its distance is ``sqrt(|q|^2 + |v|^2)`` (euclidean) or ``|q|_1 + |v|_1`` (manhattan): a
    function of ``key[v]`` alone. That function is evaluated with correctly rounded, monotone
    operations (+, sqrt, 1 + d, 1 / x), so the computed similarity is non-increasing in
    ``key[v]``. Walking rows in (key, row) order therefore visits those customers in an order
    where similarities never increase and, within a run of equal keys, rows increase. So:

    1. once a visited customer's similarity is strictly below the current k-th kept value (or
       below ``min_similarity``), every later one is too: stop;
    2. if it equals the k-th value but has a higher row, the rest of its equal-key run (same
       similarity, higher rows) loses too: jump to the end of the run. A later run could only
       tie through rounding of ``|q|^2 + key``; it is still examined, never skipped;
    3. customers with a non-zero overlap term (ranked by the index walk with it) and the
       query's own row are skipped; the overlap is recomputed by a merge of the two sorted rows
       (:func:`_overlap`), bit-identical to the walk's.

    In exact arithmetic with distinct keys this takes the first ``k`` non-overlapping non-self
    rows of the order, plus the overlapping ones passed on the way (a few merges of short rows).
    A customer with an empty row (key 0) comes first, as in scikit-learn.
    """
    n = order.size
    p = 0
    while p < n:
        v = order[p]
        if v == self_row or (
            q_hi > q_lo
            and _overlap(
                q_lo, q_hi, q_indices, q_data, x_indptr, x_indices, x_data, v, not euclidean
            )
            != 0.0
        ):
            p += 1
            continue
        d = math.sqrt(max(q_norm + key[v], 0.0)) if euclidean else max(q_norm + key[v], 0.0)
        s = 1.0 / (1.0 + d)
        if not (s > 0.0 and s >= min_sim):
            break
        if filled == top_s.size:
            last = top_s.size - 1
            if s < top_s[last]:
                break
            if s == top_s[last] and v > top_i[last]:
                p = run_end[p]
                continue
        filled = _insert(top_s, top_i, filled, s, v)
        p += 1
    return filled


@numba.njit(cache=True, nogil=True)
def _search(
    start: int,
    stop: int,
    q_indptr: np.ndarray,
    q_indices: np.ndarray,
    q_data: np.ndarray,
    self_rows: np.ndarray,
    c_indptr: np.ndarray,
    c_rows: np.ndarray,
    c_data: np.ndarray,
    x_indptr: np.ndarray,
    x_indices: np.ndarray,
    x_data: np.ndarray,
    sq_norm: np.ndarray,
    l1_norm: np.ndarray,
    sq_norm_power: np.ndarray,
    order: np.ndarray,
    run_end: np.ndarray,
    n_rows: int,
    mode: int,
    min_sim: float,
    shrink: float,
    alpha: float,
    out_s: np.ndarray,
    out_i: np.ndarray,
) -> None:
    """Neighbours of query rows ``start:stop`` (one thread; the GIL is released).

    Two passes over the buyers lists of the query's products, with no branch on "first visit"
    in either (a data-dependent branch mispredicts on most visits: 40 % of all customers share
    a product with a typical query):

    1. scatter: ``acc[v] += contribution``, a pure streaming scatter;
    2. re-walk the same lists: read ``acc[v]`` (complete now), rank it, and reset it to 0, so a
       second visit of ``v`` reads 0 and is dropped by the ``s > 0`` test (cosine), or by the
       ``acc != 0`` test (the distances; a zero overlap term is the norm scan's case).

    ``acc`` stays all zeros between queries; no stamp array, no list of touched rows.
    """
    k = out_s.shape[1]
    count_common = shrink > 0.0
    acc = np.zeros(n_rows, dtype=np.float64)
    common = np.zeros(n_rows if count_common else 1, dtype=np.int32)
    top_s = np.empty(k, dtype=np.float64)
    top_i = np.empty(k, dtype=np.int64)
    cosine = mode <= _ASYM_COSINE  # _COSINE or _ASYM_COSINE
    for i in range(start, stop):
        lo = q_indptr[i]
        hi = q_indptr[i + 1]
        q_sq = 0.0
        q_l1 = 0.0
        for p in range(lo, hi):
            q_sq += q_data[p] * q_data[p]
            q_l1 += q_data[p]
        q_l2 = math.sqrt(q_sq)
        me = self_rows[i]
        filled = 0
        if hi > lo and q_sq > 0.0:
            # Pass 1: one loop per metric, no per-element branch.
            if mode == _MANHATTAN:
                for p in range(lo, hi):
                    j = q_indices[p]
                    w = q_data[p]
                    for e in range(c_indptr[j], c_indptr[j + 1]):
                        acc[c_rows[e]] += min(w, c_data[e])
            else:
                for p in range(lo, hi):
                    j = q_indices[p]
                    w = q_data[p] / q_l2 if mode == _COSINE else q_data[p]
                    for e in range(c_indptr[j], c_indptr[j + 1]):
                        acc[c_rows[e]] += w * c_data[e]
            if count_common:
                for p in range(lo, hi):
                    j = q_indices[p]
                    for e in range(c_indptr[j], c_indptr[j + 1]):
                        common[c_rows[e]] += 1
            # Pass 2: rank and reset. `cut` is what a similarity must reach to be worth the
            # exact test (the k-th kept value once k are kept).
            cut = min_sim
            q_pow = q_sq**alpha if mode == _ASYM_COSINE else 1.0
            visits = 0
            for p in range(lo, hi):
                j = q_indices[p]
                visits += c_indptr[j + 1] - c_indptr[j]
            if mode == _COSINE and not count_common and visits * _SCAN_RATIO > n_rows:
                # Most customers were touched: one sequential pass over the accumulator (in
                # row order, which the tie rule makes irrelevant) costs less than re-walking
                # every buyers list with a random read and write per visit.
                for v in range(n_rows):
                    a = acc[v]
                    # Once k are kept, cut > 0 and this test is almost always false: a branch
                    # the CPU predicts, unlike "was v touched".
                    if a >= cut and a > 0.0 and v != me:
                        s = min(a, 1.0)
                        if _beats_last(top_s, top_i, filled, s, v):
                            filled = _insert(top_s, top_i, filled, s, v)
                            if filled == k:
                                cut = max(min_sim, top_s[k - 1])
                acc[:] = 0.0
                continue_general = False
            elif mode == _COSINE and not count_common:
                # The default, in a loop of its own: the general loop's per-element metric
                # branches cost more than the walk. s = min(a, 1) and cut <= 1, so
                # "s >= cut" is "a >= cut".
                for p in range(lo, hi):
                    j = q_indices[p]
                    for e in range(c_indptr[j], c_indptr[j + 1]):
                        v = c_rows[e]
                        a = acc[v]
                        acc[v] = 0.0
                        if a >= cut and a > 0.0 and v != me:
                            s = min(a, 1.0)
                            if _beats_last(top_s, top_i, filled, s, v):
                                filled = _insert(top_s, top_i, filled, s, v)
                                if filled == k:
                                    cut = max(min_sim, top_s[k - 1])
                continue_general = False
            elif mode == _ASYM_COSINE and not count_common:
                # The asymmetric default in a loop of its own too. "s >= cut" is tested first
                # as "a >= lim x |v|^2 ** (1 - alpha)", lim a little below cut x |u|^(2 alpha)
                # (the roundings of s), a test almost always false once k are kept; the exact
                # s decides.
                lim = cut * q_pow * (1.0 - 1e-12)
                for p in range(lo, hi):
                    j = q_indices[p]
                    for e in range(c_indptr[j], c_indptr[j + 1]):
                        v = c_rows[e]
                        a = acc[v]
                        acc[v] = 0.0
                        if a >= lim * sq_norm_power[v] and a > 0.0 and v != me:
                            s = a / (q_pow * sq_norm_power[v])
                            if s > 0.0 and s >= cut and _beats_last(top_s, top_i, filled, s, v):
                                filled = _insert(top_s, top_i, filled, s, v)
                                if filled == k:
                                    cut = max(min_sim, top_s[k - 1])
                                    lim = cut * q_pow * (1.0 - 1e-12)
                continue_general = False
            else:
                continue_general = True
            for p in range(lo, hi if continue_general else lo):
                j = q_indices[p]
                for e in range(c_indptr[j], c_indptr[j + 1]):
                    v = c_rows[e]
                    a = acc[v]
                    acc[v] = 0.0
                    if cosine:
                        if mode == _COSINE:
                            # |u.v| of unit rows can exceed 1 by an ulp; scikit-learn clips.
                            s = min(a, 1.0)
                        else:
                            s = a / (q_pow * sq_norm_power[v]) if a != 0.0 else 0.0
                        if count_common:
                            c = common[v]
                            common[v] = 0
                            s *= c / (c + shrink)
                    elif a == 0.0:
                        continue
                    elif mode == _EUCLIDEAN:
                        s = 1.0 / (1.0 + math.sqrt(max(q_sq + sq_norm[v] - 2.0 * a, 0.0)))
                    else:
                        s = 1.0 / (1.0 + max(q_l1 + l1_norm[v] - 2.0 * a, 0.0))
                    if s > 0.0 and s >= cut and v != me and _beats_last(top_s, top_i, filled, s, v):
                        filled = _insert(top_s, top_i, filled, s, v)
                        if filled == k:
                            cut = max(min_sim, top_s[k - 1])
        euclidean = mode == _EUCLIDEAN
        if euclidean or mode == _MANHATTAN:
            # Customers sharing no product: the same scan by norm for both metrics.
            filled = _scan_by_norm(
                top_s,
                top_i,
                filled,
                lo,
                hi,
                q_indices,
                q_data,
                x_indptr,
                x_indices,
                x_data,
                me,
                q_sq if euclidean else q_l1,
                sq_norm if euclidean else l1_norm,
                order,
                run_end,
                euclidean,
                min_sim,
            )
        for t in range(filled):
            out_s[i, t] = top_s[t]
            out_i[i, t] = top_i[t]
        for t in range(filled, k):
            out_s[i, t] = 0.0
            out_i[i, t] = -1


@numba.njit(cache=True, nogil=True)
def _powers(values: np.ndarray, exponent: float) -> np.ndarray:
    # The kernel's own ``**`` (numpy's power can differ from it in the last bit).
    out = np.empty_like(values)
    for v in range(values.size):
        out[v] = values[v] ** exponent
    return out


# --- Python API -------------------------------------------------------------------------------
def _canonical_csr(X: object, name: str) -> sp.csr_matrix:
    if not sp.issparse(X):
        raise ValueError(f"{name} must be a scipy sparse matrix, got {type(X).__name__}")
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    if X.data.size and not np.isfinite(X.data).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def _norm_order(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # (key, row) order: lexsort's last key is primary; rows ascending within equal keys.
    n = key.size
    order = np.lexsort((np.arange(n), key)).astype(np.int64)
    sorted_key = key[order]
    # run_end[p] = first position whose key differs from position p's key.
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    ends = np.r_[starts[1:], n]
    run_end = np.repeat(ends, ends - starts).astype(np.int64)
    return order, run_end


# Exponents of |v|^2 kept per index (asymmetric cosine: 1 - alpha); a model uses one.
_POWERS_KEPT = 4


def _sq_norm_power(index: KernelIndex, exponent: float) -> np.ndarray:
    """``|v|^2 ** exponent`` of every training row, computed once per index and exponent.

    A power per visit made asymmetric cosine several times slower than cosine. The arrays live
    in the index's ``__dict__`` (a frozen dataclass still has one), so they are saved with a
    model and rebuilt for an index saved before.
    """
    kept = index.__dict__.setdefault("_sq_norm_powers", {})
    if exponent not in kept:
        if len(kept) >= _POWERS_KEPT:
            kept.clear()
        kept[exponent] = _frozen(_powers(index.sq_norm, exponent))
    return kept[exponent]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def build_index(X: sp.spmatrix) -> KernelIndex:
    """Precompute everything the neighbour kernel reads about the training rows.

    Parameters
    ----------
    X : sparse matrix of shape (n_customers, n_products)
        Weighted training rows (duplicates are summed, explicit zeros dropped; not modified).

    Returns
    -------
    KernelIndex
        Read-only arrays: CSR rows, the inverted index (CSC), row norms and norm orders.

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]))
    >>> index = build_index(X)
    >>> index.n_rows, index.n_cols, index.sq_norm.tolist(), index.csc_rows.tolist()
    (2, 3, [2.0, 2.0], [0, 0, 1, 1])
    """
    X = _canonical_csr(X, "X")
    n_rows, n_cols = X.shape
    sq, l1 = _row_norms(X.indptr.astype(np.int64), X.data)
    l2 = np.sqrt(sq)
    csc = X.tocsc()
    csc.sort_indices()
    # Buyers as int32 when they fit: the walk streams this array, half the bytes is faster.
    row_dtype = np.int32 if n_rows < 2**31 else np.int64
    csc_rows = csc.indices.astype(row_dtype)
    owner_norm = l2[csc_rows]
    # The same division the kernel applies to a query row (w / |q|), so equal rows normalise to
    # bit-identical values.
    csc_data_l2 = np.divide(csc.data, owner_norm, out=np.zeros_like(csc.data), where=owner_norm > 0)
    order_l2, run_end_l2 = _norm_order(sq)
    order_l1, run_end_l1 = _norm_order(l1)
    return KernelIndex(
        n_rows=int(n_rows),
        n_cols=int(n_cols),
        # scipy's own index dtype (int32 while it fits), so that :meth:`KernelIndex.csr` can wrap
        # these arrays without a copy.
        indptr=_frozen(X.indptr),
        indices=_frozen(X.indices),
        data=_frozen(X.data),
        csc_indptr=_frozen(csc.indptr.astype(np.int64)),
        csc_rows=_frozen(csc_rows),
        csc_data=_frozen(csc.data),
        csc_data_l2=_frozen(csc_data_l2),
        sq_norm=_frozen(sq),
        l1_norm=_frozen(l1),
        order_l2=_frozen(order_l2),
        run_end_l2=_frozen(run_end_l2),
        order_l1=_frozen(order_l1),
        run_end_l1=_frozen(run_end_l1),
        nonnegative=bool(X.data.size == 0 or X.data.min() >= 0),
    )


def _real(value: object, name: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _threads(n_threads: int | None) -> int:
    available = numba.config.NUMBA_NUM_THREADS
    if n_threads is None:
        return available
    if not isinstance(n_threads, numbers.Integral) or isinstance(n_threads, bool):
        raise ValueError(f"n_threads must be an integer >= 1 or None, got {n_threads!r}")
    if n_threads < 1:
        raise ValueError(f"n_threads must be an integer >= 1 or None, got {n_threads!r}")
    # numba cannot start more threads than its pool; asking for more is not an error.
    return min(int(n_threads), available)


# Query rows per task: big enough that a task's start (one zeroed accumulator) is noise, small
# enough that the tasks of a batch spread evenly over the threads.
_TASK_ROWS = 2048


def _run(threads: int, m: int, *args: object) -> None:
    if threads == 1 or m <= _TASK_ROWS // 4:
        _search(0, m, *args)
        return
    # Plain threads over a compiled function that releases the GIL: no numba threading layer
    # (whose "workqueue" fallback aborts when two Python threads enter parallel code, as the
    # dashboard's sessions would), and tasks are handed out as threads free up, so heavy rows
    # do not leave one thread working alone. Each query row is computed by one task alone, so
    # results do not depend on the number of threads or on the task size.
    size = max(64, min(_TASK_ROWS, -(-m // (4 * threads))))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(_search, s, min(s + size, m), *args) for s in range(0, m, size)]:
            future.result()


def kneighbors(
    index: KernelIndex,
    Q: sp.spmatrix,
    k: int,
    *,
    metric: str = "cosine",
    self_rows: np.ndarray | None = None,
    min_similarity: float = 0.0,
    shrink: float = 0.0,
    alpha: float = 0.5,
    n_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` most similar training rows of every query row.

    Parameters
    ----------
    index : KernelIndex
        From :func:`build_index` on the training rows.
    Q : sparse matrix of shape (m, n_products)
        Query rows, weighted like the training rows.
    k : int
        Neighbours per query (``>= 1``).
    metric : {"cosine", "euclidean", "manhattan"}, default="cosine"
        Similarity is ``1 - cosine distance``, or ``1 / (1 + d)`` for the distances. Manhattan
        needs non-negative rows (every weighting of the project is).
    self_rows : ndarray of shape (m,), optional
        Training row of each query, ``-1`` for none; never returned as its own neighbour.
    min_similarity : float, default=0.0
        Only similarities ``> 0`` and ``>= min_similarity`` are kept.
    shrink : float, default=0.0
        Cosine only: multiply each similarity by ``n_common / (n_common + shrink)``, where
        ``n_common`` is the number of products the two rows share (damps one-product overlaps).
    alpha : float, default=0.5
        Cosine only: asymmetric cosine ``u.v / (|u|^(2 alpha) |v|^(2 (1 - alpha)))`` of the
        weighted (not normalised) query ``u`` and neighbour ``v``; ``0.5`` is plain cosine.
    n_threads : int, optional
        Threads (default: numba's pool, one per core). Results do not depend on it.

    Returns
    -------
    similarity : ndarray of shape (m, k), float64
        Descending; ties broken by lower training row; ``0.0`` padding.
    index : ndarray of shape (m, k), int64
        Training rows; ``-1`` where fewer than ``k`` rows qualify.

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=float))
    >>> sim, idx = kneighbors(build_index(X), X[[0]], 2, self_rows=np.array([0]))
    >>> idx.tolist(), sim.round(3).tolist()
    ([[1, -1]], [[0.816, 0.0]])
    >>> kneighbors(build_index(X), X[[0]], 2, metric="euclidean")[1].tolist()
    [[0, 1]]
    """
    if not isinstance(index, KernelIndex):
        raise ValueError(
            f"index must be a KernelIndex from build_index, got {type(index).__name__}"
        )
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    k = int(k)
    min_similarity = _real(min_similarity, "min_similarity")
    if min_similarity < 0:
        raise ValueError(f"min_similarity must be >= 0, got {min_similarity!r}")
    shrink = _real(shrink, "shrink")
    if shrink < 0:
        raise ValueError(f"shrink must be >= 0, got {shrink!r}")
    alpha = _real(alpha, "alpha")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if metric != "cosine" and (shrink != 0.0 or alpha != 0.5):
        raise ValueError(f"shrink and alpha apply to metric='cosine' only, not {metric!r}")
    threads = _threads(n_threads)
    Q = _canonical_csr(Q, "Q")
    m, n_cols = Q.shape
    if n_cols != index.n_cols:
        raise ValueError(f"Q has {n_cols} columns, the index {index.n_cols}")
    if self_rows is None:
        own = np.full(m, -1, dtype=np.int64)
    else:
        own = np.asarray(self_rows)
        if own.shape != (m,) or not np.issubdtype(own.dtype, np.integer):
            raise ValueError(
                f"self_rows must be an integer array of shape ({m},), got "
                f"{own.dtype} of shape {own.shape}"
            )
        own = own.astype(np.int64)
        if own.size and (own.min() < -1 or own.max() >= index.n_rows):
            raise ValueError(f"self_rows must be -1 or a training row in [0, {index.n_rows})")
    if metric == "manhattan" and not (
        index.nonnegative and (Q.data.size == 0 or Q.data.min() >= 0)
    ):
        raise ValueError("metric='manhattan' needs non-negative values in the index and queries")

    out_s = np.zeros((m, k), dtype=np.float64)
    out_i = np.full((m, k), -1, dtype=np.int64)
    if m == 0 or index.n_rows == 0:
        return out_s, out_i
    if metric == "cosine":
        mode = _COSINE if alpha == 0.5 else _ASYM_COSINE
        data, order, run_end = (
            (index.csc_data_l2 if mode == _COSINE else index.csc_data),
            index.order_l2,
            index.run_end_l2,
        )
    elif metric == "euclidean":
        mode, data, order, run_end = _EUCLIDEAN, index.csc_data, index.order_l2, index.run_end_l2
    else:
        mode, data, order, run_end = _MANHATTAN, index.csc_data, index.order_l1, index.run_end_l1
    _run(
        threads,
        m,
        Q.indptr.astype(np.int64),
        Q.indices.astype(np.int64),
        Q.data,
        own,
        index.csc_indptr,
        index.csc_rows,
        data,
        index.indptr,
        index.indices,
        index.data,
        index.sq_norm,
        index.l1_norm,
        _sq_norm_power(index, 1.0 - alpha) if mode == _ASYM_COSINE else index.sq_norm,
        order,
        run_end,
        index.n_rows,
        mode,
        min_similarity,
        shrink,
        alpha,
        out_s,
        out_i,
    )
    return out_s, out_i
