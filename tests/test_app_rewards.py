"""AppTest: the Rewards page (status on a date, audience, coverage, campaign export)."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from dashboard import state as keys
from recsys.export import EXPORT_COLUMNS
from tests.dashboard_fixtures import (
    DATA_PAGE,
    REWARDS_PAGE,
    charts,
    dataframes,
    model_dir_fixture,  # noqa: F401 - provides the model_dir fixture
    small_purchases_csv,
    start_app,
    state,
    texts,
    values,
)

pytestmark = pytest.mark.usefixtures("model_dir")


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


def test_campaign_export_builds_a_csv_with_progress_and_a_download():
    at = start_app(REWARDS_PAGE)
    at.button(key="build_export").click().run()
    assert not at.exception and not at.error
    data = state(at, keys.EXPORT_CSV)
    frame = pd.read_csv(io.BytesIO(data), dtype={"customer_id": str})
    assert list(frame.columns) == EXPORT_COLUMNS
    assert frame["offer_id"].notna().all()  # "only rows with an offer" is on by default
    assert frame["customer_id"].str.startswith("C").all()
    assert any(b.proto.label == "Download campaign CSV" for b in at.get("download_button"))
    # All rows, offer or not, when the box is unticked: every customer's top 10.
    at.checkbox(key="export_only_offers").set_value(False).run()
    assert not at.get("download_button")  # the built file no longer matches the settings
    at.button(key="build_export").click().run()
    full = pd.read_csv(io.BytesIO(state(at, keys.EXPORT_CSV)))
    assert len(full) == 2000 * 10


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
