"""Bounded memory on any upload: crafted files are refused before their data is read.

Each case runs in a fresh subprocess that loads the file through ``load_dataset`` and reports
its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, KB on Linux), so the bound holds
for the reading itself, not for this test process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recsys.data.dataset import load_dataset
from recsys.errors import DataValidationError

ROOT = Path(__file__).resolve().parents[2]
PEAK_MB = 500

# Linux carries ru_maxrss over from the parent at fork/exec (a test process that already ran
# the dashboard tests is large), so the child resets its own peak and reads VmHWM instead.
PROBE = """
import json, resource, sys
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
from recsys.data.dataset import load_dataset
from recsys.errors import DataValidationError
try:
    load_dataset(purchases=sys.argv[1])
    message = None
except DataValidationError as exc:
    message = str(exc)
try:
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    peak_mb = int(status.split()[0]) / 1024
except (OSError, IndexError):
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"message": message, "peak_mb": peak_mb}))
"""


def probe(path: Path, **env: str) -> dict:
    import os

    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{path.name}: peak {out['peak_mb']:.0f} MB; {out['message']}")  # shown with -s
    return out


def baseline_mb() -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.replace("load_dataset(purchases=sys.argv[1])", "pass"), "x"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)["peak_mb"]


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10M constant rows: dictionary + run-length encoded, about 100 KB on disk."""
    n = 10_000_000
    zeros = pa.array(bytes(n), type=pa.uint8()).cast(pa.int8())
    table = pa.table(
        {
            "customer_id": pa.DictionaryArray.from_arrays(zeros, pa.array(["C1"])),
            "product_id": pa.DictionaryArray.from_arrays(zeros, pa.array(["P1"])),
            "purchase_date": pa.DictionaryArray.from_arrays(zeros, pa.array(["2026-01-01"])),
        }
    )
    path = tmp_path_factory.mktemp("bomb") / "purchases.parquet"
    pq.write_table(table, path, compression="zstd")
    del table, zeros
    return path


def test_the_bomb_is_small_on_disk(bomb: Path):
    assert bomb.stat().st_size < 1_000_000
    assert pq.ParquetFile(bomb).metadata.num_rows == 10_000_000


def test_parquet_bomb_is_refused_by_rows_before_decompression(bomb: Path):
    out = probe(bomb, RECSYS_MAX_ROWS="1000000")
    assert "10,000,000" in out["message"] and "limit is 1,000,000" in out["message"]
    assert "RECSYS_MAX_ROWS" in out["message"] and "purchases.parquet" in out["message"]
    assert out["peak_mb"] < PEAK_MB


def test_parquet_bomb_is_refused_by_memory_estimate(bomb: Path):
    out = probe(bomb, RECSYS_MAX_MEMORY_GB="1")
    assert "needs ~1.9 GB" in out["message"] and "the limit is 1 GB" in out["message"]
    assert out["peak_mb"] < PEAK_MB


def test_csv_over_the_row_limit_stops_reading_at_the_limit(tmp_path: Path):
    path = tmp_path / "purchases.csv"
    with path.open("w") as fh:
        fh.write("customer_id,product_id\n")
        fh.writelines(f"C{i % 5000},P{i % 97}\n" for i in range(3_000_000))
    out = probe(path, RECSYS_MAX_ROWS="100000")
    assert "more than 100,000 rows" in out["message"] and "purchases.csv" in out["message"]
    assert "split it" in out["message"] and "RECSYS_MAX_ROWS" in out["message"]
    # Reading all 3M rows as text takes far more than reading 100k of them.
    assert out["peak_mb"] < baseline_mb() + 150


def test_very_wide_csv_is_refused_from_its_header(tmp_path: Path):
    path = tmp_path / "purchases.csv"
    header = ",".join(["customer_id", "product_id"] + [f"c{i}" for i in range(200_000)])
    path.write_text(header + "\n" + ",".join(["1"] * 200_002) + "\n")
    out = probe(path)
    # The header is longer than the bytes sniffed: refused from those, before pandas reads it.
    assert "more than" in out["message"] and "columns; the limit is 200" in out["message"]
    assert out["peak_mb"] < PEAK_MB


def test_wide_parquet_is_refused_from_its_footer(tmp_path: Path):
    path = tmp_path / "purchases.parquet"
    pq.write_table(pa.table({f"c{i}": [1] for i in range(300)}), path)
    with pytest.raises(DataValidationError, match="300 columns; the limit is 200"):
        load_dataset(purchases=path)


def test_nested_parquet_is_refused_with_a_clear_message(tmp_path: Path):
    path = tmp_path / "purchases.parquet"
    table = pa.table({"customer_id": ["C1"], "product_id": [["P1", "P2"]]})
    pq.write_table(table, path)
    out = probe(path)
    assert "nested (list/struct/map) column(s) product_id" in out["message"]
    assert "flatten" in out["message"]


def test_files_within_the_limits_still_load(tmp_path: Path):
    path = tmp_path / "purchases.parquet"
    pq.write_table(pa.table({"customer_id": ["C1", "C2"], "product_id": ["P1", "P1"]}), path)
    assert load_dataset(purchases=path).summary()["n_purchases"] == 2
