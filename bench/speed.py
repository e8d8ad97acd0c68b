"""Speed and memory benchmark of the user-kNN core, against plain scikit-learn.

Run with ``make bench`` (``.venv/bin/python bench/speed.py``); ``--sizes small|large|all`` and
``--skip-baseline``. See ``bench/README.md`` for what is measured and the figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.neighbors import NearestNeighbors

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys.data import schema as S
from recsys.data.dataset import Dataset
from recsys.models.matrix import Weighting, build_interactions
from recsys.models.ranking import top_n
from recsys.models.user_knn import UserKNN, neighbors_to_graph
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline

SIZES = {
    "small": (10_000, 2_000, 200_000),
    "large": (100_000, 10_000, 2_000_000),
}
K = 20
N_RECS = 10
CHUNK = 1000


# --- synthetic data ---------------------------------------------------------------------------
def make_purchases(
    n_customers: int, n_products: int, n_purchases: int, *, seed: int = 0
) -> pd.DataFrame:
    """Seeded purchase lines with power-law popularity and latent customer groups.

    Each customer belongs to one of ``n_customers // 500`` groups; a group likes a random set of
    2 % of the products. 70 % of a customer's lines come from the group's set (Zipf-like inside
    it), 30 % from the global Zipf(1.1) popularity, so neighbours are meaningful and a few
    products are bought by a large share of customers (the hard case for a sparse product).
    Customer activity is log-normal (a few heavy buyers, many light ones).
    """
    rng = np.random.default_rng(seed)
    n_groups = max(2, n_customers // 500)
    group_of = rng.integers(0, n_groups, n_customers)
    activity = rng.lognormal(0.0, 0.8, n_customers)
    customer = rng.choice(n_customers, n_purchases, p=activity / activity.sum())

    popularity = 1.0 / np.arange(1, n_products + 1) ** 1.1
    popularity = rng.permutation(popularity / popularity.sum())
    product = rng.choice(n_products, n_purchases, p=popularity)

    per_group = max(5, n_products // 50)
    liked = np.stack([rng.choice(n_products, per_group, replace=False) for _ in range(n_groups)])
    rank_p = 1.0 / np.arange(1, per_group + 1) ** 0.8
    in_group = rng.random(n_purchases) < 0.7
    pick = rng.choice(per_group, int(in_group.sum()), p=rank_p / rank_p.sum())
    product[in_group] = liked[group_of[customer[in_group]], pick]

    return pd.DataFrame(
        {
            S.CUSTOMER_ID: pd.array([f"C{i:07d}" for i in customer], dtype="str"),
            S.PRODUCT_ID: pd.array([f"P{j:06d}" for j in product], dtype="str"),
            S.QUANTITY: rng.integers(1, 4, n_purchases).astype(np.int64),
            S.AMOUNT: np.round(rng.gamma(2.0, 20.0, n_purchases), 2),
        }
    )


# --- measurement ------------------------------------------------------------------------------
def _rss_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    # Writing 5 to clear_refs resets the kernel's peak-RSS counter (VmHWM) of this process.
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


@dataclass
class Measure:
    seconds: float = 0.0
    peak_mib: float = 0.0
    method: str = ""
    result: Any = field(default=None, repr=False)


def measure(fn: Callable[[], Any]) -> Measure:
    """Wall time and peak memory above the starting point of one call.

    Memory is the peak resident set size (``VmHWM`` after resetting it through
    ``/proc/self/clear_refs``) minus the RSS at the start: it sees every allocation, including
    C++ ones of sparse_dot_topn. Where that is unavailable, tracemalloc's peak is used.
    """
    gc.collect()
    if _reset_peak() and _rss_kib("VmHWM") is not None:
        start = _rss_kib("VmRSS") or 0
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
        peak = (_rss_kib("VmHWM") or 0) - start
        return Measure(seconds, peak / 1024, "peak RSS delta", result)
    tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Measure(seconds, peak_bytes / 2**20, "tracemalloc peak", result)


Result = tuple[np.ndarray, np.ndarray, np.ndarray]  # neighbours, similarities, top-10


def recommend_all(model: UserKNN, X: sp.csr_matrix, *, chunk: int = CHUNK) -> Result:
    """Top-10 for every customer: neighbours (chunked inside kneighbors), then chunked scoring."""
    rows = np.arange(X.shape[0])
    sims, idx = model.kneighbors(X, rows=rows)
    out = np.empty((X.shape[0], N_RECS), dtype=np.int64)
    for start in range(0, X.shape[0], chunk):
        r = rows[start : start + chunk]
        scores = model.score_graph(neighbors_to_graph(sims[r], idx[r], X.shape[0]))
        out[r], _ = top_n(scores, N_RECS, exclude=X[r])
    return idx, sims, out


def recommend_all_sklearn(X: sp.csr_matrix, *, chunk: int = CHUNK) -> Result:
    """The same with plain scikit-learn neighbours (brute cosine on all customers at once)."""
    nn = NearestNeighbors(metric="cosine", algorithm="brute").fit(X)
    dist, idx = nn.kneighbors(X, K + 1)
    rows = np.arange(X.shape[0])
    # Drop each customer itself (first unless tied with an identical customer).
    own = idx == rows[:, None]
    keep = ~own
    keep[~own.any(axis=1), -1] = False
    sims = (1.0 - dist)[keep].reshape(-1, K)
    idx = idx[keep].reshape(-1, K)
    idx = np.where(sims > 0, idx, -1)
    sims = np.where(sims > 0, sims, 0.0)
    out = np.empty((X.shape[0], N_RECS), dtype=np.int64)
    for start in range(0, X.shape[0], chunk):
        r = rows[start : start + chunk]
        graph = neighbors_to_graph(sims[r], idx[r], X.shape[0])
        out[r], _ = top_n((graph @ X).tocsr(), N_RECS, exclude=X[r])
    return idx, sims, out


def one_customer_latency(model: UserKNN, X: sp.csr_matrix, *, n: int = 100) -> float:
    """Median seconds of one customer's recommendations (neighbours, score, support, top_n)."""
    rng = np.random.default_rng(1)
    times = []
    for i in rng.choice(X.shape[0], n, replace=False):
        t0 = time.perf_counter()
        row = X[[i]]
        graph = model.neighbor_graph(row, rows=[i])
        scores = model.score_graph(graph)
        model.support_graph(graph)
        top_n(scores, N_RECS, exclude=row)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def neighbour_agreement(ours: Result, base: Result, *, n: int = 200) -> str:
    """Spot check on ``n`` random customers.

    With binary weights many customers tie exactly; scikit-learn breaks such ties in no defined
    order (and rounds ``1 - cosine``), so the check reports: the k similarities agree (same
    neighbour quality), the neighbour lists are identical, and identical once tied neighbours
    are compared as sets of similarity values.
    """
    rng = np.random.default_rng(2)
    pick = rng.choice(ours[0].shape[0], min(n, ours[0].shape[0]), replace=False)
    same_sims = np.isclose(ours[1][pick], base[1][pick], atol=1e-9).all(axis=1)
    same_lists = (ours[0][pick] == base[0][pick]).all(axis=1)
    text = (
        f"similarities equal {int(same_sims.sum())}/{len(pick)}, "
        f"identical lists {int(same_lists.sum())}/{len(pick)}"
    )
    if same_sims.all():
        # Equal similarity sequences: any differing neighbour is tied with the one it replaces.
        text += " (the rest differ only among exactly tied neighbours)"
    return text


def run_size(name: str, *, baseline: bool) -> dict[str, Any]:
    n_c, n_p, n_l = SIZES[name]
    print(f"\n== {name}: {n_c:,} customers x {n_p:,} products x {n_l:,} purchase lines ==")
    t0 = time.perf_counter()
    df = make_purchases(n_c, n_p, n_l, seed=42)
    print(f"generated data in {time.perf_counter() - t0:.1f} s")

    build = measure(lambda: Weighting().fit_transform(build_interactions(df).matrix))
    X = build.result
    print(f"matrix: {X.shape[0]:,} x {X.shape[1]:,}, nnz {X.nnz:,}; build {build.seconds:.2f} s")
    fit = measure(lambda: UserKNN(n_neighbors=K, chunk_size=CHUNK).fit(X))
    model = fit.result
    print(f"fit {fit.seconds:.2f} s (compiled kernel index)")
    one = one_customer_latency(model, X)
    print(f"one customer: median {one * 1000:.1f} ms")
    ours = measure(lambda: recommend_all(model, X))
    print(
        f"all customers top-{N_RECS}, 1 process: {ours.seconds:.1f} s, peak {ours.peak_mib:.0f} MiB"
    )
    row = {
        "size": name,
        "customers": n_c,
        "nnz": X.nnz,
        "build_s": build.seconds,
        "fit_s": fit.seconds,
        "one_ms": one * 1000,
        "all_s": ours.seconds,
        "peak_mib": ours.peak_mib,
        "mem": ours.method,
        "backend": "kernel",
    }
    if (os.cpu_count() or 1) > 1:
        model.set_params(n_jobs=-1)
        par = measure(lambda: recommend_all(model, X))
        same = all(np.array_equal(a, b) for a, b in zip(ours.result, par.result, strict=True))
        print(
            f"all customers, n_jobs=-1 ({os.cpu_count()} threads): {par.seconds:.1f} s "
            f"(same result: {same})"
        )
        row["all_par_s"] = par.seconds
    row.update(product_path(df))
    if baseline:
        base = measure(lambda: recommend_all_sklearn(X))
        check = neighbour_agreement(ours.result, base.result)
        best = min(row["all_s"], row.get("all_par_s", np.inf))
        print(
            f"scikit-learn baseline: {base.seconds:.1f} s, peak {base.peak_mib:.0f} MiB; "
            f"speed-up x{base.seconds / ours.seconds:.1f} (1 process), "
            f"x{base.seconds / best:.1f} (best); neighbours: {check}"
        )
        row.update(
            base_s=base.seconds,
            base_peak_mib=base.peak_mib,
            speedup=base.seconds / ours.seconds,
            speedup_best=base.seconds / best,
            agree=check,
        )
    return row


def product_path(df: pd.DataFrame) -> dict[str, Any]:
    """What the dashboard and CLI run: RecommenderPipeline fit, one customer, every customer.

    ``recommend_many`` adds popularity fill, support counts and the id/name/category frame to
    the core path above, and searches neighbours in worker processes (its default n_jobs=-1).
    """
    data = Dataset(purchases=df)
    fit = measure(lambda: RecommenderPipeline(ModelParams(n_neighbors=K)).fit(data))
    pipe = fit.result
    rng = np.random.default_rng(1)
    ids = pipe.customer_ids[rng.choice(len(pipe.customer_ids), 100, replace=False)]
    times = []
    for customer in ids:
        started = time.perf_counter()
        pipe.recommend(customer, N_RECS)
        times.append(time.perf_counter() - started)
    full = measure(lambda: pipe.recommend_many(n=N_RECS))
    print(
        f"pipeline: fit {fit.seconds:.2f} s; recommend() one customer median "
        f"{np.median(times) * 1000:.1f} ms; recommend_many all customers {full.seconds:.1f} s, "
        f"peak {full.peak_mib:.0f} MiB, {len(full.result):,} rows"
    )
    return {
        "pipe_fit_s": fit.seconds,
        "pipe_one_ms": float(np.median(times) * 1000),
        "pipe_all_s": full.seconds,
        "pipe_peak_mib": full.peak_mib,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'size':<6} {'customers':>9} {'nnz':>9} {'build s':>7} {'fit s':>5} {'1 cust ms':>9} "
        f"{'all s':>6} {'all s -1':>8} {'peak MiB':>8} {'sklearn s':>9} {'skl MiB':>7} "
        f"{'x (1p)':>6} {'x best':>6}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        par = f"{r['all_par_s']:>8.1f}" if "all_par_s" in r else f"{'-':>8}"
        base = (
            f"{r['base_s']:>9.1f} {r['base_peak_mib']:>7.0f} {r['speedup']:>5.1f}x "
            f"{r['speedup_best']:>5.1f}x"
            if "base_s" in r
            else f"{'-':>9} {'-':>7} {'-':>6} {'-':>6}"
        )
        print(
            f"{r['size']:<6} {r['customers']:>9,} {r['nnz']:>9,} {r['build_s']:>7.2f} "
            f"{r['fit_s']:>5.2f} {r['one_ms']:>9.1f} {r['all_s']:>6.1f} {par} "
            f"{r['peak_mib']:>8.0f} {base}"
        )
    print("\nproduct path (RecommenderPipeline, what the dashboard and CLI run):")
    for r in rows:
        ratio = f", x{r['base_s'] / r['pipe_all_s']:.1f} vs scikit-learn" if "base_s" in r else ""
        print(
            f"{r['size']:<6} fit {r['pipe_fit_s']:.2f} s, one customer {r['pipe_one_ms']:.1f} ms, "
            f"recommend_many {r['pipe_all_s']:.1f} s (peak {r['pipe_peak_mib']:.0f} MiB){ratio}"
        )
    for r in rows:
        if "agree" in r:
            print(f"{r['size']}: neighbours vs scikit-learn, 200 random customers: {r['agree']}")
    if rows:
        print(
            f"backend {rows[0]['backend']}; k={K}, top-{N_RECS}, scoring in chunks of {CHUNK}; "
            f"memory = {rows[0]['mem']} of the 1-process all-customer run (sklearn: its run)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", choices=["small", "large", "all"], default="all")
    parser.add_argument("--skip-baseline", action="store_true", help="skip plain scikit-learn")
    args = parser.parse_args(argv)
    names = ["small", "large"] if args.sizes == "all" else [args.sizes]
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, {os.cpu_count()} cpus"
    )
    rows = [run_size(n, baseline=not args.skip_baseline) for n in names]
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
