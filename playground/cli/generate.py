"""Commands that run a model on a prompt (``generate``, ``demo``, ``--self-test``) and list the
models it can run (``models``)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any, TextIO

from playground.cli.constraints import constraint_from_args
from playground.cli.output import stream
from playground.cli.parser import generation_request, load_options
from playground.engine.backends import Backend, LocalBackend
from playground.engine.constraints import check_local
from playground.engine.discovery import FOREIGN_SOURCES
from playground.engine.endpoints import is_remote, resolve_endpoint
from playground.engine.gguf import ModelInfo, read_gguf
from playground.engine.models import (
    SOURCE_LABELS,
    discover_models,
    model_display_name,
    resolve_model,
)
from playground.engine.options import LoadOptions
from playground.engine.remote import RemoteBackend
from playground.errors import PlaygroundError
from playground.events import ChatMessage, Finished, GenerationRequest
from playground.prompts.chat_formats import OWN_FORMAT, RAW_COMPLETION, chat_mode_label
from playground.prompts.collection import load_collection
from playground.runs.build import FROM_TEMPLATE
from playground.sampling import SamplingParams
from playground.terminal import escape_controls, json_text
from playground.wording import plural

DEMO_PROMPT = "Write three short tips for writing a clear prompt for a language model."


def cmd_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    request = generation_request(args, prompt)
    constraint = constraint_from_args(args)
    if constraint is not None and constraint != FROM_TEMPLATE:
        if not is_remote(args.model):
            check_local(constraint)  # before a model loads
        request = dataclasses.replace(request, constraint=constraint)
    backend: Backend
    if is_remote(args.model):
        if args.chat_format:
            raise PlaygroundError("--chat-format is for local models: a server formats chats "
                                  "with its own template")
        backend = RemoteBackend(resolve_endpoint(args.model))
    else:
        backend = LocalBackend(resolve_model(args.model), load_options(args))
    try:
        if isinstance(backend, LocalBackend):
            for warning in backend.start().warnings:
                err.write(f"warning: {warning}\n")
        return stream(backend, request, out, err, args.json)
    finally:
        backend.close()


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = resolve_model(args.model)
    backend = LocalBackend(path, load_options(args))
    try:
        loaded = backend.start()
        err.write(
            f"{model_display_name(path)}: ready in {loaded.load_s:.2f} s, "
            f"context {loaded.n_ctx}, {loaded.n_threads} threads\n> {DEMO_PROMPT}\n"
        )
        request = GenerationRequest(
            messages=(ChatMessage("user", DEMO_PROMPT),),
            params=SamplingParams(temperature=0.7, max_tokens=160, seed=42),
        )
        return stream(backend, request, out, err, as_json=False)
    finally:
        backend.close()


def _describe(info: ModelInfo, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": info.name,
        "path": info.path,
        "architecture": info.architecture,
        "parameters": info.parameter_count,
        "quant": info.file_type,
        "context_length": info.context_length,
        "layers": info.block_count,
        "file_size": info.file_size,
        "chat_template": info.chat_template is not None,
        "chat": chat_mode_label(info.chat_template is not None, None) or OWN_FORMAT,
    }


def cmd_models(args: argparse.Namespace, out: TextIO) -> int:
    rows: list[dict[str, Any]] = []
    switched_off = FOREIGN_SOURCES if args.no_discover else args.skip
    for model in discover_models(switched_off):
        try:
            row = _describe(read_gguf(model.path), model.name)
            row["error"] = None
        except PlaygroundError as exc:
            row = {"name": model.name, "path": str(model.path), "error": str(exc)}
        row["source"] = model.source
        row["source_label"] = SOURCE_LABELS[model.source]
        rows.append(row)
    gpu = gpu_offload_supported()
    if args.json:
        out.write(json_text({"gpu_offload_supported": gpu, "models": rows}))
        out.write("\n")
        return 0
    if not rows:
        out.write("no models found; run `make setup` or set PLAYGROUND_MODELS\n")
    for row in rows:
        if row["error"]:
            out.write(escape_controls(
                f"{row['name']}  [{row['source_label']}]  unreadable: {row['error']}\n"))
            continue
        # Names and titles come from the model file's metadata: text from outside.
        out.write(escape_controls(
            f"{row['name']}  [{row['source_label']}]  {row['title'] or ''}\n"
            f"    {row['architecture']}, "
            f"{row['parameters'] / 1e6:.0f}M params, {row['quant']}, "
            f"ctx {row['context_length']}, {row['file_size'] / 2**20:.0f} MiB"
            f"{', ' + RAW_COMPLETION if row['chat'] == RAW_COMPLETION else ''}\n"
            f"    {row['path']}\n"
        ))
    out.write(f"GPU offload in this llama.cpp build: {'yes' if gpu else 'no'}\n")
    return 0


def gpu_offload_supported() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def self_test(out: TextIO) -> int:
    """What an installed or packaged app checks about itself: templates found, model found,
    worker process starts, llama.cpp generates."""
    templates = [t for _, t in load_collection().templates()]
    if not templates:
        raise PlaygroundError("no built-in templates were found")
    path = resolve_model(None)
    backend = LocalBackend(path, LoadOptions(n_ctx=512))
    try:
        loaded = backend.start()
        request = GenerationRequest(prompt="Hello", params=SamplingParams(temperature=0,
                                                                          max_tokens=4))
        final = list(backend.generate(request))[-1]
    finally:
        backend.close()
    if not isinstance(final, Finished) or final.result.completion_tokens < 1:
        raise PlaygroundError(f"generation did not complete: {final}")
    generated = plural(final.result.completion_tokens, "token")
    out.write(f"self-test ok: {len(templates)} templates, {model_display_name(path)} loaded in "
              f"{loaded.load_s:.2f} s, generated {generated}\n")
    return 0
