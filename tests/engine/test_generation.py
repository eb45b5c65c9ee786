"""Decoding behaviour: sampling, stops, cancellation, shared prefixes, UTF-8."""

from __future__ import annotations

import pytest

from inspector.engine import (
    Branch,
    CancelToken,
    GenerationSettings,
    SamplingSettings,
)
from inspector.engine.runtime import LlamaRuntime
from tests.conftest import APPLE_PROMPT


def sampled(seed: int, tokens: int = 16) -> GenerationSettings:
    sampling = SamplingSettings(temperature=1.0, top_p=0.95, seed=seed)
    return GenerationSettings(max_tokens=tokens, sampling=sampling, ignore_eos=True)


def test_same_seed_reproduces_a_sample(engine):
    first = engine.generate(APPLE_PROMPT, sampled(7))
    again = engine.generate(APPLE_PROMPT, sampled(7))
    assert first.token_ids == again.token_ids
    assert len(first.tokens) == 16


def test_branches_and_seeds_give_different_samples(engine):
    runs = engine.explore(APPLE_PROMPT, [Branch() for _ in range(6)], sampled(11))
    other_seed = engine.explore(APPLE_PROMPT, [Branch() for _ in range(6)], sampled(12))
    assert len({tuple(r.token_ids) for r in runs}) > 1
    assert [r.token_ids for r in runs] != [r.token_ids for r in other_seed]


def test_a_seeded_run_does_not_depend_on_the_prefix_cache(engine):
    branches = [Branch() for _ in range(3)]
    engine.forget_cache()
    cold = engine.explore(APPLE_PROMPT, branches, sampled(5, 12))
    warm = engine.explore(APPLE_PROMPT, branches, sampled(5, 12))
    assert [p.token_ids for p in cold] == [p.token_ids for p in warm]
    assert [p.tokens[-1].logprob for p in cold] == [p.tokens[-1].logprob for p in warm]


def test_max_tokens_and_finish_reason(engine):
    result = engine.generate(APPLE_PROMPT, GenerationSettings(max_tokens=5, ignore_eos=True))
    assert len(result.tokens) == 5
    assert result.finish_reason == "length"


def test_stop_string_ends_the_sequence(engine):
    free = engine.generate(APPLE_PROMPT, GenerationSettings(max_tokens=40, ignore_eos=True))
    text = free.text
    stop = text[len(text) // 2 : len(text) // 2 + 2]
    assert stop.strip(), f"pick a visible stop string from {text!r}"
    stopped = engine.generate(APPLE_PROMPT, GenerationSettings(max_tokens=40, stop=(stop,)))
    assert stopped.finish_reason == "stop"
    assert stopped.stop_string == stop
    assert stop in stopped.text
    assert stop not in stopped.content
    assert len(stopped.tokens) < len(free.tokens)


def test_forced_first_tokens_are_recorded_with_their_real_probability(engine):
    alternatives = engine.next_tokens(APPLE_PROMPT, k=3)
    paths = engine.explore(
        APPLE_PROMPT,
        [Branch(forced=(alt.token_id,)) for alt in alternatives],
        GenerationSettings(max_tokens=4),
    )
    for alt, path in zip(alternatives, paths, strict=True):
        assert path.tokens[0].token_id == alt.token_id
        assert path.tokens[0].logprob == pytest.approx(alt.logprob, abs=1e-6)
    assert paths[1].tokens[0].token_id != paths[1].tokens[0].top[0].token_id


def test_streaming_callback_sees_every_token_in_order(engine):
    events = []
    paths = engine.explore(
        APPLE_PROMPT, [Branch(), Branch(forced=(engine.next_tokens(APPLE_PROMPT, 2)[1].token_id,))],
        GenerationSettings(max_tokens=6, ignore_eos=True), on_token=events.append,
    )  # fmt: skip
    for branch, path in enumerate(paths):
        seen = [e for e in events if e.branch == branch]
        assert [e.index for e in seen] == list(range(len(path.tokens)))
        assert [e.token for e in seen] == path.tokens


def test_cancel_stops_within_a_step_and_the_engine_still_works(engine):
    cancel = CancelToken()
    counted = []

    def on_token(event):
        counted.append(event)
        if len(counted) == 5:
            cancel.cancel()

    settings = GenerationSettings(max_tokens=200, ignore_eos=True)
    stopped = engine.explore(APPLE_PROMPT, [Branch(), Branch()], settings, on_token, cancel)
    assert all(path.finish_reason == "cancelled" for path in stopped)
    assert sum(len(path.tokens) for path in stopped) <= 6
    engine.forget_cache()
    fresh = engine.generate(APPLE_PROMPT, GenerationSettings(max_tokens=10, ignore_eos=True))
    after = engine.generate(APPLE_PROMPT, GenerationSettings(max_tokens=10, ignore_eos=True))
    assert after.finish_reason == "length" and after.token_ids == fresh.token_ids


def test_cancel_before_start_returns_cancelled_paths(engine):
    cancel = CancelToken()
    cancel.cancel()
    paths = engine.explore(
        APPLE_PROMPT, [Branch()] * 3, GenerationSettings(max_tokens=8), None, cancel
    )
    assert [p.finish_reason for p in paths] == ["cancelled"] * 3
    assert all(not p.tokens for p in paths)


def test_branching_inside_a_path_reuses_its_cached_tokens(fresh_engine, monkeypatch):
    engine = fresh_engine
    prompt = engine.tokenize(APPLE_PROMPT)
    path = engine.explore(prompt, [Branch()], GenerationSettings(max_tokens=12, ignore_eos=True))[0]
    position = 6
    prefix = prompt + path.token_ids[:position]
    alternative = path.tokens[position].top[1].token_id
    evaluated = []
    original = LlamaRuntime.decode

    def counting_decode(self, entries, should_abort=None):
        evaluated.append(len(entries))
        return original(self, entries, should_abort)

    monkeypatch.setattr(LlamaRuntime, "decode", counting_decode)
    branch = engine.explore(
        prefix, [Branch(forced=(alternative,))], GenerationSettings(max_tokens=3)
    )
    # the prefix (prompt + 6 path tokens) came from the cache: only its last token was re-run
    assert evaluated[0] == 1
    assert branch[0].tokens[0].token_id == alternative
    assert branch[0].tokens[0].logprob == pytest.approx(
        path.tokens[position].top[1].logprob, abs=2e-2
    )


def test_chinese_and_emoji_round_trip(engine):
    text = "你好，世界！我有3个苹果 🍎🦜 — naïve café"
    tokens = engine.tokenize(text, add_bos=False)
    assert engine.detokenize(tokens) == text
    path = engine.explore(text, [Branch(forced=tuple(tokens))], GenerationSettings(max_tokens=1))[0]
    assert path.text == text
    assert b"".join(t.piece for t in path.tokens).decode("utf-8") == text


def test_a_character_split_over_byte_tokens_comes_out_whole(engine):
    byte_token = {}
    for token_id in range(engine.runtime.n_vocab):
        piece = engine.runtime.piece(token_id)
        if len(piece) == 1 and piece[0] >= 0x80 and piece[0] not in byte_token:
            byte_token[piece[0]] = token_id
        if len(byte_token) == 128:
            break
    character = "🦜"
    forced = tuple(byte_token[b] for b in character.encode("utf-8"))
    path = engine.explore("Bird:", [Branch(forced=forced)], GenerationSettings(max_tokens=1))[0]
    assert [t.text for t in path.tokens] == ["", "", "", character]
    assert path.text == character
