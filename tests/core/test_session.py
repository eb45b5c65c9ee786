"""Sessions: answers, Δ confidence, votes and the strategies' choices, on hand-made paths."""

from __future__ import annotations

import math

import pytest

from inspector.core.metrics import answer_confidence
from inspector.core.session import AnswerProbe, ReasoningPath, RunSettings, Session
from inspector.engine.records import Alternative, GeneratedSequence, TokenRecord


def token(text: str, token_id: int, p1: float, p2: float) -> TokenRecord:
    top = (
        Alternative(token_id, text, math.log(p1)),
        Alternative(token_id + 1000, "x", math.log(p2)),
    )
    return TokenRecord(token_id, text, text.encode(), math.log(p1), 1.0, top)


_IDS: dict[str, int] = {}


def token_id(text: str) -> int:
    """One id per distinct text, as a tokenizer would give."""
    return _IDS.setdefault(text, 100 + len(_IDS))


def sequence(parts: list[tuple[str, float, float]], finish="stop", stop=None) -> GeneratedSequence:
    tokens = [token(t, token_id(t), p1, p2) for t, p1, p2 in parts]
    return GeneratedSequence(branch=0, tokens=tokens, finish_reason=finish, stop_string=stop)


def make_session(strategy: str, gold: str | None = "8") -> Session:
    return Session("q", "Q: q\nA:", [2, 3], RunSettings(strategy=strategy), {}, gold)


def test_answer_span_and_delta_are_computed_over_the_answer_tokens():
    session = make_session("cot-decoding")
    parts = [(" He has 5,", 0.5, 0.2), (" 3 + 5 = ", 0.6, 0.1), ("8", 0.9, 0.05), (".", 0.7, 0.1)]
    path = session.add_path(sequence(parts), "cot-decoding", "first token #1")
    assert path.answer == "8" and path.answer_text == "8"
    assert path.answer_tokens == (2, 3)
    assert path.confidence == pytest.approx(0.9 - 0.05)
    assert path.correct is True
    assert path.logprob == pytest.approx(math.log(0.5 * 0.6 * 0.9 * 0.7))


def test_text_stops_before_the_stop_string():
    session = make_session("greedy")
    path = session.add_path(
        sequence([(" 5", 0.6, 0.3), ("\nQ:", 0.5, 0.2), (" 9", 0.5, 0.1)], stop="\nQ:"),
        "greedy",
        "g",
    )
    assert path.text == " 5" and path.answer == "5" and path.correct is False
    assert path.n_tokens == 3


def test_delta_helper_averages_margins():
    tokens = [token("1", 1, 0.5, 0.3), token("2", 2, 0.9, 0.0001)]
    assert answer_confidence(tokens, (0, 2)) == pytest.approx(((0.5 - 0.3) + (0.9 - 0.0001)) / 2)


def ranked(text: str, token_id: int, probs: list[float]) -> TokenRecord:
    """A token the model took with probability ``probs[0]``, its alternatives after it."""
    top = tuple(
        Alternative(token_id + 1000 * i, f"alt{i}", math.log(p)) for i, p in enumerate(probs)
    )
    top = (Alternative(token_id, text, math.log(probs[0])), *top[1:])
    return TokenRecord(token_id, text, text.encode(), math.log(probs[0]), 1.0, top)


def test_delta_is_top1_minus_top2_however_many_alternatives_are_recorded():
    # p1 − p2 is 0.40 − 0.35 = 0.05 and 0.5 − 0.3 = 0.2; p1 − p3 would be 0.30 and 0.4
    tokens = [ranked(" 4", 7, [0.40, 0.35, 0.10, 0.05]), ranked("2", 8, [0.5, 0.3, 0.1])]
    assert answer_confidence(tokens, (0, 2)) == pytest.approx((0.05 + 0.2) / 2)
    session = make_session("cot-decoding", gold="42")
    path = session.add_path(
        GeneratedSequence(0, [ranked(" So", 9, [0.6, 0.2, 0.1]), *tokens], "stop", None),
        "cot-decoding",
        "1",
    )
    assert path.answer == "42" and path.answer_tokens == (1, 3)
    assert path.confidence == pytest.approx(0.125)


def probe_tokens(answer: str, p1: float, p2: float) -> list[TokenRecord]:
    """ " So the answer is" (forced) and the answer the probe decoded."""
    return [token(" So the answer is", 50, 1.0, 0.0001), token(answer, token_id(answer), p1, p2)]


def test_with_the_probe_both_picks_are_recorded_side_by_side():
    settings = RunSettings(strategy="cot-decoding", answer_probe="So the answer is")
    session = Session("q", "Q: q\nA:", [2, 3], settings, {}, "8")
    # own Δ: 0.6, 0.1, — ; probe Δ: 0.2, 0.9, 0.95 (the last path states no answer itself)
    rows = [([(" 7", 0.7, 0.1)], (" 7", 0.5, 0.3)), ([(" 8", 0.5, 0.4)], (" 8", 0.92, 0.02))]
    rows.append(([(" I am not sure.", 0.5, 0.3)], (" 8", 0.96, 0.01)))
    for parts, (answer, p1, p2) in rows:
        path = session.add_path(sequence(parts), "cot-decoding", "b")
        path.probe = AnswerProbe(settings.answer_probe, probe_tokens(answer, p1, p2), 1)
        session.evaluate_path(path)
    first, second, third = session.paths
    own = [session.own_delta(p) for p in session.paths]
    assert own[:2] == pytest.approx([0.6, 0.1]) and own[2] is None
    assert (first.confidence, second.confidence) == pytest.approx((0.2, 0.9))
    assert third.answer == "8" and third.answer_rule == "probe"
    summary = session.summary()
    # the probe's Δ picks the third path; its own answers' Δ picks the first
    assert summary.cot_path_id == 2 and summary.chosen_answer == "8"
    assert summary.selections["cot-decoding"] == "8"
    assert summary.selections["cot-no-probe"] == "7"
    unprobed = make_session("cot-decoding")
    unprobed.add_path(sequence([(" 7", 0.7, 0.1)]), "cot-decoding", "b")
    assert "cot-no-probe" not in unprobed.summary().selections  # it applies only with a probe


def test_cot_decoding_picks_the_highest_delta_not_the_majority():
    session = make_session("cot-decoding")
    session.add_path(sequence([(" 5", 0.40, 0.35)]), "cot-decoding", "1")
    session.add_path(sequence([(" So", 0.5, 0.2), (" 5", 0.45, 0.30)]), "cot-decoding", "2")
    session.add_path(sequence([(" 8", 0.95, 0.01)]), "cot-decoding", "3")
    summary = session.summary()
    assert summary.votes == {"5": 2, "8": 1}
    assert summary.majority.answer == "5"
    assert summary.cot_path_id == 2 and summary.chosen_answer == "8" and summary.correct is True
    # aggregated Δ: 5 -> 0.05 + 0.15 = 0.20 ; 8 -> 0.94
    assert summary.cot_aggregated.answer == "8"
    assert summary.cot_aggregated.distribution["5"] == pytest.approx(0.20)
    assert summary.consistency == pytest.approx(2 / 3)


def test_self_consistency_majority_and_cancelled_paths_do_not_vote():
    session = make_session("self-consistency")
    for answer in (" 8", " 8", " 7"):
        session.add_path(sequence([(answer, 0.5, 0.2)]), "sample", "s")
    session.add_path(sequence([(" 7", 0.5, 0.2)], finish="cancelled"), "sample", "s")
    summary = session.summary()
    assert summary.votes == {"8": 2, "7": 1}
    assert summary.chosen_answer == "8" and summary.correct is True
    assert session.paths[3].correct is None


def test_setting_the_gold_answer_rescores_every_path():
    session = make_session("greedy", gold=None)
    session.add_path(sequence([(" 12", 0.5, 0.2)]), "greedy", "g")
    assert session.paths[0].correct is None and session.summary().correct is None
    session.set_gold("12.0")
    assert session.paths[0].correct is True and session.summary().correct is True


def test_paths_without_answers_do_not_vote():
    session = make_session("self-consistency")
    session.add_path(sequence([(" no idea", 0.5, 0.2)]), "sample", "s")
    summary = session.summary()
    assert session.paths[0].answer is None
    assert summary.votes == {} and summary.chosen_answer is None and summary.consistency is None


def texts(tokens: list[TokenRecord]) -> str:
    return "".join(t.text for t in tokens)


def test_boundary_node_ends_exactly_at_the_depth_and_moves_the_paths_that_ended_there():
    session = make_session("greedy")
    letters = [(c, 0.5, 0.2) for c in "abcd"]
    first = session.add_path(sequence(letters), "greedy", "a")
    twin = session.add_path(sequence(letters), "sample", "same tokens, same node")
    other = session.add_path(sequence([*letters[:2], ("x", 0.5, 0.2)]), "sample", "abx")
    # nodes: [a b] -> [c d] (first, twin) and [x] (other)
    assert session.boundary_node(first, 0) == 0  # the root
    cd = first.node_id
    assert session.tree.nodes[cd].depth == 2
    assert session.boundary_node(first, 2) == session.tree.nodes[cd].parent  # no split needed
    assert len(session.tree) == 4 and first.node_id == twin.node_id == cd
    # depth 3 falls inside [c d]: it is cut after "c", the paths that ended there move to "d"
    node = session.boundary_node(first, 3)
    assert node == cd and texts(session.tree.tokens_to(node)) == "abc"
    assert len(session.tree) == 5
    assert first.node_id == twin.node_id != cd
    assert session.tree.nodes[first.node_id].parent == cd
    assert texts(session.path_tokens(first)) == texts(session.path_tokens(twin)) == "abcd"
    assert texts(session.path_tokens(other)) == "abx"  # a path elsewhere stays where it was
    # the last token of a node: nothing to split
    assert session.boundary_node(first, 4) == first.node_id
    assert session.boundary_node(other, 3) == other.node_id and len(session.tree) == 5
    with pytest.raises(IndexError):
        session.boundary_node(first, 5)


def test_self_consistency_summary_every_figure_by_hand():
    session = make_session("self-consistency", gold="8")
    session.add_path(sequence([(" 5", 0.6, 0.3)]), "greedy", "greedy reference")
    session.add_path(sequence([(" 8", 0.5, 0.2)]), "sample", "s")
    session.add_path(sequence([(" 7", 0.4, 0.3)]), "sample", "s")
    session.add_path(sequence([(" 8", 0.9, 0.05)], finish="length"), "sample", "cut")
    session.add_path(sequence([(" 9", 0.5, 0.2)], finish="cancelled"), "sample", "cancelled")
    session.add_path(sequence([(" no idea", 0.5, 0.2)]), "sample", "no answer")
    summary = session.summary()
    # voters: the samples that ended (not the greedy reference, not the cancelled one)
    assert [p.id for p in session.voting_paths()] == [1, 2, 3, 5]
    assert (summary.n_voting, summary.n_completed, summary.n_answered, summary.n_hit_limit) == (
        4, 3, 2, 1,
    )  # fmt: skip
    # the cut path's last number is no answer (only a marker answers an unfinished path)
    assert session.paths[3].answer is None
    assert summary.votes == {"8": 1, "7": 1}
    assert (summary.majority.answer, summary.majority.tied) == ("8", ("8", "7"))
    # weights 0.5 and 0.4 of 0.9; Δ 0.5 − 0.2 = 0.3 and 0.4 − 0.3 = 0.1
    assert summary.weighted.distribution == pytest.approx({"8": 0.5 / 0.9, "7": 0.4 / 0.9})
    assert (summary.cot_pick.index, summary.cot_path_id) == (0, 1)
    assert summary.cot_aggregated.distribution == pytest.approx({"8": 0.3, "7": 0.1})
    assert summary.delta_range == pytest.approx((0.1, 0.3))
    assert summary.consistency == 0.5
    assert summary.vote_entropy == pytest.approx(math.log(2))
    assert (summary.chosen_answer, summary.correct, summary.any_correct) == ("8", True, True)
    assert summary.selections == {
        "greedy": "5", "cot-decoding": "8", "cot-aggregated": "8", "majority": "8",
        "weighted": "8",
    }  # fmt: skip
    marginal = summary.greedy_vs_marginal
    assert marginal is not None
    assert marginal.greedy_answer == "5"
    assert marginal.greedy_sequence_probability == pytest.approx(0.6)
    # shares over the 4 voters: nobody reached 5; the majority 8 once
    assert (marginal.greedy_answer_probability, marginal.majority_answer) == (0.0, "8")
    assert marginal.majority_answer_probability == 0.25


def test_a_greedy_run_votes_with_its_greedy_path_and_has_no_marginal():
    session = make_session("greedy", gold="7")
    session.add_path(sequence([(" 7", 0.6, 0.3)]), "greedy", "greedy")
    summary = session.summary()
    assert session.voting_paths() == session.paths
    assert summary.greedy_vs_marginal is None
    assert (summary.chosen_answer, summary.correct, summary.any_correct) == ("7", True, True)
    assert summary.selections["greedy"] == "7"
    nothing = make_session("self-consistency")
    nothing.add_path(sequence([(" 7", 0.6, 0.3)], finish="cancelled"), "greedy", "greedy")
    assert nothing.greedy_reference() is None and nothing.greedy_path() is None
    empty = nothing.summary()
    assert (empty.correct, empty.any_correct, empty.greedy_vs_marginal) == (None, None, None)


def test_a_paths_answer_fields_and_origin_are_recorded():
    session = make_session("greedy")
    path = session.add_path(
        sequence([(" So", 0.5, 0.2), (" 8", 0.8, 0.1)]),
        "branch",
        "branch at 1",
        parent_path=0,
        branch_depth=1,
    )
    assert (path.origin, path.label, path.parent_path, path.branch_depth) == (
        "branch", "branch at 1", 0, 1,
    )  # fmt: skip
    assert (path.answer, path.answer_text, path.answer_span) == ("8", "8", (4, 5))
    assert (path.answer_rule, path.answer_tokens) == ("last-number", (1, 2))
    assert path.answer_logprob == pytest.approx(math.log(0.8))
    none = session.add_path(sequence([(" hmm", 0.5, 0.2)]), "sample", "s")
    assert (none.answer_span, none.answer_rule, none.answer_logprob) == (None, None, None)


def test_the_text_ends_at_the_first_stop_string():
    session = make_session("greedy")
    parts = [(" 5", 0.6, 0.3), ("\nQ:", 0.5, 0.2), (" 9", 0.5, 0.1), ("\nQ:", 0.5, 0.2)]
    path = session.add_path(sequence(parts, stop="\nQ:"), "greedy", "g")
    assert (path.text, path.answer) == (" 5", "5")


def test_a_prompt_that_opens_the_thinking_makes_the_path_start_inside_it():
    session = Session("q", "Q: q\nA: <think>\n", [2, 3], RunSettings(), {}, "8")
    closed = session.add_path(
        sequence([(" 3 apples", 0.5, 0.2), ("</think>", 0.9, 0.01), (" 8", 0.7, 0.1)]),
        "greedy",
        "g",
    )
    assert closed.thinking_tokens == (0, 2) and closed.thinking_ended
    assert closed.answer == "8" and closed.answer_tokens == (2, 3)
    # no close marker: the whole text is thinking, so it has no answer yet
    open_ = session.add_path(sequence([(" 3 apples and 8", 0.5, 0.2)]), "sample", "s")
    assert open_.thinking_tokens == (0, 1) and not open_.thinking_ended
    assert open_.answer is None and not open_.completed


def test_settings_to_dict_keeps_the_stop_strings_as_a_list():
    data = RunSettings(stop=("\nQ:", "END")).to_dict()
    assert data["stop"] == ["\nQ:", "END"]
    assert RunSettings.from_dict(data).stop == ("\nQ:", "END")


def test_a_delta_tie_goes_to_the_answer_with_the_higher_log_probability():
    session = make_session("cot-decoding", gold="7")
    # both answers have Δ 0.3 (0.5 − 0.2 and 0.6 − 0.3); the answer tokens' probabilities
    # are 0.5 and 0.6, so the second path's "7" wins the tie
    session.add_path(sequence([(" 5", 0.5, 0.2)]), "cot-decoding", "1")
    session.add_path(sequence([(" 7", 0.6, 0.3)]), "cot-decoding", "2")
    summary = session.summary()
    assert summary.cot_pick.tied == (0, 1)
    assert (summary.cot_path_id, summary.chosen_answer, summary.correct) == (1, "7", True)
    # greedy decoding is CoT-decoding's first branch
    assert summary.selections["greedy"] == "5"


def test_self_consistency_answers_the_majority_not_the_first_path():
    session = make_session("self-consistency", gold="8")
    for answer in (" 7", " 8", " 8"):
        session.add_path(sequence([(answer, 0.5, 0.2)]), "sample", "s")
    session.add_path(sequence([(" 8", 0.5, 0.2)], finish="context"), "sample", "cut")
    summary = session.summary()
    assert (summary.chosen_answer, summary.correct) == ("8", True)
    assert (summary.n_answered, summary.n_hit_limit) == (3, 1)  # the cut path states no answer


def test_correctness_uses_the_runs_answer_rule():
    settings = RunSettings(strategy="greedy", answer_rule="choice")
    session = Session("q", "Q: q\nA:", [2, 3], settings, {}, "Answer: B")
    path = session.add_path(sequence([(" (B)", 0.5, 0.2)]), "greedy", "g")
    # as a choice both are "B"; as plain text "answer: b" would not equal "b"
    assert path.answer == "B" and path.correct is True
    assert session.summary().correct is True
    assert path.thinking_tokens is None


def test_a_branch_continues_its_start_node_and_a_reserved_path_has_no_tokens():
    session = make_session("greedy")
    base = session.add_path(sequence([(c, 0.5, 0.2) for c in "abc"]), "greedy", "g")
    start = session.boundary_node(base, 2)
    branch = session.add_path(
        sequence([("x", 0.5, 0.2)]), "branch", "b", start_node=start, parent_path=0
    )
    assert texts(session.path_tokens(branch)) == "abx"
    reserved = session.reserve_path("sample", "running")
    assert reserved.finish_reason is None and session.path_tokens(reserved) == []


# -- the answer probe's bookkeeping -------------------------------------------------------------
def probed(session: Session, parts, probe_text: str, continuation, n_forced: int = 1):
    """A path of ``parts`` whose probe forced ``probe_text`` (one token) and decoded
    ``continuation`` ((text, p1, p2) tokens)."""
    path = session.add_path(sequence(parts), "cot-decoding", "b")
    forced = [token(probe_text, token_id(probe_text), 1.0, 0.0001)]
    decoded = [token(t, token_id(t), p1, p2) for t, p1, p2 in continuation]
    path.probe = AnswerProbe(probe_text, forced + decoded, n_forced)
    session.evaluate_path(path)
    return path


def test_the_probes_answer_is_found_by_the_runs_rule_after_the_probe_text_only():
    choice = RunSettings(strategy="cot-decoding", answer_rule="choice", answer_probe="So")
    session = Session("q", "Q: q\nA:", [2, 3], choice, {}, "B")
    path = probed(
        session, [(" I think (A)", 0.5, 0.3)], " So", [(" (B),", 0.7, 0.2), (" 4", 0.6, 0.3)]
    )
    # the choice rule reads "B" (the last number would be "4")
    assert (path.probe.answer, path.probe.answer_text) == ("B", "B")
    assert path.probe.answer_tokens == (1, 2) and path.probe.confidence == pytest.approx(0.5)
    auto = Session("q", "Q: q\nA:", [2, 3], RunSettings(strategy="cot-decoding"), {}, "7")
    # the probe text holds a boxed 4: searched from its end, only the decoded " 7" answers
    path = probed(auto, [(" 3 + 4 = 7", 0.5, 0.3)], " In \\boxed{4} form, so", [(" 7", 0.9, 0.05)])
    assert (path.probe.answer, path.probe.answer_tokens) == ("7", (1, 2))
    assert path.confidence == pytest.approx(0.85) and path.correct is True


def test_a_probe_without_an_answer_has_no_answer_fields_and_no_delta():
    session = make_session("cot-decoding", gold="5")
    path = probed(
        session, [(" 5", 0.6, 0.3)], " So the answer is", [(" not", 0.5, 0.4), (" sure", 0.5, 0.2)]
    )
    probe = path.probe
    assert (probe.answer, probe.answer_text, probe.answer_tokens, probe.confidence) == (
        None, None, None, None,
    )  # fmt: skip
    # the path keeps its own answer; Δ is measured on the probe's answer, which it lacks
    assert (path.answer, path.answer_tokens, path.confidence) == ("5", (0, 1), None)
    assert session.own_delta(path) == pytest.approx(0.3)


def test_a_probe_answers_a_completed_path_that_stated_none():
    session = make_session("cot-decoding", gold="8")
    path = probed(
        session,
        [(" I am not sure.", 0.5, 0.3)],
        " So the answer is",
        [(" 8", 0.8, 0.1), (".", 0.9, 0.05)],
    )
    assert (path.answer, path.answer_text, path.answer_rule) == ("8", "8", "probe")
    # its answer lies in the probe's tokens, not the path's: no span of the path's own
    assert path.answer_span is None and path.answer_tokens is None
    assert path.answer_logprob == pytest.approx(math.log(0.8))
    assert path.confidence == pytest.approx(0.7) and path.correct is True
    assert session.own_delta(path) is None


def test_without_the_probe_a_delta_tie_still_goes_to_the_higher_log_probability():
    settings = RunSettings(strategy="cot-decoding", answer_probe="So the answer is")
    session = Session("q", "Q: q\nA:", [2, 3], settings, {}, "7")
    # own Δ 0.5 − 0.2 = 0.3 and 0.6 − 0.3 = 0.3 (a tie); the answer tokens' probabilities
    # 0.5 and 0.6: the second's own answer "7" wins the run without the probe
    probed(session, [(" 5", 0.5, 0.2)], " So the answer is", [(" 5", 0.9, 0.05)])
    probed(session, [(" 7", 0.6, 0.3)], " So the answer is", [(" 7", 0.8, 0.1)])
    summary = session.summary()
    assert summary.selections["cot-decoding"] == "5"  # the probe's Δ: 0.85 against 0.7
    assert summary.selections["cot-no-probe"] == "7"


def path_of(session: Session, strategy_origin: str, parts) -> None:
    session.add_path(sequence(parts), strategy_origin, "p")


def test_adaptive_answers_the_most_probable_answer_and_others_keep_their_rule():
    # two unlikely paths answer 5 (p 0.05 · 0.5 each), one likely path 7 (p 0.8): the
    # majority says 5, the explored mass 7
    paths = [[(" So", 0.05, 0.01), (" 5", 0.5, 0.2)], [(" Then", 0.05, 0.01), (" 5", 0.5, 0.2)]]
    paths.append([(" 7", 0.8, 0.1)])
    adaptive = make_session("adaptive", gold="7")
    sampled = make_session("self-consistency", gold="7")
    for parts in paths:
        path_of(adaptive, "branch", parts)
        path_of(sampled, "sample", parts)
    assert adaptive.summary().majority.answer == "5"
    assert adaptive.summary().chosen_answer == "7"
    assert adaptive.summary().marginal.answer == "7"
    assert sampled.summary().chosen_answer == "5" and sampled.summary().marginal is None


def test_greedy_answers_its_own_path_whatever_the_branches_say():
    session = make_session("greedy", gold="5")
    path_of(session, "greedy", [(" 5", 0.6, 0.3)])
    path_of(session, "branch", [(" 7", 0.3, 0.2)])
    path_of(session, "branch", [(" Hm, 7", 0.3, 0.2)])
    summary = session.summary()
    assert summary.majority.answer == "7" and summary.chosen_answer == "5"
    assert summary.marginal is None


def test_leaves_count_each_end_once_and_leave_out_what_a_prefix_path_covers():
    same = make_session("adaptive")
    for parts in ([(" a", 0.5, 0.2), (" b", 0.5, 0.2)], [(" a", 0.5, 0.2), (" b", 0.5, 0.2)]):
        path_of(same, "branch", parts)
    path_of(same, "branch", [(" c", 0.4, 0.2)])
    # the second path ends where the first did: one leaf; the third is a leaf of its own
    assert [p.id for p in same.leaves()] == [0, 2]
    prefix = make_session("adaptive")
    path_of(prefix, "branch", [(" a", 0.5, 0.2), (" b", 0.5, 0.2)])
    path_of(prefix, "branch", [(" a", 0.5, 0.2)])
    path_of(prefix, "branch", [(" c", 0.4, 0.2)])
    # the first path continues the second's tokens: the second's probability covers it
    assert [p.id for p in prefix.leaves()] == [1, 2]


def test_only_an_answer_of_the_paths_own_has_an_own_delta_and_a_delta_range():
    """Paths as an import builds them from a file's fields (no evaluation): an answer the
    probe gave, or no answer, has no Δ of the path's own, whatever else the fields hold."""
    session = make_session("cot-decoding")
    own = session.add_path(sequence([(" 5", 0.6, 0.3)]), "cot-decoding", "own")
    end = own.node_id
    fields = dict(node_id=end, origin="cot-decoding", label="b", finish_reason="stop")
    by_probe = ReasoningPath(
        1, **fields, answer="5", answer_rule="probe", answer_tokens=(0, 1), confidence=0.9,
        probe=AnswerProbe("So", probe_tokens(" 5", 0.95, 0.05), 1),
    )  # fmt: skip
    unanswered = ReasoningPath(2, **fields, answer_tokens=(0, 1), confidence=0.1)
    session.paths += [by_probe, unanswered]
    assert session.own_delta(own) == pytest.approx(0.3)
    assert session.own_delta(by_probe) is None and session.own_delta(unanswered) is None
    # only answered paths give Δ: 0.3 and the probe's 0.9, not the unanswered path's 0.1
    assert session.summary().delta_range == pytest.approx((0.3, 0.9))
