"""The model store: single-file format, verification before unpickling, areas, owners, locking."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import struct
import threading
import time
from pathlib import Path

import joblib
import pandas as pd
import pytest

from recsys import store as store_module
from recsys.errors import DataWarning, ModelNotFoundError, ModelStoreError
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.store import (
    ModelStore,
    load_pipeline,
    metadata_path,
    read_metadata,
    save_pipeline,
    user_dir_name,
)
from tests.known_data import checkerboard

# The documented header, spelled out independently of the module so format drift is caught.
HEADER = struct.Struct("<8sHHIQ32s")
MAGIC = b"RECSYSM\x00"
KEY = "a-long-random-store-key-for-tests"


@pytest.fixture(scope="module")
def fitted() -> RecommenderPipeline:
    return RecommenderPipeline(ModelParams(n_neighbors=2)).fit(checkerboard())


@pytest.fixture(autouse=True)
def _no_store_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECSYS_STORE_KEY", raising=False)


def craft(
    path: Path,
    payload: bytes,
    metadata: dict,
    *,
    version: int = 2,
    key: bytes | None = None,
    signed: bool | None = None,
) -> None:
    """Write an artifact by hand, as a forger (or a future version of the app) would."""
    meta = json.dumps(metadata).encode()
    flags = 1 if (signed if signed is not None else key is not None) else 0
    prefix = HEADER.pack(MAGIC, version, flags, len(meta), len(payload), b"")[:24]
    mac = hmac.new(key, prefix + meta + payload, hashlib.sha256).digest() if key else bytes(32)
    path.write_bytes(HEADER.pack(MAGIC, version, flags, len(meta), len(payload), mac) + meta)
    with path.open("ab") as fh:
        fh.write(payload)


def split(path: Path) -> tuple[dict, bytes]:
    """The metadata and payload of an artifact, parsed by the documented layout."""
    data = path.read_bytes()
    _, _, _, meta_len, payload_len, _ = HEADER.unpack_from(data)
    meta = json.loads(data[HEADER.size : HEADER.size + meta_len])
    payload = data[HEADER.size + meta_len :]
    assert len(payload) == payload_len
    return meta, payload


class Boom:
    """A pickle whose unpickling creates ``marker``: proof that a payload ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("joblib.load was called on unverified bytes")

    monkeypatch.setattr("recsys.store.joblib.load", refuse)


# -- format and round trip ---------------------------------------------------------------------


def test_round_trip_gives_identical_recommendations(fitted, tmp_path):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "k2")
    loaded = store.load("k2")
    pd.testing.assert_frame_equal(loaded.recommend_many(n=4), fitted.recommend_many(n=4))
    pd.testing.assert_frame_equal(loaded.rewards_for("a1", 3), fitted.rewards_for("a1", 3))
    assert info.params["n_neighbors"] == 2
    assert info.fingerprint == fitted.fingerprint_
    assert info.n_customers == 6 and info.size_bytes == info.path.stat().st_size
    assert store.info("k2") == ModelStore(tmp_path).info("k2")


def test_one_file_with_a_known_layout(fitted, tmp_path):
    info = ModelStore(tmp_path).save(fitted, "m")
    assert sorted(os.listdir(tmp_path)) == [".store.lock", "m.joblib"]  # no sidecar, no temp
    data = info.path.read_bytes()
    magic, version, flags, meta_len, payload_len, mac = HEADER.unpack_from(data)
    assert (magic, version, flags, mac) == (MAGIC, 2, 0, bytes(32))
    assert len(data) == HEADER.size + meta_len + payload_len
    meta, payload = split(info.path)
    assert meta["sha256"] == hashlib.sha256(payload).hexdigest()
    assert meta["format_version"] == 2 and meta["owner"] == "local" and meta["name"] == "m"
    for key in ("params", "versions", "fingerprint", "n_customers", "n_products", "created_at"):
        assert key in meta
    assert joblib.load(__import__("io").BytesIO(payload)).params == fitted.params


def test_payload_is_lz4_and_a_zlib_payload_of_an_earlier_save_still_loads(fitted, tmp_path):
    import io

    info = ModelStore(tmp_path).save(fitted, "m")
    meta, payload = split(info.path)
    assert payload.startswith(b"\x04\x22\x4d\x18")  # the LZ4 frame magic number
    older = io.BytesIO()
    joblib.dump(fitted, older, compress=1)  # zlib, what earlier versions wrote
    blob = older.getvalue()
    meta = {**meta, "sha256": hashlib.sha256(blob).hexdigest(), "payload_bytes": len(blob)}
    craft(tmp_path / "old.joblib", blob, meta)
    loaded = ModelStore(tmp_path).load("old")
    pd.testing.assert_frame_equal(loaded.recommend_many(n=4), fitted.recommend_many(n=4))


def test_module_functions_use_the_same_format(fitted, tmp_path):
    path = tmp_path / "cli" / "m.joblib"
    metadata = save_pipeline(fitted, path)
    assert metadata["size_bytes"] == path.stat().st_size and metadata["file"] == "m.joblib"
    assert read_metadata(path)["sha256"] == metadata["sha256"]
    assert read_metadata(path)["signed"] is False
    assert load_pipeline(path).params == fitted.params


def test_default_root_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_MODEL_DIR", str(tmp_path / "elsewhere"))
    assert ModelStore().root == tmp_path / "elsewhere"


def test_list_is_newest_first_and_survives_a_new_store_object(fitted, tmp_path):
    store = ModelStore(tmp_path)
    store.save(fitted, "first")
    store.save(fitted, "second")
    infos = ModelStore(tmp_path).list()
    assert sorted(info.name for info in infos) == ["first", "second"]
    assert all(info.ok and info.area == "team" and info.owner == "local" for info in infos)


def test_existing_name_is_not_replaced_without_overwrite(fitted, tmp_path):
    store = ModelStore(tmp_path)
    first = store.save(fitted, "m").metadata["sha256"]
    with pytest.raises(ModelStoreError, match="already exists"):
        store.save(fitted, "m")
    assert read_metadata(store.path("m"))["sha256"] == first
    store.save(fitted, "m", overwrite=True)
    assert store.load("m").params == fitted.params


def _save_once(root: Path, pipeline, name: str, barrier: threading.Barrier, out: list) -> None:
    barrier.wait()
    try:
        ModelStore(root).save(pipeline, name)
        out.append("ok")
    except ModelStoreError as exc:
        out.append("exists" if "already exists" in str(exc) else str(exc))


def test_racing_threads_get_exactly_one_new_name(fitted, tmp_path):
    # Streamlit sessions are threads of one process: the lock must serialise them too.
    store = ModelStore(tmp_path)
    for round_ in range(5):
        name, barrier, results = f"race-{round_}", threading.Barrier(2), []
        threads = [
            threading.Thread(target=_save_once, args=(tmp_path, fitted, name, barrier, results))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["exists", "ok"]
        assert store.load(name).params == fitted.params


# -- verification ------------------------------------------------------------------------------


def test_appended_bytes_are_refused(fitted, tmp_path):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "m")
    with info.path.open("ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelStoreError, match="checksum"):
        store.load("m")


def test_one_flipped_payload_byte_is_refused_before_unpickling(fitted, tmp_path, monkeypatch):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "m")
    data = bytearray(info.path.read_bytes())
    data[-100] ^= 0x01
    info.path.write_bytes(bytes(data))
    no_unpickling(monkeypatch)
    with pytest.raises(ModelStoreError, match="checksum"):
        store.load("m")


def test_truncated_file_is_refused(fitted, tmp_path):
    info = ModelStore(tmp_path).save(fitted, "m")
    info.path.write_bytes(info.path.read_bytes()[:40])
    with pytest.raises(ModelStoreError, match="checksum"):
        ModelStore(tmp_path).load("m")


def test_a_bare_pickle_is_refused_and_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    (tmp_path / "m.joblib").write_bytes(pickle.dumps(Boom(marker)))
    with pytest.raises(ModelStoreError, match="not a model file written by this app"):
        ModelStore(tmp_path).load("m")
    assert not marker.exists()


def test_the_forged_payload_really_would_run(tmp_path):
    """Control for the tests below: unpickling the payload does create the marker."""
    marker = tmp_path / "ran"
    payload = pickle.dumps(Boom(marker))
    craft(tmp_path / "m.joblib", payload, {"sha256": hashlib.sha256(payload).hexdigest()})
    with pytest.raises(ModelStoreError, match="not hold a recommender"):
        load_pipeline(tmp_path / "m.joblib")  # no key configured: only the checksum protects
    assert marker.exists()


@pytest.mark.parametrize("how", ["unsigned", "flag-but-no-mac", "other key"])
def test_with_a_key_a_forged_artifact_is_refused_and_never_runs(how, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    payload = pickle.dumps(Boom(marker))
    meta = {"sha256": hashlib.sha256(payload).hexdigest(), "format_version": 2}
    path = tmp_path / "m.joblib"
    if how == "unsigned":
        craft(path, payload, meta)
    elif how == "flag-but-no-mac":
        craft(path, payload, meta, signed=True)
    else:
        craft(path, payload, meta, key=b"guessed-by-the-forger-0123456789")
    monkeypatch.setenv("RECSYS_STORE_KEY", KEY)
    with pytest.raises(ModelStoreError, match="not signed|signature that does not match"):
        ModelStore(tmp_path).load("m")
    with pytest.raises(ModelStoreError, match="not signed|signature that does not match"):
        load_pipeline(path)
    assert not marker.exists()


def test_signed_models_load_with_the_key_and_resist_metadata_edits(fitted, tmp_path):
    store = ModelStore(tmp_path, key=KEY)
    info = store.save(fitted, "m")
    assert HEADER.unpack_from(info.path.read_bytes())[2] == 1 and info.metadata
    assert store.load("m").params == fitted.params
    assert read_metadata(info.path)["signed"] is True
    # Without a key a signed file still loads (checksum only); with another key it does not.
    assert ModelStore(tmp_path).load("m").params == fitted.params
    with pytest.raises(ModelStoreError, match="signature that does not match"):
        ModelStore(tmp_path, key="another-long-key-0123456789").load("m")
    # Editing the signed metadata (keeping the payload and its checksum) breaks the signature.
    meta, payload = split(info.path)
    data = info.path.read_bytes()
    mac = HEADER.unpack_from(data)[5]
    meta["owner"] = "mallory@example.com"
    new_meta = json.dumps(meta).encode()
    info.path.write_bytes(HEADER.pack(MAGIC, 2, 1, len(new_meta), len(payload), mac) + new_meta)
    with info.path.open("ab") as fh:
        fh.write(payload)
    with pytest.raises(ModelStoreError, match="signature that does not match"):
        store.load("m")


def test_with_a_key_an_unsigned_store_model_is_refused(fitted, tmp_path, monkeypatch):
    ModelStore(tmp_path).save(fitted, "m")
    no_unpickling(monkeypatch)
    with pytest.raises(ModelStoreError, match="not signed"):
        ModelStore(tmp_path, key=KEY).load("m")


def test_version_mismatch_warns_clearly(fitted, tmp_path):
    path = tmp_path / "m.joblib"
    save_pipeline(fitted, path)
    meta, payload = split(path)
    meta["versions"]["scikit-learn"] = "0.0.1"
    craft(path, payload, meta)
    with pytest.warns(DataWarning, match="scikit-learn 0.0.1"):
        load_pipeline(path)


@pytest.mark.parametrize(("version", "message"), [(99, "newer version"), (1, "older version")])
def test_other_format_versions_are_refused_clearly(version, message, fitted, tmp_path):
    path = tmp_path / "m.joblib"
    save_pipeline(fitted, path)
    meta, payload = split(path)
    craft(path, payload, {**meta, "format_version": version}, version=version)
    with pytest.raises(ModelStoreError, match=f"{message} of the app.*format {version}"):
        load_pipeline(path)
    [info] = ModelStore(tmp_path).list()
    assert not info.ok and message in info.problem


def test_old_two_file_models_are_listed_as_incompatible(fitted, tmp_path):
    store = ModelStore(tmp_path)
    store.save(fitted, "good")
    joblib.dump(fitted, tmp_path / "old.joblib")  # what format 1 wrote
    metadata_path(tmp_path / "old.joblib").write_text(json.dumps({"sha256": "x"}))
    (tmp_path / "junk.joblib").write_bytes(b"x")
    infos = {info.name: info for info in store.list()}
    assert infos["good"].ok
    assert "old two-file format" in infos["old"].problem and "Retrain" in infos["old"].problem
    assert "not a model file" in infos["junk"].problem
    with pytest.raises(ModelStoreError, match="incompatible"):
        store.load("old")
    store.delete("old")
    assert not (tmp_path / "old.joblib").exists()
    assert not metadata_path(tmp_path / "old.joblib").exists()


def test_failed_save_leaves_previous_model_intact(fitted, tmp_path, monkeypatch):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "m")
    before = info.path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr("recsys.store.os.fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        store.save(fitted, "m", overwrite=True)
    assert info.path.read_bytes() == before
    monkeypatch.undo()
    assert store.load("m").recommend("a1", 1)["product_id"].tolist() == ["p3"]
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_unfitted_pipeline_cannot_be_saved(tmp_path):
    with pytest.raises(ModelStoreError, match="train"):
        ModelStore(tmp_path).save(RecommenderPipeline(), "m")


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "x" * 81, "a\x00b"])
def test_unsafe_names_are_refused(name, tmp_path):
    with pytest.raises(ModelStoreError, match="valid model name"):
        ModelStore(tmp_path).path(name)


def test_delete_removes_the_file(fitted, tmp_path):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "m")
    store.delete("m")
    assert not info.path.exists()
    assert store.list() == []
    with pytest.raises(ModelNotFoundError, match="No saved model"):
        store.delete("m")
    with pytest.raises(ModelNotFoundError, match="No saved model"):
        store.load("m")


def test_load_of_a_file_deleted_meanwhile_says_so(fitted, tmp_path, monkeypatch):
    store = ModelStore(tmp_path)
    info = store.save(fitted, "m")
    real_read = store_module._read

    def deleted_first(path, *, payload):  # another session deletes between lookup and read
        ModelStore(tmp_path).delete("m")
        return real_read(path, payload=payload)

    monkeypatch.setattr(store_module, "_read", deleted_first)
    with pytest.raises(ModelStoreError, match="was deleted or not found"):
        store.load("m")
    with pytest.raises(ModelNotFoundError):
        load_pipeline(info.path)


# -- users, areas, owners ----------------------------------------------------------------------


def test_user_ids_become_safe_directory_names():
    for user in ["../../etc/passwd", "a/b@x", ".hidden@x", "A@X.COM ", "名前@例え.jp"]:
        name = user_dir_name(user)
        assert "/" not in name and name.startswith("u-") and ".." not in name.split("-", 1)[0]
    assert user_dir_name("A@X.COM ") == user_dir_name("a@x.com")
    assert user_dir_name("a+b@x.com") != user_dir_name("a-b@x.com")
    with pytest.raises(ModelStoreError, match="user id"):
        ModelStore("x", user="  ")


def test_private_and_team_areas(fitted, tmp_path):
    alice = ModelStore(tmp_path, user="Alice@Example.com")
    bob = ModelStore(tmp_path, user="bob@example.com")
    mine = alice.save(fitted, "mine")
    shared = alice.save(fitted, "shared", area="team")
    assert mine.area == "private" and mine.owner == "alice@example.com"
    assert mine.path.parent == tmp_path / "users" / user_dir_name("alice@example.com")
    assert shared.path.parent == tmp_path and shared.area == "team"
    assert {(i.name, i.area) for i in alice.list()} == {("mine", "private"), ("shared", "team")}
    assert [(i.name, i.owner) for i in bob.list()] == [("shared", "alice@example.com")]
    assert bob.load("shared").params == fitted.params
    with pytest.raises(ModelNotFoundError):
        bob.load("mine")
    # The team area is what single-user mode sees.
    assert [i.name for i in ModelStore(tmp_path).list()] == ["shared"]


def test_only_the_owner_may_delete_or_overwrite(fitted, tmp_path):
    alice = ModelStore(tmp_path, user="alice@example.com")
    bob = ModelStore(tmp_path, user="bob@example.com")
    alice.save(fitted, "shared", area="team")
    with pytest.raises(ModelStoreError, match="only its owner can delete"):
        bob.delete("shared")
    with pytest.raises(ModelStoreError, match="only its owner can overwrite"):
        bob.save(fitted, "shared", area="team", overwrite=True)
    assert bob.load("shared").params == fitted.params
    alice.delete("shared")
    assert bob.list() == []


def test_a_name_in_both_areas_needs_the_area(fitted, tmp_path):
    alice = ModelStore(tmp_path, user="alice@example.com")
    alice.save(fitted, "m")
    alice.save(fitted, "m", area="team")
    with pytest.raises(ModelStoreError, match="say which"):
        alice.load("m")
    assert alice.load("m", area="team").params == fitted.params
    alice.delete("m", area="private")
    assert [(i.name, i.area) for i in alice.list()] == [("m", "team")]


def test_single_user_mode_has_no_private_area(fitted, tmp_path):
    with pytest.raises(ModelStoreError, match="signed-in user"):
        ModelStore(tmp_path).save(fitted, "m", area="private")


def test_describe_shows_no_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ModelStore(tmp_path / "workspace" / "models").describe().startswith("workspace/models")
    elsewhere = ModelStore("/srv/secret/models", user="a@x.com").describe()
    assert "/srv" not in elsewhere and "models" in elsewhere and "a@x.com" in elsewhere


# -- stale temporary files ---------------------------------------------------------------------


def test_opening_a_store_removes_dead_writers_temp_files(fitted, tmp_path):
    ModelStore(tmp_path, user="a@x.com").save(fitted, "m")
    user_dir = tmp_path / "users" / user_dir_name("a@x.com")
    dead = tmp_path / ".m.joblib.999999999.deadbeef.tmp"  # beyond pid_max: never alive
    dead_private = user_dir / ".m.joblib.999999999.0badf00d.tmp"
    legacy = tmp_path / ".m.joblib.k3j_x9.tmp"  # a format-1 mkstemp name
    live = tmp_path / f".n.joblib.{os.getpid()}.cafebabe.tmp"
    for path in (dead, dead_private, legacy, live):
        path.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(legacy, (old, old))
    assert ModelStore(tmp_path).clean_stale_temps() == 0  # the constructor already did it
    assert not dead.exists() and not dead_private.exists() and not legacy.exists()
    assert live.exists()  # a live writer's (and young): kept
    os.utime(live, (old, old))
    assert ModelStore(tmp_path).root and not live.exists()
    assert (user_dir / "m.joblib").is_file()
