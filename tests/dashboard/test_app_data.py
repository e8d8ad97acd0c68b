"""AppTest: the entry point (bootstrap, sidebar, navigation) and the Data page."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state as keys
from dashboard.views import data as view
from recsys.data.dataset import Dataset
from recsys.data.schema import TABLES
from recsys.params import ModelParams
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
    sample_bytes,
    small_purchases_csv,
    start_app,
    state,
    texts,
)


def upload(at, table: str, name: str, content: bytes) -> None:
    at.file_uploader(key=f"{keys.UPLOAD_PREFIX}{table}").set_value((name, content, "text/csv"))


def test_first_start_loads_sample_data_and_a_default_model():
    at = start_app()
    dataset = state(at, keys.DATASET)
    pipeline = state(at, keys.PIPELINE)
    assert dataset is not None and dataset.name == "sample"
    assert pipeline is not None and pipeline.fingerprint_ == dataset.fingerprint
    assert pipeline.params == ModelParams()
    # Lands on the customer explorer with charts, and the sidebar names what is active.
    assert at.title[0].value == "Customer explorer"
    assert "chart_recs" in charts(at)
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "sample" in sidebar and "2,000 customers" in sidebar
    assert f"k = **{ModelParams().n_neighbors}**" in sidebar


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


def test_validation_report_gives_file_and_fix_room_to_be_read():
    at = start_app(DATA_PAGE)
    upload(at, "purchases", "bad.csv", bad_purchases_csv())
    at.run()
    at.button(key="load_upload").click().run()
    widths = {
        name: config.get("width")
        for name, config in json.loads(at.dataframe[0].proto.columns).items()
    }
    assert widths["file"] == widths["problem"] == widths["fix"] == "large"
    # The rejection message writes each error's fix out in full (cells do not wrap).
    report = state(at, keys.LAST_LOAD_ERROR).report
    assert all(p.fix in texts(at, "error")[0] for p in report.errors)


def test_an_accepted_upload_with_warnings_writes_each_fix_out_below_the_report():
    at = start_app(DATA_PAGE)
    upload(at, "purchases", "twice.csv", small_purchases_csv() + b"012,A1,2026-03-07,12\n")
    at.run()
    at.button(key="load_upload").click().run()
    assert not at.exception and not at.error
    warnings = state(at, keys.DATASET).report.warnings
    assert warnings
    listed = next(m.value for m in at.markdown if m.value.startswith("**How to fix**"))
    for problem in warnings:
        assert f"`{problem.file}`" in listed and problem.fix in listed


def test_dataset_summary_is_computed_once_not_on_every_rerun(monkeypatch):
    at = start_app(DATA_PAGE)
    calls: list[str] = []
    summary = Dataset.summary
    monkeypatch.setattr(Dataset, "summary", lambda self: calls.append(self.name) or summary(self))
    for page in (DATA_PAGE, CUSTOMER_PAGE, MODEL_PAGE, DATA_PAGE):
        at.switch_page(page).run()
        assert not at.exception
    assert calls == []  # the sidebar (twice a run) and the Data page read the cached one
    # A file no other test uploads, so neither its dataset nor its summary is cached yet.
    upload(at, "purchases", "once.csv", small_purchases_csv() + b"013,A1,2026-03-08,1\n")
    at.run()
    at.button(key="load_upload").click().run()
    at.run()
    assert not at.exception and state(at, keys.DATASET).name == "once"
    # The new dataset's: once, in the dashboard's cached wrapper (loading logs no summary).
    assert calls == ["once"]


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


def test_data_page_offers_every_table_of_the_data_contract():
    at = start_app(DATA_PAGE)
    offered = {u.key.removeprefix(keys.UPLOAD_PREFIX) for u in at.get("file_uploader")}
    assert offered == set(TABLES) and "redemptions" in offered


def test_uploaded_redemptions_reach_the_dataset_and_the_model():
    at = start_app(DATA_PAGE)
    for table in ("purchases", "rewards"):
        upload(at, table, f"{table}.csv", sample_bytes(table))
    # C00001 used offer O001 (capped at 5 per customer) five times: it is used up for them.
    used = "customer_id,offer_id,redeemed_at\n" + "".join(
        f"C00001,O001,2026-04-0{day}\n" for day in range(1, 6)
    )
    upload(at, "redemptions", "used.csv", used.encode())
    at.run()
    at.button(key="load_upload").click().run()
    assert not at.exception and not at.error
    dataset = state(at, keys.DATASET)
    assert dataset.redemptions is not None and len(dataset.redemptions) == 5
    assert set(dataset.redemptions["offer_id"]) == {"O001"}
    pipeline = state(at, keys.PIPELINE)
    assert pipeline.fingerprint_ == dataset.fingerprint
    assert pipeline.redeemed_.to_dict() == {("C00001", "O001"): 5}


def test_unmapping_a_wrongly_detected_optional_column_loads_without_it():
    # "count" is an alias of quantity, but here it counts store visits, 0 included: as quantity
    # the file is rejected; set to "(not in file)" it loads with the default quantity 1.
    rows = small_purchases_csv().decode().splitlines()
    csv = "\n".join([rows[0] + ",count"] + [f"{r},{i % 3}" for i, r in enumerate(rows[1:])])
    at = start_app(DATA_PAGE)
    upload(at, "purchases", "visits.csv", csv.encode() + b"\n")
    at.run()
    mapper = at.selectbox(key="map_purchases__quantity")
    assert mapper.value == "count" and view.NOT_MAPPED in mapper.options
    at.button(key="load_upload").click().run()
    assert any("rejected" in e for e in texts(at, "error"))  # quantity 0 is not allowed
    at.selectbox(key="map_purchases__quantity").set_value(view.NOT_MAPPED).run()
    at.button(key="load_upload").click().run()
    assert not at.exception and not at.error
    dataset = state(at, keys.DATASET)
    assert dataset.name == "visits" and (dataset.purchases["quantity"] == 1).all()
    assert "count" not in dataset.purchases.columns


def test_unmapping_a_required_column_is_a_clear_error_and_keeps_the_old_data():
    at = start_app(DATA_PAGE)
    before_data, before_model = state(at, keys.DATASET), state(at, keys.PIPELINE)
    upload(at, "purchases", "march.csv", small_purchases_csv())
    at.run()
    at.selectbox(key="map_purchases__customer_id").set_value(view.NOT_MAPPED).run()
    assert any(
        "customer_id is required" in e and "Pick the column of march.csv" in e
        for e in texts(at, "error")
    )
    at.button(key="load_upload").click().run()
    assert not at.exception
    errors = texts(at, "error")
    assert any("rejected" in e and "customer_id" in e and "stay active" in e for e in errors)
    assert state(at, keys.DATASET) is before_data
    assert state(at, keys.PIPELINE) is before_model


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


def test_an_upload_is_kept_per_session_not_in_the_shared_cache():
    from dashboard import cache

    # Not an st.cache_data function: that cache is shared by every session of the server.
    assert not hasattr(cache.uploaded_dataset, "clear")


def test_loading_an_upload_names_each_step_it_runs():
    def load(content: bytes) -> None:
        import streamlit as st

        from dashboard import actions, state

        state.init_state()
        steps: list[str] = []
        actions.load_upload((("purchases", "buys.csv", content),), {}, step=steps.append)
        st.session_state["steps"] = steps

    at = AppTest.from_function(load, args=(small_purchases_csv(),), default_timeout=60).run()
    assert not at.exception
    steps = at.session_state["steps"]
    assert steps[:4] == [
        "Reading buys.csv",
        "Validating buys.csv (14 rows)",
        "Checking the files against each other",
        "Fingerprinting the data",
    ]
    assert steps[-1].startswith("Training user_knn k=20") and "14 purchase lines" in steps[-1]
