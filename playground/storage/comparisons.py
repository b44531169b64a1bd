"""Comparisons as stored: the spec, its variants and inputs, the templates and models they used.

A comparison is saved whole before its first run, with the template sources and the spec as
JSON copied in, so it can be listed, resumed or re-run after the library or the model files
have changed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from hashlib import sha256
from typing import Any, Literal

from sqlite_utils import Database

from playground.comparison import ComparisonSpec, Input, Variant, content_hash
from playground.errors import PlaygroundError
from playground.output_constraint import OutputConstraint
from playground.sampling import SamplingParams
from playground.storage.database import (
    Connection,
    StorageError,
    fetch_all,
    from_json,
    inserted_id,
    page,
    to_json,
    utc_now,
)
from playground.wording import COMPARISON_KINDS, ComparisonKind, comparison_label

ComparisonStatus = Literal["running", "done", "cancelled", "failed"]
COMPARISON_STATUSES: tuple[ComparisonStatus, ...] = ("running", "done", "cancelled", "failed")

#: Bumped when the layout of ``comparisons.spec_json`` changes.
SPEC_FORMAT = 1


# -- rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantRow:
    id: int
    comparison_id: int
    position: int
    name: str
    template_hash: str
    template_id: str
    template_source: str
    params: dict[str, Any]
    model: str
    values: dict[str, Any]
    chat: bool
    key: str


@dataclass(frozen=True)
class InputRow:
    id: int
    comparison_id: int
    position: int
    input_key: str
    values: dict[str, Any]
    references: tuple[str, ...]


@dataclass(frozen=True)
class ComparisonRow:
    """A stored comparison with how far it got: ``run_count`` of ``expected_runs`` are saved."""

    id: int
    name: str
    created_at: str
    status: str
    samples: int
    metrics: tuple[str, ...]
    language: str | None
    spec: dict[str, Any]
    variant_count: int
    input_count: int
    run_count: int
    ok_count: int
    failed_count: int
    cancelled_count: int
    #: "comparison", or "run" for a Playground run; each kind is numbered on its own
    kind: ComparisonKind = "comparison"
    #: what people call it (#3, Run 3); ``id`` stays the row's key
    number: int = 0
    #: for a judge's runs over a comparison: that comparison's id and number (a judge has no
    #: number of its own and is listed under it)
    judged_id: int | None = None
    judged_number: int | None = None

    @property
    def label(self) -> str:
        if self.judged_id is not None:
            return f"judge of #{self.judged_number}"
        return comparison_label(self.kind, self.number)

    @property
    def expected_runs(self) -> int:
        return self.variant_count * self.input_count * self.samples

    def to_spec(self) -> ComparisonSpec:
        """The spec exactly as it was saved, template sources included, so it can be resumed or
        re-run after the library has changed."""
        return replace(spec_from_dict(self.spec), kind=self.kind)


def variant_row(r: Mapping[str, Any]) -> VariantRow:
    """A variants row joined with its template's ``template_source``."""
    return VariantRow(
        id=r["id"],
        comparison_id=r["comparison_id"],
        position=r["position"],
        name=r["name"],
        template_hash=r["template_hash"],
        template_id=r["template_id"],
        template_source=r["template_source"],
        params=from_json(r["params_json"]),
        model=r["model"],
        values=from_json(r["values_json"]),
        chat=bool(r["chat"]),
        key=r["key"],
    )


def input_row(r: Mapping[str, Any]) -> InputRow:
    return InputRow(
        id=r["id"],
        comparison_id=r["comparison_id"],
        position=r["position"],
        input_key=r["input_key"],
        values=from_json(r["values_json"]),
        references=tuple(from_json(r["references_json"])),
    )


def comparison_row(r: Mapping[str, Any]) -> ComparisonRow:
    """A comparisons row with the counts :data:`_COMPARISON_SELECT` adds to it."""
    return ComparisonRow(
        id=r["id"],
        name=r["name"],
        created_at=r["created_at"],
        status=r["status"],
        samples=r["samples"],
        metrics=tuple(from_json(r["metrics_json"])),
        language=r["language"],
        spec=from_json(r["spec_json"]),
        variant_count=r["variant_count"],
        input_count=r["input_count"],
        run_count=r["run_count"],
        ok_count=r["ok_count"],
        failed_count=r["failed_count"],
        cancelled_count=r["cancelled_count"],
        kind="run" if r["kind"] == "run" else "comparison",
        number=r["number"] or 0,
        judged_id=r["judged_id"],
        judged_number=r["judged_number"],
    )


# -- spec <-> JSON --------------------------------------------------------------------------------


def spec_to_dict(spec: ComparisonSpec) -> dict[str, Any]:
    """Everything needed to rebuild the spec; template and library sources are copied in
    because the files they came from may change or disappear."""
    return {
        "format": SPEC_FORMAT,
        "name": spec.name,
        "variants": [
            {
                "name": v.name,
                "template_id": v.template_id,
                "template_source": v.template_source,
                "params": v.params.to_dict(),
                "model": v.model,
                "values": dict(v.values),
                "chat": v.chat,
                "library_sources": dict(v.library_sources),
                **({"output": v.output.to_dict()} if v.output is not None else {}),
            }
            for v in spec.variants
        ],
        "inputs": [
            {"id": i.id, "values": dict(i.values), "references": list(i.references)}
            for i in spec.inputs
        ],
        "samples": spec.samples,
        "base_seed": spec.base_seed,
        "metrics": list(spec.metrics),
        "language": spec.language,
        "checks": dict(spec.checks),
        "sweep_param": spec.sweep_param,
        "logprobs": spec.logprobs,
    }


def spec_from_dict(data: Mapping[str, Any]) -> ComparisonSpec:
    try:
        variants = tuple(
            Variant(
                name=v["name"],
                template_id=v["template_id"],
                template_source=v["template_source"],
                params=SamplingParams.from_dict(v["params"]),
                model=v["model"],
                values=dict(v.get("values", {})),
                chat=bool(v.get("chat", False)),
                library_sources=dict(v.get("library_sources", {})),
                # Comparisons stored before output constraints read as free text.
                output=OutputConstraint.from_dict(v["output"]) if v.get("output") else None,
            )
            for v in data["variants"]
        )
        inputs = tuple(
            Input(i["id"], dict(i["values"]), tuple(i.get("references", ())))
            for i in data["inputs"]
        )
        return ComparisonSpec(
            name=data["name"],
            variants=variants,
            inputs=inputs,
            samples=int(data["samples"]),
            base_seed=int(data["base_seed"]),
            metrics=tuple(data["metrics"]),
            language=data.get("language"),
            checks=dict(data.get("checks") or {}),
            sweep_param=data.get("sweep_param"),
            logprobs=data.get("logprobs"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"the stored comparison spec cannot be read back: {exc}") from exc


# -- templates and models -------------------------------------------------------------------------


def _template_meta(source: str, template_id: str) -> tuple[str | None, str | None, str | None]:
    """Name, technique and task from the template's header, so stored templates can be listed
    without parsing them again; a template that no longer parses is still stored whole."""
    from playground.prompts.templates import parse_template

    try:
        meta = parse_template(source, template_id).meta
    except PlaygroundError:
        return None, None, None
    return meta.name, meta.technique or None, meta.task or None


def _source_hash(source: str) -> str:
    """Templates are stored once per distinct text: an edited template is a new version, and
    old comparisons keep pointing at the text they actually ran."""
    return sha256(source.encode("utf-8")).hexdigest()


def model_record(model: Mapping[str, Any]) -> dict[str, Any] | None:
    """The models table keeps one row per model file, however often it is used; runs keep
    their own full copy in ``model_json``."""
    if not model or not (model.get("name") or model.get("path")):
        return None

    def number(key: str) -> int | None:
        value = model.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return int(value) if math.isfinite(value) else None

    return {
        "id": content_hash([model.get("name"), model.get("file_size"), model.get("file_type")]),
        "name": model.get("name"),
        "path": None if model.get("path") is None else str(model.get("path")),
        "architecture": model.get("architecture"),
        "parameter_count": number("parameter_count"),
        "quant": None if model.get("file_type") is None else str(model.get("file_type")),
        "file_size": number("file_size"),
        "info_json": to_json(dict(model)),
    }


# -- numbers --------------------------------------------------------------------------------------

def _check_kind(kind: str) -> None:
    if kind not in COMPARISON_KINDS:
        raise StorageError(f"unknown kind {kind!r}; use one of {', '.join(COMPARISON_KINDS)}")


def _next_number(db: Database, kind: str) -> int:
    """The next number of ``kind``, in the saving transaction: one past the last ever given, so
    a deleted comparison's number does not come back as another one."""
    _check_kind(kind)
    db.execute(
        "INSERT INTO comparison_numbers (kind, last) VALUES (?, 1) "
        "ON CONFLICT (kind) DO UPDATE SET last = last + 1",
        [kind],
    )
    row = db.execute("SELECT last FROM comparison_numbers WHERE kind = ?", [kind]).fetchone()
    return int(row[0])


# -- the record store -----------------------------------------------------------------------------

_COMPARISON_SELECT = """
SELECT c.*,
    (SELECT count(*) FROM variants v WHERE v.comparison_id = c.id) AS variant_count,
    (SELECT count(*) FROM inputs i WHERE i.comparison_id = c.id) AS input_count,
    (SELECT count(*) FROM runs r WHERE r.comparison_id = c.id) AS run_count,
    (SELECT count(*) FROM runs r WHERE r.comparison_id = c.id AND r.status = 'ok') AS ok_count,
    (SELECT count(*) FROM runs r WHERE r.comparison_id = c.id AND r.status = 'failed')
        AS failed_count,
    (SELECT count(*) FROM runs r WHERE r.comparison_id = c.id AND r.status = 'cancelled')
        AS cancelled_count,
    (SELECT j.number FROM comparisons j WHERE j.id = c.judged_id) AS judged_number
FROM comparisons c
"""


class ComparisonStore:
    """Comparisons, their variants and inputs, and the templates they share."""

    def __init__(self, database: Connection) -> None:
        self._database = database

    def save_comparison(self, spec: ComparisonSpec, judged_id: int | None = None) -> int:
        """Returns the new comparison's id. One transaction, so a comparison is never stored
        without its variants and inputs; templates are shared by content hash, so re-running
        the same template does not copy it again. ``judged_id``: these are a judge's runs over
        that comparison; they get no number of their own."""
        hashes = {v.name: _source_hash(v.template_source) for v in spec.variants}
        templates = {hashes[v.name]: v for v in spec.variants}
        metas = {h: _template_meta(v.template_source, v.template_id) for h, v in templates.items()}

        def write(db: Database) -> int:
            for digest, variant in templates.items():
                name, technique, task = metas[digest]
                db.table("templates").insert(
                    {
                        "hash": digest,
                        "template_id": variant.template_id,
                        "name": name,
                        "technique": technique,
                        "task": task,
                        "source": variant.template_source,
                    },
                    ignore=True,
                )
            comparison_id = inserted_id(
                db.table("comparisons").insert(
                    {
                        "kind": spec.kind,
                        "number": None if judged_id is not None else _next_number(db, spec.kind),
                        "judged_id": judged_id,
                        "name": spec.name,
                        "created_at": utc_now(),
                        "status": "running",
                        "samples": spec.samples,
                        "metrics_json": to_json(list(spec.metrics)),
                        "language": spec.language,
                        "spec_json": to_json(spec_to_dict(spec)),
                    }
                )
            )
            db.table("variants").insert_all(
                {
                    "comparison_id": comparison_id,
                    "position": n,
                    "name": v.name,
                    "template_hash": hashes[v.name],
                    "template_id": v.template_id,
                    "params_json": to_json(v.params.to_dict()),
                    "model": v.model,
                    "values_json": to_json(dict(v.values)),
                    "chat": int(v.chat),
                    "key": v.key(),
                }
                for n, v in enumerate(spec.variants)
            )
            db.table("inputs").insert_all(
                {
                    "comparison_id": comparison_id,
                    "position": n,
                    "input_key": i.id,
                    "values_json": to_json(dict(i.values)),
                    "references_json": to_json(list(i.references)),
                }
                for n, i in enumerate(spec.inputs)
            )
            return comparison_id

        return self._database.write(f"the comparison {spec.name!r}", write)

    def comparison(self, comparison_id: int) -> ComparisonRow:
        def read(db: Database) -> ComparisonRow:
            rows = fetch_all(db, _COMPARISON_SELECT + "WHERE c.id = ?", [comparison_id])
            if not rows:
                raise StorageError(f"there is no comparison with id {comparison_id}")
            return comparison_row(rows[0])

        return self._database.read("a comparison", read)

    def by_number(self, kind: ComparisonKind, number: int) -> ComparisonRow:
        """The comparison (or Playground run) people know by this number."""
        _check_kind(kind)

        def read(db: Database) -> ComparisonRow:
            rows = fetch_all(db, _COMPARISON_SELECT + "WHERE c.kind = ? AND c.number = ?",
                             [kind, number])
            if not rows:
                what = f"Playground run {number}" if kind == "run" else f"comparison #{number}"
                raise StorageError(f"there is no {what}")
            return comparison_row(rows[0])

        return self._database.read("a comparison", read)

    def history(
        self, limit: int = 50, offset: int = 0, kind: ComparisonKind | None = None
    ) -> list[ComparisonRow]:
        """Newest first and paged: the history only grows, and a list shows one page. ``kind``
        keeps one kind (comparisons, or Playground runs)."""
        limit, offset = page(limit, offset)
        if kind is not None:
            _check_kind(kind)

        def read(db: Database) -> list[ComparisonRow]:
            where, params = ("AND c.kind = ? ", [kind]) if kind else ("", [])
            where = "WHERE c.judged_id IS NULL " + where  # judges are listed under theirs
            sql = (_COMPARISON_SELECT + where
                   + "ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?")
            return [comparison_row(row) for row in fetch_all(db, sql, [*params, limit, offset])]

        return self._database.read("the history", read)

    def judges(self, comparison_id: int) -> list[ComparisonRow]:
        """The judges run over a comparison, oldest first."""

        def read(db: Database) -> list[ComparisonRow]:
            sql = _COMPARISON_SELECT + "WHERE c.judged_id = ? ORDER BY c.created_at, c.id"
            return [comparison_row(row) for row in fetch_all(db, sql, [comparison_id])]

        return self._database.read("the judges", read)

    def set_status(self, comparison_id: int, status: str) -> None:
        if status not in COMPARISON_STATUSES:
            raise StorageError(
                f"unknown comparison status {status!r}; use one of "
                f"{', '.join(COMPARISON_STATUSES)}"
            )

        def write(db: Database) -> None:
            cursor = db.execute(
                "UPDATE comparisons SET status = ? WHERE id = ?", [status, comparison_id]
            )
            if cursor.rowcount == 0:
                raise StorageError(f"there is no comparison with id {comparison_id}")

        self._database.write("the comparison status", write)

    def delete_comparison(self, comparison_id: int) -> bool:
        """Delete a comparison with its variants, inputs, runs, scores and ratings. Templates
        stay: they are shared by content and cost little. Returns whether it existed."""

        def write(db: Database) -> bool:
            cursor = db.execute("DELETE FROM comparisons WHERE id = ?", [comparison_id])
            return cursor.rowcount > 0

        return self._database.write("the deletion", write)

    def variants(self, comparison_id: int) -> list[VariantRow]:
        def read(db: Database) -> list[VariantRow]:
            rows = fetch_all(
                db,
                "SELECT v.*, t.source AS template_source FROM variants v "
                "JOIN templates t ON t.hash = v.template_hash "
                "WHERE v.comparison_id = ? ORDER BY v.position",
                [comparison_id],
            )
            return [variant_row(r) for r in rows]

        return self._database.read("the variants", read)

    def inputs(self, comparison_id: int) -> list[InputRow]:
        def read(db: Database) -> list[InputRow]:
            rows = fetch_all(
                db, "SELECT * FROM inputs WHERE comparison_id = ? ORDER BY position",
                [comparison_id],
            )
            return [input_row(r) for r in rows]

        return self._database.read("the inputs", read)

    def variant_ids(self, comparison_id: int) -> dict[str, int]:
        """Variant name → row id, what the runner needs to file each run under its variant."""
        return {v.name: v.id for v in self.variants(comparison_id)}

    def input_ids(self, comparison_id: int) -> dict[str, int]:
        """Input id (the dataset's) → row id."""
        return {i.input_key: i.id for i in self.inputs(comparison_id)}
