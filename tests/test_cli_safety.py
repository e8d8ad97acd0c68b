"""CLI safety: plain exit-2 messages for unusable inputs, no .partial files, explained empties."""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

import pandas as pd
import pytest

from recsys.cli import EXIT_BAD_INPUT, EXIT_OK, main
from tests.known_data import REWARD_OFFERS, REWARD_PRODUCTS, REWARD_PURCHASES


def run(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    for name, text in (("p", REWARD_PURCHASES), ("r", REWARD_OFFERS), ("x", REWARD_PRODUCTS)):
        (root / f"{name}.csv").write_text(text)
    out = root / "m.joblib"
    code, _, err = run(
        "train", "--purchases", root / "p.csv", "--rewards", root / "r.csv",
        "--products", root / "x.csv", "--k", "3", "--out", out,
    )  # fmt: skip
    assert code == EXIT_OK, err
    return out


def test_a_directory_given_as_a_file_is_a_plain_error(tmp_path):
    code, _, err = run("validate", "--purchases", tmp_path)
    assert code == EXIT_BAD_INPUT and "is a directory" in err and "Traceback" not in err


def test_a_file_without_read_permission_is_a_plain_error(tmp_path, monkeypatch):
    # Tests run as root, which reads any file whatever its mode: simulate the missing
    # permission where the CLI checks it (os.access) and where pandas would open the file.
    path = tmp_path / "purchases.csv"
    path.write_text(REWARD_PURCHASES)
    real_access, real_open = os.access, builtins.open
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: str(p) != str(path) and real_access(p, mode)
    )

    def no_read(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_read)
    code, _, err = run("validate", "--purchases", path)
    assert code == EXIT_BAD_INPUT and "no read permission" in err


def test_a_bad_as_of_date_is_a_plain_error(model, tmp_path):
    code, _, err = run("export", "--model-file", model, "--out", tmp_path / "e.csv",
                       "--as-of", "not-a-date")  # fmt: skip
    assert code == EXIT_BAD_INPUT and "is not a date" in err and "YYYY-MM-DD" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("failure", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_failed_export_leaves_no_file_behind(model, tmp_path, monkeypatch, failure):
    from recsys.campaigns import export

    def broken(frames, out, columns, **options):
        Path(out).write_text("half a file")
        raise failure

    monkeypatch.setattr(export, "write_csv_chunks", broken)
    code, _, _ = run("export", "--model-file", model, "--out", tmp_path / "e.csv")
    assert code != EXIT_OK
    assert list(tmp_path.iterdir()) == []  # neither e.csv nor a .partial file


def test_a_good_export_leaves_only_the_file(model, tmp_path):
    code, _, err = run("export", "--model-file", model, "--out", tmp_path / "e.csv")
    assert code == EXIT_OK, err
    assert [p.name for p in tmp_path.iterdir()] == ["e.csv"]


def test_sample_lines_scale_with_customers(tmp_path):
    code, _, err = run("sample", "--out", tmp_path, "--customers", "40", "--products", "20",
                       "--purchases-per-customer", "5")  # fmt: skip
    assert code == EXIT_OK, err
    assert len(pd.read_csv(tmp_path / "purchases.csv")) == 200


def test_a_customer_who_bought_everything_is_told_why(tmp_path):
    (tmp_path / "p.csv").write_text("customer_id,product_id\nx1,A\nx1,B\nx2,A\nx2,B\n")
    model = tmp_path / "m.joblib"
    assert run("train", "--purchases", tmp_path / "p.csv", "--k", "1", "--out", model)[0] == 0
    code, _, err = run("recommend", "--model-file", model, "--customer", "x1")
    assert code == EXIT_OK and "already bought every product" in err


def test_an_expired_offer_audience_says_how_to_size_it(model, tmp_path):
    # O3 ends 2026-12-31: on 2027-06-01 it is expired.
    code, _, err = run("audience", "--model-file", model, "--offer", "O3",
                       "--as-of", "2027-06-01", "--out", tmp_path / "a.csv")  # fmt: skip
    assert code == EXIT_OK, err
    assert "expired" in err and "--as-of 2026-12-31" in err
