"""Reading an import file safely: size and nesting limits, strict JSON, typed field access.

Every check raises :class:`Invalid` with the JSON location of the problem (e.g.
``sessions[0].nodes[3].tokens[7].logprob``); ``reading`` adds the file name.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

MAX_FILE_BYTES = 2 * 1024**3  # 2 GiB
MAX_DEPTH = 32  # a valid export nests 9 levels deep
MAX_STRING = 1024 * 1024  # characters in any one string
MAX_SESSIONS = 100_000
MAX_PATHS = 100_000  # in the whole file
MAX_TOKENS = 10_000_000  # in the whole file
MAX_NODES = 10_000_000
MAX_ALTERNATIVES = 1_000  # per token
MAX_ITEMS = 1_000_000  # annotations, questions, runs, tags, prompt tokens
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_INT_LIMIT = 2**63


class Invalid(ValueError):
    """A problem at ``where`` (a JSON location; "" for the file as a whole)."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)


def fail(where: str, problem: str) -> NoReturn:
    raise Invalid(where, problem)


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


# -- the file ---------------------------------------------------------------------------------
def load_json(path: Path) -> Any:
    """Parse ``path`` after checking its size, encoding and nesting depth."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        fail("", f"cannot read the file: {exc.strerror or exc}")
    if size > MAX_FILE_BYTES:
        fail("", f"the file is {size:,} bytes; imports are limited to {MAX_FILE_BYTES:,} bytes")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        fail("", f"cannot read the file: {exc.strerror or exc}")
    if not raw.strip():
        fail("", "the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail("", f"not UTF-8 text (bad byte at offset {exc.start})")
    check_nesting(text)
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated")
        hint = " (the file looks truncated)" if cut else ""
        fail("", f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}")
    except Invalid:
        raise
    except (ValueError, RecursionError) as exc:
        fail("", f"not valid JSON: {exc}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        fail("", f"an object has the key {duplicate!r} twice")
    return result


def check_nesting(text: str, limit: int = MAX_DEPTH) -> None:
    """Reject arrays/objects nested deeper than ``limit`` before the parser recurses."""
    plain = text.replace("\\\\", "").replace('\\"', "")
    structure = re.sub(r'"[^"]*"', "", re.sub(r'[^\[\]{}"]+', "", plain))
    if not structure:
        return
    codes = np.frombuffer(structure.encode("ascii", "replace"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    deepest = int(np.cumsum(steps).max())
    if deepest > limit:
        line = _first_too_deep_line(text, limit)
        fail("", f"arrays/objects nested {deepest} levels deep (at most {limit}) from line {line}")


def _first_too_deep_line(text: str, limit: int) -> int:
    depth, in_string, escaped, line = 0, False, False, 1
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            escaped = char == "\\" and not escaped
            in_string = escaped or char != '"'
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line
        elif char in "]}":
            depth -= 1
    return line


# -- typed fields -----------------------------------------------------------------------------
def get(obj: dict[str, Any], key: str, where: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        fail(where, f"missing field {key!r}")


def obj_at(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(where, f"expected an object, got {describe(value)}")
    return value


def get_obj(obj: dict[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    value = get(obj, key, where)
    if value is None and null:
        return None
    return obj_at(value, f"{where}.{key}")


def get_list(obj: dict[str, Any], key: str, where: str, limit: int) -> list[Any]:
    value = get(obj, key, where)
    if not isinstance(value, list):
        fail(f"{where}.{key}", f"expected an array, got {describe(value)}")
    if len(value) > limit:
        fail(f"{where}.{key}", f"{len(value):,} items is more than the limit of {limit:,}")
    return value


def check_str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        fail(where, f"expected a string, got {describe(value)}")
    if len(value) > MAX_STRING:
        fail(where, f"a string of {len(value):,} characters (the limit is {MAX_STRING:,})")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            fail(where, "the string holds an unpaired surrogate (\\ud800-\\udfff)")
    return value


def get_str(obj: dict[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    value = get(obj, key, where)
    if value is None and null:
        return None
    return check_str(value, f"{where}.{key}")


def check_int(value: Any, where: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        fail(where, f"expected an integer, got {describe(value)}")
    if not -_INT_LIMIT <= value < _INT_LIMIT:
        fail(where, "the integer does not fit in 64 bits")
    if minimum is not None and value < minimum:
        fail(where, f"expected at least {minimum}, got {value}")
    return value


def get_int(
    obj: dict[str, Any], key: str, where: str, *, null: bool = False, minimum: int | None = None
) -> Any:
    value = get(obj, key, where)
    if value is None and null:
        return None
    return check_int(value, f"{where}.{key}", minimum)


def check_float(value: Any, where: str) -> float:
    """A number; also ``"nan"``, ``"inf"``, ``"-inf"`` (how exports write non-finite floats)."""
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    fail(where, f"expected a number, got {describe(value)}")


def get_float(obj: dict[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    value = get(obj, key, where)
    if value is None and null:
        return None
    return check_float(value, f"{where}.{key}")


# ids are uuid hex as the app writes them; anything that could be a path or markup is refused
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def get_id(obj: dict[str, Any], key: str, where: str) -> str:
    """A session id: letters, digits, ``_ . -`` (not a path such as ``../../etc/passwd``)."""
    value = get_str(obj, key, where)
    if not _SAFE_ID.fullmatch(value) or ".." in value:
        fail(
            f"{where}.{key}",
            f"{value!r} is not a session id (letters, digits, '_', '.', '-'; at most 128)",
        )
    return str(value)


def get_timestamp(obj: dict[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    """An ISO 8601 date and time, as the app writes them."""
    value = get_str(obj, key, where, null=null)
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        fail(f"{where}.{key}", f"{value!r} is not a date and time (ISO 8601)")
    return value


def get_unit(obj: dict[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    """A number in [0, 1] (a probability or CoT-decoding's Δ)."""
    value = get_float(obj, key, where, null=null)
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        fail(f"{where}.{key}", f"{value} is outside 0–1")
    return value


def get_bool(obj: dict[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    value = get(obj, key, where)
    if value is None and null:
        return None
    if not isinstance(value, bool):
        fail(f"{where}.{key}", f"expected true or false, got {describe(value)}")
    return value


def get_choice(obj: dict[str, Any], key: str, where: str, choices: tuple[str, ...]) -> str:
    value = get_str(obj, key, where)
    if value not in choices:
        fail(f"{where}.{key}", f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def get_pair(obj: dict[str, Any], key: str, where: str) -> tuple[int, int] | None:
    """``null`` or ``[start, end]`` with 0 <= start <= end."""
    value = get(obj, key, where)
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2):
        fail(f"{where}.{key}", f"expected null or [start, end], got {describe(value)}")
    start = check_int(value[0], f"{where}.{key}[0]", 0)
    end = check_int(value[1], f"{where}.{key}[1]", start)
    return start, end


def check_json_strings(value: Any, where: str) -> None:
    """Free-form JSON (a model description): every string within the size limit."""
    stack = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            check_str(item, at)
        elif isinstance(item, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(item))
        elif isinstance(item, dict):
            stack.extend((v, f"{at}.{k}") for k, v in item.items())
        elif isinstance(item, float) and not math.isfinite(item):
            fail(at, "NaN and infinities are not allowed here")
