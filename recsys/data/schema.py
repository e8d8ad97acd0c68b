"""The data contract: canonical column names, table specifications and header aliases.

Every other module refers to a column through the constants defined here; nothing else spells a
column name as a literal. The tables mirror the data contract in ``README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# --- input columns --------------------------------------------------------------------------
CUSTOMER_ID = "customer_id"
PRODUCT_ID = "product_id"
PURCHASE_DATE = "purchase_date"
QUANTITY = "quantity"
AMOUNT = "amount"
PRODUCT_NAME = "product_name"
CATEGORY = "category"
PRICE = "price"
SEGMENT = "segment"

OFFER_ID = "offer_id"
TITLE = "title"
REWARD_TYPE = "reward_type"
REWARD_VALUE = "reward_value"
MIN_SPEND = "min_spend"
START_DATE = "start_date"
END_DATE = "end_date"
MAX_PER_CUSTOMER = "max_per_customer"

REDEEMED_AT = "redeemed_at"

# --- output columns (results returned by the core) ------------------------------------------
RANK = "rank"
SCORE = "score"
SUPPORT = "support"
REASON = "reason"
OFFER_RANK = "offer_rank"  # 1 = the best usable offer of a recommendation
MATCH = "match"  # how an offer applies to a product: "product" or "category"
SIMILARITY = "similarity"
SHARED_PRODUCTS = "shared_products"
NEIGHBOR_ID = "neighbor_id"
NEIGHBOR_VALUE = "neighbor_value"
CONTRIBUTION = "contribution"
SHARE = "share"
OFFER_TITLE = "offer_title"
OFFER_END_DATE = "offer_end_date"
N_ELIGIBLE_OFFERS = "n_eligible_offers"
# Spend realism and campaigns (recsys/spend.py, recsys/campaigns.py).
QUALIFIES = "qualifies"
REWARD_IF_EARNED = "reward_if_earned"
EXPECTED_REWARD = "expected_reward"
SCORE_SHARE = "score_share"

# --- vocabularies ---------------------------------------------------------------------------
REWARD_TYPES: tuple[str, ...] = (
    "points_multiplier",
    "cashback",
    "statement_credit",
    "discount_pct",
)

# Reasons attached to each recommendation.
REASON_NEIGHBORS = "similar_customers"
REASON_POPULAR = "popular"
REASON_POPULAR_IN_SEGMENT = "popular_in_segment"
# A similar-customers recommendation that moved up because of its offer (reward_boost > 0).
REASON_OFFER_BOOST = "similar_customers+offer"
REASONS: tuple[str, ...] = (
    REASON_NEIGHBORS,
    REASON_POPULAR,
    REASON_POPULAR_IN_SEGMENT,
    REASON_OFFER_BOOST,
)

ColumnKind = Literal["id", "string", "date", "int", "number", "category"]
TableName = Literal["purchases", "rewards", "customers", "products", "redemptions"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the data contract.

    ``kind`` drives parsing: ``id`` and ``string`` stay text (ids are never turned into numbers),
    ``date`` is parsed to ``datetime64``, ``int`` and ``number`` must be numeric and non-negative,
    ``category`` is text restricted to ``allowed`` values when given.
    """

    name: str
    kind: ColumnKind
    required: bool = False
    aliases: tuple[str, ...] = ()
    description: str = ""
    minimum: float | None = None
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """A file of the data contract: its columns, in the order results are returned."""

    name: TableName
    columns: tuple[ColumnSpec, ...]
    description: str = ""
    unique: tuple[str, ...] = field(default=())

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


_CUSTOMER_ALIASES = (
    "cust_id",
    "user_id",
    "customer",
    "client_id",
    "customerid",
    "cardholder_id",
    "account_id",
    "user",
)
_PRODUCT_ALIASES = ("sku", "item_id", "product", "item", "productid", "article_id", "merchant_id")
_CATEGORY_ALIASES = ("product_category", "item_category", "mcc_category", "cat")
_SEGMENT_ALIASES = ("customer_segment", "seg", "tier", "cohort")

PURCHASES = TableSpec(
    name="purchases",
    description="One row per purchase line.",
    columns=(
        ColumnSpec(
            CUSTOMER_ID,
            "id",
            required=True,
            aliases=_CUSTOMER_ALIASES,
            description="Customer identifier (kept as text: '007' stays '007').",
        ),
        ColumnSpec(
            PRODUCT_ID,
            "id",
            required=True,
            aliases=_PRODUCT_ALIASES,
            description="Product identifier.",
        ),
        ColumnSpec(
            PURCHASE_DATE,
            "date",
            aliases=(
                "date",
                "purchased_at",
                "transaction_date",
                "txn_date",
                "timestamp",
                "order_date",
                "purchase_time",
            ),
            description="Date or datetime of the purchase; used for temporal evaluation.",
        ),
        ColumnSpec(
            QUANTITY,
            "int",
            minimum=1,
            aliases=("qty", "units", "count"),
            description="Units bought, integer >= 1 (default 1).",
        ),
        ColumnSpec(
            AMOUNT,
            "number",
            minimum=0,
            aliases=("spend", "value", "price_paid", "total", "amount_spent", "sales"),
            description="Spend in the account currency, >= 0.",
        ),
        ColumnSpec(
            PRODUCT_NAME,
            "string",
            aliases=("name", "item_name", "product_title"),
            description="Product name (may also come from the products file).",
        ),
        ColumnSpec(
            CATEGORY,
            "string",
            aliases=_CATEGORY_ALIASES,
            description="Product category (may also come from the products file).",
        ),
    ),
)

REWARDS = TableSpec(
    name="rewards",
    description="One row per reward offer.",
    unique=(OFFER_ID,),
    columns=(
        ColumnSpec(
            OFFER_ID,
            "id",
            required=True,
            aliases=("offer", "reward_id", "promo_id", "offerid", "id"),
            description="Unique offer identifier.",
        ),
        ColumnSpec(
            PRODUCT_ID,
            "id",
            aliases=_PRODUCT_ALIASES,
            description="Product the offer applies to (or use category).",
        ),
        ColumnSpec(
            CATEGORY,
            "string",
            aliases=_CATEGORY_ALIASES,
            description="Category the offer applies to (or use product_id).",
        ),
        ColumnSpec(
            TITLE,
            "string",
            aliases=("offer_title", "name", "offer_name", "description"),
            description="Title shown to the analyst.",
        ),
        ColumnSpec(
            REWARD_TYPE,
            "category",
            allowed=REWARD_TYPES,
            aliases=("type", "offer_type"),
            description="One of " + ", ".join(REWARD_TYPES) + ".",
        ),
        ColumnSpec(
            REWARD_VALUE,
            "number",
            minimum=0,
            aliases=("value", "reward", "reward_amount"),
            description="Value of the reward (multiplier, currency or percent), >= 0.",
        ),
        ColumnSpec(
            MIN_SPEND,
            "number",
            minimum=0,
            aliases=("minimum_spend", "min_amount", "threshold"),
            description="Spend needed to earn the reward, >= 0.",
        ),
        ColumnSpec(
            START_DATE,
            "date",
            aliases=("valid_from", "start", "starts"),
            description="First day the offer is valid (inclusive).",
        ),
        ColumnSpec(
            END_DATE,
            "date",
            aliases=("valid_to", "valid_until", "end", "expires", "expiry_date"),
            description="Last day the offer is valid (inclusive).",
        ),
        ColumnSpec(
            SEGMENT,
            "string",
            aliases=_SEGMENT_ALIASES,
            description="Only customers of this segment are eligible; empty = everyone.",
        ),
        ColumnSpec(
            MAX_PER_CUSTOMER,
            "int",
            minimum=1,
            aliases=("cap", "limit_per_customer"),
            description="Maximum redemptions per customer, integer >= 1.",
        ),
    ),
)

CUSTOMERS = TableSpec(
    name="customers",
    description="Optional customer attributes; extra columns are kept.",
    unique=(CUSTOMER_ID,),
    columns=(
        ColumnSpec(
            CUSTOMER_ID,
            "id",
            required=True,
            aliases=_CUSTOMER_ALIASES,
            description="Customer identifier.",
        ),
        ColumnSpec(
            SEGMENT,
            "string",
            aliases=_SEGMENT_ALIASES,
            description="Customer segment (used by segment offers and fallbacks).",
        ),
    ),
)

PRODUCTS = TableSpec(
    name="products",
    description="Optional product catalogue; extra columns are kept.",
    unique=(PRODUCT_ID,),
    columns=(
        ColumnSpec(
            PRODUCT_ID,
            "id",
            required=True,
            aliases=_PRODUCT_ALIASES,
            description="Product identifier.",
        ),
        ColumnSpec(
            PRODUCT_NAME,
            "string",
            aliases=("name", "item_name", "product_title"),
            description="Product name.",
        ),
        ColumnSpec(CATEGORY, "string", aliases=_CATEGORY_ALIASES, description="Product category."),
        ColumnSpec(
            PRICE,
            "number",
            minimum=0,
            aliases=("unit_price", "list_price"),
            description="Unit price, >= 0.",
        ),
    ),
)

REDEMPTIONS = TableSpec(
    name="redemptions",
    description="Optional: offers already redeemed, one row per redemption.",
    columns=(
        ColumnSpec(
            CUSTOMER_ID,
            "id",
            required=True,
            aliases=_CUSTOMER_ALIASES,
            description="Customer identifier.",
        ),
        ColumnSpec(
            OFFER_ID,
            "id",
            required=True,
            aliases=("offer", "reward_id", "promo_id"),
            description="Offer identifier.",
        ),
        ColumnSpec(
            REDEEMED_AT,
            "date",
            aliases=("redeemed", "redemption_date", "date"),
            description="When the offer was redeemed.",
        ),
    ),
)

TABLES: dict[str, TableSpec] = {
    t.name: t for t in (PURCHASES, REWARDS, CUSTOMERS, PRODUCTS, REDEMPTIONS)
}


def table_spec(table: str) -> TableSpec:
    """The contract of ``table``; a clear ``ValueError`` for a name that is not a table."""
    try:
        return TABLES[table]
    except KeyError:
        raise ValueError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}") from None


def normalise_header(name: object) -> str:
    """Lower-case a header and fold spaces, dashes and dots to underscores for alias matching."""
    text = str(name).strip().lstrip("\ufeff").lower()
    for ch in " -./":
        text = text.replace(ch, "_")
    while "__" in text:
        text = text.replace("__", "_")
    return text.strip("_")


# --- campaign planning (recsys/campaigns/, recsys/evaluation/calibration.py) -----------------
# Appended by the campaign branch; keep this block together when the module moves.
PROPENSITY = "propensity"  # probability of a reward-driven purchase within the window
EXPECTED_COST = "expected_cost"  # propensity x reward in currency
EXPECTED_VALUE = "expected_value"  # propensity x typical spend (the "spend" objective)
GROUP = "group"
GROUP_TREATMENT = "treatment"
GROUP_CONTROL = "control"
GROUPS: tuple[str, ...] = (GROUP_TREATMENT, GROUP_CONTROL)
CONVERTED = "converted"
SPEND = "spend"
RECIPIENTS = "recipients"
BUDGET = "budget"
MAX_RECIPIENTS = "max_recipients"
BUDGET_USED = "budget_used"  # share of the budget spent, 0..1 (NaN without a budget)
N_OFFERS = "n_offers"  # offers a customer receives
CUSTOMERS = "customers"
# Reliability table of a calibrator.
BIN = "bin"
MEAN_PREDICTED = "mean_predicted"
OBSERVED_RATE = "observed_rate"
COUNT = "count"
# Read-out of a campaign against its control group.
METRIC = "metric"
N_TREATMENT = "n_treatment"
N_CONTROL = "n_control"
TREATMENT_VALUE = "treatment_value"
CONTROL_VALUE = "control_value"
LIFT = "lift"
LIFT_LOW = "lift_low"
LIFT_HIGH = "lift_high"
RELATIVE_LIFT = "relative_lift"
P_VALUE = "p_value"
SIGNIFICANT = "significant"
INCREMENTAL_CONVERSIONS = "incremental_conversions"
COST = "cost"
COST_PER_INCREMENTAL = "cost_per_incremental_conversion"
MESSAGE = "message"
CONTROL_SHARE = "control_share"
ALL_OFFERS = "(all offers)"  # offer_id of the overall read-out row
