"""Project errors and warnings, and the validation report they carry.

Raise for unusable data (:class:`DataValidationError`, :class:`UnknownCustomerError`); warn for
suspicious but usable data (:class:`DataWarning`). Every message says what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

Severity = Literal["error", "warning"]

MAX_EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file.

    ``rows`` are 1-based row numbers as a spreadsheet shows them (the header is row 1, so the
    first data row is row 2); at most :data:`MAX_EXAMPLE_ROWS` are kept, ``n_rows`` counts all.
    """

    file: str
    column: str | None
    message: str
    fix: str
    severity: Severity = "error"
    rows: tuple[int, ...] = ()
    n_rows: int = 0

    def __str__(self) -> str:
        where = self.file if self.column is None else f"{self.file}, column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows)
            more = (
                f" (and {self.n_rows - len(self.rows)} more)"
                if self.n_rows > len(self.rows)
                else ""
            )
            text += f" [rows {shown}{more}]"
        return f"{text}. Fix: {self.fix}"


def make_problem(
    file: str,
    column: str | None,
    message: str,
    fix: str,
    *,
    severity: Severity = "error",
    rows: Iterable[int] = (),
) -> Problem:
    """Build a :class:`Problem`, keeping the first few example rows and the total count."""
    all_rows = sorted({int(r) for r in rows})
    return Problem(
        file=file,
        column=column,
        message=message,
        fix=fix,
        severity=severity,
        rows=tuple(all_rows[:MAX_EXAMPLE_ROWS]),
        n_rows=len(all_rows),
    )


@dataclass
class ValidationReport:
    """Everything found while reading and validating one or more files."""

    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: severity, file, column, message, rows, fix."""
        return pd.DataFrame(
            [
                {
                    "severity": p.severity,
                    "file": p.file,
                    "column": p.column or "",
                    "problem": p.message,
                    "rows": ", ".join(map(str, p.rows))
                    + (f" (+{p.n_rows - len(p.rows)} more)" if p.n_rows > len(p.rows) else ""),
                    "n_rows": p.n_rows,
                    "fix": p.fix,
                }
                for p in self.problems
            ],
            columns=["severity", "file", "column", "problem", "rows", "n_rows", "fix"],
        )

    def __str__(self) -> str:
        return "\n".join(f"{p.severity.upper()}: {p}" for p in self.problems) or "no problems"


class RecsysError(Exception):
    """Base class for errors the user can cause and fix."""


class DataValidationError(RecsysError, ValueError):
    """An input file cannot be used; ``report`` lists every problem found, not just the first."""

    def __init__(self, report: ValidationReport | Sequence[Problem]):
        if not isinstance(report, ValidationReport):
            report = ValidationReport(list(report))
        self.report = report
        errors = report.errors
        head = f"{len(errors)} problem(s) found in the input data"
        super().__init__(head + ":\n" + "\n".join(f"- {p}" for p in errors))


class UnknownCustomerError(RecsysError, KeyError):
    """A customer (or product) id is not in the fitted model."""

    def __init__(self, customer_id: object, what: str = "customer"):
        self.customer_id = customer_id
        self.what = what
        super().__init__(customer_id)

    def __str__(self) -> str:
        return (
            f"Unknown {self.what} id '{self.customer_id}': it is not in the data the model "
            f"was trained on. Check the id, or retrain with data that includes it."
        )


class UnknownOfferError(RecsysError, KeyError):
    """An offer id is not in the model's rewards file."""

    def __init__(self, offer_id: object, known: Sequence[str] = ()) -> None:
        self.offer_id, self.known = offer_id, list(known)
        super().__init__(offer_id)

    def __str__(self) -> str:
        hint = f" Known offers include: {', '.join(self.known[:5])}." if self.known else ""
        return f"Unknown offer id '{self.offer_id}': it is not in the model's rewards file.{hint}"


class NotFittedError(RecsysError, SklearnNotFittedError):
    """A pipeline was used before it was fitted (also scikit-learn's ``NotFittedError``)."""


class InvalidParamsError(RecsysError, ValueError):
    """A model setting is out of range; the message names the setting and the allowed values."""


class ModelTooLargeError(RecsysError, ValueError):
    """The catalogue is too large for a model that builds a dense product x product matrix."""


class MissingDependencyError(RecsysError, ImportError):
    """A model needs an optional package that is not installed; the message says how to get it."""


class ModelStoreError(RecsysError):
    """A saved model cannot be written, found or trusted (missing, tampered, incompatible)."""


class ModelNotFoundError(ModelStoreError):
    """No saved model of that name, or its file was deleted (e.g. by another session) meanwhile."""


class DataWarning(UserWarning):
    """Suspicious but usable data (repairs made, cross-file mismatches, version mismatches)."""


class ClusterError(RecsysError):
    """A Dask cluster cannot be used as asked: no scheduler at the address, no workers, or an
    output folder the workers cannot write to."""


class CampaignError(RecsysError, ValueError):
    """A campaign input (candidates, constraints, plan, read-out data) cannot be used as given."""
