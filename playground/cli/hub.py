"""``playground models search|files|get|rm``: Hugging Face from a terminal, through the same core
the Models view uses (``engine/hub.py`` and ``engine/download.py``). The core is imported when
one of these runs: ``huggingface_hub`` and ``requests`` take a third of a second to import,
which every other command would pay."""

from __future__ import annotations

import argparse
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from playground.errors import DownloadCancelled, HubNotFoundError
from playground.terminal import escape_controls, is_terminal, json_text, raw

if TYPE_CHECKING:
    from playground.engine import download, hub

#: How often the progress line is redrawn.
REDRAW_S = 0.2
BAR_WIDTH = 24


def add_hub_commands(models: argparse.ArgumentParser) -> None:
    """The sub-commands of ``playground models``; without one it lists the local models."""
    msub = models.add_subparsers(dest="models_command", metavar="ACTION")
    search = msub.add_parser("search", help="find GGUF models on Hugging Face (no query: the "
                                            "recommended list)")
    search.add_argument("query", nargs="?", help="words in the repository name")
    search.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    search.add_argument("--json", action="store_true", help="print JSON")
    files = msub.add_parser("files", help="a repository's GGUF files: size, quantization, memory "
                                          "needed and whether it fits this machine")
    files.add_argument("repo", help="e.g. bartowski/Qwen2.5-1.5B-Instruct-GGUF")
    files.add_argument("--n-ctx", type=int, default=4096,
                       help="context the estimate is for (default 4096; capped at the trained one)")
    files.add_argument("--json", action="store_true", help="print JSON")
    get = msub.add_parser("get", help="download a GGUF file, checked, into the models folder")
    get.add_argument("spec", metavar="REPO[:FILE|:QUANT]",
                     help="a repository, and a file or quantization in it (default: the "
                          "largest file that fits)")
    get.add_argument("--to", choices=["models", "hf-cache"], default="models",
                     help="the app's models folder (default) or the Hugging Face cache")
    get.add_argument("--n-ctx", type=int, default=4096,
                     help="context used to pick the file that fits (default 4096)")
    rm = msub.add_parser("rm", help="delete a model this app downloaded")
    rm.add_argument("name", help="its name, file name or REPO:FILE")


def cmd_models_hub(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    action = {"search": _search, "files": _files, "get": _get, "rm": _rm}[args.models_command]
    return action(args, out, err)


def _search(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from playground.engine import hub

    if not args.query:
        picks = hub.load_recommended()
        if args.json:
            out.write(json_text([vars(m) for m in picks]) + "\n")
            return 0
        out.write("Recommended instruct models (see sizes and fit with "
                  "`playground models files REPO`):\n")
        for m in picks:
            out.write(f"  {m.name:<26} {m.repo_id:<48} {m.license:<14} "
                      f"ctx {m.context_length:,}\n")
        return 0
    found = hub.search_models(args.query, limit=args.limit)
    if args.json:
        out.write(json_text([vars(r) for r in found]) + "\n")
        return 0
    if not found:
        out.write(f"no GGUF repositories match {args.query!r}\n")
    for r in found:
        gated = "  (gated: needs HF_TOKEN)" if r.gated else ""
        out.write(escape_controls(f"{r.repo_id:<56} {r.downloads:>10,} downloads{gated}\n"))
    return 0


def _files(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from playground.engine import hub
    from playground.engine.memory import available_memory, format_bytes

    files = hub.list_gguf_files(args.repo)
    avail = available_memory()
    assessed = hub.assess_files(files, args.n_ctx, available=avail)
    best = hub.recommended(assessed)
    if args.json:
        out.write(json_text({"available_memory": avail, "n_ctx": args.n_ctx,
                             "recommended": best.file.filename if best else None,
                             "files": [_row(a) for a in assessed]}) + "\n")
        return 0
    known = {m.repo_id: m for m in hub.load_recommended()}.get(args.repo)
    if known:
        out.write(f"{known.name}: licence {known.license}, trained context "
                  f"{known.context_length:,}\n")
    out.write(f"memory available: {format_bytes(avail)}; estimates for a context of "
              f"{args.n_ctx:,} tokens (CPU; fits = at most {hub.FIT_SHARE:.0%} of it)\n")
    for a in assessed:
        mark = " <- recommended" if best is a else ""
        name = escape_controls(a.file.filename)
        size = format_bytes(a.file.size)
        if a.estimate is None:
            out.write(f"  {name:<52} {a.file.quant or '?':<8} {size:>10}  "
                      f"no estimate: {escape_controls(a.error or '')}\n")
            continue
        out.write(f"  {name:<52} {a.file.quant or '?':<8} {size:>10}  needs "
                  f"{format_bytes(a.estimate.cpu_bytes):>10}  {a.fit}{mark}\n")
    if best is None:
        out.write("none of these fits in 80 % of the memory available now; close programs, "
                  "pick a smaller model or a smaller --n-ctx\n")
    return 0


def _row(a: hub.FileAssessment) -> dict[str, Any]:
    return {"file": a.file.filename, "quant": a.file.quant, "size": a.file.size,
            "sha256": a.file.sha256, "needs": a.estimate.cpu_bytes if a.estimate else None,
            "fit": a.fit, "error": a.error}


def _choose(spec: str, n_ctx: int, err: TextIO) -> hub.HubFile:
    from playground.engine import hub

    repo, _, wanted = spec.partition(":")
    files = hub.list_gguf_files(repo)
    if wanted:
        return hub.pick_file(files, wanted)
    whole = [f for f in files if not f.shard]
    if len(whole) == 1:
        return whole[0]
    best = hub.recommended(hub.assess_files(whole, n_ctx))
    if best is None:
        raise HubNotFoundError(
            f"no file in {repo} fits in 80 % of the memory available now; name one as "
            f"{repo}:FILE or {repo}:QUANT (see `playground models files {repo}`)"
        )
    err.write(f"picked {best.file.filename}: the largest file that fits this machine\n")
    return best.file


def _get(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from playground.cli.output import ctrl_c_calls
    from playground.engine import download
    from playground.engine.memory import format_bytes

    file = _choose(args.spec, args.n_ctx, err)
    err.write(escape_controls(f"downloading {file.ref} ({format_bytes(file.size)})\n"))
    cancel = threading.Event()
    bar = _Bar(err)
    try:
        with ctrl_c_calls(cancel.set):
            got = download.download(file, destination=args.to, on_progress=bar.show,
                                    cancel=cancel)
    except DownloadCancelled as exc:
        bar.end()
        err.write(f"{exc}\n")
        return 130
    finally:
        bar.end()
    if got.already_there:
        out.write(f"already downloaded: {got.path}\n")
        return 0
    checked = "SHA-256 checked" if got.sha256_checked else "no SHA-256 listed to check"
    out.write(escape_controls(f"{got.path.stem}: {got.path} ({checked}, header read: "
                              f"{got.info.architecture}, context {got.info.context_length})\n"))
    return 0


class _Bar:
    """A tqdm-style line: percent, bar, bytes, speed and time left, redrawn in place."""

    def __init__(self, err: TextIO) -> None:
        # Its own carriage returns go to the stream under the escaping one; the text is ours.
        self.err = raw(err)
        self.live = is_terminal(err)
        self.drawn = 0.0
        self.quarter = -1
        self.open = False

    def show(self, p: download.Progress) -> None:
        if not self.live:  # a log file gets a line a quarter, not a stream of redraws
            if int(p.fraction * 4) > self.quarter:
                self.quarter = int(p.fraction * 4)
                self.err.write(f"{p.fraction:4.0%} {p.describe()}\n")
            return
        now = time.monotonic()
        if now - self.drawn < REDRAW_S and p.done < p.total:
            return
        self.drawn = now
        filled = int(BAR_WIDTH * p.fraction)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.err.write(f"\r{p.fraction:4.0%} [{bar}] {p.describe()}   ")
        self.err.flush()
        self.open = True

    def end(self) -> None:
        if self.open:
            self.err.write("\n")
            self.open = False


def _rm(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from playground.engine import download
    from playground.engine.memory import format_bytes

    record, freed = download.remove_downloaded(args.name)
    gone = "" if freed else " (the file was already gone)"
    out.write(escape_controls(f"removed {record.name} ({record.path}): freed "
                              f"{format_bytes(freed)}{gone}\n"))
    return 0
