"""Tests for recsys.data.dataset (and the reading helpers in recsys.data.reading)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.data import schema as S
from recsys.data.dataset import SAMPLE_DIR, Dataset, load_dataset, load_sample
from recsys.data.mapping import detect_mapping
from recsys.data.reading import parse_dates, read_raw_header, sniff_delimiter
from recsys.data.validate import LoadedTable, read_table
from recsys.errors import DataValidationError, Problem

PURCHASES_CSV = (
    "customer_id,product_id,purchase_date,quantity,amount\n"
    "007,A,2024-01-05,1,10.5\n"
    "007,B,2024-01-06,2,20\n"
    "008,A,2024-02-01,1,10.5\n"
)
REWARDS_CSV = (
    "offer_id,product_id,category,reward_type,reward_value,min_spend,start_date,end_date\n"
    "O1,A,,cashback,5,0,2024-01-01,2024-12-31\n"
    "O2,,grocery,points_multiplier,3,50,2024-01-01,2024-06-30\n"
)


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def errors_of(excinfo: pytest.ExceptionInfo[DataValidationError]) -> list[Problem]:
    return excinfo.value.report.errors


def only_problem(problems: list[Problem], column: str | None, contains: str) -> Problem:
    found = [p for p in problems if p.column == column and contains in p.message]
    assert len(found) == 1, f"expected one problem on {column!r} with {contains!r}: {problems}"
    return found[0]


def raises_problem(
    text: str, table: str, column: str | None, contains: str, name: str = "upload.csv"
) -> Problem:
    with pytest.raises(DataValidationError) as excinfo:
        read_table(csv_bytes(text), table, name=name)
    problem = only_problem(errors_of(excinfo), column, contains)
    assert problem.file == name
    assert problem.fix
    assert name in str(excinfo.value)
    return problem


# --- whole-file problems ---------------------------------------------------------------------


def test_empty_file_is_rejected() -> None:
    problem = raises_problem("", "purchases", None, "empty")
    assert problem.rows == ()


def test_header_only_file_is_rejected() -> None:
    problem = raises_problem("customer_id,product_id\n", "purchases", None, "no data rows")
    assert "add at least one data row" in problem.fix


def test_missing_required_column_lists_headers_and_aliases() -> None:
    problem = raises_problem("client,sku_code\n1,A\n", "purchases", S.CUSTOMER_ID, "not found")
    assert "client, sku_code" in problem.message  # headers found
    assert "cust_id" in problem.message and "user_id" in problem.message  # accepted aliases
    # product_id is missing too: both are reported at once
    with pytest.raises(DataValidationError) as excinfo:
        read_table(b"client,sku_code\n1,A\n", "purchases")
    assert {p.column for p in errors_of(excinfo)} == {S.CUSTOMER_ID, S.PRODUCT_ID}


@pytest.mark.parametrize(
    ("payload", "contains"),
    [
        (bytes(range(256)) * 4, "not readable"),
        (b"PK\x03\x04" + bytes(200), "Excel"),
        (b"PAR1 this is not really parquet", "Parquet"),
        (b"\xff\xfec\x00u\x00", "UTF-16"),
    ],
)
def test_unreadable_file_is_rejected(payload: bytes, contains: str) -> None:
    with pytest.raises(DataValidationError) as excinfo:
        read_table(payload, "purchases", name="junk.bin")
    problem = only_problem(errors_of(excinfo), None, contains)
    assert problem.file == "junk.bin"


def test_ragged_rows_name_the_line() -> None:
    problem = raises_problem(
        "customer_id,product_id\n1,A\n2,B,extra\n", "purchases", None, "more fields than the header"
    )
    assert problem.rows == (3,)


def test_missing_path_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="file not found"):
        read_table(tmp_path / "nope.csv", "purchases")


# --- cell problems ---------------------------------------------------------------------------


def test_reward_without_product_or_category() -> None:
    text = "offer_id,product_id,category\nO1,A,\nO2,,\nO3,,food\nO4, , \n"
    problem = raises_problem(text, "rewards", S.PRODUCT_ID, "both")
    assert problem.rows == (3, 5)
    assert S.CATEGORY in problem.message


def test_rewards_file_without_product_or_category_column() -> None:
    with pytest.raises(DataValidationError) as excinfo:
        read_table(b"offer_id,title\nO1,x\n", "rewards")
    assert len(errors_of(excinfo)) == 1  # not repeated for every row
    only_problem(errors_of(excinfo), S.PRODUCT_ID, "neither")


def test_unparseable_dates_name_rows() -> None:
    text = "customer_id,product_id,date\n1,A,2024-01-05\n2,B,yesterday\n3,C,\n4,D,2024-13-45\n"
    problem = raises_problem(text, "purchases", "date", "not dates")
    assert problem.rows == (3, 5)
    assert "'yesterday'" in problem.message


@pytest.mark.parametrize("value", ["abc", "-1", "1e999"])
@pytest.mark.parametrize(
    ("table", "column", "prefix"),
    [
        ("purchases", S.AMOUNT, "customer_id,product_id,amount\n1,A,2\n2,B,"),
        ("purchases", S.QUANTITY, "customer_id,product_id,quantity\n1,A,2\n2,B,"),
        ("rewards", S.REWARD_VALUE, "offer_id,product_id,reward_value\nO1,A,2\nO2,B,"),
        ("rewards", S.MIN_SPEND, "offer_id,product_id,min_spend\nO1,A,2\nO2,B,"),
        ("products", S.PRICE, "product_id,price\nA,2\nB,"),
    ],
)
def test_bad_numbers_are_rejected(table: str, column: str, prefix: str, value: str) -> None:
    expected = {"abc": "not numbers", "-1": "negative", "1e999": "not numbers"}[value]
    if column == S.QUANTITY and value == "-1":
        expected = "less than 1"
    problem = raises_problem(prefix + value + "\n", table, column, expected)
    assert problem.rows == (3,)


@pytest.mark.parametrize(("value", "contains"), [("0", "less than 1"), ("1.5", "whole")])
def test_quantity_must_be_whole_and_positive(value: str, contains: str) -> None:
    text = f"customer_id,product_id,qty\n1,A,1\n1,B,{value}\n2,A,3\n2,C,{value}\n"
    problem = raises_problem(text, "purchases", "qty", contains)  # the file's own header
    assert problem.rows == (3, 5)


def test_end_date_before_start_date() -> None:
    text = (
        "offer_id,product_id,start_date,end_date\nO1,A,2024-01-01,2024-02-01\n"
        "O2,A,2024-03-01,2024-02-01\nO3,A,2024-03-01,2024-03-01\n"
    )
    problem = raises_problem(text, "rewards", S.END_DATE, "before")
    assert problem.rows == (3,)


@pytest.mark.parametrize(
    ("table", "text", "column", "rows"),
    [
        ("rewards", "offer_id,product_id\nO1,A\nO2,B\nO1,C\n", S.OFFER_ID, (2, 4)),
        ("customers", "customer_id,segment\n007,a\n7,b\n007,c\n", S.CUSTOMER_ID, (2, 4)),
        ("products", "sku,price\nA,1\nB,2\nB,3\n", "sku", (3, 4)),
    ],
)
def test_duplicate_keys_are_rejected(
    table: str, text: str, column: str, rows: tuple[int, ...]
) -> None:
    problem = raises_problem(text, table, column, "duplicate")
    assert problem.rows == rows


def test_unknown_reward_type_lists_allowed_values() -> None:
    text = "offer_id,product_id,type\nO1,A,Cash Back\nO2,A,cashback\nO3,A,gift\nO4,A,\n"
    problem = raises_problem(text, "rewards", "type", "unknown")
    assert problem.rows == (2, 4)
    assert all(t in problem.fix for t in S.REWARD_TYPES)


@pytest.mark.parametrize(
    ("table", "text", "column", "rows"),
    [
        ("purchases", "customer_id,product_id\n1,A\n,B\n  ,C\n", S.CUSTOMER_ID, (3, 4)),
        ("purchases", "customer_id,product_id\n1,A\n2,\n", S.PRODUCT_ID, (3,)),
        ("rewards", "offer_id,product_id\nO1,A\n,B\n", S.OFFER_ID, (3,)),
        ("customers", "cust_id,segment\n,gold\n2,silver\n", "cust_id", (2,)),
        ("redemptions", "customer_id,offer_id\n1,\n2,O1\n", S.OFFER_ID, (2,)),
    ],
)
def test_empty_ids_are_rejected(table: str, text: str, column: str, rows: tuple[int, ...]) -> None:
    problem = raises_problem(text, table, column, "empty")
    assert problem.rows == rows


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = (
        "offer_id,product_id,category,reward_type,reward_value,start_date,end_date\n"
        "O1,,,cashback,x,2024-01-01,2023-01-01\nO1,A,,bogus,1,never,\n"
    )
    with pytest.raises(DataValidationError) as excinfo:
        read_table(csv_bytes(text), "rewards")
    columns = sorted(p.column or "" for p in errors_of(excinfo))
    assert columns == sorted(
        [S.OFFER_ID, S.PRODUCT_ID, S.REWARD_TYPE, S.REWARD_VALUE, S.START_DATE, S.END_DATE]
    )


def test_example_rows_are_capped_with_a_count() -> None:
    text = "customer_id,product_id,amount\n" + "".join(f"{i},A,x\n" for i in range(8))
    problem = raises_problem(text, "purchases", S.AMOUNT, "not numbers")
    assert problem.rows == (2, 3, 4, 5, 6) and problem.n_rows == 8
    assert "and 3 more" in str(problem)


# --- repairs (warnings) -----------------------------------------------------------------------


def test_exact_duplicate_rows_are_dropped_with_a_warning() -> None:
    text = "customer_id,product_id\n1,A\n1,B\n1,A\n2,A\n1,B\n"
    loaded = read_table(csv_bytes(text), "purchases")
    assert loaded.frame[S.PRODUCT_ID].tolist() == ["A", "B", "A"]
    warning = only_problem(loaded.report.warnings, None, "duplicate")
    assert warning.rows == (4, 6) and warning.severity == "warning"


def test_blank_lines_are_skipped_and_row_numbers_stay_true() -> None:
    text = "customer_id,product_id,amount\n1,A,1\n\n,,\n2,B,oops\n"
    problem = raises_problem(text, "purchases", S.AMOUNT, "not numbers")
    assert problem.rows == (5,)
    loaded = read_table(csv_bytes("customer_id,product_id\n1,A\n\n2,B\n"), "purchases")
    assert len(loaded.frame) == 2
    assert only_problem(loaded.report.warnings, None, "blank").rows == (3,)


def test_whitespace_is_trimmed_with_a_warning() -> None:
    text = " customer_id , product_id\n 007 ,A\n008,  B\t\n"
    loaded = read_table(csv_bytes(text), "purchases")
    assert loaded.frame[S.CUSTOMER_ID].tolist() == ["007", "008"]
    assert loaded.frame[S.PRODUCT_ID].tolist() == ["A", "B"]
    assert only_problem(loaded.report.warnings, "customer_id", "trimmed").rows == (2,)
    assert only_problem(loaded.report.warnings, "product_id", "trimmed").rows == (3,)
    assert loaded.report.ok


# --- formats, encodings, sources --------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_and_encodings(delimiter: str, encoding: str) -> None:
    rows = [
        ["Customer ID", "SKU", "Name", "Amount"],
        ["007", "A1", "Crème brûlée", "1.5"],
        ["008", "B2", "Café", "2"],
    ]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    loaded = read_table(csv_bytes(text, encoding), "purchases", name="p.csv")
    frame = loaded.frame
    assert frame[S.CUSTOMER_ID].tolist() == ["007", "008"]
    assert frame[S.PRODUCT_NAME].tolist() == ["Crème brûlée", "Café"]
    assert frame[S.AMOUNT].tolist() == [1.5, 2.0]
    latin = [p for p in loaded.report.warnings if "Latin-1" in p.message]
    assert len(latin) == (1 if encoding == "latin-1" else 0)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_sniff_delimiter_with_quoted_cells(delimiter: str) -> None:
    other = ";" if delimiter == "," else ","
    sample = f'a{delimiter}b\n"x{other}y"{delimiter}1\n"z{other}w"{delimiter}2\n'
    assert sniff_delimiter(sample) == delimiter


def test_decimal_commas_in_semicolon_files() -> None:
    text = "customer_id;product_id;amount\n1;A;1,5\n2;B;2,25\n3;C;7\n"
    assert read_table(csv_bytes(text), "purchases").frame[S.AMOUNT].tolist() == [1.5, 2.25, 7.0]
    problem = raises_problem(text + "4;D;1,234\n", "purchases", S.AMOUNT, "not numbers")
    assert problem.rows == (5,)


def test_ids_stay_text() -> None:
    loaded = read_table(b"customer_id,product_id,quantity\n007,0001,02\n1e5,00,1\n", "purchases")
    assert loaded.frame[S.CUSTOMER_ID].tolist() == ["007", "1e5"]
    assert loaded.frame[S.PRODUCT_ID].tolist() == ["0001", "00"]
    assert loaded.frame[S.QUANTITY].tolist() == [2, 1]


def test_aliases_are_case_insensitive() -> None:
    text = "CUST-ID;Item ID;Txn Date;QTY;Spend;Product Category\n1;A;2024-01-01;2;3.5;food\n"
    loaded = read_table(csv_bytes(text), "purchases")
    assert loaded.mapping == {
        S.CUSTOMER_ID: "CUST-ID",
        S.PRODUCT_ID: "Item ID",
        S.PURCHASE_DATE: "Txn Date",
        S.QUANTITY: "QTY",
        S.AMOUNT: "Spend",
        S.CATEGORY: "Product Category",
    }
    assert loaded.frame.loc[0, S.CATEGORY] == "food"


def test_detect_mapping_prefers_exact_names_and_uses_headers_once() -> None:
    mapping = detect_mapping(["id", "offer_id", "Value", "name"], "rewards")
    assert mapping[S.OFFER_ID] == "offer_id"
    assert mapping[S.REWARD_VALUE] == "Value"
    assert mapping[S.TITLE] == "name"
    assert mapping[S.PRODUCT_ID] is None


def test_explicit_column_map_overrides_detection() -> None:
    text = "customer_id,buyer,thing\nx,1,A\ny,2,B\n"
    loaded = read_table(
        csv_bytes(text), "purchases", column_map={S.CUSTOMER_ID: "buyer", S.PRODUCT_ID: "THING"}
    )
    assert loaded.frame[S.CUSTOMER_ID].tolist() == ["1", "2"]
    assert loaded.mapping == {S.CUSTOMER_ID: "buyer", S.PRODUCT_ID: "thing"}


@pytest.mark.parametrize(
    ("column_map", "column", "contains"),
    [
        ({S.PRODUCT_ID: "nope"}, S.PRODUCT_ID, "not in the file"),
        ({"colour": "thing"}, "colour", "not a column"),
    ],
)
def test_bad_column_map_is_reported(column_map: dict[str, str], column: str, contains: str) -> None:
    with pytest.raises(DataValidationError) as excinfo:
        read_table(b"customer_id,thing\n1,A\n", "purchases", column_map=column_map)
    only_problem(errors_of(excinfo), column, contains)


def test_read_header_returns_raw_headers_and_rewinds() -> None:
    upload = io.BytesIO(b"\xef\xbb\xbf Cust ID |SKU\n1|A\n")
    assert read_raw_header(upload) == ["Cust ID", "SKU"]
    assert read_table(upload, "purchases").frame[S.CUSTOMER_ID].tolist() == ["1"]


@pytest.mark.parametrize("kind", ["path", "bytes", "bytesio", "named"])
def test_sources(tmp_path: Path, kind: str) -> None:
    data = PURCHASES_CSV.encode()
    path = tmp_path / "shop.csv"
    path.write_bytes(data)
    named = io.BytesIO(data)
    named.name = "/somewhere/shop.csv"  # type: ignore[attr-defined]
    source = {"path": path, "bytes": data, "bytesio": io.BytesIO(data), "named": named}[kind]
    loaded = read_table(source, "purchases")
    assert len(loaded.frame) == 3
    assert loaded.name == ("purchases.csv" if kind in ("bytes", "bytesio") else "shop.csv")


@pytest.mark.parametrize("suffix", [".parquet", ".data"])
def test_parquet_round_trip(tmp_path: Path, suffix: str) -> None:
    original = read_table(PURCHASES_CSV.encode(), "purchases").frame
    path = tmp_path / f"p{suffix}"
    original.to_parquet(path)  # a .data suffix is recognised by the PAR1 magic bytes
    again = read_table(path, "purchases")
    pd.testing.assert_frame_equal(again.frame, original)
    assert read_raw_header(path)[:2] == [S.CUSTOMER_ID, S.PRODUCT_ID]


def test_parquet_with_numeric_columns_and_header_only(tmp_path: Path) -> None:
    frame = pd.DataFrame({"cust_id": [7, 8], "sku": ["A", "B"], "qty": [1.0, np.nan]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    loaded = read_table(buffer.getvalue(), "purchases")
    assert loaded.frame[S.CUSTOMER_ID].tolist() == ["7", "8"]
    assert loaded.frame[S.QUANTITY].tolist() == [1, 1]
    empty = io.BytesIO()
    frame.iloc[:0].to_parquet(empty)
    with pytest.raises(DataValidationError, match="no data rows"):
        read_table(empty.getvalue(), "purchases", name="e.parquet")


# --- dates and dtypes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2024-01-31", "2024-02-01 13:45:00"], ["2024-01-31 00:00", "2024-02-01 13:45"]),
        (["31/01/2024", "01/02/2024"], ["2024-01-31 00:00", "2024-02-01 00:00"]),
        (["01/31/2024", "02/01/2024"], ["2024-01-31 00:00", "2024-02-01 00:00"]),
        (["31.01.2024", "2024-02-01T08:00:00"], ["2024-01-31 00:00", "2024-02-01 08:00"]),
        (["Jan 31, 2024", "1 February 2024"], ["2024-01-31 00:00", "2024-02-01 00:00"]),
    ],
)
def test_date_formats(values: list[str], expected: list[str]) -> None:
    parsed, bad, ambiguous = parse_dates(pd.Series(values, dtype="str"))
    assert not bad.any() and not ambiguous
    assert parsed.dt.strftime("%Y-%m-%d %H:%M").tolist() == expected
    assert parsed.dtype == "datetime64[ns]"


def test_ambiguous_dates_warn_and_read_day_first() -> None:
    text = "customer_id,product_id,date\n1,A,01/02/2024\n2,B,03/04/2024\n"
    loaded = read_table(csv_bytes(text), "purchases")
    assert loaded.frame[S.PURCHASE_DATE].tolist() == [
        pd.Timestamp("2024-02-01"),
        pd.Timestamp("2024-04-03"),
    ]
    assert "day-first" in only_problem(loaded.report.warnings, "date", "day-first").message


@pytest.mark.parametrize("table", sorted(S.TABLES))
def test_canonical_frames_have_every_contract_column(table: str) -> None:
    spec = S.TABLES[table]
    header = ",".join(spec.required or (S.OFFER_ID,))
    values = ",".join("x" for _ in (spec.required or (S.OFFER_ID,)))
    if table == "rewards":
        header, values = "offer_id,category", "O1,food"
    frame = read_table(f"{header}\n{values}\n".encode(), table).frame
    assert list(frame.columns[: len(spec.names)]) == list(spec.names)
    expected = {
        "id": "str",
        "string": "str",
        "category": "str",
        "date": "datetime64[ns]",
        "number": "float64",
        "int": "Int64",
    }
    for col in spec.columns:
        want = "int64" if col.name == S.QUANTITY else expected[col.kind]
        assert str(frame[col.name].dtype) == want, col.name
    if table == "purchases":
        assert frame.loc[0, S.QUANTITY] == 1 and np.isnan(frame.loc[0, S.AMOUNT])
    if table == "rewards":
        assert frame.loc[0, S.TITLE] == "O1" and frame.loc[0, S.MIN_SPEND] == 0.0
        assert frame[S.MAX_PER_CUSTOMER].isna().all() and frame[S.SEGMENT].isna().all()


def test_extra_columns_kept_only_for_customers_and_products() -> None:
    customers = read_table(b"customer_id,segment,Region\n1,gold,north\n", "customers").frame
    assert customers["Region"].tolist() == ["north"]
    purchases = read_table(b"customer_id,product_id,colour\n1,A,red\n", "purchases").frame
    assert "colour" not in purchases.columns


def test_reward_values_are_parsed() -> None:
    frame = read_table(
        csv_bytes(REWARDS_CSV.replace("O2,,grocery", "O2,,grocery ")), "rewards"
    ).frame
    assert frame[S.REWARD_VALUE].tolist() == [5.0, 3.0]
    assert frame[S.CATEGORY].isna().tolist() == [True, False]
    assert frame[S.END_DATE].tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2024-06-30")]


# --- Dataset ---------------------------------------------------------------------------------


def test_catalogue_prefers_the_products_file() -> None:
    purchases = (
        "customer_id,product_id,product_name,category\n1,A,apple,fruit\n2,A,,\n"
        "2,B,bread,bakery\n3,C,,\n"
    )
    products = "product_id,name,category,price\nA,Apple,Fruit,1.5\nD,Dates,,4\n"
    ds = load_dataset(purchases.encode(), products=products.encode())
    cat = ds.catalogue()
    assert cat[S.PRODUCT_ID].tolist() == ["A", "B", "C", "D"]
    assert cat[S.PRODUCT_NAME].tolist()[:2] == ["Apple", "bread"]
    assert cat[S.CATEGORY].tolist()[:2] == ["Fruit", "bakery"]
    assert cat[S.PRICE].tolist()[0] == 1.5 and np.isnan(cat[S.PRICE].tolist()[1])
    assert str(cat[S.PRODUCT_ID].dtype) == "str" and cat[S.PRICE].dtype == "float64"


def test_segments_summary_and_dates() -> None:
    customers = b"customer_id,tier,card\n007,gold,visa\n008,,amex\n"
    ds = load_dataset(PURCHASES_CSV.encode(), customers=customers, dataset_name="t")
    seg = ds.segments()
    assert seg is not None and seg.index.name == S.CUSTOMER_ID
    assert seg.loc["007"] == "gold" and pd.isna(seg.loc["008"])
    summary = ds.summary()
    assert summary == {
        "n_customers": 2,
        "n_products": 2,
        "n_purchases": 3,
        "total_spend": 41.0,
        "date_min": pd.Timestamp("2024-01-05"),
        "date_max": pd.Timestamp("2024-02-01"),
        "density": 0.75,
        "n_offers": 0,
    }
    assert ds.has_dates and ds.name == "t"
    plain = load_dataset(b"customer_id,product_id\n1,A\n")
    assert not plain.has_dates and plain.segments() is None
    assert plain.summary()["total_spend"] is None


def test_dataset_built_by_hand_is_completed() -> None:
    ds = Dataset(purchases=pd.DataFrame({S.CUSTOMER_ID: ["1"], S.PRODUCT_ID: ["A"]}))
    assert set(S.PURCHASES.names) <= set(ds.purchases.columns)
    assert ds.catalogue()[S.PRODUCT_ID].tolist() == ["A"] and len(ds.fingerprint) == 64


def test_fingerprint_is_stable_and_content_sensitive(tmp_path: Path) -> None:
    first = load_dataset(PURCHASES_CSV.encode(), REWARDS_CSV.encode())
    again = load_dataset(PURCHASES_CSV.replace(",", ";").encode(), REWARDS_CSV.encode())
    assert first.fingerprint == again.fingerprint  # same content, other delimiter
    changed = load_dataset(PURCHASES_CSV.replace("20\n", "21\n").encode(), REWARDS_CSV.encode())
    no_rewards = load_dataset(PURCHASES_CSV.encode())
    assert len({first.fingerprint, changed.fingerprint, no_rewards.fingerprint}) == 3
    path = tmp_path / "p.csv"
    path.write_text(PURCHASES_CSV)
    code = (
        f"from recsys.data.dataset import load_dataset; print(load_dataset({str(path)!r}, "
        f"{REWARDS_CSV.encode()!r}).fingerprint)"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={"PYTHONHASHSEED": "123"},
    )
    assert out.stdout.strip() == first.fingerprint


def test_cross_file_warnings() -> None:
    rewards = (
        "offer_id,product_id,category,segment\nO1,A,,\nO2,Z,,\nO3,,toys,\nO4,,fruit,platinum\n"
    )
    customers = "customer_id,segment\n007,gold\n"
    products = "product_id,category\nA,fruit\n"
    redemptions = "customer_id,offer_id\n007,O1\n999,O1\n007,O9\n"
    ds = load_dataset(
        PURCHASES_CSV.encode(),
        rewards.encode(),
        customers.encode(),
        products.encode(),
        redemptions=redemptions.encode(),
        names={"rewards": "r.csv", "redemptions": "red.csv"},
    )
    warnings = ds.report.warnings
    assert only_problem(warnings, S.PRODUCT_ID, "not in purchases").rows == (3,)
    assert only_problem(warnings, S.CATEGORY, "no product has").rows == (4,)
    assert only_problem(warnings, S.SEGMENT, "no customer has").rows == (5,)
    missing_customer = only_problem(warnings, S.CUSTOMER_ID, "missing from this file")
    assert missing_customer.file == "customers.csv" and "'008'" in missing_customer.message
    assert "'B'" in only_problem(warnings, S.PRODUCT_ID, "missing from this file").message
    assert only_problem(warnings, S.OFFER_ID, "not in the rewards").rows == (4,)
    assert only_problem(warnings, S.CUSTOMER_ID, "not in purchases").rows == (3,)
    assert {p.file for p in warnings} == {"r.csv", "red.csv", "customers.csv", "products.csv"}
    assert ds.redemptions is not None and ds.report.ok


def test_errors_of_all_files_are_collected_into_one_exception() -> None:
    with pytest.raises(DataValidationError) as excinfo:
        load_dataset(
            b"customer_id,product_id,amount\n1,A,-3\n",
            b"offer_id,product_id\nO1,\n",
            b"",
            b"product_id,price\nA,1\n",
            names={"customers": "c.csv"},
        )
    errors = errors_of(excinfo)
    assert {p.file for p in errors} == {"purchases.csv", "rewards.csv", "c.csv"}
    assert only_problem(errors, S.AMOUNT, "negative").rows == (2,)
    message = str(excinfo.value)
    assert "purchases.csv" in message and "rewards.csv" in message and "c.csv" in message


def test_load_dataset_accepts_loaded_tables() -> None:
    table = read_table(PURCHASES_CSV.encode(), "purchases")
    assert isinstance(table, LoadedTable)
    ds = load_dataset(table)
    assert ds.fingerprint == load_dataset(PURCHASES_CSV.encode()).fingerprint


@pytest.mark.slow
def test_large_file_reads_fast(tmp_path: Path) -> None:
    import time

    n = 200_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": np.char.zfill(rng.integers(0, 20_000, n).astype(str), 6),
            "sku": np.char.add("P", rng.integers(0, 2_000, n).astype(str)),
            "date": (
                pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
            ).strftime("%d/%m/%Y"),
            "qty": rng.integers(1, 5, n),
            "amount": (rng.random(n) * 100).round(2),
        }
    )
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False, sep=";")
    start = time.perf_counter()
    loaded = read_table(path, "purchases")
    elapsed = time.perf_counter() - start
    assert elapsed < 10
    assert len(loaded.frame) + sum(p.n_rows for p in loaded.report.warnings) == n
    assert loaded.frame[S.CUSTOMER_ID].str.len().eq(6).all()
    assert loaded.frame[S.PURCHASE_DATE].notna().all()


def test_load_sample() -> None:
    assert (SAMPLE_DIR / "purchases.csv").is_file()
    ds = load_sample()
    assert ds.name == "sample" and ds.report.ok
    assert ds.rewards is not None and ds.customers is not None and ds.products is not None
    assert ds.summary()["n_purchases"] > 0 and ds.segments() is not None
    assert ds.fingerprint == load_sample().fingerprint


def test_load_dataset_says_which_step_runs_on_each_file() -> None:
    steps: list[tuple[float, str]] = []
    load_dataset(
        PURCHASES_CSV.encode(),
        REWARDS_CSV.encode(),
        names={"purchases": "buys.csv", "rewards": "offers.csv"},
        progress=lambda fraction, message: steps.append((fraction, message)),
    )
    assert [m for _, m in steps] == [
        "Reading buys.csv",
        "Validating buys.csv (3 rows)",
        "Reading offers.csv",
        "Validating offers.csv (2 rows)",
        "Checking the files against each other",
        "Fingerprinting the data",
        "Done",
    ]
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0


def test_a_rejected_file_still_reports_its_steps_before_the_error() -> None:
    steps: list[str] = []
    with pytest.raises(DataValidationError):
        load_dataset(b"customer_id\n1\n", names={"purchases": "p.csv"},
                     progress=lambda f, m: steps.append(m))  # fmt: skip
    assert steps == ["Reading p.csv", "Validating p.csv (1 row)"]
