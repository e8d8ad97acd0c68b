"""The app started on a data folder and a saved model (``RECSYS_START_DATA`` / ``_MODEL``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashboard import startup
from dashboard import state as keys
from recsys.data.dataset import load_dataset
from recsys.errors import RecsysError
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.store import ModelStore
from tests.dashboard_fixtures import start_app, state, texts

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("purchases.csv", "rewards.csv", "customers.csv"):
        shutil.copy(SAMPLE / name, folder / name)
    return folder


def test_data_files_finds_each_table_and_prefers_parquet(tmp_path: Path):
    (tmp_path / "purchases.csv").write_text("customer_id,product_id\n")
    (tmp_path / "purchases.parquet").write_bytes(b"")
    (tmp_path / "rewards.csv").write_text("offer_id\n")
    (tmp_path / "notes.csv").write_text("x\n")
    files = startup.data_files(tmp_path)
    assert files == {
        "purchases": tmp_path / "purchases.parquet",
        "rewards": tmp_path / "rewards.csv",
    }


def test_data_files_without_purchases_or_folder_raise(tmp_path: Path):
    (tmp_path / "rewards.csv").write_text("offer_id\n")
    with pytest.raises(RecsysError, match="no purchases"):
        startup.data_files(tmp_path)
    with pytest.raises(RecsysError, match="not a folder"):
        startup.data_files(tmp_path / "missing")


def test_unset_or_blank_variables_mean_no_start_up_files():
    assert startup.start_data({}) is None
    assert startup.start_model({startup.MODEL_ENV: "  "}) is None
    assert startup.start_data({startup.DATA_ENV: "/x"}) == Path("/x")


def test_app_starts_on_the_folder_and_the_saved_model(
    data_folder: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    dataset = load_dataset(data_folder / "purchases.csv", data_folder / "rewards.csv",
                           data_folder / "customers.csv")  # fmt: skip
    pipeline = RecommenderPipeline(ModelParams(n_neighbors=7)).fit(dataset)
    ModelStore(model_dir).save(pipeline, "start-k7")
    monkeypatch.setenv(startup.DATA_ENV, str(data_folder))
    monkeypatch.setenv(startup.MODEL_ENV, "start-k7")
    at = start_app()
    active = state(at, keys.PIPELINE)
    assert active.params.n_neighbors == 7  # the saved model, not a freshly trained default
    assert state(at, keys.MODEL_INFO)["source"] == "saved"
    assert state(at, keys.DATASET).fingerprint == dataset.fingerprint
    assert state(at, keys.DATASET_SOURCE) == "start-up folder"
    assert state(at, keys.DATASET).products is None  # the folder's files, not the sample's
    assert any("start-up folder" in m.value for m in at.sidebar.markdown)


def test_a_missing_start_model_is_an_error_message(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(startup.MODEL_ENV, "no-such-model")
    at = start_app()
    assert any("no-such-model" in e for e in texts(at, "error"))
