"""AppTest: the Rewards page (offer status, reach in the top N, targeted audience, exports)."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from dashboard import cache, render
from dashboard import state as keys
from dashboard.views import rewards as view
from recsys.campaigns.audience import offer_audience
from recsys.campaigns.export import CAMPAIGN_COLUMNS
from recsys.campaigns.reach import offer_reach
from recsys.errors import RecsysError
from recsys.pipeline import RecommenderPipeline
from recsys.rewards.offer_book import LIKELIHOOD
from tests.dashboard_fixtures import (
    CUSTOMER_PAGE,
    DATA_PAGE,
    REWARDS_PAGE,
    assert_no_exception,
    charts,
    dataframes,
    sample_bytes,
    small_purchases_csv,
    start_app,
    state,
    texts,
    values,
)

QUALIFY_LABELS = set(LIKELIHOOD)


def catalogue(at) -> pd.DataFrame:
    return next(df for df in dataframes(at) if "audience" in df.columns)


def test_rewards_page_shows_coverage_audience_and_catalogue():
    at = start_app(REWARDS_PAGE)
    assert at.title[0].value == "Rewards"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Coverage"].endswith("%")
    table = catalogue(at)
    assert len(table) == 40 and set(table["status"]) <= {"active", "expired", "upcoming"}
    assert table["audience"].is_monotonic_decreasing
    assert (table.loc[table["status"] != "active", "audience"] == 0).all()
    fig = charts(at)["chart_audience"]
    shown = sum(len(values(t["x"])) for t in fig["data"])
    assert shown == int((table["audience"] > 0).sum())
    assert fig["layout"]["xaxis"]["title"]["text"] == "Audience (customers)"
    # The two audience notions have distinct names on the page.
    headers = [h.value for h in at.subheader]
    assert view.REACH_LABEL in headers and view.TARGET_LABEL in headers


def test_audience_counts_customers_with_the_offer_in_their_top_n():
    at = start_app(REWARDS_PAGE)
    pipeline = state(at, keys.PIPELINE)
    table = catalogue(at).set_index("offer_id")
    top = table.index[0]
    reached = sum(
        top in set(pipeline.eligible_offers(c, 10)["offer_id"]) for c in pipeline.customer_ids[:200]
    )
    assert reached <= table.loc[top, "audience"]
    assert table.loc[top, "audience"] <= len(pipeline.customer_ids)


def test_as_of_date_changes_offer_status():
    at = start_app(REWARDS_PAGE)
    before = catalogue(at)["status"].value_counts()
    at.date_input(key=keys.AS_OF).set_value(dt.date(2030, 1, 1)).run()
    assert not at.exception
    after = catalogue(at)
    assert (after["status"] == "expired").sum() > before.get("expired", 0)
    # Before any offer starts nobody is reached, and the page says what to do.
    at.date_input(key=keys.AS_OF).set_value(dt.date(2020, 1, 1)).run()
    assert set(catalogue(at)["status"]) == {"upcoming"}
    assert {m.label: m.value for m in at.metric}["Coverage"] == "0%"
    assert any("No offer reaches anyone" in i for i in texts(at, "info"))


def test_top_customers_for_an_offer():
    at = start_app(REWARDS_PAGE)
    offer = at.selectbox(key=keys.AUDIENCE_OFFER).value
    top = next(df for df in dataframes(at) if "customer_id" in df.columns)
    assert 0 < len(top) <= 20 and top["customer_id"].is_unique
    pipeline = state(at, keys.PIPELINE)
    first = top["customer_id"].iloc[0]
    assert offer in set(pipeline.eligible_offers(first, 10)["offer_id"])


def build(at) -> dict:
    """Press "Build campaign file"; the built file's record (key, data, file_name, mime, rows)."""
    at.button(key="build_campaign").click().run()
    assert_no_exception(at)
    assert not at.error, texts(at, "error")
    return state(at, keys.CAMPAIGN_FILE)


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype={"customer_id": str, "product_id": str})


def test_campaign_export_of_all_customers_as_csv_with_a_download():
    at = start_app(REWARDS_PAGE)
    assert at.radio(key=keys.CAMPAIGN_SCOPE).value == view.SCOPE_ALL
    assert not at.get("download_button")  # nothing built yet
    built = build(at)
    frame = read_csv(built["data"])
    assert list(frame.columns) == CAMPAIGN_COLUMNS
    assert len(frame) == built["rows"] == 2000 * 10
    assert frame["customer_id"].str.startswith("C").all()
    assert set(frame["qualifies"].dropna()) <= QUALIFY_LABELS
    assert frame["offer_id"].notna().any() and frame["offer_id"].isna().any()
    assert built["file_name"].endswith("_top10.csv") and built["mime"] == "text/csv"
    assert any(b.proto.label == f"Download {built['file_name']}" for b in at.get("download_button"))
    assert any("Done: 20,000 rows" in p.proto.text for p in at.get("progress"))
    # Another top N: the built file no longer matches the settings, so no download is offered.
    at.slider(key=keys.REWARDS_TOP_N).set_value(5).run()
    assert not at.get("download_button")


def test_campaign_export_of_a_segment_as_parquet():
    at = start_app(REWARDS_PAGE)
    at.radio(key=keys.CAMPAIGN_SCOPE).set_value(view.SCOPE_SEGMENT).run()
    at.selectbox(key=keys.CAMPAIGN_SEGMENT).set_value("student").run()
    at.radio(key=keys.CAMPAIGN_FORMAT).set_value("Parquet").run()
    built = build(at)
    assert built["file_name"] == "campaign_segment-student_20261031_top10.parquet"
    frame = pd.read_parquet(io.BytesIO(built["data"]))
    assert list(frame.columns) == CAMPAIGN_COLUMNS
    pipeline = state(at, keys.PIPELINE)
    students = pipeline.segments_[pipeline.segments_ == "student"].index
    assert set(frame["customer_id"]) == set(students)
    assert len(frame) == 10 * len(students)
    assert str(frame["offer_end_date"].dtype).startswith("datetime64")


def target(at) -> pd.DataFrame:
    return next(df for df in dataframes(at) if "score_share" in df.columns)


def test_targeted_audience_of_an_offer_with_a_top_n_cut():
    at = start_app(REWARDS_PAGE)
    offer = at.selectbox(key=keys.TARGET_OFFER).value
    at.number_input(key=keys.TARGET_TOP).set_value(100).run()
    assert_no_exception(at)
    pipeline = state(at, keys.PIPELINE)
    expected = offer_audience(pipeline, offer, as_of=pipeline.as_of_, top=100)
    table = target(at)
    assert table["customer_id"].tolist() == expected.members["customer_id"].tolist()
    assert set(table["qualifies"]) <= QUALIFY_LABELS
    metrics = {m.label: m.value for m in at.metric}
    total = len(offer_audience(pipeline, offer, as_of=pipeline.as_of_).members)
    assert metrics["Targeted customers"] == f"100 of {total:,}"
    assert metrics["Cost if each earns it once"] == render.fmt_money(
        expected.members["reward_if_earned"].sum()
    )
    assert metrics["Expected cost"] == render.fmt_money(expected.members["expected_reward"].sum())
    figs = charts(at)
    scores = figs["chart_target_scores"]
    assert [t["name"] for t in scores["data"]] == ["Targeted (100)", f"Left out ({total - 100:,})"]
    assert len(scores["layout"]["shapes"]) == 1  # the cut-off line
    mix = figs["chart_target_segments"]
    assert sum(sum(values(t["x"])) for t in mix["data"]) == 100
    assert {t["name"] for t in mix["data"]} <= QUALIFY_LABELS
    sizes = next(df for df in dataframes(at) if "min_score_share" in df.columns)
    assert sizes["customers"].iloc[0] == total and sizes["customers"].is_monotonic_decreasing


def test_targeted_audience_cut_by_score_and_recent_buyers_window():
    at = start_app(REWARDS_PAGE)
    at.radio(key=keys.TARGET_CUT).set_value(view.CUT_SCORE).run()
    at.slider(key=keys.TARGET_MIN_SHARE).set_value(75).run()
    assert_no_exception(at)
    table = target(at)
    assert len(table) > 0 and (table["score_share"] >= 0.75).all()
    shapes = charts(at)["chart_target_scores"]["layout"]["shapes"]
    assert shapes[0]["x0"] == pytest.approx(75.0)
    before = {m.label: m.value for m in at.metric}["Targeted customers"]
    assert any("recent buyers" in c for c in left_out(at))
    # Keeping recent buyers makes the whole audience larger.
    at.number_input(key=keys.TARGET_RECENT_DAYS).set_value(0).run()
    after = {m.label: m.value for m in at.metric}["Targeted customers"]
    whole = [int(v.split(" of ")[1].replace(",", "")) for v in (before, after)]
    assert whole[1] > whole[0]
    assert not any("recent buyers" in c for c in left_out(at))


def left_out(at) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("Left out before ranking")]


def test_export_the_targeted_audience_as_csv_and_parquet():
    at = start_app(REWARDS_PAGE)
    offer = at.selectbox(key=keys.TARGET_OFFER).value
    at.number_input(key=keys.TARGET_TOP).set_value(50).run()
    at.radio(key=keys.CAMPAIGN_SCOPE).set_value(view.SCOPE_AUDIENCE).run()
    built = build(at)
    frame = read_csv(built["data"])
    assert list(frame.columns) == CAMPAIGN_COLUMNS
    assert frame["customer_id"].tolist() == target(at)["customer_id"].tolist()
    assert (frame["offer_id"] == offer).all() and frame["rank"].tolist() == list(range(1, 51))
    assert built["file_name"].startswith(f"audience_{offer}_")
    at.radio(key=keys.CAMPAIGN_FORMAT).set_value("Parquet").run()
    assert not at.get("download_button")  # CSV built, Parquet asked for
    parquet = pd.read_parquet(io.BytesIO(build(at)["data"]))
    assert parquet["customer_id"].tolist() == frame["customer_id"].tolist()
    assert parquet["score"].to_numpy() == pytest.approx(frame["score"].to_numpy(), rel=1e-5)


def test_rewards_page_without_offers_explains_what_to_do():
    at = start_app(DATA_PAGE)
    at.file_uploader(key=f"{keys.UPLOAD_PREFIX}purchases").set_value(
        ("small.csv", small_purchases_csv(), "text/csv")
    )
    at.run()
    at.button(key="load_upload").click().run()
    at.switch_page(REWARDS_PAGE).run()
    assert not at.exception
    assert any("no reward offers" in i for i in texts(at, "info"))


def test_segment_offer_without_a_customers_file_has_nobody_to_target_or_export():
    at = start_app(DATA_PAGE)
    for table in ("purchases", "rewards"):
        at.file_uploader(key=f"{keys.UPLOAD_PREFIX}{table}").set_value(
            (f"{table}.csv", sample_bytes(table), "text/csv")
        )
    at.run()
    at.button(key="load_upload").click().run()
    at.switch_page(REWARDS_PAGE).run()
    at.selectbox(key=keys.TARGET_OFFER).set_value("O003").run()  # family-only offer
    assert_no_exception(at)
    assert {m.label: m.value for m in at.metric}["Targeted customers"] == "0 of 0"
    assert "Nobody in the audience" in str(charts(at)["chart_target_scores"]["layout"])
    at.radio(key=keys.CAMPAIGN_SCOPE).set_value(view.SCOPE_SEGMENT).run()
    assert any("no customer segments" in i for i in texts(at, "info"))
    at.radio(key=keys.CAMPAIGN_SCOPE).set_value(view.SCOPE_AUDIENCE).run()
    assert any("nothing to export" in i for i in texts(at, "info"))
    assert "build_campaign" not in {b.key for b in at.button}


def test_the_page_shows_the_core_reach_of_every_offer():
    at = start_app(REWARDS_PAGE)
    pipeline = state(at, keys.PIPELINE)
    reach = offer_reach(pipeline, 10, as_of=pipeline.as_of_)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Coverage"] == f"{reach.coverage:.0%}"
    assert metrics["Customers reached"] == f"{reach.n_reached:,} of {reach.n_customers:,}"
    table = catalogue(at).set_index("offer_id")
    assert (table["audience"].reindex(reach.audience.index) == reach.audience).all()
    # Offers per customer: one bar per count, the customers with none included.
    bars = charts(at)["chart_reach_per_customer"]["data"][0]
    assert values(bars["x"])[0] == 0
    assert sum(values(bars["y"])) == reach.n_customers
    assert values(bars["y"])[0] == reach.n_customers - reach.n_reached
    # The customers an offer reaches are the core's best-scored ones for that offer.
    offer = at.selectbox(key=keys.AUDIENCE_OFFER).value
    top = next(df for df in dataframes(at) if "rank" in df.columns and "score_share" not in df)
    pd.testing.assert_frame_equal(
        top.reset_index(drop=True), reach.top_customers(offer), check_dtype=False
    )


def test_the_targeted_audience_widgets_are_drawn_before_the_reach_is_counted(monkeypatch):
    def fails(*args, **kwargs):
        raise RecsysError("counting the reach failed")

    cache.offer_reach.clear()
    monkeypatch.setattr(cache.reach_counts, "offer_reach", fails)
    at = start_app(REWARDS_PAGE)
    assert_no_exception(at)
    assert any("counting the reach failed" in e for e in texts(at, "error"))
    # Drawn before the reach: the targeted audience's offer picker (active offers first) and
    # the export's scope; not the reach's metrics.
    offers = at.selectbox(key=keys.TARGET_OFFER).options
    status = state(at, keys.PIPELINE).rewards_.set_index("offer_id")
    assert len(offers) == len(status)
    assert at.radio(key=keys.CAMPAIGN_SCOPE).value == view.SCOPE_ALL
    assert "Coverage" not in {m.label for m in at.metric}
    cache.offer_reach.clear()


def test_reach_is_computed_once_per_model_with_counted_progress(monkeypatch):
    calls: list[object] = []
    original = RecommenderPipeline.iter_slots

    def spy(self, *args, progress=None, **kwargs):
        calls.append(progress)
        return original(self, *args, progress=progress, **kwargs)

    monkeypatch.setattr(RecommenderPipeline, "iter_slots", spy)
    cache.offer_reach.clear()
    at = start_app(REWARDS_PAGE)
    first = catalogue(at)
    at.switch_page(CUSTOMER_PAGE).run()
    at.button(key="pick_most_offers").click().run()  # reads the same reach
    at.switch_page(REWARDS_PAGE).run()
    assert_no_exception(at)
    pd.testing.assert_frame_equal(catalogue(at), first)
    assert len(calls) == 1 and calls[0] is not None  # one counted pass over every customer


def test_at_scale_the_reach_is_estimated_on_a_sample_until_every_customer_is_counted(
    monkeypatch,
):
    # The sample's 2,000 customers stand for a portfolio larger than the reach's sample.
    monkeypatch.setattr(cache.reach_counts, "DEFAULT_REACH_SAMPLE", 500)
    cache.offer_reach.clear()
    cache.fitted_pipeline.clear()  # a model no earlier pass left neighbour lists on
    at = start_app(REWARDS_PAGE)
    pipeline = state(at, keys.PIPELINE)
    sample = cache.reach_counts.reach_sample(pipeline, 500)
    counted = offer_reach(pipeline, 10, customers=sample, as_of=pipeline.as_of_).scaled()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers reached"] == f"≈ {counted.n_reached:,} of 2,000"
    assert any("seeded sample of 500 of 2,000 customers" in c for c in texts(at, "caption"))
    table = catalogue(at).set_index("offer_id")
    assert (table["audience"].reindex(counted.audience.index) == counted.audience).all()
    title = charts(at)["chart_audience"]["layout"]["title"]["text"]
    assert "estimated customers" in title
    # The targeted audience waits for a click at this size (no neighbour lists kept yet).
    assert pipeline.neighbor_table() is None
    assert not any(df is not None and "score_share" in df for df in dataframes(at))
    at.button(key="score_audience").click().run()
    assert_no_exception(at)
    assert any("score_share" in df for df in dataframes(at))
    # Counting every customer: exact figures, and the neighbour lists are kept for audiences.
    at.button(key="reach_count_all").click().run()
    assert_no_exception(at)
    exact = offer_reach(pipeline, 10, as_of=pipeline.as_of_)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers reached"] == f"{exact.n_reached:,} of 2,000"
    assert not any("seeded sample" in c for c in texts(at, "caption"))
    assert "reach_count_all" not in {b.key for b in at.button}
    assert state(at, keys.PIPELINE).neighbor_table() is not None
    at.selectbox(key=keys.TARGET_OFFER).select_index(1).run()  # another offer: scored at once
    assert_no_exception(at)
    assert "score_audience" not in {b.key for b in at.button}
    cache.offer_reach.clear()
