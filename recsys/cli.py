"""Command line: ``python -m recsys <command>``: the parser and the entry point.

The command handlers are in :mod:`recsys.commands`; this and they are the only places in the
core that print.

Exit codes: 0 success, 2 bad input or unknown customer (message on stderr, no traceback),
1 unexpected error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from recsys.campaigns import cli as campaign_cli
from recsys.commands import COMMANDS, DATA_FILES, EXIT_BAD_INPUT, EXIT_OK, EXIT_UNEXPECTED
from recsys.errors import RecsysError
from recsys.evaluation.runner import DEFAULT_SAMPLE, DEFAULT_TRAIN_SAMPLE
from recsys.params import METRICS, MODEL_KINDS, VALUES, WEIGHTINGS, ModelParams


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
    parser.add_argument(
        "--k",
        type=int,
        default=defaults.n_neighbors,
        help=f"neighbours (k) (default {defaults.n_neighbors})",
    )
    parser.add_argument(
        "--metric",
        choices=METRICS,
        default=defaults.metric,
        help=f"user_knn similarity (default {defaults.metric})",
    )
    parser.add_argument(
        "--weighting",
        choices=WEIGHTINGS,
        default=defaults.weighting,
        help=f"matrix weighting (default {defaults.weighting})",
    )
    parser.add_argument(
        "--value",
        choices=VALUES,
        default=defaults.value,
        help=f"what a cell holds before weighting (default {defaults.value})",
    )
    parser.add_argument(
        "--min-similarity",
        type=float,
        default=defaults.min_similarity,
        help=f"user_knn: ignore less similar neighbours (default {defaults.min_similarity:g})",
    )
    parser.add_argument(
        "--similarity-power",
        type=float,
        default=defaults.similarity_power,
        help="user_knn: weight neighbours by similarity ** power "
        f"(default {defaults.similarity_power:g})",
    )
    # Cosine-only settings default to None so that a value given with another metric can be
    # reported as ignored (ModelParams keeps them neutral for euclidean and manhattan).
    parser.add_argument(
        "--shrink",
        type=float,
        default=None,
        help="user_knn, cosine only: similarity x n_common / (n_common + shrink), so that "
        f"neighbours sharing few products count less; 0 = none (default {defaults.shrink:g})",
    )
    parser.add_argument(
        "--asymmetry",
        type=float,
        default=None,
        help="user_knn, cosine only: asymmetric cosine u.v / (|u|^2a |v|^2(1-a)), a in [0, 1]; "
        f"0.5 = plain cosine (default {defaults.asymmetry:g})",
    )
    parser.add_argument(
        "--popularity-penalty",
        type=float,
        default=defaults.popularity_penalty,
        help="user_knn: a product's score / its buyers ** penalty, in [0, 2]; 0 = none "
        f"(default {defaults.popularity_penalty:g})",
    )
    parser.add_argument(
        "--half-life-days",
        type=float,
        default=defaults.half_life_days,
        help="time decay: each weight x 0.5 ** (days since the customer last bought the product "
        "/ half-life), counted back from the latest purchase date; needs purchase dates; 0 = "
        f"off (default {defaults.half_life_days:g})",
    )
    parser.add_argument("--l2", type=float, default=defaults.l2, help="EASE regularisation")
    parser.add_argument(
        "--alpha",
        type=float,
        default=defaults.alpha,
        help="RP3beta: exponent of the walk's transition probabilities",
    )
    parser.add_argument(
        "--beta",
        type=float,
        default=defaults.beta,
        help="RP3beta: popularity penalty (similarity / buyers ** beta)",
    )
    parser.add_argument("--factors", type=int, default=defaults.factors, help="ALS factors")
    parser.add_argument(
        "--regularization", type=float, default=defaults.regularization, help="ALS regularisation"
    )
    parser.add_argument(
        "--iterations", type=int, default=defaults.iterations, help="ALS iterations"
    )
    parser.add_argument(
        "--confidence",
        type=float,
        default=defaults.confidence,
        help="ALS weight of an observed purchase (implicit's alpha)",
    )
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


def _max_customers(text: str) -> int | None:
    """``--max-customers``: a whole number >= 1, or ``all`` (None: every customer)."""
    if text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of customers: give a whole number >= 1, or 'all'"
        )
    return value


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
        "--max-customers",
        type=_max_customers,
        default=DEFAULT_SAMPLE,
        metavar="N|all",
        help="score a seeded sample of at most N of the customers with held-out products, the "
        f"same for every model, as the dashboard's Evaluation page does (default {DEFAULT_SAMPLE:,}"
        "; 'all' scores everyone)",
    )
    p.add_argument(
        "--max-train-customers",
        type=_max_customers,
        default=DEFAULT_TRAIN_SAMPLE,
        metavar="N|all",
        help="split and train on the purchases of a seeded sample of at most N customers, as the "
        f"Evaluation page does (default {DEFAULT_TRAIN_SAMPLE:,}; 'all' uses everyone)",
    )
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
    p.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="csv: one file; parquet: --out is a dataset folder, one part per block",
    )
    p.add_argument(
        "--scheduler",
        help="run the blocks as tasks on this Dask scheduler, e.g. tcp://HOST:8786 (default: "
        "$RECSYS_DASK_SCHEDULER; neither = this machine)",
    )
    p.add_argument(
        "--block-size",
        type=int,
        default=None,
        help="customers per block (one task each on a cluster; default 16384)",
    )

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
