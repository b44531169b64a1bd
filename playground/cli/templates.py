"""Commands on prompt templates (``templates list``, ``show``, ``render``) and on whole
libraries (``library export``, ``import``, ``validate``, ``import-llm``, ``promptfoo``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

from playground.cli.userdata import open_collection
from playground.errors import PlaygroundError
from playground.prompts.collection import install, template_values
from playground.prompts.formats import ItemReport, LibraryError
from playground.prompts.interop.llm import import_llm_template
from playground.prompts.interop.promptfoo import export_promptfoo
from playground.prompts.library import export_library, read_library
from playground.prompts.templates import (
    PromptTemplate,
    render_template,
    template_params,
    to_request,
)
from playground.terminal import json_text
from playground.wording import plural


def cmd_templates_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rows = [
        {"id": t.id, "library": lib.name, "name": t.meta.name, "technique": t.meta.technique,
         "task": t.meta.task, "format": t.meta.format,
         "variables": [v.name for v in t.meta.variables]}
        for lib, t in open_collection(err).templates()
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
    library, t = open_collection(err).find(args.template)
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
    library, t = open_collection(err).find(args.template)
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
    # Only a preview or a run needs the model: listing and rendering start without its imports.
    from playground.cli.output import stream
    from playground.engine.backends import LocalBackend
    from playground.engine.models import resolve_model

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
        err.write(f"{plural(preview.tokens, 'token')} of a {preview.n_ctx:,}-token context\n")
        if preview.warning:
            err.write(f"warning: {preview.warning}\n")
        if args.generate:
            return stream(backend, request, out, err, as_json=False)
        return 0
    finally:
        backend.close()


def _print_report(items: Sequence[ItemReport], out: TextIO) -> None:
    for item in items:
        note = f": {item.message}" if item.message else ""
        out.write(f"  {item.status:<5} {item.kind} {item.name}{note}\n")


def cmd_library(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    action = args.library_command
    if action == "export":
        collection = open_collection(err)
        library = collection.library(args.library) if args.library else collection.libraries[0]
        fmt: Literal["json", "yaml"] = args.format or (
            "yaml" if Path(args.path).suffix in (".yaml", ".yml") else "json"
        )
        text = export_library(library, fmt)
        if args.path == "-":
            out.write(text)
        else:
            Path(args.path).write_text(text, encoding="utf-8")
            err.write(f"exported {library.name!r} ({plural(len(library.templates), 'template')}) "
                      f"to {args.path}\n")
        return 0
    if action == "promptfoo":
        collection = open_collection(err)
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
