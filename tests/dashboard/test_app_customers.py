"""AppTest: the Customer explorer (profile, look-alikes, recommendations, rewards, what-if)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import profile
from dashboard import state as keys
from dashboard.charts import category_colors, qualify_color
from dashboard.views import customers as view
from recsys.data.schema import (
    CATEGORY,
    CONTRIBUTION,
    EXPECTED_REWARD,
    PRODUCT_ID,
    QUALIFIES,
    REASON,
    REASON_NEIGHBORS,
    REASON_OFFER_BOOST,
    REASON_POPULAR,
    REASON_POPULAR_IN_SEGMENT,
    SCORE,
    SUPPORT,
)
from recsys.rewards.offer_book import LIKELIHOOD
from tests.dashboard_fixtures import (
    CUSTOMER_PAGE,
    DATA_PAGE,
    MODEL_PAGE,
    charts,
    dataframes,
    small_purchases_csv,
    start_app,
    state,
    texts,
    values,
)


def recs_table(at):
    return next(df for df in dataframes(at) if {SCORE, SUPPORT, REASON} <= set(df.columns))


def test_explorer_shows_profile_charts_and_tables_for_the_first_customer():
    at = start_app(CUSTOMER_PAGE)
    assert at.selectbox(key=keys.CUSTOMER).value == "C00001"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Segment"] and metrics["Purchases"] != "0"
    figs = charts(at)
    assert {"chart_customer_mix", "chart_similar", "chart_recs", "chart_rewards",
            "chart_explain"} <= set(figs)  # fmt: skip
    assert not at.error and not at.warning


def test_picking_a_customer_updates_recommendations_and_figure_specs():
    at = start_app(CUSTOMER_PAGE)
    at.selectbox(key=keys.CUSTOMER).set_value("C00042").run()
    assert not at.exception
    pipeline = state(at, keys.PIPELINE)
    expected = pipeline.recommend("C00042", 10)

    table = recs_table(at)
    assert table[PRODUCT_ID].tolist() == expected[PRODUCT_ID].tolist()
    assert len(table) == 10

    fig = charts(at)["chart_recs"]
    assert fig["layout"]["title"]["text"] == "Recommended products"
    assert "Score" in fig["layout"]["xaxis"]["title"]["text"]
    # One trace per category, in that category's colour, support and reason in the hover.
    colors = category_colors(pipeline.catalogue_[CATEGORY])
    bars = sum(len(values(trace["x"])) for trace in fig["data"])
    assert bars == 10
    for trace in fig["data"]:
        assert trace["marker"]["color"] == colors[trace["name"]]
        assert "support" in trace["hovertemplate"] and "reason" in trace["hovertemplate"]

    similar = charts(at)["chart_similar"]
    expected_similar = pipeline.similar_customers("C00042", 10)
    assert values(similar["data"][0]["y"])[::-1] == expected_similar["neighbor_id"].tolist()
    assert "shared products" in similar["data"][0]["hovertemplate"]


def test_category_colours_match_between_explorer_and_data_page():
    at = start_app(CUSTOMER_PAGE)
    pipeline, dataset = state(at, keys.PIPELINE), state(at, keys.DATASET)
    # A customer recommended a category that the Data page's top products chart shows too.
    top_categories = set(profile.top_products(dataset.purchases, dataset.catalogue())[CATEGORY])
    customer = next(
        c for c in pipeline.customer_ids
        if top_categories & set(pipeline.recommend(c, 10)[CATEGORY])
    )  # fmt: skip
    at.selectbox(key=keys.CUSTOMER).set_value(customer).run()
    explorer = {t["name"]: t["marker"]["color"] for t in charts(at)["chart_recs"]["data"]}
    at.switch_page(DATA_PAGE).run()
    data_page = {t["name"]: t["marker"]["color"] for t in charts(at)["chart_top"]["data"]}
    shared = set(explorer) & set(data_page)
    assert shared, "the customer's recommendations share no category with the top products"
    assert {c: explorer[c] for c in shared} == {c: data_page[c] for c in shared}
    palette = category_colors(pipeline.catalogue_[CATEGORY])  # both from the one palette
    assert {**explorer, **data_page} == {c: palette[c] for c in {**explorer, **data_page}}


def test_random_and_most_offers_buttons_pick_customers():
    at = start_app(CUSTOMER_PAGE)
    at.button(key="pick_most_offers").click().run()
    assert not at.exception
    chosen = at.selectbox(key=keys.CUSTOMER).value
    per_customer = state(at, keys.PIPELINE).eligible_offers(chosen, 10)
    assert per_customer["offer_id"].nunique() >= 1
    at.button(key="pick_random").click().run()
    assert not at.exception
    assert at.selectbox(key=keys.CUSTOMER).value in set(state(at, keys.PIPELINE).customer_ids)


def offers_table(at):
    return next(df for df in dataframes(at) if "offer_title" in df.columns)


def test_rewards_are_listed_best_first():
    at = start_app(CUSTOMER_PAGE)
    at.button(key="pick_most_offers").click().run()
    offers = offers_table(at)
    chosen = at.selectbox(key=keys.CUSTOMER).value
    expected = state(at, keys.PIPELINE).eligible_offers(chosen, 10)
    # Best first = reachable first, then expected reward (the core's order, shown as is).
    assert offers["offer_title"].tolist() == expected["offer_title"].tolist()
    reach = {"likely to qualify": 0, "unknown": 0, "stretch": 1, "unlikely": 2}
    for _, group in expected.groupby("rank"):
        order = list(zip(group["qualifies"].map(reach), -group["expected_reward"], strict=True))
        assert order == sorted(order)
    fig = charts(at)["chart_rewards"]
    assert "min spend" in fig["data"][0]["hovertemplate"]
    assert "expected reward" in fig["data"][0]["hovertemplate"]


def test_each_offer_shows_whether_the_customer_likely_qualifies_and_its_expected_reward():
    at = start_app(CUSTOMER_PAGE)
    at.button(key="pick_most_offers").click().run()
    customer = at.selectbox(key=keys.CUSTOMER).value
    pipeline = state(at, keys.PIPELINE)
    expected = pipeline.eligible_offers(customer, 10).sort_values(["rank", "offer_rank"])
    offers = offers_table(at)
    assert {QUALIFIES, EXPECTED_REWARD} <= set(offers.columns)
    assert offers[QUALIFIES].tolist() == expected[QUALIFIES].tolist()
    assert set(offers[QUALIFIES]) <= set(LIKELIHOOD)
    assert offers[EXPECTED_REWARD].to_numpy() == pytest.approx(expected[EXPECTED_REWARD])
    # The chart: expected reward (currency) of each recommendation's best offer, one colour per
    # qualification label, the same colours as the table's badges.
    fig = charts(at)["chart_rewards"]
    best = expected[expected["offer_rank"] == 1]
    shown = {t["name"]: values(t["x"]) for t in fig["data"]}
    assert sum(len(v) for v in shown.values()) == len(best)
    assert set(shown) == set(best[QUALIFIES])
    for trace in fig["data"]:
        assert trace["marker"]["color"] == qualify_color(trace["name"])
    assert "currency" in fig["layout"]["xaxis"]["title"]["text"]


def test_reason_says_when_an_offer_moved_a_product_up():
    at = start_app(MODEL_PAGE)
    at.slider(key=keys.REWARD_BOOST).set_value(0.6)
    at.button(key="FormSubmitter:train_form-Train model").click().run()
    pipeline = state(at, keys.PIPELINE)
    assert pipeline.params.reward_boost == 0.6
    boosted = next(
        c for c in pipeline.customer_ids[:200]
        if (pipeline.recommend(c, 10)[REASON] == REASON_OFFER_BOOST).any()
    )  # fmt: skip
    at.switch_page(CUSTOMER_PAGE).run()
    at.selectbox(key=keys.CUSTOMER).set_value(boosted).run()
    assert not at.exception
    reasons = recs_table(at)[REASON].tolist()
    assert view.REASON_LABELS[REASON_OFFER_BOOST] in reasons
    assert any("higher than relevance alone" in c.value for c in at.caption)


def test_drill_down_explains_the_chosen_product():
    at = start_app(CUSTOMER_PAGE)
    second = recs_table(at)[PRODUCT_ID].iloc[1]
    at.selectbox(key=keys.DRILL_PRODUCT).set_value(second).run()
    assert not at.exception
    fig = charts(at)["chart_explain"]
    shares = values(fig["data"][0]["x"])
    assert sum(shares) == pytest.approx(100.0)
    pipeline = state(at, keys.PIPELINE)
    assert len(shares) == len(pipeline.explain("C00001", second))


def test_explained_contributions_add_up_to_the_score_shown_with_the_default_penalty():
    at = start_app(CUSTOMER_PAGE)
    pipeline = state(at, keys.PIPELINE)
    assert pipeline.params.popularity_penalty > 0  # the default model penalises popularity
    first = recs_table(at).iloc[0]
    explanation = pipeline.explain("C00001", first[PRODUCT_ID])
    assert explanation[CONTRIBUTION].sum() == pytest.approx(first[SCORE])
    fig = charts(at)["chart_explain"]
    assert sorted(row[2] for row in values(fig["data"][0]["customdata"])) == pytest.approx(
        sorted(explanation[CONTRIBUTION])
    )
    assert any(f"scores {first[SCORE]:.3f}" in c and "add up to the score" in c
               for c in texts(at, "caption"))  # fmt: skip


def test_another_model_explains_the_look_alikes_vote_not_its_score():
    at = start_app(MODEL_PAGE)
    at.selectbox(key=keys.MODEL_KIND).set_value("item_knn")
    at.button(key="FormSubmitter:train_form-Train model").click().run()
    at.switch_page(CUSTOMER_PAGE).run()
    assert not at.exception and state(at, keys.PIPELINE).params.model == "item_knn"
    captions = texts(at, "caption")
    assert any("from the Item-kNN model" in c and "not of the score" in c for c in captions)
    assert not any("add up to the score" in c for c in captions)


def test_what_if_panel_uses_recommend_for_basket():
    at = start_app(CUSTOMER_PAGE)
    assert any("Add products to the basket" in i for i in texts(at, "info"))
    pipeline = state(at, keys.PIPELINE)
    basket = list(pipeline.product_ids[:3])
    at.multiselect(key=keys.BASKET).set_value(basket).run()
    assert not at.exception
    figs = charts(at)
    _, expected = pipeline.recommend_for_basket(basket, 10)
    got = [y.split(". ", 1)[1] for t in figs["chart_whatif_recs"]["data"] for y in values(t["y"])]
    assert sorted(got) == sorted(expected["product_name"].tolist())
    assert figs["chart_whatif_similar"]["data"][0]["type"] == "bar"


def test_stale_model_warning_after_loading_other_data_is_not_shown_when_retrained():
    at = start_app(DATA_PAGE)
    at.file_uploader(key=f"{keys.UPLOAD_PREFIX}purchases").set_value(
        ("small.csv", small_purchases_csv(), "text/csv")
    )
    at.run()
    at.button(key="load_upload").click().run()
    at.switch_page(CUSTOMER_PAGE).run()
    assert not at.exception and not at.warning
    assert at.selectbox(key=keys.CUSTOMER).value == "007"
    # No rewards in this data: a clear note instead of an empty chart.
    assert any("no reward offers" in i for i in texts(at, "info"))


def test_customer_options_are_bounded_and_searchable():
    ids = np.array([f"C{i:06d}" for i in range(20_000)], dtype=object)
    assert len(view.customer_options(ids, "", None)) == view.MAX_CUSTOMER_OPTIONS
    assert view.customer_options(ids, "01999", None) == ["C001999", "C019990", "C019991",
                                                           "C019992", "C019993", "C019994",
                                                           "C019995", "C019996", "C019997",
                                                           "C019998", "C019999"]  # fmt: skip
    assert view.customer_options(ids, "C0000", "C019999", limit=3)[0] == "C019999"


def test_an_empty_recommendation_list_says_why():
    def render_empty() -> None:
        import pandas as pd

        from dashboard.views import customers
        from recsys.pipeline import REC_COLUMNS

        customers.recommendations_table(pd.DataFrame(columns=REC_COLUMNS))

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(render_empty).run()
    assert not at.exception
    assert "already bought every product" in at.info[0].value
    assert not at.dataframe


def many_customers_csv(n: int) -> bytes:
    """Purchases of ``n`` customers (``K00001``...), three products each out of 12."""
    rows = [
        f"K{c:05d},P{(c * k) % 12:02d},2026-0{1 + k}-0{1 + c % 9}"
        for c in range(1, n + 1)
        for k in (1, 2, 3)
    ]
    return ("customer_id,product_id,purchase_date\n" + "\n".join(rows) + "\n").encode()


def type_into(at, key: str, typed: str):
    """Type ``typed`` into a selectbox that accepts new options and press Enter (the browser
    sends the typed text itself as the widget's value)."""
    box = at.selectbox(key=key)
    if typed not in box.options:
        box.options.append(typed)
    return box.set_value(typed).run()


def test_the_customer_picker_finds_any_id_beyond_its_bounded_list():
    n = view.MAX_CUSTOMER_OPTIONS + 200
    at = start_app(DATA_PAGE)
    at.file_uploader(key=f"{keys.UPLOAD_PREFIX}purchases").set_value(
        ("many.csv", many_customers_csv(n), "text/csv")
    )
    at.run()
    at.button(key="load_upload").click().run()
    at.switch_page(CUSTOMER_PAGE).run()
    assert not at.exception
    box = at.selectbox(key=keys.CUSTOMER)
    assert len(box.options) == view.MAX_CUSTOMER_OPTIONS and "K05150" not in box.options
    assert any(f"{n:,} customers" in c.value for c in at.caption)

    # An exact id beyond the list, typed into the picker itself, is selected and shown.
    type_into(at, keys.CUSTOMER, "K05150")
    assert not at.exception
    assert at.selectbox(key=keys.CUSTOMER).value == "K05150"
    pipeline = state(at, keys.PIPELINE)
    expected = pipeline.recommend("K05150", 10)[PRODUCT_ID].tolist()
    assert recs_table(at)[PRODUCT_ID].tolist() == expected

    # Part of an id searches every customer: the first match is selected, the others offered.
    type_into(at, keys.CUSTOMER, "0515")
    assert at.selectbox(key=keys.CUSTOMER).value == "K00515"
    options = at.selectbox(key=keys.CUSTOMER).options
    assert options == ["K00515", *(f"K0515{d}" for d in range(10))]
    assert any("11 customer ids contain “0515”" in c.value for c in at.caption)
    # Picking another match keeps the matches on offer; an id outside them resets the list.
    at.selectbox(key=keys.CUSTOMER).set_value("K05153").run()
    assert at.selectbox(key=keys.CUSTOMER).options == options
    type_into(at, keys.CUSTOMER, "K00515")
    assert len(at.selectbox(key=keys.CUSTOMER).options) == 11  # still a match of "0515"
    type_into(at, keys.CUSTOMER, "K00042")
    assert len(at.selectbox(key=keys.CUSTOMER).options) == view.MAX_CUSTOMER_OPTIONS
    type_into(at, keys.CUSTOMER, "K00515")

    # Text no id contains keeps the customer and says so.
    type_into(at, keys.CUSTOMER, "nobody")
    assert not at.exception
    assert at.selectbox(key=keys.CUSTOMER).value == "K00515"
    assert any("No customer id contains “nobody”" in w for w in texts(at, "warning"))


def test_search_ids_puts_exact_and_prefix_matches_first():
    ids = np.array(["A10", "B1", "B10", "C1", "X1B1"], dtype=object)
    assert profile.search_ids(ids, "B1", 10) == (["B1", "B10", "X1B1"], 3)
    assert profile.search_ids(ids, "1", 2) == (["A10", "B1"], 5)
    assert profile.search_ids(ids, " C1 ", 10) == (["C1"], 1)
    assert profile.search_ids(ids, "zz", 10) == ([], 0)
    assert profile.search_ids(ids, "", 2) == (["A10", "B1"], 5)


def look_alikes_with_nothing_to_offer_csv() -> bytes:
    """X and Y bought the same two products (each other's only look-alike, nothing new to
    offer); Z and W bought three other products, W two of Z's."""
    rows = ["X,A", "X,B", "Y,A", "Y,B", "Z,C", "Z,D", "Z,E", "W,C", "W,D"]
    return ("customer_id,product_id\n" + "\n".join(rows) + "\n").encode()


def test_a_fallback_recommendation_says_why_instead_of_an_empty_chart():
    at = start_app(DATA_PAGE)
    at.file_uploader(key=f"{keys.UPLOAD_PREFIX}purchases").set_value(
        ("lookalikes.csv", look_alikes_with_nothing_to_offer_csv(), "text/csv")
    )
    at.run()
    at.button(key="load_upload").click().run()
    at.switch_page(CUSTOMER_PAGE).run()
    at.selectbox(key=keys.CUSTOMER).set_value("X").run()
    assert not at.exception
    assert set(recs_table(at)[REASON]) == {view.REASON_LABELS[REASON_POPULAR]}
    why = (
        "None of this customer's 1 look-alike bought a product they lack; all 3 "
        "recommendations are filled from the most popular products."
    )
    infos = texts(at, "info")
    assert why in infos  # under the recommendations
    # "Why this product?" says the same instead of drawing an empty chart.
    assert "chart_explain" not in charts(at)
    assert any("is a fallback (one of the most popular products overall)" in i and why in i
               for i in infos)  # fmt: skip

    # W's look-alike Z offers one product; the other two slots are fallbacks.
    at.selectbox(key=keys.CUSTOMER).set_value("W").run()
    assert recs_table(at)[REASON].tolist()[0] == view.REASON_LABELS[REASON_NEIGHBORS]
    assert (
        "This customer's 1 look-alike bought only 1 product they lack; the other 2 "
        "recommendations are filled from the most popular products." in texts(at, "info")
    )
    assert "chart_explain" in charts(at)  # the first product has a look-alike behind it


def test_fallback_note_names_the_cause():
    def recs(*reasons):
        return pd.DataFrame({REASON: list(reasons)})

    assert view.fallback_note(recs(REASON_NEIGHBORS), "user_knn", 10) is None
    assert view.fallback_note(recs(REASON_POPULAR_IN_SEGMENT), "user_knn", 10) == (
        "None of this customer's 10 look-alikes bought a product they lack; the only "
        "recommendation is filled from the most popular products of their segment."
    )
    assert view.fallback_note(recs(REASON_POPULAR, REASON_POPULAR), "user_knn", 0).startswith(
        "This customer has no look-alikes"
    )
    assert view.fallback_note(recs(REASON_NEIGHBORS, REASON_POPULAR), "ease", None) == (
        "EASE scored 1 product this customer lacks; the other 1 recommendation is filled from "
        "the most popular products."
    )
