"""Templates of simonw/llm (its YAML files) converted into ours.

llm substitutes ``$var`` with Python's ``string.Template``; ours are Jinja. The conversion keeps
what a template sends: the same text for the same values, its system prompt as a chat turn,
and the settings we have an equivalent for. Whatever cannot be carried over (a hosted model's
name, code extraction, tools...) is named in the warnings rather than dropped in silence.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
import jinja2.meta

from playground.errors import PlaygroundError, SamplingError
from playground.prompts.formats import (
    LibraryError,
    decode,
    describe,
    dump_yaml,
    expected_text,
    parse_document,
    short,
)
from playground.prompts.library import TEMPLATE_ID
from playground.prompts.templates import PromptTemplate, environment, parse_template
from playground.sampling import SamplingParams

_LLM_OPTIONS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "max_tokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "num_predict": "max_tokens",
    "seed": "seed",
    "stop": "stop",
    "stop_sequences": "stop",
    "repeat_penalty": "repeat_penalty",
    "repetition_penalty": "repeat_penalty",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
_LLM_UNSUPPORTED = {
    "extract": "extracting the first fenced code block is not supported; the whole reply is kept",
    "extract_last": "extracting the last fenced code block is not supported; the whole reply "
    "is kept",
    "schema_object": "structured output schemas are not supported",
    "fragments": "fragments are not supported",
    "system_fragments": "system fragments are not supported",
    "attachments": "attachments are not supported",
    "attachment_types": "attachments are not supported",
    "tools": "tools are not supported",
    "functions": "tool functions are not supported",
}
_JINJA_RESERVED = frozenset({
    "and", "or", "not", "in", "is", "if", "else", "elif", "endif", "for", "endfor", "true",
    "false", "none", "True", "False", "None", "loop", "self", "caller", "varargs", "kwargs",
    "role", "block", "macro", "import", "include", "extends", "with", "set", "raw", "recursive",
    "super",
})
_LLM_INPUT_HELP = "The main input: what llm reads from standard input or the prompt argument."


@dataclass(frozen=True)
class LlmImport:
    """An llm template converted to ours, with what could not be carried over."""

    template: PromptTemplate
    warnings: tuple[str, ...]


def import_llm_template(text: str, name: str) -> LlmImport:
    """Convert an llm YAML template (``prompt``, ``system``, ``defaults``, ``options``...).

    ``$var``/``${var}`` become Jinja variables and ``$$`` a literal ``$``; any literal ``{{``,
    ``{%`` or ``{#`` is escaped so it still renders as written. Like llm, a prompt that does not
    use ``$input`` gets the input appended on a new line, and a system-only template sends the
    input as the user turn.
    """
    where = f"llm template {name!r}"
    loaded = _llm_document(text, where)
    prompt = _llm_text(loaded, "prompt", where)
    system = _llm_text(loaded, "system", where)
    if not prompt and not system:
        raise LibraryError(f"{where}: has neither 'prompt' nor 'system' text")
    names = _Names()
    body, appended_input = _body(prompt, system, names)
    header: dict[str, Any] = {
        "name": name,
        "description": "Imported from an llm template.",
        "format": "chat" if system else "text",
        "variables": _variables(loaded.get("defaults"), names, appended_input),
    }
    params = _llm_params(loaded.get("options"), names.warnings)
    if params:
        header["params"] = params
    _ignored_keys(loaded, names.warnings)
    source = "{#---\n" + dump_yaml(header, header=True) + "---#}\n" + body
    try:
        template = parse_template(source, _template_id(name))
    except PlaygroundError as exc:
        raise LibraryError(f"{where}: the converted template is not valid: {exc}") from exc
    return LlmImport(template, tuple(names.warnings))


@dataclass
class _Names:
    """llm's variable names mapped to Jinja ones (renamed where Jinja gives the name a meaning),
    in the order the template first uses them, and the notes made along the way."""

    jinja: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def name(self, original: str) -> str:
        if original in self.jinja:
            return self.jinja[original]
        candidate = original
        taken = set(self.jinja.values())
        while not _usable_jinja_name(candidate) or candidate in taken:
            candidate += "_"
        if candidate != original:
            self.warnings.append(
                f"${original} is renamed {candidate}: {original!r} has a meaning in Jinja"
            )
        self.jinja[original] = candidate
        self.order.append(original)
        return candidate


def _llm_document(text: str, where: str) -> dict[str, Any]:
    loaded = parse_document(decode(text, where), "yaml", where)
    if isinstance(loaded, str):
        return {"prompt": loaded}
    if not isinstance(loaded, dict):
        raise LibraryError(f"{where}: expected a mapping with 'prompt' or 'system', "
                           f"got {describe(loaded)}")
    return loaded


def _body(prompt: str, system: str, names: _Names) -> tuple[str, bool]:
    """The Jinja body, and whether the input was appended to a prompt that did not use it."""
    system_body = _llm_to_jinja(system, names) if system else ""
    prompt_body = _llm_to_jinja(prompt, names) if prompt else ""
    appended_input = False
    if not prompt:
        prompt_body = _output(names.name("input"))
    elif "input" not in names.jinja:
        input_var = names.name("input")
        prompt_body += "{% if " + input_var + " %}\n" + _output(input_var) + "{% endif %}"
        appended_input = True
    if not system:
        return prompt_body, appended_input
    turns = '{{ role("system") }}\n' + system_body + '\n{{ role("user") }}\n' + prompt_body
    return turns, appended_input


def _variables(
    defaults: Any, names: _Names, appended_input: bool
) -> dict[str, dict[str, Any]]:
    defaults = defaults or {}
    if not isinstance(defaults, dict):
        names.warnings.append(f"'defaults' is {describe(defaults)}, not a mapping; ignored")
        defaults = {}
    variables: dict[str, dict[str, Any]] = {}
    for original in names.order:
        spec: dict[str, Any] = {"type": "text"}
        if original in defaults:
            default = defaults[original]
            if isinstance(default, (dict, list)):
                names.warnings.append(f"default for ${original} is {describe(default)}; ignored")
            else:
                spec["default"] = str(default)
        elif original == "input" and appended_input:
            spec["default"] = ""
        if original == "input":
            spec["help"] = _LLM_INPUT_HELP
        variables[names.jinja[original]] = spec
    for unused in defaults:
        if unused not in names.jinja:
            names.warnings.append(f"default for ${unused} is not used by the template; ignored")
    return variables


def _ignored_keys(loaded: Mapping[str, Any], warnings: list[str]) -> None:
    for key, value in loaded.items():
        if key in ("prompt", "system", "defaults", "options", "name"):
            continue
        if value in (None, False, "", [], {}):
            continue
        if key == "model":
            warnings.append(f"model {short(value)} is not used: choose a local model instead")
        elif key in _LLM_UNSUPPORTED:
            warnings.append(f"{key}: {_LLM_UNSUPPORTED[key]}; ignored")
        else:
            warnings.append(f"unknown key {short(key)}; ignored")


def _template_id(name: str) -> str:
    template_id = re.sub(r"[^\w.-]+", "-", name).strip("-.") or "llm-template"
    return template_id if TEMPLATE_ID.match(template_id) else "llm-template"


def _output(expression: str) -> str:
    return "{{ " + expression + " }}"


def _llm_text(loaded: Mapping[str, Any], key: str, where: str) -> str:
    value = loaded.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LibraryError(f"{where}: {key!r}: {expected_text(value)}")
    return value


def _escape_jinja_literal(text: str) -> str:
    # A "{" that opens a Jinja delimiter, or that the next {{ variable }} would join into one.
    return re.sub(r"\{(?=[{%#]|\Z)", "{{ '{' }}", text)


def _llm_to_jinja(text: str, names: _Names) -> str:
    out: list[str] = []
    literal: list[str] = []
    position = 0
    for match in string.Template.pattern.finditer(text):
        literal.append(text[position:match.start()])
        position = match.end()
        if match.group("escaped") is not None:
            literal.append("$")
        elif match.group("invalid") is not None:
            literal.append("$")
            line = text.count("\n", 0, match.start()) + 1
            names.warnings.append(
                f"line {line}: a '$' not followed by a variable name is kept as '$'"
            )
        else:
            var = match.group("named") or match.group("braced")
            out.append(_escape_jinja_literal("".join(literal)))
            literal = []
            out.append(_output(names.name(var)))
    literal.append(text[position:])
    out.append(_escape_jinja_literal("".join(literal)))
    return "".join(out)


def _usable_jinja_name(name: str) -> bool:
    if name in _JINJA_RESERVED:
        return False
    try:
        ast = environment().parse(_output(name))
    except jinja2.TemplateSyntaxError:
        return False
    return jinja2.meta.find_undeclared_variables(ast) == {name}


def _llm_params(options: Any, warnings: list[str]) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict):
        warnings.append(f"'options' is {describe(options)}, not a mapping; ignored")
        return {}
    params: dict[str, Any] = {}
    for key, value in options.items():
        target = _LLM_OPTIONS.get(key)
        if target is None:
            warnings.append(f"option {short(key)} has no equivalent here; ignored")
            continue
        if target in params:
            warnings.append(f"option {short(key)} repeats {target}; ignored")
            continue
        try:
            SamplingParams.from_dict({target: value})
        except SamplingError as exc:
            warnings.append(f"option {short(key)}: {exc}; ignored")
            continue
        params[target] = value
    return params

