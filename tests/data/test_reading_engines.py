"""pyarrow reads a CSV (and parses numbers) exactly as pandas did, or leaves the file to pandas.

The pandas path is the reference: it reports every problem. The pyarrow path only has to give
the same frame whenever it gives one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.data import reading

READABLE = [
    b"a,b\n1,2\n3,4\n",
    b"a,b\r\n1,2\r\n3,4\r\n",
    b"a,b\n1,2",  # no final newline
    b"\xef\xbb\xbfa,b\n1,2\n",  # BOM
    b'a,b\n"x, y",2\n"say ""hi""",3\n',
    b'a,b\n"two\nlines",2\n',
    b"a,b\n1,2\n\n3,4\n",  # blank line: a row of empty cells, then skipped by _tidy
    b"a,a,b\n1,2,3\n",  # repeated header: pandas names it a.1
    b"a;b\n1;2\n",
    b"a\tb\n 1 \t2\n",
    b'a,b\nab"c,2\n',
    b",b\n1,2\n",  # empty header
    "id,name\n1,Zoë\n2,東京\n".encode(),
]

PANDAS_ONLY = [  # (file, records pandas reads)
    (b"a,b\n1,2\n3\n", 2),  # short row: pandas pads it
    (b"a,b\n1,caf\xe9\n", 1),  # Latin-1
    (b'"a\nb",c\n1,2\n', 1),  # header across lines
]


def _pandas(data: bytes) -> pd.DataFrame:
    src = reading.open_source(data, "t.csv")
    frame, _ = reading._read_csv(src, nrows=reading.ReadLimits().max_rows + 1)
    return frame


@pytest.mark.parametrize("data", READABLE)
def test_pyarrow_reads_what_pandas_reads(data: bytes) -> None:
    src = reading.open_source(data, "t.csv")
    fast = reading._read_csv_arrow(src, reading._csv_kwargs(src), cap=1000)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, _pandas(data))


@pytest.mark.parametrize(("data", "records"), PANDAS_ONLY)
def test_files_pyarrow_cannot_read_the_same_way_go_to_pandas(data: bytes, records: int) -> None:
    src = reading.open_source(data, "t.csv")
    assert reading._read_csv_arrow(src, reading._csv_kwargs(src), cap=1000) is None
    frame, problems, _ = reading.read_raw(data, "t.csv")  # still read, as before
    assert len(frame) == records


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"a,b\n1,2,3\n", [2]),
        (b"a,b\n1,2,3\n4,5,6,7\n", [2, 3]),  # pandas alone would stop at row 3
        (b'a;b\n1;2;3\n4;5;6\n"x;y";1\n', [2, 3]),
        (b'\xef\xbb\xbfa,b\n"two\nlines",2,3\n4,5,6\n', [2, 3]),
        (b"a,b\n1,caf\xe9,3\n", [2]),  # Latin-1
    ],
)
def test_rows_longer_than_the_header_are_an_error_naming_them(data: bytes, rows: list) -> None:
    """pandas would drop the extra cells with only a warning: a value would be lost."""
    from recsys.errors import DataValidationError

    with pytest.raises(DataValidationError) as caught:
        reading.read_raw(data, "t.csv")
    (problem,) = caught.value.report.problems
    assert problem.file == "t.csv" and "more fields than the header" in problem.message
    assert list(problem.rows) == rows


def test_pyarrow_path_stops_one_row_past_the_cap() -> None:
    data = b"a\n" + b"".join(b"%d\n" % i for i in range(100))
    src = reading.open_source(data, "t.csv")
    frame = reading._read_csv_arrow(src, reading._csv_kwargs(src), cap=11)
    assert frame is not None and frame["a"].tolist() == [str(i) for i in range(11)]


def test_a_file_read_from_disk_matches_the_same_bytes_in_memory(tmp_path) -> None:
    data = READABLE[4]
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    on_disk, _, _ = reading.read_raw(path)
    in_memory, _, _ = reading.read_raw(data, "t.csv")
    pd.testing.assert_frame_equal(on_disk, in_memory)


CELLS = ["1", "2.5", "", "-3", "+4", "1.", ".5", "1e5", "5e-400", "1e400", "inf", "-inf"]
CELLS += ["nan", "NaN", "Infinity", "0"]


def _reference(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = raw.ne("") & ~np.isfinite(values)
    return values.mask(bad), bad


def test_numbers_parse_as_pandas_parses_them() -> None:
    raw = pd.Series(CELLS, dtype="str")
    assert reading._arrow_floats(raw) is not None  # every cell is arrow-readable
    values, bad = reading.parse_numbers(raw)
    expected_values, expected_bad = _reference(raw)
    pd.testing.assert_series_equal(values, expected_values)
    assert bad.tolist() == expected_bad.tolist()
    assert bad.tolist() == [c in ("1e400", "inf", "-inf", "nan", "NaN", "Infinity") for c in CELLS]


@pytest.mark.parametrize("cell", ["12,5", "1,234", "x", "1_0", "0x1", "€5"])
def test_a_cell_pyarrow_rejects_leaves_the_column_to_pandas(cell: str) -> None:
    raw = pd.Series(["1", cell], dtype="str")
    assert reading._arrow_floats(raw) is None
    values, bad = reading.parse_numbers(raw)
    assert values.iloc[0] == 1.0
    assert bad.iloc[1] == (cell != "12,5")
    if cell == "12,5":
        assert values.iloc[1] == 12.5
