"""Tests for importing question sets from JSONL, JSON and CSV files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from inspector.core.datasets import (
    Dataset,
    DatasetError,
    DatasetQuestion,
    detect_format,
    load_dataset,
    questions_digest,
)

GSM8K_ANSWER = (
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether.\n#### 1,072"
)


def _write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _jsonl(rows: list[object]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def test_jsonl_plain_and_aliases(tmp_path: Path) -> None:
    text = _jsonl(
        [
            {"question": "  What is 2+2? ", "answer": " 4 ", "id": "q1"},
            {"problem": "Capital of France?", "target": "Paris"},
            {"input": "How many?", "gold": 18, "id": 7, "solution": "Count them."},
        ]
    )
    dataset = load_dataset(_write(tmp_path / "set.jsonl", "\n" + text + "\n\n"))
    assert dataset == Dataset(
        "set",
        tmp_path / "set.jsonl",
        [
            DatasetQuestion(0, "What is 2+2?", "4", None, "q1"),
            DatasetQuestion(1, "Capital of France?", "Paris", None, None),
            DatasetQuestion(2, "How many?", "18", "Count them.", "7"),
        ],
    )


def test_gsm8k_native_format_with_bom(tmp_path: Path) -> None:
    text = _jsonl([{"question": "Natalia sold clips...", "answer": GSM8K_ANSWER}])
    dataset = load_dataset(_write(tmp_path / "gsm8k.jsonl", text, bom=True), name="GSM8K")
    assert dataset.name == "GSM8K"
    [question] = dataset.questions
    assert question.question == "Natalia sold clips..."
    assert question.answer == "1072"
    assert question.solution is not None
    assert question.solution.startswith("Natalia sold 48/2")
    assert question.solution.endswith("72 clips altogether.")


def test_json_array_with_element_lines(tmp_path: Path) -> None:
    text = '[\n  {"question": "a", "answer": "1"},\n\n  {"question": "b",\n   "answer": 2}\n]\n'
    dataset = load_dataset(_write(tmp_path / "set.json", text))
    assert [(q.question, q.answer) for q in dataset.questions] == [("a", "1"), ("b", "2")]
    bad = '[\n  {"question": "a", "answer": "1"},\n\n  {"question": "b",\n   "answer": null}\n]\n'
    with pytest.raises(DatasetError) as info:
        load_dataset(_write(tmp_path / "bad.json", bad))
    assert info.value.line == 4  # the line where the bad element starts
    assert "wrong type" in str(info.value)


def test_csv_with_bom_quoted_multiline_and_gsm8k(tmp_path: Path) -> None:
    gsm = GSM8K_ANSWER.replace('"', '""')
    # every answer in GSM8K's format: a file mixing it with plain answers is refused
    text = f'id,question,answer\nq1,"What is\n2+2?",#### 4\n\nq2,Clips?,"{gsm}"\n'
    dataset = load_dataset(_write(tmp_path / "set.csv", text, bom=True))
    assert [(q.index, q.id, q.question, q.answer) for q in dataset.questions] == [
        (0, "q1", "What is\n2+2?", "4"),
        (1, "q2", "Clips?", "1072"),
    ]
    assert dataset.questions[1].solution is not None
    assert dataset.questions[0].solution is None


@pytest.mark.parametrize(
    ("rows_text", "line", "problem"),
    [
        ('{"question": "a", "answer": "1"}\n{"question": "b", "answer": \n', 2, "bad JSON"),
        ('{"question": "a", "answer": "1"}\n\n{"answer": "2"}\n', 3, "missing question field"),
        ('{"question": "a"}\n', 1, "missing answer field"),
        ('{"question": "   ", "answer": "1"}\n', 1, "empty question"),
        ('{"question": 5, "answer": "1"}\n', 1, "wrong type (int)"),
        ('{"question": "a", "answer": [1]}\n', 1, "wrong type (list)"),
        ('{"question": "a", "answer": true}\n', 1, "wrong type (bool)"),
        ('{"question": "a", "answer": "  "}\n', 1, "empty answer"),
        ('{"question": "a", "answer": "work #### "}\n', 1, "empty answer"),
        ('["question", "answer"]\n', 1, "expected a JSON object, got list"),
        (
            '{"id": 1, "question": "a", "answer": "1"}\n'
            '{"id": "1", "question": "b", "answer": "2"}\n',
            2,
            "duplicate id '1' (first on line 1)",
        ),
    ],
)
def test_jsonl_errors_name_file_line_and_problem(
    tmp_path: Path, rows_text: str, line: int, problem: str
) -> None:
    path = _write(tmp_path / "bad.jsonl", rows_text)
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert info.value.line == line
    assert problem in info.value.problem
    assert str(info.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("question,answer\nq1,1\nq2,2,extra\n", 3, "3 fields but the header has 2"),
        ('question,answer\n"multi\nline",1\n,2\n', 4, "empty question"),
        ("question,answer\nq1,1\nq2\n", 3, "empty answer"),
        ("prompt,answer\nq1,1\n", 1, "no question column"),
        ("question,solution\nq1,1\n", 1, "no answer column"),
        ('question,answer\nq1,1\n"open,2\n', 3, "bad CSV"),
    ],
)
def test_csv_errors_use_physical_lines(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert (info.value.line, info.value.path) == (line, path)
    assert problem in str(info.value)


@pytest.mark.parametrize(
    ("name", "text"),
    [("empty.jsonl", ""), ("blank.jsonl", "\n  \n"), ("header.csv", "question,answer\n")],
)
def test_empty_files_are_rejected(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(DatasetError, match="no questions"):
        load_dataset(_write(tmp_path / name, text, bom=True))


def test_invalid_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"question": "a", "answer": "1"}\n{"question": "caf\xe9", "answer": "2"}\n')
    with pytest.raises(DatasetError, match="UTF-8") as info:
        load_dataset(path)
    assert info.value.line == 2


def test_format_detection_and_override(tmp_path: Path) -> None:
    assert detect_format("a.JSONL") == "jsonl"
    assert detect_format("a.json") == "jsonl"
    assert detect_format("a.csv") == "csv"
    assert detect_format("a.txt", "csv") == "csv"
    with pytest.raises(DatasetError, match="extension"):
        detect_format("a.txt")
    with pytest.raises(DatasetError, match="unknown format 'xml'"):
        detect_format("a.csv", "xml")
    path = _write(tmp_path / "questions.txt", "question,answer\nq,1\n")
    assert load_dataset(path, fmt="csv").questions[0].answer == "1"
    with pytest.raises(DatasetError, match="bad JSON"):
        load_dataset(path, fmt="jsonl")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot read file") as info:
        load_dataset(tmp_path / "nope.jsonl")
    assert info.value.line is None


def test_a_gsm8k_row_without_its_marker_is_refused_with_both_lines(tmp_path: Path) -> None:
    """Issue 14 item 14: "2+3 = 5. So 5" among GSM8K rows became the gold answer, silently."""
    rows = [
        {"question": "What is 2+3?", "answer": "2+3 = 5.\n#### 5"},
        {"question": "What is 1+4?", "answer": "1+4 = 5. So 5"},
    ]
    path = _write(tmp_path / "mixed.jsonl", _jsonl(rows))
    with pytest.raises(DatasetError) as error:
        load_dataset(path)
    assert error.value.line == 2
    assert str(error.value) == (
        f'{path}:2: mixed formats: line 1 is GSM8K ("… #### ANSWER") but line 2 has no '
        '"####"; give every answer the same format'
    )
    # the other order is refused the same way, at the GSM8K row
    path = _write(tmp_path / "mixed2.jsonl", _jsonl(rows[::-1]))
    with pytest.raises(DatasetError, match=r":2: mixed formats: line 2 is GSM8K"):
        load_dataset(path)


def test_a_gsm8k_gold_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    rows = [{"question": "Q?", "answer": "work\n#### five apples"}]
    path = _write(tmp_path / "bad.jsonl", _jsonl(rows))
    with pytest.raises(DatasetError) as error:
        load_dataset(path)
    assert str(error.value) == (
        f"{path}:1: the GSM8K answer after \"####\" is not a number: 'five apples'"
    )


def test_the_shipped_data_sets_load() -> None:
    root = Path(__file__).resolve().parents[2] / "resources" / "datasets"
    school = load_dataset(root / "gradeschool36.jsonl")
    assert len(school.questions) == 36
    assert all(q.solution for q in school.questions)
    assert [q.answer for q in school.questions[:3]] == ["14", "8", "18"]
    assert school.questions[19].answer == "32.5"
    assert len(load_dataset(root / "arithmetic24.jsonl").questions) == 24


def test_a_limit_keeps_only_the_first_questions_but_checks_and_identifies_all(
    tmp_path: Path,
) -> None:
    """Issue 14 item 15: `--limit 2` on a 394,208-row file stored every question."""
    rows = [{"question": f"What is {i} + 1?", "answer": str(i + 1)} for i in range(5000)]
    path = _write(tmp_path / "big.jsonl", _jsonl(rows))
    whole = load_dataset(path)
    first = load_dataset(path, limit=2)
    assert [q.question for q in first.questions] == ["What is 0 + 1?", "What is 1 + 1?"]
    assert (first.total, first.size, whole.size, whole.total) == (5000, 5000, 5000, None)
    assert first.digest == questions_digest(whole.questions)
    # a bad row after the limit is still found: nothing runs on a broken file
    rows[4000] = {"question": "no answer"}
    with pytest.raises(DatasetError, match=r":4001: missing answer field"):
        load_dataset(_write(tmp_path / "broken.jsonl", _jsonl(rows)), limit=2)


def test_the_digest_is_that_of_the_whole_list() -> None:
    import hashlib
    import json

    questions = [
        DatasetQuestion(0, "Q “1”?", "1", None, None),
        DatasetQuestion(1, "Q2?", "2", "sol", "id-2"),
    ]
    canonical = json.dumps(
        [["Q “1”?", "1", None, None], ["Q2?", "2", "sol", "id-2"]], ensure_ascii=False
    )
    assert questions_digest(questions) == hashlib.sha256(canonical.encode()).hexdigest()


def _error(path: Path) -> str:
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"question": "  ", "answer": "1"}, "empty question (field 'question')"),
        ({"problem": "q", "target": "  "}, "empty answer (field 'target')"),
        ({"q": "q", "answer": "1"}, "missing question field (one of question, problem, input)"),
        ({"question": "q"}, "missing answer field (one of answer, target, gold)"),
        ({"input": 5, "answer": "1"}, "field 'input' has the wrong type (int); expected text"),
        ({"question": "q", "gold": [1]}, "field 'gold' has the wrong type (list); expected text"),
        (
            {"question": "q", "answer": "1", "solution": True},
            "field 'solution' has the wrong type (bool); expected text",
        ),
        (
            {"question": "q", "answer": "1", "id": []},
            "field 'id' has the wrong type (list); expected text",
        ),
    ],
)
def test_each_bad_record_is_named_by_file_line_and_field(
    tmp_path: Path, record: dict, problem: str
) -> None:
    good = {"question": "fine", "answer": "1"}
    path = _write(tmp_path / "set.jsonl", _jsonl([good, record]))
    assert _error(path) == f"{path}:2: {problem}"


def test_numbers_as_text_and_the_last_gsm8k_marker(tmp_path: Path) -> None:
    row = {"question": "q", "answer": "1", "solution": 3.5, "id": 2.0}
    [first] = load_dataset(_write(tmp_path / "set.jsonl", _jsonl([row]))).questions
    assert (first.solution, first.id) == ("3.5", "2.0")
    row = {"question": "r", "answer": "Step ####x #### 5"}
    [second] = load_dataset(_write(tmp_path / "gsm8k.jsonl", _jsonl([row]))).questions
    assert (second.answer, second.solution) == ("5", "Step ####x")


def test_unreadable_and_undecodable_files_name_the_place(tmp_path: Path) -> None:
    for name in ("dir.csv", "dir.jsonl"):
        (tmp_path / name).mkdir()
        assert _error(tmp_path / name) == f"{tmp_path / name}: cannot read file: Is a directory"
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_bytes(b'{"question": "q", "answer": "1"}\n\xff\n')
    assert _error(jsonl) == f"{jsonl}:2: not valid UTF-8 text"
    csv = tmp_path / "bad.csv"
    csv.write_bytes(b"question,answer\nq,1\nr,\xff\n")
    assert _error(csv) == f"{csv}:3: not valid UTF-8 text"
    other = tmp_path / "set.txt"
    assert _error(other) == (
        f"{other}: cannot tell the format from the extension; use one of .jsonl, .ndjson, "
        ".json, .csv"
    )


def test_json_array_records_are_numbered_by_the_line_they_start_on(tmp_path: Path) -> None:
    array = tmp_path / "set.json"
    # a blank first line, and a "[" inside a question: the second record starts on line 4
    _write(array, '\n[\n{"question": "[x]", "answer": "1"},\n{"question": "y"}\n]')
    assert _error(array) == f"{array}:4: missing answer field (one of answer, target, gold)"
    _write(array, '[{"question": "[x]", "answer": "1"},{"question": "y"}]')  # no spaces
    assert _error(array) == f"{array}:1: missing answer field (one of answer, target, gold)"
    _write(array, '[{"question": "[x]", "answer": "1"}]')
    assert [q.question for q in load_dataset(array).questions] == ["[x]"]
    _write(array, "[]")
    assert _error(array) == f"{array}: the file contains no questions"


def test_csv_header_without_a_column_names_the_choices(tmp_path: Path) -> None:
    path = _write(tmp_path / "set.csv", "q,a\n1,2\n")
    assert _error(path) == f"{path}:1: header has no question column (question, problem, input)"
    _write(path, "question,a\n1,2\n")
    assert _error(path) == f"{path}:1: header has no answer column (answer, target, gold)"


def test_the_digest_is_sha256_of_the_canonical_json_list() -> None:
    questions = [
        DatasetQuestion(0, "Café?", "2", None, None),
        DatasetQuestion(1, "b", "3", "s", "i"),
    ]
    canonical = json.dumps([["Café?", "2", None, None], ["b", "3", "s", "i"]], ensure_ascii=False)
    assert questions_digest(questions) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_a_json_file_may_hold_json_lines_and_bad_json_is_placed(tmp_path: Path) -> None:
    path = tmp_path / "set.json"
    _write(path, '\n{"question": "a", "answer": "1"}\n{"question": "b"}\n')  # JSON Lines
    assert _error(path) == f"{path}:3: missing answer field (one of answer, target, gold)"
    _write(path, '[\n{"question": "a",\n]')
    assert _error(path) == f"{path}:3: bad JSON: Expecting property name enclosed in double quotes"
    # the second element starts on line 2, right after the comma and the line break
    _write(path, '[{"question": "a", "answer": "1"},\n{"question": "b"}]')
    assert _error(path) == f"{path}:2: missing answer field (one of answer, target, gold)"


def test_csv_lines_count_from_the_first_byte_and_quoted_line_breaks_stay(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_bytes(b"\nquestion,answer\n\xff,1\n")
    assert _error(path) == f"{path}:3: not valid UTF-8 text"
    path.write_bytes(b'question,answer\r\n"a\r\nb",1\r\n')
    [question] = load_dataset(path).questions
    assert question.question == "a\r\nb"


def test_mixed_formats_name_the_first_line_of_each_format(tmp_path: Path) -> None:
    gsm8k = {"question": "q", "answer": "2 + 2 = 4\n#### 4"}
    plain = {"question": "q", "answer": "4"}
    path = _write(tmp_path / "g.jsonl", _jsonl([gsm8k, gsm8k, plain]))
    with pytest.raises(DatasetError) as first_gsm8k:
        load_dataset(path)
    assert str(first_gsm8k.value) == (
        f'{path}:3: mixed formats: line 1 is GSM8K ("… #### ANSWER") but line 3 has no '
        '"####"; give every answer the same format'
    )
    path = _write(tmp_path / "p.jsonl", _jsonl([plain, plain, gsm8k]))
    with pytest.raises(DatasetError) as first_plain:
        load_dataset(path)
    assert str(first_plain.value) == (
        f'{path}:3: mixed formats: line 3 is GSM8K ("… #### ANSWER") but line 1 has no '
        '"####"; give every answer the same format'
    )


def test_an_empty_solution_or_id_is_none(tmp_path: Path) -> None:
    rows = [{"question": "q", "answer": "4", "solution": "", "id": ""}]
    [question] = load_dataset(_write(tmp_path / "e.jsonl", _jsonl(rows))).questions
    assert (question.solution, question.id) == (None, None)


def test_a_byte_order_mark_is_skipped_only_at_the_start_of_the_file(tmp_path: Path) -> None:
    row = json.dumps({"question": "q", "answer": "4"}) + "\n"
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + row.encode() + b"\xef\xbb\xbf" + row.encode())
    with pytest.raises(DatasetError, match=r"bom\.jsonl:2: "):
        load_dataset(path)


def test_csv_with_carriage_return_line_ends_loads(tmp_path: Path) -> None:
    # old Mac line ends (a lone CR) end rows too; a quoted CR stays in its field
    path = tmp_path / "cr.csv"
    path.write_bytes(b'question,answer\r"a\rb",1\rWhat is 2+2?,4\r')
    questions = load_dataset(path).questions
    assert [(q.question, q.answer) for q in questions] == [("a\rb", "1"), ("What is 2+2?", "4")]
