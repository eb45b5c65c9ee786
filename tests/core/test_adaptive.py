"""Adaptive branching: the branch-point rule, the budget, the explored mass and the marginal
answer distribution — by hand on made-up tokens and a made-up model, then on the real default
model."""

from __future__ import annotations

import math

import pytest

from inspector.core.adaptive import (
    BranchRule,
    Leaf,
    PlannedBranch,
    admit,
    branch_points,
    content_end,
    log_sum_exp,
    marginal_distribution,
    marginal_lines,
    plan_branches,
    seed_key,
    share_words,
)
from inspector.core.session import RunSettings, Session
from inspector.core.strategies import (
    AdaptiveProgress,
    RunHooks,
    new_session,
    run_strategy,
    validate_settings,
)
from inspector.engine import (
    Alternative,
    Branch,
    CancelToken,
    GeneratedSequence,
    GenerationSettings,
    InvalidParameterError,
    TokenEvent,
    TokenRecord,
)
from tests.conftest import APPLE_PROMPT

QUESTION = APPLE_PROMPT.removeprefix("Q: ").removesuffix("\nA:")


def record(token_id: int, dist: dict[int, float], *, text: str = "t", entropy=None) -> TokenRecord:
    """A token taken from ``dist`` (id → probability), its alternatives most likely first."""
    top = tuple(
        Alternative(i, f"<{i}>", math.log(p)) for i, p in sorted(dist.items(), key=lambda x: -x[1])
    )
    h = -sum(p * math.log(p) for p in dist.values()) if entropy is None else entropy
    return TokenRecord(token_id, text, text.encode(), math.log(dist[token_id]), h, top)


RULE = BranchRule(entropy=1.0, margin=0.2, min_prob=0.1, width=2)


# -- the branch-point rule ---------------------------------------------------------------------
def test_a_position_branches_on_high_entropy_or_a_small_margin():
    # entropy 1.09 > 1.0 (three tokens near 1/3 each): uncertain, though the margin is not small
    flat = record(1, {1: 0.36, 2: 0.32, 3: 0.32})
    assert flat.entropy > 1.0 and RULE.is_uncertain(flat)
    # entropy 0.69 < 1.0 but margin 0.52 − 0.48 = 0.04 < 0.2
    close = record(1, {1: 0.52, 2: 0.48})
    assert close.entropy < 1.0 and RULE.is_uncertain(close)
    sure = record(1, {1: 0.7, 2: 0.3})  # entropy 0.61, margin 0.4
    assert not RULE.is_uncertain(sure) and RULE.alternatives(sure) == []
    # a server that reports no entropy: only the margin can trigger
    assert not RULE.is_uncertain(record(1, {1: 0.7, 2: 0.3}, entropy=math.nan))
    assert RULE.is_uncertain(record(1, {1: 0.52, 2: 0.48}, entropy=math.nan))


def test_alternatives_leave_out_the_token_taken_and_the_unlikely_and_keep_width():
    # a sampled path took token 2; 1 and 3 qualify (p ≥ 0.1), 4 is too unlikely
    token = record(2, {1: 0.4, 2: 0.3, 3: 0.25, 4: 0.05})
    assert [a.token_id for a in RULE.alternatives(token)] == [1, 3]
    narrow = BranchRule(entropy=1.0, margin=0.2, min_prob=0.1, width=1)
    assert [a.token_id for a in narrow.alternatives(token)] == [1]
    strict = BranchRule(entropy=1.0, margin=0.2, min_prob=0.35, width=2)
    assert [a.token_id for a in strict.alternatives(token)] == [1]


def test_high_entropy_alone_branches_and_each_threshold_is_a_strict_bound():
    sure = record(1, {1: 0.7, 2: 0.3}, entropy=1.5)  # margin 0.4: only the entropy is high
    assert RULE.is_uncertain(sure) and [a.token_id for a in RULE.alternatives(sure)] == [2]
    assert not RULE.is_uncertain(record(1, {1: 0.7, 2: 0.3}, entropy=1.0))  # not above 1.0
    # a margin exactly at the threshold is not below it
    close = record(1, {1: 0.52, 2: 0.48}, entropy=0.0)
    margin = close.top[0].prob - close.top[1].prob
    at = BranchRule(entropy=1.0, margin=margin, min_prob=0.1, width=2)
    assert not at.is_uncertain(close)
    above = BranchRule(entropy=1.0, margin=math.nextafter(margin, 1.0), min_prob=0.1, width=2)
    assert above.is_uncertain(close)
    # an alternative exactly at min p qualifies
    exact = BranchRule(entropy=1.0, margin=0.2, min_prob=close.top[1].prob, width=2)
    assert [a.token_id for a in exact.alternatives(close)] == [2]


def test_seed_keys_are_63_bit_and_name_the_place():
    keys = [seed_key(parent, position, token) for parent in (0, 7) for position in range(4)
            for token in range(8)]  # fmt: skip
    assert len(set(keys)) == len(keys)
    # 64 random 63-bit numbers: all below 2**63, and some use the top bit
    assert all(0 <= k < 2**63 for k in keys) and max(k.bit_length() for k in keys) == 63
    assert seed_key(7, 2, 3) == seed_key(7, 2, 3) != seed_key(3, 2, 7)


def test_branch_points_stop_at_the_depth_counting_the_inherited_ones():
    uncertain = {1: 0.5, 2: 0.45, 3: 0.05}  # margin 0.05: branches into 2 only (3 < 0.1)
    sure = {1: 0.95, 2: 0.05}
    tokens = [record(1, d) for d in (uncertain, sure, uncertain, uncertain, uncertain)]
    points = branch_points(tokens, RULE, start=0, end=5, depth=0, max_depth=2)
    assert [(p.position, p.depth) for p in points] == [(0, 1), (2, 2)]
    assert [a.token_id for a in points[0].alternatives] == [2]
    # a branch that already passed 1 branch point, decoding from position 3 on
    later = branch_points(tokens, RULE, start=3, end=5, depth=1, max_depth=2)
    assert [(p.position, p.depth) for p in later] == [(3, 2)]
    assert branch_points(tokens, RULE, start=0, end=5, depth=2, max_depth=2) == []
    assert [
        p.position for p in branch_points(tokens, RULE, start=0, end=3, depth=0, max_depth=9)
    ] == [0, 2]


def test_positions_inside_the_stop_string_do_not_branch():
    texts = [" 3", " apples", "\n", "Q", ":"]
    tokens = [record(1, {1: 0.5, 2: 0.5}, text=t) for t in texts]
    # content " 3 apples": the newline starts where the model chose to stop; "Q" and ":" are
    # inside the stop string "\nQ:"
    assert content_end(tokens, " 3 apples") == 3
    assert content_end(tokens, " 3 apples\nQ:") == 5


def test_planned_branches_carry_their_prefix_probability():
    tokens = [
        record(1, {1: 0.5, 2: 0.4, 3: 0.1}),  # margin 0.1: branches into 2 and 3
        record(1, {1: 0.9, 2: 0.1}),
        record(1, {1: 0.65, 2: 0.35}),  # margin 0.3, entropy 0.65: no branch
        record(1, {1: 0.45, 2: 0.4, 3: 0.15}),  # margin 0.05: 2 and 3
    ]
    planned = plan_branches(
        tokens, RULE, parent=7, parent_key=11, start=0, end=4, depth=0, max_depth=3
    )
    assert [(b.parent, b.position, b.token.token_id, b.depth) for b in planned] == [
        (7, 0, 2, 1), (7, 0, 3, 1), (7, 3, 2, 2), (7, 3, 3, 2),
    ]  # fmt: skip
    expected = [0.4, 0.1, 0.5 * 0.9 * 0.65 * 0.4, 0.5 * 0.9 * 0.65 * 0.15]
    assert [math.exp(b.logprob) for b in planned] == pytest.approx(expected)
    assert len({b.key for b in planned}) == 4  # each place in the tree its own random stream


def _planned(logprob: float, position: int) -> PlannedBranch:
    return PlannedBranch(0, position, Alternative(position, "t", logprob), 1, logprob, position)


def test_the_budget_starts_the_most_likely_branches_that_fit_whole():
    planned = [_planned(math.log(p), i) for i, p in enumerate([0.1, 0.4, 0.2, 0.3])]
    started, left = admit(planned, budget_left=250, tokens_each=100)  # room for 2
    assert [b.position for b in started] == [1, 3]  # 0.4 and 0.3, in the order planned
    assert [b.position for b in left] == [0, 2]
    assert admit(planned, budget_left=99, tokens_each=100) == ([], planned)
    assert admit(planned, budget_left=400, tokens_each=100)[0] == planned
    # one token each: the budget is the number of branches; nothing left, or less, starts none
    assert [b.position for b in admit(planned, budget_left=3, tokens_each=1)[0]] == [1, 2, 3]
    assert admit(planned, budget_left=0, tokens_each=1) == ([], planned)
    assert admit(planned, budget_left=-5, tokens_each=1) == ([], planned)


# -- the marginal distribution and the explored mass, by hand -----------------------------------
def test_marginal_distribution_and_explored_mass_of_a_small_tree():
    leaves = [
        Leaf("8", math.log(0.2)),
        Leaf("5", math.log(0.1)),
        Leaf("8", math.log(0.05)),
        Leaf(None, math.log(0.05)),
    ]
    m = marginal_distribution(leaves)
    assert m.n_leaves == 4
    assert m.explored_mass == pytest.approx(0.4)
    assert m.answered_mass == pytest.approx(0.35)
    assert m.unanswered_mass == pytest.approx(0.05)
    assert m.mass == pytest.approx({"8": 0.25, "5": 0.1})  # lower bounds of P(answer)
    assert m.distribution == pytest.approx({"8": 0.25 / 0.35, "5": 0.1 / 0.35})
    assert m.answer == "8" and m.tied == ()


def test_ties_and_a_tree_without_answers():
    tied = marginal_distribution([Leaf("3", math.log(0.3)), Leaf("5", math.log(0.1)),
                                  Leaf("5", math.log(0.2))])  # fmt: skip
    assert tied.answer == "3" and tied.tied == ("3", "5")  # 0.3 = 0.1 + 0.2, first seen wins
    none = marginal_distribution([Leaf(None, math.log(0.5))])
    assert none.answer is None and none.distribution == {} and none.mass == {}
    assert none.tied == ()
    assert none.explored_mass == pytest.approx(0.5) and none.answered_mass == 0.0
    empty = marginal_distribution([])
    assert empty.explored_mass == 0.0 and empty.n_leaves == 0


def test_paths_too_long_for_a_float_still_share_the_distribution():
    # e^-1000 underflows to 0; the normalised shares are taken in log space: 3 : 1
    leaves = [Leaf("8", -1000.0), Leaf("5", -1000.0 - math.log(3))]
    m = marginal_distribution(leaves)
    assert m.mass == {"8": 0.0, "5": 0.0}
    assert m.distribution == pytest.approx({"8": 0.75, "5": 0.25})
    assert m.answer == "8"


def test_log_sum_exp_of_nothing_and_of_impossible_paths():
    assert log_sum_exp([]) == -math.inf
    assert log_sum_exp([-math.inf, -math.inf]) == -math.inf
    assert log_sum_exp([math.log(0.25), math.log(0.5), -math.inf]) == pytest.approx(math.log(0.75))


def test_shares_in_words():
    assert share_words(0.771) == "77.1%"
    assert share_words(0.0001) == "0.01%"  # 0.01% is still a percentage
    assert share_words(0.00898) == "0.898%"
    assert share_words(1.36e-8) == "1.36e-08"
    assert share_words(0.0) == "0"
    m = marginal_distribution([Leaf("8", math.log(0.3)), Leaf("5", math.log(0.1))])
    assert marginal_lines(m) == [
        "explored: 2 leaves, probability mass 40% (answered 40%, no answer 0)",
        "marginal P(answer) over the explored paths: 8 75% · 5 25%",
        "lower bound of P(answer | question): 8 ≥ 30% · 5 ≥ 10%",
        "marginal answer: 8",
    ]
    tied = marginal_distribution([Leaf("3", math.log(0.2)), Leaf("5", math.log(0.2))])
    assert marginal_lines(tied)[-1] == "marginal answer: 3 (tie between 3, 5)"
    unanswered = marginal_distribution([Leaf(None, math.log(0.5))])
    assert marginal_lines(unanswered) == [
        "explored: 1 leaves, probability mass 50% (answered 0, no answer 50%)",
        "marginal answer distribution: no explored path answered",
    ]


# -- the strategy on a made-up model -------------------------------------------------------------
EOS = 0
TEXTS = {1: " A", 2: " B", 3: " C", 8: " 8", 5: " 5", 9: " x"}
# the next-token distribution after each generated prefix; anything else: end, nearly surely
MADE_UP = {
    (): {1: 0.6, 2: 0.3, 3: 0.1},  # margin 0.3: uncertain under margin 0.35
    (1,): {8: 0.9, 5: 0.1},
    (2,): {5: 0.5, 8: 0.4, 9: 0.1},  # margin 0.1: uncertain
    (3,): {5: 0.9, 9: 0.1},
}
THE_END = {EOS: 0.95, 9: 0.05}


class MadeUpModel:
    """A backend over :data:`MADE_UP`: greedy continuations, the end token not recorded (as
    the real engine does), one list of branches kept per request."""

    can_force_text = True
    n_ctx = 0

    def __init__(self) -> None:
        self.notices: list[str] = []
        self.requests: list[list[Branch]] = []

    def remember_texts(self, pairs) -> None:
        pass

    def explore(self, prompt, branches, settings=None, on_token=None, cancel=None, on_finish=None):
        assert isinstance(settings, GenerationSettings)
        self.requests.append(list(branches))
        results = []
        for index, branch in enumerate(branches):
            prefix, seq = list(branch.context), GeneratedSequence(index)
            while seq.finish_reason is None:
                if cancel is not None and cancel.cancelled:
                    seq.finish_reason = "cancelled"
                    break
                dist = MADE_UP.get(tuple(prefix), THE_END)
                n = len(seq.tokens)
                token = branch.forced[n] if n < len(branch.forced) else max(dist, key=dist.get)
                if token == EOS:
                    seq.finish_reason = "eos"
                    break
                made = record(token, dist, text=TEXTS[token])
                seq.tokens.append(made)
                prefix.append(token)
                if on_token is not None:
                    on_token(TokenEvent(index, n, made))
                if len(seq.tokens) >= settings.max_tokens:
                    seq.finish_reason = "length"
            if on_finish is not None:
                on_finish(seq)
            results.append(seq)
        return results


def made_up_run(hooks: RunHooks | None = None, **changes) -> tuple[Session, MadeUpModel]:
    settings = RunSettings(
        **{
            "strategy": "adaptive", "max_tokens": 4, "branch_entropy": 5.0,
            "branch_margin": 0.35, "branch_min_prob": 0.25, "branch_width": 2,
            "branch_depth": 2, "token_budget": 100, "use_chat_template": False, **changes,
        }
    )  # fmt: skip
    validate_settings(settings)
    session = Session("q", "Q: q\nA:", [100, 101], settings, {}, "8")
    model = MadeUpModel()
    run_strategy(model, session, hooks)  # type: ignore[arg-type]
    return session, model


def texts(session: Session) -> list[str]:
    return [p.text for p in session.paths]


def test_the_made_up_tree_grows_level_by_level():
    session, model = made_up_run()
    # root path A 8; at token 0, B (0.3 ≥ 0.25; C's 0.1 is too unlikely); B's path B 5 is
    # uncertain at its token 1 (margin 0.1) and branches into 8 there: 2 branch points deep
    assert texts(session) == [" A 8", " B 5", " B 8"]
    assert [(p.parent_path, p.branch_depth) for p in session.paths] == [
        (None, None), (0, 0), (1, 1),
    ]  # fmt: skip
    # one request per level, each branch continuing its parent's tokens before its position
    assert [[(b.context, b.forced) for b in request] for request in model.requests] == [
        [((), ())], [((), (2,))], [((2,), (8,))],
    ]  # fmt: skip
    # a real tree: the prompt forks into A and B, B forks into 5 and 8
    tree = session.tree
    assert len(tree.root.children) == 2
    b_node = next(
        tree.nodes[c] for c in tree.root.children if tree.nodes[c].tokens[0].token_id == 2
    )
    assert len(b_node.tokens) == 1 and len(b_node.children) == 2
    assert len(tree.leaves()) == 3 and session.status == "complete"


def test_the_made_up_tree_reports_its_mass_and_marginal():
    session, _ = made_up_run()
    summary = session.summary()
    m = summary.marginal
    assert m is not None
    # leaves: A 8 = 0.6 · 0.9, B 5 = 0.3 · 0.5, B 8 = 0.3 · 0.4 (the end token is not recorded)
    assert m.explored_mass == pytest.approx(0.54 + 0.15 + 0.12)
    assert m.mass == pytest.approx({"8": 0.54 + 0.12, "5": 0.15})
    assert m.distribution == pytest.approx({"8": 0.66 / 0.81, "5": 0.15 / 0.81})
    assert summary.chosen_answer == "8" and summary.correct is True
    assert summary.votes == {"8": 2, "5": 1} and summary.majority.answer == "8"
    # the weighted vote (a softmax of the paths' log-probabilities) is the same distribution
    assert summary.weighted.distribution == pytest.approx(m.distribution)


def test_the_depth_bounds_the_branch_points_of_every_path():
    session, model = made_up_run(branch_depth=1)
    assert texts(session) == [" A 8", " B 5"] and len(model.requests) == 2
    m = session.summary().marginal
    assert m is not None and m.explored_mass == pytest.approx(0.54 + 0.15)


def test_the_budget_starts_only_branches_that_fit_and_counts_the_rest():
    progress: list[AdaptiveProgress] = []
    hooks = RunHooks(on_progress=lambda _s, p: progress.append(p))
    # min p 0.1 lets C in too; the root path decodes 2 tokens, so 2 + 4 leaves room for one
    # more path of max tokens 4: B (0.3) goes, C (0.1) is left out
    session, _ = made_up_run(hooks, branch_min_prob=0.1, token_budget=6)
    assert texts(session) == [" A 8", " B 5"]
    assert progress == [AdaptiveProgress(1, 1, 1, 2, 6, 1)]
    # budget 9: at level 1 room for B only (C left out), at level 2, after B's 2 tokens, for
    # B's 8 (0.3 · 0.4) only (B's x, 0.3 · 0.1, left out): 2 left out so far
    progress.clear()
    session, _ = made_up_run(hooks, branch_min_prob=0.1, token_budget=9)
    assert texts(session) == [" A 8", " B 5", " B 8"]
    assert progress == [AdaptiveProgress(1, 1, 1, 2, 9, 1), AdaptiveProgress(2, 1, 2, 4, 9, 2)]
    # with room for both: C's path too, and B's branch point a level further down
    session, _ = made_up_run(branch_min_prob=0.1, token_budget=100)
    assert texts(session) == [" A 8", " B 5", " C 5", " B 8", " B x"]


def test_paths_are_saved_as_they_end_and_a_cancel_stops_the_levels():
    saved: list[int] = []
    session, _ = made_up_run(RunHooks(on_path=lambda _s, p: saved.append(p.id)))
    assert set(saved) == {0, 1, 2}
    cancel = CancelToken()

    def stop_after_first(_session: Session, path) -> None:
        if path.finished:
            cancel.cancel()

    session, model = made_up_run(RunHooks(on_path=stop_after_first, cancel=cancel))
    assert texts(session) == [" A 8"] and len(model.requests) == 1
    assert session.status == "cancelled"


def test_streamed_tokens_carry_their_path_ids():
    events: list[tuple[int, str]] = []
    hooks = RunHooks(on_token=lambda e: events.append((e.branch, e.token.text)))
    session, _ = made_up_run(hooks)
    # each level's request numbers its branches from 0; the stream names the paths instead
    assert events == [(0, " A"), (0, " 8"), (1, " B"), (1, " 5"), (2, " 8")]
    assert [p.id for p in session.paths] == [0, 1, 2]


def test_a_branch_keeps_its_random_stream_whatever_else_the_request_holds():
    _, alone = made_up_run(adaptive_sample=True, branch_min_prob=0.25)
    _, together = made_up_run(adaptive_sample=True, branch_min_prob=0.1)
    key_of = {b.forced: b.seed_key for request in together.requests for b in request}
    b_branch = alone.requests[1][0]
    assert b_branch.forced == (2,) and key_of[(2,)] == b_branch.seed_key
    keys = [b.seed_key for request in together.requests for b in request]
    assert len(set(keys)) == len(keys)


def test_one_clear_message_for_settings_that_cannot_branch():
    with pytest.raises(InvalidParameterError, match="needs more than 5 alternatives recorded"):
        validate_settings(RunSettings(strategy="adaptive", branch_width=5, n_alternatives=5))
    with pytest.raises(InvalidParameterError, match=r"token budget \(100\) is smaller than max"):
        validate_settings(RunSettings(strategy="adaptive", token_budget=100, max_tokens=128))
    with pytest.raises(InvalidParameterError, match="branch points per path must be 1–12"):
        validate_settings(RunSettings(strategy="adaptive", branch_depth=0))
    with pytest.raises(InvalidParameterError, match="branch margin must be"):
        validate_settings(RunSettings(strategy="adaptive", branch_margin=math.nan))


# -- the real default model -----------------------------------------------------------------------
REAL = {
    "strategy": "adaptive", "max_tokens": 24, "branch_entropy": 2.5, "branch_margin": 0.1,
    "branch_min_prob": 0.05, "branch_width": 1, "branch_depth": 2, "token_budget": 2000,
}  # fmt: skip


@pytest.fixture(scope="module")
def real_run(engine):
    saved: list[int] = []
    session = new_session(engine, QUESTION, RunSettings(**REAL), gold="8")
    run_strategy(engine, session, RunHooks(on_path=lambda _s, p: saved.append(p.id)))
    return session, saved


def uncertain(token: TokenRecord) -> bool:
    """The rule of REAL, written out again."""
    probs = [math.exp(a.logprob) for a in token.top]
    return token.entropy > REAL["branch_entropy"] or probs[0] - probs[1] < REAL["branch_margin"]


def qualifying(token: TokenRecord) -> list[int]:
    return [
        a.token_id for a in token.top
        if a.token_id != token.token_id and math.exp(a.logprob) >= REAL["branch_min_prob"]
    ][: REAL["branch_width"]]  # fmt: skip


def branch_count(session: Session, path) -> int:
    """Branch points on the way to the path's end: nodes of its chain with several children
    (the root counts when it forks)."""
    chain = [session.tree.root, *session.tree.chain(path.node_id)]
    return sum(1 for node in chain[:-1] if len(node.children) > 1)


def test_a_real_run_is_a_multi_level_tree_of_the_models_branch_points(real_run, engine):
    session, saved = real_run
    assert session.status == "complete"
    paths = session.paths
    assert len(paths) > 2, "the default model did not branch: nothing to check"
    assert any(p.parent_path not in (None, 0) for p in paths), "no second level"
    root_tokens = session.path_tokens(paths[0])
    # the root path's first branch point: the first uncertain position with a qualifying
    # alternative, found again here from the recorded distribution
    first = next(i for i, t in enumerate(root_tokens) if uncertain(t) and qualifying(t))
    child = next(p for p in paths if p.parent_path == 0)
    assert child.branch_depth == first
    for path in paths[1:]:
        parent = session.path_tokens(paths[path.parent_path])
        tokens = session.path_tokens(path)
        t = path.branch_depth
        assert [x.token_id for x in tokens[:t]] == [x.token_id for x in parent[:t]]
        assert uncertain(parent[t]) and tokens[t].token_id in qualifying(parent[t])
        # the forced token is recorded with the model's probability at that position, within
        # the engine's tolerance for a prefix evaluated as a branch's context (0.05)
        alt = next(a for a in parent[t].top if a.token_id == tokens[t].token_id)
        assert tokens[t].prob == pytest.approx(alt.prob, abs=0.05)
    for path in paths:
        assert branch_count(session, path) <= REAL["branch_depth"]
    assert set(saved) == {p.id for p in paths}  # each saved through on_path as it ended


def test_a_real_branch_continues_greedily_after_its_forced_token(real_run):
    session, _ = real_run
    for path in session.paths[1:]:
        decoded = session.path_tokens(path)[path.branch_depth + 1 :]
        assert all(t.token_id == t.top[0].token_id for t in decoded)


def test_a_real_runs_mass_is_the_sum_of_its_leaves_token_products(real_run):
    session, _ = real_run
    m = session.summary().marginal
    assert m is not None
    leaves = [p for p in session.paths if p.finished]
    assert m.n_leaves == len(leaves) == len(session.tree.leaves())
    products = [math.prod(t.prob for t in session.path_tokens(p)) for p in leaves]
    assert m.explored_mass == pytest.approx(sum(products), rel=1e-9)
    assert 0 < m.explored_mass <= 1
    by_answer: dict[str, float] = {}
    for path, product in zip(leaves, products, strict=True):
        if path.answer is not None:
            by_answer[path.answer] = by_answer.get(path.answer, 0.0) + product
    assert m.mass == pytest.approx(by_answer, rel=1e-9)
    total = sum(by_answer.values())
    assert m.distribution == pytest.approx({a: v / total for a, v in by_answer.items()})
    assert session.summary().chosen_answer == max(by_answer, key=by_answer.__getitem__)


def test_the_reports_give_the_explored_mass_and_the_marginal_in_words():
    from inspector.store.export.report import adaptive_rows, applicable_settings

    session, _ = made_up_run()
    marginal = session.summary().marginal
    assert marginal is not None
    assert adaptive_rows(marginal) == [
        ("explored mass", "81% over 3 leaves (answered 81%, no answer 0)"),
        ("marginal distribution", f"8 {0.66 / 0.81:.1%} · 5 {0.15 / 0.81:.1%}"),
        ("lower bound of P(answer | question)", "8 ≥ 66% · 5 ≥ 15%"),
        ("marginal answer", "8"),
    ]
    shown = dict(applicable_settings(session.settings.to_dict()))
    assert shown["branch_depth"] == "2" and "temperature" not in shown
    sampled = dict(applicable_settings({**session.settings.to_dict(), "adaptive_sample": True}))
    assert "temperature" in sampled and "samples" not in sampled
    greedy = dict(applicable_settings(RunSettings().to_dict()))
    assert "branch_depth" not in greedy and "token_budget" not in greedy
