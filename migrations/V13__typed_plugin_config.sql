-- Rule contract 0.2: a version's config schema (taken from the component at upload; NULL for
-- a 0.1 component, which accepts any string map) and a plugin's failure policy.
ALTER TABLE plugin_versions ADD COLUMN config_schema JSONB;
ALTER TABLE plugins
    ADD COLUMN on_failure TEXT NOT NULL DEFAULT 'reject' CHECK (on_failure IN ('reject', 'skip'));

-- Snapshots: each activation keeps the config, priority and failure policy it ran with, and
-- who made it; a rollback marks the newest live one rolled back and restores the one before
-- it whole. Rows from before this migration have no config (a rollback to one keeps the
-- config in force).
ALTER TABLE plugin_activations
    ADD COLUMN config      JSONB,
    ADD COLUMN priority    INTEGER,
    ADD COLUMN on_failure  TEXT CHECK (on_failure IN ('reject', 'skip')),
    ADD COLUMN actor       TEXT,
    ADD COLUMN rolled_back BOOLEAN NOT NULL DEFAULT false;
