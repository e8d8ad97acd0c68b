"""Campaign export benchmark: every customer's top-10 with offers, to CSV and Parquet.

Run with ``.venv/bin/python bench/export.py`` (defaults: 100k customers x 10k products x 2M
purchase lines, the "large" size of ``bench/speed.py``, whose data generator is reused). The
synthetic data gain categories, dates, segments, 200 offers of every type and 50k redemptions,
so offer matching, spend realism and caps do real work. Prints, per step, wall time and peak
memory (peak RSS above the starting point, as in ``bench/speed.py``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speed import make_purchases, measure  # bench/speed.py: same data, same meter

from recsys.campaigns.campaign_export import write_campaign
from recsys.data import schema as S
from recsys.data.dataset import Dataset
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline

N_CATEGORIES = 20
SEGMENTS = ("affluent", "family", "student", "traveller", "young_urban")


def make_dataset(n_customers: int, n_products: int, n_purchases: int, *, seed: int = 0) -> Dataset:
    """Synthetic purchases (bench/speed.py) plus the files a campaign needs, seeded."""
    rng = np.random.default_rng(seed)
    purchases = make_purchases(n_customers, n_products, n_purchases, seed=seed)
    days = rng.integers(0, 540, len(purchases))
    purchases[S.PURCHASE_DATE] = pd.Timestamp("2025-01-01") + pd.to_timedelta(days, unit="D")
    product_ids = np.array([f"P{j:06d}" for j in range(n_products)], dtype=object)
    products = pd.DataFrame(
        {
            S.PRODUCT_ID: product_ids,
            S.PRODUCT_NAME: [f"Product {j}" for j in range(n_products)],
            S.CATEGORY: [f"cat{j % N_CATEGORIES:02d}" for j in range(n_products)],
        }
    )
    customer_ids = np.unique(purchases[S.CUSTOMER_ID].to_numpy(dtype=object))
    customers = pd.DataFrame(
        {
            S.CUSTOMER_ID: customer_ids,
            S.SEGMENT: rng.choice(SEGMENTS, customer_ids.size),
        }
    )
    n_offers = 200
    by_product = rng.random(n_offers) < 0.6
    rewards = pd.DataFrame(
        {
            S.OFFER_ID: [f"O{i:04d}" for i in range(n_offers)],
            S.PRODUCT_ID: np.where(by_product, rng.choice(product_ids, n_offers), None),
            S.CATEGORY: np.where(
                by_product, None, [f"cat{c:02d}" for c in rng.integers(0, N_CATEGORIES, n_offers)]
            ),
            S.TITLE: [f"Offer {i}" for i in range(n_offers)],
            S.REWARD_TYPE: rng.choice(S.REWARD_TYPES, n_offers),
            S.REWARD_VALUE: rng.choice([2.0, 3.0, 5.0, 10.0, 25.0], n_offers),
            S.MIN_SPEND: rng.choice([0.0, 25.0, 50.0, 100.0], n_offers),
            S.START_DATE: pd.Timestamp("2026-01-01"),
            S.END_DATE: pd.Timestamp("2026-12-31"),
            S.SEGMENT: np.where(rng.random(n_offers) < 0.2, rng.choice(SEGMENTS, n_offers), None),
            S.MAX_PER_CUSTOMER: pd.array(np.where(rng.random(n_offers) < 0.5, 1, 3), dtype="Int64"),
        }
    )
    redemptions = pd.DataFrame(
        {
            S.CUSTOMER_ID: rng.choice(customer_ids, 50_000),
            S.OFFER_ID: rng.choice(rewards[S.OFFER_ID].to_numpy(), 50_000),
            S.REDEEMED_AT: pd.Timestamp("2026-05-01"),
        }
    )
    for frame in (purchases, products, customers, rewards, redemptions):
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].astype("str")
    return Dataset(
        purchases=purchases,
        rewards=rewards,
        customers=customers,
        products=products,
        redemptions=redemptions,
        name="bench-export",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--purchases", type=int, default=2_000_000)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--chunk-size", type=int, default=2048)
    parser.add_argument("--boost", type=float, default=0.3, help="also export with this boost")
    args = parser.parse_args(argv)
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"{os.cpu_count()} cpus; {args.customers:,} customers x {args.products:,} products x "
        f"{args.purchases:,} purchase lines, top-{args.n}, chunks of {args.chunk_size:,}"
    )
    data = measure(lambda: make_dataset(args.customers, args.products, args.purchases))
    print(f"{'data':<28} {data.seconds:8.1f} s {data.peak_mib:9.0f} MiB")
    fit = measure(lambda: RecommenderPipeline(ModelParams()).fit(data.result))
    print(f"{'fit':<28} {fit.seconds:8.1f} s {fit.peak_mib:9.0f} MiB")
    pipe = fit.result
    # Reference: the recommendations alone (no offers, no writing) - the core's share of an export.
    recs = measure(
        lambda: sum(
            len(c) for c in pipe.iter_recommendations(None, args.n, chunk_size=args.chunk_size)
        )
    )
    print(f"{'recommendations only':<28} {recs.seconds:8.1f} s {recs.peak_mib:9.0f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("csv", 0.0), ("parquet", 0.0)]
        if args.boost > 0:
            runs.append(("csv", args.boost))
        for fmt, boost in runs:
            pipe.params = ModelParams(reward_boost=boost)
            path = Path(tmp) / f"campaign.{fmt}"
            run = measure(
                lambda path=path: write_campaign(pipe, path, args.n, chunk_size=args.chunk_size)
            )
            label = f"export {fmt} reward_boost={boost:g}"
            size = path.stat().st_size / 2**20
            print(
                f"{label:<28} {run.seconds:8.1f} s {run.peak_mib:9.0f} MiB  "
                f"{run.result:,} rows, {size:,.0f} MiB file ({run.method})"
            )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
