"""The all-customer export as tasks on a Dask cluster: one task per block of customers.

The fitted pipeline (index, matrix, offers: read-only) is scattered to every worker once; each
task then computes one block's rows with :func:`recsys.campaigns.export.export_frames`, the
same code as the single-machine export, so the answers are the same:

- CSV: a task returns its block as CSV bytes (header first), formatted on the worker; the
  client writes them to one file in block order, keeping at most ``window`` blocks in flight.
- Parquet: a task writes its block as ``part-NNNNN.parquet`` into a dataset folder that the
  client and the workers share, and returns only its row count.

A task that fails is retried (``retries``); a worker that dies has its tasks rerun elsewhere
(Dask's ``allowed-failures``). Without a scheduler, :func:`write_parquet_export` writes the same
dataset folder in this process, block by block.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from recsys.campaigns.export import (
    CSV_OPTIONS,
    EXPORT_CHUNK_SIZE,
    EXPORT_COLUMNS,
    export_frames,
    write_csv_chunks,
)
from recsys.data import schema as S
from recsys.errors import ClusterError, RecsysError
from recsys.pipeline import BLOCK_CHUNKS

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Format = Literal["csv", "parquet"]

SCHEDULER_ENV = "RECSYS_DASK_SCHEDULER"
# Customers per task: one neighbour-search block of the single-machine export (4 chunks of
# 4,096), a few seconds of work, so that per-task overhead (~ms) is noise and 1M customers make
# 62 tasks, enough to keep every worker busy to the end.
BLOCK_SIZE = EXPORT_CHUNK_SIZE * BLOCK_CHUNKS
RETRIES = 2
CONNECT_TIMEOUT_S = 10.0
PART_GLOB = "part-*.parquet"
_INT_COLUMNS = (S.RANK, S.SUPPORT, S.N_ELIGIBLE_OFFERS)
_FLOAT_COLUMNS = (S.SCORE, S.REWARD_VALUE)


def scheduler_address(flag: str | None) -> str | None:
    """The scheduler: ``--scheduler`` if given, else ``$RECSYS_DASK_SCHEDULER``, else None."""
    return flag or os.environ.get(SCHEDULER_ENV) or None


def block_bounds(n_customers: int, block_size: int = BLOCK_SIZE) -> list[tuple[int, int]]:
    """``(start, stop)`` customer rows of each block.

    >>> block_bounds(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    """
    if block_size < 1:
        raise ClusterError(f"block size {block_size!r}: give a whole number of customers >= 1.")
    return [(s, min(s + block_size, n_customers)) for s in range(0, n_customers, block_size)]


def part_name(index: int) -> str:
    """File name of block ``index`` in a Parquet dataset folder (sorts in block order)."""
    return f"part-{index:05d}.parquet"


@dataclass(frozen=True)
class BlockResult:
    """What one task sends back: CSV bytes (empty for Parquet), its rows and where it ran."""

    index: int
    rows: int
    payload: bytes
    seconds: float
    worker: str
    peak_rss: int  # bytes: the worker process's peak resident memory so far


@dataclass
class WorkerStats:
    blocks: int = 0
    seconds: float = 0.0  # time inside tasks
    first_seconds: float = 0.0  # its first block: imports, numba's cache, the offer book
    bytes_returned: int = 0  # result bytes sent back to the client
    peak_rss: int = 0


@dataclass
class ClusterRun:
    """Summary of an export on a cluster (what ``make bench-cluster`` prints)."""

    rows: int = 0
    blocks: int = 0
    block_size: int = BLOCK_SIZE
    seconds: float = 0.0
    scatter_seconds: float = 0.0
    workers: dict[str, WorkerStats] = field(default_factory=dict)

    @property
    def seconds_per_block(self) -> float:
        done = sum(w.blocks for w in self.workers.values())
        return sum(w.seconds for w in self.workers.values()) / max(done, 1)

    def add(self, result: BlockResult) -> None:
        stats = self.workers.setdefault(result.worker, WorkerStats())
        if stats.blocks == 0:
            stats.first_seconds = result.seconds
        stats.blocks += 1
        stats.seconds += result.seconds
        stats.bytes_returned += len(result.payload)
        stats.peak_rss = max(stats.peak_rss, result.peak_rss)
        self.rows += result.rows


def _peak_rss() -> int:
    """This process's peak resident memory in bytes (VmHWM: unlike ``ru_maxrss``, not carried
    over from the parent process on Linux); 0 where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def _arrow_schema() -> Any:
    import pyarrow as pa

    def kind(column: str) -> Any:
        if column in _INT_COLUMNS:
            return pa.int64()
        return pa.float64() if column in _FLOAT_COLUMNS else pa.string()

    return pa.schema([pa.field(column, kind(column)) for column in EXPORT_COLUMNS])


def _write_part(frames: list[pd.DataFrame], path: Path) -> int:
    """One block as one Parquet file, written under a temporary name then renamed (a retried or
    rerun task overwrites a whole part, never half of one)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema()
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=EXPORT_COLUMNS)
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return len(frame)


def export_block(
    pipeline: Any,
    index: int,
    start: int,
    stop: int,
    n: int,
    as_of: object | None,
    fmt: Format,
    folder: str | None,
    n_jobs: int | None,
) -> BlockResult:
    """The task: rows of customers ``start:stop`` (the model's order) with their best offers.

    CSV: the block's CSV bytes, header first, from the product's one CSV writer. Parquet: the
    block written to ``folder/part-NNNNN.parquet``; no bytes returned.
    """
    started = time.perf_counter()
    ids = pipeline.customer_ids[start:stop]
    frames = export_frames(pipeline, ids, n, as_of=as_of, n_jobs=n_jobs)
    if fmt == "parquet":
        if folder is None:
            raise ClusterError("A Parquet export needs an output folder.")
        rows, payload = _write_part(list(frames), Path(folder) / part_name(index)), b""
    else:
        buffer = io.StringIO()
        rows = write_csv_chunks(frames, buffer, EXPORT_COLUMNS)
        payload = buffer.getvalue().encode("utf-8")
    return BlockResult(
        index=index,
        rows=rows,
        payload=payload,
        seconds=time.perf_counter() - started,
        worker=_worker_name(),
        peak_rss=_peak_rss(),
    )


def csv_header() -> bytes:
    """The export's CSV header line, exactly as the single-machine export writes it."""
    return pd.DataFrame(columns=EXPORT_COLUMNS).to_csv(**CSV_OPTIONS).encode("utf-8")


@contextlib.contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``target``, renamed onto it on success only.

    ``target`` may be missing, empty or a previous Parquet export (only ``part-*.parquet``
    files), which is replaced; anything else is refused, so no folder of other files is lost.
    On failure the temporary folder is removed.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ClusterError(f"{target} is a file: a Parquet export writes a folder of parts.")
    if target.is_dir() and any(not p.match(PART_GLOB) for p in target.iterdir()):
        raise ClusterError(
            f"{target} holds files other than a previous export's parts: give a new folder."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        for stray in tmp.glob(".*.tmp"):  # a part a killed worker left half-written
            stray.unlink()
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_parquet_export(
    pipeline: Any,
    folder: str | Path,
    n: int = 10,
    *,
    as_of: object | None = None,
    block_size: int = BLOCK_SIZE,
    progress: Progress | None = None,
) -> int:
    """The Parquet dataset folder of a cluster export, written in this process; returns rows."""
    bounds = block_bounds(len(pipeline.customer_ids), block_size)
    rows = 0
    for index, (start, stop) in enumerate(bounds):
        result = export_block(pipeline, index, start, stop, n, as_of, "parquet", str(folder), -1)
        rows += result.rows
        if progress is not None:
            progress((index + 1) / len(bounds), f"{index + 1:,} of {len(bounds):,} blocks")
    return rows


@contextlib.contextmanager
def connect(address: str, *, timeout: float | None = None) -> Iterator[Client]:
    """A client of the scheduler at ``address`` with at least one worker, closed on exit.

    An address that cannot be reached within ``timeout`` seconds (default
    :data:`CONNECT_TIMEOUT_S`), or a scheduler with no worker, raises :class:`ClusterError`.
    """
    from distributed import Client
    from distributed.comm import get_address_host_port, parse_address

    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    try:  # checked first: a Client given a malformed address fails slowly and noisily
        if parse_address(address)[0] != "inproc":  # inproc: a scheduler in this process
            get_address_host_port(address)
    except ValueError as exc:
        raise ClusterError(
            f"{address!r} is not a Dask scheduler address ({exc}): give tcp://HOST:PORT, "
            f"e.g. tcp://10.0.0.5:8786, the address `dask scheduler` prints."
        ) from None
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"Cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc}). Start "
            f"one with `dask scheduler` and give its address (tcp://HOST:8786), or leave out "
            f"--scheduler and {SCHEDULER_ENV} to export on this machine."
        ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"The Dask scheduler at {address} has no worker ({exc}). Start one with "
                f"`dask worker {address} --nthreads 1` on each machine."
            ) from None
        yield client
    finally:
        client.close()


def export_on_cluster(
    client: Client,
    pipeline: Any,
    out: str | Path,
    n: int = 10,
    *,
    fmt: Format = "csv",
    as_of: object | None = None,
    block_size: int = BLOCK_SIZE,
    retries: int = RETRIES,
    n_jobs: int | None = 1,
    window: int | None = None,
    progress: Progress | None = None,
) -> ClusterRun:
    """Export every customer on the cluster behind ``client``: one task per block.

    Parameters
    ----------
    client : distributed.Client
        A connected client (:func:`connect`).
    pipeline : RecommenderPipeline
        The fitted pipeline; scattered to every worker once (``broadcast=True``).
    out : path
        CSV: the file to write. Parquet: the dataset folder, which the workers must see at
        the same path (a shared file system); use :func:`staged_folder` for an atomic one.
    fmt, as_of, n :
        As the single-machine export; the rows are the same, in the same order.
    block_size : int
        Customers per task.
    retries : int
        Times a failed task is retried before the export fails.
    n_jobs : int or None
        Neighbour-search threads inside each task (scikit-learn's meaning). Default 1: one
        task is one core, and a machine's cores are used by running one worker process per
        core (``dask worker --nworkers N --nthreads 1``); measured on 2 cores, two workers of
        2 kernel threads each were twice as slow as two of 1 (4 threads on 2 cores).
    window : int, optional
        Blocks in flight at once (submitted and not yet written); default twice the cluster's
        threads. Bounds the client's memory: at most ``window`` CSV blocks wait in its buffer.
    progress : callable, optional
        Called with (fraction, "k of m blocks") as blocks are written.
    """
    from distributed import as_completed

    started = time.perf_counter()
    bounds = block_bounds(len(pipeline.customer_ids), block_size)
    total = len(bounds)
    run = ClusterRun(blocks=total, block_size=block_size)
    window = window or max(2, 2 * sum(client.nthreads().values()))
    folder = None
    if fmt == "parquet":
        Path(out).mkdir(parents=True, exist_ok=True)
        folder = str(Path(out).resolve())
    header = csv_header()
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(Path(out).open("wb")) if fmt == "csv" else None
        if sink is not None and total == 0:
            sink.write(header)
        scatter_start = time.perf_counter()
        shared = [client.scatter(pipeline, broadcast=True, hash=False)]  # the model, on workers
        run.scatter_seconds = time.perf_counter() - scatter_start
        token = uuid.uuid4().hex[:8]
        pending = as_completed(loop=client.loop)
        live: dict[str, tuple[int, Any]] = {}  # key -> (block, future), until written
        rescued = [0]  # blocks resubmitted after the scheduler lost the scattered model

        def submit(index: int) -> None:
            start, stop = bounds[index]
            future = client.submit(
                export_block,
                shared[0],
                index,
                start,
                stop,
                n,
                as_of,
                fmt,
                folder,
                n_jobs,
                key=f"recsys-export-{token}-{index:06d}-{rescued[0]}",
                retries=retries,
                priority=total - index,  # earlier blocks first: the CSV is written in order
                pure=False,
            )
            live[future.key] = (index, future)
            pending.add(future)

        submitted = written = 0
        ready: dict[int, BlockResult] = {}
        while submitted < min(window, total):
            submit(submitted)
            submitted += 1
        try:
            for future in pending:
                index, _ = live.pop(future.key)
                if future.cancelled() and rescued[0] < retries * total:
                    # A dying worker can take the scattered model with it, and the scheduler
                    # then cancels the tasks that need it ("already forgotten"): scatter the
                    # model again and rerun the block, instead of failing the export.
                    log.warning("block %d lost its model on the cluster; sending it again", index)
                    rescued[0] += 1
                    if shared[0].status != "finished":
                        shared[0] = client.scatter(pipeline, broadcast=True, hash=False)
                    submit(index)
                    continue
                result = _result(future, index, bounds, retries)
                future.release()
                ready[result.index] = result
                # Write in block order; what arrived early waits (at most `window` blocks).
                while written in ready:
                    block = ready.pop(written)
                    if sink is not None:
                        sink.write(_body(block.payload, header, first=written == 0))
                    run.add(block)
                    written += 1
                    if progress is not None:
                        progress(written / total, f"{written:,} of {total:,} blocks")
                    if submitted < total:
                        submit(submitted)
                        submitted += 1
        finally:
            if live:  # stopped early (an error or an interrupt): drop what is still queued
                client.cancel([future for _, future in live.values()], force=True)
            shared[0].release()
    if fmt == "parquet":
        missing = [part_name(i) for i in range(total) if not (Path(out) / part_name(i)).is_file()]
        if missing:
            raise ClusterError(
                f"The workers wrote {missing[0]} (and {len(missing) - 1} more) where this machine "
                f"cannot see it: a Parquet export needs a folder that the client and every worker "
                f"share at the same path (e.g. a network file system)."
            )
    run.seconds = time.perf_counter() - started
    return run


def _body(payload: bytes, header: bytes, *, first: bool) -> bytes:
    """A block's CSV bytes without its header, except for the first block."""
    if not payload.startswith(header):
        raise ClusterError("A worker's CSV block does not start with the export's header.")
    return payload if first else payload[len(header) :]


def _result(future: Any, index: int, bounds: list[tuple[int, int]], retries: int) -> BlockResult:
    try:
        return future.result()
    except RecsysError:
        raise
    except Exception as exc:
        start, stop = bounds[index]
        raise RuntimeError(
            f"block {index + 1} of {len(bounds)} (customers {start:,} to {stop - 1:,}) failed "
            f"on the cluster after {retries + 1} tries: {type(exc).__name__}: {exc}"
        ) from exc
