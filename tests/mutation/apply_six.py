"""Issue 16's six mutations, each applied by hand and run against the test named for it.

A plain script, not a test module (pytest collects only ``test_*.py``)::

    .venv/bin/python tests/mutation/apply_six.py

The checkout is copied to a temporary folder (the working tree itself is never edited); the
named tests run there first unchanged (they must pass, or a failure later says nothing), then
once per mutation with only that change applied. Each mutation prints ``killed by <test id>``
(the tests failed) or ``SURVIVED``. Tests (3) and (4) use the real default model.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".git", "mutants", ".venv", "__pycache__", "*.pyc", ".*_cache")


@dataclass(frozen=True)
class Mutation:
    what: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


SIX = [
    Mutation(
        "(1) CoT-decoding's Δ as p(top-1) − p(top-3), not p1 − p2",
        "inspector/core/metrics.py",
        "margins = [t.top[0].prob - t.top[1].prob for t in tokens[span[0] : span[1]] "
        "if len(t.top) >= 2]",
        "margins = [t.top[0].prob - t.top[2].prob for t in tokens[span[0] : span[1]] "
        "if len(t.top) >= 3]",
        (
            "tests/core/test_session.py::"
            "test_delta_is_top1_minus_top2_however_many_alternatives_are_recorded",
        ),
    ),
    Mutation(
        "(2) RowAnalyzer without the log-sum-exp shift (peak = 0)",
        "inspector/engine/distribution.py",
        "peak = float(logits.max())",
        "peak = 0.0",
        (
            "tests/engine/test_distribution.py::test_row_statistics_of_extreme_logits_are_finite_and_unshifted",
        ),
    ),
    Mutation(
        "(3) self-consistency ignores the temperature setting",
        "inspector/core/strategies.py",
        "temperature=settings.temperature,",
        "temperature=1.0,",
        ("tests/core/test_strategies.py::test_the_sampling_settings_reach_the_sampler",),
    ),
    Mutation(
        "(4) greedy's chosen answer is the last path's (after branch here)",
        "inspector/core/session.py",
        "return voters[0].answer if voters else None",
        "return voters[-1].answer if voters else None",
        ("tests/core/test_strategies.py::test_branch_here_keeps_a_greedy_runs_answer",),
    ),
    Mutation(
        "(5) the importer skips the node-depth check",
        "inspector/store/imports/reading.py",
        "elif depth != tree.nodes[parent].end_depth:",
        "elif False:",
        (
            "tests/export/test_import_errors.py::"
            "test_bad_field_is_named_and_nothing_changes[node depth not its parent's end]",
        ),
    ),
    Mutation(
        '(6) the importer skips "parent listed before child"',
        "inspector/store/imports/reading.py",
        "elif parent not in tree.nodes:",
        "elif False:",
        (
            "tests/export/test_import_errors.py::"
            "test_bad_field_is_named_and_nothing_changes[child listed before its parent]",
            "tests/export/test_import_errors.py::"
            "test_bad_field_is_named_and_nothing_changes[node parent cycle]",
        ),
    ),
]


def run_tests(copy: Path, tests: tuple[str, ...]) -> tuple[bool, str]:
    """Whether the tests pass in ``copy``, and what pytest said: the first assertion lines and
    its summary."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *tests],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    errors = [line for line in lines if line.startswith("E ") and line[1:].strip()][:2]
    return done.returncode == 0, "\n".join([*errors, lines[-1]] if lines else errors)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="apply-six-") as folder:
        pristine = Path(folder) / "pristine"
        shutil.copytree(ROOT, pristine, ignore=SKIP)
        every = tuple(t for m in SIX for t in m.tests)
        passed, tail = run_tests(pristine, every)
        print(f"unchanged code: the {len(every)} tests {'pass' if passed else 'FAIL'}")
        if not passed:
            print(tail)
            return 1
        survived = 0
        for mutation in SIX:
            copy = Path(folder) / "mutated"
            shutil.copytree(pristine, copy)
            source = copy / mutation.file
            text = source.read_text(encoding="utf-8")
            if text.count(mutation.old) != 1:
                print(f"{mutation.what}: the code to change is not found once in {mutation.file}")
                return 1
            source.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
            print(f"{mutation.what}\n  {mutation.file}: {mutation.old!r} -> {mutation.new!r}")
            for test in mutation.tests:
                passed, tail = run_tests(copy, (test,))
                if passed:
                    survived += 1
                    print(f"  SURVIVED {test}")
                else:
                    print(f"  killed by {test}\n    " + tail.replace("\n", "\n    "))
            shutil.rmtree(copy)
        return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
