"""Saved models: joblib artifacts with a JSON metadata sidecar, written atomically.

Layout: ``<root>/<name>.joblib`` plus ``<root>/<name>.joblib.json`` holding the metadata and the
artifact's sha256. Both are written to temporary files in the same directory and renamed into
place, so a crash never leaves a half-written model, and a failed training run never reaches the
store. Loading verifies the checksum (a file changed outside the app is refused) and warns when
the library versions differ from those the model was saved with.

joblib files run code when loaded: only artifacts written by this module are ever loaded, never a
file uploaded through the browser.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib

from recsys.errors import DataWarning, ModelStoreError
from recsys.versions import version_mismatches

log = logging.getLogger(__name__)

MODEL_DIR_ENV = "RECSYS_MODEL_DIR"
DEFAULT_MODEL_DIR = Path("workspace") / "models"
SUFFIX = ".joblib"
META_SUFFIX = ".json"
FORMAT_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


def metadata_path(path: Path) -> Path:
    """The sidecar of an artifact: ``model.joblib`` -> ``model.joblib.json``."""
    return path.with_name(path.name + META_SUFFIX)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path: Path, write: Any) -> None:
    """Write through ``write(fileobj)`` to a temp file beside ``path``, then rename into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_pipeline(
    pipeline: Any, path: str | Path, *, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Save a fitted pipeline to ``path`` (atomic) with its metadata sidecar; returns metadata."""
    path = Path(path)
    if not hasattr(pipeline, "metadata_"):
        raise ModelStoreError("Only a trained model can be saved: train it first.")
    # Write the artifact under a temporary name first: the checksum must describe exactly the
    # bytes that end up in place, and the old model must survive any failure before the rename.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        joblib.dump(pipeline, tmp, compress=3)
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        metadata = {
            **pipeline.metadata_,
            **(extra or {}),
            "format_version": FORMAT_VERSION,
            "sha256": _sha256(tmp),
            "size_bytes": tmp.stat().st_size,
            "file": path.name,
        }
        payload = json.dumps(metadata, indent=2, default=str).encode()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _atomic_write(metadata_path(path), lambda fh: fh.write(payload))
    log.info("saved model to %s (%d bytes)", path, metadata["size_bytes"])
    return metadata


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata recorded beside an artifact; :class:`ModelStoreError` when missing/corrupt."""
    meta = metadata_path(Path(path))
    try:
        return json.loads(meta.read_text())
    except FileNotFoundError:
        raise ModelStoreError(
            f"No metadata file {meta.name} beside {Path(path).name}: only models saved by this "
            "application (which writes both files) can be loaded."
        ) from None
    except (OSError, ValueError) as exc:
        raise ModelStoreError(f"The metadata file {meta.name} is unreadable ({exc}).") from None


def load_pipeline(path: str | Path) -> Any:
    """Load a saved pipeline after verifying its checksum; warns on library version mismatch."""
    path = Path(path)
    if not path.is_file():
        raise ModelStoreError(f"No saved model at {path}.")
    metadata = read_metadata(path)
    actual = _sha256(path)
    if actual != metadata.get("sha256"):
        raise ModelStoreError(
            f"{path.name} does not match the checksum recorded when it was saved: it was changed "
            "or damaged after saving, so it is not loaded. Retrain and save the model again."
        )
    mismatches = version_mismatches(metadata.get("versions", {}))
    if mismatches:
        listed = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in mismatches.items())
        warnings.warn(
            f"{path.name} was saved with other library versions ({listed}); its "
            "results may differ. Retrain it to be sure.",
            DataWarning,
            stacklevel=2,
        )
    try:
        pipeline = joblib.load(path)
    except Exception as exc:  # unpickling errors come in many types
        raise ModelStoreError(
            f"{path.name} could not be loaded: {exc}. Retrain the model."
        ) from exc
    if not hasattr(pipeline, "recommend"):
        raise ModelStoreError(f"{path.name} does not hold a recommender model.")
    return pipeline


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the model store, read from its metadata without loading the model."""

    name: str
    path: Path
    size_bytes: int
    created_at: str
    params: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    dataset: str = ""
    n_customers: int = 0
    n_products: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


class ModelStore:
    """A directory of saved models that survives restarts of the app.

    Parameters
    ----------
    root : path, optional
        The directory; defaults to ``$RECSYS_MODEL_DIR`` or ``./workspace/models``.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root or os.environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR)

    def path(self, name: str) -> Path:
        if not _NAME.match(name or ""):
            raise ModelStoreError(
                f"'{name}' is not a valid model name: use up to 80 letters, digits, '-', '_' or "
                "'.', starting with a letter or digit."
            )
        return self.root / f"{name}{SUFFIX}"

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def save(self, pipeline: Any, name: str, *, overwrite: bool = False) -> ModelInfo:
        """Save under ``name``; refuses to replace an existing model unless ``overwrite``."""
        path = self.path(name)
        if path.exists() and not overwrite:
            raise ModelStoreError(
                f"A model named '{name}' already exists: choose another name or allow overwriting."
            )
        save_pipeline(pipeline, path, extra={"name": name})
        return self.info(name)

    def info(self, name: str) -> ModelInfo:
        path = self.path(name)
        meta = read_metadata(path)
        return ModelInfo(
            name=name,
            path=path,
            size_bytes=int(meta.get("size_bytes", 0)),
            created_at=str(meta.get("created_at", "")),
            params=meta.get("params", {}),
            fingerprint=str(meta.get("fingerprint", "")),
            dataset=str(meta.get("dataset", "")),
            n_customers=int(meta.get("n_customers", 0)),
            n_products=int(meta.get("n_products", 0)),
            metadata=meta,
        )

    def list(self) -> list[ModelInfo]:
        """Saved models, newest first; entries with unreadable metadata are skipped (logged)."""
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.glob(f"*{SUFFIX}"):
            try:
                found.append(self.info(path.name[: -len(SUFFIX)]))
            except ModelStoreError as exc:
                log.warning("skipping %s: %s", path.name, exc)
        return sorted(found, key=lambda info: info.created_at, reverse=True)

    def load(self, name: str) -> Any:
        return load_pipeline(self.path(name))

    def delete(self, name: str) -> None:
        path = self.path(name)
        if not path.exists():
            raise ModelStoreError(f"No saved model named '{name}'.")
        path.unlink()
        metadata_path(path).unlink(missing_ok=True)
