"""Cluster export benchmark: the all-customer export on 1 and on 2 local Dask workers.

``make bench-cluster`` (``.venv/bin/python bench/cluster.py``; default 1M customers x 20k
products x 10M lines, the size of ``make bench-large``):

1. the synthetic files of ``bench/cli.py`` (seeded), written once into ``--data`` (default
   ``~/.cache/recsys-bench/cluster-<N>``) and reused by later runs;
2. ``python -m recsys train`` and the single-machine ``python -m recsys export`` as processes
   (time and peak memory of each), the export being the reference file;
3. for 1 and 2 workers: a ``LocalCluster(n_workers=w, threads_per_worker=1, processes=True)``,
   then :func:`recsys.campaigns.cluster_export.export_on_cluster` to CSV, checked byte for byte
   against the reference.

Printed per cluster run: wall time (model scatter included, cluster start-up not), peak memory
of each worker process (VmHWM, reported by its tasks), the cost of a block (mean over blocks,
and the first block of each worker, which pays imports and numba's cache), the bytes sent to
each worker (the pickled model, once) and returned by it (its CSV blocks); then the parallel
efficiency t1 / (2 * t2). Each task's neighbour search uses ``--task-threads`` threads (default
1, the product's default on a cluster: one core per worker process).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import pickle
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from cli import run, write_data  # noqa: E402  (bench/cli.py: the same files and meter)

MIB = 1024 * 1024


def sizes(n_customers: int) -> tuple[int, int]:
    """Products and purchase lines for ``n_customers``: 20k x 10M at 1M, as bench-large."""
    return max(2_000, min(20_000, n_customers // 50)), 10 * n_customers


def prepare(folder: Path, n_customers: int, py: str) -> tuple[Path, Path]:
    """The data files (written once), the trained model and the single-machine export."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "purchases.csv").is_file():
        n_products, n_lines = sizes(n_customers)
        start = time.perf_counter()
        write_data(folder, n_customers, n_products, n_lines)
        print(f"  data written in {time.perf_counter() - start:.0f} s to {folder}", flush=True)
    else:
        print(f"  data reused from {folder}", flush=True)
    files = [
        arg
        for name in ("purchases", "rewards", "customers", "products")
        for arg in (f"--{name}", str(folder / f"{name}.csv"))
    ]
    model, reference = folder / "model.joblib", folder / "export-single.csv"
    if not model.is_file() or model.stat().st_mtime < (folder / "purchases.csv").stat().st_mtime:
        run("python -m recsys train", [py, "-m", "recsys", "train", *files, "--out", str(model)])
    else:
        print(f"  model reused: {model}", flush=True)
    run(
        "python -m recsys export (one machine)",
        [py, "-m", "recsys", "export", "--model-file", str(model), "--out", str(reference)],
    )
    return model, reference


def cluster_export(
    pipe: object,
    workers: int,
    out: Path,
    *,
    block_size: int,
    task_threads: int,
    model_bytes: int,
) -> float:
    """One export on a fresh local cluster of ``workers`` processes; prints it, returns secs."""
    from distributed import LocalCluster

    from recsys.campaigns.cluster_export import connect, export_on_cluster

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        connect(cluster.scheduler_address) as client,
    ):
        started = time.perf_counter() - start
        result = export_on_cluster(
            client, pipe, out, 10, block_size=block_size, n_jobs=task_threads
        )
    print(
        f"  {workers} worker(s): {result.seconds:7.1f} s for {result.blocks} blocks of "
        f"{block_size:,} (scatter {result.scatter_seconds:.1f} s; cluster started in "
        f"{started:.1f} s, not counted)",
        flush=True,
    )
    for n, stats in enumerate((s for _, s in sorted(result.workers.items())), 1):
        steady = (
            f"{(stats.seconds - stats.first_seconds) / (stats.blocks - 1):5.2f} s"
            if stats.blocks > 1
            else "    -"
        )
        print(
            f"    worker {n}: {stats.blocks:3d} blocks, {stats.seconds:6.1f} s in tasks, "
            f"{steady} per block after its first ({stats.first_seconds:.1f} s), "
            f"peak {stats.peak_rss / MIB:6.0f} MiB; in {model_bytes / MIB:.1f} MiB (model, once), "
            f"out {stats.bytes_returned / MIB:.1f} MiB (CSV blocks)",
            flush=True,
        )
    print(f"    mean cost of a block {result.seconds_per_block:.2f} s (in task)", flush=True)
    return result.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, help="folder of the data (reused when present)")
    parser.add_argument("--block-size", type=int, default=None, help="customers per task")
    parser.add_argument("--task-threads", type=int, default=1, help="kernel threads per task")
    args = parser.parse_args(argv)

    from recsys.campaigns.cluster_export import BLOCK_SIZE
    from recsys.store import load_pipeline

    block_size = args.block_size or BLOCK_SIZE
    cache = Path(os.environ.get("RECSYS_BENCH_DATA") or Path.home() / ".cache" / "recsys-bench")
    folder = args.data or cache / f"cluster-{args.customers}"
    n_products, n_lines = sizes(args.customers)
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cpus, load average "
        f"{os.getloadavg()[0]:.1f} at the start; {args.customers:,} customers x "
        f"{n_products:,} products x {n_lines:,} lines, top-10, k=20, cosine",
        flush=True,
    )
    model, reference = prepare(folder, args.customers, sys.executable)
    pipe = load_pipeline(model)
    model_bytes = len(pickle.dumps(pipe, protocol=5))
    print(
        f"  model file {model.stat().st_size / MIB:.1f} MiB, pickled for the workers "
        f"{model_bytes / MIB:.1f} MiB",
        flush=True,
    )
    seconds = {}
    for workers in (1, 2):
        out = folder / f"export-{workers}-workers.csv"
        seconds[workers] = cluster_export(
            pipe,
            workers,
            out,
            block_size=block_size,
            task_threads=args.task_threads,
            model_bytes=model_bytes,
        )
        same = filecmp.cmp(out, reference, shallow=False)
        print(f"    same bytes as the single-machine export: {same}", flush=True)
        if not same:
            raise SystemExit(f"{out} differs from {reference}")
        out.unlink()
    print(
        f"  parallel efficiency t1 / (2 x t2) = {seconds[1]:.1f} / (2 x {seconds[2]:.1f}) = "
        f"{seconds[1] / (2 * seconds[2]):.2f}",
        flush=True,
    )
    print(f"  load average (1, 5, 15 min): {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
