"""The command line's commands and flags, and the core settings the flags turn into."""

from __future__ import annotations

import argparse
from typing import Any

from playground import __version__
from playground.cli.constraints import add_constraint_options
from playground.cli.hub import add_hub_commands
from playground.engine.discovery import FOREIGN_SOURCES
from playground.engine.options import LoadOptions
from playground.events import ChatMessage, GenerationRequest
from playground.prompts.chat_formats import CHAT_FORMATS
from playground.sampling import SamplingParams

#: How a stored comparison or Playground run is named on the command line.
NUMBER_ARG = "3 (or #3) for comparison #3; r3 (or: run 3) for Playground run 3"
NUMBER_HELP = ("Comparisons and Playground runs are numbered apart, as `playground history` "
               "(comparisons) and `playground history --runs` (Playground runs) list them.")


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model loading")
    group.add_argument("--model", "-m", help="a .gguf path or a model name (default: bundled)")
    group.add_argument("--n-ctx", type=int, default=4096, help="context size (0 = trained size)")
    group.add_argument("--threads", type=int, default=None, help="CPU threads (default: cores)")
    group.add_argument("--gpu-layers", type=int, default=0, help="layers to offload (-1 = all)")
    _add_engine_options(group)
    _add_chat_format(group)


def _add_chat_format(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--chat-format", choices=list(CHAT_FORMATS), default=None, metavar="NAME",
                       help="format chats with a built-in format instead of the model's own "
                            f"template (for models without one): {', '.join(CHAT_FORMATS)}")


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


def _add_discovery_options(parser: argparse.ArgumentParser) -> None:
    """Other tools' model folders (discovery.py) are looked in unless these say otherwise."""
    parser.add_argument("--no-discover", action="store_true",
                        help="list only the bundled model and this app's models folders, not "
                             "the models other tools downloaded")
    parser.add_argument("--skip", action="append", default=[], choices=FOREIGN_SOURCES,
                        metavar="SOURCE", help="do not look in this tool's models (repeatable): "
                                           f"{', '.join(FOREIGN_SOURCES)}")


def _add_judge_command(sub: Any) -> None:
    judge = sub.add_parser(
        "judge", help="a judge model scores a saved comparison's outputs (1–5 per criterion) "
                      "or compares its variants pair by pair", epilog=NUMBER_HELP)
    judge.add_argument("number", nargs="+", metavar="NUMBER", help=NUMBER_ARG)
    judge.add_argument("--template", "-T", metavar="ID",
                       help="a judge template (default: judge-rubric, or judge-pairwise "
                            "with --pairwise)")
    judge.add_argument("--model", "-m", help="the judge model: a .gguf path, a model name or "
                                             "remote:NAME (default: bundled)")
    judge.add_argument("--criterion", "-c", action="append", default=[], metavar="NAME",
                       help="a criterion to judge (repeatable; default: the template's)")
    judge.add_argument("--pairwise", action="store_true",
                       help="compare each pair of variants' outputs, in both orders")
    judge.add_argument("--resume", action="store_true",
                       help="resume this comparison's stopped judge")
    judge.add_argument("--rerun", nargs="?", const="", default=None, metavar="CRITERION",
                       help="run this comparison's judges again with their stored settings "
                            "(the newest judge of each criterion, or of CRITERION only); the "
                            "new scores replace the earlier ones")
    judge.add_argument("--db", help="database file (default: per-user, or $PLAYGROUND_DB)")
    engine = judge.add_argument_group("model loading")
    engine.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: physical cores)")
    _add_engine_options(engine)
    _add_chat_format(engine)


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
    # --chat-format (model loading) implies --chat too: it says how to format a chat.
    gen.add_argument("--logprobs", type=int, default=None, metavar="N",
                     help="top-N log-probabilities per token (with --json)")
    gen.add_argument("--json", action="store_true", help="print one JSON result instead")
    add_constraint_options(gen)
    _add_load_options(gen)
    _add_sampling_options(gen)

    models = sub.add_parser("models", help="list the models the app can find")
    models.add_argument("--json", action="store_true", help="print JSON")
    _add_discovery_options(models)
    add_hub_commands(models)

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
    # None: the report's own threshold, read when a comparison runs (the report needs numpy,
    # which a command that only lists or scores should not import to build its help).
    compare.add_argument("--flag-below", type=float, default=None, metavar="LOGPROB",
                         help="count outputs whose mean token log-probability is under this as "
                              "low-confidence (default: the report's threshold, as in the window)")
    compare.add_argument("--parallel", type=int, default=0, metavar="N",
                         help="local runs decoded N at once in one model (default: chosen from "
                              "the model's size, free memory and measured speed); 1: one at a "
                              "time, the bit-exact path (a batched seeded run may differ)")
    compare.add_argument("--no-prefix-reuse", action="store_true",
                         help="evaluate every prompt from scratch: seeded runs repeat bit for bit "
                              "in any order, at the cost of the shared-prefix speed-up")
    engine = compare.add_argument_group("model loading")
    engine.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: physical cores)")
    _add_engine_options(engine)
    _add_chat_format(engine)
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
    add_constraint_options(compare)
    compare.add_argument("--db", help="database file (default: per-user, or $PLAYGROUND_DB)")
    compare.add_argument("--no-save", action="store_true", help="keep nothing in the database")
    compare.add_argument("--resume", metavar="NUMBER",
                         help="resume a stopped comparison: its number, as `playground history` "
                              "lists it")
    compare.add_argument("--no-perplexity", action="store_true",
                         help="skip the reference perplexity pass")
    compare.add_argument("--concurrency", type=int, default=1, metavar="N",
                         help="runs on remote endpoints sent N at a time (default 1)")
    compare.add_argument("--plain-order", action="store_true",
                         help="run in plain round order instead of prefix-aware order")
    compare.add_argument("--format", choices=["md", "html", "csv", "jsonl"], default="md",
                         help="report format (default: md)")
    compare.add_argument("--output", "-o", help="write the report here instead of stdout")

    history = sub.add_parser(
        "history", help="saved comparisons (#1, #2…), Playground runs (Run 1…) with --runs, or "
                        "runs matching a search")
    history.add_argument("--runs", action="store_true",
                         help="list Playground runs instead of comparisons")
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
    show = sub.add_parser("show", help="a saved comparison's scores and significance",
                          epilog=NUMBER_HELP)
    show.add_argument("number", nargs="+", metavar="NUMBER", help=NUMBER_ARG)
    show.add_argument("--db", help="database file")
    exp = sub.add_parser("export", help="export a saved comparison", epilog=NUMBER_HELP)
    exp.add_argument("number", nargs="+", metavar="NUMBER", help=NUMBER_ARG)
    exp.add_argument("--format", "-f", choices=["csv", "jsonl", "md", "html"], default="html")
    exp.add_argument("--output", "-o", help="output file (default: stdout)")
    exp.add_argument("--db", help="database file")

    _add_judge_command(sub)

    judgements = sub.add_parser("judgements", help="blind pairwise judgements of a comparison")
    jsub = judgements.add_subparsers(dest="judgements_command", metavar="ACTION", required=True)
    jexp = jsub.add_parser("export", help="write them as a preference dataset (JSONL of prompt, "
                           "chosen, rejected) for reward-model or DPO training")
    jexp.add_argument("number", metavar="NUMBER", help="the comparison's number, e.g. 3 for #3")
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


def load_options(args: argparse.Namespace, **fixed: Any) -> LoadOptions:
    """The load settings given on the command line; the core's defaults for the rest."""
    given: dict[str, Any] = {
        "n_ctx": getattr(args, "n_ctx", None),
        "n_threads": getattr(args, "threads", None),
        "n_gpu_layers": getattr(args, "gpu_layers", None),
        "n_batch": args.batch,
        "flash_attn": None if args.flash_attn is None else args.flash_attn == "on",
        "chat_format": getattr(args, "chat_format", None),
    }
    return LoadOptions(**{k: v for k, v in given.items() if v is not None}, **fixed)


def sampling_params(args: argparse.Namespace) -> SamplingParams:
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


def generation_request(args: argparse.Namespace, prompt: str) -> GenerationRequest:
    params = sampling_params(args)
    if args.chat or args.system or args.chat_format:
        messages = []
        if args.system:
            messages.append(ChatMessage("system", args.system))
        messages.append(ChatMessage("user", prompt))
        return GenerationRequest(messages=tuple(messages), params=params, logprobs=args.logprobs)
    return GenerationRequest(prompt=prompt, params=params, logprobs=args.logprobs)
