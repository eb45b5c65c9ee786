"""Prompt styles build exactly the text that is sent; retrieval finds similar questions."""

from __future__ import annotations

import pytest

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
