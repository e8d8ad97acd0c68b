"""The model store: atomic saves, checksums, version warnings, listing and deleting."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from recsys.errors import DataWarning, ModelStoreError
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.store import ModelStore, load_pipeline, metadata_path, save_pipeline
from tests.test_pipeline import checkerboard


@pytest.fixture(scope="module")
def fitted() -> RecommenderPipeline:
    return RecommenderPipeline(ModelParams(n_neighbors=2)).fit(checkerboard())


def test_round_trip_gives_identical_recommendations(fitted, tmp_path):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "k2")
    loaded = store.load("k2")
    pd.testing.assert_frame_equal(loaded.recommend_many(n=4), fitted.recommend_many(n=4))
    pd.testing.assert_frame_equal(loaded.rewards_for("a1", 3), fitted.rewards_for("a1", 3))
    assert info.params["n_neighbors"] == 2
    assert info.fingerprint == fitted.fingerprint_
    assert info.n_customers == 6 and info.size_bytes == info.path.stat().st_size


def test_default_root_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_MODEL_DIR", str(tmp_path / "elsewhere"))
    assert ModelStore().root == tmp_path / "elsewhere"


def test_list_is_newest_first_and_survives_a_new_store_object(fitted, tmp_path):
    store = ModelStore(tmp_path)
    store.save(fitted, "first")
    store.save(fitted, "second")
    names = [info.name for info in ModelStore(tmp_path).list()]
    assert sorted(names) == ["first", "second"]


def test_existing_name_is_not_replaced_without_overwrite(fitted, tmp_path):
    store = ModelStore(tmp_path)
    store.save(fitted, "m")
    with pytest.raises(ModelStoreError, match="already exists"):
        store.save(fitted, "m")
    store.save(fitted, "m", overwrite=True)


def test_tampered_artifact_is_refused(fitted, tmp_path):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "m")
    with info.path.open("ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelStoreError, match="checksum"):
        store.load("m")


def test_artifact_without_metadata_is_refused(fitted, tmp_path):
    path = tmp_path / "m.joblib"
    save_pipeline(fitted, path)
    metadata_path(path).unlink()
    with pytest.raises(ModelStoreError, match="metadata"):
        load_pipeline(path)


def test_version_mismatch_warns_clearly(fitted, tmp_path):
    path = tmp_path / "m.joblib"
    save_pipeline(fitted, path)
    meta = json.loads(metadata_path(path).read_text())
    meta["versions"]["scikit-learn"] = "0.0.1"
    metadata_path(path).write_text(json.dumps(meta))
    with pytest.warns(DataWarning, match="scikit-learn 0.0.1"):
        load_pipeline(path)


def test_failed_save_leaves_previous_model_intact(fitted, tmp_path, monkeypatch):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "m")
    before = info.path.read_bytes()

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("recsys.store.joblib.dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        store.save(fitted, "m", overwrite=True)
    assert info.path.read_bytes() == before
    assert store.load("m").recommend("a1", 1)["product_id"].tolist() == ["p3"]
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_unfitted_pipeline_cannot_be_saved(tmp_path):
    with pytest.raises(ModelStoreError, match="train"):
        ModelStore(tmp_path).save(RecommenderPipeline(), "m")


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "x" * 81])
def test_unsafe_names_are_refused(name, tmp_path):
    with pytest.raises(ModelStoreError, match="valid model name"):
        ModelStore(tmp_path).path(name)


def test_delete_removes_both_files(fitted, tmp_path):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "m")
    store.delete("m")
    assert not info.path.exists() and not metadata_path(info.path).exists()
    assert store.list() == []
    with pytest.raises(ModelStoreError, match="No saved model"):
        store.delete("m")


def test_corrupt_metadata_is_skipped_in_listing(fitted, tmp_path):
    store = ModelStore(tmp_path)
    store.save(fitted, "good")
    (tmp_path / "bad.joblib").write_bytes(b"x")
    (tmp_path / "bad.joblib.json").write_text("{not json")
    assert [info.name for info in store.list()] == ["good"]
