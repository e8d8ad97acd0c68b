"""Plotly figure builders: pure functions ``DataFrame -> go.Figure``, one module per page.

Every chart has a title, axis titles with units and hover text, and never reads session state,
so it can be tested without a server. Colours and the shared layout live in :mod:`.palette`;
the builders live in :mod:`.data_charts` (Data page), :mod:`.customer_charts` (Customer
explorer), :mod:`.model_charts` (Model page), :mod:`.reward_charts` (Rewards page and spend
realism) and :mod:`.evaluation_charts` (Evaluation page). Everything public is re-exported here,
so pages call ``charts.recommendations_bar(...)`` without knowing the module.
"""

from __future__ import annotations

from dashboard.charts.customer_charts import (
    explanation_bar,
    recommendations_bar,
    rewards_bar,
    similar_customers_bar,
)
from dashboard.charts.data_charts import (
    activity_over_time,
    category_mix,
    offers_by_type,
    offers_timeline,
    purchases_per_customer,
    top_products_bar,
)
from dashboard.charts.evaluation_charts import (
    RANKING_METRICS,
    k_curve,
    metrics_by_model,
    precision_recall_tradeoff,
    segment_ndcg,
)
from dashboard.charts.model_charts import TRADEOFF_COLUMNS, boost_tradeoff, similarity_distribution
from dashboard.charts.palette import (
    FONT,
    MODEL_COLORS,
    MODEL_LABELS,
    PALETTE,
    PRIMARY,
    REWARD_TYPE_COLORS,
    REWARD_UNITS,
    SECONDARY,
    STATUS_COLORS,
    TEMPLATE,
    UNKNOWN_CATEGORY,
    UNKNOWN_COLOR,
    category_colors,
    empty_figure,
    model_color,
    model_label,
)
from dashboard.charts.reward_charts import (
    LEFT_OUT_COLOR,
    NO_SEGMENT,
    QUALIFY_COLORS,
    QUALIFY_ORDER,
    TARGETED_COLOR,
    audience_bar,
    audience_score_distribution,
    audience_segment_mix,
    expected_rewards_bar,
    qualify_color,
    reach_per_customer,
)

__all__ = [
    "FONT",
    "LEFT_OUT_COLOR",
    "MODEL_COLORS",
    "MODEL_LABELS",
    "NO_SEGMENT",
    "PALETTE",
    "PRIMARY",
    "QUALIFY_COLORS",
    "QUALIFY_ORDER",
    "RANKING_METRICS",
    "REWARD_TYPE_COLORS",
    "REWARD_UNITS",
    "SECONDARY",
    "STATUS_COLORS",
    "TARGETED_COLOR",
    "TEMPLATE",
    "TRADEOFF_COLUMNS",
    "UNKNOWN_CATEGORY",
    "UNKNOWN_COLOR",
    "activity_over_time",
    "audience_bar",
    "audience_score_distribution",
    "audience_segment_mix",
    "boost_tradeoff",
    "category_colors",
    "category_mix",
    "empty_figure",
    "expected_rewards_bar",
    "explanation_bar",
    "k_curve",
    "metrics_by_model",
    "model_color",
    "model_label",
    "offers_by_type",
    "offers_timeline",
    "precision_recall_tradeoff",
    "purchases_per_customer",
    "qualify_color",
    "reach_per_customer",
    "recommendations_bar",
    "rewards_bar",
    "segment_ndcg",
    "similar_customers_bar",
    "similarity_distribution",
    "top_products_bar",
]
