-- Recorded runs: a sample of live plugin calls and every rejection and failure, with what a
-- replay needs to run them again (input, with the host-stamped `now`, and config) and what
-- they decided. Written in batches off the request path; the newest 10,000 per plugin are
-- kept (the writer deletes older ones).
CREATE TABLE plugin_runs (
    id              BIGSERIAL   PRIMARY KEY,
    plugin          TEXT        NOT NULL REFERENCES plugins (name),
    version         TEXT        NOT NULL,
    hook            TEXT        NOT NULL,
    outcome         TEXT        NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'failed')),
    input           JSONB       NOT NULL,
    config          JSONB       NOT NULL,
    decision        JSONB       NOT NULL,
    fuel            BIGINT      NOT NULL,
    duration_micros BIGINT      NOT NULL,
    logs            JSONB       NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Listing and pruning a plugin's runs newest first, and by outcome.
CREATE INDEX plugin_runs_by_plugin ON plugin_runs (plugin, id DESC);
CREATE INDEX plugin_runs_by_outcome ON plugin_runs (plugin, outcome, id DESC);
