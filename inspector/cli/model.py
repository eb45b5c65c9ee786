"""Choosing a backend from the command line: a local GGUF file or an OpenAI-compatible server;
`inspector info` describes it."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any

from inspector.cli.options import TIMEOUT, bounded
from inspector.core.model_defaults import DEFAULT_MAX_TOKENS
from inspector.engine import Engine, ModelSettings
from inspector.engine.settings import CONTEXT, GPU_LAYERS, THREADS

if TYPE_CHECKING:
    from inspector.engine.backend import Backend
    from inspector.engine.remote import RemoteEngine


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="PATH",
        default=argparse.SUPPRESS,  # keep a --model given before the subcommand
        help="a GGUF file (default: $INSPECTOR_MODEL or the bundled Gemma 3 270M)",
    )
    parser.add_argument(
        "--threads", type=bounded(THREADS), help="CPU threads (default: all cores, up to 8)"
    )
    parser.add_argument(
        "--ctx", type=bounded(CONTEXT), default=8192, help="context size in tokens (default 8192)"
    )
    parser.add_argument(
        "--gpu-layers",
        type=bounded(GPU_LAYERS),
        default=0,
        help="layers to offload to a GPU (-1 = all)",
    )
    remote = parser.add_argument_group("remote server (an OpenAI-compatible completions API)")
    remote.add_argument(
        "--backend", choices=("local", "openai"), default="local",
        help="local: llama.cpp in this process (default); openai: a server at --base-url",
    )  # fmt: skip
    remote.add_argument("--base-url", metavar="URL", help="e.g. http://gpu-box:8080/v1")
    remote.add_argument(
        "--api-key", metavar="KEY", default=argparse.SUPPRESS,
        help="sent as a bearer token, never saved (default: $INSPECTOR_API_KEY)",
    )  # fmt: skip
    remote.add_argument(
        "--remote-model",
        metavar="NAME",
        help="the model the server should use (default: its first)",
    )
    remote.add_argument(
        "--timeout",
        type=bounded(TIMEOUT),
        default=120.0,
        help="seconds one request may take in all (default 120)",
    )
    remote.add_argument(
        "--ca-bundle", metavar="PEM",
        help="trusted certificates for an https server (default: $SSL_CERT_FILE, else "
        "certifi's); proxies come from $HTTPS_PROXY / $HTTP_PROXY / $NO_PROXY",
    )  # fmt: skip


def model_settings(args: argparse.Namespace) -> ModelSettings:
    extra = {"n_threads": args.threads} if args.threads is not None else {}
    return ModelSettings(n_ctx=args.ctx, n_gpu_layers=args.gpu_layers, **extra)


def load_engine(args: argparse.Namespace) -> Backend:
    if getattr(args, "backend", "local") == "openai":
        return connect_remote(args)
    return Engine.load(getattr(args, "model", None), model_settings(args))


def connect_remote(args: argparse.Namespace) -> RemoteEngine:
    from inspector.engine.remote import DEFAULT_CONCURRENCY, RemoteEngine
    from inspector.engine.remote_http import HttpSettings

    if not args.base_url:
        raise ValueError("--backend openai needs --base-url (e.g. http://localhost:8080/v1)")
    key = getattr(args, "api_key", None) or os.environ.get("INSPECTOR_API_KEY") or None
    concurrency = getattr(args, "concurrency", None) or DEFAULT_CONCURRENCY
    http = HttpSettings(
        timeout=args.timeout, ca_bundle=getattr(args, "ca_bundle", None), in_flight=concurrency
    )
    return RemoteEngine.connect(args.base_url, key, args.remote_model, http)


def register(commands: Any) -> None:
    """Add ``info`` to ``commands`` (argparse subparsers)."""
    info = commands.add_parser("info", help="describe a model file and this llama.cpp build")
    add_model_options(info)
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(handler=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    with load_engine(args) as engine:
        info = engine.info()
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
        return 0
    if info.architecture == "remote":
        print(f"server   {info.path.split('#')[0]}\nmodel    {info.path.split('#', 1)[1]}")
        print(f"connect  {info.load_seconds:.2f} s (OpenAI-compatible completions API)")
        return 0
    rows = [
        ("path", info.path),
        ("model", info.description),
        ("architecture", info.architecture),
        ("parameters", f"{info.n_params:,}"),
        ("vocabulary", f"{info.n_vocab:,} tokens"),
        ("context length", f"{info.context_length:,} tokens (trained)"),
        ("quantisation", info.quantization),
        ("file size", f"{info.file_size / 1e6:,.1f} MB"),
        ("chat template", "yes" if info.has_chat_template else "no"),
        ("kind", f"{info.kind} (default max tokens {DEFAULT_MAX_TOKENS[info.kind]})"),
        ("GPU offload", "supported by this build" if info.gpu_offload_supported else "CPU only"),
        ("load time", f"{info.load_seconds:.2f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name.ljust(width)}  {value}" for name, value in rows))
    return 0
