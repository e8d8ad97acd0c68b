"""Load and validate the input files into canonical frames, and bundle them as a :class:`Dataset`.

:func:`read_table` reads one file (CSV or Parquet, path, bytes or binary file-like), matches its
headers to the data contract in :mod:`recsys.data.schema`, parses every column, and either returns a
:class:`LoadedTable` (with warnings for what it repaired) or raises one
:class:`~recsys.errors.DataValidationError` listing *every* problem found. :func:`load_dataset`
does this for all files at once and adds cross-file checks (as warnings).

Canonical frames always hold every contract column of their table, in contract order:

* ids and strings: pandas ``str`` dtype, trimmed, empty cells NA (ids are never numbers);
* dates: ``datetime64[ns]`` (NaT when absent);
* ``purchases.quantity``: ``int64`` (default 1); ``amount``, ``reward_value``, ``price``:
  ``float64`` (NaN when absent); ``min_spend``: ``float64`` (default 0);
  ``max_per_customer``: ``Int64`` (NA when absent); ``title`` defaults to ``offer_id``;
* extra columns of customers/products files are kept (as ``str``), others are dropped.

All work is vectorised over rows (loops only run over columns), so millions of purchase lines
load in seconds.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.data.reading import (
    Source,
    parse_category,
    parse_dates,
    parse_numbers,
    read_raw,
    read_raw_header,
)
from recsys.errors import DataValidationError, Problem, ValidationReport, make_problem

__all__ = [
    "SAMPLE_DIR",
    "Dataset",
    "LoadedTable",
    "detect_mapping",
    "load_dataset",
    "load_sample",
    "read_header",
    "read_table",
]

logger = logging.getLogger(__name__)

SAMPLE_DIR: Path = Path(__file__).resolve().parents[2] / "sample_data"
ROW_OFFSET = 2  # spreadsheet row of the first data record (header = row 1)
KEEP_EXTRA_COLUMNS = ("customers", "products")
DEFAULTS: dict[str, Any] = {S.QUANTITY: 1, S.MIN_SPEND: 0.0}
DTYPES = {
    "id": "str",
    "string": "str",
    "category": "str",
    "date": "datetime64[ns]",
    "number": "float64",
    "int": "Int64",
}
INT64_COLUMNS = (S.QUANTITY,)  # int columns with a default: plain int64


def _spec(table: str) -> S.TableSpec:
    try:
        return S.TABLES[table]
    except KeyError:
        raise ValueError(f"unknown table {table!r}; expected one of {sorted(S.TABLES)}") from None


def _dtype(col: S.ColumnSpec) -> str:
    return "int64" if col.name in INT64_COLUMNS else DTYPES[col.kind]


def _empty_column(col: S.ColumnSpec, index: pd.Index) -> pd.Series:
    """The column a table gets when its file does not provide it."""
    value = DEFAULTS.get(col.name, pd.NA if col.kind == "int" else None)
    if col.kind == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if value is None:
        value = np.nan
    return pd.Series(value, index=index).astype(_dtype(col))


@dataclass
class LoadedTable:
    """One validated file.

    ``row_numbers`` gives, for each row of ``frame``, the row a spreadsheet shows for it in the
    original file (used in cross-file messages).
    """

    frame: pd.DataFrame
    report: ValidationReport
    mapping: dict[str, str]
    name: str
    row_numbers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64), repr=False)


def detect_mapping(headers: list[str], table: str) -> dict[str, str | None]:
    """Match file headers to the contract columns of ``table`` (case-insensitive, via aliases).

    Exact canonical names win over aliases; a header is used for one column at most.

    Examples
    --------
    >>> detect_mapping(["Cust ID", "SKU", "Qty"], "purchases")["customer_id"]
    'Cust ID'
    >>> detect_mapping(["Cust ID", "SKU", "Qty"], "purchases")["amount"] is None
    True
    """
    spec = _spec(table)
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(S.normalise_header(header), header)
    mapping: dict[str, str | None] = {c.name: None for c in spec.columns}
    used: set[str] = set()
    candidates = [[c.name] for c in spec.columns], [list(c.aliases) for c in spec.columns]
    for names_per_column in candidates:  # pass 1: canonical names, pass 2: aliases
        for col, names in zip(spec.columns, names_per_column, strict=True):
            if mapping[col.name] is not None:
                continue
            for alias in names:
                header = by_norm.get(S.normalise_header(alias))
                if header is not None and header not in used:
                    mapping[col.name] = header
                    used.add(header)
                    break
    return mapping


def read_header(source: Source, *, name: str | None = None) -> list[str]:
    """The headers of a file as written in it (trimmed), for a manual column mapper.

    >>> read_header(b"Cust ID;SKU\\n007;A\\n")
    ['Cust ID', 'SKU']
    """
    return read_raw_header(source, name)


def _resolve_mapping(
    headers: list[str], spec: S.TableSpec, name: str, column_map: Mapping[str, str] | None
) -> tuple[dict[str, str], list[Problem]]:
    """Detected mapping with ``column_map`` (canonical -> file header) applied on top."""
    mapping = detect_mapping(headers, spec.name)
    problems = []
    by_norm = {S.normalise_header(h): h for h in reversed(headers)}
    for canonical, header in (column_map or {}).items():
        if canonical not in mapping:
            problems.append(
                make_problem(
                    name,
                    canonical,
                    f"'{canonical}' is not a column of the {spec.name} table",
                    f"map only these columns: {', '.join(spec.names)}",
                )
            )
            continue
        if header is None or str(header).strip() == "":
            mapping[canonical] = None
            continue
        found = header if header in headers else by_norm.get(S.normalise_header(header))
        if found is None:
            problems.append(
                make_problem(
                    name,
                    canonical,
                    f"the mapping names header '{header}', which is not in the file "
                    f"(headers found: {', '.join(headers)})",
                    "pick one of the headers found",
                )
            )
            continue
        for other, h in mapping.items():
            if h == found:
                mapping[other] = None
        mapping[canonical] = found
    return {k: v for k, v in mapping.items() if v is not None}, problems


def _missing_column(name: str, col: S.ColumnSpec, headers: list[str]) -> Problem:
    accepted = ", ".join((col.name, *col.aliases))
    return make_problem(
        name,
        col.name,
        f"required column '{col.name}' not found (headers found: "
        f"{', '.join(headers) or 'none'}; accepted names: {accepted})",
        f"rename the column holding {col.name} to one of the accepted names, or map it by hand",
    )


def _rows(mask: pd.Series) -> np.ndarray:
    return mask.index[mask.to_numpy()].to_numpy() + ROW_OFFSET


def _examples(values: pd.Series, mask: pd.Series, n: int = 3) -> str:
    shown = pd.unique(values[mask.to_numpy()])[:n]
    return ", ".join(f"'{v}'" for v in shown)


def _parse_column(
    raw: pd.Series, col: S.ColumnSpec, name: str, label: str
) -> tuple[pd.Series, list[Problem]]:
    """Parse one text column into its canonical dtype; problems name the file's header."""
    problems: list[Problem] = []
    empty = raw.eq("")

    def error(mask: pd.Series, message: str, fix: str) -> None:
        if mask.any():
            problems.append(make_problem(name, label, message, fix, rows=_rows(mask)))

    if col.kind in ("id", "string"):
        if col.required:
            error(
                empty,
                f"empty {col.name} cell(s)",
                f"fill in the {col.name} on every row, or delete rows without one",
            )
        return raw.mask(empty).astype("str"), problems
    if col.kind == "category":
        values, bad = parse_category(raw, col.allowed)
        error(
            bad,
            f"unknown {col.name} value(s) {_examples(raw, bad)}",
            f"use one of: {', '.join(col.allowed)} (or leave empty)",
        )
        return values, problems
    if col.kind == "date":
        values, bad, ambiguous = parse_dates(raw)
        error(
            bad,
            f"value(s) that are not dates: {_examples(raw, bad)}",
            "use ISO dates (YYYY-MM-DD, optionally with a time) or one consistent "
            "DD/MM/YYYY or MM/DD/YYYY format",
        )
        if ambiguous:
            problems.append(
                make_problem(
                    name,
                    label,
                    "dates could be read day-first or month-first; they were read day-first "
                    "(DD/MM/YYYY)",
                    "use ISO dates (YYYY-MM-DD) to remove the ambiguity",
                    severity="warning",
                )
            )
        return values, problems
    values, bad = parse_numbers(raw)
    error(
        bad,
        f"value(s) that are not numbers: {_examples(raw, bad)}",
        "use plain numbers with a dot for decimals and no currency signs or thousand separators",
    )
    if col.kind == "int":
        fractional = values.notna() & values.mod(1).ne(0)
        error(
            fractional,
            f"value(s) that are not whole numbers: {_examples(raw, fractional)}",
            f"{col.name} must be a whole number",
        )
        bad = bad | fractional
    if col.minimum is not None:
        low = values.lt(col.minimum)
        what = "negative" if col.minimum == 0 else f"less than {col.minimum:g}"
        error(
            low,
            f"{what} value(s): {_examples(raw, low)}",
            f"{col.name} must be {col.minimum:g} or more",
        )
        bad = bad | low
    default = DEFAULTS.get(col.name, np.nan)
    values = values.mask(bad | values.isna(), default)
    if col.kind == "int":
        return values.round().astype(_dtype(col)), problems
    return values.astype("float64"), problems


def _table_rules(
    frame: pd.DataFrame, spec: S.TableSpec, name: str, label: dict[str, str], mapped: set[str]
) -> list[Problem]:
    """Rules across columns of one table: unique keys, reward targets, date order."""
    problems = []
    for key in spec.unique:
        ids = frame[key]
        dup = ids.notna() & ids.duplicated(keep=False)
        if dup.any():
            problems.append(
                make_problem(
                    name,
                    label[key],
                    f"duplicate {key} value(s) {_examples(ids, dup)}",
                    f"each {key} must appear once: remove or rename the duplicates",
                    rows=_rows(dup),
                )
            )
    if spec.name == "rewards":
        neither = frame[S.PRODUCT_ID].isna() & frame[S.CATEGORY].isna()
        if neither.any() and mapped & {S.PRODUCT_ID, S.CATEGORY}:  # else reported per file
            problems.append(
                make_problem(
                    name,
                    label[S.PRODUCT_ID],
                    f"offer(s) with both {label[S.PRODUCT_ID]} and "
                    f"{label[S.CATEGORY]} empty, so they apply to nothing",
                    f"fill in the {S.PRODUCT_ID} or the {S.CATEGORY} the offer applies to",
                    rows=_rows(neither),
                )
            )
        backwards = frame[S.END_DATE].lt(frame[S.START_DATE])
        if backwards.any():
            problems.append(
                make_problem(
                    name,
                    label[S.END_DATE],
                    f"{label[S.END_DATE]} before {label[S.START_DATE]}",
                    "make the end date the same as or later than the start date",
                    rows=_rows(backwards),
                )
            )
    return problems


def read_table(
    source: Source,
    table: str,
    *,
    name: str | None = None,
    column_map: Mapping[str, str] | None = None,
) -> LoadedTable:
    """Read and validate one file of the data contract.

    Parameters
    ----------
    source : path, bytes or binary file-like
        CSV (comma, semicolon, tab or pipe separated; UTF-8 with or without BOM, else Latin-1)
        or Parquet (recognised by extension or magic bytes).
    table : {"purchases", "rewards", "customers", "products", "redemptions"}
        Which contract table the file holds.
    name : str, optional
        File name used in messages; defaults to the path's or upload's name, else ``<table>.csv``.
    column_map : mapping, optional
        Canonical column -> header in the file; overrides automatic detection.

    Returns
    -------
    LoadedTable
        Canonical frame, warnings (repairs), the mapping used and the file name.

    Raises
    ------
    DataValidationError
        With every problem found (file, column, example rows, fix).

    Examples
    --------
    >>> t = read_table(b"cust_id,sku,qty\\n007,A,2\\n", "purchases")
    >>> t.frame[["customer_id", "product_id", "quantity"]].to_dict("records")
    [{'customer_id': '007', 'product_id': 'A', 'quantity': 2}]
    """
    spec = _spec(table)
    raw, problems, name = read_raw(source, name, default_name=f"{table}.csv")
    headers = [str(c) for c in raw.columns]
    mapping, map_problems = _resolve_mapping(headers, spec, name, column_map)
    problems += map_problems
    problems += [
        _missing_column(name, c, headers)
        for c in spec.columns
        if c.required and c.name not in mapping
    ]
    if spec.name == "rewards" and S.PRODUCT_ID not in mapping and S.CATEGORY not in mapping:
        problems.append(
            make_problem(
                name,
                S.PRODUCT_ID,
                f"neither a {S.PRODUCT_ID} nor a {S.CATEGORY} column was found "
                f"(headers found: {', '.join(headers)})",
                f"add a {S.PRODUCT_ID} or {S.CATEGORY} column saying what each offer applies to",
            )
        )
    if raw.empty:
        problems.append(
            make_problem(
                name,
                None,
                "the file has a header but no data rows",
                "add at least one data row below the header",
            )
        )
        raise DataValidationError(problems)

    dup = raw.duplicated()
    if dup.any():
        problems.append(
            make_problem(
                name,
                None,
                "exact duplicate rows were dropped",
                "no action needed, unless the repeats were intended",
                severity="warning",
                rows=_rows(dup),
            )
        )
        raw = raw.loc[~dup.to_numpy()]

    label = {c.name: mapping.get(c.name, c.name) for c in spec.columns}
    columns: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name in mapping:
            columns[col.name], col_problems = _parse_column(
                raw[mapping[col.name]], col, name, label[col.name]
            )
            problems += col_problems
        else:
            columns[col.name] = _empty_column(col, raw.index)
    frame = pd.DataFrame(columns, index=raw.index)
    if spec.name == "rewards":
        frame[S.TITLE] = frame[S.TITLE].fillna(frame[S.OFFER_ID])
    if spec.name in KEEP_EXTRA_COLUMNS:
        for header in headers:
            if header not in mapping.values() and header not in frame.columns:
                frame[header] = raw[header].mask(raw[header].eq("")).astype("str")
    problems += _table_rules(frame, spec, name, label, set(mapping))

    report = ValidationReport(problems)
    if not report.ok:
        raise DataValidationError(report)
    row_numbers = frame.index.to_numpy() + ROW_OFFSET
    logger.info(
        "%s: %d rows read as %s (%d warnings)", name, len(frame), table, len(report.warnings)
    )
    return LoadedTable(
        frame=frame.reset_index(drop=True),
        report=report,
        mapping=mapping,
        name=name,
        row_numbers=row_numbers,
    )


def _complete(frame: pd.DataFrame | None, table: str) -> pd.DataFrame | None:
    """Add any absent contract column (with its default) to a frame built by hand."""
    if frame is None:
        return None
    missing = [c for c in _spec(table).columns if c.name not in frame.columns]
    if not missing:
        return frame
    frame = frame.copy()
    for col in missing:
        frame[col.name] = _empty_column(col, frame.index)
    return frame


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
        for table in ("purchases", "rewards", "customers", "products", "redemptions"):
            setattr(self, table, _complete(getattr(self, table), table))
        if not self.fingerprint:
            self.fingerprint = fingerprint_frames(self._frames())

    def _frames(self) -> dict[str, pd.DataFrame | None]:
        return {
            "purchases": self.purchases,
            "rewards": self.rewards,
            "customers": self.customers,
            "products": self.products,
            "redemptions": self.redemptions,
        }

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
    for table, source in sources.items():
        if source is None:
            continue
        try:
            if isinstance(source, LoadedTable):
                loaded[table] = source
            else:
                loaded[table] = read_table(
                    source, table, name=names.get(table), column_map=column_maps.get(table)
                )
            report.extend(loaded[table].report.problems)
        except DataValidationError as exc:
            report.extend(exc.report.problems)
    if not report.ok:
        raise DataValidationError(report)
    report.extend(_cross_checks(loaded))
    frames = {table: loaded[table].frame if table in loaded else None for table in sources}
    dataset = Dataset(**frames, report=report, name=dataset_name)
    logger.info("dataset %s loaded: %s", dataset_name, dataset.summary())
    return dataset


def load_sample() -> Dataset:
    """Load the bundled sample data set from :data:`SAMPLE_DIR`.

    >>> load_sample().name  # doctest: +SKIP
    'sample'
    """
    files = {
        table: SAMPLE_DIR / f"{table}.csv"
        for table in ("purchases", "rewards", "customers", "products", "redemptions")
    }
    present = {
        table: path for table, path in files.items() if table == "purchases" or path.is_file()
    }
    return load_dataset(**present, dataset_name="sample")
