"""AppTest: the entry point (bootstrap, sidebar, navigation) and the Data page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state as keys
from tests.dashboard_fixtures import (
    APP,
    CUSTOMER_PAGE,
    DATA_PAGE,
    MODEL_PAGE,
    REWARDS_PAGE,
    TIMEOUT,
    bad_purchases_csv,
    charts,
    dataframes,
    model_dir_fixture,  # noqa: F401 - provides the model_dir fixture
    sample_bytes,
    small_purchases_csv,
    start_app,
    state,
    texts,
)

pytestmark = pytest.mark.usefixtures("model_dir")


def upload(at, table: str, name: str, content: bytes) -> None:
    at.file_uploader(key=f"{keys.UPLOAD_PREFIX}{table}").set_value((name, content, "text/csv"))


def test_first_start_loads_sample_data_and_a_default_model():
    at = start_app()
    dataset = state(at, keys.DATASET)
    pipeline = state(at, keys.PIPELINE)
    assert dataset is not None and dataset.name == "sample"
    assert pipeline is not None and pipeline.fingerprint_ == dataset.fingerprint
    assert pipeline.params.n_neighbors == 20
    # Lands on the customer explorer with charts, and the sidebar names what is active.
    assert at.title[0].value == "Customer explorer"
    assert "chart_recs" in charts(at)
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "sample" in sidebar and "2,000 customers" in sidebar and "k = **20**" in sidebar


def test_data_page_shows_headline_numbers_and_profile_charts():
    at = start_app(DATA_PAGE)
    assert at.title[0].value == "Data"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "2,000"
    assert metrics["Products"] == "150"
    assert metrics["Date range"] == "May 2025 – Oct 2026"
    figs = charts(at)
    assert {"chart_activity", "chart_top", "chart_mix", "chart_tail", "chart_timeline"} <= set(figs)
    assert figs["chart_tail"]["layout"]["yaxis"]["type"] == "log"
    assert not at.error


def test_use_sample_data_button_reloads_the_sample():
    at = start_app(DATA_PAGE)
    at.button(key="use_sample").click().run()
    assert not at.exception and not at.error
    assert state(at, keys.DATASET).name == "sample"
    assert "Sample data loaded." in texts(at, "success")[0]


def test_good_upload_becomes_active_and_retrains():
    at = start_app(DATA_PAGE)
    upload(at, "purchases", "march.csv", small_purchases_csv())
    at.run()
    at.button(key="load_upload").click().run()
    assert not at.exception and not at.error
    dataset = state(at, keys.DATASET)
    assert dataset.name == "march"
    assert dataset.summary()["n_customers"] == 6
    assert "007" in set(dataset.purchases["customer_id"])  # ids stay text
    pipeline = state(at, keys.PIPELINE)
    assert pipeline.fingerprint_ == dataset.fingerprint
    assert {m.label: m.value for m in at.metric}["Customers"] == "6"


def test_upload_of_all_four_sample_files():
    at = start_app(DATA_PAGE)
    for table in ("purchases", "rewards", "customers", "products"):
        upload(at, table, f"{table}.csv", sample_bytes(table))
    at.run()
    at.button(key="load_upload").click().run()
    assert not at.exception and not at.error
    dataset = state(at, keys.DATASET)
    assert dataset.name == "purchases" and dataset.rewards is not None
    assert state(at, keys.PIPELINE).rewards_ is not None


def test_bad_upload_shows_the_report_and_keeps_previous_data_and_model():
    at = start_app(DATA_PAGE)
    before_data, before_model = state(at, keys.DATASET), state(at, keys.PIPELINE)
    upload(at, "purchases", "bad.csv", bad_purchases_csv())
    at.run()
    at.button(key="load_upload").click().run()
    assert not at.exception  # never a traceback
    errors = texts(at, "error")
    assert errors and "rejected" in errors[0] and "stay active" in errors[0]
    report = dataframes(at)[0]
    assert set(report["file"]) == {"bad.csv"}
    assert {"quantity", "purchase_date"} <= set(report["column"])
    assert report["fix"].str.len().min() > 0 and report["rows"].str.contains("3").all()
    assert state(at, keys.DATASET) is before_data
    assert state(at, keys.PIPELINE) is before_model
    # The rest of the app still works on the previous data.
    at.switch_page(CUSTOMER_PAGE).run()
    assert not at.exception and "chart_recs" in charts(at)


def test_column_mapper_maps_unrecognised_headers():
    at = start_app(DATA_PAGE)
    upload(at, "purchases", "odd.csv", small_purchases_csv("buyer,article,when,paid"))
    at.run()
    # Detection fails for the required columns: the mapper asks for them.
    assert any("required columns were not recognised" in w for w in texts(at, "warning"))
    at.selectbox(key="map_purchases__customer_id").set_value("buyer")
    at.selectbox(key="map_purchases__product_id").set_value("article")
    at.selectbox(key="map_purchases__purchase_date").set_value("when")
    at.selectbox(key="map_purchases__amount").set_value("paid")
    at.run()
    at.button(key="load_upload").click().run()
    assert not at.exception and not at.error
    dataset = state(at, keys.DATASET)
    assert dataset.summary()["n_customers"] == 6
    assert dataset.has_dates and dataset.summary()["total_spend"] == pytest.approx(193.5)


def test_load_button_is_disabled_without_purchases():
    at = start_app(DATA_PAGE)
    upload(at, "rewards", "rewards.csv", sample_bytes("rewards"))
    at.run()
    assert at.button(key="load_upload").disabled


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (DATA_PAGE, None),
        (MODEL_PAGE, "No data loaded yet"),
        (CUSTOMER_PAGE, "No model trained yet"),
        (REWARDS_PAGE, "No model trained yet"),
    ],
)
def test_pages_guard_when_nothing_is_loaded(page, message):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state[keys.BOOTSTRAPPED] = True  # as if the first-start load had not happened
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    infos = texts(at, "info")
    if message is None:  # the Data page itself offers the upload and the sample button
        assert "No data loaded yet" in infos[0]
        assert at.button(key="use_sample")
    else:
        assert any(message in i for i in infos)
    assert at.get("page_link")  # with a link to the page that provides what is missing
