"""Prompt styles: plain, zero-shot CoT, few-shot CoT and analogical recall.

The raw-completion format (``Q: …\\nA:``) is the default because it is what a *base* model
continues naturally; the chat template is used only on request and only when the model has one.
The exact text built here is what is sent and stored.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROMPT_STYLES: tuple[str, ...] = ("plain", "zero-shot-cot", "few-shot-cot", "analogical")
RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
DEFAULT_FEW_SHOT = RESOURCES / "few_shot_cot.json"
ANALOGICAL_INSTRUCTION = (
    "First recall two related problems you have solved before and their solutions. "
    "Then solve the problem step by step."
)


class PromptError(ValueError):
    """A prompt cannot be built (unknown style, bad examples file, no chat template)."""


@dataclass(frozen=True)
class WorkedExample:
    question: str
    solution: str
    answer: str

    def render(self) -> str:
        return f"Q: {self.question}\nA: {self.solution} The answer is {self.answer}.\n\n"


def load_examples(path: Path | None = None) -> list[WorkedExample]:
    """Worked examples from a JSON file ``{"examples": [{question, solution, answer}, …]}``."""
    path = path or DEFAULT_FEW_SHOT
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        items = data["examples"] if isinstance(data, dict) else data
        examples = [
            WorkedExample(str(e["question"]), str(e["solution"]), str(e["answer"])) for e in items
        ]
    except OSError as error:  # missing, unreadable: the system's words, not its repr
        reason = error.strerror or type(error).__name__
        raise PromptError(f"{path}: cannot read the worked-examples file ({reason})") from error
    except (ValueError, KeyError, TypeError) as error:
        raise PromptError(f"{path}: not a valid worked-examples file ({error})") from error
    if not examples:
        raise PromptError(f"{path}: the file holds no worked examples")
    return examples


def _question_block(question: str) -> str:
    return f"Q: {question.strip()}\nA:"


def build_prompt(
    question: str,
    style: str = "plain",
    *,
    zero_shot_suffix: str = "Let's think step by step.",
    examples: Sequence[WorkedExample] | None = None,
    retrieved: Sequence[WorkedExample] | None = None,
) -> str:
    """The raw-completion prompt for ``question`` in ``style``.

    ``analogical`` with ``retrieved`` examples (verified paths from earlier sessions) inserts
    them as worked examples; without any, it asks the model to recall related problems first.
    """
    if not question.strip():
        raise PromptError("the question is empty")
    if style == "plain":
        return _question_block(question)
    if style == "zero-shot-cot":
        return f"{_question_block(question)} {zero_shot_suffix.strip()}"
    if style == "few-shot-cot":
        shots = list(examples) if examples is not None else load_examples()
        return "".join(e.render() for e in shots) + _question_block(question)
    if style == "analogical":
        if retrieved:
            return "".join(e.render() for e in retrieved) + _question_block(question)
        return f"Q: {question.strip()}\n{ANALOGICAL_INSTRUCTION}\nA: Related problems:"
    raise PromptError(f"unknown prompt style '{style}' (choose from {', '.join(PROMPT_STYLES)})")


def chat_prompt(
    question: str,
    style: str,
    apply_template: Callable[[list[dict[str, str]]], str],
    *,
    zero_shot_suffix: str = "Let's think step by step.",
    examples: Sequence[WorkedExample] | None = None,
    retrieved: Sequence[WorkedExample] | None = None,
) -> str:
    """The same styles as chat messages, rendered with the model's own template."""
    messages: list[dict[str, str]] = []
    shots = retrieved if style == "analogical" else examples
    if style == "few-shot-cot" and shots is None:
        shots = load_examples()
    if style in ("few-shot-cot", "analogical") and shots:
        for shot in shots:
            messages.append({"role": "user", "content": shot.question})
            messages.append(
                {"role": "assistant", "content": f"{shot.solution} The answer is {shot.answer}."}
            )
    content = question.strip()
    if style == "zero-shot-cot":
        content = f"{content}\n{zero_shot_suffix.strip()}"
    elif style == "analogical" and not shots:
        content = f"{content}\n{ANALOGICAL_INSTRUCTION}"
    elif style not in PROMPT_STYLES:
        raise PromptError(
            f"unknown prompt style '{style}' (choose from {', '.join(PROMPT_STYLES)})"
        )
    messages.append({"role": "user", "content": content})
    return apply_template(messages)


_WORD = re.compile(r"[a-z]+|\d+")


def _terms(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def most_similar(
    question: str, candidates: Sequence[tuple[str, WorkedExample]], n: int = 2
) -> list[WorkedExample]:
    """The ``n`` candidates whose questions are closest to ``question`` (TF-IDF cosine).

    ``candidates`` pairs an earlier question with a verified worked example for it.
    Exact repeats of the question are skipped: recalling the answer is not reasoning.
    """
    docs = [_terms(q) for q, _ in candidates]
    query = _terms(question)
    df = Counter(term for doc in docs for term in doc)
    total = len(docs) + 1

    def vector(terms: Counter[str]) -> dict[str, float]:
        # smoothed idf (+1): a word every candidate shares still counts a little
        return {t: c * (math.log(total / (1 + df.get(t, 0))) + 1.0) for t, c in terms.items()}

    def cosine(a: dict[str, float], b: dict[str, float]) -> float:
        dot = sum(v * b.get(t, 0.0) for t, v in a.items())
        norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
        return dot / norm if norm else 0.0

    query_vec = vector(query)
    scored = [
        (cosine(query_vec, vector(doc)), index)
        for index, doc in enumerate(docs)
        if candidates[index][0].strip() != question.strip()
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [candidates[index][1] for score, index in scored[:n] if score > 0]
