"""Model page pieces: the training form and the measured reward-boost trade-off."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import cache, charts, render, state
from recsys.models.als import implicit_available
from recsys.params import METRICS, VALUES, WEIGHTINGS, ModelParams

TRADEOFF_N = 10


# --- training form -------------------------------------------------------------------------------
K_MAX = 500  # the default tuning grid tries k up to 200; room to go beyond it
MIN_SIMILARITY_MAX = 0.95
SIMILARITY_POWERS: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0)
# The models the form offers (ALS only when the implicit package is installed); each is explained
# in MODEL_HELP. Segment popularity is evaluated on the Evaluation page but not offered here.
MODEL_CHOICES: tuple[str, ...] = ("user_knn", "item_knn", "rp3beta", "ease", "als", "popularity")
MODEL_HELP = (
    "**User-kNN**: the k most similar customers vote for products (the product's model; "
    "similar customers and explanations always come from it). **Item-kNN**: products similar "
    "to what the customer bought. **RP3beta**: a random walk product → customer → product, "
    "with popular products damped by beta. **EASE**: a closed-form linear product-to-product "
    "model (catalogues up to 20,000 products). **ALS**: matrix factorisation (the implicit "
    "package). **Popularity**: everyone gets the best sellers."
)
ALPHA_MAX, BETA_MAX, FACTORS_MAX = 5.0, 2.0, 512
POPULARITY_PENALTY_MAX, SHRINK_MAX, HALF_LIFE_MAX = 2.0, 1000.0, 3650.0
TRAIN_FORM_KEYS: tuple[str, ...] = (
    state.MODEL_KIND,
    state.K,
    state.SIMILARITY_POWER,
    state.MIN_SIMILARITY,
    state.POPULARITY_PENALTY,
    state.ASYMMETRY,
    state.SHRINK,
    state.HALF_LIFE,
    state.METRIC,
    state.WEIGHTING,
    state.VALUE,
    state.REWARD_BOOST,
    state.EXCLUDE_PURCHASED,
    state.ALPHA,
    state.BETA,
    state.L2,
    state.FACTORS,
    state.REGULARIZATION,
)


def model_choices(current: str | None = None) -> list[str]:
    """The model kinds the form offers, plus ``current`` if it is another (e.g. loaded)."""
    offered = [m for m in MODEL_CHOICES if m != "als" or implicit_available()]
    return offered if current is None or current in offered else [*offered, current]


def model_summary(params: ModelParams) -> str:
    """The active model in a few words (the Model page's headline)."""
    if params.model == "user_knn":
        extras = [
            f"{name} {value:g}"
            for name, value, neutral in (
                ("power", params.similarity_power, 1.0),
                ("asymmetry", params.asymmetry, 0.5),
                ("shrink", params.shrink, 0.0),
                ("penalty", params.popularity_penalty, 0.0),
            )
            if value != neutral
        ]
        return ", ".join([f"k={params.n_neighbors}", params.metric, *extras])
    name = charts.model_label(params.model)
    if params.model == "item_knn":
        return f"{name}, k={params.n_neighbors}"
    if params.model == "rp3beta":
        return f"{name}, k={params.n_neighbors}, α {params.alpha:g}, β {params.beta:g}"
    if params.model == "ease":
        return f"{name}, l2 {params.l2:g}"
    if params.model == "als":
        return f"{name}, {params.factors} factors"
    return name


def train_form_values(params: ModelParams) -> dict[str, Any]:
    """The train form's widget values (session-state key -> value) that show ``params``.

    k and the minimum similarity are clipped to the form's range (a model trained elsewhere may
    lie outside it), so the page never breaks on a loaded model.
    """
    return {
        state.MODEL_KIND: params.model,
        state.K: min(int(params.n_neighbors), K_MAX),
        state.SIMILARITY_POWER: float(params.similarity_power),
        state.MIN_SIMILARITY: min(float(params.min_similarity), MIN_SIMILARITY_MAX),
        state.POPULARITY_PENALTY: float(params.popularity_penalty),
        state.ASYMMETRY: float(params.asymmetry),
        state.SHRINK: min(float(params.shrink), SHRINK_MAX),
        state.HALF_LIFE: min(float(params.half_life_days), HALF_LIFE_MAX),
        state.METRIC: params.metric,
        state.WEIGHTING: params.weighting,
        state.VALUE: params.value,
        state.REWARD_BOOST: float(params.reward_boost),
        state.EXCLUDE_PURCHASED: bool(params.exclude_purchased),
        state.ALPHA: float(params.alpha),
        state.BETA: float(params.beta),
        state.L2: float(params.l2),
        state.FACTORS: min(int(params.factors), FACTORS_MAX),
        state.REGULARIZATION: float(params.regularization),
    }


def similarity_powers(*extra: float | None) -> list[float]:
    """The power options: :data:`SIMILARITY_POWERS` and any other power in use (``extra``)."""
    return sorted({*SIMILARITY_POWERS, *(float(p) for p in extra if p is not None)})


def train_form(current: ModelParams) -> dict[str, Any] | None:
    """The training settings form (showing ``current``); the settings when Train is pressed.

    The widgets' values live in session state, initialised from ``current`` when not set yet
    (so the widgets take no ``value=``). Nothing happens on a widget change: only the submit
    button returns the settings. Settings the form does not show (ALS iterations and confidence)
    are kept from ``current`` by the caller. The form shows every model's settings at once (a
    form does not rerun on a change); each says which model it is for.
    """
    state.init_state(defaults=train_form_values(current))
    if (
        current.n_neighbors > K_MAX
        or current.min_similarity > MIN_SIMILARITY_MAX
        or current.shrink > SHRINK_MAX
        or current.half_life_days > HALF_LIFE_MAX
    ):
        st.warning(
            f"These settings (k = {current.n_neighbors}, minimum similarity "
            f"{current.min_similarity:g}, shrinkage {current.shrink:g}, half-life "
            f"{current.half_life_days:g} days) are beyond this form's range (k up to {K_MAX}, "
            f"minimum similarity up to {MIN_SIMILARITY_MAX:g}, shrinkage up to {SHRINK_MAX:g}, "
            f"half-life up to {HALF_LIFE_MAX:g} days): the form shows the nearest it can train.",
            icon=":material/warning:",
        )
    powers = similarity_powers(current.similarity_power, state.get(state.SIMILARITY_POWER))
    with st.form("train_form", border=True):
        kind = st.selectbox(
            "Model",
            model_choices(current.model),
            key=state.MODEL_KIND,
            format_func=charts.model_label,
            help=MODEL_HELP,
        )
        c1, c2, c3 = st.columns(3)
        k = c1.slider(
            "Neighbours (k)",
            1,
            K_MAX,
            key=state.K,
            help="User-kNN: how many similar customers vote for each customer's "
            "recommendations (tuning tries 10 to 200). Item-kNN and RP3beta: similar products "
            "kept per product. Arrow keys move the slider by one.",
        )
        power = c2.select_slider(
            "Similarity power",
            powers,
            key=state.SIMILARITY_POWER,
            format_func=lambda p: f"{p:g}",
            help="Each neighbour's vote is weighted by similarity ** power. 1 = plain "
            "similarity-weighted sum; higher favours the closest neighbours (often better "
            "with a larger k).",
        )
        min_sim = c3.slider(
            "Minimum similarity",
            0.0,
            MIN_SIMILARITY_MAX,
            step=0.05,
            key=state.MIN_SIMILARITY,
            help="Ignore neighbours less similar than this.",
        )
        c4, c5, c6 = st.columns(3)
        metric = c4.selectbox(
            "Similarity metric",
            METRICS,
            key=state.METRIC,
            help="How alike two customers' baskets are. Asymmetry and shrinkage shape the "
            "cosine only: with euclidean or manhattan they are not used.",
        )
        weighting = c5.selectbox(
            "Weighting",
            WEIGHTINGS,
            key=state.WEIGHTING,
            help="binary = bought or not; tfidf/bm25 down-weight very popular "
            "products; log1p/count use how often.",
        )
        value = c6.selectbox(
            "Value per purchase",
            VALUES,
            key=state.VALUE,
            help="What a cell counts before weighting: purchase lines, units or spend.",
        )
        e1, e2, e3, e4 = st.columns(4)
        penalty = e1.slider(
            "Popularity penalty",
            0.0,
            POPULARITY_PENALTY_MAX,
            step=0.05,
            key=state.POPULARITY_PENALTY,
            help="User-kNN: a product's score is divided by its number of buyers ** penalty, so "
            "the long tail gets its share. 0 = none.",
        )
        asymmetry = e2.slider(
            "Asymmetry (cosine only)",
            0.0,
            1.0,
            step=0.05,
            key=state.ASYMMETRY,
            help="User-kNN, cosine: u·v / (|u|^2a |v|^2(1-a)). 0.5 = plain cosine; above it a "
            "neighbour's own basket size counts less. Not used with euclidean or manhattan.",
        )
        shrink = e3.number_input(
            "Shrinkage (cosine only)",
            0.0,
            SHRINK_MAX,
            step=1.0,
            key=state.SHRINK,
            help="User-kNN, cosine: each similarity × shared / (shared + shrinkage), so "
            "customers sharing one product are not 'identical'. 0 = none. Not used with "
            "euclidean or manhattan.",
        )
        half_life = e4.number_input(
            "Time decay half-life (days)",
            0.0,
            HALF_LIFE_MAX,
            step=30.0,
            key=state.HALF_LIFE,
            help="Every model: a purchase's weight halves every this many days before the "
            "latest purchase date (as Microsoft SAR does), so recent purchases say more. "
            "0 = no decay. Needs purchase dates.",
        )
        c7, c8 = st.columns([1, 2], vertical_alignment="center")
        boost = c7.slider(
            "Reward boost",
            0.0,
            1.0,
            step=0.05,
            key=state.REWARD_BOOST,
            help="0 ranks by relevance only; towards 1, products with valuable eligible offers "
            "move up each customer's list.",
        )
        exclude = c8.checkbox("Exclude products already bought", key=state.EXCLUDE_PURCHASED)
        st.caption("Settings of the other models (used only by the model they name):")
        d1, d2, d3, d4, d5 = st.columns(5)
        alpha = d1.number_input(
            "RP3beta alpha",
            0.05,
            ALPHA_MAX,
            step=0.05,
            key=state.ALPHA,
            help="Exponent of the walk's probabilities: below 1 flattens them (tuning tries "
            "0.3 and 0.5).",
        )
        beta = d2.number_input(
            "RP3beta beta",
            0.0,
            BETA_MAX,
            step=0.05,
            key=state.BETA,
            help="Popularity penalty: a product's similarity is divided by its buyers ** beta. "
            "0 = none; higher recommends more of the long tail.",
        )
        l2 = d3.number_input(
            "EASE l2", 1.0, 100_000.0, step=50.0, key=state.L2, help="Regularisation of EASE."
        )
        factors = d4.number_input(
            "ALS factors", 1, FACTORS_MAX, step=8, key=state.FACTORS, help="Latent factors."
        )
        regularization = d5.number_input(
            "ALS regularisation",
            0.0,
            1000.0,
            step=0.5,
            key=state.REGULARIZATION,
            help="L2 penalty of the factors (tuning tries 3 and 10).",
        )
        submitted = st.form_submit_button("Train model", type="primary", icon=":material/bolt:")

    if not submitted:
        return None
    return {
        "model": kind,
        "alpha": float(alpha),
        "beta": float(beta),
        "l2": float(l2),
        "factors": int(factors),
        "regularization": float(regularization),
        "n_neighbors": int(k),
        "similarity_power": float(power),
        "min_similarity": float(min_sim),
        # ModelParams makes shrink and asymmetry neutral for a metric other than cosine.
        "popularity_penalty": float(penalty),
        "asymmetry": float(asymmetry),
        "shrink": float(shrink),
        "half_life_days": float(half_life),
        "metric": metric,
        "weighting": weighting,
        "value": value,
        "reward_boost": float(boost),
        "exclude_purchased": bool(exclude),
    }


# --- what was trained, and its name ------------------------------------------------------------
def params_table(params: ModelParams) -> pd.DataFrame:
    """Every setting of ``params`` and its value, as text (the Parameters table)."""
    settings = params.to_dict()
    return pd.DataFrame({"setting": list(settings), "value": [str(v) for v in settings.values()]})


def default_model_name(pipeline: Any) -> str:
    """The name a model is saved under unless the analyst types another: data, k and metric."""
    meta = getattr(pipeline, "metadata_", {}) or {}
    params = pipeline.params
    return f"{meta.get('dataset', 'model')}-k{params.n_neighbors}-{params.metric}"


def model_name_field(container: Any, pipeline: Any) -> str:
    """The "Model name" text input, filled with :func:`default_model_name` of ``pipeline``.

    The field follows the active model: a name typed by hand is kept until another model becomes
    active (trained or loaded), then the field shows that model's name, so a save never files a
    model under another's settings. Its value lives in session state (no ``value=``).
    """
    key = cache.model_key(pipeline)
    if state.get(state.SAVE_NAME_MODEL) != key or state.SAVE_NAME not in st.session_state:
        st.session_state[state.SAVE_NAME] = default_model_name(pipeline)
        st.session_state[state.SAVE_NAME_MODEL] = key
    return container.text_input(
        "Model name",
        key=state.SAVE_NAME,
        help="Letters, digits, '-', '_' and '.'; saved models survive restarts.",
    )


# --- the reward-boost trade-off ------------------------------------------------------
def boost_tradeoff_section(dataset: Any, pipeline: Any) -> None:
    """NDCG@N and offer coverage against reward_boost, measured on a button (cached)."""
    st.subheader("Reward boost: what offer exposure costs in relevance")
    st.caption(
        "Measured on a temporal hold-out: each customer's most recent purchases are hidden, the "
        "model (these settings) is trained on the rest, and each boost 0, 0.1, …, 1 re-ranks the "
        f"same candidates. NDCG@{TRADEOFF_N}: how well the hidden purchases are ranked. Offer "
        "coverage: share of recommendations that carry an eligible offer."
    )
    params = dataclasses.replace(pipeline.params, reward_boost=0.0)
    request = {"fingerprint": dataset.fingerprint, "params": params, "n": TRADEOFF_N}
    if st.button("Measure the trade-off", key="run_tradeoff", icon=":material/insights:"):
        st.session_state[state.TRADEOFF_REQUEST] = request
    if st.session_state.get(state.TRADEOFF_REQUEST) != request:
        st.info(
            "Press **Measure the trade-off** to train once on the hold-out split and re-rank "
            "with 11 boosts (a few seconds on the sample data).",
            icon=":material/insights:",
        )
        return
    with render.user_errors():
        table = cache.boost_tradeoff(dataset.fingerprint, params, dataset, TRADEOFF_N)
        chosen = float(pipeline.params.reward_boost)
        st.plotly_chart(
            charts.boost_tradeoff(table, chosen=chosen, n=TRADEOFF_N), key="chart_tradeoff"
        )
        st.markdown(tradeoff_sentence(table, chosen, TRADEOFF_N))
        with st.expander("Step by step"):
            st.dataframe(
                tradeoff_steps(table),
                hide_index=True,
                width="stretch",
                key="table_tradeoff",
                column_config={
                    "step": st.column_config.TextColumn("Boost step"),
                    "coverage_gain": st.column_config.NumberColumn(
                        "Offer coverage gained (points)", format="%+.1f"
                    ),
                    "ndcg_cost": st.column_config.NumberColumn(
                        f"NDCG@{TRADEOFF_N} lost (points)", format="%.2f"
                    ),
                    "cost_per_point": st.column_config.NumberColumn(
                        "NDCG lost per coverage point", format="%.2f"
                    ),
                },
            )


def tradeoff_sentence(table: pd.DataFrame, chosen: float, n: int) -> str:
    """What each step of offer exposure costs in relevance, in words (percentage points)."""
    t = table.sort_values("reward_boost").reset_index(drop=True)
    if len(t) < 2:
        return "Not enough boosts were measured to state a trade-off."
    steps = len(t) - 1
    step = (t["reward_boost"].iloc[-1] - t["reward_boost"].iloc[0]) / steps
    d_cov = (t["offer_coverage"].iloc[-1] - t["offer_coverage"].iloc[0]) * 100
    d_ndcg = (t["ndcg"].iloc[-1] - t["ndcg"].iloc[0]) * 100
    cost = (
        f"about {-d_ndcg / d_cov:.2f} NDCG points per point of coverage"
        if d_cov > 0
        else "no gain in coverage"
    )
    verb = "costs" if d_ndcg <= 0 else "gains"
    sentence = (
        f"Each {step:g} step of reward boost adds {d_cov / steps:.1f} points of offer coverage "
        f"and {verb} {abs(d_ndcg) / steps:.2f} points of NDCG@{n} on average — {cost} "
        f"(NDCG {t['ndcg'].iloc[0]:.1%} → {t['ndcg'].iloc[-1]:.1%}, coverage "
        f"{t['offer_coverage'].iloc[0]:.0%} → {t['offer_coverage'].iloc[-1]:.0%} from boost "
        f"{t['reward_boost'].iloc[0]:g} to {t['reward_boost'].iloc[-1]:g})."
    )
    row = t.iloc[(t["reward_boost"] - chosen).abs().idxmin()]
    if chosen > 0:
        lost = (row["ndcg"] - t["ndcg"].iloc[0]) * 100
        sentence += (
            f" The active model (boost {chosen:g}) {'gives up' if lost <= 0 else 'gains'} "
            f"{abs(lost):.2f} points of NDCG@{n} for "
            f"{(row['offer_coverage'] - t['offer_coverage'].iloc[0]) * 100:+.1f} points of "
            "offer coverage against relevance only."
        )
    return sentence


def tradeoff_steps(table: pd.DataFrame) -> pd.DataFrame:
    """Per step of boost: coverage gained, NDCG lost (percentage points) and their ratio."""
    t = table.sort_values("reward_boost").reset_index(drop=True)
    gain = t["offer_coverage"].diff().iloc[1:] * 100
    cost = -t["ndcg"].diff().iloc[1:] * 100
    boosts = t["reward_boost"]
    return pd.DataFrame(
        {
            "step": [f"{a:g} → {b:g}" for a, b in zip(boosts[:-1], boosts[1:], strict=True)],
            "coverage_gain": gain.to_numpy(),
            "ndcg_cost": cost.to_numpy(),
            "cost_per_point": (cost / gain.where(gain > 0)).to_numpy(),
        }
    )
