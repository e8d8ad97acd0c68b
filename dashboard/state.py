"""Session-state keys and their defaults, in one place, with an idempotent initialiser.

Pages never spell a session-state key as a literal: they import the constants below. Session
state holds references only (the active :class:`~recsys.data.dataset.Dataset` and fitted
pipeline come from the caches in :mod:`dashboard.cache`, which share them between sessions
without copying).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import streamlit as st

# --- what is active ---------------------------------------------------------------------------
DATASET = "active_dataset"  # recsys.data.dataset.Dataset | None
DATASET_SOURCE = "active_dataset_source"  # "sample" | "upload"
PIPELINE = "active_pipeline"  # recsys.pipeline.RecommenderPipeline | None
MODEL_INFO = "active_model_info"  # dict: source, name, trained_at, fit_seconds
BOOTSTRAPPED = "bootstrapped"  # sample data + default model loaded once per session
LAST_LOAD_ERROR = "last_load_error"  # DataValidationError report of the last rejected upload
LAST_LOAD_OK = "last_load_ok"  # short success message after a load
UPLOAD_CACHE = "upload_cache"  # (key, Dataset) of this session's last upload (not shared)

# --- widgets (explicit keys, so tests and callbacks can reach them) ---------------------------
UPLOAD_PREFIX = "upload_"  # + table name: file_uploader keys
MAP_PREFIX = "map_"  # + table + "__" + canonical column: column-mapper selectboxes
CUSTOMER = "explorer_customer"
CUSTOMER_SEARCH = "explorer_customer_search"  # dict: query, total (the picker's last search)
CUSTOMER_SHOWN = "explorer_customer_shown"  # the customer the page last showed
N_RECS = "explorer_n"
DRILL_PRODUCT = "explorer_drill_product"
BASKET = "explorer_basket"
AS_OF = "rewards_as_of"
REWARDS_TOP_N = "rewards_top_n"
AUDIENCE_OFFER = "rewards_offer"
REACH_WHOLE = "rewards_reach_whole"  # model keys whose reach counts every customer, not a sample
AUDIENCE_REQUESTS = "rewards_audience_requests"  # audiences asked for (see views.rewards)
# Issue 5: targeted audience of an offer, campaign export, the Model page's boost trade-off.
TARGET_OFFER = "rewards_target_offer"
TARGET_CUT = "rewards_target_cut"  # how the audience is cut: top N customers or a min score
TARGET_TOP = "rewards_target_top"
TARGET_MIN_SHARE = "rewards_target_min_share"
TARGET_RECENT_DAYS = "rewards_target_recent_days"  # 0 keeps recent buyers
CAMPAIGN_SCOPE = "campaign_scope"
CAMPAIGN_SEGMENT = "campaign_segment"
CAMPAIGN_FORMAT = "campaign_format"
CAMPAIGN_FILE = "campaign_file"  # dict: key, data (bytes), file_name, mime, rows
TRADEOFF_REQUEST = "model_tradeoff_request"  # dict: fingerprint, params (boost 0), n
SAVE_NAME = "model_save_name"
SAVE_NAME_MODEL = "model_save_name_for"  # model_key the name field was filled for
SAVE_OVERWRITE = "model_save_overwrite"
SAVE_AREA = "model_save_area"  # "private" | "team" (signed in only)
STORE_SELECTED = "store_selected"
STORE_CONFIRM_DELETE = "store_confirm_delete"

# Model-page form widgets. Their values are initialised in session state from the settings the
# form shows (``dashboard.views.model.train_form``), so the widgets themselves take no ``value=``.
MODEL_KIND = "train_model"
K = "train_k"
METRIC = "train_metric"
WEIGHTING = "train_weighting"
VALUE = "train_value"
MIN_SIMILARITY = "train_min_similarity"
SIMILARITY_POWER = "train_similarity_power"
POPULARITY_PENALTY = "train_popularity_penalty"  # user-kNN
ASYMMETRY = "train_asymmetry"  # user-kNN, cosine only
SHRINK = "train_shrink"  # user-kNN, cosine only
HALF_LIFE = "train_half_life_days"  # time decay, every model
EXCLUDE_PURCHASED = "train_exclude_purchased"
REWARD_BOOST = "train_reward_boost"
ALPHA = "train_alpha"  # RP3beta
BETA = "train_beta"  # RP3beta
L2 = "train_l2"  # EASE
FACTORS = "train_factors"  # ALS
REGULARIZATION = "train_regularization"  # ALS
# ModelParams sent to the Model page's form ("use these settings" on the Evaluation page): the
# form shows them and Train keeps the settings it does not show (e.g. ALS iterations); None once a
# model is activated.
APPLIED_PARAMS = "model_applied_params"

# Evaluation page: widgets, what was last run (a small request dict, results come from the
# caches) and a one-shot notice shown on the next page (e.g. "settings applied").
EVAL_N = "eval_n"
EVAL_TEST_FRACTION = "eval_test_fraction"
EVAL_MIN_PRODUCTS = "eval_min_products"
EVAL_SAMPLE = "eval_sample"  # customers evaluated (a seeded sample)
EVAL_TRAIN_SAMPLE = "eval_train_sample"  # customers split and trained on (a seeded sample)
EVAL_REQUEST = "eval_request"  # dict: fingerprint, n, test_fraction, min_products, max_customers,
# params
EVAL_RESULTS = "eval_results"  # dict: key, results ({ModelParams: EvaluationResult} as finished)
TUNE_REQUEST = "eval_tune_request"  # dict: fingerprint, n, test_fraction, min_products
PAGE_NOTICE = "page_notice"  # str shown once at the top of the next page run

# Campaigns page: widgets and the last plan / read-out (small references).
PLAN_OFFERS = "plan_offers"
PLAN_BUDGET = "plan_budget_per_offer"
PLAN_MAX_RECIPIENTS = "plan_max_recipients"
PLAN_GLOBAL_BUDGET = "plan_global_budget"
PLAN_CONTACT_CAP = "plan_contact_cap"
PLAN_SUPPRESS = "plan_suppress"
PLAN_OBJECTIVE = "plan_objective"
PLAN_CONTROL_SHARE = "plan_control_share"
PLAN_SEED = "plan_seed"
PLAN_NAME = "plan_name"
PLAN_FORMAT = "plan_format"
PLAN_RESULT = "plan_result"  # CampaignPlan | None
READOUT_PLAN = "readout_plan"
READOUT_UPLOAD = "readout_upload"
READOUT_RESULT = "readout_result"  # DataFrame | None

DEFAULTS: dict[str, Any] = {
    PLAN_RESULT: None,
    READOUT_RESULT: None,
    DATASET: None,
    DATASET_SOURCE: None,
    PIPELINE: None,
    MODEL_INFO: None,
    BOOTSTRAPPED: False,
    LAST_LOAD_ERROR: None,
    LAST_LOAD_OK: None,
    UPLOAD_CACHE: None,
    CAMPAIGN_FILE: None,
    TRADEOFF_REQUEST: None,
    STORE_CONFIRM_DELETE: None,
    SAVE_NAME_MODEL: None,
    EVAL_REQUEST: None,
    EVAL_RESULTS: None,
    TUNE_REQUEST: None,
    PAGE_NOTICE: None,
    APPLIED_PARAMS: None,
}


def init_state(
    state: MutableMapping[str, Any] | None = None, defaults: Mapping[str, Any] | None = None
) -> None:
    """Set every default (:data:`DEFAULTS`, or ``defaults``) not set yet (safe on every rerun).

    Widgets whose key is set here take no ``value=``: their value comes from session state.
    """
    state = st.session_state if state is None else state
    for key, value in (DEFAULTS if defaults is None else defaults).items():
        if key not in state:
            state[key] = value


def get(key: str, default: Any = None) -> Any:
    """Read a session-state value (``default`` when absent)."""
    return st.session_state.get(key, default)
