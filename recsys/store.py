"""Saved models: one self-verifying file per model, written atomically under a store lock.

File format (``FORMAT_VERSION`` 2; all integers little-endian)::

    offset  size  field
         0     8  magic b"RECSYSM\\x00"
         8     2  format_version
        10     2  flags (bit 0: signed with the store key)
        12     4  length of the JSON metadata block
        16     8  length of the joblib payload
        24    32  HMAC-SHA256 over bytes 0-23 + metadata + payload (zeros when unsigned)
        56     -  JSON metadata (utf-8): params, library versions, fingerprint, shapes,
                  created_at, owner, format_version, sha256 of the payload, ...
         -     -  joblib payload (the pickled pipeline)

Metadata and model travel in one file, so a reader can never pair a model with another save's
metadata. A save serialises the model in memory, then, holding a lock on ``<root>/.store.lock``,
writes ``.<name>.joblib.<pid>.<token>.tmp`` beside the target, flushes and fsyncs it, renames it
into place with :func:`os.replace` and fsyncs the directory. A crash at any moment leaves either
the previous file or the new one; a dead writer's temporary file is removed the next time a store
is opened. Readers need no lock: a rename is atomic.

Loading reads the file once and verifies those same bytes before unpickling them: the header,
the format version, the payload's sha256 and, when a store key is configured (constructor
argument or ``$RECSYS_STORE_KEY``), the HMAC. With a key, an unsigned or wrongly signed file is
refused before any of it is unpickled. Without a key the checksum only detects damage: anyone who
can write the store directory could forge a model, so production deployments set a key.

Layout: the store root is the *team* area (shared, and the only area in single-user mode);
``<root>/users/<safe user id>/`` is a signed-in user's private area.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
import os
import re
import secrets
import struct
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import joblib
from filelock import FileLock, Timeout

from recsys.errors import DataWarning, ModelNotFoundError, ModelStoreError
from recsys.versions import version_mismatches

log = logging.getLogger(__name__)

MODEL_DIR_ENV = "RECSYS_MODEL_DIR"
KEY_ENV = "RECSYS_STORE_KEY"
FAULT_ENV = "RECSYS_STORE_FAULT"
DEFAULT_MODEL_DIR = Path("workspace") / "models"
SUFFIX = ".joblib"
META_SUFFIX = ".json"
FORMAT_VERSION = 2
MAGIC = b"RECSYSM\x00"
FLAG_SIGNED = 1
# magic, format_version, flags, metadata length, payload length, HMAC.
_HEADER = struct.Struct("<8sHHIQ32s")
_SIGNED_PREFIX = 24  # the HMAC covers the header up to (not including) the HMAC field
_MAX_METADATA = 1 << 20  # refuse absurd lengths from a damaged header instead of allocating them
# joblib's compression of the payload (tests turn it off to save time). lz4 at level 1: at 100k
# customers 59 MB in 0.17 s, loaded in 0.16 s; zlib level 1 took 0.98 s for 37 MB (loaded in
# 0.41 s), and no compression 138 MB. Files written with zlib still load: joblib reads the codec
# from the payload.
COMPRESS_CODEC = "lz4"
COMPRESS_LEVEL = 1
LOCK_NAME = ".store.lock"
LOCK_TIMEOUT_S = 120.0
STALE_TEMP_S = 15 * 60  # a temp file this old is abandoned even if its pid is alive (pid reuse)
USERS_DIR = "users"
LOCAL_OWNER = "local"

Area = Literal["private", "team"]
AREAS: tuple[Area, ...] = ("private", "team")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_TEMP = re.compile(r"^\..+\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")
_LEGACY_TEMP = re.compile(r"^\..+\.joblib(\.json)?\..+\.tmp$")  # mkstemp names of format 1


# -- test hooks ---------------------------------------------------------------------------------

#: Called with the name of each step of a save ('after-temp-write', 'after-fsync',
#: 'after-rename'); ``None`` in production, so a fault point costs one global lookup.
_fault_hook: Callable[[str], None] | None = None


def _fault_point(name: str) -> None:
    if _fault_hook is not None:
        _fault_hook(name)


def _block_at(point: str) -> Callable[[str], None]:
    """A hook that announces ``point`` on stderr and then hangs, so a test can kill the writer."""

    def hook(name: str) -> None:
        if name == point:
            sys.stderr.write(f"recsys-store-fault {name}\n")
            sys.stderr.flush()
            time.sleep(3600)

    return hook


if os.environ.get(FAULT_ENV):
    _fault_hook = _block_at(os.environ[FAULT_ENV])


# -- low-level file format ----------------------------------------------------------------------


def metadata_path(path: Path) -> Path:
    """The sidecar of a format-1 artifact (``model.joblib`` -> ``model.joblib.json``).

    Format 2 has no sidecar; this is kept to recognise and delete models saved in the old format.
    """
    return path.with_name(path.name + META_SUFFIX)


def _resolve_key(key: str | bytes | None) -> bytes | None:
    """The signing key: ``key`` if given, else ``$RECSYS_STORE_KEY``; ``None`` when neither."""
    if key is None:
        key = os.environ.get(KEY_ENV) or None
    if key is None:
        return None
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if not raw:
        return None
    if len(raw) < 16:
        log.warning("the model store key is shorter than 16 bytes: use a long random secret")
    return raw


def _mac(key: bytes, prefix: bytes, meta: bytes, payload: bytes) -> bytes:
    mac = hmac.new(key, prefix, hashlib.sha256)
    mac.update(meta)
    mac.update(payload)
    return mac.digest()


def _encode(
    pipeline: Any, extra: dict[str, Any], key: bytes | None
) -> tuple[bytes, bytes, dict[str, Any]]:
    """Serialise ``pipeline``: returns (header + metadata bytes, payload bytes, metadata)."""
    if not hasattr(pipeline, "metadata_"):
        raise ModelStoreError("Only a trained model can be saved: train it first.")
    buffer = io.BytesIO()
    compress = (COMPRESS_CODEC, COMPRESS_LEVEL) if COMPRESS_LEVEL else 0
    joblib.dump(pipeline, buffer, compress=compress)
    payload = buffer.getvalue()
    metadata = {
        **pipeline.metadata_,
        **extra,
        "format_version": FORMAT_VERSION,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "payload_bytes": len(payload),
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    meta = json.dumps(metadata, default=str, sort_keys=True).encode()
    flags = FLAG_SIGNED if key is not None else 0
    prefix = _HEADER.pack(MAGIC, FORMAT_VERSION, flags, len(meta), len(payload), b"")[
        :_SIGNED_PREFIX
    ]
    mac = _mac(key, prefix, meta, payload) if key is not None else bytes(32)
    head = _HEADER.pack(MAGIC, FORMAT_VERSION, flags, len(meta), len(payload), mac)
    return head + meta, payload, metadata


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (the new entry survives a power cut)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_name(path: Path) -> Path:
    # The pid lets a later opener tell a dead writer's leftovers from a live writer's file.
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _write_atomic(path: Path, head: bytes, payload: bytes) -> None:
    """Write ``head + payload`` to a temp file beside ``path``, fsync, rename, fsync the dir."""
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(head)
            fh.write(payload)
            fh.flush()
            _fault_point("after-temp-write")
            os.fsync(fh.fileno())
        _fault_point("after-fsync")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fault_point("after-rename")
    _fsync_dir(path.parent)


def _damaged(path: Path, what: str) -> ModelStoreError:
    return ModelStoreError(
        f"{path.name} does not match the checksum recorded when it was saved ({what}): it was "
        "changed or damaged after saving, so it is not loaded. Retrain and save the model again."
    )


@dataclass(frozen=True)
class _Artifact:
    flags: int
    mac: bytes
    prefix: bytes
    meta_bytes: bytes
    metadata: dict[str, Any]
    payload: bytes | None  # None when only the metadata was read


def _read(path: Path, *, payload: bool) -> _Artifact:
    """Read (and structurally check) one artifact through a single file handle."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise ModelNotFoundError(
            f"The model file {path.name} was deleted or not found: refresh the list of models."
        ) from None
    except OSError as exc:
        raise ModelStoreError(f"{path.name} cannot be read ({exc.strerror}).") from None
    with fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(_HEADER.size)
        if len(head) < 10 or head[:8] != MAGIC:
            if metadata_path(path).is_file():
                raise ModelStoreError(
                    f"{path.name} was saved in the old two-file format (model + .json sidecar) by "
                    "an earlier version of the app: it is incompatible and not loaded. Retrain "
                    "the model, save it again, and delete this entry."
                )
            raise ModelStoreError(
                f"{path.name} is not a model file written by this app (no valid header, so its "
                "checksum cannot be verified): it is not loaded. Retrain and save the model again."
            )
        (version,) = struct.unpack_from("<H", head, 8)
        if version != FORMAT_VERSION:
            if version > FORMAT_VERSION:
                hint = "a newer version of the app; update the app, or retrain and save it again"
            else:
                hint = "an older version of the app; retrain the model and save it again"
            raise ModelStoreError(
                f"{path.name} was saved by {hint} (file format {version}, this app reads format "
                f"{FORMAT_VERSION})."
            )
        if len(head) < _HEADER.size:
            raise _damaged(path, "truncated header")
        _, _, flags, meta_len, payload_len, mac = _HEADER.unpack(head)
        if meta_len > _MAX_METADATA or size != _HEADER.size + meta_len + payload_len:
            raise _damaged(path, "wrong length")
        meta_bytes = fh.read(meta_len)
        try:
            metadata = json.loads(meta_bytes)
        except ValueError:
            raise _damaged(path, "unreadable metadata") from None
        if not isinstance(metadata, dict):
            raise _damaged(path, "unreadable metadata")
        body = fh.read(payload_len) if payload else None
        if body is not None and len(body) != payload_len:  # shrunk while we read it
            raise _damaged(path, "truncated")
    return _Artifact(flags, mac, head[:_SIGNED_PREFIX], meta_bytes, metadata, body)


def _verify(path: Path, art: _Artifact, key: bytes | None) -> None:
    """Refuse the bytes unless checksum (and signature, with a key) match. Never unpickles."""
    assert art.payload is not None
    if hashlib.sha256(art.payload).hexdigest() != art.metadata.get("sha256"):
        raise _damaged(path, "sha256 of the model data")
    if key is None:
        return
    if not art.flags & FLAG_SIGNED:
        raise ModelStoreError(
            f"{path.name} is not signed, and this app only loads models signed with its store "
            "key: it is not loaded. Retrain and save it again with this app."
        )
    if not hmac.compare_digest(art.mac, _mac(key, art.prefix, art.meta_bytes, art.payload)):
        raise ModelStoreError(
            f"{path.name} has a signature that does not match this app's store key: it was "
            "saved with another key or changed afterwards, so it is not loaded. Retrain and "
            "save it again."
        )


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of an artifact, read from its header without loading the model.

    Parameters
    ----------
    path : path
        A file written by :func:`save_pipeline` or :meth:`ModelStore.save`.

    Returns
    -------
    dict
        The recorded metadata plus ``signed`` (whether the file carries a signature; it is
        *not* checked here).

    Raises
    ------
    ModelStoreError
        Missing (:class:`~recsys.errors.ModelNotFoundError`), old format, other format version,
        or a damaged header.
    """
    art = _read(Path(path), payload=False)
    return {**art.metadata, "signed": bool(art.flags & FLAG_SIGNED)}


def save_pipeline(
    pipeline: Any,
    path: str | Path,
    *,
    extra: dict[str, Any] | None = None,
    key: str | bytes | None = None,
) -> dict[str, Any]:
    """Save a fitted pipeline to ``path`` as one verified artifact, atomically.

    Parameters
    ----------
    pipeline : RecommenderPipeline
        A fitted pipeline (it has ``metadata_``).
    path : path
        The target file; its directory is created if needed. An existing file is replaced.
    extra : dict, optional
        More metadata to record (e.g. ``name``, ``owner``).
    key : str or bytes, optional
        Signing key; defaults to ``$RECSYS_STORE_KEY``. Unsigned when neither is set.

    Returns
    -------
    dict
        The recorded metadata plus ``size_bytes`` (the file size) and ``file``.
    """
    path = Path(path)
    head, payload, metadata = _encode(
        pipeline, {"owner": LOCAL_OWNER, **(extra or {})}, _resolve_key(key)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, head, payload)
    size = len(head) + len(payload)
    log.info("saved model to %s (%d bytes)", path.name, size)
    return {**metadata, "size_bytes": size, "file": path.name}


def load_pipeline(path: str | Path, *, key: str | bytes | None = None) -> Any:
    """Load a saved pipeline after verifying the very bytes that are unpickled.

    Parameters
    ----------
    path : path
        A file written by :func:`save_pipeline` or :meth:`ModelStore.save`.
    key : str or bytes, optional
        Store key; defaults to ``$RECSYS_STORE_KEY``. With a key, unsigned or wrongly signed
        files are refused before unpickling.

    Returns
    -------
    RecommenderPipeline

    Raises
    ------
    ModelStoreError
        Missing, deleted meanwhile, old or unknown format, damaged, unsigned or wrongly signed,
        or not a recommender.

    Warns
    -----
    DataWarning
        When the library versions differ from those the model was saved with.
    """
    path = Path(path)
    art = _read(path, payload=True)
    _verify(path, art, _resolve_key(key))
    mismatches = version_mismatches(art.metadata.get("versions", {}))
    if mismatches:
        listed = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in mismatches.items())
        warnings.warn(
            f"{path.name} was saved with other library versions ({listed}); its "
            "results may differ. Retrain it to be sure.",
            DataWarning,
            stacklevel=2,
        )
    try:
        # Unpickle the verified bytes themselves: re-opening the file could read other bytes.
        pipeline = joblib.load(io.BytesIO(art.payload))
    except Exception as exc:  # unpickling errors come in many types
        raise ModelStoreError(
            f"{path.name} could not be loaded: {exc}. Retrain the model."
        ) from exc
    if not hasattr(pipeline, "recommend"):
        raise ModelStoreError(f"{path.name} does not hold a recommender model.")
    return pipeline


# -- users and areas ----------------------------------------------------------------------------


def normalise_user(user: str) -> str:
    """The canonical form of a user id (an e-mail address): trimmed and case-folded.

    Raises
    ------
    ModelStoreError
        For an empty, overlong or control-character id.
    """
    ident = (user or "").strip().casefold()
    if not ident or len(ident) > 254 or any(ord(c) < 32 or ord(c) == 127 for c in ident):
        raise ModelStoreError(f"'{user}' is not a usable user id.")
    return ident


def user_dir_name(user: str) -> str:
    """A safe directory name for a user id: a readable part plus a hash, never a path.

    >>> user_dir_name("Alice.Smith@Example.com")
    'u-alice.smith-example.com-7dcd3a39ad3a8d21'
    """
    ident = normalise_user(user)
    readable = re.sub(r"[^a-z0-9._-]+", "-", ident)[:40].strip("._-") or "user"
    # The hash keeps ids that sanitise alike ("a+b@x", "a-b@x") apart.
    return f"u-{readable}-{hashlib.sha256(ident.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the model store, read from its metadata without loading the model.

    ``problem`` is empty for a loadable-looking entry; otherwise it says why the file cannot be
    loaded (old format, damaged, newer version) and what to do, and the other fields are mostly
    empty. ``area`` is ``"team"`` or ``"private"``; ``owner`` the user id that saved it, or
    ``"local"`` (single-user mode), or ``""`` when unknown.
    """

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
    area: str = "team"
    owner: str = LOCAL_OWNER
    problem: str = ""

    @property
    def ok(self) -> bool:
        """Whether the header is readable (loading still verifies the data)."""
        return not self.problem


def _info_from(name: str, path: Path, area: str, metadata: dict[str, Any], size: int) -> ModelInfo:
    return ModelInfo(
        name=name,
        path=path,
        size_bytes=size,
        created_at=str(metadata.get("created_at", "")),
        params=metadata.get("params", {}),
        fingerprint=str(metadata.get("fingerprint", "")),
        dataset=str(metadata.get("dataset", "")),
        n_customers=int(metadata.get("n_customers", 0)),
        n_products=int(metadata.get("n_products", 0)),
        metadata=metadata,
        area=area,
        owner=str(metadata.get("owner", LOCAL_OWNER)),
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class ModelStore:
    """A directory of saved models that survives restarts of the app.

    Parameters
    ----------
    root : path, optional
        The directory; defaults to ``$RECSYS_MODEL_DIR`` or ``./workspace/models``. It is the
        team area; private areas are ``<root>/users/<safe user id>/``.
    user : str, optional
        The signed-in user's id (e-mail address). ``None`` is single-user mode: one area (the
        team area), everything owned by ``"local"``.
    key : str or bytes, optional
        Signing key; defaults to ``$RECSYS_STORE_KEY``. With a key, saves are signed and only
        correctly signed models load.

    Notes
    -----
    Opening a store removes temporary files left by writers that died mid-save.
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        user: str | None = None,
        key: str | bytes | None = None,
    ) -> None:
        self.root = Path(root or os.environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR)
        self.user = normalise_user(user) if user is not None else None
        self._key = _resolve_key(key)
        self.clean_stale_temps()

    # -- places

    @property
    def owner(self) -> str:
        """The owner recorded on this store's saves: the user id, or ``"local"``."""
        return self.user if self.user is not None else LOCAL_OWNER

    def area_dir(self, area: Area) -> Path:
        """The directory of ``area`` for this store's user."""
        if area == "team":
            return self.root
        if area == "private":
            if self.user is None:
                raise ModelStoreError(
                    "Private models need a signed-in user: save to the team area instead."
                )
            return self.root / USERS_DIR / user_dir_name(self.user)
        raise ModelStoreError(f"'{area}' is not an area: use 'private' or 'team'.")

    @property
    def default_area(self) -> Area:
        """``"private"`` for a signed-in user, else ``"team"`` (the only area)."""
        return "private" if self.user is not None else "team"

    def visible_areas(self) -> tuple[Area, ...]:
        """The areas this store's user can list and load from."""
        return ("private", "team") if self.user is not None else ("team",)

    def path(self, name: str, area: Area | None = None) -> Path:
        """The file of model ``name`` in ``area`` (default: :attr:`default_area`)."""
        if not _NAME.match(name or ""):
            raise ModelStoreError(
                f"'{name}' is not a valid model name: use up to 80 letters, digits, '-', '_' or "
                "'.', starting with a letter or digit."
            )
        return self.area_dir(area or self.default_area) / f"{name}{SUFFIX}"

    def describe(self) -> str:
        """Where the models live, safe to show in the UI (no absolute path, no user hash)."""
        try:
            shown = str(self.root.resolve().relative_to(Path.cwd().resolve())) or "."
        except ValueError:
            shown = f"…/{self.root.name}" if self.root.name else "model store"
        areas = "team area" if self.user is None else f"team area + private area of {self.user}"
        return f"{shown} ({areas})"

    def _resolve(self, name: str, area: Area | None) -> tuple[Path, Area]:
        """The one existing file for ``name``; with no area, looks in every visible area."""
        if area is not None:
            return self.path(name, area), area
        found = [(self.path(name, a), a) for a in self.visible_areas()]
        existing = [(p, a) for p, a in found if p.is_file()]
        if not existing:
            raise ModelNotFoundError(f"No saved model named '{name}'.")
        if len(existing) > 1:
            raise ModelStoreError(
                f"'{name}' exists both in your private area and in the team area: say which "
                "one you mean."
            )
        return existing[0]

    @contextlib.contextmanager
    def _locked(self, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(self.root / LOCK_NAME, timeout=timeout):
                yield
        except Timeout:
            raise ModelStoreError(
                "The model store is busy with another save: try again in a moment."
            ) from None

    def _check_owner(self, path: Path, name: str, verb: str) -> None:
        """Only the owner may delete or overwrite a model (any user in single-user mode)."""
        if self.user is None:
            return
        try:
            owner = str(_read(path, payload=False).metadata.get("owner", LOCAL_OWNER))
        except ModelNotFoundError:
            raise
        except ModelStoreError:
            return  # unloadable junk (old format, damaged): removing it loses nothing
        if owner != self.user:
            raise ModelStoreError(
                f"'{name}' belongs to {owner}: only its owner can {verb} it. Save yours under "
                "another name."
            )

    # -- operations

    def exists(self, name: str, area: Area | None = None) -> bool:
        """Whether a model ``name`` exists (in ``area``, or in any visible area)."""
        if area is not None:
            return self.path(name, area).is_file()
        return any(self.path(name, a).is_file() for a in self.visible_areas())

    def save(
        self,
        pipeline: Any,
        name: str,
        *,
        area: Area | None = None,
        overwrite: bool = False,
    ) -> ModelInfo:
        """Save ``pipeline`` as ``name``.

        Parameters
        ----------
        pipeline : RecommenderPipeline
            A fitted pipeline.
        name : str
            Up to 80 letters, digits, ``-``, ``_``, ``.``.
        area : {"private", "team"}, optional
            Default :attr:`default_area` (private for a signed-in user, else team).
        overwrite : bool
            Replace an existing model of that name (only the owner may).

        Returns
        -------
        ModelInfo

        Raises
        ------
        ModelStoreError
            Bad name, name taken (exactly one of two racing savers wins), not the owner,
            untrained pipeline, store busy.
        """
        area = area or self.default_area
        path = self.path(name, area)
        if not overwrite and path.exists():  # fail fast, before the slow serialisation
            raise self._exists_error(name)
        # Serialise outside the lock (the slow, CPU-bound part) so other saves wait only for IO.
        head, payload, metadata = _encode(pipeline, {"name": name, "owner": self.owner}, self._key)
        # Private areas are readable by the app's account only.
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if area == "private" else 0o777)
        with self._locked():
            # Re-check under the lock: the check and the rename must be one step for racers.
            if path.exists():
                if not overwrite:
                    raise self._exists_error(name)
                self._check_owner(path, name, "overwrite")
            _write_atomic(path, head, payload)
        size = len(head) + len(payload)
        log.info("saved model %s (%s area, %d bytes)", name, area, size)
        return _info_from(name, path, area, metadata, size)

    @staticmethod
    def _exists_error(name: str) -> ModelStoreError:
        return ModelStoreError(
            f"A model named '{name}' already exists: choose another name or allow overwriting."
        )

    def info(self, name: str, area: Area | None = None) -> ModelInfo:
        """The metadata of ``name`` without loading the model (raises for unreadable files)."""
        path, area = self._resolve(name, area)
        art = _read(path, payload=False)
        size = _HEADER.size + len(art.meta_bytes) + int(art.metadata.get("payload_bytes", 0))
        meta = {**art.metadata, "signed": bool(art.flags & FLAG_SIGNED)}
        return _info_from(name, path, area, meta, size)

    def list(self) -> list[ModelInfo]:
        """Models this user may see (private, then team), newest first.

        Unreadable entries (old format, damaged, newer format) are listed with ``problem`` set
        instead of breaking the listing; files deleted while listing are left out.
        """
        found = []
        for area in self.visible_areas():
            directory = self.area_dir(area)
            if not directory.is_dir():
                continue
            for path in directory.glob(f"*{SUFFIX}"):
                name = path.name[: -len(SUFFIX)]
                if not _NAME.match(name) or not path.is_file():
                    continue
                try:
                    found.append(self.info(name, area))
                except ModelNotFoundError:
                    continue  # deleted meanwhile
                except ModelStoreError as exc:
                    log.warning("listing %s with a problem: %s", path.name, exc)
                    found.append(self._problem_info(name, path, area, str(exc)))
        return sorted(found, key=lambda info: info.created_at, reverse=True)

    @staticmethod
    def _problem_info(name: str, path: Path, area: str, problem: str) -> ModelInfo:
        try:
            stat = path.stat()
            size, when = stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)
        except OSError:
            size, when = 0, datetime.now(UTC)
        return ModelInfo(
            name=name,
            path=path,
            size_bytes=size,
            created_at=when.isoformat(timespec="seconds"),
            area=area,
            owner="",
            problem=problem,
        )

    def load(self, name: str, area: Area | None = None) -> Any:
        """Load ``name`` after verifying it (see :func:`load_pipeline`)."""
        path, _ = self._resolve(name, area)
        return load_pipeline(path, key=self._key)

    def delete(self, name: str, area: Area | None = None) -> None:
        """Delete ``name``; only its owner may (anyone in single-user mode).

        Raises
        ------
        ModelStoreError
            Not found (:class:`~recsys.errors.ModelNotFoundError`), not the owner, or ambiguous.
        """
        path, area = self._resolve(name, area)
        with self._locked():
            if not path.is_file():
                raise ModelNotFoundError(f"No saved model named '{name}'.")
            self._check_owner(path, name, "delete")
            path.unlink()
            metadata_path(path).unlink(missing_ok=True)  # an old-format sidecar
            _fsync_dir(path.parent)
        log.info("deleted model %s (%s area)", name, area)

    def clean_stale_temps(self) -> int:
        """Remove temporary files of writers that died mid-save; returns how many.

        Skipped (returns 0) when another process holds the store lock: it is saving now, and
        the next opener cleans up.
        """
        if not self.root.is_dir():
            return 0
        directories = [self.root]
        users = self.root / USERS_DIR
        if users.is_dir():
            directories += [d for d in users.iterdir() if d.is_dir() and not d.is_symlink()]
        removed = 0
        try:
            with FileLock(self.root / LOCK_NAME, timeout=0):
                now = time.time()
                for directory in directories:
                    for entry in directory.iterdir():
                        if self._is_stale(entry, now):
                            with contextlib.suppress(OSError):
                                entry.unlink()
                                removed += 1
        except Timeout:
            return 0
        except OSError as exc:  # read-only store: loading still works
            log.warning("could not clean temporary files in the model store: %s", exc)
            return removed
        if removed:
            log.warning("removed %d temporary file(s) left by interrupted saves", removed)
        return removed

    @staticmethod
    def _is_stale(entry: Path, now: float) -> bool:
        name = entry.name
        if not (name.startswith(".") and name.endswith(".tmp")):
            return False
        match = _TEMP.match(name)
        if match is None and not _LEGACY_TEMP.match(name):
            return False
        try:
            old = now - entry.lstat().st_mtime > STALE_TEMP_S
        except OSError:
            return False
        # Writers create temps only while holding the lock we hold now, so a temp of a live
        # pid is someone else's (pid reuse) or this process's failed cleanup; age decides.
        return old or (match is not None and not _pid_alive(int(match["pid"])))
