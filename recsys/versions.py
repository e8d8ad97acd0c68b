"""Library versions recorded with every saved model and checked when it is loaded."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

# The libraries whose versions change what a saved model means or whether it unpickles.
TRACKED = ("numpy", "scipy", "scikit-learn", "pandas", "joblib")


def library_versions() -> dict[str, str]:
    """Versions of Python and the tracked libraries, e.g. ``{"scikit-learn": "1.9.1", ...}``."""
    found = {"python": platform.python_version()}
    for name in TRACKED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - all are requirements
            found[name] = "missing"
    return found


def version_mismatches(recorded: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Tracked libraries whose recorded version differs from the installed one."""
    current = library_versions()
    return {
        name: (recorded[name], current[name])
        for name in TRACKED
        if name in recorded and recorded[name] != current.get(name)
    }
