"""Command line: ``python -m recsys <command>``. The only place in the core that prints.

Exit codes: 0 success, 2 bad input or unknown customer (message on stderr, no traceback),
1 unexpected error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from recsys.campaigns import cli as campaign_cli
from recsys.data import schema as S
from recsys.data.schema import TABLES
from recsys.errors import RecsysError
from recsys.params import METRICS, MODEL_KINDS, VALUES, WEIGHTINGS, ModelParams

if TYPE_CHECKING:
    from recsys.evaluation.results import EvaluationResult

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT = 0, 1, 2
DATA_FILES = tuple(TABLES)  # purchases first: the only required table


class _Progress:
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


def _add_data_args(parser: argparse.ArgumentParser, *, purchases_required: bool = True) -> None:
    parser.add_argument(
        "--purchases",
        required=purchases_required,
        type=Path,
        help="purchases CSV or Parquet (required)",
    )
    for name in DATA_FILES[1:]:
        parser.add_argument(f"--{name}", type=Path, help=f"{name} CSV or Parquet (optional)")


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    defaults = ModelParams()
    parser.add_argument(
        "--model", choices=MODEL_KINDS, default=defaults.model, help="model kind (default user_knn)"
    )
    parser.add_argument("--k", type=int, default=defaults.n_neighbors, help="neighbours (k)")
    parser.add_argument("--metric", choices=METRICS, default=defaults.metric)
    parser.add_argument("--weighting", choices=WEIGHTINGS, default=defaults.weighting)
    parser.add_argument("--value", choices=VALUES, default=defaults.value)
    parser.add_argument("--min-similarity", type=float, default=defaults.min_similarity)
    parser.add_argument(
        "--similarity-power",
        type=float,
        default=defaults.similarity_power,
        help="weight neighbours by similarity ** power (user_knn)",
    )
    parser.add_argument("--l2", type=float, default=defaults.l2, help="EASE regularisation")
    parser.add_argument(
        "--include-purchased",
        action="store_true",
        help="also recommend products the customer already bought",
    )
    parser.add_argument(
        "--reward-boost",
        type=float,
        default=defaults.reward_boost,
        help="0 = pure relevance; up to 1 = re-rank with the value of eligible offers",
    )


class _ModelIsAKind(argparse.Action):
    """``--model`` names a model kind; on commands that load a saved model, say what to use."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        parser.error("--model is a model kind; give the saved model with --model-file PATH")


def _add_model_file_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model-file", type=Path, required=True, help="MODEL.joblib written by train"
    )
    parser.add_argument("--model", action=_ModelIsAKind, help=argparse.SUPPRESS)


def _params(args: argparse.Namespace) -> ModelParams:
    return ModelParams(
        model=args.model,
        n_neighbors=args.k,
        metric=args.metric,
        weighting=args.weighting,
        value=args.value,
        min_similarity=args.min_similarity,
        similarity_power=args.similarity_power,
        l2=args.l2,
        exclude_purchased=not args.include_purchased,
        reward_boost=getattr(args, "reward_boost", 0.0),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m recsys",
        description="Reward-aware recommendations: user-based collaborative filtering.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="write the seeded sample data set")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--products", type=int, default=150)
    p.add_argument(
        "--purchases", type=int, help="purchase lines (default: customers x per-customer)"
    )
    p.add_argument(
        "--purchases-per-customer",
        type=float,
        default=30.0,
        help="average purchase lines per customer when --purchases is not given (default 30)",
    )
    p.add_argument("--seed", type=int, default=42)

    p = sub.add_parser("validate", help="check input files and print the validation report")
    _add_data_args(p)

    p = sub.add_parser("train", help="train a model and save it")
    _add_data_args(p)
    _add_model_args(p)
    p.add_argument("--out", type=Path, required=True, help="MODEL.joblib to write")

    for name, what in (("recommend", "recommended products"), ("similar", "similar customers")):
        p = sub.add_parser(name, help=f"{what} for one customer")
        _add_model_file_arg(p)
        p.add_argument("--customer", required=True)
        p.add_argument("--n", type=int, default=10)
        p.add_argument("--format", choices=("table", "csv", "json"), default="table")
        if name == "recommend":
            p.add_argument(
                "--with-offers",
                action="store_true",
                help="add the best eligible reward offer of each product",
            )

    p = sub.add_parser("evaluate", help="offline evaluation against baselines (temporal holdout)")
    p.add_argument("--purchases", required=True, type=Path)
    p.add_argument("--customers", type=Path, help="customers with a segment (per-segment results)")
    _add_model_args(p)
    p.add_argument("--n", type=int, default=10, help="recommendations per customer (N)")
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--min-products", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--tune",
        action="store_true",
        help="tune every model on a validation split, then report the test split",
    )
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--reward-boost-sweep",
        action="store_true",
        help="NDCG@N and offer coverage for reward_boost 0, 0.1, ..., 1 (needs --rewards)",
    )
    for name in ("rewards", "products", "redemptions"):
        p.add_argument(f"--{name}", type=Path, help=f"{name} file (for --reward-boost-sweep)")

    p = sub.add_parser("export", help="recommendations with best offers for every customer")
    _add_model_file_arg(p)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--as-of", help="date for offer validity (default: latest purchase date)")

    p = sub.add_parser("audience", help="customers to target with one offer, best first")
    _add_model_file_arg(p)
    p.add_argument("--offer", required=True, help="offer_id from the rewards file")
    p.add_argument("--top", type=int, default=1000, help="keep the best TOP customers")
    p.add_argument("--as-of", help="date for validity and the recent-buyer window")
    p.add_argument(
        "--exclude-days",
        type=int,
        default=30,
        help="leave out customers who bought the product in the last DAYS days (default 30)",
    )
    p.add_argument("--include-recent", action="store_true", help="keep recent buyers")
    p.add_argument("--aggregate", choices=("max", "sum"), default="max", help="category offers")
    p.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.parquet")

    p = sub.add_parser("campaign", help="campaign export: everyone, a segment or an audience")
    _add_model_file_arg(p)
    p.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.parquet")
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--segment", help="only customers of this segment")
    p.add_argument("--offer", help="the audience of this offer instead of everyone")
    p.add_argument("--top", type=int, help="audience size cap (with --offer)")
    p.add_argument("--as-of", help="date for offer validity (default: latest purchase date)")
    campaign_cli.add_parsers(sub)  # plan, readout, simulate-response
    return parser


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


def _cmd_sample(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
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


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    data = _load_data(args)
    summary = data.summary()
    out.write("OK: the files are valid.\n")
    for key, value in summary.items():
        out.write(f"  {key}: {value}\n")
    for problem in data.report.warnings:
        out.write(f"WARNING: {problem}\n")
    return EXIT_OK


def _cmd_train(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.pipeline import RecommenderPipeline
    from recsys.store import save_pipeline

    params = _params(args)
    data = _load_data(args)
    for problem in data.report.warnings:
        err.write(f"warning: {problem}\n")
    pipeline = RecommenderPipeline(params).fit(data, progress=_Progress(err, "train"))
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


def _cmd_recommend(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
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


def _cmd_similar(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    pipeline = _load_model(args.model_file)
    _print_frame(pipeline.similar_customers(args.customer, args.n), args.format, out)
    return EXIT_OK


def _cmd_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.campaigns.export import write_export

    as_of = _as_of(args.as_of)
    pipeline = _load_model(args.model_file)
    with _atomic_output(args.out) as tmp:
        rows = write_export(pipeline, tmp, args.n, as_of=as_of, progress=_Progress(err, "export"))
    out.write(f"wrote {rows:,} rows to {args.out}\n")
    return EXIT_OK


def _cmd_reward_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.evaluation.tradeoff import reward_boost_tradeoff

    if args.rewards is None:
        raise RecsysError("--reward-boost-sweep needs the offers: add --rewards FILE.")
    table = reward_boost_tradeoff(
        _load_data(args),
        _params(args),
        n=args.n,
        test_fraction=args.test_fraction,
        min_products=args.min_products,
        seed=args.seed,
        progress=_Progress(err, "reward sweep"),
    )
    if args.format == "json":
        out.write(table.to_json(orient="records", indent=2) + "\n")
    else:
        _print_frame(table, "table", out)
    return EXIT_OK


def _cmd_audience(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _write_campaign(args, out, err, offer=args.offer, n=1)


def _cmd_campaign(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _write_campaign(args, out, err, offer=args.offer, n=args.n)


def _write_campaign(
    args: argparse.Namespace, out: TextIO, err: TextIO, *, offer: str | None, n: int
) -> int:
    from recsys.campaigns.audience import offer_audience
    from recsys.campaigns.campaign_export import write_campaign

    as_of = _as_of(args.as_of)
    pipeline = _load_model(args.model_file)
    options: dict[str, Any] = {"as_of": as_of, "progress": _Progress(err, "campaign")}
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


def _cmd_evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.evaluation import runner

    if getattr(args, "reward_boost_sweep", False):
        return _cmd_reward_sweep(args, out, err)
    args.rewards = args.products = args.redemptions = None
    data = _load_data(args)
    segments = data.segments()
    split = dict(test_fraction=args.test_fraction, min_products=args.min_products, seed=args.seed)
    progress = _Progress(err, "evaluate")
    if args.tune:
        swept = runner.sweep(
            data.purchases, customers=segments, n=args.n, progress=progress, **split
        )
        tested = swept.test
        report = {
            "tuned": True,
            "best": {kind: params.to_dict() for kind, params in swept.best.items()},
            "seconds": round(swept.seconds, 2),
            "validation_split": swept.validation.split,
        }
    else:
        configs = [_params(args), ModelParams(model="popularity")]
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
    return EXIT_OK


def _write_evaluation_json(
    tested: EvaluationResult, table: pd.DataFrame, report: dict[str, Any], n: int, out: TextIO
) -> None:
    metrics = [c for c in table.columns if c not in ("params", "model")]
    models = [
        {
            "model": row["model"],
            "label": row["params"].label(),
            "params": row["params"].to_dict(),
            "metrics": {m: _json_number(row[m]) for m in metrics},
        }
        for _, row in table.iterrows()
    ]
    skipped = {params.label(): reason for params, reason in tested.skipped.items()}
    payload = {"n": n, "split": tested.split, "models": models, "skipped": skipped, **report}
    out.write(json.dumps(payload, indent=2, default=str) + "\n")


def _write_evaluation_table(
    tested: EvaluationResult, table: pd.DataFrame, n: int, out: TextIO
) -> None:
    split = tested.split
    out.write(
        f"split: {split['method']} holdout, {split['customers_evaluated']:,} customers "
        f"evaluated, {split['train_rows']:,} train rows, {split['test_pairs']:,} test "
        f"pairs\n"
    )
    shown = table.assign(model=[p.label() for p in table["params"]]).drop(columns=["params"])
    shown["n_customers"] = shown["n_customers"].astype("Int64")
    _print_frame(shown.sort_values(f"ndcg@{n}", ascending=False), "table", out)
    for params, reason in tested.skipped.items():
        out.write(f"skipped {params.label()}: {reason}\n")


def _json_number(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {
    "sample": _cmd_sample,
    "validate": _cmd_validate,
    "train": _cmd_train,
    "recommend": _cmd_recommend,
    "similar": _cmd_similar,
    "export": _cmd_export,
    "evaluate": _cmd_evaluate,
    "audience": _cmd_audience,
    "campaign": _cmd_campaign,
    **campaign_cli.COMMANDS,
}


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run one command; returns the exit code instead of exiting (testable)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage and the problem
        return EXIT_OK if exc.code == 0 else EXIT_BAD_INPUT
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=err,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = COMMANDS[args.command](args, out, err)
        for warning in caught:
            err.write(f"warning: {warning.message}\n")
        return code
    except RecsysError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        err.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return EXIT_UNEXPECTED
    except Exception as exc:
        if os.environ.get("RECSYS_DEBUG"):
            raise
        err.write(
            f"unexpected error ({type(exc).__name__}): {exc}. "
            "Set RECSYS_DEBUG=1 to see the details.\n"
        )
        return EXIT_UNEXPECTED
