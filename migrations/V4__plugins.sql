-- Rule plugins: versions (immutable component bytes), the plugin's state (hook, priority,
-- config, active and shadow version), the activation history that rollback walks back, and a
-- revision every change bumps so that nodes notice they are behind.

CREATE TABLE plugins (
    name            TEXT        PRIMARY KEY CHECK (name ~ '^[a-z0-9-]{1,64}$'),
    hook            TEXT        NOT NULL CHECK (hook IN ('charge.validate', 'order.validate', 'order.price')),
    priority        INTEGER     NOT NULL DEFAULT 100,
    config          JSONB       NOT NULL DEFAULT '{}',
    active_version  TEXT,
    shadow_version  TEXT,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE plugin_versions (
    name        TEXT        NOT NULL REFERENCES plugins (name),
    version     TEXT        NOT NULL CHECK (length(version) BETWEEN 1 AND 64),
    sha256      TEXT        NOT NULL,
    bytes       BYTEA       NOT NULL,
    note        TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

ALTER TABLE plugins
    ADD FOREIGN KEY (name, active_version) REFERENCES plugin_versions (name, version),
    ADD FOREIGN KEY (name, shadow_version) REFERENCES plugin_versions (name, version);

-- Every activation, newest last; rollback removes the newest and activates the one before.
CREATE TABLE plugin_activations (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL,
    version     TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (name, version) REFERENCES plugin_versions (name, version)
);
CREATE INDEX plugin_activations_newest ON plugin_activations (name, id DESC);

-- One row: bumped in every transaction that changes what runs.
CREATE TABLE plugin_revision (
    singleton  BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    revision   BIGINT  NOT NULL
);
INSERT INTO plugin_revision (revision) VALUES (0);
