-- Rule contract 0.2: a version's config schema (taken from the component at upload; NULL for
-- a 0.1 component, which accepts any string map) and a plugin's failure policy.
ALTER TABLE plugin_versions ADD COLUMN config_schema JSONB;
ALTER TABLE plugins
    ADD COLUMN on_failure TEXT NOT NULL DEFAULT 'reject' CHECK (on_failure IN ('reject', 'skip'));
