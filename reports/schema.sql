-- latsurf results schema (contract: DESIGN.md "SQLite"). Applied with
-- CREATE ... IF NOT EXISTS on every open, so it is safe on an existing file.
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS runs (
    run_id      INTEGER PRIMARY KEY,
    scenario    TEXT NOT NULL,
    variant     TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('sim', 'live')),
    replication INTEGER NOT NULL,
    seed        INTEGER NOT NULL,
    calibration TEXT,
    host        TEXT,
    version     TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    wall_s      REAL,
    events      INTEGER,
    requests    INTEGER,
    scenario_json TEXT,          -- the scenario as run, after --set
    task_key    TEXT             -- identifies a sweep task, for resuming
);
CREATE INDEX IF NOT EXISTS runs_task ON runs(task_key);

CREATE TABLE IF NOT EXISTS metrics (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE IF NOT EXISTS stages (
    run_id  INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    stage   TEXT NOT NULL,
    count   INTEGER NOT NULL,
    mean_ns REAL,
    p50_ns  REAL,
    p99_ns  REAL,
    PRIMARY KEY (run_id, stage)
);

CREATE TABLE IF NOT EXISTS histograms (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    lo_ns  INTEGER NOT NULL,
    hi_ns  INTEGER NOT NULL,
    count  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS histograms_run ON histograms(run_id, metric);

CREATE TABLE IF NOT EXISTS requests (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    req_id INTEGER NOT NULL,
    flow INTEGER, class TEXT, op TEXT, bytes INTEGER,
    submit_cpu INTEGER, completion_cpu INTEGER, consumer_cpu INTEGER,
    t_issue INTEGER, t_submit INTEGER, t_dispatch INTEGER, t_device_done INTEGER,
    t_irq INTEGER, t_blk_done INTEGER, t_cqe INTEGER, t_ready INTEGER, t_continued INTEGER,
    deferred INTEGER
);
CREATE INDEX IF NOT EXISTS requests_run ON requests(run_id);

CREATE TABLE IF NOT EXISTS comparisons (
    scenario TEXT NOT NULL,
    variant  TEXT NOT NULL,
    baseline TEXT NOT NULL,
    metric   TEXT NOT NULL,
    value REAL, baseline_value REAL, delta_pct REAL, ci_low REAL, ci_high REAL,
    significant INTEGER
);

CREATE TABLE IF NOT EXISTS calibration (
    run_id  INTEGER REFERENCES runs(run_id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    value   REAL,
    unit    TEXT,
    samples INTEGER,
    source  TEXT
);
