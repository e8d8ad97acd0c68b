"""End-to-end benchmark: the product's command line against the seed's recipe, as processes.

``make bench`` (``.venv/bin/python bench/cli.py``): for each size (default 10k and 100k
customers), one seeded synthetic data set (``bench/export.py``: purchases with dates and
amounts, products with categories, customers with segments, 200 offers) written as CSV, then

- the seed's recipe (``bench/seed_recipe.py``: read CSV, scikit-learn brute-force cosine
  ``NearestNeighbors`` in chunks, similarity-weighted scores, top-10 excluding purchases,
  write CSV) as one process;
- the product as a user runs it: ``python -m recsys train`` then ``python -m recsys export``,
  each a process.

Printed per step: wall seconds and the peak resident memory of that process (``wait4``'s
rusage of the child), the product's total (train + export) and its ratio to the seed's recipe,
and the load average, because the machine may be shared.

``make bench-large`` (``--large``): the product alone at 1M customers x 20k products x 10M
lines, each step's time and peak memory, then one customer's recommendations with offers
(``rewards_for``) for 50 customers in a process that has loaded the model: median and max.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

SIZES = {
    "10k": (10_000, 2_000, 200_000),
    "100k": (100_000, 10_000, 2_000_000),
    "1m": (1_000_000, 20_000, 10_000_000),
}


def run(label: str, argv: list[str]) -> tuple[float, float]:
    """Run one child process; returns (wall seconds, its peak RSS in MiB) and prints them."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{label} failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    print(f"  {label:<34} {seconds:8.1f} s  peak {peak:7.0f} MiB", flush=True)
    return seconds, peak


def write_data(folder: Path, n_customers: int, n_products: int, n_lines: int) -> None:
    from export import make_dataset  # bench/export.py: the same synthetic files

    data = make_dataset(n_customers, n_products, n_lines, seed=42)
    purchases = data.purchases[["customer_id", "product_id", "quantity", "amount", "purchase_date"]]
    purchases.to_csv(folder / "purchases.csv", index=False, date_format="%Y-%m-%d")
    data.rewards.to_csv(folder / "rewards.csv", index=False, date_format="%Y-%m-%d")
    data.customers.to_csv(folder / "customers.csv", index=False)
    data.products.to_csv(folder / "products.csv", index=False)


def product(folder: Path, py: str) -> tuple[float, float, float, float]:
    files = [
        arg
        for name in ("purchases", "rewards", "customers", "products")
        for arg in (f"--{name}", str(folder / f"{name}.csv"))
    ]
    model = str(folder / "model.joblib")
    # The seed's recipe is a plain k=20 cosine user-kNN: train exactly that, whatever the defaults.
    seed_settings = ["--k", "20", "--metric", "cosine", "--weighting", "binary",
                     "--similarity-power", "1", "--asymmetry", "0.5", "--shrink", "0",
                     "--popularity-penalty", "0"]  # fmt: skip
    train = run(
        "python -m recsys train",
        [py, "-m", "recsys", "train", *files, *seed_settings, "--out", model],
    )
    export = run(
        "python -m recsys export --n 10",
        [py, "-m", "recsys", "export", "--model-file", model, "--out", str(folder / "export.csv")],
    )
    return train[0], train[1], export[0], export[1]


def latency(folder: Path, n_customers: int = 50) -> None:
    from recsys.store import load_pipeline

    pipe = load_pipeline(folder / "model.joblib")
    rng = np.random.default_rng(0)
    ids = rng.choice(pipe.customer_ids, n_customers, replace=False)
    pipe.rewards_for(ids[0], 10)  # first call: hash tables of the id lookups
    times = []
    for customer in ids:
        start = time.perf_counter()
        pipe.rewards_for(customer, 10)
        times.append((time.perf_counter() - start) * 1000)
    print(
        f"  one customer, rewards_for (n=10)   median {statistics.median(times):6.1f} ms, "
        f"max {max(times):6.1f} ms over {n_customers} customers",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["10k", "100k"])
    parser.add_argument("--large", action="store_true", help="the product alone at 1M")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    py = sys.executable
    sizes = ["1m"] if args.large else args.sizes
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cpus, "
        f"load average {os.getloadavg()[0]:.1f} at the start",
        flush=True,
    )
    for size in sizes:
        n_customers, n_products, n_lines = SIZES[size]
        with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as tmp:
            folder = Path(tmp)
            start = time.perf_counter()
            write_data(folder, n_customers, n_products, n_lines)
            print(
                f"{n_customers:,} customers x {n_products:,} products x {n_lines:,} lines, "
                f"top-10, k=20, cosine (data written in {time.perf_counter() - start:.0f} s)",
                flush=True,
            )
            seed = None
            if not (args.large or args.skip_baseline):
                seed = run(
                    "seed recipe (scikit-learn brute)",
                    [
                        py,
                        str(HERE / "seed_recipe.py"),
                        str(folder / "purchases.csv"),
                        str(folder / "seed.csv"),
                    ],
                )
            t_s, t_mib, e_s, e_mib = product(folder, py)
            total = t_s + e_s
            peak = max(t_mib, e_mib)
            line = f"  {'product train + export':<34} {total:8.1f} s  peak {peak:7.0f} MiB"
            if seed is not None:
                line += f"  seed recipe / product = {seed[0] / total:.1f}x"
            print(line, flush=True)
            if args.large:
                latency(folder)
            print(f"  load average (1, 5, 15 min): {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
