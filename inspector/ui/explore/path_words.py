"""How a path ended and how its answer was found, in words (path view, tree, answers table).

Plain Python, no Qt: one wording for every place that shows a path, with no ``None``,
``nan`` or repr on screen.
"""

from __future__ import annotations

from inspector.core.display import UNKNOWN
from inspector.core.session import ReasoningPath, RunSettings

# what found a path's answer (ReasoningPath.answer_rule)
RULE_WORDS = {
    "boxed": "\\boxed",
    "gsm8k": "#### marker",
    "answer-is": "“the answer is”",
    "last-number": "its last number",
    "probe": "the answer probe",
    "choice": "a choice letter",
    "regex": "your regex rule",
}

FINISH_WORDS = {
    "eos": "end of sequence",
    "stop": "a stop string",
    "length": "the token limit",
    "context": "a full context",
    "cancelled": "a cancel",
}


def rule_words(rule: str | None) -> str:
    """``\\boxed``, ``#### marker``, … for the rule that found an answer; "—" for none."""
    if rule is None:
        return UNKNOWN
    return RULE_WORDS.get(rule, rule)


# a path that never ended, in a session that is no longer running
NEVER_ENDED = {
    "interrupted": "never ended: the run was interrupted",
    "cancelled": "never ended: the run was cancelled",
}


def finish_words(path: ReasoningPath, session_status: str = "running") -> str:
    """What ended the path: "end of sequence", "a stop string", "the token limit", …; a path
    that never ended says why when its session is no longer running."""
    if path.finish_reason is None:
        return NEVER_ENDED.get(session_status, "still running")
    return FINISH_WORDS.get(path.finish_reason, path.finish_reason)


def limit_words(settings: RunSettings) -> str:
    """ "the 256-token limit" (or "the token limit" when the session does not say)."""
    limit = settings.max_tokens
    return f"the {limit}-token limit" if isinstance(limit, int) else "the token limit"


def unfinished_note(path: ReasoningPath, settings: RunSettings) -> str | None:
    """Why a path is unfinished and what that means for its answer, or None for a path that
    completed (ended by itself, outside its thinking) or is still running."""
    if path.completed or path.finish_reason is None:
        return None
    reason = path.finish_reason
    if reason == "length":
        where = f"stopped at {limit_words(settings)}"
    elif reason == "context":
        where = "stopped when the context was full"
    elif reason == "cancelled":
        where = "cancelled"
    else:
        where = f"ended by {finish_words(path)}"
    if not path.thinking_ended:
        where += " inside its thinking"
        consequence = "no answer (the answer is looked for only after the thinking)"
    elif path.answer is None:
        consequence = "no answer from its last number"
    else:
        consequence = f"its answer only from an explicit marker ({rule_words(path.answer_rule)})"
    return f"{where} — unfinished: {consequence}"


def finished_mark(path: ReasoningPath, session_status: str = "running") -> str:
    """The answers table's "finished" cell: ✓ completed, "… limit" / "… thinking" / "…
    cancelled" unfinished, "running" while it runs, "never ended" when its session stopped
    (interrupted or cancelled) before it did."""
    if path.finish_reason is None:
        return "running" if session_status == "running" else "never ended"
    if path.completed:
        return "✓"
    if not path.thinking_ended:
        return "… thinking"
    return {"length": "… limit", "context": "… context", "cancelled": "… cancelled"}.get(
        path.finish_reason, "…"
    )


def thinking_count(path: ReasoningPath) -> int:
    """How many of the path's tokens are its thinking section."""
    if path.thinking_tokens is None:
        return 0
    start, end = path.thinking_tokens
    return max(0, end - start)


def answer_token_count(path: ReasoningPath) -> int:
    """How many tokens the path wrote after its thinking (all of them without one)."""
    return path.n_tokens - thinking_count(path)
