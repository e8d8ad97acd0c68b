"""The seed's recipe, as a whole process: the baseline of ``bench/cli.py``.

``python bench/seed_recipe.py PURCHASES.csv OUT.csv [--k 20] [--n 10] [--chunk 1000]``: read the
purchases CSV, a binary customer x product CSR matrix, scikit-learn's brute-force cosine
``NearestNeighbors``, ``kneighbors`` for every customer in chunks (the customer itself dropped),
similarity-weighted scores of the neighbours' rows, the top ``n`` products not yet purchased,
written as CSV (customer_id, rank, product_id, score). Plain scikit-learn, numpy and pandas.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("purchases")
    parser.add_argument("out")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args(argv)

    df = pd.read_csv(args.purchases, usecols=["customer_id", "product_id"], dtype=str)
    rows, customers = pd.factorize(df["customer_id"], sort=True)
    cols, products = pd.factorize(df["product_id"], sort=True)
    X = sp.csr_matrix((np.ones(len(df)), (rows, cols)), shape=(len(customers), len(products)))
    X.sum_duplicates()
    X.data[:] = 1.0
    nn = NearestNeighbors(n_neighbors=args.k + 1, metric="cosine", algorithm="brute").fit(X)
    customers = np.asarray(customers, dtype=object)
    products = np.asarray(products, dtype=object)
    with open(args.out, "w", newline="") as out:
        out.write("customer_id,rank,product_id,score\n")
        for start in range(0, X.shape[0], args.chunk):
            stop = min(start + args.chunk, X.shape[0])
            dist, idx = nn.kneighbors(X[start:stop])
            sim = 1.0 - dist
            own = idx == np.arange(start, stop)[:, None]
            sim[own] = 0.0  # the customer is not its own neighbour
            m = stop - start
            graph = sp.csr_matrix(
                (sim.ravel(), idx.ravel(), np.arange(0, m * (args.k + 1) + 1, args.k + 1)),
                shape=(m, X.shape[0]),
            )
            scores = (graph @ X).toarray()
            scores[X[start:stop].toarray() > 0] = 0.0  # already purchased
            top = np.argsort(-scores, axis=1, kind="stable")[:, : args.n]
            best = np.take_along_axis(scores, top, axis=1)
            r, c = np.nonzero(best > 0)
            pd.DataFrame(
                {
                    "customer_id": customers[start + r],
                    "rank": c + 1,
                    "product_id": products[top[r, c]],
                    "score": best[r, c],
                }
            ).to_csv(out, header=False, index=False, float_format="%.6g")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
