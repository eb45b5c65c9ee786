"""CoT-decoding's answer probe: after a path ends, "So the answer is" is appended and a few
tokens are decoded greedily, so that Δ is measured on an explicit answer (Wang & Zhou, 2024).

All probes of a run go to the engine as one request, one branch per path: the path's tokens
are the branch's ``context`` (the local engine serves them from the KV cache the run left, so
only the probe is evaluated), the probe text is forced (recorded with its real probabilities),
and up to ``probe_tokens`` tokens follow greedily. Each result becomes the path's
:class:`~inspector.core.session.AnswerProbe`.

The probe starts on a new line (``"\\n" + text``): a path may end mid-sentence (the token
limit), after a formula or a boxed answer, or where a base model began a new ``\\nQ:`` (its
stop string), so a line break follows every ending the way the model itself would, "So" then
takes its start-of-line token whatever the path's last character, and the probe's ids are the
same for every path (the path's own tokens are continued unchanged, never re-tokenized).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from inspector.core.session import AnswerProbe, ReasoningPath, RunSettings, Session
from inspector.engine import (
    Backend,
    Branch,
    CancelToken,
    GeneratedSequence,
    GenerationSettings,
    InvalidParameterError,
    PromptTooLongError,
    TokenRecord,
)

DEFAULT_PROBE = "So the answer is"
PROBE_SEPARATOR = "\n"

ProbeCallback = Callable[[Session, ReasoningPath], None]


def check_probe_text(text: str) -> None:
    """An answer probe that is switched on must say something."""
    if not text.strip():
        raise InvalidParameterError(
            'the answer probe text is empty: give one (e.g. "So the answer is") or leave it off'
        )


def probe_ids(engine: Backend, text: str) -> list[int]:
    """The token ids of the probe as it follows a path: the separator and the text."""
    return engine.tokenize_text(PROBE_SEPARATOR + text)


def check_probe_fits(engine: Backend, settings: RunSettings, prompt_tokens: Sequence[int]) -> None:
    """The prompt, the probe and its answer tokens must fit the context (checked before a
    session is created: a probe that can never run is refused, not saved)."""
    if not settings.answer_probe:
        return
    check_probe_text(settings.answer_probe)
    n_ctx = engine.n_ctx
    needed = len(prompt_tokens) + len(probe_ids(engine, settings.answer_probe)) + 1
    if n_ctx and needed >= n_ctx:
        raise PromptTooLongError(
            f"the prompt and the answer probe take {needed} tokens but the context holds "
            f"{n_ctx}; shorten the probe text or the prompt, or raise the context length"
        )


def probe_context(session: Session, path: ReasoningPath) -> list[TokenRecord]:
    """The path's tokens the probe follows: all of them, or for a path that ended on a stop
    string, those that lie wholly before it (the stop string is not part of the path's text:
    the probe follows what the path says, as its answer would)."""
    tokens = session.path_tokens(path)
    if not path.stop_string:
        return tokens
    text = "".join(t.text for t in tokens)
    cut = text.find(path.stop_string)
    if cut < 0:
        return tokens
    end, kept = 0, []
    for token in tokens:
        end += len(token.text)
        if end > cut:
            break
        kept.append(token)
    return kept


def _probe_settings(
    settings: RunSettings, n_forced: int, stop: tuple[str, ...]
) -> GenerationSettings:
    return GenerationSettings(
        max_tokens=n_forced + settings.probe_tokens,
        stop=stop,
        # Δ needs the top two at every answer token
        n_alternatives=max(2, settings.n_alternatives),
    )


def run_probes(
    engine: Backend,
    session: Session,
    paths: Sequence[ReasoningPath],
    stop: tuple[str, ...],
    *,
    cancel: CancelToken | None = None,
    on_path: ProbeCallback | None = None,
) -> list[ReasoningPath]:
    """Probe every path of ``paths`` that ended (not cancelled), all in one batch: store
    each result on its path, re-evaluate the path and hand it to ``on_path`` the moment its
    probe ends. ``stop`` are the run's stop strings (they end a probe too). A cancel stops
    the probes; a probe it cut is dropped, never stored half-done. Paths too long to take the
    probe in the context are left without one. Returns the probed paths, in probe order."""
    text = session.settings.answer_probe
    if not text or (cancel is not None and cancel.cancelled):
        return []
    check_probe_text(text)
    probe = tuple(probe_ids(engine, text))
    # a server cannot score forced text: the probe then travels as context, unscored
    forced, after = (probe, ()) if engine.can_force_text else ((), probe)
    room = engine.n_ctx - len(session.prompt_tokens) - len(probe) - session.settings.probe_tokens
    chosen: list[ReasoningPath] = []
    branches: list[Branch] = []
    for path in paths:
        if not path.finished:
            continue
        context = probe_context(session, path)
        if engine.n_ctx and len(context) >= room:
            continue
        engine.remember_texts((t.token_id, t.text) for t in context)
        chosen.append(path)
        branches.append(Branch(forced=forced, context=tuple(t.token_id for t in context) + after))
    done: list[ReasoningPath] = []

    def finished(sequence: GeneratedSequence) -> None:
        path = chosen[sequence.branch]
        if sequence.finish_reason in (None, "cancelled") or path in done:
            return
        path.probe = AnswerProbe(text, list(sequence.tokens), len(forced))
        session.evaluate_path(path)
        done.append(path)
        if on_path is not None:
            on_path(session, path)

    if branches:
        generation = _probe_settings(session.settings, len(forced), stop)
        sequences = engine.explore(
            session.prompt_tokens, branches, generation, None, cancel, finished
        )
        for sequence in sequences:
            finished(sequence)
    return done
