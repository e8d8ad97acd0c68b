"""The model store under faults: writers SIGKILLed mid-save, racing savers, loads during deletes.

Writers are forked child processes (a fork starts in milliseconds, so many rounds fit in the time
budget) that are killed with SIGKILL, either at random moments or while blocked at one of the
save path's fault points. After every kill the store is reopened and must list only loadable
models, hold the previous or the new version of the name (never neither), and no temp file.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recsys import store as store_module
from recsys.errors import ModelStoreError
from recsys.store import ModelStore
from recsys.versions import library_versions

FORK = multiprocessing.get_context("fork")
BIG = 3_000_000  # int64 values: a 24 MB payload
SMALL = 100_000  # 0.8 MB, for the many-round races
POINTS = ("after-temp-write", "after-fsync", "after-rename")
VERSIONS = library_versions()  # once: reading package metadata costs ~60 ms a call


class FakeModel:
    """Stands in for a fitted pipeline: a big incompressible array, checkable after loading."""

    def __init__(self, version: int, size: int) -> None:
        self.version = version
        self.data = np.random.default_rng(version).integers(0, 2**62, size, dtype=np.int64)
        self.digest = hashlib.sha256(self.data.tobytes()).hexdigest()
        self.metadata_ = {
            "params": {},
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "versions": VERSIONS,
        }

    def recommend(self, *args: Any) -> None:  # the store checks that a model can recommend
        return None

    def intact(self) -> bool:
        return hashlib.sha256(self.data.tobytes()).hexdigest() == self.digest


def _child_save(
    root: Path, name: str, version: int, size: int, point: str | None, conn: Connection
) -> None:
    """Save one model; with ``point``, announce reaching it and hang there until killed."""
    store_module.COMPRESS_LEVEL = 0  # the write steps, not compression, are what is being tested

    def hook(reached: str) -> None:
        if reached == point:
            conn.send(reached)
            time.sleep(60)

    store_module._fault_hook = hook
    model = FakeModel(version, size)
    store = ModelStore(root)
    conn.send("ready")
    store.save(model, name, overwrite=True)
    conn.send("done")


def _received(conn: Connection) -> list[str]:
    messages = []
    while conn.poll():
        try:
            messages.append(conn.recv())
        except EOFError:
            break
    return messages


def _temps(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*.tmp")]


def _check_store(root: Path) -> dict[str, int]:
    """Reopen the store: no temp left, every listed model loads intact; returns name -> version."""
    store = ModelStore(root)
    assert _temps(root) == []
    versions = {}
    for info in store.list():
        assert info.ok, info.problem
        model = store.load(info.name)
        assert model.intact(), info.name
        versions[info.name] = model.version
    return versions


def _kill_round(
    root: Path, name: str, version: int, point: str | None, delay: float
) -> tuple[bool, bool]:
    """Run one writer and SIGKILL it; returns (killed before it finished, reached ``point``)."""
    parent, child = FORK.Pipe(duplex=False)
    proc = FORK.Process(target=_child_save, args=(root, name, version, BIG, point, child))
    proc.start()
    child.close()
    assert parent.poll(30) and parent.recv() == "ready"
    reached = False
    if point is not None:
        assert parent.poll(30), f"the writer never reached {point}"
        reached = parent.recv() == point
    else:
        time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    done = "done" in _received(parent)
    parent.close()
    return not done, reached


@pytest.mark.slow
def test_writers_killed_at_any_moment_never_lose_or_hide_a_model(tmp_path, monkeypatch):
    root = tmp_path / "models"
    monkeypatch.setattr(store_module, "COMPRESS_LEVEL", 0)  # as in the writers
    ModelStore(root).save(FakeModel(0, BIG), "big")
    started = time.perf_counter()  # time a warm save: random kills should land inside one
    ModelStore(root).save(FakeModel(0, BIG), "big", overwrite=True)
    save_seconds = time.perf_counter() - started
    assert _check_store(root) == {"big": 0}

    rng = random.Random(20260611)
    plan: list[tuple[str | None, bool]] = [(p, False) for p in POINTS for _ in range(3)]
    plan += [(p, True) for p in POINTS]  # a new name killed inside each step
    plan += [(None, i % 4 == 0) for i in range(12)]  # random moments
    current = 0
    kills = killed_mid_save = 0
    for version, (point, new_name) in enumerate(plan, start=1):
        name = f"fresh-{version}" if new_name else "big"
        delay = rng.uniform(0.0, 0.9 * save_seconds)
        unfinished, reached = _kill_round(root, name, version, point, delay)
        kills += 1
        killed_mid_save += unfinished
        versions = _check_store(root)
        if new_name:
            # A new name is either absent or complete: never listed but unloadable.
            if point == "after-rename":
                assert versions.get(name) == version
            elif point is not None:
                assert name not in versions
            if name in versions:
                assert versions[name] == version
                ModelStore(root).delete(name)
            continue
        if point == "after-rename" or not unfinished:
            assert versions["big"] == version
        elif point is not None:
            assert versions["big"] == current  # the previous version survived intact
        else:
            assert versions["big"] in (current, version)
        current = versions["big"]
    print(f"{kills} kills, {killed_mid_save} before the save finished; save {save_seconds:.2f}s")
    assert kills == len(plan) >= 20
    assert killed_mid_save >= 4 * len(POINTS)  # at least the forced kills were mid-save
    assert _check_store(root) == {"big": current}


def _child_overwrite(root: Path, name: str, writer: int, rounds: int) -> None:
    store_module.COMPRESS_LEVEL = 0
    store = ModelStore(root)
    for i in range(rounds):
        store.save(FakeModel(writer * 1000 + i, SMALL), name, overwrite=True)


def _child_save_and_delete(root: Path, name: str, rounds: int) -> None:
    store_module.COMPRESS_LEVEL = 0
    store = ModelStore(root)
    for i in range(rounds):
        store.save(FakeModel(i, SMALL), name, overwrite=True)
        store.delete(name)


def _read_while(alive: Callable[[], bool], root: Path, name: str) -> tuple[int, int]:
    """Load ``name`` in a loop while writers run; returns (loads, 'not there' refusals)."""
    loads = missing = 0
    store = ModelStore(root)
    while alive():
        for info in store.list():
            assert info.ok, info.problem
        try:
            model = store.load(name)
        except ModelStoreError as exc:  # never a raw FileNotFoundError
            assert "No saved model" in str(exc) or "was deleted" in str(exc), exc
            missing += 1
            continue
        assert model.intact()
        loads += 1
    return loads, missing


@pytest.mark.slow
def test_two_processes_overwriting_one_name_50_times_never_break_it(tmp_path):
    procs = [
        FORK.Process(target=_child_overwrite, args=(tmp_path, "same", writer, 50))
        for writer in (1, 2)
    ]
    for proc in procs:
        proc.start()
    loads, _ = _read_while(lambda: any(p.is_alive() for p in procs), tmp_path, "same")
    for proc in procs:
        proc.join()
        assert proc.exitcode == 0
    print(f"{loads} verified loads during 2 x 50 overwrites")
    assert loads > 0
    versions = _check_store(tmp_path)
    assert versions["same"] % 1000 == 49  # one writer's last save is what stays


@pytest.mark.slow
def test_loading_while_another_process_deletes_gives_a_clear_error(tmp_path):
    proc = FORK.Process(target=_child_save_and_delete, args=(tmp_path, "flip", 50))
    proc.start()
    loads, missing = _read_while(proc.is_alive, tmp_path, "flip")
    proc.join()
    print(f"{loads} loads, {missing} clear 'not there' refusals during 50 save+delete rounds")
    assert proc.exitcode == 0 and missing > 0
    assert _check_store(tmp_path) == {}


def _child_race(root: Path, names: list[str], writer: int, barrier: Any, results: Any) -> None:
    store_module.COMPRESS_LEVEL = 0
    store = ModelStore(root)
    for name in names:
        barrier.wait()
        try:
            store.save(FakeModel(writer, SMALL), name, overwrite=False)
            results.put((name, writer, "ok"))
        except ModelStoreError as exc:
            results.put((name, writer, "exists" if "already exists" in str(exc) else str(exc)))


@pytest.mark.slow
def test_of_two_processes_racing_for_a_new_name_exactly_one_wins(tmp_path):
    names = [f"new-{i}" for i in range(10)]
    barrier, results = FORK.Barrier(2), FORK.Queue()
    procs = [
        FORK.Process(target=_child_race, args=(tmp_path, names, writer, barrier, results))
        for writer in (1, 2)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in range(2 * len(names))]
    for proc in procs:
        proc.join()
    versions = _check_store(tmp_path)
    for name in names:
        mine = sorted((result, writer) for n, writer, result in outcomes if n == name)
        assert [result for result, _ in mine] == ["exists", "ok"], mine
        assert versions[name] == next(writer for result, writer in mine if result == "ok")
