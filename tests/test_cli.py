"""The command line contract: commands, flags, outputs and exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from recsys.campaigns.export import EXPORT_COLUMNS
from recsys.cli import EXIT_BAD_INPUT, EXIT_OK, main
from recsys.data import schema as S
from recsys.params import ModelParams
from recsys.store import load_pipeline, read_metadata
from tests.known_data import CUSTOMERS, PRODUCTS, PURCHASES, REWARDS, plain_knn

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("data")
    paths = {}
    for name, text in (
        ("purchases", PURCHASES),
        ("customers", CUSTOMERS),
        ("products", PRODUCTS),
        ("rewards", REWARDS),
    ):
        paths[name] = root / f"{name}.csv"
        paths[name].write_text(text)
    return paths


@pytest.fixture(scope="module")
def model(files, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "model.joblib"
    code, stdout, _ = run("train", *_data_args(files), "--k", "2", "--out", out)
    assert code == EXIT_OK, stdout
    return out


def _data_args(files: dict[str, Path]) -> list[str]:
    return [arg for name, path in files.items() for arg in (f"--{name}", str(path))]


def test_train_reports_shapes_and_writes_model(model):
    # One artifact: model and metadata in the same file, no sidecar.
    assert model.is_file() and not Path(str(model) + ".json").exists()
    assert read_metadata(model)["n_customers"] > 0


def test_recommend_json(model):
    code, out, _ = run(
        "recommend", "--model-file", model, "--customer", "a1", "--n", "1", "--format", "json"
    )
    assert code == EXIT_OK
    records = json.loads(out)
    assert [r[S.PRODUCT_ID] for r in records] == ["p3"]
    assert records[0][S.REASON] == S.REASON_NEIGHBORS


def test_recommend_with_offers_table(model):
    code, out, _ = run(
        "recommend", "--model-file", model, "--customer", "a1", "--n", "1", "--with-offers"
    )
    assert code == EXIT_OK
    assert "O2" in out and "p3" in out and "likely to qualify" in out


def test_similar_csv(model):
    code, out, _ = run(
        "similar", "--model-file", model, "--customer", "a1", "--n", "2", "--format", "csv"
    )
    assert code == EXIT_OK
    frame = pd.read_csv(io.StringIO(out), dtype=str)
    assert frame[S.NEIGHBOR_ID].tolist() == ["a2", "a3"]


def test_unknown_customer_exits_2_with_message(model):
    code, out, err = run("recommend", "--model-file", model, "--customer", "ghost")
    assert code == EXIT_BAD_INPUT
    assert "ghost" in err and "Traceback" not in err and out == ""


def test_export_has_one_row_per_customer_and_rank(model, tmp_path):
    out_file = tmp_path / "export.csv"
    code, out, err = run("export", "--model-file", model, "--out", out_file, "--n", "2")
    assert code == EXIT_OK
    frame = pd.read_csv(out_file, dtype={S.CUSTOMER_ID: str, S.PRODUCT_ID: str})
    assert frame.columns.tolist() == EXPORT_COLUMNS
    assert len(frame) == 6 * 2
    a1 = frame[frame[S.CUSTOMER_ID] == "a1"]
    assert a1[S.PRODUCT_ID].tolist()[0] == "p3"
    assert a1[S.OFFER_ID].tolist()[0] == "O2"  # reachable 3x points beat unreachable cashback
    assert "export" in err  # progress on stderr
    assert not Path(str(out_file) + ".partial").exists()


def test_validate_reports_every_problem_and_exits_2(tmp_path):
    bad = tmp_path / "purchases.csv"
    bad.write_text("customer_id,product_id,quantity\na,x,2\nb,y,-1\nc,z,many\n")
    code, out, err = run("validate", "--purchases", bad)
    assert code == EXIT_BAD_INPUT
    assert "quantity" in err and "purchases.csv" in err
    assert "3" in err and "4" in err  # the spreadsheet rows of -1 and "many"
    assert "Traceback" not in err


def test_validate_good_files(files):
    code, out, _ = run("validate", *_data_args(files))
    assert code == EXIT_OK
    assert "OK" in out and "n_customers" in out


def test_missing_file_is_bad_input(tmp_path):
    code, _, err = run("validate", "--purchases", tmp_path / "nope.csv")
    assert code == EXIT_BAD_INPUT and "not found" in err


def test_bad_flag_is_bad_input():
    assert run("train", "--k")[0] == EXIT_BAD_INPUT


def test_model_is_a_kind_and_model_file_an_artifact(model):
    assert run("recommend", "--model", model, "--customer", "a1")[0] == EXIT_BAD_INPUT
    assert run("export", "--model", "user_knn", "--out", "x.csv")[0] == EXIT_BAD_INPUT
    code, out, _ = run("recommend", "--model-file", model, "--customer", "a1", "--n", "1")
    assert code == EXIT_OK and "p3" in out


def test_data_files_are_the_schema_tables():
    from recsys.cli import DATA_FILES

    assert DATA_FILES == ("purchases", "rewards", "customers", "products", "redemptions")


def test_invalid_setting_is_bad_input(files, tmp_path):
    code, _, err = run("train", *_data_args(files), "--k", "0", "--out", tmp_path / "m.joblib")
    assert code == EXIT_BAD_INPUT and "n_neighbors" in err


def test_tampered_model_is_bad_input(model, tmp_path):
    copy = tmp_path / "m.joblib"
    data = bytearray(model.read_bytes())
    data[-10] ^= 0xFF  # one flipped byte inside the payload
    copy.write_bytes(bytes(data))
    code, _, err = run("recommend", "--model-file", copy, "--customer", "a1")
    assert code == EXIT_BAD_INPUT and "checksum" in err


def test_sample_writes_four_files(tmp_path):
    code, out, _ = run(
        "sample",
        "--out",
        tmp_path,
        "--customers",
        "60",
        "--products",
        "30",
        "--purchases",
        "600",
        "--seed",
        "3",
    )
    assert code == EXIT_OK
    for name in ("purchases", "rewards", "customers", "products"):
        assert (tmp_path / f"{name}.csv").is_file()


def test_real_subprocess_on_sample_data(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    model = tmp_path / "sample.joblib"
    sample = ROOT / "sample_data"
    train = subprocess.run(
        [
            sys.executable,
            "-m",
            "recsys",
            "train",
            "--purchases",
            sample / "purchases.csv",
            "--rewards",
            sample / "rewards.csv",
            "--customers",
            sample / "customers.csv",
            "--products",
            sample / "products.csv",
            "--k",
            "15",
            "--out",
            model,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert train.returncode == 0, train.stderr
    first = pd.read_csv(sample / "customers.csv", dtype=str)[S.CUSTOMER_ID].iloc[0]
    rec = subprocess.run(
        [
            sys.executable,
            "-m",
            "recsys",
            "recommend",
            "--model-file",
            model,
            "--customer",
            first,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert rec.returncode == 0, rec.stderr
    assert len(json.loads(rec.stdout)) == 10
    ghost = subprocess.run(
        [sys.executable, "-m", "recsys", "similar", "--model-file", model, "--customer", "ghost"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert ghost.returncode == 2 and "Traceback" not in ghost.stderr


SAMPLE = ROOT / "sample_data"
# The seed's plain cosine user-kNN (tests.known_data.PLAIN_KNN) as flags.
PLAIN_FLAGS = ["--metric", "cosine", "--weighting", "binary", "--similarity-power", "1",
               "--asymmetry", "0.5", "--shrink", "0", "--popularity-penalty", "0"]  # fmt: skip


def test_evaluate_json_schema_against_baselines():
    code, out, err = run(
        "evaluate",
        "--purchases",
        SAMPLE / "purchases.csv",
        "--customers",
        SAMPLE / "customers.csv",
        "--k",
        "30",
        *PLAIN_FLAGS,
        "--format",
        "json",
    )
    assert code == EXIT_OK, err
    payload = json.loads(out)
    assert set(payload) >= {"n", "split", "models", "skipped", "tuned"}
    assert payload["split"]["method"] == "temporal"
    assert payload["split"]["customers_evaluated"] > 1000
    labels = [m["model"] for m in payload["models"]]
    assert labels == ["user_knn", "popularity", "popularity_segment"]
    user_knn = payload["models"][0]
    assert user_knn["params"] == plain_knn(n_neighbors=30).to_dict()
    assert user_knn["label"] == "user_knn k=30 cosine binary/count"
    for metric in (
        "precision@10",
        "recall@10",
        "ndcg@10",
        "map@10",
        "hit_rate@10",
        "coverage",
        "avg_popularity",
    ):
        assert 0.0 <= user_knn["metrics"][metric] <= 1.0
    popularity = payload["models"][1]["metrics"]["ndcg@10"]
    assert user_knn["metrics"]["ndcg@10"] > 1.3 * popularity


def test_evaluate_scores_the_pages_seeded_sample_of_customers():
    from recsys.data.dataset import load_dataset
    from recsys.evaluation.runner import DEFAULT_SAMPLE, evaluate

    code, out, err = run(
        "evaluate", "--purchases", SAMPLE / "purchases.csv", "--max-customers", "300",
        "--format", "json",
    )  # fmt: skip
    assert code == EXIT_OK, err
    split = json.loads(out)["split"]
    assert split["customers_evaluated"] == 300 and split["max_customers"] == 300
    assert split["customers_eligible"] > 300
    # The same customers as the Evaluation page's run with that sample (the runner's draw).
    purchases = load_dataset(SAMPLE / "purchases.csv").purchases
    page = evaluate(purchases, [ModelParams(), ModelParams(model="popularity")], max_customers=300)
    cli = {m["label"]: m["metrics"]["ndcg@10"] for m in json.loads(out)["models"]}
    expected = page.table(10).set_index("model")["ndcg@10"]
    assert cli[ModelParams().label()] == pytest.approx(expected["user_knn"])
    assert cli["popularity"] == pytest.approx(expected["popularity"])
    # The table says it is a sample; the default is the page's, stated in the help.
    code, out, _ = run(
        "evaluate", "--purchases", SAMPLE / "purchases.csv", "--max-customers", "300"
    )
    assert code == EXIT_OK
    assert "300 customers evaluated (a seeded sample of the" in out
    code, out, _ = run("evaluate", "--purchases", SAMPLE / "purchases.csv", "--format", "json")
    assert json.loads(out)["split"]["max_customers"] == DEFAULT_SAMPLE
    code, out, _ = run(
        "evaluate", "--purchases", SAMPLE / "purchases.csv", "--max-customers", "ALL",
        "--format", "json",
    )  # fmt: skip
    split = json.loads(out)["split"]
    assert split["max_customers"] is None
    assert split["customers_evaluated"] == split["customers_eligible"]


def test_evaluate_trains_on_the_pages_seeded_sample_of_customers():
    code, out, err = run(
        "evaluate", "--purchases", SAMPLE / "purchases.csv", "--max-train-customers", "500",
        "--format", "json",
    )  # fmt: skip
    assert code == EXIT_OK, err
    split = json.loads(out)["split"]
    assert split["customers"] == 500 and split["customers_total"] == 2000
    assert split["max_train_customers"] == 500
    code, out, _ = run(
        "evaluate", "--purchases", SAMPLE / "purchases.csv", "--max-train-customers", "500"
    )
    assert "trained on a seeded sample of 500 of the 2,000 customers" in out
    code, out, _ = run("evaluate", "--purchases", SAMPLE / "purchases.csv", "--format", "json")
    split = json.loads(out)["split"]
    assert split["max_train_customers"] == 100_000 and split["customers"] == 2000


def test_evaluate_help_states_the_default_sample(capsys):
    assert main(["evaluate", "--help"]) == EXIT_OK  # argparse prints the help to sys.stdout
    text = " ".join(capsys.readouterr().out.split())
    assert "(default 5,000; 'all' scores everyone)" in text
    assert "(default 100,000; 'all' uses everyone)" in text


@pytest.mark.parametrize("bad", ["0", "-3", "many", "2.5"])
def test_evaluate_bad_max_customers_is_a_clear_error(bad, capsys):
    code, _, _ = run("evaluate", "--purchases", SAMPLE / "purchases.csv", "--max-customers", bad)
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err  # argparse writes usage errors to sys.stderr
    assert "--max-customers" in err and "whole number >= 1, or 'all'" in err


def test_evaluate_table_and_random_split_without_dates(tmp_path):
    code, out, _ = run(
        "evaluate", "--purchases", SAMPLE / "purchases.csv", "--model", "item_knn", "--n", "5"
    )
    assert code == EXIT_OK
    assert "temporal holdout" in out and "item_knn" in out and "ndcg@5" in out
    undated = tmp_path / "purchases.csv"
    frame = pd.read_csv(SAMPLE / "purchases.csv", dtype=str).drop(columns="purchase_date")
    frame.to_csv(undated, index=False)
    code, out, _ = run("evaluate", "--purchases", undated, "--format", "json")
    assert code == EXIT_OK
    assert json.loads(out)["split"]["method"] == "random"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--model", "rp3beta", "--k", "3", "--alpha", "0.7", "--beta", "0.2"],
         ModelParams(model="rp3beta", n_neighbors=3, alpha=0.7, beta=0.2)),
        (["--model", "als", "--factors", "4", "--regularization", "0.5", "--iterations", "3",
          "--confidence", "2"],
         ModelParams(model="als", factors=4, regularization=0.5, iterations=3, confidence=2.0)),
    ],
)  # fmt: skip
def test_train_rp3beta_and_als_with_their_flags(files, tmp_path, flags, expected):
    out = tmp_path / "model.joblib"
    code, _, err = run("train", *_data_args(files), *flags, "--out", out)
    assert code == EXIT_OK, err
    assert read_metadata(out)["params"] == expected.to_dict()
    code, stdout, err = run(
        "recommend", "--model-file", out, "--customer", "a1", "--format", "json"
    )
    assert code == EXIT_OK, err
    assert json.loads(stdout)


def test_bad_rp3beta_setting_is_a_clear_error(files, tmp_path):
    code, _, err = run(
        "train", *_data_args(files), "--model", "rp3beta", "--beta", "-1", "--out", tmp_path / "m"
    )
    assert code == EXIT_BAD_INPUT and "beta=-1.0 must be in [0, 2]" in err


def test_evaluate_gives_intervals_and_says_whether_models_differ():
    code, out, err = run(
        "evaluate", "--purchases", SAMPLE / "purchases.csv", "--model", "rp3beta", "--format",
        "json",
    )  # fmt: skip
    assert code == EXIT_OK, err
    payload = json.loads(out)
    rp3, popularity = payload["models"]
    assert rp3["model"] == "rp3beta" and rp3["params"]["alpha"] == ModelParams().alpha
    low, high = rp3["intervals"]["ndcg@10"]
    assert low <= rp3["metrics"]["ndcg@10"] <= high
    assert set(rp3["intervals"]) >= {"recall@10", "coverage", "avg_popularity"}
    (comparison,) = payload["comparisons"]
    assert comparison["distinguishable"] == (not comparison["low"] <= 0 <= comparison["high"])
    assert comparison["metric"] == "ndcg@10" and comparison["sentence"]
    code, out, _ = run("evaluate", "--purchases", SAMPLE / "purchases.csv", "--model", "rp3beta")
    assert "95 % bootstrap intervals" in out and "ndcg@10" in out


@pytest.mark.slow
def test_evaluate_tune_reports_chosen_settings():
    code, out, err = run(
        "evaluate", "--purchases", SAMPLE / "purchases.csv", "--tune", "--format", "json"
    )
    assert code == EXIT_OK, err
    payload = json.loads(out)
    assert payload["tuned"] is True
    assert {"user_knn", "item_knn", "ease", "popularity"} <= set(payload["best"])
    assert ModelParams.from_dict(payload["best"]["user_knn"]).model == "user_knn"
    by_model = {m["model"]: m["metrics"]["ndcg@10"] for m in payload["models"]}
    assert by_model["user_knn"] > 1.3 * by_model["popularity"]
    # Each kind says whether tuning kept its default, and why, in a sentence.
    decisions = payload["decisions"]
    assert set(decisions) == set(payload["best"])
    kept = ModelParams.from_dict(payload["best"]["user_knn"]) == ModelParams()
    assert decisions["user_knn"]["kept_default"] == kept
    assert decisions["user_knn"]["why"].startswith(
        "user_knn: kept the default" if kept else "user_knn: switched from the default"
    )


def test_export_quotes_cells_with_line_breaks_so_rows_survive(model, tmp_path, monkeypatch):
    from recsys.campaigns import export

    original = export.export_frames

    def crafted(*args, **kwargs):
        for frame in original(*args, **kwargs):
            frame = frame.copy()
            frame[S.PRODUCT_NAME] = "\rBistro\nspecial"
            yield frame  # the CSV writer neutralises

    monkeypatch.setattr(export, "export_frames", crafted)
    out_file = tmp_path / "export.csv"
    rows = export.write_export(load_pipeline(model), out_file, 2)
    frame = pd.read_csv(out_file, dtype=str, keep_default_na=False)
    assert len(frame) == rows == 12
    assert set(frame[S.PRODUCT_NAME]) == {"'\rBistro\nspecial"}


@pytest.mark.parametrize("chunks", [[], [0], [0, 2], [2, 0, 1]])
def test_csv_writer_writes_the_header_exactly_once(chunks, tmp_path):
    from recsys.campaigns.export import write_csv_chunks

    frames = [pd.DataFrame({"a": ["x"] * size, "b": range(size)}) for size in chunks]
    out = tmp_path / "out.csv"
    rows = write_csv_chunks(frames, out, ["a", "b"])
    lines = out.read_text().splitlines()
    assert lines[0] == "a,b" and lines.count("a,b") == 1
    assert rows == sum(chunks) == len(lines) - 1


# --- the user-kNN neighbourhood flags ------------------------------------------------------
def test_train_takes_the_user_knn_neighbourhood_flags(files, tmp_path):
    out = tmp_path / "model.joblib"
    code, _, err = run(
        "train", *_data_args(files), "--k", "3", "--shrink", "2", "--asymmetry", "0.7",
        "--popularity-penalty", "0.3", "--out", out,
    )  # fmt: skip
    assert code == EXIT_OK, err
    params = ModelParams.from_dict(read_metadata(out)["params"])
    assert (params.shrink, params.asymmetry, params.popularity_penalty) == (2.0, 0.7, 0.3)
    model = load_pipeline(out).model_
    assert (model.shrink, model.asymmetry, model.popularity_penalty) == (2.0, 0.7, 0.3)


def test_evaluate_takes_the_user_knn_neighbourhood_flags():
    code, out, err = run(
        "evaluate", "--purchases", SAMPLE / "purchases.csv", "--k", "10", "--shrink", "1",
        "--asymmetry", "0.4", "--popularity-penalty", "0.5", "--format", "json",
    )  # fmt: skip
    assert code == EXIT_OK, err
    user_knn = json.loads(out)["models"][0]
    assert (
        user_knn["params"]
        == ModelParams(n_neighbors=10, shrink=1.0, asymmetry=0.4, popularity_penalty=0.5).to_dict()
    )
    assert user_knn["label"].startswith("user_knn k=10 cosine")
    assert "shrink=1 asym=0.4 pop_penalty=0.5" in user_knn["label"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--asymmetry", "1.5"], "asymmetry=1.5 must be in [0, 1]"),
        (["--shrink", "-1"], "shrink=-1.0 must be a finite number >= 0"),
        (["--shrink", "inf"], "shrink=inf must be a finite number >= 0"),
        (["--popularity-penalty", "3"], "popularity_penalty=3.0 must be in [0, 2]"),
        (["--popularity-penalty", "-0.1"], "popularity_penalty=-0.1 must be in [0, 2]"),
    ],
)
def test_bad_neighbourhood_flag_is_a_plain_error(files, tmp_path, flags, message):
    for command in ("train", "evaluate"):
        args = [*_data_args(files), "--out", tmp_path / "m"] if command == "train" else [
            "--purchases", files["purchases"]]  # fmt: skip
        code, out, err = run(command, *args, *flags)
        assert code == EXIT_BAD_INPUT, (command, err)
        assert message in err and "Traceback" not in err
        assert not (tmp_path / "m").exists()


def test_a_cosine_only_flag_with_another_metric_is_ignored_with_a_warning(files, tmp_path):
    out = tmp_path / "model.joblib"
    code, _, err = run(
        "train", *_data_args(files), "--k", "2", "--metric", "euclidean", "--asymmetry", "0.7",
        "--popularity-penalty", "0.3", "--out", out,
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert "--asymmetry 0.7 apply to --metric cosine only: ignored with --metric euclidean" in err
    params = ModelParams.from_dict(read_metadata(out)["params"])
    assert (params.metric, params.asymmetry, params.shrink) == ("euclidean", 0.5, 0.0)
    assert params.popularity_penalty == 0.3  # the penalty applies to every metric
    code, _, err = run(  # the defaults alone never warn, whatever the metric
        "train", *_data_args(files), "--k", "2", "--metric", "manhattan", "--out", out
    )
    assert code == EXIT_OK and "warning" not in err


def test_model_flags_help_states_the_defaults(capsys):
    defaults = ModelParams()
    assert run("train", "--help")[0] == EXIT_OK
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help lines
    for flag in ("--shrink", "--asymmetry", "--popularity-penalty", "--similarity-power"):
        assert flag in text
    assert f"neighbours (k) (default {defaults.n_neighbors})" in text
    assert f"0.5 = plain cosine (default {defaults.asymmetry:g})" in text
    assert f"0 = none (default {defaults.popularity_penalty:g})" in text
    assert f"(default {defaults.similarity_power:g})" in text


def test_half_life_days_flag_trains_a_decayed_model_and_needs_dates(files, tmp_path):
    out = tmp_path / "model.joblib"
    code, _, err = run("train", *_data_args(files), "--half-life-days", "30", "--out", out)
    assert code == EXIT_OK, err
    assert ModelParams.from_dict(read_metadata(out)["params"]).half_life_days == 30.0
    undated = tmp_path / "undated.csv"
    pd.read_csv(files["purchases"]).drop(columns="purchase_date").to_csv(undated, index=False)
    for command in ("train", "evaluate"):
        extra = ["--out", tmp_path / "m"] if command == "train" else ["--min-products", "2"]
        code, _, err = run(command, "--purchases", undated, "--half-life-days", "30", *extra)
        assert code == EXIT_BAD_INPUT, (command, err)
        assert "half_life_days=30 needs purchase dates" in err and "Traceback" not in err
    code, _, err = run("train", *_data_args(files), "--half-life-days", "-5", "--out", out)
    assert code == EXIT_BAD_INPUT and "half_life_days=-5.0 must be a finite number" in err
