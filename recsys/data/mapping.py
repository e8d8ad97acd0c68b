"""Matching a file's headers to the data contract: aliases, and the analyst's own mapping.

Headers are matched case-insensitively, spaces, dashes and dots folded
(:func:`recsys.data.schema.normalise_header`); exact canonical names win over aliases. A mapping
chosen by hand (canonical column -> header, or None/"" for "not in the file") is applied on top.
"""

from __future__ import annotations

from collections.abc import Mapping

from recsys.data import schema as S
from recsys.errors import Problem, make_problem

__all__ = ["detect_mapping", "missing_column", "resolve_mapping"]


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
    spec = S.table_spec(table)
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


def resolve_mapping(
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


def missing_column(name: str, col: S.ColumnSpec, headers: list[str]) -> Problem:
    accepted = ", ".join((col.name, *col.aliases))
    return make_problem(
        name,
        col.name,
        f"required column '{col.name}' not found (headers found: "
        f"{', '.join(headers) or 'none'}; accepted names: {accepted})",
        f"rename the column holding {col.name} to one of the accepted names, or map it by hand",
    )
