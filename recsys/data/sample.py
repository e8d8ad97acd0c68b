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

from recsys.data import schema as s

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

# --- catalogue: (product name, typical unit price) per category --------------------------------
# A data table: several products a line reads better than one.
# fmt: off
_CATALOGUE: dict[str, tuple[tuple[str, float], ...]] = {
    "travel": (
        ("Airline ticket — short haul", 180.0), ("Airline ticket — long haul", 850.0),
        ("Airline ticket — domestic", 120.0), ("Hotel stay — city", 210.0),
        ("Hotel stay — resort", 480.0), ("Car rental", 160.0), ("Train ticket", 45.0),
        ("Airport lounge pass", 40.0), ("Travel insurance", 60.0), ("Cruise booking", 1400.0),
        ("Holiday package", 1100.0), ("Ride-hailing trip", 18.0), ("Airport parking", 55.0),
        ("Ferry crossing", 90.0), ("Budget hostel", 35.0),
    ),
    "dining": (
        ("Coffee shop", 5.5), ("Fast food", 11.0), ("Pizza delivery", 24.0),
        ("Sushi restaurant", 42.0), ("Fine dining", 160.0), ("Gastropub", 48.0), ("Bakery", 8.0),
        ("Food delivery app", 28.0), ("Steakhouse", 85.0), ("Vegan café", 19.0),
        ("Brunch café", 26.0), ("Noodle bar", 15.0), ("Cocktail bar", 38.0),
        ("Ice cream parlour", 7.0), ("Burger joint", 16.0),
    ),
    "groceries": (
        ("Supermarket — weekly shop", 95.0), ("Organic grocer", 62.0),
        ("Discount supermarket", 48.0), ("Convenience store", 14.0), ("Butcher", 35.0),
        ("Farmers market", 28.0), ("Online grocery delivery", 110.0), ("Wine shop", 45.0),
        ("Baby supplies", 40.0), ("Pet food", 32.0), ("Bulk warehouse club", 180.0),
        ("Fishmonger", 30.0), ("Deli", 22.0), ("Health food store", 27.0), ("Meal kit box", 55.0),
    ),
    "electronics": (
        ("Smartphone", 799.0), ("Laptop", 1199.0), ("Tablet", 449.0), ("Wireless earbuds", 149.0),
        ("Smartwatch", 299.0), ("Gaming console", 499.0), ("Video game", 59.0),
        ("4K television", 899.0), ("Camera", 650.0), ("Phone case", 25.0),
        ("Bluetooth speaker", 89.0), ("E-reader", 129.0), ("Computer monitor", 249.0),
        ("Smart home hub", 119.0), ("Phone charger", 19.0),
    ),
    "fashion": (
        ("Sneakers", 110.0), ("Designer handbag", 950.0), ("Jeans", 70.0), ("Kids clothing", 45.0),
        ("Winter coat", 180.0), ("Sportswear", 60.0), ("Fast-fashion store", 38.0),
        ("Luxury watch", 2400.0), ("Sunglasses", 140.0), ("Swimwear", 50.0),
        ("Business suit", 420.0), ("Jewellery", 320.0), ("Department store", 120.0),
        ("Second-hand clothing", 22.0), ("Shoe repair", 18.0),
    ),
    "entertainment": (
        ("Cinema ticket", 13.0), ("Concert ticket", 75.0), ("Theatre ticket", 65.0),
        ("Theme park", 85.0), ("Bowling alley", 25.0), ("Museum entry", 18.0),
        ("Sports match ticket", 60.0), ("Escape room", 30.0), ("Festival pass", 220.0),
        ("Zoo admission", 28.0), ("Comedy club", 22.0), ("Art gallery", 15.0),
        ("Trampoline park", 16.0), ("Karaoke bar", 20.0), ("Golf green fee", 95.0),
    ),
    "fuel": (
        ("Petrol station", 62.0), ("Diesel fill-up", 75.0), ("EV charging", 22.0),
        ("Car wash", 15.0), ("Motorway services", 18.0), ("Premium petrol", 85.0),
        ("Fuel station shop", 9.0), ("Toll road", 8.0), ("City parking", 12.0),
        ("Car servicing", 240.0), ("Tyre fitting", 180.0), ("LPG refill", 40.0),
        ("Oil change", 70.0), ("Fuel card top-up", 100.0), ("Roadside assistance", 120.0),
    ),
    "health": (
        ("Pharmacy", 18.0), ("Gym membership", 45.0), ("Dentist", 120.0), ("Optician", 160.0),
        ("Yoga class", 20.0), ("Physiotherapy", 65.0), ("Vitamins & supplements", 25.0),
        ("Spa day", 140.0), ("Hairdresser", 48.0), ("Private GP visit", 90.0),
        ("Contact lenses", 35.0), ("Swimming pool entry", 7.0), ("Massage", 70.0),
        ("Sports nutrition", 38.0), ("Skincare", 42.0),
    ),
    "home": (
        ("DIY store", 65.0), ("Furniture store", 520.0), ("Garden centre", 55.0),
        ("Home appliances", 380.0), ("Bed linen", 60.0), ("Kitchenware", 45.0),
        ("Paint & decorating", 80.0), ("Cleaning supplies", 20.0), ("Lighting store", 90.0),
        ("Mattress", 650.0), ("Plumber call-out", 150.0), ("Florist", 35.0), ("Toy store", 40.0),
        ("Storage & organisation", 50.0), ("Candle shop", 24.0),
    ),
    "subscriptions": (
        ("Video streaming", 12.99), ("Music streaming", 10.99), ("Cloud storage", 2.99),
        ("News subscription", 9.99), ("Mobile phone plan", 25.0), ("Broadband", 35.0),
        ("Software subscription", 14.99), ("Audiobook service", 9.99),
        ("Gaming subscription", 14.99), ("Meal planner app", 6.99), ("Language learning app", 7.99),
        ("Dating app", 19.99), ("Magazine subscription", 5.99), ("Sports streaming", 29.99),
        ("Password manager", 3.99),
    ),
}
# fmt: on
CATEGORIES: tuple[str, ...] = tuple(_CATALOGUE)

# Mean number of *extra* units per line (quantity = 1 + Poisson(lambda)).
_EXTRA_UNITS = np.array([0.15, 0.35, 0.4, 0.05, 0.3, 0.9, 0.0, 0.1, 0.3, 0.0])

# --- segments ---------------------------------------------------------------------------------
SEGMENTS: tuple[str, ...] = ("young_urban", "family", "frequent_traveller", "affluent", "student")
_SEGMENT_SHARE = np.array([0.24, 0.27, 0.13, 0.14, 0.22])
# Category weights per segment, columns in CATEGORIES order:
#   travel dining groceries electronics fashion entertainment fuel health home subscriptions
_SEGMENT_CATEGORY_WEIGHT = np.array(
    [
        [1.0, 3.0, 1.0, 1.5, 2.0, 2.0, 0.3, 1.0, 0.5, 2.0],  # young_urban
        [0.6, 1.0, 4.0, 0.8, 1.0, 1.2, 2.2, 1.0, 2.5, 0.8],  # family
        [4.5, 2.0, 0.8, 0.8, 0.8, 0.6, 1.2, 0.5, 0.4, 0.6],  # frequent_traveller
        [2.0, 2.5, 1.0, 1.5, 2.2, 1.2, 1.0, 1.6, 1.5, 0.6],  # affluent
        [0.4, 2.2, 1.5, 1.0, 0.8, 1.6, 0.2, 0.5, 0.2, 2.2],  # student
    ]
)
# Price affinity: product weight is multiplied by (price / category median) ** beta.
_SEGMENT_PRICE_BETA = np.array([0.0, -0.2, 0.3, 0.7, -0.7])
# Card product held, by segment (probabilities over _CARDS).
_CARDS = ("Student", "Everyday", "Cashback", "Travel Rewards", "Platinum")
_SEGMENT_CARD_P = np.array(
    [
        [0.05, 0.45, 0.30, 0.15, 0.05],
        [0.00, 0.40, 0.45, 0.10, 0.05],
        [0.00, 0.10, 0.10, 0.60, 0.20],
        [0.00, 0.10, 0.10, 0.30, 0.50],
        [0.75, 0.20, 0.05, 0.00, 0.00],
    ]
)
_REGIONS = ("North", "South", "East", "West", "Metro")
# Young urban customers and students live mostly in the metro region.
_SEGMENT_REGION_P = np.array(
    [
        [0.10, 0.10, 0.10, 0.10, 0.60],
        [0.25, 0.25, 0.20, 0.20, 0.10],
        [0.15, 0.15, 0.15, 0.15, 0.40],
        [0.15, 0.20, 0.15, 0.15, 0.35],
        [0.15, 0.15, 0.15, 0.15, 0.40],
    ]
)
# Tenure in months: gamma(shape, scale) per segment (students are new customers).
_SEGMENT_TENURE = np.array([[2.0, 18.0], [3.0, 24.0], [3.0, 22.0], [4.0, 26.0], [1.5, 10.0]])

# --- knobs of the purchase process --------------------------------------------------------------
_ZIPF_EXPONENT = 1.5  # power law of product popularity inside a segment's category
# Hidden taste communities inside each segment ("tribes", not in customers.csv): a customer's
# tastes mix the segment's with the tribe's. They are what neighbours can find and a segment
# average cannot.
_N_TRIBES = 3
_TRIBE_WEIGHT = 0.75
_NOISE_SHARE = 0.08  # share of lines drawn from another segment's tastes
_FAVOURITE_SHARE = (2.0, 3.0)  # Beta(a, b): share of a customer's lines spent on favourites
_N_FAVOURITES = (2, 6)  # inclusive range of favourite products per customer
_ACTIVITY_SIGMA = 1.0  # lognormal sigma of customer activity (long tail of heavy buyers)
_MIN_LINES = 3  # every customer has at least this many purchase lines

# Seasonal multipliers per calendar month (Jan..Dec) per category.
_SEASONALITY: dict[str, tuple[float, ...]] = {
    "travel": (0.8, 0.8, 0.9, 1.0, 1.1, 1.6, 1.9, 1.8, 1.1, 0.9, 0.7, 1.1),
    "electronics": (0.9, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 0.9, 1.0, 2.0, 2.2),
    "fashion": (1.2, 0.8, 1.0, 1.1, 1.0, 1.1, 1.2, 0.9, 1.1, 1.0, 1.3, 1.5),
    "entertainment": (0.8, 0.9, 1.0, 1.0, 1.0, 1.2, 1.3, 1.3, 1.0, 1.0, 1.0, 1.4),
    "home": (0.9, 0.9, 1.2, 1.4, 1.4, 1.1, 1.0, 0.9, 0.9, 0.9, 0.9, 1.0),
}
_WEEKEND_BOOST = {"dining": 1.4, "entertainment": 1.6}

# --- offers -------------------------------------------------------------------------------------
_N_OFFERS = 40
_SEGMENT_LABEL = {
    "young_urban": "Young urban",
    "family": "Family",
    "frequent_traveller": "Frequent traveller",
    "affluent": "Affluent",
    "student": "Student",
}


def generate_sample(
    *,
    n_customers: int = 2000,
    n_products: int = 150,
    n_purchases: int = 60000,
    seed: int = 42,
    end_date: str | pd.Timestamp = "2026-10-31",
    n_offers: int = _N_OFFERS,
) -> dict[str, pd.DataFrame]:
    """Generate a realistic, seeded card-spend data set.

    Parameters
    ----------
    n_customers, n_products, n_purchases : int
        Size of the data set (purchase lines are approximate only in that every customer gets
        at least a few lines; the total is exactly ``n_purchases``).
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
    """
    if n_customers < 1 or n_products < len(CATEGORIES) or n_purchases < n_customers * _MIN_LINES:
        raise ValueError(
            f"need n_customers >= 1, n_products >= {len(CATEGORIES)} and "
            f"n_purchases >= {_MIN_LINES} * n_customers"
        )
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(end_date).normalize()

    products = _make_products(n_products, rng)
    customers = _make_customers(n_customers, rng)
    prefs = _taste_profiles(products, rng)
    purchases = _make_purchases(customers, products, prefs, n_purchases, end, rng)
    rewards = _make_rewards(products, prefs[: len(SEGMENTS)], n_offers, end, rng)
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
        items = _CATALOGUE[CATEGORIES[c]]
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
            s.PRODUCT_ID: pd.array(_ids("P", n_products, 3), dtype="str"),
            s.PRODUCT_NAME: pd.array(np.array(names, dtype=object)[order], dtype="str"),
            s.CATEGORY: pd.array(np.array(CATEGORIES, dtype=object)[cat_idx[order]], dtype="str"),
            s.PRICE: price,
        }
    )


def _make_customers(n_customers: int, rng: np.random.Generator) -> pd.DataFrame:
    seg = rng.choice(len(SEGMENTS), size=n_customers, p=_SEGMENT_SHARE)
    card = _choice_by_row(_SEGMENT_CARD_P, seg, rng)
    region = _choice_by_row(_SEGMENT_REGION_P, seg, rng)
    shape, scale = _SEGMENT_TENURE[seg, 0], _SEGMENT_TENURE[seg, 1]
    tenure = np.clip(np.ceil(rng.gamma(shape, scale)), 1, 300).astype(np.int64)
    return pd.DataFrame(
        {
            s.CUSTOMER_ID: pd.array(_ids("C", n_customers, 5), dtype="str"),
            s.SEGMENT: pd.array(np.array(SEGMENTS, dtype=object)[seg], dtype="str"),
            CARD_PRODUCT: pd.array(np.array(_CARDS, dtype=object)[card], dtype="str"),
            REGION: pd.array(np.array(_REGIONS, dtype=object)[region], dtype="str"),
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

    Row ``g`` (``g < len(SEGMENTS)``) is segment ``g``; row ``len(SEGMENTS) + g * _N_TRIBES + t``
    is tribe ``t`` of segment ``g``. Inside each category, a profile ranks the products in its
    own random order and weights them by a power law of that rank, tilted by the segment's price
    affinity; so tastes differ at the level of products, not only categories (which is what
    makes neighbours more useful than overall popularity).
    """
    cat = pd.Categorical(products[s.CATEGORY], categories=list(CATEGORIES)).codes
    price = products[s.PRICE].to_numpy()
    cat_median = pd.Series(price).groupby(cat).transform("median").to_numpy()
    rel_price = np.log(price / cat_median)
    n_seg = len(SEGMENTS)
    owner = np.concatenate([np.arange(n_seg), np.repeat(np.arange(n_seg), _N_TRIBES)])
    profiles = np.zeros((len(owner), len(products)))
    for row, g in enumerate(owner):
        for c in range(len(CATEGORIES)):
            members = np.flatnonzero(cat == c)
            ranks = rng.permutation(len(members))
            w = (ranks + 1.0) ** -_ZIPF_EXPONENT * np.exp(
                _SEGMENT_PRICE_BETA[g] * rel_price[members]
            )
            profiles[row, members] = _SEGMENT_CATEGORY_WEIGHT[g, c] * w / w.sum()
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
    seg = pd.Categorical(customers[s.SEGMENT], categories=list(SEGMENTS)).codes.astype(np.int64)
    start = end - pd.DateOffset(months=HISTORY_MONTHS) + pd.Timedelta(days=1)
    n_days = (end - start).days + 1

    # Customers who joined during the window are active only since they joined, and buy less.
    tenure_days = customers[TENURE_MONTHS].to_numpy() * 30.44
    join_day = np.clip(n_days - tenure_days, 0, n_days - 30).astype(np.int64)
    active_share = (n_days - join_day) / n_days

    # Lines per customer: a long-tailed activity level, at least _MIN_LINES each.
    activity = rng.lognormal(0.0, _ACTIVITY_SIGMA, n_cust) * active_share
    lines = _MIN_LINES + rng.multinomial(
        n_purchases - _MIN_LINES * n_cust, activity / activity.sum()
    )
    cust = np.repeat(np.arange(n_cust), lines)

    # A hidden tribe per customer: the row of its profile in ``prefs``.
    tribe = n_seg + seg * _N_TRIBES + rng.integers(0, _N_TRIBES, n_cust)

    # Personal favourites: a few products from the customer's own mix of tastes.
    n_fav = rng.integers(_N_FAVOURITES[0], _N_FAVOURITES[1] + 1, n_cust)
    favourites = np.zeros((n_cust, _N_FAVOURITES[1]), dtype=np.int64)
    for i in range(n_cust):  # 2k small draws without replacement: fast enough
        mix = (1.0 - _TRIBE_WEIGHT) * prefs[seg[i]] + _TRIBE_WEIGHT * prefs[tribe[i]]
        fav = rng.choice(n_prod, size=n_fav[i], replace=False, p=mix)
        favourites[i] = np.resize(fav, _N_FAVOURITES[1])  # pad by repeating
    fav_share = rng.beta(*_FAVOURITE_SHARE, n_cust)

    # Each line comes from a favourite, the customer's tribe or segment tastes, or (noise)
    # another segment's tastes; ``profile`` is the row of ``prefs`` to draw from.
    u = rng.random(len(cust))
    is_fav = u < fav_share[cust]
    is_noise = ~is_fav & (u > 1.0 - _NOISE_SHARE)
    use_tribe = ~is_fav & ~is_noise & (rng.random(len(cust)) < _TRIBE_WEIGHT)
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
    cat = pd.Categorical(products[s.CATEGORY], categories=list(CATEGORIES)).codes
    line_cat = cat[product]
    days = pd.date_range(start, end, freq="D")
    day = np.empty(len(cust), dtype=np.int64)
    for c, name in enumerate(CATEGORIES):
        rows = np.flatnonzero(line_cat == c)
        w = np.asarray(_SEASONALITY.get(name, (1.0,) * 12))[days.month.to_numpy() - 1]
        w = w * np.where(days.day_of_week.to_numpy() >= 5, _WEEKEND_BOOST.get(name, 1.0), 1.0)
        day[rows] = rng.choice(n_days, size=len(rows), p=w / w.sum())
    j = join_day[cust]
    day = j + (day * (n_days - j)) // n_days

    qty = 1 + rng.poisson(_EXTRA_UNITS[line_cat])
    price = products[s.PRICE].to_numpy()[product]
    amount = np.round(price * qty * rng.lognormal(0.0, 0.12, len(cust)), 2)

    frame = pd.DataFrame(
        {
            s.CUSTOMER_ID: customers[s.CUSTOMER_ID].to_numpy()[cust],
            s.PRODUCT_ID: products[s.PRODUCT_ID].to_numpy()[product],
            s.PURCHASE_DATE: start + pd.to_timedelta(day, unit="D"),
            s.QUANTITY: qty.astype(np.int64),
            s.AMOUNT: amount,
        }
    )
    # Two identical lines (same customer, product, day, quantity and amount) would be dropped as
    # exact duplicates by the loader, with a warning; nudge the repeats by a cent instead.
    while True:
        repeat = frame.groupby(list(frame.columns), sort=False).cumcount().to_numpy()
        if not repeat.any():
            break
        frame[s.AMOUNT] = np.round(frame[s.AMOUNT].to_numpy() + 0.01 * repeat, 2)
    frame = frame.sort_values([s.PURCHASE_DATE, s.CUSTOMER_ID, s.PRODUCT_ID], kind="stable")
    frame = frame.reset_index(drop=True)
    for col in (s.CUSTOMER_ID, s.PRODUCT_ID):
        frame[col] = frame[col].astype("str")
    frame[s.PURCHASE_DATE] = frame[s.PURCHASE_DATE].astype("datetime64[ns]")
    return frame


def _make_rewards(
    products: pd.DataFrame,
    prefs: np.ndarray,
    n_offers: int,
    end: pd.Timestamp,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """About ``n_offers`` offers of all reward types; a loop over offers (a few dozen) is fine."""
    types = rng.permutation(np.resize(np.array(s.REWARD_TYPES), n_offers))
    # Status relative to end_date: about 65 % active, 20 % expired, 15 % upcoming.
    n_expired = max(1, round(0.20 * n_offers))
    n_upcoming = max(1, round(0.15 * n_offers))
    status = rng.permutation(
        ["expired"] * n_expired
        + ["upcoming"] * n_upcoming
        + ["active"] * (n_offers - n_expired - n_upcoming)
    )
    price = products[s.PRICE].to_numpy()
    names = products[s.PRODUCT_NAME].to_numpy()
    pids = products[s.PRODUCT_ID].to_numpy()
    cats = products[s.CATEGORY].to_numpy()
    cat_codes = pd.Categorical(cats, categories=list(CATEGORIES)).codes
    # Offers are worth showing only if they touch products people buy: pick product offers from
    # the top products of a segment.
    top = np.argsort(-prefs, axis=1, kind="stable")[:, :15]
    used: set[tuple[bool, int]] = set()
    n_active_seen = 0

    rows: list[dict[str, object]] = []
    for i in range(n_offers):
        rtype = str(types[i])
        restricted = rng.random() < 0.25
        g = int(rng.integers(len(SEGMENTS)))
        on_product = rng.random() < 0.55
        # Prefer a target (product, or the category of a product) with no offer yet, so the 40
        # offers spread over the catalogue; a few tries, then accept a repeat.
        for _ in range(10):
            p = int(top[g, rng.integers(top.shape[1])])
            target_key = (on_product, p if on_product else int(cat_codes[p]))
            if target_key not in used:
                break
        used.add(target_key)
        if on_product:
            pid, category, target = pids[p], pd.NA, str(names[p])
            base = float(price[p])
        else:
            pid, category, target = pd.NA, str(cats[p]), str(cats[p])
            base = 50.0  # a typical basket in a category

        value, min_spend, title = _offer_terms(rtype, target, on_product, base, rng)
        if restricted:
            title = f"{_SEGMENT_LABEL[SEGMENTS[g]]} exclusive: {title}"

        if status[i] == "active":
            begin = end - pd.Timedelta(days=int(rng.integers(7, 150)))
            n_active_seen += 1
            if n_active_seen == 1:
                finish = end  # one offer ends exactly on end_date: the inclusive boundary
            elif n_active_seen == 2 or rng.random() < 0.08:
                finish = pd.NaT  # open-ended
            else:
                finish = end + pd.Timedelta(days=int(rng.integers(5, 120)))
        elif status[i] == "expired":
            finish = end - pd.Timedelta(days=int(rng.integers(1, 200)))
            begin = finish - pd.Timedelta(days=int(rng.integers(14, 90)))
        else:
            begin = end + pd.Timedelta(days=int(rng.integers(1, 60)))
            finish = begin + pd.Timedelta(days=int(rng.integers(14, 90)))

        cap = int(rng.choice([1, 2, 3, 5])) if rng.random() < 0.4 else pd.NA
        rows.append(
            {
                s.OFFER_ID: f"O{i + 1:03d}",
                s.PRODUCT_ID: pid,
                s.CATEGORY: category,
                s.TITLE: title,
                s.REWARD_TYPE: rtype,
                s.REWARD_VALUE: value,
                s.MIN_SPEND: min_spend,
                s.START_DATE: begin,
                s.END_DATE: finish,
                s.SEGMENT: SEGMENTS[g] if restricted else pd.NA,
                s.MAX_PER_CUSTOMER: cap,
            }
        )
    frame = pd.DataFrame(rows, columns=list(s.REWARDS.names))
    for col in (s.OFFER_ID, s.PRODUCT_ID, s.CATEGORY, s.TITLE, s.REWARD_TYPE, s.SEGMENT):
        frame[col] = frame[col].astype("str")
    for col in (s.REWARD_VALUE, s.MIN_SPEND):
        frame[col] = frame[col].astype("float64")
    for col in (s.START_DATE, s.END_DATE):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    frame[s.MAX_PER_CUSTOMER] = frame[s.MAX_PER_CUSTOMER].astype("Int64")
    return frame


def _offer_terms(
    rtype: str, target: str, on_product: bool, base: float, rng: np.random.Generator
) -> tuple[float, float, str]:
    """Reward value, minimum spend and a title that reads like a real offer.

    ``base`` is the product's price (or a typical basket for a category offer); fixed-amount
    rewards ask for a spend of several times their value, as real card offers do.
    """
    at = "at" if on_product else "on"
    if rtype == "points_multiplier":
        value = float(rng.integers(2, 6))
        title = f"{value:.0f}x points {at} {target}"
        floor = 0.0
    elif rtype == "cashback":
        value = float(rng.integers(1, 11) * 5)
        title = f"${value:.0f} cashback {at} {target}"
        floor = 4.0 * value
    elif rtype == "statement_credit":
        value = float(rng.integers(1, 11) * 10)
        title = f"${value:.0f} statement credit {at} {target}"
        floor = 4.0 * value
    else:
        value = float(rng.integers(1, 6) * 5)
        title = f"{value:.0f}% off {target}"
        floor = 0.0
    # Percentage and points offers often have no threshold; others need one or two purchases.
    min_spend = 0.0 if rng.random() < 0.4 else base * float(rng.choice([1.0, 2.0]))
    min_spend = _nice_amount(max(min_spend, floor))
    if min_spend > 0:
        title += f" when you spend ${min_spend:.0f}+"
    return value, min_spend, title


def _nice_amount(x: float) -> float:
    """Round a spend threshold the way marketing would write it: 5, 10, 25, 50, 100, 250..."""
    if x <= 0:
        return 0.0
    step = 5.0 if x < 100 else 25.0 if x < 500 else 100.0
    return float(max(step, np.round(x / step) * step))
