"""Reward offers of the sample data: every reward type, on products or categories.

Offers are active, expired or upcoming relative to the sample's last day, some restricted to a
segment; their terms (value, minimum spend, caps) are realistic for the product's price.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.data.sample_world import CATEGORIES, SEGMENT_LABEL, SEGMENTS

__all__ = ["make_rewards"]


def make_rewards(
    products: pd.DataFrame,
    prefs: np.ndarray,
    n_offers: int,
    end: pd.Timestamp,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """About ``n_offers`` offers of all reward types; a loop over offers (a few dozen) is fine."""
    types = rng.permutation(np.resize(np.array(S.REWARD_TYPES), n_offers))
    # Status relative to end_date: about 65 % active, 20 % expired, 15 % upcoming.
    n_expired = max(1, round(0.20 * n_offers))
    n_upcoming = max(1, round(0.15 * n_offers))
    status = rng.permutation(
        ["expired"] * n_expired
        + ["upcoming"] * n_upcoming
        + ["active"] * (n_offers - n_expired - n_upcoming)
    )
    price = products[S.PRICE].to_numpy()
    names = products[S.PRODUCT_NAME].to_numpy()
    pids = products[S.PRODUCT_ID].to_numpy()
    cats = products[S.CATEGORY].to_numpy()
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

        value, min_spend, title = offer_terms(rtype, target, on_product, base, rng)
        if restricted:
            title = f"{SEGMENT_LABEL[SEGMENTS[g]]} exclusive: {title}"

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
                S.OFFER_ID: f"O{i + 1:03d}",
                S.PRODUCT_ID: pid,
                S.CATEGORY: category,
                S.TITLE: title,
                S.REWARD_TYPE: rtype,
                S.REWARD_VALUE: value,
                S.MIN_SPEND: min_spend,
                S.START_DATE: begin,
                S.END_DATE: finish,
                S.SEGMENT: SEGMENTS[g] if restricted else pd.NA,
                S.MAX_PER_CUSTOMER: cap,
            }
        )
    frame = pd.DataFrame(rows, columns=list(S.REWARDS.names))
    for col in (S.OFFER_ID, S.PRODUCT_ID, S.CATEGORY, S.TITLE, S.REWARD_TYPE, S.SEGMENT):
        frame[col] = frame[col].astype("str")
    for col in (S.REWARD_VALUE, S.MIN_SPEND):
        frame[col] = frame[col].astype("float64")
    for col in (S.START_DATE, S.END_DATE):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    frame[S.MAX_PER_CUSTOMER] = frame[S.MAX_PER_CUSTOMER].astype("Int64")
    return frame


def offer_terms(
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
    min_spend = nice_amount(max(min_spend, floor))
    if min_spend > 0:
        title += f" when you spend ${min_spend:.0f}+"
    return value, min_spend, title


def nice_amount(x: float) -> float:
    """Round a spend threshold the way marketing would write it: 5, 10, 25, 50, 100, 250..."""
    if x <= 0:
        return 0.0
    step = 5.0 if x < 100 else 25.0 if x < 500 else 100.0
    return float(max(step, np.round(x / step) * step))
