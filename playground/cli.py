"""The ``playground`` command: the same core functions the GUI uses, from a terminal."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from playground import __version__
from playground.backends import LocalBackend
from playground.errors import PlaygroundError
from playground.events import ChatMessage, Failed, Finished, GenerationRequest, Started, Token
from playground.gguf import ModelInfo, read_gguf
from playground.models import discover_models, resolve_model
from playground.sampling import SamplingParams
from playground.worker import LoadOptions

DEMO_PROMPT = "Write three short tips for writing a clear prompt for a language model."


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model loading")
    group.add_argument("--model", "-m", help="a .gguf path or a model name (default: bundled)")
    group.add_argument("--n-ctx", type=int, default=4096, help="context size (0 = trained size)")
    group.add_argument("--threads", type=int, default=None, help="CPU threads (default: cores)")
    group.add_argument("--gpu-layers", type=int, default=0, help="layers to offload (-1 = all)")
    group.add_argument("--batch", type=int, default=512, help="prompt batch size")


def _add_sampling_options(parser: argparse.ArgumentParser) -> None:
    d = SamplingParams()
    group = parser.add_argument_group("sampling")
    group.add_argument("--temperature", "-t", type=float, default=d.temperature,
                       help="0 = greedy (default %(default)s)")
    group.add_argument("--top-k", type=int, default=d.top_k, help="default %(default)s")
    group.add_argument("--top-p", type=float, default=d.top_p, help="default %(default)s")
    group.add_argument("--min-p", type=float, default=d.min_p, help="default %(default)s")
    group.add_argument("--repeat-penalty", type=float, default=d.repeat_penalty,
                       help="default %(default)s")
    group.add_argument("--presence-penalty", type=float, default=d.presence_penalty,
                       help="default %(default)s")
    group.add_argument("--frequency-penalty", type=float, default=d.frequency_penalty,
                       help="default %(default)s")
    group.add_argument("--max-tokens", "-n", type=int, default=d.max_tokens,
                       help="default %(default)s")
    group.add_argument("--seed", type=int, default=None, help="fixed seed for reproducible runs")
    group.add_argument("--stop", action="append", default=[], metavar="TEXT",
                       help="stop sequence (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playground",
        description="Compare prompts, models and sampling settings on local GGUF models.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gen = sub.add_parser("generate", help="generate text from a prompt, streamed to stdout")
    gen.add_argument("prompt", help="the prompt text, or - to read it from standard input")
    gen.add_argument("--chat", action="store_true",
                     help="send the prompt as a user message through the model's chat template")
    gen.add_argument("--system", help="system message (implies --chat)")
    gen.add_argument("--logprobs", type=int, default=None, metavar="N",
                     help="top-N log-probabilities per token (with --json)")
    gen.add_argument("--json", action="store_true", help="print one JSON result instead")
    _add_load_options(gen)
    _add_sampling_options(gen)

    models = sub.add_parser("models", help="list the models the app can find")
    models.add_argument("--json", action="store_true", help="print JSON")

    demo = sub.add_parser("demo", help="a short streamed generation on the default model")
    _add_load_options(demo)
    return parser


def _load_options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(
        n_ctx=args.n_ctx, n_threads=args.threads, n_gpu_layers=args.gpu_layers, n_batch=args.batch
    )


def _sampling(args: argparse.Namespace) -> SamplingParams:
    return SamplingParams(
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        min_p=args.min_p,
        repeat_penalty=args.repeat_penalty,
        presence_penalty=args.presence_penalty,
        frequency_penalty=args.frequency_penalty,
        max_tokens=args.max_tokens,
        seed=args.seed,
        stop=tuple(args.stop),
    )


def _request(args: argparse.Namespace, prompt: str) -> GenerationRequest:
    params = _sampling(args)
    if args.chat or args.system:
        messages = []
        if args.system:
            messages.append(ChatMessage("system", args.system))
        messages.append(ChatMessage("user", prompt))
        return GenerationRequest(messages=tuple(messages), params=params, logprobs=args.logprobs)
    return GenerationRequest(prompt=prompt, params=params, logprobs=args.logprobs)


@contextlib.contextmanager
def _ctrl_c_cancels(backend: LocalBackend) -> Iterator[None]:
    """First Ctrl-C cancels the run (its partial result is still printed); a second one quits."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(_signum: int, _frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        backend.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stream(
    backend: LocalBackend, request: GenerationRequest, out: TextIO, err: TextIO, as_json: bool
) -> int:
    """Run one request, printing tokens as they come (or one JSON document at the end)."""
    with _ctrl_c_cancels(backend):
        for event in backend.generate(request):
            if isinstance(event, Token) and not as_json:
                out.write(event.text)
                out.flush()
            elif isinstance(event, Started) and event.max_tokens_clipped:
                err.write(f"note: max tokens reduced to {event.max_tokens} to fit the context\n")
            elif isinstance(event, Finished):
                result = event.result
                if as_json:
                    json.dump(result.to_dict(), out, ensure_ascii=False, indent=2)
                    out.write("\n")
                else:
                    out.write("\n")
                    err.write(_status_line(result.to_dict()) + "\n")
                return 130 if result.finish_reason == "cancelled" else 0
            elif isinstance(event, Failed):
                if as_json and event.result is not None:
                    json.dump(event.result.to_dict(), out, ensure_ascii=False, indent=2)
                    out.write("\n")
                err.write(f"playground: error: {event.error}\n")
                return 1
    return 1


def _status_line(result: dict[str, Any]) -> str:
    tps = result["tokens_per_second"]
    ttft = result["ttft_s"]
    return (
        f"[{result['finish_reason']}] {result['prompt_tokens']} prompt + "
        f"{result['completion_tokens']} generated tokens"
        + (f", {tps:.1f} tok/s" if tps else "")
        + (f", first token {ttft * 1000:.0f} ms" if ttft is not None else "")
        + f", seed {result['params']['seed']}"
    )


def _describe(info: ModelInfo) -> dict[str, Any]:
    return {
        "name": info.display_name,
        "path": info.path,
        "architecture": info.architecture,
        "parameters": info.parameter_count,
        "quant": info.file_type,
        "context_length": info.context_length,
        "layers": info.block_count,
        "file_size": info.file_size,
        "chat_template": info.chat_template is not None,
    }


def cmd_models(args: argparse.Namespace, out: TextIO) -> int:
    rows: list[dict[str, Any]] = []
    for model in discover_models():
        try:
            row = _describe(read_gguf(model.path))
            row["error"] = None
        except PlaygroundError as exc:
            row = {"name": model.name, "path": str(model.path), "error": str(exc)}
        row["source"] = model.source
        rows.append(row)
    gpu = gpu_offload_supported()
    if args.json:
        json.dump({"gpu_offload_supported": gpu, "models": rows}, out, indent=2)
        out.write("\n")
        return 0
    if not rows:
        out.write("no models found; run `make setup` or set PLAYGROUND_MODELS\n")
    for row in rows:
        if row["error"]:
            out.write(f"{row['name']}  [{row['source']}]  unreadable: {row['error']}\n")
            continue
        out.write(
            f"{row['name']}  [{row['source']}]  {row['architecture']}, "
            f"{row['parameters'] / 1e6:.0f}M params, {row['quant']}, "
            f"ctx {row['context_length']}, {row['file_size'] / 2**20:.0f} MiB\n    {row['path']}\n"
        )
    out.write(f"GPU offload in this llama.cpp build: {'yes' if gpu else 'no'}\n")
    return 0


def gpu_offload_supported() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def cmd_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    request = _request(args, prompt)
    backend = LocalBackend(resolve_model(args.model), _load_options(args))
    try:
        loaded = backend.start()
        for warning in loaded.warnings:
            err.write(f"warning: {warning}\n")
        return stream(backend, request, out, err, args.json)
    finally:
        backend.close()


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    backend = LocalBackend(resolve_model(args.model), _load_options(args))
    try:
        loaded = backend.start()
        err.write(
            f"{loaded.info.display_name}: ready in {loaded.load_s:.2f} s, "
            f"context {loaded.n_ctx}, {loaded.n_threads} threads\n> {DEMO_PROMPT}\n"
        )
        request = GenerationRequest(
            messages=(ChatMessage("user", DEMO_PROMPT),),
            params=SamplingParams(temperature=0.7, max_tokens=160, seed=42),
        )
        return stream(backend, request, out, err, as_json=False)
    finally:
        backend.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        if args.command == "generate":
            return cmd_generate(args, out, err)
        if args.command == "models":
            return cmd_models(args, out)
        if args.command in ("demo", None):
            if args.command is None:
                args = parser.parse_args(["demo"])
            return cmd_demo(args, out, err)
    except PlaygroundError as exc:
        err.write(f"playground: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        err.write("\ninterrupted\n")
        return 130
    parser.print_help(err)
    return 2


if __name__ == "__main__":
    sys.exit(main())
