"""Exports on a Dask cluster (recsys/campaigns/cluster_export.py): the same bytes as one machine,
retried tasks, a killed worker, and plain errors for a scheduler that is not there."""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from recsys.campaigns import cluster_export
from recsys.campaigns.cluster_export import connect, export_on_cluster, staged_folder
from recsys.cli import main
from recsys.commands import EXIT_BAD_INPUT, EXIT_OK
from recsys.data import schema as S
from recsys.data.sample import write_sample
from recsys.errors import ClusterError
from recsys.store import load_pipeline

distributed = pytest.importorskip("distributed")

BLOCK = "64"  # 300 customers -> 5 blocks, so order and reassembly are exercised


def run(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model saved by the CLI on the seeded sample (300 customers, offers, segments)."""
    root = tmp_path_factory.mktemp("cluster-data")
    paths = write_sample(root, n_customers=300, n_products=40, n_purchases=3000, seed=7)
    out = root / "model.joblib"
    files = [arg for name, path in paths.items() for arg in (f"--{name}", path)]
    code, stdout, err = run("train", *files, "--k", "5", "--out", out)
    assert code == EXIT_OK, err
    return out


@pytest.fixture(scope="module")
def single(model: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The single-machine export's bytes, the reference."""
    out = tmp_path_factory.mktemp("single") / "export.csv"
    code, _, err = run("export", "--model-file", model, "--out", out, "--n", "3")
    assert code == EXIT_OK, err
    return out.read_bytes()


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """Two worker processes, one thread each, as `dask worker --nthreads 1` would run them."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cluster_csv_is_byte_for_byte_the_single_machine_export(model, single, scheduler, tmp_path):
    out = tmp_path / "cluster.csv"
    cluster = ["--scheduler", scheduler, "--block-size", BLOCK]
    code, stdout, err = run("export", "--model-file", model, "--out", out, "--n", "3", *cluster)
    assert code == EXIT_OK, err
    assert out.read_bytes() == single
    assert "2 workers" in err and "5 of 5 blocks" in err  # progress counts blocks
    assert f"wrote {len(pd.read_csv(io.BytesIO(single))):,} rows" in stdout


def test_the_environment_variable_names_the_scheduler_and_the_flag_wins(
    model, single, scheduler, tmp_path, monkeypatch
):
    out = tmp_path / "cluster.csv"
    monkeypatch.setenv(cluster_export.SCHEDULER_ENV, scheduler)
    code, _, err = run("export", "--model-file", model, "--out", out, "--n", "3")
    assert code == EXIT_OK and "Dask cluster" in err
    assert out.read_bytes() == single
    monkeypatch.setenv(cluster_export.SCHEDULER_ENV, "tcp://127.0.0.1:1")
    code, _, err = run("export", "--model-file", model, "--out", out, "--scheduler", scheduler)
    assert code == EXIT_OK, err


def test_cluster_parquet_parts_are_the_local_parts_and_the_csv_rows(
    model, single, scheduler, tmp_path
):
    local, remote = tmp_path / "local", tmp_path / "remote"
    common = ["--model-file", model, "--n", "3", "--format", "parquet", "--block-size", BLOCK]
    assert run("export", *common, "--out", local)[0] == EXIT_OK
    code, _, err = run("export", *common, "--out", remote, "--scheduler", scheduler)
    assert code == EXIT_OK, err
    parts = sorted(p.name for p in remote.iterdir())
    assert parts == [f"part-0000{i}.parquet" for i in range(5)]
    assert sorted(p.name for p in local.iterdir()) == parts
    assert all((local / p).read_bytes() == (remote / p).read_bytes() for p in parts)
    frame = pd.read_parquet(remote)
    csv = pd.read_csv(io.BytesIO(single), dtype=str, keep_default_na=False)
    assert frame[S.CUSTOMER_ID].tolist() == csv[S.CUSTOMER_ID].tolist()
    assert frame[S.PRODUCT_ID].tolist() == csv[S.PRODUCT_ID].tolist()
    assert [f"{v:.6g}" for v in frame[S.SCORE]] == csv[S.SCORE].tolist()  # the CSV's format
    # A second export replaces the first one's parts; a folder of other files is refused.
    assert run("export", *common, "--out", remote, "--scheduler", scheduler)[0] == EXIT_OK
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    code, _, err = run("export", *common, "--out", tmp_path / "mine")
    assert code == EXIT_BAD_INPUT and "other than" in err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_unreachable_scheduler_is_a_plain_error(model, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster_export, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "export.csv"
    code, stdout, err = run("export", "--model-file", model, "--out", out, "--scheduler", address)
    assert code == EXIT_BAD_INPUT
    assert f"Cannot reach the Dask scheduler at {address}" in err and "dask scheduler" in err
    assert "Traceback" not in err and stdout == "" and not out.exists()
    code, _, err = run("export", "--model-file", model, "--out", out, "--scheduler", "nope::")
    assert code == EXIT_BAD_INPUT and "not a Dask scheduler address" in err
    assert "Traceback" not in err


@pytest.fixture()
def threads_cluster() -> Iterator[str]:
    """Workers as threads of this process, so a test can patch what the tasks call."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def _fail_first_call(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    calls: list[int] = []
    original = cluster_export.export_frames

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise OSError("disk hiccup")
        return original(*args, **kwargs)

    monkeypatch.setattr(cluster_export, "export_frames", flaky)
    return calls


def test_a_failed_task_is_retried_and_the_rows_stay_the_same(
    model, single, threads_cluster, tmp_path, monkeypatch
):
    calls = _fail_first_call(monkeypatch, times=1)
    out = tmp_path / "retried.csv"
    with connect(threads_cluster) as client:
        result = export_on_cluster(client, load_pipeline(model), out, 3, block_size=64)
    assert len(calls) == 5 + 1 and result.blocks == 5
    assert out.read_bytes() == single


def test_a_task_failing_every_try_fails_the_export_naming_its_block(
    model, threads_cluster, tmp_path, monkeypatch
):
    _fail_first_call(monkeypatch, times=100)
    with (
        connect(threads_cluster) as client,
        pytest.raises(RuntimeError, match=r"block 1 of 1 .* after 2 tries.*disk hiccup"),
    ):
        export_on_cluster(client, load_pipeline(model), tmp_path / "x.csv", 3, retries=1)


def _crash_on_first_block(marker: str) -> None:
    """Run in a worker process: its next block kills the process (once, across restarts)."""
    original = cluster_export.export_frames

    def crash(*args, **kwargs):
        if not os.path.exists(marker):
            Path(marker).touch()
            os._exit(1)
        return original(*args, **kwargs)

    cluster_export.export_frames = crash


def test_a_killed_worker_has_its_block_rerun_elsewhere(model, single, scheduler, tmp_path):
    marker = tmp_path / "crashed"
    with connect(scheduler) as client:
        victim = sorted(client.nthreads())[0]
        client.run(_crash_on_first_block, str(marker), workers=[victim])
        result = export_on_cluster(
            client, load_pipeline(model), tmp_path / "x.csv", 3, block_size=64
        )
        client.wait_for_workers(2, timeout=30)  # the nanny restarts it for the next tests
    assert marker.exists() and result.blocks == 5
    assert (tmp_path / "x.csv").read_bytes() == single


def test_a_scheduler_without_workers_is_a_plain_error():
    with (
        distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster,
        pytest.raises(ClusterError, match="has no worker"),
        connect(cluster.scheduler_address, timeout=0.5),
    ):
        pass


def test_staged_folder_leaves_nothing_when_the_export_fails(tmp_path):
    target = tmp_path / "dataset"
    with pytest.raises(OSError), staged_folder(target) as tmp:
        (tmp / "part-00000.parquet").write_bytes(b"half")
        raise OSError("stopped")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(ClusterError, match="is a file"), staged_folder(tmp_path / "file"):
        pass
