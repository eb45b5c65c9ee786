"""Schema versions and the migrations that build them.

``PRAGMA user_version`` holds the number of migrations applied; ``MIGRATIONS[i]`` upgrades a
database from version ``i`` to ``i + 1``. :func:`migrate` applies the missing ones in order,
inside one write transaction, so an upgrade either completes or leaves the file as it was.
A migration's SQL is frozen once released: a later change is a new migration, never an edit.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

from inspector.store import backfill

APPLICATION_ID = 0x52496E73  # "RIns": marks a Reasoning Inspector database
DEFAULT_LABELS: tuple[tuple[str, str], ...] = (
    ("correct", "the reasoning and the answer are right"),
    ("incorrect", "the answer is wrong"),
    ("flawed reasoning", "the reasoning has an error, whatever the answer"),
    ("lucky guess", "the answer is right but the reasoning does not support it"),
    ("unclear", "cannot tell"),
)

_V1_TABLES = """
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    path TEXT,
    file_hash TEXT,
    description TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
);
CREATE INDEX models_path ON models(path);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    gold TEXT,
    prompt TEXT NOT NULL,
    prompt_tokens TEXT NOT NULL DEFAULT '[]',
    prompt_style TEXT NOT NULL,
    strategy TEXT NOT NULL,
    settings TEXT NOT NULL,
    model_id INTEGER REFERENCES models(id),
    status TEXT NOT NULL
        CHECK (status IN ('running', 'complete', 'cancelled', 'interrupted')),
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    deleted_at TEXT,
    chosen_answer TEXT,
    correct INTEGER CHECK (correct IN (0, 1)),
    consistency REAL,
    cot_confidence REAL,
    n_paths INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_created ON sessions(created);
CREATE INDEX sessions_strategy ON sessions(strategy);
CREATE INDEX sessions_model ON sessions(model_id);

CREATE TABLE nodes (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    node_id INTEGER NOT NULL,
    parent_id INTEGER,
    position INTEGER NOT NULL DEFAULT 0,
    depth INTEGER NOT NULL,
    PRIMARY KEY (session_id, node_id),
    FOREIGN KEY (session_id, parent_id) REFERENCES nodes(session_id, node_id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX nodes_parent ON nodes(session_id, parent_id);

CREATE TABLE tokens (
    session_id TEXT NOT NULL,
    node_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    token_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    piece BLOB NOT NULL,
    logprob REAL NOT NULL,
    entropy REAL,
    top TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (session_id, node_id, position),
    FOREIGN KEY (session_id, node_id) REFERENCES nodes(session_id, node_id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE paths (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    path_id INTEGER NOT NULL,
    node_id INTEGER NOT NULL,
    origin TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    finish_reason TEXT,
    stop_string TEXT,
    parent_path INTEGER,
    branch_depth INTEGER,
    text TEXT NOT NULL DEFAULT '',
    logprob REAL NOT NULL,
    n_tokens INTEGER NOT NULL,
    answer TEXT,
    answer_text TEXT,
    answer_start INTEGER,
    answer_end INTEGER,
    answer_token_start INTEGER,
    answer_token_end INTEGER,
    confidence REAL,
    correct INTEGER CHECK (correct IN (0, 1)),
    PRIMARY KEY (session_id, path_id),
    FOREIGN KEY (session_id, node_id) REFERENCES nodes(session_id, node_id)
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX paths_correct ON paths(correct, session_id);

CREATE TABLE votes (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    answer TEXT NOT NULL,
    rank INTEGER NOT NULL,
    count INTEGER NOT NULL,
    weighted_share REAL,
    confidence_sum REAL,
    PRIMARY KEY (session_id, answer)
);

CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    source_path TEXT,
    sha256 TEXT NOT NULL UNIQUE,
    n_questions INTEGER NOT NULL,
    created TEXT NOT NULL
);

CREATE TABLE dataset_questions (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    solution TEXT,
    ext_id TEXT,
    PRIMARY KEY (dataset_id, idx)
);

CREATE TABLE experiments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    settings TEXT NOT NULL,
    strategy TEXT NOT NULL,
    model_id INTEGER REFERENCES models(id),
    status TEXT NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'complete', 'cancelled', 'interrupted')),
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX experiments_lookup ON experiments(dataset_id, strategy);

CREATE TABLE experiment_runs (
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    question_index INTEGER NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created TEXT NOT NULL,
    PRIMARY KEY (experiment_id, question_index)
);
CREATE INDEX experiment_runs_session ON experiment_runs(session_id);

CREATE TABLE labels (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE annotations (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    path_id INTEGER,
    token_start INTEGER,
    token_end INTEGER,
    label TEXT REFERENCES labels(name) ON UPDATE CASCADE,
    note TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    CHECK ((token_start IS NULL) = (token_end IS NULL)),
    CHECK (token_start IS NULL OR (path_id IS NOT NULL AND 0 <= token_start
                                   AND token_start < token_end))
);
CREATE INDEX annotations_session ON annotations(session_id, path_id);
"""

#: table -> columns indexed for full-text search (FTS5, kept current by triggers)
FTS_COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": ("question", "title"),
    "paths": ("text",),
    "annotations": ("note",),
}


def _v1(db: Database) -> None:
    """The first schema: every table, the default labels and the FTS5 indexes."""
    db.executescript(_V1_TABLES)
    db.table("labels").insert_all(
        {"name": name, "description": text, "position": i}
        for i, (name, text) in enumerate(DEFAULT_LABELS)
    )
    for table, columns in FTS_COLUMNS.items():
        db.table(table).enable_fts(columns, create_triggers=True, tokenize="porter")


_V2 = """
ALTER TABLE sessions ADD COLUMN writer TEXT;
CREATE INDEX sessions_running ON sessions(status) WHERE status = 'running';
CREATE INDEX paths_votes ON paths(session_id, path_id, origin, finish_reason, answer, logprob);
"""


def _v2(db: Database) -> None:
    """``sessions.writer`` (the process saving a running session, so a crash can be told
    from a live run) and a covering index that serves the plots' vote queries.

    Statement by statement: ``executescript`` would commit the migration transaction."""
    for statement in filter(str.strip, _V2.split(";")):
        db.execute(statement)


_V3 = """
ALTER TABLE paths ADD COLUMN answer_rule TEXT;
ALTER TABLE paths ADD COLUMN thinking_start INTEGER;
ALTER TABLE paths ADD COLUMN thinking_end INTEGER;
ALTER TABLE paths ADD COLUMN thinking_ended INTEGER NOT NULL DEFAULT 1
    CHECK (thinking_ended IN (0, 1));
ALTER TABLE paths ADD COLUMN completed INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1));
ALTER TABLE paths ADD COLUMN answer_logprob REAL;
ALTER TABLE paths ADD COLUMN probe TEXT;
ALTER TABLE sessions ADD COLUMN n_voting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN n_completed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN n_answered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN n_hit_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN delta_min REAL;
ALTER TABLE sessions ADD COLUMN delta_max REAL;
ALTER TABLE sessions ADD COLUMN selections TEXT NOT NULL DEFAULT '{}';
ALTER TABLE sessions ADD COLUMN any_correct INTEGER CHECK (any_correct IN (0, 1));
UPDATE paths SET completed = coalesce(finish_reason IN ('eos', 'stop'), 0)
"""


def _v3(db: Database) -> None:
    """Issue 11: which rule found each path's answer, its thinking section, whether it
    completed, its answer's mean log-probability and its answer probe (JSON); on sessions
    the counts of finished/answered paths, Δ's range, every selection rule's answer with its
    correctness, and pass@k (``any_correct``).

    Paths saved before have no thinking section (``thinking_ended`` 1) and their answer was
    found by the session's answer rule (for ``auto``, the step that finds the stored answer
    again in the path's text); the session columns are computed from the stored paths."""
    for statement in filter(str.strip, _V3.split(";")):
        db.execute(statement)
    backfill.fill_v3(db)


_V4 = """
ALTER TABLE experiments ADD COLUMN runner TEXT;
ALTER TABLE experiments ADD COLUMN runner_since TEXT
"""


def _v4(db: Database) -> None:
    """``experiments.runner``: the process running an experiment (a ``writers`` tag) and
    since when, so that a second runner of the same experiment is refused while the first
    is alive (two at once ran every question twice)."""
    for statement in filter(str.strip, _V4.split(";")):
        db.execute(statement)


def _v5(db: Database) -> None:
    """``experiments.asked``: how many questions the latest run of an experiment asked for
    (its limit; NULL for the whole data set), so progress reads "4 / 4" after asking for 4
    and resuming runs the same questions."""
    db.execute("ALTER TABLE experiments ADD COLUMN asked INTEGER CHECK (asked > 0)")


_V6 = """
CREATE TABLE studies (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    path_id INTEGER NOT NULL CHECK (path_id >= 0),
    kind TEXT NOT NULL CHECK (kind IN ('forks', 'steps')),
    settings TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('running', 'complete', 'cancelled', 'interrupted')),
    writer TEXT,
    n_planned INTEGER NOT NULL DEFAULT 0 CHECK (n_planned >= 0),
    n_samples INTEGER NOT NULL DEFAULT 0 CHECK (n_samples >= 0),
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX studies_session ON studies(session_id);
CREATE TABLE study_samples (
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    token_id INTEGER,
    sample INTEGER NOT NULL CHECK (sample >= 0),
    token_text TEXT NOT NULL DEFAULT '',
    token_prob REAL CHECK (token_prob IS NULL OR (token_prob >= 0 AND token_prob <= 1)),
    text TEXT NOT NULL,
    token_ids TEXT NOT NULL,
    finish_reason TEXT NOT NULL,
    logprob REAL NOT NULL,
    answer TEXT,
    correct INTEGER CHECK (correct IN (0, 1))
);
CREATE UNIQUE INDEX study_samples_point
    ON study_samples(study_id, position, IFNULL(token_id, -1), sample);
"""


def _v6(db: Database) -> None:
    """``studies`` and ``study_samples``: resampling studies of one path of a session
    (forking tokens, step importance; ``core/studies.py``), one row per sampled
    continuation, unique per (position, token, sample) so a resumed study adds each once."""
    for statement in filter(str.strip, _V6.split(";")):
        db.execute(statement)


Migration = Callable[[Database], None]
MIGRATIONS: list[Migration] = [_v1, _v2, _v3, _v4, _v5, _v6]


def latest_version() -> int:
    """The schema version this application writes."""
    return len(MIGRATIONS)


def user_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database) -> int:
    """Bring ``db`` to the latest version in one ``BEGIN IMMEDIATE`` transaction; return the
    version it had. The version is re-read under the write lock, so two processes opening an
    old file at once upgrade it once."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        start = user_version(db)
        for version in range(start, latest_version()):
            MIGRATIONS[version](db)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        if start < latest_version():
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return start
