"""A seeded generator of realistic card-spend data: the data behind ``sample_data/``.

The generator is built so that user-based collaborative filtering has something real to find:

- customers belong to one of a few **segments**; each segment prefers some categories and,
  inside a category, particular **products** (a power law over a segment-specific ordering, tilted
  by price: affluent customers lean to expensive products, students to cheap ones);
- each customer has a handful of **personal favourite products** that they re-buy;
- a per-customer **activity level** with a long tail (a few heavy buyers, many light ones);
- some **cross-segment noise**, and **seasonality** (travel in summer, electronics in Nov/Dec,
  dining and entertainment at weekends);
- reward **offers** of every type, on products or categories, active, expired or upcoming
  relative to ``end_date``, some restricted to a segment.

Everything is drawn from one ``numpy.random.Generator``, so the same seed gives identical
frames. Purchase lines are generated with vectorised numpy (loops run over segments,
categories or customers, never over purchase lines).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.data.sample_offers import make_rewards
from recsys.data.sample_world import (
    ACTIVITY_SIGMA,
    CARDS,
    CATALOGUE,
    CATEGORIES,
    EXTRA_UNITS,
    FAVOURITE_SHARE,
    MIN_LINES,
    N_FAVOURITES,
    N_OFFERS,
    N_TRIBES,
    NOISE_SHARE,
    PURCHASES_PER_CUSTOMER,
    REGIONS,
    SEASONALITY,
    SEGMENT_CARD_P,
    SEGMENT_CATEGORY_WEIGHT,
    SEGMENT_PRICE_BETA,
    SEGMENT_REGION_P,
    SEGMENT_SHARE,
    SEGMENT_TENURE,
    SEGMENTS,
    TRIBE_WEIGHT,
    WEEKEND_BOOST,
    ZIPF_EXPONENT,
)

__all__ = [
    "CARD_PRODUCT",
    "CATEGORIES",
    "REGION",
    "SEGMENTS",
    "TENURE_MONTHS",
    "generate_sample",
    "write_sample",
]

logger = logging.getLogger(__name__)

# Extra customer attributes of the sample. They are not part of the data contract (customers.csv
# keeps any extra column), so they live here rather than in schema.py.
CARD_PRODUCT = "card_product"
REGION = "region"
TENURE_MONTHS = "tenure_months"

# Output file name of each table.
FILE_NAMES: dict[str, str] = {
    "purchases": "purchases.csv",
    "rewards": "rewards.csv",
    "customers": "customers.csv",
    "products": "products.csv",
}

HISTORY_MONTHS = 18


def generate_sample(
    *,
    n_customers: int = 2000,
    n_products: int = 150,
    n_purchases: int | None = None,
    purchases_per_customer: float = PURCHASES_PER_CUSTOMER,
    seed: int = 42,
    end_date: str | pd.Timestamp = "2026-10-31",
    n_offers: int = N_OFFERS,
) -> dict[str, pd.DataFrame]:
    """Generate a realistic, seeded card-spend data set.

    Parameters
    ----------
    n_customers, n_products : int
        Size of the data set.
    n_purchases : int, optional
        Purchase lines in total (every customer gets at least a few); by default
        ``purchases_per_customer x n_customers``, so a smaller sample keeps the same shape
        instead of having each customer own the whole catalogue.
    purchases_per_customer : float
        Average purchase lines per customer when ``n_purchases`` is not given.
    seed : int
        Seed of the random generator; the same seed gives identical frames.
    end_date : str or Timestamp
        Last day of the purchase history, which covers the 18 months up to it. Offers are
        active, expired or upcoming relative to this day.
    n_offers : int
        Number of reward offers.

    Returns
    -------
    dict of str to DataFrame
        ``"purchases"``, ``"rewards"``, ``"customers"`` and ``"products"``, with the canonical
        columns of :mod:`recsys.data.schema` (customers also carry card product, region and tenure).

    Examples
    --------
    >>> data = generate_sample(n_customers=50, n_products=20, n_purchases=500, seed=1)
    >>> sorted(data)
    ['customers', 'products', 'purchases', 'rewards']
    >>> len(data["purchases"])
    500
    >>> len(generate_sample(n_customers=40, n_products=20, seed=1)["purchases"])
    1200
    """
    if n_purchases is None:
        n_purchases = round(n_customers * purchases_per_customer)
    if n_customers < 1 or n_products < len(CATEGORIES) or n_purchases < n_customers * MIN_LINES:
        raise ValueError(
            f"need n_customers >= 1, n_products >= {len(CATEGORIES)} and "
            f"n_purchases >= {MIN_LINES} * n_customers"
        )
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(end_date).normalize()

    products = _make_products(n_products, rng)
    customers = _make_customers(n_customers, rng)
    prefs = _taste_profiles(products, rng)
    purchases = _make_purchases(customers, products, prefs, n_purchases, end, rng)
    rewards = make_rewards(products, prefs[: len(SEGMENTS)], n_offers, end, rng)
    logger.info(
        "generated %d purchases, %d customers, %d products, %d offers",
        len(purchases),
        len(customers),
        len(products),
        len(rewards),
    )
    return {
        "purchases": purchases,
        "rewards": rewards,
        "customers": customers,
        "products": products,
    }


def write_sample(out_dir: str | Path, **kwargs: object) -> dict[str, Path]:
    """Generate the sample and write the four CSV files (ISO dates, no index) to ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Directory to write to (created if missing).
    **kwargs
        Passed to :func:`generate_sample` (``n_customers``, ``n_products``, ``seed``, ...).

    Returns
    -------
    dict of str to Path
        The path written for each table.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_sample(tmp, n_customers=20, n_products=10, n_purchases=100)
    ...     sorted(p.name for p in paths.values())
    ['customers.csv', 'products.csv', 'purchases.csv', 'rewards.csv']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = generate_sample(**kwargs)  # type: ignore[arg-type]
    paths: dict[str, Path] = {}
    for table, frame in frames.items():
        path = out / FILE_NAMES[table]
        frame.to_csv(path, index=False, date_format="%Y-%m-%d", lineterminator="\n")
        paths[table] = path
    logger.info("wrote sample data to %s", out)
    return paths


# --- tables -------------------------------------------------------------------------------------
def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """Zero-padded string ids: ``_ids("C", 3, 5) -> ["C00001", "C00002", "C00003"]``."""
    width = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _make_products(n_products: int, rng: np.random.Generator) -> pd.DataFrame:
    # Deal products to categories round robin so every category has about n / 10 products.
    n_cat = len(CATEGORIES)
    cat_idx = np.arange(n_products) % n_cat
    slot = np.arange(n_products) // n_cat
    names: list[str] = []
    prices = np.empty(n_products)
    for i, (c, k) in enumerate(zip(cat_idx, slot, strict=True)):
        items = CATALOGUE[CATEGORIES[c]]
        name, price = items[k % len(items)]
        # Beyond the hand-written list, repeat names as further merchants of the same kind.
        names.append(name if k < len(items) else f"{name} #{k // len(items) + 1}")
        prices[i] = price
    # Order products by category so P001.. read as a catalogue.
    order = np.lexsort((slot, cat_idx))
    # Prices vary a little around the typical price, so repeated names differ too.
    jitter = np.exp(rng.normal(0.0, 0.08, n_products))
    price = np.round(prices[order] * jitter, 2)
    return pd.DataFrame(
        {
            S.PRODUCT_ID: pd.array(_ids("P", n_products, 3), dtype="str"),
            S.PRODUCT_NAME: pd.array(np.array(names, dtype=object)[order], dtype="str"),
            S.CATEGORY: pd.array(np.array(CATEGORIES, dtype=object)[cat_idx[order]], dtype="str"),
            S.PRICE: price,
        }
    )


def _make_customers(n_customers: int, rng: np.random.Generator) -> pd.DataFrame:
    seg = rng.choice(len(SEGMENTS), size=n_customers, p=SEGMENT_SHARE)
    card = _choice_by_row(SEGMENT_CARD_P, seg, rng)
    region = _choice_by_row(SEGMENT_REGION_P, seg, rng)
    shape, scale = SEGMENT_TENURE[seg, 0], SEGMENT_TENURE[seg, 1]
    tenure = np.clip(np.ceil(rng.gamma(shape, scale)), 1, 300).astype(np.int64)
    return pd.DataFrame(
        {
            S.CUSTOMER_ID: pd.array(_ids("C", n_customers, 5), dtype="str"),
            S.SEGMENT: pd.array(np.array(SEGMENTS, dtype=object)[seg], dtype="str"),
            CARD_PRODUCT: pd.array(np.array(CARDS, dtype=object)[card], dtype="str"),
            REGION: pd.array(np.array(REGIONS, dtype=object)[region], dtype="str"),
            TENURE_MONTHS: tenure,
        }
    )


def _choice_by_row(p: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each entry of ``rows``, draw a column index from the probability row ``p[row]``."""
    cdf = np.cumsum(p, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(rows))
    return (u[:, None] > cdf[rows]).sum(axis=1)


def _taste_profiles(products: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Product probabilities of every segment, then of every tribe (rows sum to 1).

    Row ``g`` (``g < len(SEGMENTS)``) is segment ``g``; row ``len(SEGMENTS) + g * N_TRIBES + t``
    is tribe ``t`` of segment ``g``. Inside each category, a profile ranks the products in its
    own random order and weights them by a power law of that rank, tilted by the segment's price
    affinity; so tastes differ at the level of products, not only categories (which is what
    makes neighbours more useful than overall popularity).
    """
    cat = pd.Categorical(products[S.CATEGORY], categories=list(CATEGORIES)).codes
    price = products[S.PRICE].to_numpy()
    cat_median = pd.Series(price).groupby(cat).transform("median").to_numpy()
    rel_price = np.log(price / cat_median)
    n_seg = len(SEGMENTS)
    owner = np.concatenate([np.arange(n_seg), np.repeat(np.arange(n_seg), N_TRIBES)])
    profiles = np.zeros((len(owner), len(products)))
    for row, g in enumerate(owner):
        for c in range(len(CATEGORIES)):
            members = np.flatnonzero(cat == c)
            ranks = rng.permutation(len(members))
            w = (ranks + 1.0) ** -ZIPF_EXPONENT * np.exp(SEGMENT_PRICE_BETA[g] * rel_price[members])
            profiles[row, members] = SEGMENT_CATEGORY_WEIGHT[g, c] * w / w.sum()
    return profiles / profiles.sum(axis=1, keepdims=True)


def _make_purchases(
    customers: pd.DataFrame,
    products: pd.DataFrame,
    prefs: np.ndarray,
    n_purchases: int,
    end: pd.Timestamp,
    rng: np.random.Generator,
) -> pd.DataFrame:
    n_cust, n_prod = len(customers), len(products)
    n_seg = len(SEGMENTS)
    seg = pd.Categorical(customers[S.SEGMENT], categories=list(SEGMENTS)).codes.astype(np.int64)
    start = end - pd.DateOffset(months=HISTORY_MONTHS) + pd.Timedelta(days=1)
    n_days = (end - start).days + 1

    # Customers who joined during the window are active only since they joined, and buy less.
    tenure_days = customers[TENURE_MONTHS].to_numpy() * 30.44
    join_day = np.clip(n_days - tenure_days, 0, n_days - 30).astype(np.int64)
    active_share = (n_days - join_day) / n_days

    # Lines per customer: a long-tailed activity level, at least MIN_LINES each.
    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, n_cust) * active_share
    lines = MIN_LINES + rng.multinomial(n_purchases - MIN_LINES * n_cust, activity / activity.sum())
    cust = np.repeat(np.arange(n_cust), lines)

    # A hidden tribe per customer: the row of its profile in ``prefs``.
    tribe = n_seg + seg * N_TRIBES + rng.integers(0, N_TRIBES, n_cust)

    # Personal favourites: a few products from the customer's own mix of tastes.
    n_fav = rng.integers(N_FAVOURITES[0], N_FAVOURITES[1] + 1, n_cust)
    favourites = np.zeros((n_cust, N_FAVOURITES[1]), dtype=np.int64)
    for i in range(n_cust):  # 2k small draws without replacement: fast enough
        mix = (1.0 - TRIBE_WEIGHT) * prefs[seg[i]] + TRIBE_WEIGHT * prefs[tribe[i]]
        fav = rng.choice(n_prod, size=n_fav[i], replace=False, p=mix)
        favourites[i] = np.resize(fav, N_FAVOURITES[1])  # pad by repeating
    fav_share = rng.beta(*FAVOURITE_SHARE, n_cust)

    # Each line comes from a favourite, the customer's tribe or segment tastes, or (noise)
    # another segment's tastes; ``profile`` is the row of ``prefs`` to draw from.
    u = rng.random(len(cust))
    is_fav = u < fav_share[cust]
    is_noise = ~is_fav & (u > 1.0 - NOISE_SHARE)
    use_tribe = ~is_fav & ~is_noise & (rng.random(len(cust)) < TRIBE_WEIGHT)
    profile = seg[cust].copy()
    profile[is_noise] = (profile[is_noise] + rng.integers(1, n_seg, is_noise.sum())) % n_seg
    profile[use_tribe] = tribe[cust[use_tribe]]
    product = np.empty(len(cust), dtype=np.int64)
    fav_pick = rng.integers(0, n_fav[cust[is_fav]])
    product[is_fav] = favourites[cust[is_fav], fav_pick]
    for row in range(len(prefs)):  # a few dozen profiles, each drawn in one call
        lines_of = np.flatnonzero(~is_fav & (profile == row))
        product[lines_of] = rng.choice(n_prod, size=len(lines_of), p=prefs[row])

    # Dates: per category, draw a day from that category's seasonal/weekly profile, then squeeze
    # it into the customer's active period.
    cat = pd.Categorical(products[S.CATEGORY], categories=list(CATEGORIES)).codes
    line_cat = cat[product]
    days = pd.date_range(start, end, freq="D")
    day = np.empty(len(cust), dtype=np.int64)
    for c, name in enumerate(CATEGORIES):
        rows = np.flatnonzero(line_cat == c)
        w = np.asarray(SEASONALITY.get(name, (1.0,) * 12))[days.month.to_numpy() - 1]
        w = w * np.where(days.day_of_week.to_numpy() >= 5, WEEKEND_BOOST.get(name, 1.0), 1.0)
        day[rows] = rng.choice(n_days, size=len(rows), p=w / w.sum())
    j = join_day[cust]
    day = j + (day * (n_days - j)) // n_days

    qty = 1 + rng.poisson(EXTRA_UNITS[line_cat])
    price = products[S.PRICE].to_numpy()[product]
    amount = np.round(price * qty * rng.lognormal(0.0, 0.12, len(cust)), 2)

    frame = pd.DataFrame(
        {
            S.CUSTOMER_ID: customers[S.CUSTOMER_ID].to_numpy()[cust],
            S.PRODUCT_ID: products[S.PRODUCT_ID].to_numpy()[product],
            S.PURCHASE_DATE: start + pd.to_timedelta(day, unit="D"),
            S.QUANTITY: qty.astype(np.int64),
            S.AMOUNT: amount,
        }
    )
    # Two identical lines (same customer, product, day, quantity and amount) would be dropped as
    # exact duplicates by the loader, with a warning; nudge the repeats by a cent instead.
    while True:
        repeat = frame.groupby(list(frame.columns), sort=False).cumcount().to_numpy()
        if not repeat.any():
            break
        frame[S.AMOUNT] = np.round(frame[S.AMOUNT].to_numpy() + 0.01 * repeat, 2)
    frame = frame.sort_values([S.PURCHASE_DATE, S.CUSTOMER_ID, S.PRODUCT_ID], kind="stable")
    frame = frame.reset_index(drop=True)
    for col in (S.CUSTOMER_ID, S.PRODUCT_ID):
        frame[col] = frame[col].astype("str")
    frame[S.PURCHASE_DATE] = frame[S.PURCHASE_DATE].astype("datetime64[ns]")
    return frame
