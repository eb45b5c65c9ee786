"""A small, dependency-free reader of a GGUF file's header.

Used to tell a user *why* a file cannot be loaded (not GGUF, truncated, unknown architecture)
before or after llama.cpp refuses it, and to read metadata without loading the weights.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from inspector.engine.errors import ModelFileNotFoundError, NotGGUFError, TruncatedModelError

GGUF_MAGIC = b"GGUF"
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
# ggml type id -> (bytes per block, elements per block), for the truncation check.
_TYPE_SIZES = {
    0: (4, 1), 1: (2, 1), 2: (18, 32), 3: (20, 32), 6: (22, 32), 7: (24, 32), 8: (34, 32),
    9: (36, 32), 10: (84, 256), 11: (110, 256), 12: (144, 256), 13: (176, 256), 14: (210, 256),
    15: (292, 256), 24: (1, 1), 25: (2, 1), 26: (4, 1), 27: (8, 1), 28: (8, 1), 30: (2, 1),
}  # fmt: skip
_MAX_ARRAY_KEEP = 64


@dataclass
class GGUFHeader:
    """The metadata and tensor layout of a GGUF file (large arrays are summarised by length)."""

    version: int
    metadata: dict[str, Any] = field(default_factory=dict)
    array_lengths: dict[str, int] = field(default_factory=dict)
    n_tensors: int = 0
    data_end: int | None = None  # bytes the tensor data needs; None if a type is unknown

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None


class _Reader:
    def __init__(self, handle: BinaryIO, path: Path) -> None:
        self.handle, self.path = handle, path

    def take(self, size: int) -> bytes:
        data = self.handle.read(size)
        if len(data) != size:
            raise TruncatedModelError(f"{self.path} is truncated: the GGUF header ends early")
        return data

    def scalar(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        return self.take(self.scalar("<Q")).decode("utf-8", "replace")

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = self.scalar("<I"), self.scalar("<Q")
            return [self.value(item_kind) for _ in range(count)]
        raise NotGGUFError(f"{self.path} has an unknown GGUF value type {kind}")


def check_exists(path: Path) -> None:
    if not path.exists():
        raise ModelFileNotFoundError(f"Model file not found: {path}")
    if not path.is_file():
        raise ModelFileNotFoundError(f"Model path is not a file: {path}")


def check_magic(path: Path) -> None:
    """Raise unless the file starts like a GGUF file."""
    check_exists(path)
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise NotGGUFError(f"{path} is not a GGUF model file (it does not start with 'GGUF')")


def read_header(path: Path) -> GGUFHeader:
    """Parse the header and tensor table; raise a typed error if the file is not sound."""
    check_magic(path)
    with path.open("rb") as handle:
        reader = _Reader(handle, path)
        reader.take(4)
        header = GGUFHeader(version=reader.scalar("<I"))
        header.n_tensors, n_kv = reader.scalar("<Q"), reader.scalar("<Q")
        for _ in range(n_kv):
            key, kind = reader.string(), reader.scalar("<I")
            value = reader.value(kind)
            if isinstance(value, list):
                header.array_lengths[key] = len(value)
                value = value if len(value) <= _MAX_ARRAY_KEEP else None
            if value is not None:
                header.metadata[key] = value
        header.data_end = _tensor_data_end(reader, header)
    if header.data_end is not None and header.data_end > path.stat().st_size:
        raise TruncatedModelError(
            f"{path} is truncated: its tensors need {header.data_end:,} bytes "
            f"but the file has {path.stat().st_size:,}"
        )
    return header


def _tensor_data_end(reader: _Reader, header: GGUFHeader) -> int | None:
    end, known = 0, True
    for _ in range(header.n_tensors):
        reader.string()
        dims = [reader.scalar("<Q") for _ in range(reader.scalar("<I"))]
        kind, offset = reader.scalar("<I"), reader.scalar("<Q")
        if kind not in _TYPE_SIZES:
            known = False
            continue
        block_bytes, block_elems = _TYPE_SIZES[kind]
        elements = 1
        for dim in dims:
            elements *= dim
        end = max(end, offset + elements // block_elems * block_bytes)
    alignment = int(header.metadata.get("general.alignment", 32))
    start = -(-reader.handle.tell() // alignment) * alignment
    return start + end if known else None
