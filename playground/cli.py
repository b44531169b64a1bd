"""The ``playground`` command: the same core functions the GUI uses, from a terminal."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

from playground import __version__
from playground.comparison import ComparisonSpec
from playground.engine.backends import Backend, LocalBackend
from playground.engine.endpoints import (
    is_remote,
    load_endpoints,
    remove_endpoint,
    resolve_endpoint,
    save_endpoint,
    store_key_in_keyring,
)
from playground.engine.gguf import ModelInfo, read_gguf
from playground.engine.models import discover_models, resolve_model
from playground.engine.remote import Endpoint, RemoteBackend
from playground.engine.worker import LoadOptions
from playground.errors import PlaygroundError
from playground.evaluation.exports import export
from playground.evaluation.preferences import export_preferences
from playground.evaluation.report import LOW_CONFIDENCE, ReportRun, build_report
from playground.events import (
    ChatMessage,
    Failed,
    Finished,
    GenerationRequest,
    Started,
    Token,
    count_text,
)
from playground.prompts.collection import Collection, install, load_collection, template_values
from playground.prompts.formats import ItemReport, LibraryError, load_yaml_strict
from playground.prompts.interop.llm import import_llm_template
from playground.prompts.interop.promptfoo import export_promptfoo
from playground.prompts.library import export_library, read_library
from playground.prompts.templates import (
    PromptTemplate,
    render_template,
    template_params,
    to_request,
)
from playground.runs.history import comparison_judgements, report_runs, stored_report
from playground.runs.replay import LoadOverrides, ReplayReport, replay
from playground.runs.runner import (
    BackendPool,
    CancelToken,
    ComparisonFinished,
    ComparisonStarted,
    Progress,
    RunDone,
    make_scorer,
    report_run,
    run_comparison,
)
from playground.sampling import SamplingParams
from playground.storage.store import Store
from playground.terminal import escape_controls, escaping, for_terminal, json_text, raw

DEMO_PROMPT = "Write three short tips for writing a clear prompt for a language model."


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model loading")
    group.add_argument("--model", "-m", help="a .gguf path or a model name (default: bundled)")
    group.add_argument("--n-ctx", type=int, default=4096, help="context size (0 = trained size)")
    group.add_argument("--threads", type=int, default=None, help="CPU threads (default: cores)")
    group.add_argument("--gpu-layers", type=int, default=0, help="layers to offload (-1 = all)")
    _add_engine_options(group)


def _add_engine_options(group: argparse._ArgumentGroup) -> None:
    """Load settings that change llama.cpp's numerics; unset means the core's default."""
    d = LoadOptions()
    group.add_argument("--batch", type=int, default=None,
                       help=f"prompt batch size (default {d.n_batch})")
    group.add_argument("--flash-attn", choices=["on", "off"], default=None,
                       help=f"flash attention (default {'on' if d.flash_attn else 'off'}; "
                            "switching it changes the last bits of the numbers, see README: "
                            "Reproducibility)")


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
    parser.add_argument("--self-test", action="store_true",
                        help="load the default model, generate a few tokens, exit 0 if all works")
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

    templates = sub.add_parser("templates", help="list, show and render prompt templates")
    tsub = templates.add_subparsers(dest="templates_command", metavar="ACTION", required=True)
    tlist = tsub.add_parser("list", help="the built-in templates")
    tlist.add_argument("--json", action="store_true", help="print JSON")
    tshow = tsub.add_parser("show", help="a template's header, variables and source")
    tshow.add_argument("template", help="template id")
    trender = tsub.add_parser("render", help="the exact prompt a template gives")
    trender.add_argument("template", help="template id")
    trender.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                         help="a variable value (repeatable)")
    trender.add_argument("--vars", metavar="FILE", help="a JSON file of variable values")
    trender.add_argument("--row", type=int, metavar="N",
                         help="take values from row N (from 1) of the task's demo dataset")
    trender.add_argument("--examples", metavar="SET", help="example set for examples variables")
    trender.add_argument("--chat", action="store_true",
                         help="send a text template as one user message")
    trender.add_argument("--tokens", action="store_true",
                         help="load the model and show the final prompt and its token count")
    trender.add_argument("--neutralise", action="store_true",
                         help="break control-token strings in values (needs --tokens)")
    trender.add_argument("--model", "-m", help="model for --tokens (default: bundled)")
    trender.add_argument("--generate", action="store_true",
                         help="also generate from the rendered prompt with its default settings")

    library = sub.add_parser("library", help="export, import and validate prompt libraries")
    lsub = library.add_subparsers(dest="library_command", metavar="ACTION", required=True)
    lexp = lsub.add_parser("export", help="write a library as JSON or YAML")
    lexp.add_argument("path", help="output file (.json, .yaml), or - for stdout")
    lexp.add_argument("--library", help="library name (default: the built-in one)")
    lexp.add_argument("--format", choices=["json", "yaml"], help="default: from the suffix")
    limp = lsub.add_parser("import", help="validate a library file and install it")
    limp.add_argument("path", help="a .json, .yaml or .yml library file")
    limp.add_argument("--replace", action="store_true", help="replace an installed one")
    lval = lsub.add_parser("validate", help="check a library file, change nothing")
    lval.add_argument("path", help="a .json, .yaml or .yml library file")
    lllm = lsub.add_parser("import-llm", help="convert an llm (simonw/llm) YAML template")
    lllm.add_argument("path", help="the llm template (.yaml)")
    lllm.add_argument("--name", help="template id (default: the file name)")
    lllm.add_argument("--output", "-o", help="where to write the .j2 (default: ./<id>.j2)")
    lpf = lsub.add_parser("promptfoo", help="export templates and a dataset as promptfoo config")
    lpf.add_argument("path", help="output promptfooconfig.yaml")
    lpf.add_argument("--template", action="append", required=True, help="template id (repeat)")
    lpf.add_argument("--dataset", required=True, help="dataset name, e.g. sentiment")
    lpf.add_argument("--library", help="library name (default: the built-in one)")

    score = sub.add_parser("score", help="score a text against one or more references")
    score.add_argument("--hyp", required=True, help="the text to score")
    score.add_argument("--ref", action="append", required=True, help="a reference (repeatable)")
    score.add_argument("--lang", help="target language code, e.g. zh, ja, fr (picks BLEU's "
                       "tokenizer; default: from the references' script)")
    score.add_argument("--no-stem", action="store_true", help="turn ROUGE stemming off")
    score.add_argument("--json", action="store_true", help="print JSON")

    compare = sub.add_parser("compare", help="run prompt variants over a dataset and score them")
    compare.add_argument("--spec", help="a YAML or JSON comparison spec")
    compare.add_argument("--flag-below", type=float, default=LOW_CONFIDENCE, metavar="LOGPROB",
                         help="count outputs whose mean token log-probability is under this as "
                              "low-confidence (default %(default)s)")
    compare.add_argument("--no-prefix-reuse", action="store_true",
                         help="evaluate every prompt from scratch: seeded runs repeat bit for bit "
                              "in any order, at the cost of the shared-prefix speed-up")
    engine = compare.add_argument_group("model loading")
    engine.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: physical cores)")
    _add_engine_options(engine)
    compare.add_argument("--template", "-T", action="append", default=[], metavar="ID",
                         help="a template to compare (repeatable; one variant each)")
    compare.add_argument("--dataset", "-d",
                         help="a built-in dataset (e.g. sentiment) or a CSV/JSONL/JSON file")
    compare.add_argument("--rows", type=int, help="use only the first N inputs")
    compare.add_argument("--samples", "-k", type=int, help="samples (seeds) per cell")
    compare.add_argument("--model", "-m", help="model for every variant (default: bundled)")
    compare.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                         help="a sampling setting for every variant, e.g. temperature=0.7")
    compare.add_argument("--name", help="a name for the comparison")
    compare.add_argument("--db", help="database file (default: per-user, or $PLAYGROUND_DB)")
    compare.add_argument("--no-save", action="store_true", help="keep nothing in the database")
    compare.add_argument("--resume", type=int, metavar="ID", help="resume a stopped comparison")
    compare.add_argument("--no-perplexity", action="store_true",
                         help="skip the reference perplexity pass")
    compare.add_argument("--concurrency", type=int, default=1, metavar="N",
                         help="runs on remote endpoints sent N at a time (default 1)")
    compare.add_argument("--plain-order", action="store_true",
                         help="run in plain round order instead of prefix-aware order")
    compare.add_argument("--format", choices=["md", "html", "csv", "jsonl"], default="md",
                         help="report format (default: md)")
    compare.add_argument("--output", "-o", help="write the report here instead of stdout")

    history = sub.add_parser("history", help="saved comparisons, or runs matching a search")
    history.add_argument("--search", "-s", help="find runs whose prompt or output has these words")
    history.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    history.add_argument("--db", help="database file (default: per-user, or $PLAYGROUND_DB)")
    history.add_argument("--json", action="store_true", help="print JSON")
    rep = sub.add_parser(
        "replay",
        help="run a stored run again and say whether it repeats, where it diverges, and "
             "which recorded settings differ now",
        description="Replays with the recorded prompt, sampling settings, seed, model and load "
                    "settings; the options below change one load setting to see its effect. "
                    "Exit status 0: identical, 1: diverged.",
    )
    rep.add_argument("run_id", type=int, help="a run id (see `playground history --search`)")
    rep.add_argument("--threads", type=int, help="CPU threads instead of the recorded count")
    rep.add_argument("--flash-attn", choices=["on", "off"], help="flash attention on or off")
    rep.add_argument("--batch", type=int, help="prompt batch size instead of the recorded one")
    rep.add_argument("--gpu-layers", type=int, help="GPU layers instead of the recorded count")
    rep.add_argument("--n-ctx", type=int, help="context size instead of the recorded one")
    rep.add_argument("--db", help="database file")
    rep.add_argument("--json", action="store_true", help="print the report as JSON")
    show = sub.add_parser("show", help="a saved comparison's scores and significance")
    show.add_argument("id", type=int, help="comparison id (see `playground history`)")
    show.add_argument("--db", help="database file")
    exp = sub.add_parser("export", help="export a saved comparison")
    exp.add_argument("id", type=int, help="comparison id")
    exp.add_argument("--format", "-f", choices=["csv", "jsonl", "md", "html"], default="html")
    exp.add_argument("--output", "-o", help="output file (default: stdout)")
    exp.add_argument("--db", help="database file")

    judgements = sub.add_parser("judgements", help="blind pairwise judgements of a comparison")
    jsub = judgements.add_subparsers(dest="judgements_command", metavar="ACTION", required=True)
    jexp = jsub.add_parser("export", help="write them as a preference dataset (JSONL of prompt, "
                           "chosen, rejected) for reward-model or DPO training")
    jexp.add_argument("id", type=int, help="comparison id")
    jexp.add_argument("path", help="output .jsonl file, or - for stdout")
    jexp.add_argument("--db", help="database file")

    endpoints = sub.add_parser(
        "endpoints", help="saved OpenAI-compatible servers, used as --model remote:NAME")
    esub = endpoints.add_subparsers(dest="endpoints_command", metavar="ACTION", required=True)
    eadd = esub.add_parser("add", help="save (or replace) an endpoint")
    eadd.add_argument("name", help="a short name, used as remote:NAME")
    eadd.add_argument("base_url", help="e.g. http://127.0.0.1:8080/v1")
    eadd.add_argument("--model", required=True, help="the model name the server expects")
    key = eadd.add_mutually_exclusive_group()
    key.add_argument("--api-key-env", help="NAME of the environment variable holding the key")
    key.add_argument("--keyring", action="store_true",
                     help="ask for the key now and keep it in the OS keyring")
    esub.add_parser("list", help="the saved endpoints")
    erm = esub.add_parser("remove", help="forget an endpoint")
    erm.add_argument("name")
    echeck = esub.add_parser("check", help="ask an endpoint which models it serves")
    echeck.add_argument("name")

    demo = sub.add_parser("demo", help="a short streamed generation on the default model")
    _add_load_options(demo)
    return parser


def _load_options(args: argparse.Namespace, **fixed: Any) -> LoadOptions:
    """The load settings given on the command line; the core's defaults for the rest."""
    given: dict[str, Any] = {
        "n_ctx": getattr(args, "n_ctx", None),
        "n_threads": getattr(args, "threads", None),
        "n_gpu_layers": getattr(args, "gpu_layers", None),
        "n_batch": args.batch,
        "flash_attn": None if args.flash_attn is None else args.flash_attn == "on",
    }
    return LoadOptions(**{k: v for k, v in given.items() if v is not None}, **fixed)


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
def _ctrl_c_calls(cancel: Callable[[], None]) -> Iterator[None]:
    """First Ctrl-C cancels the work (its partial result is still printed); a second one quits."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(_signum: int, _frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stream(
    backend: Backend, request: GenerationRequest, out: TextIO, err: TextIO, as_json: bool
) -> int:
    """Run one request, printing tokens as they come (or one JSON document at the end)."""
    with _ctrl_c_calls(backend.cancel):
        for event in backend.generate(request):
            if isinstance(event, Token) and not as_json:
                out.write(event.text)
                out.flush()
            elif isinstance(event, Started) and event.max_tokens_clipped:
                err.write(f"note: max tokens reduced to {event.max_tokens} to fit the context\n")
            elif isinstance(event, Finished):
                result = event.result
                if as_json:
                    out.write(json_text(result.to_dict()))
                    out.write("\n")
                else:
                    out.write("\n")
                    err.write(_status_line(result.to_dict()) + "\n")
                return 130 if result.finish_reason == "cancelled" else 0
            elif isinstance(event, Failed):
                if as_json and event.result is not None:
                    out.write(json_text(event.result.to_dict()))
                    out.write("\n")
                err.write(f"playground: error: {event.error}\n")
                return 1
    return 1


def _status_line(result: dict[str, Any]) -> str:
    tps = result["tokens_per_second"]
    ttft = result["ttft_s"]
    return (
        f"[{result['finish_reason']}] {count_text(result['prompt_tokens'])} prompt + "
        f"{result['completion_tokens']} generated tokens"
        + (f", {tps:.1f} tok/s" if tps else "")
        + (f", first token {ttft * 1000:.0f} ms" if ttft is not None else "")
        + f", seed {result['params']['seed']}"
    )


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
    }


def cmd_models(args: argparse.Namespace, out: TextIO) -> int:
    rows: list[dict[str, Any]] = []
    for model in discover_models():
        try:
            row = _describe(read_gguf(model.path), model.name)
            row["error"] = None
        except PlaygroundError as exc:
            row = {"name": model.name, "path": str(model.path), "error": str(exc)}
        row["source"] = model.source
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
                f"{row['name']}  [{row['source']}]  unreadable: {row['error']}\n"))
            continue
        # Names and titles come from the model file's metadata: text from outside.
        out.write(escape_controls(
            f"{row['name']}  [{row['source']}]  {row['title'] or ''}\n    {row['architecture']}, "
            f"{row['parameters'] / 1e6:.0f}M params, {row['quant']}, "
            f"ctx {row['context_length']}, {row['file_size'] / 2**20:.0f} MiB\n    {row['path']}\n"
        ))
    out.write(f"GPU offload in this llama.cpp build: {'yes' if gpu else 'no'}\n")
    return 0


def gpu_offload_supported() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def cmd_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    request = _request(args, prompt)
    backend: Backend
    if is_remote(args.model):
        backend = RemoteBackend(resolve_endpoint(args.model))
    else:
        backend = LocalBackend(resolve_model(args.model), _load_options(args))
    try:
        if isinstance(backend, LocalBackend):
            for warning in backend.start().warnings:
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


def _print_report(items: Sequence[ItemReport], out: TextIO) -> None:
    for item in items:
        note = f": {item.message}" if item.message else ""
        out.write(f"  {item.status:<5} {item.kind} {item.name}{note}\n")


def cmd_library(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    action = args.library_command
    if action == "export":
        collection = _collection(err)
        library = collection.library(args.library) if args.library else collection.libraries[0]
        fmt: Literal["json", "yaml"] = args.format or (
            "yaml" if Path(args.path).suffix in (".yaml", ".yml") else "json"
        )
        text = export_library(library, fmt)
        if args.path == "-":
            out.write(text)
        else:
            Path(args.path).write_text(text, encoding="utf-8")
            err.write(f"exported {library.name!r} ({len(library.templates)} templates) "
                      f"to {args.path}\n")
        return 0
    if action == "promptfoo":
        collection = _collection(err)
        library = collection.library(args.library) if args.library else collection.libraries[0]
        text = export_promptfoo(library, args.template, args.dataset)
        Path(args.path).write_text(text, encoding="utf-8")
        err.write(f"wrote a promptfoo config to {args.path}\n")
        return 0
    path = Path(args.path)
    if action == "import-llm":
        converted = import_llm_template(_read_text(path), args.name or path.stem)
        for warning in converted.warnings:
            err.write(f"warning: {warning}\n")
        target = Path(args.output or f"{converted.template.id}.j2")
        target.write_text(converted.template.source, encoding="utf-8")
        err.write(f"wrote {target}\n")
        return 0
    try:
        report = read_library(path)
    except LibraryError as exc:
        err.write(f"playground: error: {exc}\n")
        _print_report(exc.report, out)
        return 2
    out.write(f"{path.name}: library {report.library.name!r} is valid\n")
    _print_report(report.items, out)
    if action == "import":
        target = install(report.library, replace=args.replace)
        out.write(f"installed as {target}\n")
    return 0


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LibraryError(f"{path}: cannot read the file ({exc})") from exc


def _collection(err: TextIO) -> Collection:
    collection = load_collection()
    for problem in collection.problems:
        err.write(f"warning: skipped an installed library: {problem}\n")
    return collection


def cmd_templates_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rows = [
        {"id": t.id, "library": lib.name, "name": t.meta.name, "technique": t.meta.technique,
         "task": t.meta.task, "format": t.meta.format,
         "variables": [v.name for v in t.meta.variables]}
        for lib, t in _collection(err).templates()
    ]
    if args.json:
        out.write(json_text(rows))
        out.write("\n")
        return 0
    width = max((len(r["id"]) for r in rows), default=10)
    for row in rows:
        out.write(f"{row['id']:<{width}}  {row['technique']:<18} {row['task']:<14} "
                  f"{row['format']:<5} {row['name']}\n")
    return 0


def cmd_templates_show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    library, t = _collection(err).find(args.template)
    out.write(f"{t.meta.name}  ({library.name}/{t.id})\n")
    out.write(f"technique: {t.meta.technique}   task: {t.meta.task}   format: {t.meta.format}\n")
    if t.meta.description:
        out.write(f"{t.meta.description}\n")
    out.write("variables:\n")
    for v in t.meta.variables:
        default = "" if v.default is None else f" (default: {v.default!r})"
        choices = f" one of {', '.join(v.choices)}" if v.choices else ""
        out.write(f"  {v.name}: {v.type}{choices}{default}  {v.help}\n")
    if t.meta.params:
        out.write(f"default settings: {json.dumps(dict(t.meta.params))}\n")
    if t.meta.example_set:
        out.write(f"example set: {t.meta.example_set}\n")
    out.write("\n" + t.body)
    if not t.body.endswith("\n"):
        out.write("\n")
    return 0


def _parse_var(text: str, template: PromptTemplate) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise PlaygroundError(f"--var takes NAME=VALUE, got {text!r}")
    var = template.variable(name)
    if var is not None and var.type == "number":
        try:
            return name, int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            raise PlaygroundError(f"variable {name} takes a number, got {value!r}") from None
    if var is not None and var.type == "choice" and value not in var.choices:
        raise PlaygroundError(f"variable {name} takes one of {', '.join(var.choices)}, "
                              f"got {value!r}")
    return name, value


def cmd_templates_render(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    library, t = _collection(err).find(args.template)
    values: dict[str, Any] = {}
    if args.vars:
        try:
            with open(args.vars, encoding="utf-8-sig") as fh:
                loaded = json.load(fh)
        except (OSError, ValueError) as exc:
            raise PlaygroundError(f"--vars {args.vars}: cannot read JSON values ({exc})") from exc
        if not isinstance(loaded, dict):
            raise PlaygroundError(f"--vars {args.vars}: expected a JSON object of values")
        values.update(loaded)
    values.update(dict(_parse_var(v, t) for v in args.var))
    values = template_values(library, t, row=args.row, example_set=args.examples, values=values)
    sources = library.sources()
    if not (args.tokens or args.generate):
        rendered = render_template(t, values, library=sources)
        for warning in rendered.warnings:
            err.write(f"warning: {warning}\n")
        out.write(rendered.text + "\n")
        return 0
    backend = LocalBackend(resolve_model(args.model))
    try:
        loaded_model = backend.start()
        rendered = render_template(t, values, library=sources,
                                   special_tokens=loaded_model.special_tokens,
                                   neutralise=args.neutralise)
        for warning in rendered.warnings:
            err.write(f"warning: {warning}\n")
        request = to_request(rendered, template_params(t), chat=args.chat)
        preview = backend.preview(request)
        out.write(preview.prompt + "\n")
        err.write(f"{preview.tokens:,} tokens of a {preview.n_ctx:,}-token context\n")
        if preview.warning:
            err.write(f"warning: {preview.warning}\n")
        if args.generate:
            return stream(backend, request, out, err, as_json=False)
        return 0
    finally:
        backend.close()


def cmd_score(args: argparse.Namespace, out: TextIO) -> int:
    from playground.evaluation.scoring import score_pair

    scores = score_pair(args.hyp, args.ref, language=args.lang, stem=not args.no_stem)
    if args.json:
        out.write(json_text([{"metric": s.metric, "value": s.value, "reason": s.reason,
                    "signature": s.signature} for s in scores]))
        out.write("\n")
        return 0
    for s in scores:
        value = "N/A" if s.value is None else f"{s.value:.4f}"
        reason = f" ({s.reason})" if s.reason else ""
        out.write(f"{s.metric:<12} {value:>9}{reason}   {s.signature}\n")
    return 0


def _param_value(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise PlaygroundError(f"--param takes NAME=VALUE, got {text!r}")
    value: Any = raw
    for convert in (int, float):
        try:
            value = convert(raw)
            break
        except ValueError:
            continue
    return name.replace("-", "_"), value


def _compare_spec(args: argparse.Namespace, collection: Collection) -> ComparisonSpec:
    from playground.runs import build
    from playground.runs import spec as specs

    if args.spec:
        path = Path(args.spec)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise PlaygroundError(f"{path}: cannot read the spec ({exc})") from exc
        data = load_yaml_strict(text, str(path))
        overrides = {"samples": args.samples, "rows": args.rows, "model": args.model,
                     "name": args.name}
        data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
        if args.param:
            data["params"] = {**(data.get("params") or {}), **dict(map(_param_value, args.param))}
        return specs.spec_from_mapping(data, collection, base_dir=path.parent)
    if not args.template or not args.dataset:
        raise PlaygroundError("give --spec FILE, or --template ID (one or more) and --dataset")
    params = dict(_param_value(p) for p in args.param)
    variants = [build.build_variant(collection, t, model=args.model or "", params=params)
                for t in args.template]
    dataset = build.resolve_dataset(collection, args.dataset)
    return build.build_comparison(variants, dataset.inputs,
                                  name=args.name or ", ".join(args.template), rows=args.rows,
                                  samples=args.samples or 1)


def cmd_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    store = None if args.no_save else open_store(args.db, err)
    if args.resume is not None:
        if store is None:
            raise PlaygroundError("--resume needs the database; drop --no-save")
        spec = store.comparison(args.resume).to_spec()
    else:
        spec = _compare_spec(args, _collection(err))
    pool = BackendPool(_load_options(args, reuse_prefix=not args.no_prefix_reuse))
    token = CancelToken()
    runs: list[ReportRun] = []
    status = "done"
    try:
        with _ctrl_c_calls(token.cancel):
            events = run_comparison(
                spec, pool, store=store, comparison_id=args.resume,
                scorer=make_scorer(spec.metrics, spec.language), cancel=token,
                prefix_order=not args.plain_order, perplexity=not args.no_perplexity,
                concurrency=args.concurrency,
            )
            for event in events:
                if isinstance(event, ComparisonStarted):
                    where = "" if event.comparison_id is None else f" #{event.comparison_id}"
                    err.write(f"comparison{where}: {event.total} runs"
                              + (f", {event.skipped} already done" if event.skipped else "")
                              + "\n")
                elif isinstance(event, RunDone):
                    runs.append(report_run(event))
                    if event.status == "failed":
                        err.write(f"  failed: {event.planned.variant.name} on "
                                  f"{event.planned.input.id}: {event.error}\n")
                elif isinstance(event, Progress):
                    eta = "" if event.eta_s is None else f", about {event.eta_s:.0f} s left"
                    # The progress line's own carriage return: the one control not escaped.
                    raw(err).write(f"\r  {event.done + event.skipped}/{event.total} runs{eta}   ")
                    err.flush()
                elif isinstance(event, ComparisonFinished):
                    status = event.status
                    err.write(f"\n{status}: {event.done} runs in {event.elapsed_s:.1f} s"
                              + (f", {event.failed} failed" if event.failed else "") + "\n")
                    if event.comparison_id is not None:
                        err.write(f"saved as comparison {event.comparison_id}"
                                  + (f"; resume with --resume {event.comparison_id}"
                                     if status == "cancelled" else "") + "\n")
                        if store is not None:
                            runs = report_runs(store, event.comparison_id)
    finally:
        pool.close()
        if store is not None:
            store.close()
    report = build_report(spec.name, runs, language=spec.language, sweep=spec.sweep_values(),
                          sweep_param=spec.sweep_param, low_confidence_below=args.flag_below)
    text = export(report, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        err.write(f"report written to {args.output}\n")
    else:
        out.write(text if args.format != "md" else _summary_md(text))
    return 130 if status == "cancelled" else 0


def open_store(path: str | None, err: TextIO) -> Store:
    """The database, with what opening it did said on stderr (an upgrade and where its backup
    is, a damaged file set aside): a change to the user's data is never silent."""
    store = Store(path)
    for notice in store.notices:
        err.write(f"playground: {notice}\n")
    return store


def _summary_md(markdown: str) -> str:
    """The report without the per-output section: what fits a terminal."""
    head, _, _ = markdown.partition("\n## Outputs")
    return head.rstrip() + "\n"


def cmd_history(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with open_store(args.db, err) as store:
        if args.search is not None:
            runs = store.search(args.search, limit=args.limit)
            if args.json:
                out.write(json_text([{"run_id": r.id, "comparison_id": r.comparison_id,
                            "status": r.status, "output": r.output, "created_at": r.created_at}
                           for r in runs]))
                out.write("\n")
                return 0
            for r in runs:
                text = escape_controls(" ".join((r.output or r.error or "").split()))
                out.write(f"run {r.id:>6}  comparison {r.comparison_id or '-':>5}  "
                          f"{r.created_at[:19]}  {text[:80]}\n")
            if not runs:
                out.write("no runs match\n")
            return 0
        rows = store.history(limit=args.limit)
    if args.json:
        out.write(json_text([{"id": c.id, "name": c.name, "created_at": c.created_at,
                              "status": c.status, "runs": c.run_count,
                              "expected_runs": c.expected_runs, "failed": c.failed_count}
                             for c in rows]))
        out.write("\n")
        return 0
    for c in rows:
        out.write(f"{c.id:>5}  {c.created_at[:19]}  {c.status:<9} "
                  f"{c.run_count}/{c.expected_runs} runs"
                  + (f", {c.failed_count} failed" if c.failed_count else "")
                  + f"  {escape_controls(c.name)}\n")
    if not rows:
        out.write("no comparisons saved yet; run `playground compare`\n")
    return 0


def cmd_show_or_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with open_store(args.db, err) as store:
        row = store.comparison(args.id)
        report = stored_report(store, args.id)
    if args.command == "show":
        out.write(f"comparison {row.id}: {row.name}  ({row.status}, {row.run_count} of "
                  f"{row.expected_runs} runs, {row.created_at[:19]})\n\n")
        out.write(_summary_md(export(report, "md")))
        return 0
    text = export(report, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        err.write(f"exported comparison {row.id} to {args.output}\n")
    else:
        out.write(text)
    return 0


def cmd_replay(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    overrides = LoadOverrides(
        n_threads=args.threads,
        flash_attn=None if args.flash_attn is None else args.flash_attn == "on",
        n_batch=args.batch,
        n_gpu_layers=args.gpu_layers,
        n_ctx=args.n_ctx,
    )
    report: ReplayReport | None = None
    with open_store(args.db, err) as store:
        err.write(f"replaying run {args.run_id}…\n")
        for item in replay(store, args.run_id, overrides):
            if isinstance(item, ReplayReport):
                report = item
    assert report is not None
    if args.json:
        out.write(json_text(replay_json(report)) + "\n")
    else:
        out.write("\n".join(report.lines()) + "\n")
    return 0 if report.identical else 1


def replay_json(report: ReplayReport) -> dict[str, Any]:
    d = report.divergence
    return {
        "run_id": report.run_id,
        "identical": report.identical,
        "compared": report.compared,
        "divergence": None if d is None else dataclasses.asdict(d),
        "differences": list(report.differences),
        "notes": list(report.notes),
        "replayed_text": report.result.text,
    }


def cmd_judgements_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Ties are left out (a chosen/rejected pair cannot say "neither") and counted, so a file
    shorter than the number of judgements is explained."""
    with open_store(args.db, err) as store:
        store.comparison(args.id)
        judged = comparison_judgements(store, args.id)
    if not judged:
        raise PlaygroundError(f"comparison {args.id} has no judgements yet; judge its outputs "
                              "in the Evaluate tab first")
    text = export_preferences(judged)
    ties = sum(1 for j in judged if j.choice == "tie")
    pairs = len(judged) - ties
    if args.path == "-":
        out.write(text)
    else:
        try:
            Path(args.path).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise PlaygroundError(f"cannot write {args.path}: {exc.strerror or exc}") from exc
    where = "standard output" if args.path == "-" else args.path
    err.write(f"wrote {pairs} preference pair{'s' * (pairs != 1)} to {where}"
              + (f" ({ties} tie{'s' * (ties != 1)} left out)" if ties else "") + "\n")
    return 0


def cmd_endpoints(args: argparse.Namespace, out: TextIO) -> int:
    action = args.endpoints_command
    if action == "add":
        endpoint = Endpoint(args.name, args.base_url, args.model, args.api_key_env, args.keyring)
        if args.keyring:
            import getpass

            secret = getpass.getpass(f"API key for {args.name}: ")
            if not secret:
                raise PlaygroundError("no key given; nothing was saved")
            store_key_in_keyring(args.name, secret)
        save_endpoint(endpoint)
        out.write(f"saved; use it as --model remote:{args.name}\n")
    elif action == "remove":
        remove_endpoint(args.name)
        out.write(f"removed {args.name}\n")
    elif action == "check":
        with RemoteBackend(resolve_endpoint("remote:" + args.name)) as backend:
            models = backend.models()
        # Model names are the server's words: a message, escaped even when piped.
        out.write(escape_controls("\n".join(models))
                  + ("\n" if models else "the server lists no models\n"))
    else:
        saved = load_endpoints()
        for e in saved.values():
            key = f"  key from ${e.api_key_env}" if e.api_key_env else ""
            key = "  key in the OS keyring" if e.api_key_keyring else key
            out.write(f"remote:{e.name}  {e.base_url}  model {e.model}{key}\n")
        if not saved:
            out.write("no endpoints saved; add one with `playground endpoints add`\n")
    return 0


def self_test(out: TextIO) -> int:
    """What an installed or packaged app checks about itself: templates found, model found,
    worker process starts, llama.cpp generates."""
    templates = [t for _, t in load_collection().templates()]
    if not templates:
        raise PlaygroundError("no built-in templates were found")
    backend = LocalBackend(resolve_model(None), LoadOptions(n_ctx=512))
    try:
        loaded = backend.start()
        request = GenerationRequest(prompt="Hello", params=SamplingParams(temperature=0,
                                                                          max_tokens=4))
        final = list(backend.generate(request))[-1]
    finally:
        backend.close()
    if not isinstance(final, Finished) or final.result.completion_tokens < 1:
        raise PlaygroundError(f"generation did not complete: {final}")
    out.write(f"self-test ok: {len(templates)} templates, {loaded.info.display_name} loaded in "
              f"{loaded.load_s:.2f} s, generated {final.result.completion_tokens} tokens\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Every message is escaped; model output and reports only on a terminal, so piped output
    # stays byte-exact (see playground.terminal).
    out, err = for_terminal(sys.stdout), escaping(sys.stderr)
    try:
        return _run(parser, args, out, err)
    finally:
        for stream in (out, err):
            if stream is not sys.stdout:
                stream.close()  # writes a carriage return still held back; sys's stay open


Command = Callable[[argparse.Namespace, TextIO, TextIO], int]

#: Each command's handler, by its name on the command line (templates by its sub-command).
COMMANDS: dict[str, Command] = {
    "generate": cmd_generate,
    "models": lambda args, out, err: cmd_models(args, out),
    "templates list": cmd_templates_list,
    "templates show": cmd_templates_show,
    "templates render": cmd_templates_render,
    "library": cmd_library,
    "score": lambda args, out, err: cmd_score(args, out),
    "endpoints": lambda args, out, err: cmd_endpoints(args, out),
    "compare": cmd_compare,
    "history": cmd_history,
    "show": cmd_show_or_export,
    "export": cmd_show_or_export,
    "replay": cmd_replay,
    "judgements": cmd_judgements_export,
    "demo": cmd_demo,
}


def _run(
    parser: argparse.ArgumentParser, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    name = args.command
    try:
        if args.self_test:
            return self_test(out)
        if name is None:
            name, args = "demo", parser.parse_args(["demo"])
        elif name == "templates":
            name = f"templates {args.templates_command or 'render'}"
        command = COMMANDS.get(name)
        if command is not None:
            return command(args, out, err)
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
