"""Reward-aware recommendations: user-based collaborative filtering for card-spend data.

The core never imports Streamlit or plotly: it returns DataFrames, arrays and dataclasses that the
dashboard, the CLI and a notebook all use the same way.

>>> import recsys
>>> data = recsys.load_sample()
>>> pipe = recsys.RecommenderPipeline(recsys.ModelParams(n_neighbors=15)).fit(data)
>>> pipe.rewards_for(pipe.customer_ids[0], n=5)["product_id"].size
5
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module. Imported on first use so `import recsys` stays light.
_EXPORTS = {
    "load_dataset": "recsys.data.dataset",
    "load_sample": "recsys.data.dataset",
    "read_table": "recsys.data.dataset",
    "Dataset": "recsys.data.dataset",
    "ModelParams": "recsys.params",
    "RecommenderPipeline": "recsys.pipeline",
    "ModelStore": "recsys.store",
    "save_pipeline": "recsys.store",
    "load_pipeline": "recsys.store",
    "UserKNN": "recsys.models.user_knn",
    "RecsysError": "recsys.errors",
    "DataValidationError": "recsys.errors",
    "UnknownCustomerError": "recsys.errors",
    "ModelStoreError": "recsys.errors",
    "DataWarning": "recsys.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'recsys' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
