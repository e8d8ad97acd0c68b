"""Small data sets whose right answers are known by hand, shared by the tests.

**checkerboard**: two groups with disjoint tastes: a1..a3 buy the dining products p1..p3 (a1
lacks p3), b1..b3 buy the travel products q1..q3 (b1 lacks q3). z9 is in the customers file
(segment A) but never bought anything. With binary weights, cos(a1, a2) = cos(a1, a3) =
2 / sqrt(6) and a1 shares nothing with the b's, so a1's neighbours are a2 and a3 and p3 scores
2 x 2 / sqrt(6).

**reward world**: four customers, k=3, binary weights, cosine:

====  ==============  =======  =======================================================
who   bought          segment  notes
====  ==============  =======  =======================================================
a1    p1 (January)    A        neighbours a2 (1/sqrt 3), a3 (1/sqrt 2), a4 (1/sqrt 2)
a2    p1 p2 p3        B        the only buyer of p3
a3    p1 p2           B
a4    p1 p4           A
====  ==============  =======  =======================================================

a1's relevance: p2 = 1/sqrt3 + 1/sqrt2, p4 = 1/sqrt2, p3 = 1/sqrt3. Only p3 has an offer, so
with boost b its blended score is (1 - b) x s3/s2 + b: it passes p4 once b > B_P4 and p2 once
b > B_P2. Audience of p3: a3 (2/sqrt6), a1 (1/sqrt3), a4 (1/sqrt6); a2 scores 0 (no neighbour
of a2 bought p3).
"""

from __future__ import annotations

import math

from recsys.data.dataset import load_dataset
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline

# The seed's plain user-kNN: cosine, similarity power 1, no asymmetry, shrinkage or popularity
# penalty. The known answers here are worked out for it, so the tests state it rather than
# rely on ModelParams' defaults (which are chosen on real data and may move).
PLAIN_KNN: dict[str, object] = {
    "model": "user_knn",
    "n_neighbors": 20,
    "metric": "cosine",
    "weighting": "binary",
    "similarity_power": 1.0,
    "asymmetry": 0.5,
    "shrink": 0.0,
    "popularity_penalty": 0.0,
}


def plain_knn(**settings: object) -> ModelParams:
    """:data:`PLAIN_KNN` with ``settings`` changed, e.g. ``plain_knn(n_neighbors=2)``."""
    return ModelParams(**{**PLAIN_KNN, **settings})


# --- checkerboard ----------------------------------------------------------------------
COS = 2 / math.sqrt(6)

PURCHASES = """customer_id,product_id,purchase_date,quantity,amount
a1,p1,2026-06-01,1,10
a1,p2,2026-06-02,1,12
a2,p1,2026-06-03,1,10
a2,p2,2026-06-04,1,12
a2,p3,2026-06-05,1,30
a3,p1,2026-06-06,1,10
a3,p2,2026-06-07,1,12
a3,p3,2026-06-08,1,30
b1,q1,2026-06-09,1,100
b1,q2,2026-06-10,1,200
b2,q1,2026-06-11,1,100
b2,q2,2026-06-12,1,200
b2,q3,2026-06-13,1,300
b3,q1,2026-06-14,1,100
b3,q2,2026-06-15,1,200
b3,q3,2026-06-30,1,300
"""

CUSTOMERS = """customer_id,segment
a1,A
a2,A
a3,A
b1,B
b2,B
b3,B
z9,A
"""

PRODUCTS = """product_id,product_name,category,price
p1,Coffee,dining,10
p2,Bakery,dining,12
p3,Bistro,dining,30
q1,Train,travel,100
q2,Hotel,travel,200
q3,Flight,travel,300
"""

REWARDS = (
    "offer_id,product_id,category,title,reward_type,reward_value,min_spend,"
    "start_date,end_date,segment\n"
    """O1,p3,,Bistro cashback,cashback,10,20,2026-01-01,2026-12-31,
O2,,dining,3x dining,points_multiplier,3,0,,,
O3,p3,,Bistro credit for B,statement_credit,50,0,,,B
O4,p3,,Old bistro cashback,cashback,20,0,,2025-12-31,
"""
)


def checkerboard(**files: str):
    data = {
        "purchases": PURCHASES,
        "customers": CUSTOMERS,
        "products": PRODUCTS,
        "rewards": REWARDS,
    }
    data.update(files)
    return load_dataset(
        **{k: v.encode() for k, v in data.items() if v is not None},
        names={k: f"{k}.csv" for k in data},
    )


# --- reward world ----------------------------------------------------------------------
R2, R3, R6 = math.sqrt(2), math.sqrt(3), math.sqrt(6)
S2, S3, S4 = 1 / R3 + 1 / R2, 1 / R3, 1 / R2  # a1's scores for p2, p3, p4
# p3 overtakes p4 when (1-b) s3/s2 + b > (1-b) s4/s2, and p2 when it exceeds (1-b).
B_P4 = ((S4 - S3) / S2) / (1 + (S4 - S3) / S2)
B_P2 = (1 - S3 / S2) / (2 - S3 / S2)

REWARD_PURCHASES = """customer_id,product_id,purchase_date,amount
a1,p1,2026-01-01,10
a2,p1,2026-06-01,10
a2,p2,2026-06-02,12
a2,p3,2026-06-03,30
a3,p1,2026-06-04,10
a3,p2,2026-06-05,12
a4,p1,2026-06-06,10
a4,p4,2026-06-30,100
"""
REWARD_CUSTOMERS = "customer_id,segment\na1,A\na2,B\na3,B\na4,A\n"
REWARD_PRODUCTS = (
    "product_id,product_name,category\np1,Coffee,dining\np2,Bakery,dining\n"
    "p3,Bistro,dining\np4,Train,travel\n"
)
OFFER_HEADER = "offer_id,product_id,category,title,reward_type,reward_value,min_spend,segment,"
OFFER_HEADER += "max_per_customer,end_date\n"
O3 = "O3,p3,,Bistro cashback,cashback,10,0,,,2026-12-31\n"
REWARD_OFFERS = (
    OFFER_HEADER
    + O3
    + ("O7,p3,,Bistro for A,cashback,10,0,A,1,\nOD,,dining,Dining 5,cashback,5,0,,,\n")
)


def reward_data(rewards: str = REWARD_OFFERS, redemptions: str | None = None, **files: str):
    sources = {
        "purchases": REWARD_PURCHASES,
        "customers": REWARD_CUSTOMERS,
        "products": REWARD_PRODUCTS,
    }
    sources.update(files)
    return load_dataset(
        **{k: v.encode() for k, v in sources.items()},
        rewards=rewards.encode(),
        redemptions=None if redemptions is None else redemptions.encode(),
    )


def reward_pipe(boost: float = 0.0, **kwargs) -> RecommenderPipeline:
    return RecommenderPipeline(plain_knn(n_neighbors=3, reward_boost=boost)).fit(
        reward_data(**kwargs)
    )
