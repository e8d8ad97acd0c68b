"""The handlers of ``python -m recsys`` commands: each reads its arguments, calls the core and
writes to the given streams (the parser and the entry point are in :mod:`recsys.cli`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from recsys.campaigns import cli as campaign_cli
from recsys.data import schema as S
from recsys.data.schema import TABLES
from recsys.errors import RecsysError
from recsys.params import ModelParams

if TYPE_CHECKING:
    from recsys.evaluation.results import EvaluationResult

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT = 0, 1, 2
DATA_FILES = tuple(TABLES)  # purchases first: the only required table


class Progress:
    """A one-line progress indication on stderr, throttled so batch logs stay readable."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label, self._last = stream, label, 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < 0.5:
            return
        self._last = now
        self.stream.write(f"{self.label}: {fraction:4.0%} {message}\n")
        self.stream.flush()


def params_from_args(args: argparse.Namespace) -> ModelParams:
    """The :class:`ModelParams` of the model flags; a cosine-only flag given with another
    metric is ignored with a warning (the settings keep it neutral, as the Model page does)."""
    defaults = ModelParams()
    cosine_only = {"shrink": args.shrink, "asymmetry": args.asymmetry}
    if args.metric != "cosine":
        given = [f"--{name} {value:g}" for name, value in cosine_only.items() if value is not None]
        if given:
            warnings.warn(
                f"{' and '.join(given)} apply to --metric cosine only: ignored with "
                f"--metric {args.metric}.",
                UserWarning,
                stacklevel=2,
            )
    return ModelParams(
        model=args.model,
        n_neighbors=args.k,
        metric=args.metric,
        weighting=args.weighting,
        value=args.value,
        min_similarity=args.min_similarity,
        similarity_power=args.similarity_power,
        shrink=defaults.shrink if args.shrink is None else args.shrink,
        asymmetry=defaults.asymmetry if args.asymmetry is None else args.asymmetry,
        popularity_penalty=args.popularity_penalty,
        half_life_days=args.half_life_days,
        l2=args.l2,
        alpha=args.alpha,
        beta=args.beta,
        factors=args.factors,
        regularization=args.regularization,
        iterations=args.iterations,
        confidence=args.confidence,
        exclude_purchased=not args.include_purchased,
        reward_boost=getattr(args, "reward_boost", 0.0),
    )


def _load_data(args: argparse.Namespace) -> Any:
    from recsys.data.dataset import load_dataset

    files = {name: getattr(args, name, None) for name in DATA_FILES}
    for name, path in files.items():
        if path is not None:
            check_input(name, path)
    return load_dataset(
        **{k: v for k, v in files.items() if v is not None}, dataset_name=Path(args.purchases).stem
    )


def check_input(what: str, path: Path) -> None:
    """A plain error (exit 2) for a missing, directory or unreadable input file."""
    path = Path(path)
    if path.is_dir():
        raise RecsysError(f"{what} {path} is a directory: give the path of a file.")
    if not path.exists():
        raise RecsysError(f"{what} file not found: {path}")
    if not os.access(path, os.R_OK):
        raise RecsysError(f"{what} {path} cannot be read (no read permission): check its mode.")


def _as_of(value: str | None) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError):
        raise RecsysError(
            f"--as-of {value!r} is not a date: use YYYY-MM-DD, e.g. --as-of 2026-06-30."
        ) from None


@contextlib.contextmanager
def _atomic_output(target: Path) -> Iterator[Path]:
    """A temporary name in the target's directory, renamed onto ``target`` on success only.

    On any failure, KeyboardInterrupt included, the temporary file is removed, so a failed or
    interrupted export leaves neither a truncated file nor a ``.partial`` one behind.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _print_frame(frame: pd.DataFrame, fmt: str, out: TextIO) -> None:
    if fmt == "csv":  # the product's one CSV writer: formula-like cells are neutralised
        from recsys.campaigns.export import write_csv_chunks

        write_csv_chunks([frame], out, list(frame.columns))
    elif fmt == "json":
        out.write(frame.to_json(orient="records", date_format="iso", indent=2) + "\n")
    else:
        out.write(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}") + "\n")


def cmd_sample(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.data.sample import write_sample

    paths = write_sample(
        args.out,
        n_customers=args.customers,
        n_products=args.products,
        n_purchases=args.purchases,
        purchases_per_customer=args.purchases_per_customer,
        seed=args.seed,
    )
    for name, path in paths.items():
        out.write(f"wrote {name}: {path}\n")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    data = _load_data(args)
    summary = data.summary()
    out.write("OK: the files are valid.\n")
    for key, value in summary.items():
        out.write(f"  {key}: {value}\n")
    for problem in data.report.warnings:
        out.write(f"WARNING: {problem}\n")
    return EXIT_OK


def cmd_train(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.pipeline import RecommenderPipeline
    from recsys.store import save_pipeline

    params = params_from_args(args)
    data = _load_data(args)
    for problem in data.report.warnings:
        err.write(f"warning: {problem}\n")
    pipeline = RecommenderPipeline(params).fit(data, progress=Progress(err, "train"))
    metadata = save_pipeline(pipeline, args.out)
    out.write(
        f"trained {params.label()} on {metadata['n_customers']:,} customers x "
        f"{metadata['n_products']:,} products in {metadata['fit_seconds']:.2f}s; "
        f"saved {args.out} ({metadata['size_bytes']:,} bytes)\n"
    )
    return EXIT_OK


def _load_model(path: Path) -> Any:
    from recsys.store import load_pipeline

    check_input("model file", path)
    return load_pipeline(path)


def cmd_recommend(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    pipeline = _load_model(args.model_file)
    if args.with_offers:
        frame = pipeline.rewards_for(args.customer, args.n)
    else:
        frame = pipeline.recommend(args.customer, args.n, fallback=False)
    if frame.empty:
        err.write(_why_no_recommendations(pipeline, args.customer) + "\n")
    _print_frame(frame, args.format, out)
    return EXIT_OK


def _why_no_recommendations(pipeline: Any, customer: str) -> str:
    """Why a customer gets an empty list: usually they already bought every product."""
    try:
        row = pipeline.customers_.index_of(customer)
        bought, n_products = pipeline.purchased_[row].nnz, pipeline.purchased_.shape[1]
    except Exception:  # an id the model does not know was reported before this point
        bought, n_products = -1, 0
    if bought >= n_products or bought < 0:
        return (
            f"note: no recommendations for {customer}: they already bought every product the "
            "model knows (purchased products are excluded). Train with --include-purchased to "
            "rank them anyway."
        )
    return (
        f"note: no recommendations for {customer}: their neighbours bought nothing they have "
        "not bought already. Try a larger --k or a lower --min-similarity."
    )


def cmd_similar(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    pipeline = _load_model(args.model_file)
    _print_frame(pipeline.similar_customers(args.customer, args.n), args.format, out)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.campaigns import cluster_export as cluster
    from recsys.campaigns.export import write_export

    as_of = _as_of(args.as_of)
    address = cluster.scheduler_address(args.scheduler)
    block_size = cluster.BLOCK_SIZE if args.block_size is None else args.block_size
    cluster.block_bounds(0, block_size)  # a bad --block-size fails before any work
    progress = Progress(err, "export")
    staged = _atomic_output if args.format == "csv" else cluster.staged_folder
    if address is None:
        pipeline = _load_model(args.model_file)
        with staged(args.out) as tmp:
            if args.format == "csv":
                rows = write_export(pipeline, tmp, args.n, as_of=as_of, progress=progress)
            else:
                rows = cluster.write_parquet_export(
                    pipeline, tmp, args.n, as_of=as_of, block_size=block_size, progress=progress
                )
        out.write(f"wrote {rows:,} rows to {args.out}\n")
        return EXIT_OK
    check_input("model file", args.model_file)
    with cluster.connect(address) as client:  # an unreachable scheduler fails before the load
        pipeline = _load_model(args.model_file)
        threads = client.nthreads()
        err.write(
            f"export: on the Dask cluster at {address}: {len(threads)} workers, "
            f"{sum(threads.values())} threads, blocks of {block_size:,} customers\n"
        )
        with staged(args.out) as tmp:
            run = cluster.export_on_cluster(
                client,
                pipeline,
                tmp,
                args.n,
                fmt=args.format,
                as_of=as_of,
                block_size=block_size,
                progress=progress,
            )
    out.write(
        f"wrote {run.rows:,} rows to {args.out} ({run.blocks:,} blocks on {len(threads)} "
        f"workers in {run.seconds:.1f}s)\n"
    )
    return EXIT_OK


def cmd_reward_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.evaluation.tradeoff import reward_boost_tradeoff

    if args.rewards is None:
        raise RecsysError("--reward-boost-sweep needs the offers: add --rewards FILE.")
    table = reward_boost_tradeoff(
        _load_data(args),
        params_from_args(args),
        n=args.n,
        test_fraction=args.test_fraction,
        min_products=args.min_products,
        seed=args.seed,
        progress=Progress(err, "reward sweep"),
    )
    if args.format == "json":
        out.write(table.to_json(orient="records", indent=2) + "\n")
    else:
        _print_frame(table, "table", out)
    return EXIT_OK


def cmd_audience(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _write_campaign(args, out, err, offer=args.offer, n=1)


def cmd_campaign(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _write_campaign(args, out, err, offer=args.offer, n=args.n)


def _write_campaign(
    args: argparse.Namespace, out: TextIO, err: TextIO, *, offer: str | None, n: int
) -> int:
    from recsys.campaigns.audience import offer_audience
    from recsys.campaigns.campaign_export import write_campaign

    as_of = _as_of(args.as_of)
    pipeline = _load_model(args.model_file)
    options: dict[str, Any] = {"as_of": as_of, "progress": Progress(err, "campaign")}
    if offer is not None:
        exclude = getattr(args, "exclude_days", 30)
        options.update(
            offer_id=offer,
            top=args.top,
            exclude_recent_days=None if getattr(args, "include_recent", False) else exclude,
            aggregate=getattr(args, "aggregate", "max"),
        )
        # Sizes and cost describe the whole audience; checks the offer id before any writing.
        audience = offer_audience(
            pipeline,
            offer,
            top=args.top,
            as_of=as_of,
            exclude_recent_days=options["exclude_recent_days"],
            aggregate=options["aggregate"],
            progress=options["progress"],
        )
        options["audience"] = audience
        if audience.status != "active":
            err.write(
                f"warning: offer {offer} is {audience.status} on {audience.as_of.date()}, so "
                f"nobody can earn it then and the export has no customers. To size it for its "
                f"own window, give --as-of {_date_in_window(pipeline, offer)}.\n"
            )
        out.write(f"audience of offer {offer} (left out: {audience.excluded})\n")
        _print_frame(audience.sizes, "table", out)
    else:
        options["segment"] = getattr(args, "segment", None)
    fmt = "parquet" if args.out.suffix.lower() in (".parquet", ".pq") else "csv"
    with _atomic_output(args.out) as tmp:
        rows = write_campaign(pipeline, tmp, n, fmt=fmt, **options)
    out.write(f"wrote {rows:,} rows to {args.out}\n")
    return EXIT_OK


def _date_in_window(pipeline: Any, offer: str) -> str:
    """A date inside the offer's validity window (its start, else its end), as YYYY-MM-DD."""
    rewards = getattr(pipeline, "rewards_", None)
    row = None if rewards is None else rewards[rewards[S.OFFER_ID].astype(str) == str(offer)]
    for column in (S.START_DATE, S.END_DATE):
        if row is not None and len(row) and column in row and pd.notna(row[column].iloc[0]):
            return pd.Timestamp(row[column].iloc[0]).strftime("%Y-%m-%d")
    return "<a date inside the offer's window>"


def cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.evaluation import runner

    if getattr(args, "reward_boost_sweep", False):
        return cmd_reward_sweep(args, out, err)
    args.rewards = args.products = args.redemptions = None
    data = _load_data(args)
    segments = data.segments()
    split = dict(
        test_fraction=args.test_fraction,
        min_products=args.min_products,
        seed=args.seed,
        max_customers=args.max_customers,
        max_train_customers=args.max_train_customers,
    )
    progress = Progress(err, "evaluate")
    if args.tune:
        swept = runner.sweep(
            data.purchases, customers=segments, n=args.n, progress=progress, **split
        )
        tested = swept.test
        report = {
            "tuned": True,
            "best": {kind: params.to_dict() for kind, params in swept.best.items()},
            "decisions": swept.to_dict()["decisions"],
            "seconds": round(swept.seconds, 2),
            "validation_split": swept.validation.split,
        }
    else:
        configs = [params_from_args(args), ModelParams(model="popularity")]
        if segments is not None:
            configs.append(ModelParams(model="popularity_segment"))
        tested = runner.evaluate(
            data.purchases, configs, customers=segments, ns=[args.n], progress=progress, **split
        )
        report = {"tuned": False}
    table = tested.table(args.n)
    if args.format == "json":
        _write_evaluation_json(tested, table, report, args.n, out)
        return EXIT_OK
    _write_evaluation_table(tested, table, args.n, out)
    if args.tune:
        for kind, params in swept.best.items():
            out.write(f"tuned {kind}: {params.label()}\n")
        for sentence in swept.sentences():
            out.write(f"{sentence}\n")
    return EXIT_OK


INTERVAL_NOTE = "95 % bootstrap intervals over customers (500 resamples, seed 0)"


def _interval_lookup(tested: EvaluationResult, n: int) -> dict[Any, dict[str, list[float]]]:
    """params -> metric -> [low, high] of every configuration whose lists were kept."""
    found: dict[Any, dict[str, list[float]]] = {}
    for _, row in tested.intervals(n).iterrows():
        found.setdefault(row["params"], {})[row["metric"]] = [
            _json_number(row["low"]),
            _json_number(row["high"]),
        ]
    return found


def _write_evaluation_json(
    tested: EvaluationResult, table: pd.DataFrame, report: dict[str, Any], n: int, out: TextIO
) -> None:
    metrics = [c for c in table.columns if c not in ("params", "model")]
    intervals = _interval_lookup(tested, n)
    models = [
        {
            "model": row["model"],
            "label": row["params"].label(),
            "params": row["params"].to_dict(),
            "metrics": {m: _json_number(row[m]) for m in metrics},
            "intervals": intervals.get(row["params"], {}),
        }
        for _, row in table.iterrows()
    ]
    comparisons = [
        {"a": d.a, "b": d.b, "metric": d.metric, "difference": d.mean, "low": d.low,
         "high": d.high, "distinguishable": d.distinguishable, "sentence": d.sentence()}
        for d in tested.against_best(n)
    ]  # fmt: skip
    skipped = {params.label(): reason for params, reason in tested.skipped.items()}
    payload = {
        "n": n,
        "split": tested.split,
        "models": models,
        "intervals_note": INTERVAL_NOTE,
        "comparisons": comparisons,
        "skipped": skipped,
        **report,
    }
    out.write(json.dumps(payload, indent=2, default=str) + "\n")


def _write_evaluation_table(
    tested: EvaluationResult, table: pd.DataFrame, n: int, out: TextIO
) -> None:
    split = tested.split
    sampled = split["customers_evaluated"] < split["customers_eligible"]
    sample = (
        f" (a seeded sample of the {split['customers_eligible']:,} with held-out products; "
        "--max-customers)"
        if sampled
        else ""
    )
    total = split.get("customers_total", split["customers"])
    trained = (
        f", trained on a seeded sample of {split['customers']:,} of the {total:,} customers "
        "(--max-train-customers)"
        if split["customers"] < total
        else ""
    )
    out.write(
        f"split: {split['method']} holdout, {split['customers_evaluated']:,} customers "
        f"evaluated{sample}{trained}, {split['train_rows']:,} train rows, "
        f"{split['test_pairs']:,} test pairs\n"
    )
    shown = table.assign(model=[p.label() for p in table["params"]]).drop(columns=["params"])
    shown["n_customers"] = shown["n_customers"].astype("Int64")
    _print_frame(shown.sort_values(f"ndcg@{n}", ascending=False), "table", out)
    intervals = tested.intervals(n)
    if not intervals.empty:
        out.write(f"\n{INTERVAL_NOTE}:\n")
        keep = intervals[intervals["metric"].isin([f"ndcg@{n}", f"recall@{n}", "coverage"])]
        for params, group in keep.groupby("params", sort=False):
            cells = "  ".join(
                f"{m} {v:.4f} [{lo:.4f}, {hi:.4f}]"
                for m, v, lo, hi in group[["metric", "value", "low", "high"]].itertuples(
                    index=False
                )
            )
            out.write(f"  {params.label()}: {cells}\n")
        for difference in tested.against_best(n):
            out.write(f"  {difference.sentence()}\n")
    for params, reason in tested.skipped.items():
        out.write(f"skipped {params.label()}: {reason}\n")


def _json_number(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {
    "sample": cmd_sample,
    "validate": cmd_validate,
    "train": cmd_train,
    "recommend": cmd_recommend,
    "similar": cmd_similar,
    "export": cmd_export,
    "evaluate": cmd_evaluate,
    "audience": cmd_audience,
    "campaign": cmd_campaign,
    **campaign_cli.COMMANDS,
}
