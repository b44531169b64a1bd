"""Dataset files: every format, reference detection, and a clear message for each bad file."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest

from playground.comparison import ComparisonError, Input
from playground.prompts.datasets import (
    MAX_DATASET_BYTES,
    MAX_DATASET_ROWS,
    DatasetError,
    LoadedDataset,
    dataset_from_library,
    load_dataset,
)
from playground.prompts.library import Dataset, load_builtin_library


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def write_jsonl(tmp_path: Path, name: str, rows: list[Any]) -> Path:
    return write(tmp_path, name, "".join(json.dumps(r) + "\n" for r in rows))


def refused(path: Path, **kwargs: Any) -> str:
    with pytest.raises(DatasetError) as info:
        load_dataset(path, **kwargs)
    message = str(info.value)
    assert message.startswith(path.name + ": "), message
    return message


# -- formats ----------------------------------------------------------------------------------


def test_csv_with_one_reference_column(tmp_path: Path) -> None:
    path = write(tmp_path, "reviews.csv", "review,reference\nGreat soup,positive\nCold,negative\n")
    loaded = load_dataset(path)
    assert isinstance(loaded, LoadedDataset)
    assert loaded.name == "reviews"
    assert loaded.columns == ("review", "reference")
    assert loaded.reference_columns == ("reference",)
    assert loaded.input_columns == ("review",)
    assert loaded.rows == (
        {"review": "Great soup", "references": ["positive"]},
        {"review": "Cold", "references": ["negative"]},
    )
    assert loaded.inputs == (
        Input("reviews-1", {"review": "Great soup"}, ("positive",)),
        Input("reviews-2", {"review": "Cold"}, ("negative",)),
    )
    assert loaded.warnings == ()


def test_csv_with_several_reference_columns_skips_empty_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "qa.csv",
        "question,reference_1,reference_2,reference_3\n"
        "Capital of France?,Paris,It is Paris.,\n"
        "Two plus two?,4,,four\n",
    )
    loaded = load_dataset(path)
    assert loaded.reference_columns == ("reference_1", "reference_2", "reference_3")
    assert [i.references for i in loaded.inputs] == [("Paris", "It is Paris."), ("4", "four")]
    assert [dict(i.values) for i in loaded.inputs] == [
        {"question": "Capital of France?"},
        {"question": "Two plus two?"},
    ]
    assert loaded.warnings == ()


def test_csv_references_cell_holding_a_json_list(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "qa.csv",
        'question,references\n'
        '"Where?","[""At Lake Dorren."", ""Lake Dorren""]"\n'
        'When?,[citation needed] at noon\n'
        'Who?,[]\n',
    )
    loaded = load_dataset(path)
    assert [i.references for i in loaded.inputs] == [
        ("At Lake Dorren.", "Lake Dorren"),
        ("[citation needed] at noon",),
        (),
    ]
    assert len(loaded.warnings) == 1
    assert "1 row (3) has no reference" in loaded.warnings[0]


def test_csv_references_cell_that_is_almost_a_json_list_is_one_reference(tmp_path: Path) -> None:
    path = write(tmp_path, "qa.csv", 'question,references\nWhere?,"[""a"", ""b]"\n')
    loaded = load_dataset(path)
    assert loaded.inputs[0].references == ('["a", "b]',)
    assert "row 1 (line 2), column 'references'" in loaded.warnings[0]
    assert "not valid JSON" in loaded.warnings[0]


def test_csv_values_stay_strings(tmp_path: Path) -> None:
    path = write(tmp_path, "codes.csv", "code,price,expected\n007,1.10,42\n")
    loaded = load_dataset(path)
    assert loaded.rows[0] == {"code": "007", "price": "1.10", "references": ["42"]}


def test_csv_quoted_multiline_values_and_crlf(tmp_path: Path) -> None:
    path = write(
        tmp_path, "d.csv", 'dialogue,target\r\n"A: hi\r\nB: hello, you",Greeting.\r\n'
    )
    loaded = load_dataset(path)
    assert loaded.rows[0] == {"dialogue": "A: hi\r\nB: hello, you", "references": ["Greeting."]}


def test_csv_blank_lines_and_trailing_empty_columns_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,answer,,\n\nx,1,,\n,,,\ny,2\n\n")
    loaded = load_dataset(path)
    assert loaded.columns == ("text", "answer")
    assert [i.id for i in loaded.inputs] == ["d-1", "d-2"]
    assert [i.references for i in loaded.inputs] == [("1",), ("2",)]


def test_csv_short_rows_are_padded_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,context,answer\nx,c,1\ny\n")
    loaded = load_dataset(path)
    assert loaded.rows[1] == {"text": "y", "context": "", "references": []}
    assert any("1 row (2) has fewer fields than the header's 3" in w for w in loaded.warnings)
    assert any("1 row (2) has no reference" in w for w in loaded.warnings)


def test_tsv(tmp_path: Path) -> None:
    path = write(
        tmp_path, "pairs.tsv", "text\ttarget_language\texpected\nHello, world\tFrench\tBonjour\n"
    )
    loaded = load_dataset(path)
    assert loaded.rows == (
        {"text": "Hello, world", "target_language": "French", "references": ["Bonjour"]},
    )


def test_jsonl_with_blank_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "qa.jsonl",
        '\n{"question": "Where?", "references": ["Here", "Right here"]}\n'
        "   \n\n"
        '{"question": "When?", "references": "Now"}\r\n\n',
    )
    loaded = load_dataset(path)
    assert [i.id for i in loaded.inputs] == ["qa-1", "qa-2"]
    assert [i.references for i in loaded.inputs] == [("Here", "Right here"), ("Now",)]
    assert loaded.warnings == ()


def test_jsonl_keeps_non_string_inputs_and_stringifies_references(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path,
        "math.jsonl",
        [{"a": 2, "b": 2.5, "flag": True, "tags": ["x"], "answer": 4.5},
         {"a": 1, "b": None, "flag": False, "tags": [], "answer": [1, "one", None]}],
    )
    loaded = load_dataset(path)
    assert loaded.rows[0] == {"a": 2, "b": 2.5, "flag": True, "tags": ["x"], "references": ["4.5"]}
    assert loaded.inputs[1].references == ("1", "one")
    assert loaded.inputs[1].values["b"] is None


def test_jsonl_line_separator_inside_a_string_is_not_a_new_line(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"text": "a\u2028b", "answer": "c"}\n')
    assert load_dataset(path).rows[0]["text"] == "a\u2028b"


def test_jsonl_rows_missing_a_column_are_warned_about(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path, "d.jsonl", [{"text": "x", "lang": "fr", "answer": "y"}, {"text": "z"}]
    )
    loaded = load_dataset(path)
    assert loaded.rows[1] == {"text": "z", "references": []}
    assert any("1 row (2) has no 'lang' value" in w for w in loaded.warnings)
    assert any("1 row (2) has no reference" in w for w in loaded.warnings)


def test_json_list_of_objects(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "d.json",
        json.dumps([{"text": "x", "references": ["a", "b"]}, {"text": "y", "references": []}]),
    )
    loaded = load_dataset(path)
    assert [i.references for i in loaded.inputs] == [("a", "b"), ()]
    assert loaded.reference_columns == ("references",)


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    path = write(tmp_path, "D.CSV", "text,answer\nx,y\n")
    assert load_dataset(path).inputs[0].id == "D-1"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(codecs.BOM_UTF8 + "text,answer\ncafé,oui\n".encode())
    loaded = load_dataset(path)
    assert loaded.columns == ("text", "answer")
    assert loaded.rows[0] == {"text": "café", "references": ["oui"]}


def test_utf8_bom_is_accepted_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + b'{"text": "x", "answer": "y"}\n')
    assert load_dataset(path).rows[0] == {"text": "x", "references": ["y"]}


# -- reference columns ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    ["references", "reference", "Reference", "reference_1", "ref", "ref1", "ref_2", "target",
     "expected", "expected_output", "answer", "output"],
)
def test_reference_column_names_are_detected(tmp_path: Path, column: str) -> None:
    path = write(tmp_path, "d.csv", f"text,{column}\nx,y\n")
    loaded = load_dataset(path)
    assert loaded.reference_columns == (column,)
    assert loaded.rows[0] == {"text": "x", "references": ["y"]}


def test_preferred_reference_columns_win_and_others_stay_inputs(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "question,output,expected\nq,draft,truth\n")
    loaded = load_dataset(path)
    assert loaded.reference_columns == ("expected",)
    assert loaded.rows[0] == {"question": "q", "output": "draft", "references": ["truth"]}
    assert len(loaded.warnings) == 1
    assert "'output' also looks like a reference column" in loaded.warnings[0]


def test_no_reference_column_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "prompts.csv", "topic,style\ncats,haiku\n")
    loaded = load_dataset(path)
    assert loaded.reference_columns == ()
    assert loaded.rows[0] == {"topic": "cats", "style": "haiku", "references": []}
    assert len(loaded.warnings) == 1
    assert loaded.warnings[0].startswith("prompts.csv: no reference column found")
    assert "N/A" in loaded.warnings[0]


def test_rows_with_all_reference_cells_empty_are_counted(tmp_path: Path) -> None:
    lines = ["text,ref1,ref2"] + [f"t{n},{'' if n % 2 else 'a'},  " for n in range(1, 26)]
    path = write(tmp_path, "d.csv", "\n".join(lines) + "\n")
    loaded = load_dataset(path)
    (warning,) = loaded.warnings
    assert warning.startswith("d.csv: 13 rows (1, 3, 5, 7, 9, 11, 13, 15, 17, 19 and 3 more)")
    assert "no reference" in warning
    assert "N/A" in warning


def test_explicit_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "d.csv",
        "id,question,answer,gold,alt\n1,Where?,draft,Paris,It is Paris\n",
    )
    loaded = load_dataset(
        path, input_columns=["question", "answer"], reference_columns=["gold", "alt"]
    )
    assert loaded.reference_columns == ("gold", "alt")
    assert loaded.rows == ({"question": "Where?", "answer": "draft",
                            "references": ["Paris", "It is Paris"]},)
    assert loaded.columns == ("id", "question", "answer", "gold", "alt")
    assert loaded.warnings == ()


def test_explicit_input_columns_only_detects_references_among_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "question,answer,expected,notes\nq,a,e,n\n")
    loaded = load_dataset(path, input_columns=["question", "answer"])
    assert loaded.reference_columns == ("expected",)
    assert loaded.rows[0] == {"question": "q", "answer": "a", "references": ["e"]}


def test_explicit_empty_reference_columns_means_no_references_and_no_warning(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "d.csv", "question,answer\nq,a\n")
    loaded = load_dataset(path, reference_columns=[])
    assert loaded.rows[0] == {"question": "q", "answer": "a", "references": []}
    assert loaded.warnings == ()


def test_a_column_cannot_be_both_input_and_reference(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "question,answer\nq,a\n")
    message = refused(path, input_columns=["question", "answer"], reference_columns=["answer"])
    assert "'answer' cannot be both an input and a reference column" in message


def test_references_cannot_be_an_input_column(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "question,references,gold\nq,a,g\n")
    message = refused(path, reference_columns=["gold"])
    assert "'references' cannot be an input" in message


# -- errors -----------------------------------------------------------------------------------


def test_missing_input_column_lists_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "question,answer\nq,a\n")
    message = refused(path, input_columns=["Question"])
    assert "input column 'Question' not found" in message
    assert "did you mean 'question'?" in message
    assert "the file has the columns 'question', 'answer'" in message


def test_missing_reference_column_lists_the_columns(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, "d.jsonl", [{"question": "q"}, {"question": "r", "gold": "g"}])
    message = refused(path, reference_columns=["truth"])
    assert "reference column 'truth' not found" in message
    assert "'question', 'gold'" in message


def test_latin1_file_is_rejected_with_the_encoding_message(tmp_path: Path) -> None:
    path = write(tmp_path, "legacy.csv", "text,answer\nok,yes\ncafé,oui\n", encoding="latin-1")
    message = refused(path)
    assert "not UTF-8" in message
    assert "byte 0xE9 on line 3" in message
    assert "re-save it as UTF-8" in message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_detected(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, "unicode.csv", "text,answer\ncafé,oui\n", encoding=encoding)
    message = refused(path)
    assert "UTF-16" in message
    assert "re-save it as UTF-8" in message


def test_utf32_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"text": "x"}\n', encoding="utf-32")
    assert "UTF-32" in refused(path)


def test_excel_workbook_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 10)
    assert "Excel workbook" in refused(path)


@pytest.mark.parametrize("name", ["d.csv", "d.tsv", "d.jsonl", "d.json"])
@pytest.mark.parametrize("text", ["", "\n\n", "  \r\n"])
def test_empty_file(tmp_path: Path, name: str, text: str) -> None:
    assert refused(write(tmp_path, name, text)) == f"{name}: the file is empty"


def test_bom_only_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(codecs.BOM_UTF8)
    assert refused(path) == "d.csv: the file is empty"


@pytest.mark.parametrize("text", ["text,answer\n", "text,answer\n\n,\n"])
def test_header_only(tmp_path: Path, text: str) -> None:
    message = refused(write(tmp_path, "d.csv", text))
    assert message == "d.csv: the file has a header ('text', 'answer') but no rows"


def test_json_empty_list_has_no_rows(tmp_path: Path) -> None:
    assert refused(write(tmp_path, "d.json", "[]")) == "d.json: the file has no rows"


def test_jsonl_invalid_line(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"text": "x"}\n\n{"text": "y",}\n')
    message = refused(path)
    assert message.startswith("d.jsonl: line 3: not valid JSON")
    assert "column" in message


@pytest.mark.parametrize(("line", "kind"), [('["x"]', "a list"), ('"x"', "a string"),
                                            ("3", "a number"), ("null", "null")])
def test_jsonl_line_not_an_object(tmp_path: Path, line: str, kind: str) -> None:
    path = write(tmp_path, "d.jsonl", '{"text": "x"}\n' + line + "\n")
    assert refused(path).startswith(f"d.jsonl: line 2 is {kind}, not an object")


def test_jsonl_duplicate_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"text": "x", "text": "y"}\n')
    assert refused(path) == "d.jsonl: line 1: duplicate key 'text' in an object"


def test_jsonl_nan_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"text": NaN}\n')
    assert "NaN is not allowed" in refused(path)


def test_json_not_a_list(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "d.json", '{"rows": []}'))
    assert "the file holds an object; a .json dataset must be a list of objects" in message


def test_json_item_not_an_object(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "d.json", '[{"text": "x"}, "y"]'))
    assert message == "d.json: item 2 of the list is a string, not an object"


def test_json_invalid(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "d.json", '[\n  {"text": "x"},\n  {"text" "y"}\n]'))
    assert message.startswith("d.json: not valid JSON")
    assert "line 3" in message


def test_json_nested_reference_is_refused(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, "d.jsonl", [{"text": "x", "answer": {"a": 1}}])
    message = refused(path)
    assert "line 1, column 'answer': a reference must be text, got an object" in message


def test_csv_row_with_more_fields_than_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,answer\nx,y\n\nHello, world,Bonjour\n")
    message = refused(path)
    assert message.startswith(
        "d.csv: row 2 (line 4) has 3 fields but the header has 2 columns ('text', 'answer')"
    )
    assert "quote values that contain a comma" in message


def test_csv_extra_empty_fields_are_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,answer\nx,y,,\n")
    assert load_dataset(path).rows[0] == {"text": "x", "references": ["y"]}


def test_csv_duplicate_column_names(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text, answer,text,answer,lang\nx,y,z,w,fr\n")
    message = refused(path)
    assert message.startswith("d.csv: the header has duplicate column names ('text', 'answer')")


def test_csv_unnamed_column(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text,,answer\nx,y,z\n")
    assert "column 2 of the header has no name" in refused(path)


def test_csv_bad_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", 'text,answer\nx,y\n"unterminated,z\n')
    message = refused(path)
    assert message.startswith("d.csv: line 3:")
    assert "check the quotes" in message


def test_semicolon_csv_is_warned_about(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "text;answer\nx;y\n")
    loaded = load_dataset(path)
    assert any("single column 'text;answer'" in w for w in loaded.warnings)


def test_nul_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"text,answer\nx\x00,y\n" + b"a,b\n" * 200)
    assert "line 2 contains a NUL character" in refused(path)


def test_unsupported_suffix(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "d.xlsx", "x"))
    assert "unsupported file type '.xlsx'" in message
    assert ".csv, .tsv, .jsonl or .json" in message


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read the file" in refused(tmp_path / "absent.csv")


def test_file_too_large(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", "text,answer\n" + "x,y\n" * 100)
    message = refused(path, max_bytes=100)
    assert "the file is 412 bytes, larger than the 100 bytes limit" in message
    assert MAX_DATASET_BYTES == 64 * 1024 * 1024
    big = tmp_path / "huge.jsonl"
    with big.open("wb") as handle:
        handle.truncate(MAX_DATASET_BYTES + 1)  # sparse: the size is refused before reading
    assert "larger than the 64 MiB limit" in refused(big)


@pytest.mark.parametrize("name", ["d.csv", "d.tsv", "d.jsonl", "d.json"])
def test_too_many_rows(tmp_path: Path, name: str) -> None:
    rows = [{"text": str(n), "answer": "y"} for n in range(6)]
    if name.endswith(".json"):
        text = json.dumps(rows)
    elif name.endswith(".jsonl"):
        text = "".join(json.dumps(r) + "\n" for r in rows)
    else:
        sep = "\t" if name.endswith(".tsv") else ","
        text = f"text{sep}answer\n" + "".join(f"{r['text']}{sep}y\n" for r in rows)
    path = write(tmp_path, name, text)
    assert len(load_dataset(path, max_rows=6).inputs) == 6
    assert refused(path, max_rows=5) == (
        f"{name}: the file has more than 5 rows, the limit for a dataset; split it"
    )
    assert MAX_DATASET_ROWS == 100_000


def test_dataset_error_is_a_comparison_error() -> None:
    assert issubclass(DatasetError, ComparisonError)


# -- library datasets -------------------------------------------------------------------------


def test_every_builtin_dataset_converts() -> None:
    datasets = load_builtin_library().datasets
    assert datasets
    for dataset in datasets:
        loaded = dataset_from_library(dataset)
        assert loaded.name == dataset.name
        assert len(loaded.inputs) >= 8, dataset.name
        assert all(i.references for i in loaded.inputs), dataset.name
        assert all(i.values for i in loaded.inputs), dataset.name
        assert loaded.warnings == (), dataset.name
        assert loaded.reference_columns == ("references",)
        assert loaded.inputs[0].id == f"{dataset.name}-1"
        assert len({i.id for i in loaded.inputs}) == len(loaded.inputs)


def test_builtin_dataset_files_load_the_same_way() -> None:
    builtin = {d.name: dataset_from_library(d) for d in load_builtin_library().datasets}
    folder = Path(__file__).resolve().parents[3] / "templates" / "datasets"
    for path in sorted(folder.glob("*.jsonl")):
        loaded = load_dataset(path)
        assert loaded.inputs == builtin[path.stem].inputs, path.name
        assert loaded.warnings == ()


def test_library_dataset_without_references_is_warned_about() -> None:
    rows = ({"q": "a", "references": ["x"]}, {"q": "b", "references": []})
    dataset = Dataset("mixed", "qa", rows)
    loaded = dataset_from_library(dataset)
    assert loaded.columns == ("q", "references")
    assert loaded.input_columns == ("q",)
    assert loaded.inputs[1] == Input("mixed-2", {"q": "b"}, ())
    assert loaded.warnings == ("mixed: 1 row (2) has no reference (all reference cells are "
                               "empty); their reference-based scores will be N/A",)
    assert dataset.rows[1]["references"] == []  # the library's rows are not shared or changed
    assert loaded.rows[1] is not dataset.rows[1]
