"""Libraries and documents the prompt-library tests share: text that some YAML reader takes
for something else, and a library holding all of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from playground.prompts.formats import SCHEMA, LibraryError, LibraryFormat
from playground.prompts.library import (
    BUILTIN_PRESETS,
    Dataset,
    ExampleSet,
    Library,
    Preset,
    import_library,
)
from playground.prompts.templates import PromptTemplate, parse_template

FORMATS: tuple[LibraryFormat, ...] = ("json", "yaml")

# Every one of these is read as something other than text by some YAML reader, or needs
# quoting or escaping to survive at all.
AWKWARD = [
    "NO", "no", "No", "yes", "Yes", "on", "OFF", "y", "n", "true", "True", "false",
    "1.10", "12:30", "0x1F", "0o17", "1e3", "1_000", "-1", "+1", ".5", "2001-12-14",
    "~", "null", "Null", ".inf", "-.inf", ".nan", "=", "<<",
    "", " ", "  leading spaces", "trailing spaces  ", "\tleading tab", "trailing tab\t",
    "multi\nline\n", "lines with trailing spaces  \nsecond  \n", "  indented\n  block\n",
    "\n\nleading breaks", "trailing breaks\n\n\n", "no final break\nhere",
    "tabs\n\tinside\n\t\tlines\n", "\t\tstarts with tabs\nthen more\n",
    "unicode é ü ß 中文 ✓", "emoji 😀👍🏽 and a flag 🇫🇷", "quote \" and ' and # and : colon",
    "key: value", "# not a comment", "- not a list item", "[not, a, list]", "{not: a map}",
    "&anchor", "*alias", "!tag", "%directive", "@at", "`backtick", "|pipe", ">fold", "? key",
    "windows\r\nline", "line\u2028separator", "next\x85line", "bom\ufeffinside",
    "bell\x07char", "nbsp\xa0here", "back\\slash", "{{ not jinja here }}",
]


def library_doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "version": 1,
        "name": "Test",
        "description": "",
        "templates": [],
        "example_sets": [],
        "presets": [],
        "datasets": [],
    }
    doc.update(overrides)
    return doc


def library_json(**overrides: Any) -> str:
    return json.dumps(library_doc(**overrides))


def make_template(
    template_id: str, body: str = "Hello {{ name }}\n", **header: Any
) -> PromptTemplate:
    if header:
        source = "{#---\n" + yaml.safe_dump(header, sort_keys=False) + "---#}\n" + body
    else:
        source = body
    return parse_template(source, template_id)


def awkward_library() -> Library:
    template_body = "".join(
        f"{{# {i} #}}{text}\n" for i, text in enumerate(AWKWARD) if "{{" not in text
    ) + "{{ name }}\n"
    return Library(
        name="Awkward: NO, 1.10 & 12:30 😀",
        description="\n".join(AWKWARD),
        templates=(
            make_template("awkward", template_body, name="NO", description="1.10", task="12:30"),
            make_template("1.10", "no header at all: {{ x }}"),
            make_template("NO", "\tindented with a tab\n\t{{ x }}\n"),
            make_template("_partial", "partial  \n"),
            make_template("readable", "Say {{ x }}\nplease.\n", name="Readable"),
        ),
        example_sets=(
            ExampleSet(
                "yes",
                "~",
                tuple(
                    {"input": text, "output": text[::-1], "rationale": text}
                    if i % 2
                    else {"input": text, "output": ""}
                    for i, text in enumerate(AWKWARD)
                ),
            ),
        ),
        presets=(
            *BUILTIN_PRESETS,
            Preset("on", {"temperature": 0.25, "stop": ["NO", "\n\n", "12:30"], "seed": 42}),
            Preset("1e3", {"max_tokens": 1000, "top_k": 0, "repeat_penalty": 1.0e-05}),
        ),
        datasets=(
            Dataset(
                "null",
                "0x1F",
                (
                    *({"text": text, "yes": "no", "references": [text, "NO"]} for text in AWKWARD),
                    {"text": "no references", "references": []},
                ),
            ),
        ),
    )


def refused(text: str | bytes, fmt: LibraryFormat | None = None) -> LibraryError:
    with pytest.raises(LibraryError) as info:
        import_library(text, fmt)
    return info.value

