"""The validated input files bundled as a :class:`Dataset`, and :func:`load_dataset`.

:func:`load_dataset` reads every file with :func:`~recsys.data.validate.read_table`, raises the
problems of all files together, and adds cross-file checks (as warnings): offers for products
nobody bought, redemptions of unknown offers, and the like.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.data.reading import Source
from recsys.data.validate import LoadedTable, complete_frame, read_table
from recsys.errors import DataValidationError, Problem, ValidationReport, make_problem

__all__ = ["SAMPLE_DIR", "Dataset", "fingerprint_frames", "load_dataset", "load_sample"]

logger = logging.getLogger(__name__)

SAMPLE_DIR: Path = Path(__file__).resolve().parents[2] / "sample_data"


def fingerprint_frames(frames: Mapping[str, pd.DataFrame | None]) -> str:
    """sha256 hex over table names, sorted column names, dtypes and row hashes (stable)."""
    digest = hashlib.sha256()
    for table in sorted(frames):
        frame = frames[table]
        digest.update(f"<{table}>".encode())
        if frame is None:
            digest.update(b"none")
            continue
        cols = sorted(map(str, frame.columns))
        ordered = frame.set_axis(list(map(str, frame.columns)), axis=1)[cols]
        digest.update(repr([(c, str(ordered[c].dtype)) for c in cols]).encode())
        digest.update(str(len(ordered)).encode())
        if len(ordered) and cols:
            digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    return digest.hexdigest()


@dataclass
class Dataset:
    """The validated input files, ready for modelling.

    Examples
    --------
    >>> ds = load_dataset(b"customer_id,product_id\\n1,A\\n1,B\\n2,A\\n")
    >>> ds.summary()["n_customers"], ds.catalogue()["product_id"].tolist()
    (2, ['A', 'B'])
    """

    purchases: pd.DataFrame
    rewards: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None
    products: pd.DataFrame | None = None
    report: ValidationReport = field(default_factory=ValidationReport)
    name: str = "dataset"
    fingerprint: str = ""
    redemptions: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        for table in S.TABLES:
            setattr(self, table, complete_frame(getattr(self, table), table))
        if not self.fingerprint:
            self.fingerprint = fingerprint_frames(self._frames())

    def _frames(self) -> dict[str, pd.DataFrame | None]:
        return {table: getattr(self, table) for table in S.TABLES}

    @property
    def has_dates(self) -> bool:
        """Whether purchases carry at least one purchase date."""
        return bool(self.purchases[S.PURCHASE_DATE].notna().any())

    def catalogue(self) -> pd.DataFrame:
        """One row per product seen in purchases or products, sorted by ``product_id``.

        Columns ``product_id, product_name, category, price``; the products file wins, else the
        first non-empty value seen in purchases.
        """
        attrs = [S.PRODUCT_NAME, S.CATEGORY]
        seen = self.purchases.groupby(S.PRODUCT_ID, sort=False)[attrs].first()
        if self.products is not None:
            listed = self.products.drop_duplicates(S.PRODUCT_ID).set_index(S.PRODUCT_ID)
            seen = listed[[*attrs, S.PRICE]].combine_first(seen)
        cat = seen.reindex(columns=[*attrs, S.PRICE]).sort_index().rename_axis(S.PRODUCT_ID)
        cat = cat.reset_index()
        return cat.astype(
            {S.PRODUCT_ID: "str", S.PRODUCT_NAME: "str", S.CATEGORY: "str", S.PRICE: "float64"}
        )

    def segments(self) -> pd.Series | None:
        """Customer segment by ``customer_id`` (NA = no segment), or None without segments."""
        if self.customers is None or self.customers[S.SEGMENT].isna().all():
            return None
        index = pd.Index(self.customers[S.CUSTOMER_ID], name=S.CUSTOMER_ID, dtype="str")
        return pd.Series(
            self.customers[S.SEGMENT].to_numpy(), index=index, name=S.SEGMENT, dtype="str"
        )

    def summary(self) -> dict[str, Any]:
        """Headline numbers: sizes, spend, date range, density and number of offers."""
        p = self.purchases
        n_customers = int(p[S.CUSTOMER_ID].nunique())
        n_products = int(p[S.PRODUCT_ID].nunique())
        nnz = len(p[[S.CUSTOMER_ID, S.PRODUCT_ID]].drop_duplicates())
        spend = p[S.AMOUNT].sum(min_count=1)
        dates = p[S.PURCHASE_DATE]
        return {
            "n_customers": n_customers,
            "n_products": n_products,
            "n_purchases": len(p),
            "total_spend": None if pd.isna(spend) else float(spend),
            "date_min": dates.min() if self.has_dates else None,
            "date_max": dates.max() if self.has_dates else None,
            "density": nnz / (n_customers * n_products) if n_customers and n_products else 0.0,
            "n_offers": 0 if self.rewards is None else len(self.rewards),
        }


def _unknown(
    name: str,
    label: str,
    values: pd.Series,
    known: pd.Series,
    rows: np.ndarray,
    what: str,
    fix: str,
) -> list[Problem]:
    """Warn about non-empty ``values`` absent from ``known`` (rows: spreadsheet row per value)."""
    mask = values.notna() & ~values.isin(known.dropna().unique())
    if not mask.any():
        return []
    examples = ", ".join(f"'{v}'" for v in pd.unique(values[mask])[:3])
    n = int(values[mask].nunique())
    return [
        make_problem(
            name,
            label,
            f"{n} {what} (e.g. {examples})",
            fix,
            severity="warning",
            rows=rows[mask.to_numpy()],
        )
    ]


def _cross_checks(t: Mapping[str, LoadedTable]) -> list[Problem]:
    """Warnings for references between files that do not resolve."""
    out: list[Problem] = []
    purchases = t["purchases"].frame
    products = t["products"].frame if "products" in t else None
    customers = t["customers"].frame if "customers" in t else None
    known_products = purchases[S.PRODUCT_ID]
    known_categories = purchases[S.CATEGORY]
    if products is not None:
        known_products = pd.concat([known_products, products[S.PRODUCT_ID]])
        known_categories = pd.concat([known_categories, products[S.CATEGORY]])
    if "rewards" in t:
        r, lab = t["rewards"], t["rewards"].mapping
        out += _unknown(
            r.name,
            lab.get(S.PRODUCT_ID, S.PRODUCT_ID),
            r.frame[S.PRODUCT_ID],
            known_products,
            r.row_numbers,
            "product(s) not in purchases or products",
            "check the product ids; these offers will never be recommended",
        )
        out += _unknown(
            r.name,
            lab.get(S.CATEGORY, S.CATEGORY),
            r.frame[S.CATEGORY],
            known_categories,
            r.row_numbers,
            "categor(y/ies) no product has",
            "check the category names against the purchases/products files",
        )
        if customers is not None and customers[S.SEGMENT].notna().any():
            out += _unknown(
                r.name,
                lab.get(S.SEGMENT, S.SEGMENT),
                r.frame[S.SEGMENT],
                customers[S.SEGMENT],
                r.row_numbers,
                "segment(s) no customer has",
                "check the segment names against the customers file",
            )
    for table, key, what in (
        ("customers", S.CUSTOMER_ID, "customer"),
        ("products", S.PRODUCT_ID, "product"),
    ):
        if table in t:
            listed = t[table]
            missing = pd.Index(purchases[key].unique()).difference(listed.frame[key].dropna())
            if len(missing):
                examples = ", ".join(f"'{v}'" for v in missing[:3])
                out.append(
                    make_problem(
                        listed.name,
                        listed.mapping.get(key, key),
                        f"{len(missing)} {what}(s) who appear in purchases are missing from this "
                        f"file (e.g. {examples})",
                        f"add them to the {table} file; until then they have no attributes",
                        severity="warning",
                    )
                )
    if "redemptions" in t:
        red, lab = t["redemptions"], t["redemptions"].mapping
        offers = t["rewards"].frame[S.OFFER_ID] if "rewards" in t else pd.Series([], dtype="str")
        out += _unknown(
            red.name,
            lab.get(S.OFFER_ID, S.OFFER_ID),
            red.frame[S.OFFER_ID],
            offers,
            red.row_numbers,
            "offer(s) not in the rewards file",
            "check the offer ids against the rewards file",
        )
        people = purchases[S.CUSTOMER_ID]
        if customers is not None:
            people = pd.concat([people, customers[S.CUSTOMER_ID]])
        out += _unknown(
            red.name,
            lab.get(S.CUSTOMER_ID, S.CUSTOMER_ID),
            red.frame[S.CUSTOMER_ID],
            people,
            red.row_numbers,
            "customer(s) not in purchases or customers",
            "check the customer ids against the purchases/customers files",
        )
    return out


def load_dataset(
    purchases: Source | LoadedTable,
    rewards: Source | LoadedTable | None = None,
    customers: Source | LoadedTable | None = None,
    products: Source | LoadedTable | None = None,
    *,
    names: Mapping[str, str] | None = None,
    column_maps: Mapping[str, Mapping[str, str]] | None = None,
    dataset_name: str = "dataset",
    redemptions: Source | LoadedTable | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> Dataset:
    """Read, validate and cross-check all files; errors of every file are raised together.

    Parameters
    ----------
    purchases, rewards, customers, products, redemptions : source or LoadedTable
        Each a path, bytes or binary file-like (see :func:`read_table`), or an already loaded
        table; all but purchases are optional.
    names : mapping, optional
        Table -> file name used in messages.
    column_maps : mapping, optional
        Table -> {canonical column -> header in the file}.
    dataset_name : str
        Shown in the dashboard and stored with models.
    progress : callable, optional
        ``progress(fraction, message)`` before each step: reading and validating each file,
        the cross-file checks, the fingerprint (each takes a while on a large upload).

    Returns
    -------
    Dataset
        Its ``report`` holds every warning, including cross-file ones.

    Raises
    ------
    DataValidationError
        One exception listing the problems of all files.

    Examples
    --------
    >>> ds = load_dataset(b"customer_id,product_id\\n1,A\\n", b"offer_id,product_id\\nO1,Z\\n")
    >>> [p.column for p in ds.report.warnings]
    ['product_id']
    """
    sources = {
        "purchases": purchases,
        "rewards": rewards,
        "customers": customers,
        "products": products,
        "redemptions": redemptions,
    }
    names, column_maps = names or {}, column_maps or {}
    loaded: dict[str, LoadedTable] = {}
    report = ValidationReport()
    given = [table for table, source in sources.items() if source is not None]
    # Reading and validating the files is most of the work: 90 % of the bar, split per file.
    step = progress or (lambda fraction, message: None)
    for i, table in enumerate(given):
        source = sources[table]
        try:
            if isinstance(source, LoadedTable):
                loaded[table] = source
            else:
                loaded[table] = read_table(
                    source,
                    table,
                    name=names.get(table),
                    column_map=column_maps.get(table),
                    progress=lambda message, i=i: step(0.9 * i / len(given), message),
                )
            report.extend(loaded[table].report.problems)
        except DataValidationError as exc:
            report.extend(exc.report.problems)
    if not report.ok:
        raise DataValidationError(report)
    step(0.9, "Checking the files against each other")
    report.extend(_cross_checks(loaded))
    frames = {table: loaded[table].frame if table in loaded else None for table in sources}
    step(0.95, "Fingerprinting the data")
    dataset = Dataset(**frames, report=report, name=dataset_name)
    step(1.0, "Done")
    logger.info("dataset %s loaded: %d purchase lines", dataset_name, len(dataset.purchases))
    return dataset


def load_sample() -> Dataset:
    """Load the bundled sample data set from :data:`SAMPLE_DIR`.

    >>> load_sample().name  # doctest: +SKIP
    'sample'
    """
    files = {table: SAMPLE_DIR / f"{table}.csv" for table in S.TABLES}
    present = {
        table: path for table, path in files.items() if table == "purchases" or path.is_file()
    }
    return load_dataset(**present, dataset_name="sample")
