"""Library templates and a dataset as a promptfoo configuration, to run the same evaluation
with promptfoo.

promptfoo renders prompts with Nunjucks, which shares Jinja's basic syntax but not all of it.
A template whose body uses only the common subset is exported as its body; anything else is
rendered here for each row and handed over as a variable, so every prompt promptfoo sends is
exactly what the app would send.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

from playground.errors import TemplateError
from playground.prompts.collection import Collection
from playground.prompts.formats import LibraryError, dump_yaml
from playground.prompts.library import Library
from playground.prompts.templates import (
    HEADER_PATTERN,
    PromptTemplate,
    environment,
    render_template,
)

PROMPTFOO_PROVIDERS: tuple[Mapping[str, Any], ...] = (
    {"id": "openai:chat:local-model", "config": {"apiBaseUrl": "http://127.0.0.1:8080/v1"}},
)

_INCLUDE = re.compile(
    r"\{%(?P<left>-?)\s*include\s+(?P<q>[\"'])(?P<name>[^\"'\n]+)(?P=q)\s*(?P<right>-?)%\}"
)
_ROLE_MARKER = re.compile(
    r"\{\{-?\s*role\(\s*(?P<q>[\"'])(?P<role>system|user|assistant)(?P=q)\s*\)\s*-?\}\}"
)
_PORTABLE_FILTERS = frozenset({
    "abs", "capitalize", "d", "default", "first", "float", "int", "join", "last", "length",
    "lower", "replace", "reverse", "string", "title", "trim", "upper", "wordcount",
})
_PORTABLE_TESTS = frozenset({"defined", "undefined", "divisibleby", "even", "odd", "string",
                             "number"})
_PORTABLE_COMPARE = frozenset({"eq", "ne", "lt", "gt", "lteq", "gteq", "in", "notin"})
_PORTABLE_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.Getattr,
    nodes.If, nodes.CondExpr, nodes.For, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos,
    nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.Mod, nodes.Assign, nodes.AssignBlock,
    nodes.List, nodes.Dict, nodes.Pair, nodes.Compare, nodes.Operand, nodes.Getitem,
    nodes.Filter, nodes.Test,
)

_CONSTRUCTS = {
    "With": "{% with %}",
    "Slice": "a slice such as x[:2]",
    "Call": "a function or method call",
    "Include": "{% include %}",
    "Macro": "a macro",
    "CallBlock": "a call block",
    "Concat": "the ~ operator",
    "FilterBlock": "a filter block",
    "Scope": "a scoped block",
    "Tuple": "a tuple",
    "Block": "a block",
    "Extends": "{% extends %}",
}


def export_promptfoo(
    lib: Library,
    template_ids: Sequence[str],
    dataset_name: str,
    *,
    providers: Sequence[Mapping[str, Any]] = PROMPTFOO_PROVIDERS,
    threshold: float = 0.5,
) -> str:
    """A promptfoo config (YAML) running the chosen templates on one dataset, scored with
    ROUGE-N against each reference (promptfoo passes a test only when all its assertions pass).

    promptfoo renders prompts with Nunjucks, which shares Jinja's basic syntax but not all of
    it. A template whose body uses only the common subset is exported as its body (includes
    inlined); a chat template becomes Nunjucks that builds the JSON message list, each turn
    captured with ``{% set %}`` and written with ``| dump`` so any value stays valid JSON.
    Anything else (``{% with %}``, slices, turns built in a loop...) is rendered here for each
    row and handed to promptfoo as a variable, so every prompt sends exactly what the app
    would.
    """
    dataset = lib.dataset(dataset_name)
    if dataset is None:
        raise LibraryError(f"promptfoo export: there is no dataset {dataset_name!r}")
    templates = []
    for template_id in template_ids:
        template = lib.template(template_id)
        if template is None:
            raise LibraryError(f"promptfoo export: there is no template {template_id!r}")
        templates.append(template)
    if not templates:
        raise LibraryError("promptfoo export: choose at least one template")

    sources = lib.sources()
    prompts: list[dict[str, str]] = []
    notes: list[str] = []
    shared: dict[str, Any] = {}
    rendered: list[tuple[PromptTemplate, str]] = []
    used_vars: set[str] = set()
    for template in templates:
        raw, reason = _portable_prompt(template, sources)
        if raw is None:
            var = _unique_var("rendered_" + re.sub(r"\W", "_", template.id), used_vars)
            is_chat = template.meta.format == "chat"
            raw = _output(var + " | dump") if is_chat else _output(var)
            rendered.append((template, var))
            notes.append(f"{template.id}: rendered per test by Prompt Playground ({reason})")
        else:
            for variable in template.meta.variables:
                value = _variable_value(lib, template, variable.name)
                if value is not None:
                    shared.setdefault(variable.name, value)
        prompts.append({"label": template.id, "raw": raw})

    tests = []
    for index, row in enumerate(dataset.rows):
        values = {k: v for k, v in row.items() if k != "references"}
        test_vars = {**{k: v for k, v in shared.items() if k not in values}, **values}
        for template, var in rendered:
            test_vars[var] = _render_for_promptfoo(lib, template, values, sources, index)
        test: dict[str, Any] = {"description": f"{dataset.name} #{index + 1}", "vars": test_vars}
        references = row.get("references") or []
        if references:
            test["assert"] = [
                {"type": "rouge-n", "value": ref, "threshold": threshold} for ref in references
            ]
        tests.append(test)

    config = {
        "description": f"{lib.name}: {len(templates)} prompt(s) on the {dataset.name} dataset",
        "prompts": prompts,
        "providers": [_plain_mapping(p) for p in providers],
        "tests": tests,
    }
    comments = [
        f"promptfoo configuration exported by Prompt Playground from {lib.name!r}.",
        "Run it with: npx promptfoo@latest eval -c <this file>",
        *notes,
    ]
    header = "".join(f"# {' '.join(c.split())}\n" for c in comments)
    return header + dump_yaml(config)


def library_for_export(
    collection: Collection,
    template_ids: Sequence[str],
    dataset: str,
    *,
    library: str | None = None,
) -> Library:
    """The library to export from, with the dataset in it.

    The templates come from ``library`` when named, else from the library of the first one.
    The dataset may live in another library: ``library/name`` names it exactly; a bare name is
    this library's own, else the first of that name in the collection.
    """
    if library is not None:
        lib = next((x for x in collection.libraries if x.name == library), None)
        if lib is None:
            raise LibraryError(f"no library named {library!r}")
    elif template_ids:
        lib = collection.find(template_ids[0])[0]
    else:
        raise LibraryError("promptfoo export: choose at least one template")
    owner, _, data_name = dataset.rpartition("/")
    if owner:
        source = next((x for x in collection.libraries if x.name == owner), None)
        found = source.dataset(data_name) if source is not None else None
    else:
        found = lib.dataset(data_name) or next(
            (d for other in collection.libraries for d in other.datasets if d.name == data_name),
            None,
        )
    if found is None:
        raise LibraryError(f"promptfoo export: there is no dataset {dataset!r}")
    if lib.dataset(data_name) is found:
        return lib
    kept = tuple(d for d in lib.datasets if d.name != data_name)
    return dataclasses.replace(lib, datasets=(*kept, found))


def dataset_choices(library: Library, collection: Collection) -> list[tuple[str, str]]:
    """The datasets a template of ``library`` can be exported on, as (name for
    :func:`library_for_export`, task): the library's own first, then the others'."""
    return [(d.name, d.task) for d in library.datasets] + [
        (f"{other.name}/{d.name}", d.task)
        for other in collection.libraries if other is not library for d in other.datasets
    ]


def config_path(path: Path) -> Path:
    """promptfoo reads its configuration from YAML: a name without the suffix gets it."""
    if path.suffix.lower() in (".yaml", ".yml"):
        return path
    return path.with_name(path.name + ".yaml")


def _plain_mapping(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_mapping(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_mapping(v) for v in value]
    return value


def _unique_var(name: str, used: set[str]) -> str:
    while name in used:
        name += "_"
    used.add(name)
    return name


def _variable_value(lib: Library, template: PromptTemplate, name: str) -> Any:
    variable = template.variable(name)
    if variable is None:
        return None
    if variable.type == "examples":
        set_name = variable.default_set or template.meta.example_set
        example_set = lib.example_set(set_name) if set_name else None
        return [dict(e) for e in example_set.examples] if example_set else None
    return variable.default


def _render_for_promptfoo(
    lib: Library,
    template: PromptTemplate,
    values: Mapping[str, Any],
    sources: Mapping[str, str],
    index: int,
) -> Any:
    context = dict(values)
    for variable in template.meta.variables:
        if variable.name not in context and variable.type == "examples":
            examples = _variable_value(lib, template, variable.name)
            if examples is not None:
                context[variable.name] = examples
    try:
        result = render_template(template, context, library=sources)
    except TemplateError as exc:
        raise LibraryError(f"promptfoo export: row {index + 1}: {exc}") from exc
    if result.messages is not None:
        return [{"role": m.role, "content": m.content} for m in result.messages]
    return result.text


def _inline_includes(body: str, sources: Mapping[str, str], depth: int = 0) -> str | None:
    """Replace ``{% include "id" %}`` with the partial's body (promptfoo has no access to the
    library); None when an include cannot be resolved."""
    if depth > 10:
        return None
    failed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal failed
        name = match.group("name").removesuffix(".j2").removesuffix(".jinja")
        source = sources.get(name)
        if source is None:
            failed = True
            return match.group()
        header = HEADER_PATTERN.match(source)
        inner = _inline_includes(source[header.end():] if header else source, sources, depth + 1)
        if inner is None:
            failed = True
            return match.group()
        # Empty outputs on both sides keep whitespace control where it was: the partial's own
        # "-" cannot reach into the including template, nor the include's into the partial.
        left = '{{- "" }}' if match.group("left") else '{{ "" }}'
        right = '{{ "" -}}' if match.group("right") else '{{ "" }}'
        return left + inner + right

    result = _INCLUDE.sub(replace, body)
    return None if failed else result


def _portable_prompt(
    template: PromptTemplate, sources: Mapping[str, str]
) -> tuple[str | None, str]:
    """The promptfoo prompt for a template whose body Nunjucks can run, else (None, why)."""
    body = _inline_includes(template.body, sources)
    if body is None:
        return None, "it includes a template that cannot be inlined"
    if template.meta.format != "chat":
        reason = _nunjucks_problem(body)
        return (body, "") if reason is None else (None, reason)
    markers = list(_ROLE_MARKER.finditer(body))
    if not markers or body[: markers[0].start()].strip():
        return None, "its chat turns do not start with role(...)"
    try:
        ast = environment().parse(body)
    except jinja2.TemplateSyntaxError:
        return None, "its body does not compile"
    top_level = [
        node for output in ast.body if isinstance(output, nodes.Output) for node in output.nodes
    ]
    if sum(map(_is_role_call, ast.find_all(nodes.Call))) != sum(map(_is_role_call, top_level)):
        return None, "its chat turns are built in a loop, a condition or a block"
    if sum(map(_is_role_call, top_level)) != len(markers):
        return None, "its role(...) markers could not be told apart"
    turns = []
    for number, marker in enumerate(markers):
        end = markers[number + 1].start() if number + 1 < len(markers) else len(body)
        piece = body[marker.end():end]
        reason = _nunjucks_problem(piece)
        if reason is not None:
            return None, reason
        turns.append((marker.group("role"), piece))
    captured = "".join(
        f"{{% set pp_turn_{n} %}}{piece}{{% endset %}}" for n, (_, piece) in enumerate(turns)
    )
    messages = ", ".join(
        f'{{"role": "{role}", "content": {_output(f"pp_turn_{n} | trim | dump")}}}'
        for n, (role, _) in enumerate(turns)
    )
    return f"{captured}[{messages}]", ""


def _is_role_call(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "role"
    )


def _nunjucks_problem(body: str) -> str | None:
    """Why Nunjucks could not run this Jinja, or None. Conservative: a construct missing here
    only means the prompt is rendered by the app instead."""
    try:
        ast = environment().parse(body)
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno} does not compile"
    stack: list[nodes.Node] = [ast]
    while stack:
        node = stack.pop()
        if not isinstance(node, _PORTABLE_NODES):
            construct = _CONSTRUCTS.get(type(node).__name__, type(node).__name__)
            return f"it uses {construct}, which promptfoo's Nunjucks may not run the same way"
        if isinstance(node, nodes.Filter) and (
            node.name not in _PORTABLE_FILTERS or node.kwargs or node.dyn_args or node.dyn_kwargs
        ):
            return f"it uses the filter {node.name!r} in a way Nunjucks may not support"
        if isinstance(node, nodes.Test) and node.name not in _PORTABLE_TESTS:
            return f"it uses the test {node.name!r}"
        if isinstance(node, nodes.Operand) and node.op not in _PORTABLE_COMPARE:
            return f"it uses the comparison {node.op!r}"
        if isinstance(node, nodes.For) and (node.recursive or node.test is not None):
            return "it uses a filtered or recursive loop"
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            return "it indexes with an expression"
        if isinstance(node, nodes.Name) and node.name == "role":
            return "it calls role() inside a turn"
        stack.extend(node.iter_child_nodes())
    return None


def _output(expression: str) -> str:
    return "{{ " + expression + " }}"
