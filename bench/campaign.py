"""Campaign allocation benchmark: the Lagrangian heuristic at 100k and 1M customers x 20 offers.

Synthetic candidate tables (seeded): every customer is a candidate for every offer, propensity
Beta(1, 12), reward 2-20 in currency; ten offers have a budget of a fifth of their demand, the
plan a global budget of a tenth of all demand, and each customer gets at most two offers. The
gap is printed against the Lagrangian upper bound at scale, and against milp on small samples.

Run: ``python bench/campaign.py`` (``--sizes 100000`` for a quick run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys.campaigns.allocation import CampaignConstraints, allocate
from recsys.data import schema as S

N_OFFERS = 20


def problem(n_customers: int, seed: int = 0) -> tuple[pd.DataFrame, CampaignConstraints]:
    rng = np.random.default_rng(seed)
    cust = np.repeat(np.arange(n_customers), N_OFFERS)
    offer = np.tile(np.arange(N_OFFERS), n_customers)
    p = rng.beta(1, 12, cust.size)
    reward = rng.choice([2.0, 5.0, 10.0, 20.0], N_OFFERS)[offer] * rng.uniform(0.5, 1.5, cust.size)
    names = np.array([f"O{i:02d}" for i in range(N_OFFERS)], dtype=object)
    ids = np.char.add("c", np.char.zfill(cust.astype(str), 7)).astype(object)
    frame = pd.DataFrame(
        {S.CUSTOMER_ID: ids, S.OFFER_ID: names[offer], S.PROPENSITY: p,
         S.EXPECTED_COST: p * reward}
    )  # fmt: skip
    demand = np.bincount(offer, weights=p * reward)
    cons = CampaignConstraints(
        offer_budgets={names[i]: demand[i] / 5 for i in range(10)},
        global_budget=demand.sum() / 10,
        contact_cap=2,
        seed=seed,
    )
    return frame, cons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=3, help="small problems against milp")
    args = parser.parse_args()
    for n in args.sizes:
        frame, cons = problem(n)
        started = time.perf_counter()
        plan = allocate(frame, cons, method="lagrangian")
        seconds = time.perf_counter() - started
        print(
            f"lagrangian {n:>9,} customers x {N_OFFERS} offers: {seconds:6.1f} s "
            f"(solver {plan.seconds:.1f} s), {len(plan.allocation):,} contacts, "
            f"gap to upper bound {100 * plan.gap:.2f} %"
        )
    for seed in range(args.samples):
        frame, cons = problem(250, seed=seed)
        exact = allocate(frame, cons, method="exact")
        fast = allocate(frame, cons, method="lagrangian")
        print(
            f"sample {seed}: 250 customers x {N_OFFERS} offers: milp {exact.seconds:.1f} s, "
            f"lagrangian {fast.seconds:.2f} s, gap to milp optimum "
            f"{100 * (1 - fast.objective_value / exact.objective_value):.2f} %"
        )


if __name__ == "__main__":
    main()
