"""The strategies on the real default model's recorded answers (``strategies_recording.py``):
what each run asks the engine for (the settings, the branches, the forced tokens), what it makes
of the answers and what its hooks get, each expected value worked out here again from the
recorded tokens. Fast: only the three model-marked tests at the top load a model, to check the
recordings against it (and the replay's cancel against the engine's).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import pytest

from inspector.core.session import BASE_MODEL_STOPS, RunSettings, Session
from inspector.core.strategies import (
    AdaptiveProgress,
    RunHooks,
    branch_here,
    greedy_settings,
    make_prompt,
    new_session,
    sampled_settings,
    saved_texts,
    stop_strings,
    token_limit,
    validate_settings,
)
from inspector.engine import (
    GREEDY,
    Branch,
    CancelToken,
    ChatTemplateError,
    GenerationSettings,
    InvalidParameterError,
    PromptTooLongError,
    SamplingSettings,
    TokenEvent,
    TokenRecord,
)
from tests.conftest import APPLE_PROMPT
from tests.core import strategies_recording as rec
from tests.core.recorded_backend import token_from_json
from tests.core.strategies_backend import (
    RecordedBackend,
    UnrecordedRequest,
    branch_of,
    load_recording,
    replay_on,
    settings_of,
)


# -- reading the recording ------------------------------------------------------------------------
def recorded(name: str, method: str, path: Path = rec.RECORDING) -> list[dict[str, Any]]:
    return [c for c in rec.recording(path)["scenarios"][name] if c["method"] == method]


def recorded_tokens(call: dict[str, Any], branch: int) -> list[TokenRecord]:
    return [token_from_json(t) for t in call["sequences"][branch]["tokens"]]


def explores(backend: RecordedBackend) -> list[tuple[list[int], list[Branch], GenerationSettings]]:
    """(prompt, branches, settings) of every explore the run asked for, in order."""
    return [
        (r["prompt"], [branch_of(b) for b in r["branches"]], settings_of(r["settings"]))
        for method, r in backend.requests
        if method == "explore"
    ]


def text_of(tokens: list[TokenRecord], stop: str | None) -> str:
    text = "".join(t.text for t in tokens)
    return text[: text.index(stop)] if stop and stop in text else text


# -- the recording against the model --------------------------------------------------------------
MACHINE_FIELDS = {"path", "load_seconds", "gpu_offload_supported"}


def _same_tokens(old: list[list[Any]], new: list[list[Any]]) -> None:
    assert [t[:3] for t in new] == [t[:3] for t in old]  # ids, texts, bytes
    assert [[a[:2] for a in t[5]] for t in new] == [[a[:2] for a in t[5]] for t in old]
    numbers = [[t[3], t[4], *(a[2] for a in t[5])] for t in old]
    assert [[t[3], t[4], *(a[2] for a in t[5])] for t in new] == [
        pytest.approx(n, abs=1e-4, nan_ok=True) for n in numbers
    ]


def test_the_recording_is_what_the_default_model_returns(engine):
    check_recording(engine, rec.RECORDING)


def test_the_instruct_recording_is_what_the_instruct_model_returns(instruct_engine):
    check_recording(instruct_engine, rec.INSTRUCT_RECORDING)


def check_recording(engine: Any, path: Path) -> None:
    data = load_recording(path)
    model = {k: v for k, v in engine.info().to_dict().items() if k not in MACHINE_FIELDS}
    assert model == {k: v for k, v in data["model"].items() if k not in MACHINE_FIELDS}
    assert engine.n_ctx == data["n_ctx"]
    for name, calls in data["scenarios"].items():
        again = replay_on(engine, calls)
        assert [(c["method"], c.get("request")) for c in again] == [
            (c["method"], c.get("request")) for c in calls
        ], name
        for old, new in zip(calls, again, strict=True):
            if old["method"] == "explore":
                assert new["order"] == old["order"], name
                for a, b in zip(old["sequences"], new["sequences"], strict=True):
                    assert (b["finish_reason"], b["stop_string"]) == (
                        a["finish_reason"], a["stop_string"],
                    )  # fmt: skip
                    _same_tokens(a["tokens"], b["tokens"])
            elif old["method"] == "next_tokens":
                assert [a[:2] for a in new["answer"]] == [a[:2] for a in old["answer"]]
                assert [a[2] for a in new["answer"]] == pytest.approx(
                    [a[2] for a in old["answer"]], abs=1e-4
                )
            elif old["method"] == "info":
                assert {k: v for k, v in new["answer"].items() if k not in MACHINE_FIELDS} == {
                    k: v for k, v in old["answer"].items() if k not in MACHINE_FIELDS
                }
            else:
                assert new.get("answer") == old.get("answer") and new.get("error") == old.get(
                    "error"
                ), name


def test_a_replayed_cancel_stops_where_the_engine_stops(engine):
    """Cancelled from the token stream after 6 tokens, the replay returns what the engine
    does: the same tokens, the same sequences finished and reported, the rest cancelled."""
    [call] = recorded("self-consistency", "explore")
    request = call["request"]
    branches = [branch_of(b) for b in request["branches"]]
    settings = settings_of(request["settings"])

    def cancelled_run(backend: Any) -> tuple[list[Any], list[int]]:
        cancel, seen, finished = CancelToken(), [], []

        def on_token(event: TokenEvent) -> None:
            seen.append(event)
            if len(seen) == 6:
                cancel.cancel()

        result = backend.explore(
            request["prompt"], branches, settings, on_token, cancel,
            lambda s: finished.append(s.branch),
        )  # fmt: skip
        return [(s.token_ids, s.finish_reason) for s in result], finished

    engine.forget_cache()
    real = cancelled_run(engine)
    assert real == cancelled_run(rec.replay("self-consistency"))
    assert any(reason == "cancelled" for _, reason in real[0])


# -- greedy, and what a run's settings become -----------------------------------------------------
def test_a_greedy_run_asks_for_one_greedy_branch_with_the_runs_settings():
    backend = rec.replay("greedy")
    session = rec.run(backend, rec.GREEDY)
    [tokenized] = recorded("greedy", "tokenize_prompt")
    assert tokenized["request"] == {"prompt": APPLE_PROMPT, "special": False}
    assert session.prompt == APPLE_PROMPT and session.prompt_tokens == tokenized["answer"]
    [(prompt, branches, generation)] = explores(backend)
    assert prompt == tokenized["answer"] and branches == [Branch()]
    assert generation == GenerationSettings(
        max_tokens=20, stop=("\nQ:", "\n\n\n", "\nA:"), n_alternatives=4, sampling=GREEDY
    )
    info = recorded("greedy", "info")[0]["answer"]
    assert session.model == {
        "path": info["path"], "description": info["description"], "n_params": info["n_params"],
        "file_size": info["file_size"], "quantization": info["quantization"],
    }  # fmt: skip
    assert session.gold == "5" and session.question == rec.QUESTION
    assert session.settings == rec.GREEDY and session.status == "complete"
    [path] = session.paths
    call = recorded("greedy", "explore")[0]
    tokens = recorded_tokens(call, 0)
    stop = call["sequences"][0]["stop_string"]
    assert stop == "\nQ:" and session.path_tokens(path) == tokens
    assert (path.origin, path.label, path.finish_reason) == ("greedy", "greedy", "stop")
    assert path.text == text_of(tokens, stop) == " 3 apples"
    assert path.parent_path is None and path.branch_depth is None


def test_settings_left_to_the_model_are_decided_for_it():
    """The default model is a base model without a chat template: the raw prompt and the
    base model's 128 tokens."""
    session = new_session(rec.replay("greedy"), rec.QUESTION, RunSettings())
    assert session.settings.use_chat_template is False
    assert session.settings.max_tokens == 128
    assert session.prompt == APPLE_PROMPT and session.gold is None


def test_a_greedy_runs_hooks_get_every_token_and_the_path_twice():
    events: list[TokenEvent] = []
    handed: list[tuple[Session, int, str | None]] = []
    hooks = RunHooks(
        on_token=events.append,
        on_path=lambda s, p: handed.append((s, p.id, p.finish_reason)),
        cancel=CancelToken(),
    )
    session = rec.run(rec.replay("greedy"), rec.GREEDY, hooks)
    tokens = recorded_tokens(recorded("greedy", "explore")[0], 0)
    assert events == [TokenEvent(0, i, t) for i, t in enumerate(tokens)]
    # reserved (no tokens yet), then ended; the session handed over is the run's own
    assert handed == [(session, 0, None), (session, 0, "stop")]
    assert session.status == "complete"  # a cancel token that was never set


# -- branch here ----------------------------------------------------------------------------------
def test_branch_here_continues_the_path_with_each_other_recorded_token():
    backend = rec.replay("greedy")
    session = rec.greedy_and_branches(backend)
    first, others, sampled = recorded("greedy", "explore")
    greedy = recorded_tokens(first, 0)
    depth = rec.BRANCH_DEPTH
    taken = greedy[depth]
    expected = [a.token_id for a in taken.top if a.token_id != taken.token_id]
    assert len(expected) == 3  # 4 alternatives recorded, one of them the token taken
    requests = explores(backend)
    prefix = [*session.prompt_tokens, greedy[0].token_id]
    assert requests[1] == (
        prefix, [Branch(forced=(t,)) for t in expected],
        GenerationSettings(max_tokens=20, stop=rec.GREEDY.stop, n_alternatives=4),
    )  # fmt: skip
    # the sampled branch: the session's sampling settings with the seed given
    assert requests[2] == (
        prefix, [Branch(forced=(taken.top[2].token_id,))],
        GenerationSettings(
            max_tokens=20, stop=rec.GREEDY.stop, n_alternatives=4,
            sampling=SamplingSettings(temperature=0.8, top_k=20, top_p=0.9, min_p=0.02, seed=9),
        ),
    )  # fmt: skip
    branches = session.paths[1:]
    assert [(p.origin, p.label, p.parent_path, p.branch_depth) for p in branches] == [
        ("branch", "branch at 1 of path 0", 0, 1)
    ] * 4
    made = [recorded_tokens(others, i) for i in range(3)] + [recorded_tokens(sampled, 0)]
    for path, own in zip(branches, made, strict=True):
        assert session.path_tokens(path) == greedy[:depth] + own
    assert [p.text for p in branches] == [" 10 apples", " 2 apples", " 4 apples", " 2 x 3 = 6"]
    assert session.path_tokens(session.paths[0]) == greedy  # the path branched from is intact
    # one tree: the prompt's one child is the shared " ", which forks into "3", "1", "2", "4"
    tree = session.tree
    [shared] = tree.root.children
    assert [t.token_id for t in tree.nodes[shared].tokens] == [greedy[0].token_id]
    assert len(tree.nodes[shared].children) == 4 and len(tree.leaves()) == 5


def test_branch_here_hands_the_engine_the_texts_of_the_path_and_its_alternatives():
    backend = rec.replay("greedy")
    rec.greedy_and_branches(backend)
    greedy = recorded_tokens(recorded("greedy", "explore")[0], 0)
    pairs = [(t.token_id, t.text) for t in greedy]
    pairs += [(a.token_id, a.text) for t in greedy for a in t.top]
    assert backend.remembered == [pairs, pairs]


def test_saved_texts_name_a_one_token_prompt_by_the_prompts_text():
    """A remote backend's prompt can be one id that stands for the whole prompt text."""
    token = TokenRecord(7, " 5", b" 5", math.log(0.5), 1.0, ())
    session = Session("q", "Q: q\nA:", [42], RunSettings(), {})
    assert saved_texts(session, [token]) == [(7, " 5"), (42, "Q: q\nA:")]
    longer = Session("q", "Q: q\nA:", [42, 43], RunSettings(), {})
    assert saved_texts(longer, [token]) == [(7, " 5")]


def test_branch_here_hooks_and_what_it_refuses():
    backend = rec.replay("greedy")
    session = rec.run(backend, rec.GREEDY)
    events: list[tuple[int, int, int]] = []
    handed: list[tuple[Session, int, bool]] = []
    hooks = RunHooks(
        on_token=lambda e: events.append((e.branch, e.index, e.token.token_id)),
        on_path=lambda s, p: handed.append((s, p.id, p.finished)),
    )
    added = branch_here(backend, session, 0, rec.BRANCH_DEPTH, hooks=hooks)
    assert [p.id for p in added] == [1, 2, 3]
    call = recorded("greedy", "explore")[1]
    made = [recorded_tokens(call, i) for i in range(3)]
    # streamed under the request's branch indices, in the order the engine decoded them
    order = [b for kind, *b in call["order"] if kind == "t"]
    count = [0, 0, 0]
    expected = []
    for (b,) in order:
        expected.append((b, count[b], made[b][count[b]].token_id))
        count[b] += 1
    assert events == expected
    finished = [b for kind, *b in call["order"] if kind == "f"]
    assert handed == [(session, 1, False)] + [(session, 1 + b, True) for (b,) in finished]
    tokens = session.path_tokens(session.paths[0])
    for depth in (len(tokens), -1):
        with pytest.raises(
            InvalidParameterError, match=f"path 0 has no token at position {depth}$"
        ):
            branch_here(backend, session, 0, depth)
    with pytest.raises(InvalidParameterError, match=r"^no alternative token to branch with$"):
        branch_here(backend, session, 0, 1, [])
    # the first and the last position are positions to branch at: they reach the engine
    for depth in (0, len(tokens) - 1):
        with pytest.raises(UnrecordedRequest):
            branch_here(backend, session, 0, depth)


# -- CoT-decoding ---------------------------------------------------------------------------------
def test_cot_decoding_forces_each_of_the_top_k_first_tokens():
    backend = rec.replay("cot-decoding")
    session = rec.run(backend, rec.COT)
    [first] = recorded("cot-decoding", "next_tokens")
    assert first["request"] == {"prompt": session.prompt_tokens, "k": 4}
    ids = [a[0] for a in first["answer"]]
    assert [a[1] for a in first["answer"]] == [" ", " The", " I", " We"]
    [(prompt, branches, generation)] = explores(backend)
    assert prompt == session.prompt_tokens
    assert branches == [Branch(forced=(i,)) for i in ids]
    assert generation == GenerationSettings(max_tokens=24, stop=BASE_MODEL_STOPS, n_alternatives=3)
    assert [(p.origin, p.label) for p in session.paths] == [
        ("cot-decoding", "first token #1: space"), ("cot-decoding", "first token #2: “␣The”"),
        ("cot-decoding", "first token #3: “␣I”"), ("cot-decoding", "first token #4: “␣We”"),
    ]  # fmt: skip
    assert [session.path_tokens(p)[0].token_id for p in session.paths] == ids
    assert len(session.tree.root.children) == 4 and session.status == "complete"


def test_each_path_is_handed_over_the_moment_its_branch_ends():
    """The callbacks in the order the engine streamed and finished the branches: a short path
    is saved while the longer ones still decode."""
    order: list[tuple[str, int]] = []
    hooks = RunHooks(
        on_token=lambda e: order.append(("t", e.branch)),
        on_path=lambda _s, p: order.append(("f", p.id) if p.finished else ("reserved", p.id)),
    )
    rec.run(rec.replay("cot-decoding"), rec.COT, hooks)
    call = recorded("cot-decoding", "explore")[0]
    expected = [("reserved", 0)] + [(kind, b) for kind, *b_ in call["order"] if kind != "c"
                                    for b in b_]  # fmt: skip
    assert order == expected
    ends = [i for i, (kind, _) in enumerate(order) if kind == "f"]
    assert ends[0] < max(i for i, (kind, _) in enumerate(order) if kind == "t")


def test_cot_decoding_picks_the_path_with_the_largest_answer_margin():
    session = rec.run(rec.replay("cot-decoding"), rec.COT)
    call = recorded("cot-decoding", "explore")[0]
    deltas = {}
    for index, path in enumerate(session.paths):
        tokens = recorded_tokens(call, index)
        if path.answer_tokens is None:
            continue
        start, end = path.answer_tokens
        margins = [t.top[0].prob - t.top[1].prob for t in tokens[start:end]]
        deltas[index] = sum(margins) / len(margins)
    assert len(deltas) == 3  # the third path hit the token limit without an answer
    best = max(deltas, key=deltas.__getitem__)
    assert best == 1 and session.summary().cot_path_id == best
    assert session.paths[best].text == " The answer is 3 apples."


def test_a_cancel_before_the_first_tokens_leaves_no_branch():
    cancel = CancelToken()
    cancel.cancel()
    handed: list[int] = []
    hooks = RunHooks(on_path=lambda _s, p: handed.append(p.id), cancel=cancel)
    session = rec.run(rec.replay("cot-decoding"), rec.COT, hooks)
    assert session.paths == [] and handed == [] and session.status == "cancelled"


def test_a_cancel_from_the_stream_keeps_what_was_decoded_and_marks_the_rest():
    cancel = CancelToken()
    seen: list[TokenEvent] = []

    def on_token(event: TokenEvent) -> None:
        seen.append(event)
        if len(seen) == 10:
            cancel.cancel()

    session = rec.run(rec.replay("cot-decoding"), rec.COT, RunHooks(on_token, cancel=cancel))
    assert session.status == "cancelled"
    assert sum(p.n_tokens for p in session.paths) == len(seen) >= 10
    assert {p.finish_reason for p in session.paths} == {"cancelled"}
    assert session.summary().votes == {}


# -- self-consistency -----------------------------------------------------------------------------
def test_self_consistency_samples_with_the_runs_sampler_and_a_greedy_reference():
    backend = rec.replay("self-consistency")
    session = rec.run(backend, rec.SELF_CONSISTENCY)
    [(prompt, branches, generation)] = explores(backend)
    assert prompt == session.prompt_tokens
    assert branches == [Branch()] * 4 + [Branch(sampling=GREEDY)]
    assert generation == GenerationSettings(
        max_tokens=24, stop=BASE_MODEL_STOPS, n_alternatives=5,
        sampling=SamplingSettings(temperature=0.9, top_k=40, top_p=0.9, min_p=0.05, seed=3),
    )  # fmt: skip
    assert [(p.origin, p.label) for p in session.paths] == [
        ("sample", "sample 1"), ("sample", "sample 2"), ("sample", "sample 3"),
        ("sample", "sample 4"), ("greedy", "greedy reference"),
    ]  # fmt: skip
    call = recorded("self-consistency", "explore")[0]
    texts = [
        text_of(recorded_tokens(call, i), call["sequences"][i]["stop_string"]) for i in range(5)
    ]
    assert [p.text for p in session.paths] == texts
    assert texts == [" 3 + 2 = 5 apples", " 3 apples.", " 16", " 3", " 3 apples"]
    # the samples vote (read off the texts above: 5, 3, 16, 3); the greedy reference does not
    summary = session.summary()
    assert summary.votes == {"5": 1, "3": 2, "16": 1}
    assert summary.majority.answer == "3" and summary.consistency == pytest.approx(2 / 4)
    assert summary.correct is False  # the gold is 5


# -- adaptive branching ---------------------------------------------------------------------------
def uncertain(token: TokenRecord, settings: RunSettings) -> bool:
    probs = [a.prob for a in token.top]
    return token.entropy > settings.branch_entropy or probs[0] - probs[1] < settings.branch_margin


def qualifying(token: TokenRecord, settings: RunSettings) -> list[Any]:
    others = [
        a for a in token.top if a.token_id != token.token_id and a.prob >= settings.branch_min_prob
    ]
    return others[: settings.branch_width] if uncertain(token, settings) else []


def may_branch(tokens: list[TokenRecord], content: str) -> int:
    """Tokens that start inside ``content`` or right at its end."""
    starts = [sum(len(t.text) for t in tokens[:i]) for i in range(len(tokens))]
    return sum(1 for s in starts if s <= len(content))


def seed_key(parent: int, position: int, token: int) -> int:
    """A branch's random stream, named by its place: blake2b-64 of "parent:position:token"
    (63 bits), so that a saved tree keeps its keys."""
    digest = hashlib.blake2b(f"{parent}:{position}:{token}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def plan(path_tokens, content, start, depth, parent, key, settings):
    """The branches a decoded path asks for, worked out again: (parent, position, token,
    prefix log-probability, key)."""
    planned = []
    for position in range(start, may_branch(path_tokens, content)):
        if depth >= settings.branch_depth:
            break
        alternatives = qualifying(path_tokens[position], settings)
        if alternatives:
            depth += 1
            prefix = sum(t.logprob for t in path_tokens[:position])
            planned += [
                (parent, position, a.token_id, prefix + a.logprob, depth,
                 seed_key(key, position, a.token_id))
                for a in alternatives
            ]  # fmt: skip
    return planned


def started(planned, budget_left, each):
    """The most likely ones that fit whole, then in (parent, position) order."""
    room = max(0, budget_left) // each
    chosen = sorted(sorted(planned, key=lambda b: -b[3])[:room], key=lambda b: (b[0], b[1]))
    return chosen, len(planned) - len(chosen)


def test_adaptive_grows_the_tree_the_rule_and_the_budget_call_for():
    settings = rec.ADAPTIVE
    progress: list[tuple[Session, AdaptiveProgress]] = []
    backend = rec.replay("adaptive")
    session = rec.run(backend, settings, RunHooks(on_progress=lambda s, p: progress.append((s, p))))
    calls = recorded("adaptive", "explore")
    requests = explores(backend)
    assert len(requests) == len(calls) == 3
    greedy = GenerationSettings(max_tokens=16, stop=BASE_MODEL_STOPS, n_alternatives=5)
    assert requests[0] == (session.prompt_tokens, [Branch(seed_key=0)], greedy)
    root = recorded_tokens(calls[0], 0)
    root_text = text_of(root, calls[0]["sequences"][0]["stop_string"])
    # level 1: the root path's branch points, all four branches fit the budget
    level1 = plan(root, root_text, 0, 0, 0, 0, settings)
    go1, left1 = started(level1, 100 - len(root), 16)
    assert [(b[1], b[2]) for b in go1] == [(0, 669), (0, 564), (2, 236862), (2, 900)]
    assert left1 == 0
    assert requests[1] == (
        session.prompt_tokens,
        [Branch(context=tuple(t.token_id for t in root[: b[1]]), forced=(b[2],), seed_key=b[5])
         for b in go1],
        greedy,
    )  # fmt: skip
    # level 2: each level-1 path scanned after its forced token, one branch point inherited
    paths1 = [root[: b[1]] + recorded_tokens(calls[1], i) for i, b in enumerate(go1)]
    level2 = []
    for i, (branch, tokens) in enumerate(zip(go1, paths1, strict=True)):
        text = text_of(tokens, calls[1]["sequences"][i]["stop_string"])
        level2 += plan(tokens, text, branch[1] + 1, branch[4], 1 + i, branch[5], settings)
    used = len(root) + sum(len(s["tokens"]) for s in calls[1]["sequences"])
    go2, left2 = started(level2, 100 - used, 16)
    assert (used, len(go2), left2) == (47, 3, 1)
    assert requests[2] == (
        session.prompt_tokens,
        [Branch(context=tuple(t.token_id for t in paths1[b[0] - 1][: b[1]]), forced=(b[2],),
                seed_key=b[5]) for b in go2],
        greedy,
    )  # fmt: skip
    # the budget left no room for a third level: every path, its parent and where it forks
    assert [(p.parent_path, p.branch_depth) for p in session.paths] == [(None, None)] + [
        (b[0], b[1]) for b in go1 + go2
    ]
    assert [p.label for p in session.paths] == [
        "greedy path", "“␣The” at token 0 of path #0", "“␣I” at token 0 of path #0",
        "“+” at token 2 of path #0", "“␣+” at token 2 of path #0",
        "“␣number” at token 1 of path #1", "“␣think” at token 1 of path #2",
        "“␣don” at token 1 of path #2",
    ]  # fmt: skip
    assert [p.origin for p in session.paths] == ["greedy"] + ["adaptive"] * 7
    assert [s for s, _ in progress] == [session, session]
    assert [p for _, p in progress] == [
        AdaptiveProgress(level=1, branches=4, paths=1, tokens=6, budget=100, left_out=0),
        AdaptiveProgress(level=2, branches=3, paths=5, tokens=47, budget=100, left_out=1),
    ]
    assert session.status == "complete"


def test_an_adaptive_branch_continues_its_parents_tokens_in_one_tree():
    session = rec.run(rec.replay("adaptive"), rec.ADAPTIVE)
    calls = recorded("adaptive", "explore")
    for path in session.paths[1:]:
        parent = session.path_tokens(session.paths[path.parent_path])
        tokens = session.path_tokens(path)
        assert tokens[: path.branch_depth] == parent[: path.branch_depth]
        assert tokens[path.branch_depth].token_id != parent[path.branch_depth].token_id
    # every path a leaf of the tree, and the explored mass the sum of their token products
    assert len(session.tree.leaves()) == len(session.paths) == 8
    leaves = [session.path_tokens(p) for p in session.paths]
    products = [math.prod(t.prob for t in tokens) for tokens in leaves]
    m = session.summary().marginal
    assert m is not None and m.explored_mass == pytest.approx(sum(products), rel=1e-9)
    # the recorded sequences hold each branch's own tokens only: the tree adds the context
    own = [len(s["tokens"]) for c in calls for s in c["sequences"]]
    assert [p.n_tokens - (p.branch_depth or 0) for p in session.paths] == own


def test_adaptive_streams_under_path_ids_and_saves_each_path_as_it_ends():
    events: list[tuple[int, int]] = []
    handed: list[tuple[Session, int, bool]] = []
    hooks = RunHooks(
        on_token=lambda e: events.append((e.branch, e.index, e.token.token_id)),
        on_path=lambda s, p: handed.append((s, p.id, p.finished)),
    )
    session = rec.run(rec.replay("adaptive"), rec.ADAPTIVE, hooks)
    calls = recorded("adaptive", "explore")
    expected = []
    first_id = 0
    for call in calls:
        count = [0] * len(call["sequences"])
        for kind, *b in call["order"]:
            if kind == "t":
                (i,) = b
                token = call["sequences"][i]["tokens"][count[i]][0]
                expected.append((first_id + i, count[i], token))
                count[i] += 1
        first_id += len(call["sequences"])
    assert events == expected
    assert {i for i, _, _ in events} == set(range(8))
    ended = [(session, i, True) for i in range(8)]
    assert sorted(h for h in handed if h[2]) == sorted(ended, key=lambda h: h[1])
    # each level's first path handed over as it is reserved, before it has tokens
    assert [h[1] for h in handed if not h[2]] == [0, 1, 5]


def test_adaptive_stops_growing_at_a_cancel():
    cancel = CancelToken()

    def stop_at_the_root(_session: Session, path) -> None:
        if path.finished:
            cancel.cancel()

    backend = rec.replay("adaptive")
    session = rec.run(backend, rec.ADAPTIVE, RunHooks(on_path=stop_at_the_root, cancel=cancel))
    assert len(explores(backend)) == 1 and len(session.paths) == 1
    assert session.paths[0].finished and session.status == "cancelled"


def test_sampled_adaptive_samples_every_level_with_its_own_streams():
    backend = rec.replay("adaptive-sampled")
    session = rec.run(backend, rec.ADAPTIVE_SAMPLED)
    sampled = GenerationSettings(
        max_tokens=12, stop=BASE_MODEL_STOPS, n_alternatives=5,
        sampling=SamplingSettings(temperature=0.7, top_p=0.95, seed=4),
    )  # fmt: skip
    requests = explores(backend)
    assert [g for _, _, g in requests] == [sampled] * 3
    assert requests[0][1] == [Branch(seed_key=0)]
    assert (session.paths[0].origin, session.paths[0].label) == ("sample", "sampled path")
    root = recorded_tokens(recorded("adaptive-sampled", "explore")[0], 0)
    [b1, b2] = requests[1][1]
    assert (b1.forced, b2.forced) == ((236743,), (236935,))
    assert b1.seed_key == seed_key(0, 0, 236743) and b2.seed_key == seed_key(0, 1, 236935)
    assert b2.context == (root[0].token_id,)
    # the third level continues path 1 (forked at 0): its key names path 1's key
    [b3] = requests[2][1]
    assert b3.seed_key == seed_key(b1.seed_key, 2, 236771)
    assert [(p.parent_path, p.branch_depth) for p in session.paths] == [
        (None, None), (0, 0), (0, 1), (1, 2),
    ]  # fmt: skip


# -- the answer probe -----------------------------------------------------------------------------
def test_the_probe_follows_every_ended_path_with_the_runs_stop_strings():
    backend = rec.replay("probe")
    handed: list[tuple[int, bool]] = []
    session = rec.probe_and_branch(
        backend, RunHooks(on_path=lambda _s, p: handed.append((p.id, p.probe is not None)))
    )
    probe_ids = recorded("probe", "tokenize_text")[0]
    assert probe_ids["request"] == "\nSo the answer is" and len(probe_ids["answer"]) == 5
    requests = explores(backend)
    assert len(requests) == 4  # the run, its probes, the branch, the branch's probe
    probes = [requests[1], requests[3]]
    for _, branches, generation in probes:
        assert generation == GenerationSettings(max_tokens=5 + 5, stop=("\nQ:", "\n\n"))
        assert all(b.forced == tuple(probe_ids["answer"]) for b in branches)
    assert len(probes[0][1]) == 3 and len(probes[1][1]) == 1
    assert all(p.probe is not None for p in session.paths)
    # every path handed over again once its probe has ended
    assert {i for i, probed in handed if probed} == {0, 1, 2, 3}


def test_adaptive_probes_every_path_of_every_level():
    handed: list[int] = []
    backend = rec.replay("adaptive-probe")
    session = rec.run(
        backend, rec.ADAPTIVE_PROBE,
        RunHooks(on_path=lambda _s, p: handed.append(p.id) if p.probe is not None else None),
    )  # fmt: skip
    requests = explores(backend)
    levels = requests[:-1]
    made = sum(len(branches) for _, branches, _ in levels)
    # the root path and its one branch (one branch point per path): two levels, two paths
    assert len(levels) == 2 and made == len(session.paths) == 2
    _, probes, generation = requests[-1]
    assert generation == GenerationSettings(max_tokens=5 + 4, stop=BASE_MODEL_STOPS)
    finished = [p.id for p in session.paths if p.finished]
    assert len(probes) == len(finished) and sorted(handed) == finished
    assert all(p.probe is not None for p in session.paths if p.finished)


def test_a_cancel_before_the_probes_start_leaves_the_paths_unprobed():
    """Cancelled as the last path of the run ends (the probes of one request all end at the
    same step, so a cancel from a probed path could drop none)."""
    cancel = CancelToken()
    ended: list[int] = []

    def stop_at_the_last_path(_session: Session, path) -> None:
        if path.finished:
            ended.append(path.id)
        if len(ended) == 3:
            cancel.cancel()

    backend = rec.replay("probe")
    session = rec.run(backend, rec.PROBE, RunHooks(on_path=stop_at_the_last_path, cancel=cancel))
    assert ended == [0, 1, 2] and all(p.finished for p in session.paths)
    assert [p.probe for p in session.paths] == [None] * 3
    assert len(explores(backend)) == 1 and session.status == "cancelled"


# -- prompts --------------------------------------------------------------------------------------
def test_the_prompt_style_and_its_examples_reach_the_prompt():
    backend = rec.replay("prompts")
    made = rec.prompts(backend)
    block = f"Q: {rec.QUESTION}\nA:"
    assert made["zero-shot-cot"].prompt == f"{block} Reason first."
    assert made["few-shot-cot"].prompt == (
        "Q: What is 1 + 1?\nA: 1 + 1 = 2. The answer is 2.\n\n" + block
    )
    assert made["analogical"].prompt == (
        "Q: What is 2 + 2?\nA: 2 + 2 = 4. The answer is 4.\n\n" + block
    )
    answers = {c["request"]["prompt"]: c["answer"] for c in recorded("prompts", "tokenize_prompt")}
    for name in ("zero-shot-cot", "few-shot-cot", "analogical"):
        assert made[name].prompt_tokens == answers[made[name].prompt]
    # the chat template asked for the question and the suffix; this model has none
    assert isinstance(made["chat"], ChatTemplateError)
    assert ("apply_chat_template", [
        {"role": "user", "content": f"{rec.QUESTION}\nReason first."}
    ]) in backend.requests  # fmt: skip


def test_a_prompt_for_settings_left_to_the_model_follows_the_model():
    """The default model has no chat template: the raw prompt, for any style."""
    backend = rec.replay("prompts")
    assert make_prompt(backend, rec.QUESTION, RunSettings()) == f"Q: {rec.QUESTION}\nA:"
    zero_shot = RunSettings(prompt_style="zero-shot-cot", zero_shot_suffix="Reason first.")
    assert make_prompt(backend, rec.QUESTION, zero_shot) == f"Q: {rec.QUESTION}\nA: Reason first."


def test_the_chat_template_gets_the_examples_of_the_style():
    backend = rec.replay("prompts")
    made = rec.prompts(backend)
    asked = [r for method, r in backend.requests if method == "apply_chat_template"]
    assert asked == [
        [{"role": "user", "content": f"{rec.QUESTION}\nReason first."}],
        [{"role": "user", "content": "What is 1 + 1?"},
         {"role": "assistant", "content": "1 + 1 = 2. The answer is 2."},
         {"role": "user", "content": rec.QUESTION}],
        [{"role": "user", "content": "What is 2 + 2?"},
         {"role": "assistant", "content": "2 + 2 = 4. The answer is 4."},
         {"role": "user", "content": rec.QUESTION}],
    ]  # fmt: skip
    assert all(isinstance(made[n], ChatTemplateError) for n in ("chat-few-shot", "chat-analogical"))


def test_a_chat_prompt_is_the_templates_text_with_its_control_tokens():
    """The instruct model: its chat template and its kind's 512 tokens, decided for it; the
    template's turn markers tokenized as the model's control tokens, one id each."""
    session, as_text = rec.instruct_chat(rec.replay("instruct-chat"))
    [template] = recorded("instruct-chat", "apply_chat_template", rec.INSTRUCT_RECORDING)
    assert template["request"] == [{"role": "user", "content": f"{rec.QUESTION}\nReason first."}]
    assert session.prompt == template["answer"] and "<|im_start|>" in session.prompt
    assert session.settings.use_chat_template is True and session.settings.max_tokens == 512
    tokenized = recorded("instruct-chat", "tokenize_prompt", rec.INSTRUCT_RECORDING)
    assert tokenized[0]["request"] == {"prompt": session.prompt, "special": True}
    assert session.prompt_tokens == tokenized[0]["answer"]
    assert len(session.prompt_tokens) < len(as_text)
    # a chat prompt ends on the model's end of turn: the base model's stops are not applied
    assert greedy_settings(session.settings).stop == ()


def test_a_raw_prompt_keeps_control_token_text_as_text():
    session, as_control = rec.control_text(rec.replay("control-text"))
    assert session.prompt == f"Q: {rec.CONTROL_QUESTION}\nA:"
    control = set(as_control) - set(session.prompt_tokens)
    assert len(control) == 1 and len(as_control) < len(session.prompt_tokens)


def test_a_probe_that_cannot_fit_the_context_is_refused_before_the_session():
    """The same recorded model in a context just too small for the prompt and the probe."""
    calls = rec.recording()["scenarios"]["probe"]
    prompt = recorded("probe", "tokenize_prompt")[0]["answer"]
    needed = len(prompt) + 5 + 1  # the prompt, "\nSo the answer is" and one answer token
    with pytest.raises(PromptTooLongError, match=f"take {needed} tokens but the context holds"):
        new_session(RecordedBackend(calls, needed), rec.QUESTION, rec.PROBE)
    assert new_session(RecordedBackend(calls, needed + 1), rec.QUESTION, rec.PROBE).prompt


# -- the settings a run hands on, by hand ---------------------------------------------------------
def test_stop_strings_leave_the_base_model_stops_out_of_a_chat_prompt():
    stops = ("\nQ:", "###", "\n\n\n")
    assert stop_strings(RunSettings(stop=stops, use_chat_template=False)) == stops
    assert stop_strings(RunSettings(stop=stops, use_chat_template=None)) == stops
    assert stop_strings(RunSettings(stop=stops, use_chat_template=True)) == ("###",)


def test_token_limits_and_generation_settings():
    assert token_limit(RunSettings(max_tokens=None)) == 128
    assert token_limit(RunSettings(max_tokens=7)) == 7
    settings = RunSettings(
        max_tokens=30, n_alternatives=7, temperature=1.3, top_k=9, top_p=0.8, min_p=0.1, seed=5,
        stop=("\nQ:", "END"), use_chat_template=True,
    )  # fmt: skip
    assert greedy_settings(settings) == GenerationSettings(
        max_tokens=30, stop=("END",), n_alternatives=7
    )
    sampling = SamplingSettings(temperature=1.3, top_k=9, top_p=0.8, min_p=0.1, seed=5)
    expected = GenerationSettings(max_tokens=30, stop=("END",), n_alternatives=7, sampling=sampling)
    assert sampled_settings(settings) == expected
    assert sampled_settings(settings, seed=0).sampling.seed == 0  # a seed of 0 is a seed
    assert sampled_settings(settings, seed=12).sampling.seed == 12
    assert greedy_settings(RunSettings(max_tokens=None)).max_tokens == 128


def test_settings_a_run_refuses_each_with_its_message():
    with pytest.raises(
        InvalidParameterError,
        match=r"^unknown strategy 'beam' \(choose from greedy, cot-decoding, "
        r"self-consistency, adaptive\)$",
    ):
        validate_settings(RunSettings(strategy="beam"))
    with pytest.raises(
        InvalidParameterError, match=r"^k \(first-token branches\) must be 1–64, got 0$"
    ):
        validate_settings(RunSettings(strategy="cot-decoding", k=0))
    with pytest.raises(
        InvalidParameterError, match=r"^CoT-decoding needs at least 2 alternatives per token for Δ$"
    ):
        validate_settings(RunSettings(strategy="cot-decoding", n_alternatives=1))
    validate_settings(RunSettings(strategy="cot-decoding", n_alternatives=2))
    validate_settings(RunSettings(strategy="greedy", n_alternatives=1))  # Δ is not asked for
    with pytest.raises(InvalidParameterError, match=r"^the answer probe text is empty"):
        validate_settings(RunSettings(answer_probe="  "))
    with pytest.raises(InvalidParameterError, match="temperature"):
        validate_settings(RunSettings(strategy="self-consistency", temperature=-1.0))


def test_adaptive_settings_a_run_refuses():
    with pytest.raises(
        InvalidParameterError,
        match=r"^adaptive branching into 5 alternatives needs more than 5 alternatives recorded "
        r"per token \(got 5\): raise alternatives or lower the branch width$",
    ):
        validate_settings(RunSettings(strategy="adaptive", branch_width=5, n_alternatives=5))
    validate_settings(RunSettings(strategy="adaptive", branch_width=4, n_alternatives=5))
    with pytest.raises(
        InvalidParameterError,
        match=r"^the token budget \(100\) is smaller than max tokens \(128\): not even the "
        r"first path fits; raise the budget$",
    ):
        validate_settings(RunSettings(strategy="adaptive", token_budget=100, max_tokens=None))
    validate_settings(RunSettings(strategy="adaptive", token_budget=128, max_tokens=128))
    # the same settings are fine for a strategy that does not branch
    validate_settings(RunSettings(strategy="greedy", branch_width=5, n_alternatives=5))
