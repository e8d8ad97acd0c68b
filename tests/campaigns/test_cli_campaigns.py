"""``python -m recsys plan / simulate-response / readout`` on the sample data: the CLI story."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from recsys.cli import EXIT_BAD_INPUT, EXIT_OK, main
from recsys.data import schema as S


def run(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sample")
    code, _, err = run("sample", "--out", root, "--customers", "600", "--purchases", "15000")
    assert code == EXIT_OK, err
    model = root / "model.joblib"
    args = [a for t in ("purchases", "rewards", "customers", "products")
            for a in (f"--{t}", root / f"{t}.csv")]  # fmt: skip
    code, _, err = run("train", *args, "--k", "20", "--out", model)
    assert code == EXIT_OK, err
    return {"root": root, "model": model, "purchases": root / "purchases.csv"}


def _offers(sample, n: int = 3) -> list[str]:
    return pd.read_csv(sample["root"] / "rewards.csv", dtype=str)[S.OFFER_ID].tolist()[:n]


def test_plan_simulate_readout_recovers_the_story(sample, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RECSYS_PLAN_DIR", str(tmp_path / "plans"))
    offers = ",".join(_offers(sample))
    plan = tmp_path / "plan.parquet"
    code, out, err = run(
        "plan", "--model-file", sample["model"], "--offers", offers, "--budget-per-offer", 50,
        "--contact-cap", 1, "--control-share", 0.3, "--out", plan, "--save-name", "march",
        "--calibrate-on", sample["purchases"],
    )  # fmt: skip
    assert code == EXIT_OK, err
    rows = pd.read_parquet(plan)
    assert set(rows[S.GROUP]) == {S.GROUP_TREATMENT, S.GROUP_CONTROL}
    assert rows.groupby(S.CUSTOMER_ID).size().max() == 1
    assert (rows.groupby(S.OFFER_ID)[S.EXPECTED_COST].sum() <= 50 * (1 + 1e-9)).all()
    assert "solver" in out and (tmp_path / "plans" / "march.json").is_file()

    response = tmp_path / "response.csv"
    code, out, err = run("simulate-response", "--plan", "march", "--history",
                         sample["purchases"], "--uplift", 0.3, "--out", response)  # fmt: skip
    assert code == EXIT_OK, err
    code, out, err = run("readout", "--plan", plan, "--purchases", response, "--format", "json")
    assert code == EXIT_OK, err
    table = pd.DataFrame(json.loads(out))
    overall = table[(table[S.OFFER_ID] == S.ALL_OFFERS) & (table[S.METRIC] == S.CONVERTED)]
    low, high = overall[S.LIFT_LOW].item(), overall[S.LIFT_HIGH].item()
    assert low > 0 and low <= 0.3 <= high + 0.05  # the planted uplift, within noise


def test_plan_csv_is_formula_safe_and_table_readout(sample, tmp_path) -> None:
    plan = tmp_path / "plan.csv"
    every = ",".join(_offers(sample, 99))
    code, _, err = run(
        "plan", "--model-file", sample["model"], "--offers", every, "--control-share", 0.5,
        "--out", plan,
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert "uncalibrated" in err
    text = plan.read_text()
    assert text.splitlines()[0].startswith("customer_id") and "group" in text.splitlines()[0]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--offers", "NOPE"], "unknown offer"),
        (["--offers", " , "], "at least one offer"),
        (["--contact-cap", "0"], "contact_cap"),
    ],
)
def test_plan_bad_input_exits_2_with_a_plain_message(sample, tmp_path, extra, message) -> None:
    args = ["plan", "--model-file", sample["model"], "--out", tmp_path / "p.csv"]
    if "--offers" not in extra:
        args += ["--offers", _offers(sample)[0]]
    code, _, err = run(*args, *extra)
    assert code == EXIT_BAD_INPUT
    assert message in err and "Traceback" not in err


def test_bad_suppression_file_names_the_column(sample, tmp_path) -> None:
    bad = tmp_path / "optouts.csv"
    bad.write_text("email\na@b.c\n")
    code, _, err = run("plan", "--model-file", sample["model"], "--offers", _offers(sample)[0],
                       "--suppress", bad, "--out", tmp_path / "p.csv")  # fmt: skip
    assert code == EXIT_BAD_INPUT and "optouts.csv" in err and "customer_id" in err


def test_readout_of_an_unknown_plan_is_bad_input(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RECSYS_PLAN_DIR", str(tmp_path))
    purchases = tmp_path / "p.csv"
    purchases.write_text("customer_id,product_id\nc1,p1\n")
    code, _, err = run("readout", "--plan", "nothing", "--purchases", purchases)
    assert code == EXIT_BAD_INPUT and "No saved plan" in err
