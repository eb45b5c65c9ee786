"""The `inspector` command: help, version, info, bench, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import gguf
import pytest

from inspector import __version__
from inspector.cli import main
from inspector.engine import InvalidParameterError, ModelSettings


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args], capture_output=True, text=True, timeout=600
    )


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "info" in out and "bench" in out


def test_info_json(model_path, capsys):
    assert main(["info", "--model", str(model_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["path"] == str(model_path.resolve())
    assert info["architecture"] == "gemma3"
    assert info["n_vocab"] == 262144
    assert info["quantization"] == "Q4_K_M"
    assert info["n_params"] > 200_000_000
    assert info["context_length"] == 32768
    assert info["has_chat_template"] is False
    assert isinstance(info["gpu_offload_supported"], bool)


def test_info_table(model_path, capsys):
    """The table shows the same facts as --json, read from the file by gguf independently."""
    assert main(["info", "--model", str(model_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert main(["info", "--model", str(model_path)]) == 0
    # "label" in a 16-character column, then the value
    rows = {line[:16].strip(): line[16:] for line in capsys.readouterr().out.splitlines()}
    reader = gguf.GGUFReader(str(model_path))
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    context = int(reader.fields[f"{arch}.context_length"].parts[-1][0])
    assert rows["architecture"] == arch == info["architecture"]
    assert rows["parameters"] == f"{info['n_params']:,}"
    assert rows["vocabulary"] == f"{info['n_vocab']:,} tokens"
    assert rows["context length"] == f"{context:,} tokens (trained)"
    assert rows["quantisation"] == info["quantization"]
    assert rows["chat template"] == ("yes" if info["has_chat_template"] else "no")
    assert rows["file size"] == f"{model_path.stat().st_size / 1e6:.1f} MB"
    offload = "supported by this build" if info["gpu_offload_supported"] else "CPU only"
    assert rows["GPU offload"] == offload


def test_bad_model_gives_one_line_and_no_traceback(tmp_path):
    bogus = tmp_path / "x.gguf"
    bogus.write_bytes(b"nope")
    result = run_cli("info", "--model", str(bogus))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"inspector: error: {bogus} is not a GGUF model file (it does not start with 'GGUF')"
    ]


def test_bad_option_exits_2():
    result = run_cli("info", "--threads", "many")
    assert result.returncode == 2
    assert "argument --threads: must be a whole number (1–" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_one_line(model_path):
    result = run_cli("info", "--model", str(model_path), "--threads", "0")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(f"argument --threads: must be 1–{os.cpu_count()}, got 0")
    )
    with pytest.raises(InvalidParameterError, match="threads must be 1–"):
        ModelSettings(n_threads=0)


@pytest.mark.slow
def test_bench_json_has_the_tracked_figures(model_path):
    result = run_cli("bench", "--model", str(model_path), "--quick", "--repeats", "1", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for key in (
        "capture_overhead_ratio",
        "llama_cpp_logprobs_ratio",
        "tree_speedup_ratio",
        "self_consistency_speedup_ratio",
        "model_load_seconds",
        "peak_rss_mb",
    ):
        assert figures[key] > 0
    # each ratio is what its two measured speeds say (a figure cannot be made up alone; the
    # JSON rounds each figure to 4 decimals)
    speed = figures.__getitem__

    def ratio(a: str, b: str):
        return pytest.approx(speed(a) / speed(b), rel=2e-3)

    assert speed("capture_overhead_ratio") == ratio(
        "greedy_plain_tokens_per_second", "greedy_tokens_per_second"
    )
    assert speed("llama_cpp_logprobs_ratio") == ratio(
        "greedy_tokens_per_second", "llama_cpp_logprobs_tokens_per_second"
    )
    for study in ("tree", "self_consistency"):
        assert speed(f"{study}_speedup_ratio") == ratio(
            f"{study}_batched_tokens_per_second", f"{study}_serial_tokens_per_second"
        )
