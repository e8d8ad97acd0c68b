"""Benchmark of the compiled neighbour kernel: throughput, threads, scikit-learn for distances.

``.venv/bin/python bench/kernel.py`` (``--customers``, ``--small`` to change the sizes,
``--skip-slow`` to leave out the manhattan baseline). Data: ``bench/speed.py``'s seeded generator
(Zipf-like product popularity, latent customer groups), binary weights.

Printed per line: seconds of the all-customer neighbour search, the ratio to scikit-learn's
brute force (euclidean, manhattan), and multiply-adds per second (the index walk visits sum over
queries of the buyers of each of their products; each visit is one multiply-add, or one min-add
for manhattan).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import make_purchases

from recsys.models import knn_kernel
from recsys.models.matrix import Weighting, build_interactions

K = 20


def _time(fn: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[float, tuple]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def multiply_adds(X: sp.csr_matrix) -> int:
    """Index-walk visits of an all-customer search: sum over rows of their products' buyers."""
    df = np.diff(X.tocsc().indptr).astype(np.int64)
    return int(df[X.indices].sum())


def agreement(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> str:
    """Similarities equal to 1e-9 and how many neighbour lists are identical."""
    sims_ok = bool(np.allclose(a[0], b[0], rtol=0, atol=1e-9))
    same = int((a[1] == b[1]).all(axis=1).sum())
    return f"similarities equal: {sims_ok}, identical lists {same}/{a[1].shape[0]}"


def binary_matrix(n_customers: int, n_products: int, n_lines: int) -> sp.csr_matrix:
    df = make_purchases(n_customers, n_products, n_lines, seed=42)
    return Weighting().fit_transform(build_interactions(df).matrix).tocsr()


def cosine_all(X: sp.csr_matrix) -> None:
    n = X.shape[0]
    rows = np.arange(n, dtype=np.int64)
    madds = multiply_adds(X)
    print(f"cosine, all {n:,} customers, k={K}, nnz {X.nnz:,}, {madds / 1e9:.2f} G multiply-adds")
    index = knn_kernel.build_index(X)
    knn_kernel.kneighbors(index, X[:10], K, self_rows=rows[:10])  # compile / load the cache
    for threads in (1, 2):
        s, ours = _time(
            lambda t=threads: knn_kernel.kneighbors(index, X, K, self_rows=rows, n_threads=t)
        )
        print(
            f"  kernel, {threads} thread{'s' if threads > 1 else ' '}                  : "
            f"{s:7.2f} s, {madds / s / 1e9:.2f} G multiply-adds/s"
        )
        if threads == 1:
            one = ours
    print(f"  1 thread vs 2 threads: {agreement(one, ours)}")


def distance_all(X: sp.csr_matrix, metric: str, *, baseline: bool) -> None:
    n = X.shape[0]
    rows = np.arange(n, dtype=np.int64)
    madds = multiply_adds(X)
    print(f"{metric}, all {n:,} customers, k={K}, {madds / 1e9:.2f} G index visits")
    index = knn_kernel.build_index(X)
    knn_kernel.kneighbors(index, X[:10], K, metric=metric, self_rows=rows[:10])
    base_s = None
    if baseline:
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=K + 1, metric=metric, algorithm="brute").fit(X)
        base_s, _ = _time(lambda: nn.kneighbors(X))
        print(f"  scikit-learn brute NearestNeighbors        : {base_s:7.2f} s")
    for threads in (1, 2):
        s, ours = _time(
            lambda t=threads: knn_kernel.kneighbors(
                index, X, K, metric=metric, self_rows=rows, n_threads=t
            )
        )
        ratio = f"x{base_s / s:6.1f}" if base_s else "  (no baseline)"
        print(
            f"  kernel, {threads} thread{'s' if threads > 1 else ' '}                  : "
            f"{s:7.2f} s  {ratio}, {madds / s / 1e9:.2f} G visits/s"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--small", type=int, default=20_000, help="customers for the distances")
    parser.add_argument("--skip-slow", action="store_true", help="no manhattan baseline")
    args = parser.parse_args(argv)
    X = binary_matrix(args.customers, args.products, args.lines)
    cosine_all(X)
    small = X[: args.small]
    distance_all(small, "euclidean", baseline=True)
    distance_all(small, "manhattan", baseline=not args.skip_slow)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
