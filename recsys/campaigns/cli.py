"""Campaign subcommands of ``python -m recsys``: ``plan``, ``readout``, ``simulate-response``.

Registered by :mod:`recsys.cli` (:func:`add_parsers`, :data:`COMMANDS`); the same exit codes:
0 success, 2 bad input with a plain message (raised as ``RecsysError``, printed by the CLI).
A plan is a file (``.parquet`` / ``.csv`` written by ``plan --out``) or the name of a plan
saved with ``--save-name`` in the plan store (``RECSYS_PLAN_DIR``, default ``./workspace/plans``).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from recsys.data import schema as S
from recsys.errors import CampaignError

__all__ = ["COMMANDS", "add_parsers", "plan_dir"]

EXIT_OK = 0


def plan_dir() -> Path:
    """Where named plans are saved."""
    return Path(os.environ.get("RECSYS_PLAN_DIR", "workspace/plans"))


def add_parsers(sub: Any) -> None:
    """Add the campaign subcommands to the CLI's subparsers."""
    p = sub.add_parser("plan", help="plan a campaign: allocation under budgets, control group")
    p.add_argument("--model-file", type=Path, required=True, help="MODEL.joblib written by train")
    p.add_argument("--offers", required=True, help="comma-separated offer ids, e.g. O1,O2")
    p.add_argument("--budget-per-offer", type=float, help="expected reward cost per offer")
    p.add_argument("--max-recipients", type=int, help="most customers per offer")
    p.add_argument("--global-budget", type=float, help="expected reward cost of the whole plan")
    p.add_argument("--contact-cap", type=int, default=1, help="most offers per customer")
    p.add_argument("--suppress", type=Path, help="CSV of customer_id never to contact")
    p.add_argument("--objective", choices=("conversions", "spend"), default="conversions")
    p.add_argument("--control-share", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n", type=int, default=10, help="recommendations searched per customer")
    p.add_argument(
        "--calibrate-on",
        type=Path,
        help="purchases file to calibrate the propensity on (a temporal holdout); without it "
        "the uncalibrated 0.1/rank placeholder is used",
    )
    p.add_argument("--out", type=Path, required=True, help="PLAN.csv or PLAN.parquet")
    p.add_argument("--save-name", help="also save the plan under this name")

    p = sub.add_parser("readout", help="treatment vs control lift of a campaign")
    p.add_argument("--plan", required=True, help="PLAN.parquet/.csv or a saved plan's name")
    p.add_argument("--purchases", type=Path, required=True, help="post-campaign purchases")
    p.add_argument("--format", choices=("table", "json"), default="table")

    p = sub.add_parser("simulate-response", help="post-campaign purchases with a known uplift")
    p.add_argument("--plan", required=True, help="PLAN.parquet/.csv or a saved plan's name")
    p.add_argument("--history", type=Path, required=True, help="purchase history (base rates)")
    p.add_argument(
        "--products", type=Path, help="product catalogue (categories, for category offers)"
    )
    p.add_argument("--uplift", type=float, default=0.05, help="added conversion probability")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="purchases CSV to write")


def _offers(text: str) -> list[str]:
    offers = [o.strip() for o in text.split(",") if o.strip()]
    if not offers:
        raise CampaignError("--offers: give at least one offer id, e.g. --offers O1,O2.")
    return offers


def _cmd_plan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.campaigns.allocation import CampaignConstraints
    from recsys.campaigns.plan_store import save_plan
    from recsys.campaigns.planner import plan_campaign, read_suppression, write_plan
    from recsys.store import load_pipeline

    offers = _offers(args.offers)
    pipe = load_pipeline(args.model_file)
    known = set(pipe.rewards_[S.OFFER_ID].astype(str)) if pipe.rewards_ is not None else set()
    unknown = sorted(set(offers) - known)
    if unknown:
        raise CampaignError(
            f"--offers: unknown offer(s) {unknown}; the model's offers are {sorted(known)[:20]}."
        )
    suppression = read_suppression(args.suppress, str(args.suppress)) if args.suppress else ()
    constraints = CampaignConstraints(
        offer_budgets={o: args.budget_per_offer for o in offers}
        if args.budget_per_offer is not None
        else None,
        offer_max_recipients={o: args.max_recipients for o in offers}
        if args.max_recipients is not None
        else None,
        global_budget=args.global_budget,
        contact_cap=args.contact_cap,
        suppression=suppression,
        objective=args.objective,
        seed=args.seed,
    )
    calibrator = None
    if args.calibrate_on is not None:
        from recsys.campaigns.propensity import fit_propensity
        from recsys.data.dataset import load_dataset

        data = load_dataset(args.calibrate_on)
        calibrator = fit_propensity(data, pipe.params, n=args.n).calibrator
    else:
        err.write("note: propensity uncalibrated (0.1/rank); pass --calibrate-on PURCHASES.\n")
    plan = plan_campaign(
        pipe, offers, constraints, control_share=args.control_share, calibrator=calibrator,
        n=args.n,
    )  # fmt: skip
    rows = write_plan(plan, args.out)
    if args.save_name:
        save_plan(plan, plan_dir(), args.save_name)
    groups = plan.allocation[S.GROUP].value_counts()
    gap = "n/a" if plan.gap is None else f"{100 * plan.gap:.2f} %"
    out.write(
        f"plan: {rows:,} contacts to {plan.allocation[S.CUSTOMER_ID].nunique():,} customers "
        f"({groups.get(S.GROUP_TREATMENT, 0):,} treatment, {groups.get(S.GROUP_CONTROL, 0):,} "
        f"control rows); expected conversions {plan.expected_conversions:.1f}, expected cost "
        f"{plan.expected_cost:,.2f} (currency); solver {plan.solver}, gap {gap}; "
        f"written to {args.out}\n"
    )
    return EXIT_OK


def _read_plan(ref: str) -> pd.DataFrame:
    from recsys.campaigns.plan_store import load_plan

    path = Path(ref)
    if path.suffix.lower() == ".parquet" and path.is_file():
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv" and path.is_file():
        return pd.read_csv(path, dtype={S.CUSTOMER_ID: str, S.OFFER_ID: str, S.PRODUCT_ID: str})
    if path.suffix.lower() in (".csv", ".parquet"):
        raise CampaignError(f"--plan {ref}: no such file.")
    return load_plan(plan_dir(), ref).allocation


def _cmd_readout(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.campaigns.readout import campaign_readout
    from recsys.data.dataset import load_dataset

    rows = _read_plan(args.plan)
    purchases = load_dataset(args.purchases).purchases
    table = campaign_readout(rows, purchases)
    if args.format == "json":
        out.write(table.to_json(orient="records", indent=2) + "\n")
        return EXIT_OK
    shown = table.drop(columns=[S.MESSAGE])
    out.write(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}") + "\n")
    out.write("converted: share of customers; spend: currency per customer.\n")
    for message in table[S.MESSAGE]:
        out.write(message + "\n")
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from recsys.campaigns.export import write_csv_chunks
    from recsys.campaigns.simulate import simulate_response
    from recsys.data.dataset import load_dataset

    rows = _read_plan(args.plan)
    data = load_dataset(args.history, products=args.products)
    lines = simulate_response(
        rows, data.purchases, args.uplift, seed=args.seed, catalogue=data.catalogue()
    )
    n = write_csv_chunks([lines], args.out, list(lines.columns))
    out.write(json.dumps({"purchases": n, "uplift": args.uplift, "out": str(args.out)}) + "\n")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {
    "plan": _cmd_plan,
    "readout": _cmd_readout,
    "simulate-response": _cmd_simulate,
}
