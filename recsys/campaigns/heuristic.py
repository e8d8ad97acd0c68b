"""The fast allocation method: Lagrangian prices, then a greedy fill that never breaks a constraint.

The problem (see :mod:`recsys.campaigns.allocation`) couples customers only through a few
budgets: one cost budget and one recipient limit per offer, and one global budget. Pricing those
few constraints (multipliers ``theta``) splits it into one tiny problem per customer: take the
``cap`` offers of largest reduced value ``value - price x cost - recipient price`` when positive.
For any prices the sum of those per-customer optima plus ``theta x capacities`` is an **upper
bound** on the best plan (weak duality); the per-customer problem has an integral LP, so the best
such bound equals the LP-relaxation bound. The prices are found by a projected subgradient method
with Polyak steps towards the best plan found, stopped early once the bound stalls or meets it.

A feasible plan comes from a greedy fill in order of reduced value (:func:`fill`): each round
offers every customer's best still-possible entries (at most their remaining contact room),
sorts them globally, and accepts the longest prefix that fits each offer's budget and recipient
limit and the global budget. Entries that can no longer fit are dropped from the working list,
so the list shrinks every round; the fill stops when a round adds almost nothing. Stopping early
only gives up value, never feasibility: every accepted entry was checked against every limit.

The dual works on dense ``(n_customers, n_offers)`` arrays (offers are few, tens, so each price
update is one vectorised numpy pass); the fill works on flat integer-coded arrays of the candidate
rows. Nothing loops in Python over customers.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["fill", "lagrangian"]

log = logging.getLogger(__name__)

_TOL = 1e-9  # relative slack when comparing cumulative cost to a budget (float sums)
FILL_MIN_GAIN = 1e-5  # a fill round adding less than this share of the plan's value ends the fill


def _fits(cum: np.ndarray, limit: np.ndarray | float) -> np.ndarray:
    return cum <= limit * (1 + _TOL) + _TOL


def _top_cap(reduced: np.ndarray, cap: int) -> np.ndarray:
    """Per row, the ``cap`` largest entries that are > 0 (a bool mask)."""
    n, m = reduced.shape
    if cap >= m:
        return reduced > 0
    chosen = np.zeros((n, m), dtype=bool)
    rows = np.arange(n)
    if cap <= 3:  # a few argmax passes beat a partition of every row
        work = reduced if cap == 1 else reduced.copy()
        for _ in range(cap):
            col = np.argmax(work, axis=1)
            best = work[rows, col]
            chosen[rows, col] |= best > 0
            if cap > 1:
                work[rows, col] = -np.inf
        return chosen
    cols = np.argpartition(-reduced, cap - 1, axis=1)[:, :cap]
    vals = np.take_along_axis(reduced, cols, axis=1)
    np.put_along_axis(chosen, cols, vals > 0, axis=1)
    return chosen


def fill(
    priority: np.ndarray,
    value: np.ndarray,
    cost: np.ndarray,
    cust: np.ndarray,
    offer: np.ndarray,
    n_customers: int,
    cap: int,
    offer_budget: np.ndarray,
    offer_max: np.ndarray,
    global_budget: float,
    max_rounds: int = 100,
) -> np.ndarray:
    """Greedy, feasible by construction: accept entries in ``priority`` order while they fit.

    Parameters
    ----------
    priority, value, cost : ndarray of shape (n_rows,)
        Higher priority first (ties already broken by the caller); ``value`` only decides when
        to stop; cost in currency.
    cust, offer : ndarray of int
        Integer codes of each row's customer (``< n_customers``) and offer.
    cap : int
        Offers per customer.
    offer_budget, offer_max : ndarray of shape (n_offers,)
        ``inf`` where there is no limit.
    global_budget : float
        ``inf`` for none.

    Returns
    -------
    ndarray of int
        The chosen rows, sorted.

    Examples
    --------
    >>> fill(np.array([3.0, 2.0, 1.0]), np.ones(3), np.array([1.0, 1.0, 1.0]),
    ...      np.array([0, 0, 1]), np.array([0, 1, 0]), 2, 1, np.array([1.0, np.inf]),
    ...      np.array([np.inf, np.inf]), np.inf).tolist()
    [0]
    """
    m = offer_budget.size
    left_cost = offer_budget.astype(np.float64).copy()
    left_count = offer_max.astype(np.float64).copy()
    left_global = float(global_budget)
    room = np.full(n_customers, cap, dtype=np.int64)
    # The working list, by customer then priority (best first): computed once.
    # The working list, by customer then priority (best first), computed once. Offers are few:
    # sorting each customer's short row of a dense grid beats sorting the whole list.
    grid = np.full((n_customers, m), -np.inf)
    grid[cust, offer] = priority
    row_of = np.full((n_customers, m), -1, dtype=np.int64)
    row_of[cust, offer] = np.arange(priority.size)
    order = np.argsort(-grid, axis=1)
    work = np.take_along_axis(row_of, order, axis=1).ravel()
    work = work[work >= 0]
    del grid, row_of, order
    chosen: list[np.ndarray] = []
    total = 0.0
    for _ in range(max_rounds):
        c, o, k = cust[work], offer[work], cost[work]
        keep = (room[c] > 0) & (left_count[o] >= 1) & _fits(k, left_cost[o]) & _fits(k, left_global)
        work, c, o = work[keep], c[keep], o[keep]
        if not work.size:
            break
        # Position of each entry within its customer's remaining list.
        start = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        pos = np.arange(c.size) - np.repeat(start, np.diff(np.r_[start, c.size]))
        prop = work[pos < room[c]]
        prop = prop[np.argsort(-priority[prop], kind="stable")]
        po, pk = offer[prop], cost[prop]
        # Per offer, cumulative cost and count in priority order (stable sort keeps the order).
        by_offer = np.argsort(po, kind="stable")
        so, sk = po[by_offer], pk[by_offer]
        first = np.searchsorted(so, np.arange(m))
        csum = np.cumsum(sk)
        base = np.r_[0.0, csum][first][so]
        rank = np.arange(so.size) - first[so] + 1
        ok_sorted = _fits(csum - base, left_cost[so]) & (rank <= left_count[so])
        ok = np.empty(prop.size, dtype=bool)
        ok[by_offer] = ok_sorted
        if np.isfinite(left_global):
            ok &= _fits(np.cumsum(np.where(ok, pk, 0.0)), left_global)
        took = prop[ok]
        if not took.size:
            break
        chosen.append(took)
        room -= np.bincount(cust[took], minlength=n_customers)
        used = np.bincount(offer[took], weights=cost[took], minlength=m)
        left_cost -= used
        left_count -= np.bincount(offer[took], minlength=m)
        left_global -= float(used.sum())
        gained = float(value[took].sum())
        total += gained
        work = _drop(work, took)
        if gained <= FILL_MIN_GAIN * total:
            break
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def _drop(work: np.ndarray, took: np.ndarray) -> np.ndarray:
    """``work`` without the rows in ``took``, order kept."""
    gone = np.zeros(int(max(work.max(initial=0), took.max(initial=0))) + 1, dtype=bool)
    gone[took] = True
    return work[~gone[work]]


def lagrangian(
    value: np.ndarray,
    cost: np.ndarray,
    cust: np.ndarray,
    offer: np.ndarray,
    n_customers: int,
    cap: int,
    offer_budget: np.ndarray,
    offer_max: np.ndarray,
    global_budget: float,
    n_iter: int = 60,
    patience: int = 10,
) -> tuple[np.ndarray, float]:
    """Allocate with Lagrangian prices; returns ``(chosen rows, upper_bound)``.

    ``value`` must already carry the tie-break (it orders the fill). The bound is the smallest
    dual value met; ``inf`` is never returned (prices 0 give a finite bound). Stops when the
    bound meets the best plan (optimal), or has not improved by 0.01 % in ``patience``
    iterations.
    """
    m = offer_budget.size
    shape = (n_customers, m)
    masked = np.full(shape, -np.inf)
    dense_cost = np.zeros(shape)
    masked[cust, offer], dense_cost[cust, offer] = value, cost
    has_cost = np.isfinite(offer_budget)
    has_count = np.isfinite(offer_max)
    has_global = bool(np.isfinite(global_budget))
    b_cost = np.where(has_cost, offer_budget, 0.0)
    b_count = np.where(has_count, offer_max, 0.0)
    b_global = float(global_budget) if has_global else 0.0
    t_cost, t_count, t_global = np.zeros(m), np.zeros(m), 0.0
    limits = (offer_budget, offer_max, global_budget)

    def primal(tc: np.ndarray, tn: np.ndarray, tg: float, rounds: int) -> tuple[np.ndarray, float]:
        priority = value - cost * (tc[offer] + tg) - tn[offer]
        if rounds >= 100:  # the final fill: every row
            pick = fill(priority, value, cost, cust, offer, n_customers, cap, *limits, rounds)
        else:  # a quick fill: only the rows the priced problem wants (few), to set the target
            at = np.flatnonzero(priority > 0)
            sub = fill(priority[at], value[at], cost[at], cust[at], offer[at], n_customers, cap,
                       *limits, rounds)  # fmt: skip
            pick = at[sub]
        return pick, float(value[pick].sum())

    best, best_obj = primal(t_cost, t_count, t_global, 100)
    bound, step, stall, since = np.inf, 2.0, 0, 0
    coupled = has_cost.any() or has_count.any() or has_global
    for it in range(n_iter if coupled else 1):
        price = dense_cost * (t_cost + t_global)[None, :]
        price += t_count[None, :]
        red = masked - price
        pick = _top_cap(red, cap)
        dual = float(red[pick].sum() + t_cost @ b_cost + t_count @ b_count + t_global * b_global)
        if not np.isfinite(bound) or dual < bound - 1e-4 * max(abs(bound), 1e-12):
            since = 0
        else:
            since += 1
        if not np.isfinite(bound) or dual < bound:
            bound, stall = dual, 0
        else:
            stall += 1
            if stall >= 5:
                step, stall = step / 2, 0
        if since >= patience:
            break
        used = np.where(pick, dense_cost, 0.0).sum(axis=0)
        g_cost = np.where(has_cost, used - b_cost, 0.0)
        g_count = np.where(has_count, pick.sum(axis=0) - b_count, 0.0)
        g_global = float(used.sum() - b_global) if has_global else 0.0
        # Projected direction: a price at 0 with slack cannot go lower.
        g_cost[(t_cost <= 0) & (g_cost < 0)] = 0.0
        g_count[(t_count <= 0) & (g_count < 0)] = 0.0
        if t_global <= 0 and g_global < 0:
            g_global = 0.0
        norm = float(g_cost @ g_cost + g_count @ g_count + g_global**2)
        if norm <= 0 or dual - best_obj <= 1e-9 * max(abs(dual), 1.0):
            break  # the relaxed choice is feasible, or the bound meets the plan: optimal
        alpha = step * (dual - best_obj) / norm
        t_cost = np.maximum(t_cost + alpha * g_cost, 0.0)
        t_count = np.maximum(t_count + alpha * g_count, 0.0)
        t_global = max(t_global + alpha * g_global, 0.0)
        if it % 3 == 2:  # a quick fill keeps the Polyak target honest
            pick_rows, obj = primal(t_cost, t_count, t_global, 10)
            if obj > best_obj:
                best, best_obj = pick_rows, obj
    pick_rows, obj = primal(t_cost, t_count, t_global, 100)
    if obj > best_obj:
        best, best_obj = pick_rows, obj
    log.debug("lagrangian: objective %.6g, bound %.6g after %d iterations", best_obj, bound, it)
    return best, max(bound, best_obj)
