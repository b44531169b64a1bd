"""The database schema as an ordered list of changes, applied by sqlite-utils' ``Migrations``.

A migration is never edited once released: a user's database records which ones it has run,
so a changed m001 would leave old databases with a different schema than new ones. Add a new
function instead. The connection wraps :meth:`Migrations.apply` (see
``playground.storage.database``) so the check for pending migrations, the backup and every
pending migration happen under one write lock, in one transaction. A migration therefore cannot
be ``transactional=False`` (VACUUM and the like); run such maintenance outside the migrations.
"""

from __future__ import annotations

import functools

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "prompt-playground"

migrations = Migrations(MIGRATION_SET)

# Written as SQL rather than with ``Table.create`` because the schema needs CHECK constraints,
# multi-column UNIQUE constraints and ON DELETE actions spelled out where they can be read.
_INITIAL_SCHEMA = """
CREATE TABLE models (
    id TEXT PRIMARY KEY,
    name TEXT,
    path TEXT,
    architecture TEXT,
    parameter_count INTEGER,
    quant TEXT,
    file_size INTEGER,
    info_json TEXT
);

CREATE TABLE templates (
    hash TEXT PRIMARY KEY,
    template_id TEXT NOT NULL,
    name TEXT,
    technique TEXT,
    task TEXT,
    source TEXT NOT NULL
);

CREATE TABLE libraries (
    name TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE comparisons (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'cancelled', 'failed')),
    samples INTEGER NOT NULL,
    metrics_json TEXT NOT NULL,
    language TEXT,
    spec_json TEXT NOT NULL
);

CREATE TABLE variants (
    id INTEGER PRIMARY KEY,
    comparison_id INTEGER NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    template_hash TEXT NOT NULL REFERENCES templates(hash),
    template_id TEXT NOT NULL,
    params_json TEXT NOT NULL,
    model TEXT NOT NULL,
    values_json TEXT NOT NULL,
    chat INTEGER NOT NULL,
    key TEXT NOT NULL,
    UNIQUE (comparison_id, name)
);

CREATE TABLE inputs (
    id INTEGER PRIMARY KEY,
    comparison_id INTEGER NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    input_key TEXT NOT NULL,
    values_json TEXT NOT NULL,
    references_json TEXT NOT NULL,
    UNIQUE (comparison_id, input_key)
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    comparison_id INTEGER REFERENCES comparisons(id) ON DELETE CASCADE,
    variant_id INTEGER REFERENCES variants(id) ON DELETE CASCADE,
    input_id INTEGER REFERENCES inputs(id) ON DELETE CASCADE,
    sample INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    run_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'cancelled')),
    error TEXT,
    params_json TEXT,
    rendered_prompt TEXT,
    output TEXT,
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    ttft_s REAL,
    tokens_per_second REAL,
    total_s REAL,
    model_json TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (comparison_id, run_key)
);

-- Deleting a variant or an input cascades into runs: without these indexes every such delete
-- would scan the whole runs table.
CREATE INDEX runs_by_variant ON runs (variant_id);
CREATE INDEX runs_by_input ON runs (input_id);

CREATE TABLE scores (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    value REAL,
    reason TEXT,
    signature TEXT NOT NULL,
    PRIMARY KEY (run_id, metric)
);

CREATE TABLE ratings (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    thumbs INTEGER CHECK (thumbs IN (-1, 1)),
    stars INTEGER CHECK (stars BETWEEN 1 AND 5),
    note TEXT,
    updated_at TEXT NOT NULL
);
"""


@migrations()
def m001_initial(db: Database) -> None:
    db.executescript(_INITIAL_SCHEMA)
    # Triggers keep the index in step with every insert, update and delete of a run, inside
    # the same transaction: a search never finds a run that is not there, or misses one.
    db.table("runs").enable_fts(["rendered_prompt", "output"], create_triggers=True)


@migrations()
def m002_history_indexes(db: Database) -> None:
    """History lists comparisons newest first and search without words lists the newest runs;
    with thousands of rows both would otherwise sort the whole table on every page."""
    db.table("comparisons").create_index(
        ["created_at", "id"], index_name="comparisons_by_created_at", if_not_exists=True
    )
    db.table("runs").create_index(
        ["created_at", "id"], index_name="runs_by_created_at", if_not_exists=True
    )


_HUMAN_EVALUATION_SCHEMA = """
-- The rating criteria a comparison's Likert ratings use; NULL means the defaults.
ALTER TABLE comparisons ADD COLUMN criteria_json TEXT;

CREATE TABLE criterion_ratings (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    criterion TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    note TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, criterion)
);

-- One blind verdict on two outputs of the same input: run_a was shown on the left, run_b on
-- the right, and choice says which side won.
CREATE TABLE judgements (
    id INTEGER PRIMARY KEY,
    comparison_id INTEGER NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,
    input_id INTEGER NOT NULL REFERENCES inputs(id) ON DELETE CASCADE,
    run_a INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    run_b INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    choice TEXT NOT NULL CHECK (choice IN ('a', 'b', 'tie')),
    created_at TEXT NOT NULL,
    CHECK (run_a != run_b)
);

-- A comparison's judgements are read in order; deleting a run or an input cascades here.
CREATE INDEX judgements_by_comparison ON judgements (comparison_id, id);
CREATE INDEX judgements_by_input ON judgements (input_id);
CREATE INDEX judgements_by_run_a ON judgements (run_a);
CREATE INDEX judgements_by_run_b ON judgements (run_b);
"""


@migrations()
def m003_human_evaluation(db: Database) -> None:
    """Likert ratings on named criteria and blind pairwise judgements, per comparison."""
    db.executescript(_HUMAN_EVALUATION_SCHEMA)


@migrations()
def m004_token_alternatives(db: Database) -> None:
    """The chosen tokens with their top alternatives, for runs that asked for them (the
    Playground's token view), so a reopened run shows them again."""
    db.execute("ALTER TABLE runs ADD COLUMN logprobs_json TEXT")


@migrations()
def m005_reproducibility_record(db: Database) -> None:
    """Every run's reproducibility record (engine, CPU path, threads, batch sizes, flash
    attention, KV types, model hash, sampler chain...) and its generated token ids, which a
    replay compares token by token. Older runs keep NULL: "not recorded"."""
    db.execute("ALTER TABLE runs ADD COLUMN record_json TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN token_ids_json TEXT")


@migrations()
def m006_empty_outputs_score_zero(db: Database) -> None:
    """An empty output was scored N/A and left out of every mean, so a prompt that made the model
    say nothing on hard inputs scored higher. It now scores 0 (playground.evaluation.scoring), and
    the N/A scores stored for empty outputs become that 0, so an old comparison reports what a
    new one would. ROUGE-N against a reference too short for N-grams becomes 0 here where a new
    run says N/A: the reference's length is not stored with the score, and that zero can only
    lower the empty output, never flatter it."""
    rows = db.execute(
        "SELECT scores.run_id, scores.metric, runs.output FROM scores "
        "JOIN runs ON runs.id = scores.run_id "
        "WHERE scores.value IS NULL AND scores.reason = 'empty hypothesis'"
    ).fetchall()
    for run_id, metric, output in rows:
        if not (output or "").strip():  # the rule of playground.evaluation.scoring.is_empty_output
            db.execute(
                "UPDATE scores SET value = 0.0, reason = 'empty output' "
                "WHERE run_id = ? AND metric = ?",
                [run_id, metric],
            )


@migrations()
def m007_numbers_by_kind(db: Database) -> None:
    """Playground runs were saved as comparisons named "Playground: ..." and took comparison ids,
    so the first real comparison could be #10. A comparison now has a kind ('comparison' or
    'run') and a number counted within its kind; ``comparison_numbers`` holds the last number
    given, so a deleted one's number is never given again. Existing rows keep their id as their
    number, and both kinds go on from the largest id, so every number already shown to someone
    still finds that one row and no other. The kind is read from the rule Playground runs were
    saved under: that name, one variant, one input."""
    db.execute(
        "ALTER TABLE comparisons ADD COLUMN kind TEXT NOT NULL DEFAULT 'comparison' "
        "CHECK (kind IN ('comparison', 'run'))"
    )
    db.execute("ALTER TABLE comparisons ADD COLUMN number INTEGER")
    db.execute(
        "UPDATE comparisons SET kind = 'run' WHERE substr(name, 1, 12) = 'Playground: ' "
        "AND (SELECT count(*) FROM variants v WHERE v.comparison_id = comparisons.id) = 1 "
        "AND (SELECT count(*) FROM inputs i WHERE i.comparison_id = comparisons.id) = 1"
    )
    db.execute("UPDATE comparisons SET number = id")
    db.execute("CREATE UNIQUE INDEX comparisons_by_number ON comparisons (kind, number)")
    # History lists one kind at a time, newest first.
    db.execute("CREATE INDEX comparisons_by_kind ON comparisons (kind, created_at, id)")
    db.execute(
        "CREATE TABLE comparison_numbers (kind TEXT PRIMARY KEY "
        "CHECK (kind IN ('comparison', 'run')), last INTEGER NOT NULL)"
    )
    db.execute(
        "INSERT INTO comparison_numbers (kind, last) SELECT k.kind, m.last "
        "FROM (SELECT 'comparison' AS kind UNION ALL SELECT 'run') AS k, "
        "(SELECT max(id) AS last FROM comparisons) AS m WHERE m.last IS NOT NULL"
    )


@migrations()
def m008_judges(db: Database) -> None:
    """A judge model's runs over a comparison are saved as a comparison of their own (its
    settings, its runs with their records), linked to the comparison it judged by
    ``judged_id``, so it can be resumed and re-run like any comparison. It has no number: History
    lists it under the comparison it judged, never as one of the user's own, and deleting that
    comparison deletes its judges."""
    db.execute("ALTER TABLE comparisons ADD COLUMN judged_id INTEGER "
               "REFERENCES comparisons(id) ON DELETE CASCADE")
    db.execute("CREATE INDEX comparisons_by_judged ON comparisons (judged_id)")


@functools.cache
def known_migrations() -> tuple[str, ...]:
    """Names of the migrations this version ships, in order.

    ``Migrations`` has no public list of what is registered, but against an empty database
    every registered migration is pending, and ``pending`` only reads.
    """
    scratch = Database(memory=True, execute_plugins=False)
    try:
        return tuple(m.name for m in migrations.pending(scratch))
    finally:
        scratch.close()
