"""End-to-end: the analyst flow in a real headless Chromium against `streamlit run app.py`.

Uses Debian's /usr/bin/chromium (never `playwright install`); skipped only when it is missing.
Screenshots of every page go to test-artifacts/ (they are looked at by a human, see README).
"""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.campaigns.export import CAMPAIGN_COLUMNS
from recsys.campaigns.plan_store import load_plan
from recsys.campaigns.readout import campaign_readout
from recsys.campaigns.simulate import simulate_response
from recsys.data import schema as S
from recsys.data.dataset import load_sample
from recsys.rewards.offer_book import LIKELIHOOD

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
MAIN = '[data-testid="stMainBlockContainer"]'
CHART_SVG = '[data-testid="stPlotlyChart"] .main-svg'
WIDTH = 1440
QUALIFY_LABELS = set(LIKELIHOOD)

# CI installs chromium and sets RECSYS_REQUIRE_BROWSER: there a missing browser fails the run.
if not CHROMIUM.exists() and os.environ.get("RECSYS_REQUIRE_BROWSER"):
    raise RuntimeError("RECSYS_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) missing"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's directory of saved campaign plans (``RECSYS_PLAN_DIR``), empty at start."""
    return tmp_path_factory.mktemp("plans")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, plan_dir: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free port with an empty model store; yields its URL."""
    port = free_port()
    env = {
        **os.environ,
        "RECSYS_MODEL_DIR": str(tmp_path_factory.mktemp("models")),
        "RECSYS_PLAN_DIR": str(plan_dir),
    }
    log = (tmp_path_factory.mktemp("log") / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start (see {log.name})")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright  # a dev requirement: fail if missing

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": WIDTH, "height": 1000}, accept_downloads=True
        )
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(server)
        yield pg
        context.close()
        browser.close()


# --- helpers -------------------------------------------------------------------------------------
def wait_idle(pg, settle_ms: int = 600) -> None:
    """Wait until the script run has finished (the running indicator is gone) and charts drew."""
    pg.wait_for_timeout(settle_ms)
    pg.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    pg.wait_for_timeout(settle_ms)


def open_page(pg, title: str) -> None:
    """Navigate through the sidebar (a URL would start a new session and lose the state)."""
    pg.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    pg.wait_for_selector(f'h1:has-text("{title}")')
    wait_idle(pg)


def screenshot(pg, name: str) -> Path:
    """The whole main block: the viewport is stretched to it first (the page scrolls inside)."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = pg.evaluate(f"document.querySelector('{MAIN}').scrollHeight")
    pg.set_viewport_size({"width": WIDTH, "height": int(height) + 160})
    pg.wait_for_timeout(1500)  # let plotly re-layout at the new size
    path = ARTIFACTS / f"{name}.png"
    pg.locator(MAIN).screenshot(path=str(path))
    pg.set_viewport_size({"width": WIDTH, "height": 1000})
    return path


def chart_drawn(pg, key: str) -> bool:
    """Whether the keyed plotly chart rendered its SVG (scrolled into view: plotly draws lazily)."""
    container = pg.locator(f".st-key-{key}")
    if container.count() == 0:
        return False
    container.first.scroll_into_view_if_needed()
    try:
        pg.wait_for_selector(f".st-key-{key} {CHART_SVG}", timeout=20_000)
    except Exception:  # playwright's TimeoutError
        return False
    return True


def pick_option(pg, key: str, name: str, attempts: int = 3) -> None:
    """Type into a multiselect and click the matching option.

    The widget re-renders after each pick, so the dropdown is opened by a click and the name
    typed key by key (as a person would), retried when a rerun closed it in between.
    """
    for attempt in range(attempts):
        box = pg.locator(f".st-key-{key} input").first
        box.click()
        box.press_sequentially(name, delay=40)
        option = pg.get_by_role("option").filter(has_text=name).first
        try:
            option.wait_for(state="visible", timeout=15_000)
            option.click()
            return
        except Exception:  # playwright's TimeoutError: the dropdown closed under us
            pg.keyboard.press("Escape")
            wait_idle(pg)
            if attempt == attempts - 1:
                raise


def button(pg, label: str):
    return pg.get_by_role("button", name=label, exact=True)


# --- the analyst flow ----------------------------------------------------------------------------
def test_first_page_works_on_the_sample_without_any_step(page):
    pg = page
    pg.wait_for_selector('h1:has-text("Customer explorer")')
    wait_idle(pg)
    sidebar = pg.locator('[data-testid="stSidebar"]').inner_text()
    assert "sample" in sidebar and "2,000 customers" in sidebar
    assert chart_drawn(pg, "chart_recs")
    assert pg.locator('[data-testid="stException"]').count() == 0


def test_upload_the_sample_files_through_the_file_inputs(page):
    pg = page
    open_page(pg, "Data")
    inputs = pg.locator('[data-testid="stFileUploader"] input[type="file"]')
    for i, table in enumerate(("purchases", "rewards", "customers", "products")):
        inputs.nth(i).set_input_files(str(SAMPLE / f"{table}.csv"))
        pg.wait_for_selector(f'[data-testid="stFileChipName"]:has-text("{table}.csv")')
        wait_idle(pg)
    button(pg, "Load uploaded files").click()
    pg.wait_for_selector('[data-testid="stAlertContentSuccess"]:has-text("Loaded purchases.csv")')
    wait_idle(pg)
    sidebar = pg.locator('[data-testid="stSidebar"]').inner_text()
    assert "purchases" in sidebar and "upload" in sidebar
    for key in ("chart_activity", "chart_top", "chart_mix", "chart_tail", "chart_timeline"):
        assert chart_drawn(pg, key), key
    screenshot(pg, "data-page")


def test_a_bad_upload_is_rejected_with_a_report(page, tmp_path: Path):
    pg = page
    bad = tmp_path / "bad_purchases.csv"
    bad.write_text("customer_id,product_id,quantity\n1,A,-2\n2,B,x\n")
    pg.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(bad))
    wait_idle(pg)
    button(pg, "Load uploaded files").click()
    pg.wait_for_selector('[data-testid="stAlertContentError"]:has-text("rejected")')
    wait_idle(pg)
    assert pg.locator('[data-testid="stException"]').count() == 0
    # The previous upload stays active.
    assert "purchases" in pg.locator('[data-testid="stSidebar"]').inner_text()
    screenshot(pg, "data-page-rejected")
    # Put the good file back, so the page is as the analyst left it.
    pg.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
        str(SAMPLE / "purchases.csv")
    )
    wait_idle(pg)


def test_train_with_k_15(page):
    pg = page
    open_page(pg, "Model")
    thumb = pg.get_by_role("slider", name="Neighbours (k)")
    thumb.focus()
    thumb.press("Home")  # k = 1, whatever the default; then up to 15 with the arrow key
    for _ in range(14):
        thumb.press("ArrowRight")
    assert thumb.input_value() == "15"
    button(pg, "Train model").click()
    pg.wait_for_selector('[data-testid="stAlertContentSuccess"]:has-text("k=15")')
    wait_idle(pg)
    assert "k = 15" in pg.locator('[data-testid="stSidebar"]').inner_text()
    assert chart_drawn(pg, "chart_similarity")
    pg.get_by_role("textbox", name="Model name").fill("campaign-k15")
    pg.get_by_role("textbox", name="Model name").press("Enter")
    wait_idle(pg)
    button(pg, "Save to model store").click()
    pg.wait_for_selector('[data-testid="stAlertContentSuccess"]:has-text("campaign-k15")')
    wait_idle(pg)
    # The measured reward-boost trade-off, on a button.
    button(pg, "Measure the trade-off").click()
    wait_idle(pg, 1000)
    assert chart_drawn(pg, "chart_tradeoff")
    assert "step of reward boost" in pg.locator(MAIN).inner_text()
    screenshot(pg, "model-page")


def test_open_a_customer_and_see_the_charts(page):
    pg = page
    open_page(pg, "Customer explorer")
    button(pg, "Customer with most offers").click()
    wait_idle(pg, 1000)
    for key in ("chart_customer_mix", "chart_similar", "chart_recs", "chart_rewards",
                "chart_explain"):  # fmt: skip
        assert chart_drawn(pg, key), key
    # What-if: a basket of two products.
    for name in ("Deli", "Bakery"):
        pick_option(pg, "explorer_basket", name)
        wait_idle(pg)
    pg.keyboard.press("Escape")
    wait_idle(pg, 1000)
    assert chart_drawn(pg, "chart_whatif_recs") and chart_drawn(pg, "chart_whatif_similar")
    assert pg.locator('[data-testid="stException"]').count() == 0
    screenshot(pg, "customer-explorer")


def test_rewards_page_and_campaign_export_download(page):
    pg = page
    open_page(pg, "Rewards")
    for key in ("chart_audience", "chart_target_scores", "chart_target_segments"):
        assert chart_drawn(pg, key), key
    # Everyone's top 10 as CSV.
    button(pg, "Build campaign file").click()
    pg.wait_for_selector('[data-testid="stProgress"]:has-text("Done")')
    wait_idle(pg)
    rows = download_csv(pg)
    assert rows[0] == CAMPAIGN_COLUMNS
    assert len(rows) == 2000 * 10 + 1
    screenshot(pg, "rewards-page")


def test_export_an_offers_targeted_audience(page):
    pg = page
    targets = pg.locator(".st-key-rewards_target_top input")
    targets.fill("200")
    targets.press("Enter")
    wait_idle(pg)
    pg.locator(".st-key-campaign_scope").get_by_text("The targeted audience above").click()
    wait_idle(pg)
    # The file built was everyone's: its download goes (once the rerun has replaced the page).
    pg.locator(".st-key-download_campaign").wait_for(state="detached", timeout=60_000)
    button(pg, "Build campaign file").click()
    pg.wait_for_selector('[data-testid="stProgress"]:has-text("Done: 200 rows")')
    wait_idle(pg)
    rows = download_csv(pg, prefix="audience_")
    assert rows[0] == CAMPAIGN_COLUMNS
    assert len(rows) == 201 and len({r[0] for r in rows[1:]}) == 200  # one row per customer
    offers = {r[CAMPAIGN_COLUMNS.index("offer_id")] for r in rows[1:]}
    assert len(offers) == 1
    assert {r[CAMPAIGN_COLUMNS.index("qualifies")] for r in rows[1:]} <= QUALIFY_LABELS
    assert pg.locator('[data-testid="stException"]').count() == 0
    screenshot(pg, "rewards-page-audience")


def download_csv(pg, prefix: str = "campaign_") -> list[list[str]]:
    """Click the download button, save the file into test-artifacts/ and parse it."""
    with pg.expect_download() as info:
        pg.locator(".st-key-download_campaign button").click()
    download = info.value
    assert download.suggested_filename.startswith(prefix), download.suggested_filename
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / download.suggested_filename
    download.save_as(str(target))
    return list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))


def test_evaluate_and_tune_against_baselines(page):
    pg = page
    open_page(pg, "Evaluation")
    pg.locator(".st-key-run_evaluation button").click()
    # Fitting every compared model takes a while on a busy machine: wait for the first chart.
    pg.wait_for_selector(".st-key-chart_eval_metrics", timeout=300_000)
    wait_idle(pg)
    for key in ("chart_eval_metrics", "chart_eval_k", "chart_eval_tradeoff", "chart_eval_segments"):
        assert chart_drawn(pg, key), key
    pg.locator(".st-key-run_tuning button").click()
    pg.wait_for_selector('h3:has-text("Tuned settings")', timeout=180_000)
    wait_idle(pg)
    assert pg.locator('[data-testid="stException"]').count() == 0
    screenshot(pg, "evaluation-page")


def test_saved_models_page_lists_the_saved_model(page):
    pg = page
    open_page(pg, "Saved models")
    assert pg.locator('[data-testid="stDataFrame"]').count() == 1  # the store listing
    button(pg, "Load as active model").click()
    pg.wait_for_selector(
        '[data-testid="stAlertContentSuccess"]:has-text("campaign-k15 is now the active model")'
    )
    wait_idle(pg)
    screenshot(pg, "saved-models-page")


PLAN_NAME = "browser-plan"
PLAN_BUDGET = 150.0
PLAN_CAP = 2


def set_number(pg, key: str, value: str) -> None:
    box = pg.locator(f".st-key-{key} input")
    box.fill(value)
    box.press("Enter")
    wait_idle(pg)


def test_plan_a_campaign_within_budget_and_cap_and_export_it_with_a_control_group(page):
    pg = page
    wait_idle(pg)  # run alone (-k), the first run still trains the default model: let it finish
    open_page(pg, "Campaigns")
    # The default offers reach someone: no "reaches nobody" note before the analyst picks one.
    assert "in no customer's top" not in pg.locator(MAIN).inner_text()
    set_number(pg, "plan_budget_per_offer", str(PLAN_BUDGET))
    set_number(pg, "plan_contact_cap", str(PLAN_CAP))
    button(pg, "Plan").click()
    pg.wait_for_selector(".st-key-plan_budget_chart", timeout=180_000)
    wait_idle(pg)
    assert chart_drawn(pg, "plan_budget_chart") and chart_drawn(pg, "plan_hist")
    text = pg.locator(MAIN).inner_text()
    for label in ("Contacts", "Control group", "Expected conversions", "Expected cost (currency)",
                  "Gap to optimum", "purchases", "customers"):  # fmt: skip
        assert label in text, label
    name = pg.get_by_role("textbox", name="Plan name")
    name.fill(PLAN_NAME)
    name.press("Enter")
    wait_idle(pg)
    button(pg, "Save plan").click()
    pg.wait_for_selector(f'[data-testid="stAlertContentSuccess"]:has-text("{PLAN_NAME}")')
    wait_idle(pg)
    with pg.expect_download() as info:
        pg.locator(".st-key-plan_download button").click()
    assert info.value.suggested_filename == f"{PLAN_NAME}.csv"
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / info.value.suggested_filename
    info.value.save_as(str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {r[S.GROUP] for r in rows} == {S.GROUP_TREATMENT, S.GROUP_CONTROL}
    per_customer: dict[str, int] = {}
    for r in rows:
        per_customer[r[S.CUSTOMER_ID]] = per_customer.get(r[S.CUSTOMER_ID], 0) + 1
    assert max(per_customer.values()) <= PLAN_CAP
    cost: dict[str, float] = {}
    for r in rows:
        cost[r[S.OFFER_ID]] = cost.get(r[S.OFFER_ID], 0.0) + float(r[S.EXPECTED_COST])
    assert max(cost.values()) <= PLAN_BUDGET * (1 + 1e-6)
    assert f"{len(rows):,}" in text  # the Contacts metric counts the exported rows
    assert pg.locator('[data-testid="stException"]').count() == 0
    screenshot(pg, "campaigns-plan")


def test_read_out_an_uploaded_response_shows_the_lift_with_its_interval(
    page, plan_dir: Path, tmp_path: Path
):
    pg = page
    # The analyst's post-campaign file: simulated from the saved plan, a 5-point planted uplift.
    plan = load_plan(plan_dir, PLAN_NAME)
    sample = load_sample()
    response = simulate_response(
        plan.allocation, sample.purchases, 0.05, seed=1, catalogue=sample.catalogue()
    )
    upload = tmp_path / "campaign_response.csv"
    response.to_csv(upload, index=False)
    expected = campaign_readout(plan.allocation, response)
    overall = expected[(expected[S.OFFER_ID] == S.ALL_OFFERS) & (expected[S.METRIC] == S.CONVERTED)]
    low, high = 100 * overall[S.LIFT_LOW].item(), 100 * overall[S.LIFT_HIGH].item()
    pg.get_by_role("tab", name="Read-out").click()
    wait_idle(pg)
    pg.locator(".st-key-readout_upload input[type=file]").set_input_files(str(upload))
    pg.wait_for_selector(".st-key-readout_lift", timeout=120_000)
    wait_idle(pg)
    assert chart_drawn(pg, "readout_lift")
    text = pg.locator(MAIN).inner_text()
    assert "95 % CI of the lift" in text
    assert f"{low:+.2f} to {high:+.2f} pts" in text  # the interval the core computes, shown
    assert "All offers: conversion lift" in text  # the plain sentence, significant or not
    assert pg.locator('[data-testid="stException"]').count() == 0
    screenshot(pg, "campaigns-readout")


def test_two_sessions_never_see_each_others_uploads(page, server: str, tmp_path: Path):
    """Two analysts on one server: an upload in one browser session stays in that session."""
    private = tmp_path / "purchases.csv"
    private.write_text(
        "customer_id,product_id,purchase_date\n"
        + "".join(f"P{i:03d},X{i % 7},2026-0{1 + i % 9}-1{i % 10}\n" for i in range(90))
    )
    # Two fresh contexts (two people) in the browser the module's flow already runs: a second
    # sync Playwright cannot start inside the first one's event loop.
    browser = page.context.browser
    contexts = [browser.new_context(viewport={"width": WIDTH, "height": 1000}) for _ in range(2)]
    try:
        first, second = (context.new_page() for context in contexts)
        for pg in (first, second):
            pg.set_default_timeout(60_000)
            pg.goto(server)
            pg.wait_for_selector('h1:has-text("Customer explorer")')
            wait_idle(pg)
        open_page(first, "Data")
        uploads = first.locator('[data-testid="stFileUploader"] input[type="file"]')
        uploads.first.set_input_files(str(private))
        first.wait_for_selector('[data-testid="stFileChipName"]:has-text("purchases.csv")')
        wait_idle(first)
        button(first, "Load uploaded files").click()
        first.wait_for_selector('[data-testid="stAlertContentSuccess"]:has-text("Loaded")')
        wait_idle(first)
        mine = first.locator('[data-testid="stSidebar"]').inner_text()
        assert "90 customers" in mine and "2,000 customers" not in mine
        # The other analyst opens a page: still the sample data, no trace of the upload.
        open_page(second, "Data")
        theirs = second.locator('[data-testid="stSidebar"]').inner_text()
        assert "sample" in theirs and "2,000 customers" in theirs
        assert "90 customers" not in theirs
    finally:
        for context in contexts:
            context.close()
