"""Campaign planning: audiences, exports, allocation under budgets, control groups, read-out."""

# Transitional shim, delete when the core restructure lands: this branch still has the legacy
# module ``recsys/campaigns.py`` beside this package, and a package shadows a module of the same
# name, so the legacy code runs here to keep ``from recsys.campaigns import ...`` working.
from pathlib import Path as _Path

_LEGACY = _Path(__file__).resolve().parent.with_suffix(".py")
if _LEGACY.is_file():
    exec(compile(_LEGACY.read_text(encoding="utf-8"), str(_LEGACY), "exec"))
