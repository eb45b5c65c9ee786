"""run_study and open_continuations without a model: a stand-in backend replays what the real
default model returned for the same requests (recorded in data/studies/apples.json, and
checked against the real model by the one model-backed test here). Every expected answer was
read by hand off the recorded continuations' texts."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from inspector.core.session import ReasoningPath, RunSettings, Session
from inspector.core.strategies import new_session, run_strategy, stop_strings
from inspector.core.studies import (
    Study,
    StudyPoint,
    StudySample,
    StudySettings,
    open_continuations,
    run_study,
)
from inspector.engine import (
    Branch,
    CancelToken,
    GeneratedSequence,
    GenerationSettings,
    InvalidParameterError,
    SamplingSettings,
    TokenRecord,
)
from tests.core.recorded_backend import token_from_json, token_to_json

RECORDING = Path(__file__).parent / "data" / "studies" / "apples.json"
QUESTION = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"
FORKS = StudySettings("forks", 0, samples=2, max_tokens=16, alternatives=1)
# the step study samples at other settings than the defaults, so each reaches the request
STEPS = StudySettings("steps", 0, samples=2, max_tokens=16, temperature=0.8, top_p=0.9, seed=5)
# the session records three alternatives per token (the default is five)
SESSION = RunSettings(strategy="greedy", n_alternatives=3)


# -- the recording ------------------------------------------------------------------------------
def sequence_json(s: GeneratedSequence) -> dict[str, Any]:
    return {
        "tokens": [token_to_json(t) for t in s.tokens],
        "finish_reason": s.finish_reason,
        "stop_string": s.stop_string,
    }


def branch_key(branch: Branch) -> tuple[Any, ...]:
    assert branch.sampling is None  # a study samples by the request's settings
    return (tuple(branch.context), tuple(branch.forced), branch.seed_key)


def settings_key(settings: GenerationSettings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


class Recorder:
    """Passes every explore request to the real engine and keeps it with what came back."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.calls: list[dict[str, Any]] = []

    def remember_texts(self, pairs) -> None:
        self.engine.remember_texts(pairs)

    def explore(self, prompt, branches, settings, on_token=None, cancel=None, on_finish=None):
        results = self.engine.explore(prompt, branches, settings, on_token, cancel, on_finish)
        self.calls.append(
            {
                "prompt": list(prompt),
                "settings": asdict(settings),
                "branches": [
                    {"context": list(b.context), "forced": list(b.forced), "seed_key": b.seed_key}
                    | sequence_json(r)
                    for b, r in zip(branches, results, strict=True)
                ],
            }
        )
        return results


def record(engine) -> dict[str, Any]:
    """The greedy path on the apples question, a forking and a step study of it, and two of
    the forking study's continuations opened in the tree, as the real model gives them."""
    session = new_session(engine, QUESTION, SESSION, gold="8")
    run_strategy(engine, session)
    path = session.paths[0]
    recorded = {
        "question": QUESTION,
        "prompt": session.prompt,
        "prompt_tokens": session.prompt_tokens,
        "settings": asdict(session.settings),
        "gold": session.gold,
        "path": sequence_json(
            GeneratedSequence(0, session.path_tokens(path), path.finish_reason, path.stop_string)
        ),
    }
    recorder = Recorder(engine)
    stop = stop_strings(session.settings)
    forks = run_study(recorder, session, Study(session.id, FORKS), stop)
    steps = run_study(recorder, session, Study(session.id, STEPS), stop)
    chosen = sorted(forks.samples, key=lambda s: s.point.key)
    open_continuations(recorder, session, forks, [chosen[0], chosen[-1]], stop)
    last = max(steps.samples, key=lambda s: s.point.key)
    open_continuations(recorder, session, steps, [last], stop)
    open_continuations(recorder, session, forks, [four_breaks(engine.tokenize_text)], stop)
    recorded["calls"] = recorder.calls
    return recorded


def four_breaks(tokenize) -> StudySample:
    """A continuation made by hand: " 2", then one token of four line breaks, which holds the
    stop string "\n\n\n" at its start and once more one character later."""
    ids = tokenize(" 2\n\n\n\n")
    assert len(ids) == 3  # " ", "2", "\n\n\n\n"
    return StudySample(StudyPoint(0, SPACE, 9, " ", 0.225), " 2", ids, "stop", -3.0, "2")


def load_recording() -> dict[str, Any]:
    return json.loads(RECORDING.read_text(encoding="utf-8"))


@pytest.mark.skipif(not os.environ.get("RECORD_STUDIES"), reason="RECORD_STUDIES=1 re-records")
def test_record(engine):
    RECORDING.write_text(json.dumps(record(engine), indent=None) + "\n", encoding="utf-8")


# -- the stand-in -------------------------------------------------------------------------------
class RecordedModel:
    """A backend that answers each branch of a request with what the real model returned for
    the same prompt, settings, context, forced tokens and random stream, in request order.

    A branch the recording lacks raises KeyError (the request is not the one recorded). A
    cancel stops it as the engine does: the branches not done are returned as "cancelled"
    (nothing decoded) and not passed to ``on_finish``. ``texts`` keeps what
    ``remember_texts`` taught it (a remote server knows saved token ids only through them)."""

    can_force_text = True
    n_ctx = 4096

    def __init__(self, recording: dict[str, Any]) -> None:
        self.prompt = recording["prompt_tokens"]
        self.table: dict[tuple[str, tuple[Any, ...]], dict[str, Any]] = {}
        for call in recording["calls"]:
            settings = json.dumps(call["settings"], sort_keys=True)
            for b in call["branches"]:
                key = (tuple(b["context"]), tuple(b["forced"]), b["seed_key"])
                self.table[(settings, key)] = b
        self.texts: dict[int, str] = {}
        self.requests: list[tuple[GenerationSettings, list[Branch]]] = []

    def remember_texts(self, pairs) -> None:
        for token_id, text in pairs:
            self.texts.setdefault(token_id, text)

    def explore(self, prompt, branches, settings, on_token=None, cancel=None, on_finish=None):
        assert list(prompt) == self.prompt
        self.requests.append((settings, list(branches)))
        found = [self.table[(settings_key(settings), branch_key(b))] for b in branches]
        results = []
        for index, recorded in enumerate(found):
            if cancel is not None and cancel.cancelled:
                results.append(GeneratedSequence(index, [], "cancelled"))
                continue
            sequence = GeneratedSequence(
                index,
                [token_from_json(t) for t in recorded["tokens"]],
                recorded["finish_reason"],
                recorded["stop_string"],
            )
            if on_finish is not None:
                on_finish(sequence)
            results.append(sequence)
        return results


def recorded_session(recording: dict[str, Any] | None = None) -> Session:
    """The recorded greedy session, rebuilt: its prompt and its one path."""
    data = recording or load_recording()
    settings = RunSettings(**(data["settings"] | {"stop": tuple(data["settings"]["stop"])}))
    session = Session(
        data["question"], data["prompt"], data["prompt_tokens"], settings, {}, data["gold"]
    )
    path = session.reserve_path("greedy", "greedy")
    recorded = data["path"]
    tokens = [token_from_json(t) for t in recorded["tokens"]]
    session.complete_path(
        path, GeneratedSequence(0, tokens, recorded["finish_reason"], recorded["stop_string"])
    )
    return session


def generation_of(data: dict[str, Any]) -> GenerationSettings:
    sampling = SamplingSettings(**data["sampling"])
    return GenerationSettings(**(data | {"stop": tuple(data["stop"]), "sampling": sampling}))


def test_the_recording_is_what_the_real_model_gives(engine):
    recording = load_recording()
    session = new_session(engine, QUESTION, SESSION, gold="8")
    run_strategy(engine, session)
    assert session.prompt_tokens == recording["prompt_tokens"]
    assert json.loads(json.dumps(asdict(session.settings))) == recording["settings"]
    rebuilt = recorded_session(recording)
    assert session.paths[0].text == rebuilt.paths[0].text == " 3 apples"
    same_tokens(session.path_tokens(session.paths[0]), rebuilt.path_tokens(rebuilt.paths[0]))
    for call in recording["calls"]:
        branches = [
            Branch(forced=tuple(b["forced"]), context=tuple(b["context"]), seed_key=b["seed_key"])
            for b in call["branches"]
        ]
        results = engine.explore(call["prompt"], branches, generation_of(call["settings"]))
        for got, want in zip(results, call["branches"], strict=True):
            assert (got.finish_reason, got.stop_string) == (
                want["finish_reason"],
                want["stop_string"],
            )
            same_tokens(got.tokens, [token_from_json(t) for t in want["tokens"]])


def same_tokens(got: list[TokenRecord], want: list[TokenRecord]) -> None:
    """The same tokens and alternatives; probabilities within a float32 batch's tolerance."""
    assert [(t.token_id, t.text, t.piece) for t in got] == [
        (t.token_id, t.text, t.piece) for t in want
    ]
    for g, w in zip(got, want, strict=True):
        assert [a.token_id for a in g.top] == [a.token_id for a in w.top]
        assert g.logprob == pytest.approx(w.logprob, abs=1e-3)
        assert g.entropy == pytest.approx(w.entropy, abs=1e-3)
        assert [a.logprob for a in g.top] == pytest.approx([a.logprob for a in w.top], abs=1e-3)


# -- run_study ----------------------------------------------------------------------------------
# the path is " 3 apples" (then "\nQ:", the stop string, not studied): tokens " " (236743),
# "3" (236800), " apples" (36157). Each position's second token is its likeliest alternative:
# " The" (669), "1" (236770), "+" (236862). Per point (position, token, sample): the answer
# read off the path's text before the point and the continuation (a continuation cut by the
# token limit answers only with an explicit marker, which none holds), the finish, the text.
SPACE, THE, THREE, ONE, APPLES, PLUS = 236743, 669, 236800, 236770, 36157, 236862
FORK_SAMPLES = {
    (0, SPACE, 0): ("2", "stop", " 2\n"),
    (0, SPACE, 1): ("12", "stop", " 12 apples"),
    (0, THE, 0): (
        None, "length", " The formula for fruit usually used a family have:\n\napple = 4/"
    ),
    (0, THE, 1): (
        None, "length", " The neighbors say this is the only article they legally use. Here I am!"
    ),
    (1, THREE, 0): (None, "length", "3*2 = 6\ni think its right, it's "),
    (1, THREE, 1): ("3", "stop", "3 quintals of apples, that’s a lot of apples"),
    (1, ONE, 0): ("10", "stop", "10 apples"),
    (1, ONE, 1): (None, "length", "12x2x3 = 64AnswerED: 32"),
    (2, APPLES, 0): (None, "length", " apples.\n1 point\nA: 3 apples.\nA: "),
    (2, APPLES, 1): ("3", "stop", " apples\n"),
    (2, PLUS, 0): (None, "length", "+4 = 7 ; 11+11 = 16"),
    (2, PLUS, 1): ("5", "stop", "+2 = 5\n"),
}  # fmt: skip
STEP_SAMPLES = {
    (0, None, 0): (None, "length", " The number of apples we have in total is 1.5 * 2"),
    (0, None, 1): ("3", "stop", " I think it's 3 apples."),
}


def seen(samples) -> dict[tuple[int, int | None, int], tuple[str | None, str, str]]:
    return {s.point.key: (s.answer, s.finish_reason, s.text) for s in samples}


def test_a_forking_study_samples_every_point_once_with_its_answer():
    session, model = recorded_session(), RecordedModel(load_recording())
    progress, saved = [], []
    study = run_study(
        model, session, Study(session.id, FORKS), stop_strings(session.settings),
        on_sample=saved.append, on_progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    assert study.status == "complete"
    assert seen(study.samples) == FORK_SAMPLES
    assert saved == study.samples  # each passed on the moment it ends
    assert progress == [(n, 12) for n in range(13)]
    assert all(s.correct is False for s in study.samples)  # the gold answer is 8
    # one request: 16 tokens at temperature 1, top-p 1, seed 0, the run's stop strings, one
    # alternative recorded per token
    (settings, branches), = model.requests  # fmt: skip
    assert (settings.max_tokens, settings.stop, settings.n_alternatives) == (
        16, ("\nQ:", "\n\n\n"), 1,
    )  # fmt: skip
    assert (settings.sampling.temperature, settings.sampling.top_p, settings.sampling.seed) == (
        1.0, 1.0, 0,
    )  # fmt: skip
    # a point continues from the path's first `position` tokens with its token forced
    path_ids = [SPACE, THREE, APPLES]
    assert sorted((b.context, b.forced) for b in branches) == sorted(
        (tuple(path_ids[:p]), (t,)) for p, t, _ in FORK_SAMPLES
    )
    plus = next(s for s in study.samples if s.point.key == (2, PLUS, 1))
    assert plus.token_ids == [PLUS, 236778, 578, 236743, 236810, 108, 236935, 236787]
    assert plus.point.token_text == "+" and plus.point.token_prob == pytest.approx(0.122, abs=1e-3)
    assert plus.logprob == pytest.approx(sum(t.logprob for t in model_tokens(model, (2, PLUS, 1))))


def model_tokens(model: RecordedModel, key: tuple[int, int, int]) -> list[TokenRecord]:
    (position, token, sample) = key
    seed_key = ((position + 1) * 1_000_003 + token + 1) * 1_000 + sample
    path_ids = (SPACE, THREE, APPLES)
    recorded = next(
        b for (_, k), b in model.table.items() if k == (path_ids[:position], (token,), seed_key)
    )
    return [token_from_json(t) for t in recorded["tokens"]]


def test_the_gold_answer_marks_the_samples_that_state_it():
    session, model = recorded_session(), RecordedModel(load_recording())
    session.gold = "5"
    study = run_study(model, session, Study(session.id, FORKS), stop_strings(session.settings))
    assert {s.point.key for s in study.samples if s.correct} == {(2, PLUS, 1)}
    session.gold = None
    again = run_study(model, session, Study(session.id, FORKS), stop_strings(session.settings))
    assert {s.correct for s in again.samples} == {None}


def test_a_step_study_samples_from_each_step_start_with_nothing_forced():
    session, model = recorded_session(), RecordedModel(load_recording())
    progress = []
    study = run_study(
        model, session, Study(session.id, STEPS), stop_strings(session.settings),
        on_progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    # " 3 apples" is one sentence: one step, from token 0
    assert seen(study.samples) == STEP_SAMPLES
    assert progress == [(0, 2), (1, 2), (2, 2)]
    (settings, branches), = model.requests  # fmt: skip
    assert [(b.context, b.forced) for b in branches] == [((), ()), ((), ())]
    sampling = settings.sampling
    assert (sampling.temperature, sampling.top_p, sampling.seed) == (0.8, 0.9, 5)
    assert study.status == "complete"


def test_every_token_a_request_names_was_given_its_text_first():
    session, model = recorded_session(), RecordedModel(load_recording())
    run_study(model, session, Study(session.id, FORKS), stop_strings(session.settings))
    # the path's tokens and every alternative saved with them, each with its own text
    tokens = session.path_tokens(session.paths[0])[:3]
    expected = {t.token_id: t.text for t in tokens} | {
        a.token_id: a.text for t in tokens for a in t.top
    }
    assert model.texts == expected
    assert model.texts[THE] == " The" and model.texts[PLUS] == "+"
    (_, branches), = model.requests  # fmt: skip
    assert {t for b in branches for t in b.context + b.forced} <= set(model.texts)


def test_a_cancelled_study_keeps_what_ended_and_resumes_with_the_rest():
    session, model = recorded_session(), RecordedModel(load_recording())
    stop = stop_strings(session.settings)
    cancel = CancelToken()

    def stop_after_five(sample) -> None:
        if len(study.samples) == 5:
            cancel.cancel()

    study = Study(session.id, FORKS)
    run_study(model, session, study, stop, on_sample=stop_after_five, cancel=cancel)
    assert study.status == "cancelled"
    first = seen(study.samples)
    assert len(first) == 5 and first.items() <= FORK_SAMPLES.items()
    progress = []
    run_study(
        model, session, study, stop,
        on_progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    assert study.status == "complete"
    assert progress == [(n, 12) for n in range(5, 13)]
    assert len(model.requests[-1][1]) == 7  # only what it lacked
    assert [s.point.key for s in study.samples].count((0, SPACE, 0)) == 1
    assert seen(study.samples) == FORK_SAMPLES


def test_a_cancel_after_the_last_sample_leaves_the_study_complete():
    session, model = recorded_session(), RecordedModel(load_recording())
    cancel = CancelToken()
    study = Study(session.id, STEPS)

    def stop_at_the_end(sample) -> None:
        if len(study.samples) == 2:
            cancel.cancel()

    run_study(
        model, session, study, stop_strings(session.settings),
        on_sample=stop_at_the_end, cancel=cancel,
    )  # fmt: skip
    assert cancel.cancelled and study.status == "complete"


def test_a_complete_study_samples_nothing_more():
    session, model = recorded_session(), RecordedModel(load_recording())
    stop = stop_strings(session.settings)
    study = run_study(model, session, Study(session.id, STEPS), stop)
    study.status = "interrupted"
    progress = []
    run_study(
        model, session, study, stop,
        on_progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    assert study.status == "complete"
    assert progress == [(2, 2)]
    assert len(model.requests) == 1


# -- open_continuations -------------------------------------------------------------------------
def forks_study(session: Session, model: RecordedModel) -> Study:
    study = run_study(model, session, Study(session.id, FORKS), stop_strings(session.settings))
    study.id = 7
    return study


def by_key(study: Study, key: tuple[int, int | None, int]) -> StudySample:
    return next(s for s in study.samples if s.point.key == key)


def test_continuations_open_as_branches_of_the_path_with_the_same_tokens():
    session, model = recorded_session(), RecordedModel(load_recording())
    study = forks_study(session, model)
    chosen = [by_key(study, (0, THE, 0)), by_key(study, (2, PLUS, 1))]
    opened: list[tuple[Session, ReasoningPath]] = []
    stop = stop_strings(session.settings)
    paths = open_continuations(
        model, session, study, chosen, stop, on_path=lambda s, p: opened.append((s, p))
    )
    assert [p.id for p in paths] == [1, 2] and session.paths[1:] == paths
    assert opened == [(session, paths[0]), (session, paths[1])]
    the, plus = paths
    assert (the.origin, plus.origin) == ("branch", "branch")
    assert the.label == "study 7: position 0, ' The', sample 1"
    assert plus.label == "study 7: position 2, '+', sample 2"
    assert (the.parent_path, the.branch_depth, plus.parent_path, plus.branch_depth) == (0, 0, 0, 2)
    # the path's prefix, then the continuation's tokens, each with the session's three
    # alternatives now
    assert [t.token_id for t in session.path_tokens(plus)] == [SPACE, THREE, *chosen[1].token_ids]
    assert [t.token_id for t in session.path_tokens(the)] == chosen[0].token_ids
    assert all(len(t.top) == 3 for p in paths for t in session.path_tokens(p)[p.branch_depth :])
    # each ends as its continuation ended: cut by the limit, or by "\nQ:" after "+2 = 5\n"
    assert (the.finish_reason, the.stop_string, the.answer) == ("length", None, None)
    assert the.text == FORK_SAMPLES[(0, THE, 0)][2]
    assert (plus.finish_reason, plus.stop_string, plus.answer) == ("stop", "\nQ:", "5")
    assert plus.text == " 3+2 = 5\n" and plus.correct is False
    # the studied path is as it was
    greedy = session.paths[0]
    assert greedy.text == " 3 apples" and greedy.n_tokens == 6
    assert [t.token_id for t in session.path_tokens(greedy)][:3] == [SPACE, THREE, APPLES]
    # one request: every forced token decoded once more (one token at most past them)
    settings, branches = model.requests[-1]
    assert (settings.max_tokens, settings.stop, settings.n_alternatives) == (1, (), 3)
    assert settings.sampling.greedy
    assert [(b.context, b.forced) for b in branches] == [
        ((), tuple(chosen[0].token_ids)),
        ((SPACE, THREE), tuple(chosen[1].token_ids)),
    ]


def test_a_new_connection_opening_continuations_is_given_the_paths_texts_first():
    session = recorded_session()
    study = forks_study(session, RecordedModel(load_recording()))
    fresh = RecordedModel(load_recording())  # e.g. a server connection after a restart
    open_continuations(fresh, session, study, [by_key(study, (2, PLUS, 1))], ())
    tokens = session.path_tokens(session.paths[0])
    for t in tokens[:3]:
        assert fresh.texts[t.token_id] == t.text
        assert all(fresh.texts[a.token_id] == a.text for a in t.top)
    (_, branches), = fresh.requests  # fmt: skip
    assert set(branches[0].context) <= set(fresh.texts)


def test_a_step_continuation_is_labelled_with_the_paths_own_text():
    session, model = recorded_session(), RecordedModel(load_recording())
    study = run_study(model, session, Study(session.id, STEPS), stop_strings(session.settings))
    study.id = 8
    (path,) = open_continuations(
        model, session, study, [by_key(study, (0, None, 1))], stop_strings(session.settings)
    )
    assert path.label == 'study 8: position 0, "the path\'s own text", sample 2'
    assert (path.finish_reason, path.stop_string, path.answer) == ("stop", "\nQ:", "3")
    assert path.text == STEP_SAMPLES[(0, None, 1)][2]


def test_the_stop_string_is_the_one_that_starts_where_the_continuation_ends():
    # " 2" then one token "\n\n\n\n": "\n\n\n" starts at the end of " 2", and again one
    # character later; "\nQ:" is nowhere
    session, model = recorded_session(), RecordedModel(load_recording())
    study = forks_study(session, model)
    made = four_breaks(lambda text: [SPACE, 236778, 110])
    (path,) = open_continuations(model, session, study, [made], stop_strings(session.settings))
    assert (path.finish_reason, path.stop_string) == ("stop", "\n\n\n")
    assert (path.text, path.answer) == (" 2", "2")
    assert path.label == "study 7: position 0, ' ', sample 10"


def test_a_continuation_opened_without_its_stop_string_keeps_it_as_text():
    # the run's stop strings are not given: the path ends where the continuation did, as
    # "stop", with "\nQ:" part of its text
    session, model = recorded_session(), RecordedModel(load_recording())
    study = forks_study(session, model)
    (path,) = open_continuations(model, session, study, [by_key(study, (2, PLUS, 1))], ())
    assert (path.finish_reason, path.stop_string) == ("stop", None)
    assert path.text == " 3+2 = 5\n\nQ:"


def test_only_continuations_with_tokens_inside_the_path_open():
    session, model = recorded_session(), RecordedModel(load_recording())
    study = forks_study(session, model)
    stop = stop_strings(session.settings)
    empty = StudySample(StudyPoint(1, THREE, 0), "", [], "length", 0.0, None)
    past_the_end = StudySample(StudyPoint(3, None, 0), " Q", [236935], "length", 0.0, None)
    with pytest.raises(InvalidParameterError) as error:
        open_continuations(model, session, study, [empty, past_the_end], stop)
    assert str(error.value) == "no continuation with tokens to open"
    assert len(session.paths) == 1
    (path,) = open_continuations(
        model, session, study, [empty, by_key(study, (2, PLUS, 1)), past_the_end], stop
    )
    assert path.branch_depth == 2 and path.answer == "5"


def test_a_cancelled_opening_keeps_each_branch_at_its_position_without_tokens():
    session, model = recorded_session(), RecordedModel(load_recording())
    study = forks_study(session, model)
    cancel = CancelToken()
    cancel.cancel()
    opened = []
    chosen = [by_key(study, (2, PLUS, 1)), by_key(study, (0, THE, 0))]
    plus, the = open_continuations(
        model, session, study, chosen, stop_strings(session.settings),
        on_path=lambda s, p: opened.append(p), cancel=cancel,
    )  # fmt: skip
    assert (plus.finish_reason, the.finish_reason) == ("cancelled", "cancelled")
    assert opened == []
    assert [t.token_id for t in session.path_tokens(plus)] == [SPACE, THREE]
    assert plus.text == " 3" and plus.branch_depth == 2
    assert session.path_tokens(the) == [] and the.text == ""
