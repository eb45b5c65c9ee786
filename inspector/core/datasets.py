"""Import question sets (with gold answers) from JSON Lines, JSON arrays and CSV files.

Each record needs a question (field ``question``, or ``problem`` / ``input``) and an answer
(``answer``, or ``target`` / ``gold``); optional ``id`` and ``solution``. The first alias present
is used. GSM8K's native format is recognised: an answer containing ``####`` gives the gold
answer after the last ``####`` (canonical, e.g. ``1,000`` -> ``1000``; it must be a number) and
keeps the text before it as ``solution``. A file whose answers mix that format with plain answers is
refused, naming both lines (a GSM8K row that lost its ``####`` would otherwise make its whole
solution text the gold answer). Other answers are kept as written (stripped), since the
answer rule that will normalise them is not known at import time.

Format: ``.jsonl``/``.ndjson``/``.json`` are JSON (one object per line, or, for a ``.json`` file
starting with ``[``, an array of objects); ``.csv`` is comma-separated with a header row. ``fmt``
("jsonl" or "csv") overrides the extension. The whole file is parsed before anything is returned;
any problem raises ``DatasetError`` naming the file, the 1-based physical line and the problem.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from inspector.core.answers import normalize_number

DATASET_FORMATS: tuple[str, ...] = ("jsonl", "csv")
QUESTION_FIELDS: tuple[str, ...] = ("question", "problem", "input")
ANSWER_FIELDS: tuple[str, ...] = ("answer", "target", "gold")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


class DatasetError(ValueError):
    """A data set file that cannot be imported; ``str()`` is ``FILE:LINE: problem``."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class DatasetQuestion:
    """One question; ``index`` is its 0-based position in the data set."""

    index: int
    question: str
    answer: str
    solution: str | None
    id: str | None


@dataclass(frozen=True)
class Dataset:
    """A named question set loaded from ``path``.

    ``questions`` may be the first few of the file only (``load_dataset(limit=…)``); then
    ``total`` counts all of them (None when ``questions`` is the whole set). ``digest``
    identifies the whole set (:func:`questions_digest`; None if not computed yet)."""

    name: str
    path: Path
    questions: list[DatasetQuestion]
    total: int | None = None
    digest: str | None = field(default=None, compare=False)  # derived from the questions

    @property
    def size(self) -> int:
        """How many questions the data set has (loaded or not)."""
        return self.total if self.total is not None else len(self.questions)


class _Digest:
    """SHA-256 of the canonical JSON list ``[[question, answer, solution, id], …]``, fed one
    question at a time (the same digest as hashing the whole list at once)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256(b"[")
        self._count = 0

    def add(self, q: DatasetQuestion) -> None:
        item = json.dumps([q.question, q.answer, q.solution, q.id], ensure_ascii=False)
        self._hash.update(((", " if self._count else "") + item).encode("utf-8"))
        self._count += 1

    def hexdigest(self) -> str:
        final = self._hash.copy()
        final.update(b"]")
        return final.hexdigest()


def questions_digest(questions: Iterable[DatasetQuestion]) -> str:
    """What identifies a data set: the same questions (text, answer, solution, id, in order)
    give the same digest, whatever file they came from."""
    digest = _Digest()
    for question in questions:
        digest.add(question)
    return digest.hexdigest()


def detect_format(path: Path | str, fmt: str | None = None) -> str:
    """The format to read ``path`` as: ``fmt`` if given, else from the extension."""
    if fmt is not None:
        if fmt not in DATASET_FORMATS:
            raise DatasetError(path, f"unknown format {fmt!r}; expected one of jsonl, csv")
        return fmt
    found = _EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        known = ", ".join(_EXTENSIONS)
        raise DatasetError(path, f"cannot tell the format from the extension; use one of {known}")
    return found


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(path, f"cannot read file: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError(path, "not valid UTF-8 text", line) from exc


def _field(record: Mapping[str, object], names: tuple[str, ...]) -> tuple[str, object] | None:
    for name in names:
        if name in record:
            return name, record[name]
    return None


def _as_text(value: object, name: str) -> str:
    """A string, or an integer / finite float written as text; else a 'wrong type' problem."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise ValueError(f"field {name!r} has the wrong type ({type(value).__name__}); expected text")


def _make_question(record: Mapping[str, object], index: int) -> DatasetQuestion:
    """Build a question from a record; raises ``ValueError`` with the problem."""
    found_q = _field(record, QUESTION_FIELDS)
    if found_q is None:
        raise ValueError(f"missing question field (one of {', '.join(QUESTION_FIELDS)})")
    found_a = _field(record, ANSWER_FIELDS)
    if found_a is None:
        raise ValueError(f"missing answer field (one of {', '.join(ANSWER_FIELDS)})")
    if not isinstance(found_q[1], str):
        kind = type(found_q[1]).__name__
        raise ValueError(f"field {found_q[0]!r} has the wrong type ({kind}); expected text")
    question = found_q[1].strip()
    if not question:
        raise ValueError(f"empty question (field {found_q[0]!r})")
    answer = _as_text(found_a[1], found_a[0]).strip()
    solution_value = record.get("solution")
    solution = None if solution_value in (None, "") else _as_text(solution_value, "solution")
    if "####" in answer:
        solution_text, _, gold = answer.rpartition("####")
        gold = gold.strip()
        number = normalize_number(gold)
        if gold and number is None:
            raise ValueError(f'the GSM8K answer after "####" is not a number: {gold!r}')
        answer = number or gold
        solution = solution_text.strip() or solution
    if not answer:
        raise ValueError(f"empty answer (field {found_a[0]!r})")
    id_value = record.get("id")
    ident = None if id_value in (None, "") else _as_text(id_value, "id").strip()
    return DatasetQuestion(index, question, answer, solution, ident or None)


def _json_records(text: str, allow_array: bool) -> Iterator[tuple[int, object]]:
    """(line, value) of each JSON Lines record (or JSON array element if ``allow_array``)."""
    if allow_array and text.lstrip().startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _LineError(exc.lineno, f"bad JSON: {exc.msg}") from exc
        yield from _array_lines(text, values)
        return
    yield from _json_lines(enumerate(text.split("\n"), start=1))


def _json_lines(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, object]]:
    """(line, value) of each non-blank JSON Lines line."""
    for number, line in lines:
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise _LineError(number, f"bad JSON: {exc.msg} (column {exc.colno})") from exc


def _array_lines(text: str, values: object) -> Iterator[tuple[int, object]]:
    """Pair the elements of a decoded JSON array with the line each one starts on."""
    if not isinstance(values, list):
        raise _LineError(1, "expected a JSON array of objects")
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    for value in values:
        while text[position] in " \t\r\n,":
            position += 1
        yield text.count("\n", 0, position) + 1, value
        position = decoder.raw_decode(text, position)[1]


def _jsonl_file_records(path: Path) -> Iterator[tuple[int, object]]:
    """(line, value) of each record of a JSON Lines file, read one line at a time: a large
    file never sits in memory whole."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DatasetError(path, f"cannot read file: {exc.strerror or exc}") from exc
    with handle:
        yield from _json_lines(_decoded_lines(handle))


def _decoded_lines(handle: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(handle, start=1):
        try:
            yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise _LineError(number, "not valid UTF-8 text") from exc


def _csv_records(text: str) -> Iterator[tuple[int, object]]:
    """(first physical line, row dict) of each non-blank CSV row after the header."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _LineError(start, f"bad CSV: {exc}") from exc
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [name.strip() for name in row]
            for names, what in ((QUESTION_FIELDS, "question"), (ANSWER_FIELDS, "answer")):
                if not set(names) & set(header):
                    raise _LineError(start, f"header has no {what} column ({', '.join(names)})")
            continue
        if len(row) > len(header):
            raise _LineError(start, f"row has {len(row)} fields but the header has {len(header)}")
        yield start, dict(zip(header, [*row, *[""] * (len(header) - len(row))], strict=True))


def _is_gsm8k(record: Mapping[str, object]) -> bool:
    found = _field(record, ANSWER_FIELDS)
    return found is not None and isinstance(found[1], str) and "####" in found[1]


class _LineError(ValueError):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def load_dataset(
    path: Path | str,
    *,
    fmt: str | None = None,
    name: str | None = None,
    limit: int | None = None,
) -> Dataset:
    """Load a question set; raise ``DatasetError`` for any problem (nothing is half-imported).

    Every record is checked, but with ``limit`` only the first ``limit`` questions are kept
    (``Dataset.total`` and ``Dataset.digest`` still describe the whole file); JSON Lines files
    are read one line at a time."""
    path = Path(path)
    kind = detect_format(path, fmt)
    records: Iterator[tuple[int, object]]
    if kind == "csv":
        records = _csv_records(_read_text(path))
    elif path.suffix.lower() == ".json":
        records = _json_records(_read_text(path), allow_array=True)
    else:
        records = _jsonl_file_records(path)
    questions: list[DatasetQuestion] = []
    digest = _Digest()
    count = 0
    seen: dict[str, int] = {}
    first_gsm8k: int | None = None  # the line of the first GSM8K-style answer ("… #### 18")
    first_plain: int | None = None  # the line of the first answer without "####"
    try:
        for line, record in records:
            if not isinstance(record, dict):
                raise _LineError(line, f"expected a JSON object, got {type(record).__name__}")
            try:
                question = _make_question(record, count)
            except ValueError as exc:
                raise _LineError(line, str(exc)) from exc
            if _is_gsm8k(record):
                first_gsm8k = line if first_gsm8k is None else first_gsm8k
            else:
                first_plain = line if first_plain is None else first_plain
            if first_gsm8k is not None and first_plain is not None:
                raise _LineError(
                    max(first_gsm8k, first_plain),
                    f'mixed formats: line {first_gsm8k} is GSM8K ("… #### ANSWER") but line '
                    f'{first_plain} has no "####"; give every answer the same format',
                )
            if question.id is not None:
                if question.id in seen:
                    first = seen[question.id]
                    raise _LineError(line, f"duplicate id {question.id!r} (first on line {first})")
                seen[question.id] = line
            digest.add(question)
            count += 1
            if limit is None or len(questions) < limit:
                questions.append(question)
    except _LineError as exc:
        raise DatasetError(path, exc.problem, exc.line) from exc
    if not questions:
        raise DatasetError(path, "the file contains no questions")
    total = count if count != len(questions) else None
    return Dataset(name or path.stem, path, questions, total=total, digest=digest.hexdigest())
