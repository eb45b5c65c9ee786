"""Prompt styles build exactly the text that is sent; retrieval finds similar questions."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import inspector
from inspector.core.prompts import (
    ANALOGICAL_INSTRUCTION,
    PromptError,
    WorkedExample,
    build_prompt,
    chat_prompt,
    load_examples,
    most_similar,
)
from inspector.engine import ChatTemplateError

QUESTION = "I have 3 apples and my dad has 2 more. How many do we have?"
SHOT = WorkedExample("What is 2 + 2?", "2 + 2 = 4.", "4")


def test_plain_and_zero_shot():
    assert build_prompt(QUESTION) == f"Q: {QUESTION}\nA:"
    assert build_prompt(QUESTION, "zero-shot-cot") == f"Q: {QUESTION}\nA: Let's think step by step."
    custom = build_prompt(QUESTION, "zero-shot-cot", zero_shot_suffix="Think it through.")
    assert custom.endswith("A: Think it through.")


def test_few_shot_uses_the_shipped_examples_by_default():
    shipped = load_examples()
    assert len(shipped) >= 3 and all(e.answer for e in shipped)
    prompt = build_prompt(QUESTION, "few-shot-cot")
    assert prompt.startswith(f"Q: {shipped[0].question}\nA: {shipped[0].solution}")
    assert prompt.count("The answer is") == len(shipped)
    assert prompt.endswith(f"Q: {QUESTION}\nA:")
    assert build_prompt(QUESTION, "few-shot-cot", examples=[SHOT]) == (
        f"Q: What is 2 + 2?\nA: 2 + 2 = 4. The answer is 4.\n\nQ: {QUESTION}\nA:"
    )


def test_analogical_recall_or_retrieved_examples():
    asks = build_prompt(QUESTION, "analogical")
    assert ANALOGICAL_INSTRUCTION in asks and QUESTION in asks
    retrieved = build_prompt(QUESTION, "analogical", retrieved=[SHOT])
    assert retrieved.startswith("Q: What is 2 + 2?") and ANALOGICAL_INSTRUCTION not in retrieved


def test_bad_inputs_are_prompt_errors(tmp_path):
    with pytest.raises(PromptError, match="unknown prompt style"):
        build_prompt(QUESTION, "telepathy")
    with pytest.raises(PromptError, match="empty"):
        build_prompt("   ")
    broken = tmp_path / "shots.json"
    broken.write_text('{"examples": [{"question": "x"}]}')
    with pytest.raises(PromptError, match=r"shots\.json"):
        load_examples(broken)


def test_chat_prompt_sends_messages_to_the_template():
    seen = []

    def template(messages):
        seen.append(messages)
        return "|".join(f"{m['role']}:{m['content']}" for m in messages)

    text = chat_prompt(QUESTION, "few-shot-cot", template, examples=[SHOT])
    assert [m["role"] for m in seen[0]] == ["user", "assistant", "user"]
    assert text.endswith(f"user:{QUESTION}")
    zero = chat_prompt(QUESTION, "zero-shot-cot", template)
    assert zero.endswith("Let's think step by step.")


def test_the_default_model_has_no_chat_template(engine):
    with pytest.raises(ChatTemplateError, match="no chat template"):
        engine.apply_chat_template([{"role": "user", "content": "hi"}])


def test_most_similar_ranks_by_shared_rare_words():
    candidates = [
        ("How many apples do my dad and I have?", WorkedExample("apples", "s", "1")),
        ("What is the speed of a train over 3 hours?", WorkedExample("train", "s", "2")),
        ("My dad has more apples than oranges.", WorkedExample("oranges", "s", "3")),
        (QUESTION, WorkedExample("same", "s", "4")),
    ]
    found = most_similar(QUESTION, candidates, n=2)
    assert [e.question for e in found] == ["apples", "oranges"]
    assert most_similar("zebra quantum", candidates) == []


SHOT2 = WorkedExample("What is 3 × 3?", "3 × 3 = 9.", "9")
STYLES = "plain, zero-shot-cot, few-shot-cot, analogical"


def test_several_examples_are_joined_without_a_separator():
    two = f"Q: What is 2 + 2?\nA: 2 + 2 = 4. The answer is 4.\n\nQ: What is 3 × 3?\nA: 3 × 3 = 9. The answer is 9.\n\nQ: {QUESTION}\nA:"  # noqa: E501
    assert build_prompt(QUESTION, "few-shot-cot", examples=[SHOT, SHOT2]) == two
    assert build_prompt(QUESTION, "analogical", retrieved=[SHOT, SHOT2]) == two
    assert build_prompt(QUESTION, "analogical", retrieved=[]) == (
        f"Q: {QUESTION}\n{ANALOGICAL_INSTRUCTION}\nA: Related problems:"
    )


def test_prompt_error_messages_in_full():
    with pytest.raises(
        PromptError, match=rf"^unknown prompt style 'telepathy' \(choose from {STYLES}\)$"
    ):
        build_prompt(QUESTION, "telepathy")
    with pytest.raises(
        PromptError, match=rf"^unknown prompt style 'telepathy' \(choose from {STYLES}\)$"
    ):
        chat_prompt(QUESTION, "telepathy", lambda messages: "")
    with pytest.raises(PromptError, match=r"^the question is empty$"):
        build_prompt(" \n ")


def test_load_examples_reads_a_list_or_an_object_as_utf8_text(tmp_path):
    listed = tmp_path / "list.json"
    listed.write_bytes('[{"question": "Café?", "solution": "Two.", "answer": 2}]'.encode())
    assert load_examples(listed) == [WorkedExample("Café?", "Two.", "2")]
    wrapped = tmp_path / "object.json"
    wrapped.write_text('{"examples": [{"question": "q", "solution": "s", "answer": "a"}]}')
    assert load_examples(wrapped) == [WorkedExample("q", "s", "a")]
    empty = tmp_path / "empty.json"
    empty.write_text('{"examples": []}')
    with pytest.raises(
        PromptError, match=rf"^{re.escape(str(empty))}: the file holds no worked examples$"
    ):
        load_examples(empty)
    missing = tmp_path / "missing.json"
    with pytest.raises(
        PromptError,
        match=rf"^{re.escape(str(missing))}: cannot read the worked-examples file "
        r"\(No such file or directory\)$",
    ):
        load_examples(missing)


def recorder():
    seen: list[list[dict[str, str]]] = []

    def template(messages):
        seen.append(messages)
        return "|".join(f"{m['role']}:{m['content']}" for m in messages)

    return seen, template


def test_chat_prompt_messages_for_each_style():
    seen, template = recorder()
    pair = [
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "2 + 2 = 4. The answer is 4."},
    ]
    chat_prompt(QUESTION, "analogical", template, retrieved=[SHOT])
    assert seen[-1] == [*pair, {"role": "user", "content": QUESTION}]
    # analogical answers to the retrieved examples only; without them it asks to recall
    chat_prompt(QUESTION, "analogical", template, examples=[SHOT])
    assert seen[-1] == [{"role": "user", "content": f"{QUESTION}\n{ANALOGICAL_INSTRUCTION}"}]
    # the other styles take no examples in messages
    for style in ("plain", "zero-shot-cot"):
        chat_prompt(QUESTION, style, template, examples=[SHOT], retrieved=[SHOT])
        assert len(seen[-1]) == 1
    assert seen[-2] == [{"role": "user", "content": QUESTION}]
    # few-shot without examples: the shipped ones, one exchange each
    shipped = load_examples()
    chat_prompt(QUESTION, "few-shot-cot", template)
    assert len(seen[-1]) == 2 * len(shipped) + 1
    assert seen[-1][0] == {"role": "user", "content": shipped[0].question}
    assert seen[-1][-1] == {"role": "user", "content": QUESTION}


# TF-IDF by hand (3 candidates, so idf(t) = ln(4 / (1 + df(t))) + 1): apples (df 1) 1.693,
# train and many (df 2) 1.288, zebra (df 0) 2.386. The query "apples train zebra" has norm
# 3.197; "many many apples": dot 1.693² = 2.867, norm 3.082 -> cosine 0.291; "train many":
# dot 1.288² = 1.658, norm 1.821 -> 0.285; "train": norm 1.288 -> 0.403.
TFIDF = [
    ("many many apples", WorkedExample("0", "s", "0")),
    ("train many", WorkedExample("1", "s", "1")),
    ("train", WorkedExample("2", "s", "2")),
]


def test_most_similar_ranks_by_tf_idf_cosine_by_hand():
    found = most_similar("apples train zebra", TFIDF, n=3)
    assert [e.question for e in found] == ["2", "0", "1"]
    assert [e.question for e in most_similar("apples train zebra", TFIDF)] == ["2", "0"]  # n=2
    # nothing to compare: a query or a candidate without words scores 0 and is left out
    assert most_similar("?!", TFIDF) == []
    assert SHOT not in most_similar("train", [("...", SHOT), *TFIDF], n=4)


def test_worked_examples_are_read_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """Under ``LC_ALL=C`` Python reads files as UTF-8 by itself (its UTF-8 mode); with that
    mode off (``PYTHONUTF8=0``) the locale's encoding is ASCII, and the file must still be
    read as the UTF-8 it is."""
    path = tmp_path / "shots.json"
    shot = {"question": "Half of 9 €?", "solution": "9 € ÷ 2 = 4½ €.", "answer": "4½"}
    path.write_bytes(json.dumps({"examples": [shot]}, ensure_ascii=False).encode("utf-8"))
    assert load_examples(path) == [WorkedExample("Half of 9 €?", "9 € ÷ 2 = 4½ €.", "4½")]
    script = (
        "import sys, locale\n"
        "from inspector.core.prompts import load_examples\n"
        "assert locale.getpreferredencoding(False) == 'ANSI_X3.4-1968'\n"
        "[shot] = load_examples(sys.argv[1])\n"
        "sys.stdout.buffer.write(shot.solution.encode('utf-8'))\n"
    )
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    root = Path(inspector.__file__).resolve().parents[1]  # the code under test, not another
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        env=env, cwd=root, capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert done.stdout.decode("utf-8") == "9 € ÷ 2 = 4½ €."
