-- Named admin tokens (stored only as a SHA-256 hash) with a role, and the audit log every
-- admin change writes in its own transaction.
CREATE TABLE admin_tokens (
    name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    role text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    token_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    before jsonb,
    after jsonb
);

CREATE INDEX audit_log_by_target ON audit_log (target, id DESC);
