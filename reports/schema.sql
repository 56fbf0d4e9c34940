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
    task_key    TEXT,            -- identifies a sweep task, for resuming
    what_if     TEXT             -- hypothetical mechanisms the run used (scenario
                                 -- paths, comma separated); NULL: none, a measurement
                                 -- of Linux/NVMe behaviour. A database from before
                                 -- the column gets it on open (db_open).
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

-- Written only through reports/compare.h. owner: who wrote the row and alone
-- replaces it: 'report' (run, sweep, report: variant vs baseline) or
-- 'validate' (calibrated simulator vs live). A database from before the
-- column gets it on open (compare_migrate), with the same default.
CREATE TABLE IF NOT EXISTS comparisons (
    scenario TEXT NOT NULL,
    variant  TEXT NOT NULL,
    baseline TEXT NOT NULL,
    metric   TEXT NOT NULL,
    value REAL, baseline_value REAL, delta_pct REAL, ci_low REAL, ci_high REAL,
    significant INTEGER,
    owner    TEXT NOT NULL DEFAULT 'report'
);

CREATE TABLE IF NOT EXISTS calibration (
    run_id  INTEGER REFERENCES runs(run_id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    value   REAL,
    unit    TEXT,
    samples INTEGER,
    source  TEXT
);

-- Review views (issue 8; docs/report.md). They summarise the latest run of
-- each (scenario, mode, variant, replication): re-running a scenario into the
-- same file replaces, rather than pools with, the earlier replications.
CREATE INDEX IF NOT EXISTS runs_replication ON runs(scenario, mode, variant, replication);
CREATE VIEW IF NOT EXISTS v_latest_runs AS
SELECT r.* FROM runs r
WHERE r.run_id = (SELECT max(x.run_id) FROM runs x
                  WHERE x.scenario = r.scenario AND x.mode = r.mode
                    AND x.variant = r.variant AND x.replication = r.replication);

-- Two-sided 95% Student-t quantiles (gsl_cdf_tdist_Pinv(0.975, df)) for small
-- df; v_summary uses the Cornish-Fisher expansion above 30 (error < 1e-4).
-- tests/test_stats.c checks both against GSL.
CREATE VIEW IF NOT EXISTS v_t95(df, q) AS VALUES
    (1,12.706205),(2,4.302653),(3,3.182446),(4,2.776445),(5,2.570582),(6,2.446912),
    (7,2.364624),(8,2.306004),(9,2.262157),(10,2.228139),(11,2.200985),(12,2.178813),
    (13,2.160369),(14,2.144787),(15,2.131450),(16,2.119905),(17,2.109816),(18,2.100922),
    (19,2.093024),(20,2.085963),(21,2.079614),(22,2.073873),(23,2.068658),(24,2.063899),
    (25,2.059539),(26,2.055529),(27,2.051831),(28,2.048407),(29,2.045230),(30,2.042272);

-- Mean and 95% CI over replications of every metric. sqrt() needs SQLite's
-- math functions (Debian builds them in); ci_low/ci_high are NULL with n < 2.
CREATE VIEW IF NOT EXISTS v_summary AS
WITH vals AS (
    SELECT r.scenario, r.mode, r.variant, m.name AS metric, m.value AS x
    FROM v_latest_runs r JOIN metrics m ON m.run_id = r.run_id
    WHERE m.value IS NOT NULL),
g AS (
    SELECT scenario, mode, variant, metric, count(*) AS n, avg(x) AS mean
    FROM vals GROUP BY scenario, mode, variant, metric),
s AS (
    SELECT g.scenario, g.mode, g.variant, g.metric, g.n, g.mean,
           sum((v.x - g.mean) * (v.x - g.mean)) AS ss
    FROM g JOIN vals v USING (scenario, mode, variant, metric)
    GROUP BY g.scenario, g.mode, g.variant, g.metric),
h AS (
    SELECT s.*, CASE WHEN n > 1 THEN
        coalesce((SELECT q FROM v_t95 WHERE df = n - 1),
                 1.959964 + 2.372271 / (n - 1) + 2.822499 / ((n - 1) * (n - 1)))
        * sqrt(ss / (n - 1) / n) END AS half
    FROM s)
SELECT scenario, mode, variant, metric, mean, mean - half AS ci_low, mean + half AS ci_high, n
FROM h;

-- Path order of the stage names (1 = submit), from sim/metric.h's table:
-- the writer records it with every run's stages, so no SQL copies the names.
CREATE TABLE IF NOT EXISTS stage_order (
    stage    TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);

-- Per-stage means over replications, in path order, with each stage's share
-- of the summed stage means: the essay's latency equation, term by term.
CREATE VIEW IF NOT EXISTS v_stage_breakdown AS
WITH st AS (
    SELECT r.scenario, r.mode, r.variant, s.stage, count(*) AS n,
           avg(s.count) AS count, avg(s.mean_ns) AS mean_ns, avg(s.p50_ns) AS p50_ns,
           avg(s.p99_ns) AS p99_ns
    FROM v_latest_runs r JOIN stages s ON s.run_id = r.run_id
    GROUP BY r.scenario, r.mode, r.variant, s.stage)
SELECT st.scenario, st.mode, st.variant, st.stage,
       coalesce(o.position, 9) AS stage_order,
       st.n, st.count, st.mean_ns, st.p50_ns, st.p99_ns,
       st.mean_ns / nullif(sum(st.mean_ns) OVER (PARTITION BY st.scenario, st.mode, st.variant),
                           0) AS share
FROM st LEFT JOIN stage_order o ON o.stage = st.stage;
