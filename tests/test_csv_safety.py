"""Every CSV the product writes goes through one writer that neutralises formula-like cells.

A crafted data set puts cells starting with ``=``, ``+``, ``-``, ``@``, ``|`` and their fullwidth
forms into customer ids, product names and offer titles; each CSV path (CLI recommend with and
without offers, similar, export, audience, campaign; the dashboard's campaign and evaluation
downloads) must write them with a leading quote, while Parquet keeps the values unaltered.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.campaigns.export import FORMULA_START, csv_bytes, neutralise_formulas
from recsys.cli import EXIT_OK, main
from recsys.data import schema as S
from tests.known_data import OFFER_HEADER, REWARD_PURCHASES

IDS = {"a1": "=a1", "a2": "+a2", "a3": "-a3", "a4": "@a4"}
NAMES = {"p1": "=HYPERLINK(1)", "p2": "\uff0bBakery", "p3": "|Bistro", "p4": "\uff20Train"}
RISKY = tuple(FORMULA_START)


def _crafted_files(root: Path) -> dict[str, Path]:
    purchases = REWARD_PURCHASES
    for old, new in IDS.items():
        purchases = purchases.replace(f"\n{old},", f"\n{new},")
    products = "product_id,product_name,category\n" + "".join(
        f"{pid},{name},{'travel' if pid == 'p4' else 'dining'}\n" for pid, name in NAMES.items()
    )
    customers = "customer_id,segment\n" + "".join(
        f"{cid},{'A' if cid in ('=a1', '@a4') else 'B'}\n" for cid in IDS.values()
    )
    rewards = OFFER_HEADER + "O3,p3,,-Bistro cashback,cashback,10,0,,,2026-12-31\n"
    rewards += "OD,,dining,\uff1dDining 5,cashback,5,0,,,\n"
    paths = {}
    for name, text in (
        ("purchases", purchases),
        ("products", products),
        ("customers", customers),
        ("rewards", rewards),
    ):
        paths[name] = root / f"{name}.csv"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def run(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("crafted")
    paths = _crafted_files(root)
    model = root / "model.joblib"
    args = [a for name, p in paths.items() for a in (f"--{name}", p)]
    code, out, err = run("train", *args, "--k", "3", "--out", model)
    assert code == EXIT_OK, err
    paths["model"] = model
    return paths


def assert_safe(frame: pd.DataFrame) -> int:
    """No text cell starts with a formula character; returns how many cells were neutralised."""
    quoted = 0
    for col in frame.columns:
        text = frame[col].dropna().astype(str)
        assert not text.str.startswith(RISKY).any(), (col, text.tolist())
        quoted += int(text.str.startswith("'").sum())
    return quoted


def read_csv(text: str | Path) -> pd.DataFrame:
    source = io.StringIO(text) if isinstance(text, str) else text
    return pd.read_csv(source, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("with_offers", [False, True])
def test_cli_recommend_csv_is_neutralised(crafted, with_offers):
    extra = ["--with-offers"] if with_offers else []
    code, out, err = run(
        "recommend", "--model-file", crafted["model"], "--customer", "=a1", "--format", "csv",
        *extra,
    )  # fmt: skip
    assert code == EXIT_OK, err
    frame = read_csv(out)
    assert len(frame) and assert_safe(frame) > 0
    assert set(frame[S.PRODUCT_NAME]) <= {"'" + n for n in NAMES.values()}


def test_cli_similar_csv_is_neutralised(crafted):
    code, out, err = run(
        "similar", "--model-file", crafted["model"], "--customer", "=a1", "--format", "csv"
    )
    assert code == EXIT_OK, err
    frame = read_csv(out)
    assert len(frame) and assert_safe(frame) > 0
    assert set(frame[S.NEIGHBOR_ID]) <= {"'" + c for c in IDS.values()}


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "--n", "2"],
        ["audience", "--offer", "O3", "--include-recent"],
        ["campaign", "--n", "2"],
        ["campaign", "--offer", "OD"],
    ],
    ids=["export", "audience", "campaign", "campaign-offer"],
)
def test_cli_file_exports_are_neutralised(crafted, tmp_path, argv):
    out_file = tmp_path / "out.csv"
    code, _, err = run(*argv, "--model-file", crafted["model"], "--out", out_file)
    assert code == EXIT_OK, err
    frame = read_csv(out_file)
    assert len(frame) and assert_safe(frame) > 0


def test_parquet_keeps_the_values_unaltered(crafted, tmp_path):
    out_file = tmp_path / "out.parquet"
    code, _, err = run("campaign", "--n", "2", "--model-file", crafted["model"], "--out", out_file)
    assert code == EXIT_OK, err
    frame = pd.read_parquet(out_file)
    assert set(frame[S.CUSTOMER_ID]) <= set(IDS.values())
    assert set(frame[S.PRODUCT_NAME]) <= set(NAMES.values())
    assert frame[S.SCORE].dtype.kind == "f"


def test_dashboard_downloads_are_neutralised(crafted):
    from dashboard.actions import build_campaign
    from dashboard.views.evaluation import csv_bytes as evaluation_csv
    from recsys.params import ModelParams
    from recsys.store import load_pipeline

    pipe = load_pipeline(crafted["model"])
    data, rows = build_campaign(pipe, fmt="csv", n=2, as_of=pd.Timestamp("2026-07-01"))
    frame = read_csv(data.decode("utf-8"))
    assert rows == len(frame) > 0 and assert_safe(frame) > 0
    data, _ = build_campaign(pipe, fmt="parquet", n=2, as_of=pd.Timestamp("2026-07-01"))
    assert set(pd.read_parquet(io.BytesIO(data))[S.PRODUCT_NAME]) <= set(NAMES.values())
    table = pd.DataFrame(
        {"model": ["=cmd|' /C calc'!A0"], "params": [ModelParams()], "ndcg": [0.5]}
    )
    frame = read_csv(evaluation_csv(table, 10).decode("utf-8"))
    assert frame["model"].tolist() == ["'=cmd|' /C calc'!A0"] and frame["ndcg@10"].tolist() == [
        "0.5"
    ]


@pytest.mark.parametrize("lead", list(FORMULA_START))
def test_every_formula_start_is_neutralised_and_numbers_are_not(lead):
    frame = pd.DataFrame({"text": [f"{lead}x", "ok"], "number": [-1.5, 2.0]})
    out = neutralise_formulas(frame)
    assert out["text"].tolist() == [f"'{lead}x", "ok"]
    assert out["number"].tolist() == [-1.5, 2.0]
    back = read_csv(csv_bytes(frame).decode())
    assert back["text"].tolist() == [f"'{lead}x", "ok"] and back["number"].tolist() == ["-1.5", "2"]


def test_csv_writer_writes_what_pandas_writes_byte_for_byte():
    """The writer formats whole columns itself; the bytes must be those of pandas' to_csv."""
    from recsys.campaigns.export import CSV_OPTIONS, write_csv_chunks

    frame = pd.DataFrame(
        {
            "text": ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", None, "", "plain"],
            "number": [1.5, np.nan, 1e-7, 123456789.0, -0.0, 2.0, 1 / 3, 0.1],
            "count": np.arange(8, dtype=np.int64),
            "maybe": pd.array([1, None, 3, 4, None, 6, 7, 8], dtype="Int64"),
            "flag": [True, False] * 4,
            "day": pd.to_datetime(["2026-01-02", None, "2026-12-31", "2026-03-04"] * 2),
            "kind": pd.Categorical(["x", "y,z", None, "x", "x", "y,z", None, "w"]),
            "label": pd.array(["p", None, "q", "p", "r", "r", None, "s"], dtype="str"),
        }
    )
    out = io.StringIO()
    write_csv_chunks([frame.iloc[:3], frame.iloc[3:]], out, list(frame.columns))
    assert out.getvalue() == frame.to_csv(**CSV_OPTIONS)
    single = pd.DataFrame({"only": ["a", None, ""]})
    out = io.StringIO()
    write_csv_chunks([single], out, ["only"])
    assert out.getvalue() == single.to_csv(**CSV_OPTIONS)


def _hostile_frame(n: int, seed: int) -> pd.DataFrame:
    """Random cells of every kind the writer formats, drawn from values that need care."""
    rng = np.random.default_rng(seed)
    texts = np.array(
        ["plain", "=1+1", "-x", "+y", "@z", "|p", "\tt", "\rr", "\uff1dA", 'q"uote', "a,b", ""]
        + ["two\nlines", "=a,b", '@"x"', "\u00e9t\u00e9", "-", "'=already", " =lead space"],
        dtype=object,
    )

    def pick(values: np.ndarray, missing: float = 0.1) -> list[object]:
        out = values[rng.integers(0, len(values), n)].astype(object)
        out[rng.random(n) < missing] = None
        return list(out)

    floats = np.array([0.0, -0.0, 1e-7, -2.5, 1 / 3, 123456789.0, 1e300, 5e-324, np.nan, 0.1])
    days = pd.to_datetime(["2026-01-02", "1999-12-31", None, "2026-07-01"])
    return pd.DataFrame(
        {
            "object_text": pick(texts),
            "arrow_text": pd.array(pick(texts), dtype="str"),
            "category": pd.Categorical(pick(texts)),
            "number": floats[rng.integers(0, len(floats), n)],
            "whole": rng.integers(-1000, 1000, n),
            "unsigned": rng.integers(0, 5, n).astype(np.uint8),
            "nullable": pd.array(pick(np.array([-1, 0, 7], dtype=object)), dtype="Int64"),
            "flag": rng.random(n) < 0.5,
            "day": days[rng.integers(0, len(days), n)],
            "mixed": pick(np.array([1, "-2", 3.5, "=x"], dtype=object)),
        }
    )


@pytest.mark.parametrize("seed", range(5))
def test_csv_writer_matches_pandas_on_hostile_random_cells(seed):
    """Formatting each distinct value once and joining with Arrow gives, byte for byte, what
    pandas writes of the neutralised frame, chunked or not."""
    from recsys.campaigns.export import CSV_OPTIONS, write_csv_chunks

    frame = _hostile_frame(500, seed)
    expected = neutralise_formulas(frame).to_csv(**CSV_OPTIONS)
    for chunks in ([frame], [frame.iloc[:1], frame.iloc[1:250], frame.iloc[250:]]):
        out = io.StringIO()
        assert write_csv_chunks(chunks, out, list(frame.columns)) == len(frame)
        assert out.getvalue() == expected
    for column in frame:
        one = frame[[column]]
        out = io.StringIO()
        write_csv_chunks([one], out, [column])
        assert out.getvalue() == neutralise_formulas(one).to_csv(**CSV_OPTIONS), column


def test_csv_writer_neutralises_categorical_and_arrow_text():
    out = io.StringIO()
    from recsys.campaigns.export import write_csv_chunks

    frame = pd.DataFrame(
        {
            "kind": pd.Categorical(["=SUM(A1)", "ok", "=SUM(A1)"]),
            "name": pd.array(["@cmd", None, "fine"], dtype="str"),
            "n": [-1, 2, 3],
        }
    )
    write_csv_chunks([frame], out, list(frame.columns), lineterminator="\n")
    assert out.getvalue() == "kind,name,n\n'=SUM(A1),'@cmd,-1\nok,,2\n'=SUM(A1),fine,3\n"
