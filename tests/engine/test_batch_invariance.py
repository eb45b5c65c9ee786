"""What a row's numbers depend on: with every batch padded to 8 rows
(``ModelSettings.min_batch_rows``) not on what shares its batch nor on how the prompt was cut
into batches; and a branch's random stream is its ``seed_key``'s, not its place."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.engine import Branch, Engine, GenerationSettings, ModelSettings, SamplingSettings
from inspector.engine.runtime import BatchEntry
from tests.conftest import APPLE_PROMPT


def last_row(engine: Engine, prompt: list[int], chunk: int, company: int) -> np.ndarray:
    """The logits after ``prompt``: evaluated ``chunk`` tokens at a time from scratch, its
    last token in a batch with ``company`` other sequences' tokens."""
    runtime = engine.runtime
    engine.forget_cache()
    body = prompt[:-1]
    for begin in range(0, len(body), chunk):
        part = body[begin : begin + chunk]
        runtime.decode([BatchEntry(t, begin + i, 0, False) for i, t in enumerate(part)])
    for seq in range(1, company + 1):
        runtime.seq_copy(0, seq, 0, len(body))
    entries = [BatchEntry(prompt[-1], len(body), 0, True)]
    entries += [BatchEntry(prompt[seq % 5], len(body), seq, False) for seq in range(1, company + 1)]
    row = np.array(runtime.decode(entries)[0], copy=True)
    engine.forget_cache()
    return row


@pytest.fixture(scope="module")
def padded(model_path):
    settings = ModelSettings(n_ctx=512, n_seq_max=14, min_batch_rows=8)
    with Engine.load(model_path, settings) as loaded:
        yield loaded


def test_padded_a_row_is_the_same_in_every_batch_shape_and_prompt_cut(padded):
    prompt = padded.tokenize(APPLE_PROMPT)
    reference = last_row(padded, prompt, len(prompt), 0)
    for chunk, company in [(1, 0), (3, 1), (7, 4), (len(prompt), 9), (2, 12)]:
        assert np.array_equal(last_row(padded, prompt, chunk, company), reference), (chunk, company)
    # the scratch sequence is not one the explorer may use, and holds nothing after a batch
    assert padded.runtime.n_seq_max == 14


def test_without_padding_the_batch_shape_changes_the_numbers(engine):
    assert engine.runtime.min_rows == 1
    prompt = engine.tokenize(APPLE_PROMPT)
    alone, beside_eight = last_row(engine, prompt, 1, 0), last_row(engine, prompt, 9, 8)
    assert not np.array_equal(alone, beside_eight)
    # ... by rounding only: the same distribution within the engine's tolerance
    p, q = np.exp(alone - alone.max()), np.exp(beside_eight - beside_eight.max())
    assert np.abs(p / p.sum() - q / q.sum()).max() < 0.05


def test_a_branch_draws_from_its_seed_keys_stream_wherever_it_sits(fresh_engine):
    engine = fresh_engine
    sampling = SamplingSettings(temperature=1.5, seed=9)
    settings = GenerationSettings(max_tokens=1, ignore_eos=True, sampling=sampling)
    keyed = [Branch(seed_key=1000 + k) for k in range(8)]
    # the first token of every branch comes from the same prompt logits: only the random
    # stream decides it, so a keyed branch draws the same token at any index in any request
    alone = [engine.explore(APPLE_PROMPT, [b], settings)[0].token_ids for b in keyed]
    together = [r.token_ids for r in engine.explore(APPLE_PROMPT, keyed[::-1], settings)][::-1]
    shifted = engine.explore(APPLE_PROMPT, [Branch(), Branch(), *keyed], settings)[2:]
    assert together == alone
    assert [r.token_ids for r in shifted] == alone
    assert len({tuple(t) for t in alone}) > 1  # real draws, not one token
    unkeyed = [r.token_ids for r in engine.explore(APPLE_PROMPT, [Branch()] * 8, settings)]
    assert unkeyed != alone  # without keys the stream follows the index


def test_padded_a_greedy_path_alone_equals_the_same_path_in_a_batch(padded):
    settings = GenerationSettings(max_tokens=12, ignore_eos=True)
    alone = padded.generate(APPLE_PROMPT, settings)
    padded.forget_cache()
    first = padded.next_tokens(APPLE_PROMPT, 4)
    branches = [Branch(forced=(a.token_id,)) for a in first[1:]] + [Branch()]
    batched = padded.explore(APPLE_PROMPT, branches, settings)[-1]
    assert batched.token_ids == alone.token_ids
    assert [t.logprob for t in batched.tokens] == [t.logprob for t in alone.tokens]
