-- Foundation schema: organizations, machine identities with universal auth, projects with
-- environments, folders and memberships, and the versioned, encrypted secret store.
-- Every secret value lives only as AES-256-GCM ciphertext under its project's data key.

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE identities (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        text NOT NULL,
    -- organization role: admin | member | no-access
    org_role    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE universal_auths (
    id                           uuid PRIMARY KEY,
    identity_id                  uuid NOT NULL UNIQUE REFERENCES identities(id) ON DELETE CASCADE,
    client_id                    uuid NOT NULL UNIQUE,
    access_token_ttl             bigint NOT NULL,
    access_token_max_ttl         bigint NOT NULL,
    access_token_num_uses_limit  bigint NOT NULL,
    created_at                   timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now()
);

-- Client secrets are stored only as SHA-256 hashes of 256-bit random values.
CREATE TABLE client_secrets (
    id                 uuid PRIMARY KEY,
    universal_auth_id  uuid NOT NULL REFERENCES universal_auths(id) ON DELETE CASCADE,
    description        text NOT NULL,
    prefix             text NOT NULL,
    secret_hash        bytea NOT NULL UNIQUE,
    ttl                bigint NOT NULL,
    num_uses           bigint NOT NULL DEFAULT 0,
    num_uses_limit     bigint NOT NULL,
    is_revoked         boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Access tokens are opaque random strings; only their hashes are stored.
CREATE TABLE access_tokens (
    id                uuid PRIMARY KEY,
    identity_id       uuid NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    client_secret_id  uuid REFERENCES client_secrets(id) ON DELETE CASCADE,
    token_hash        bytea NOT NULL UNIQUE,
    ttl               bigint NOT NULL,
    max_ttl           bigint NOT NULL,
    num_uses          bigint NOT NULL DEFAULT 0,
    num_uses_limit    bigint NOT NULL,
    is_revoked        boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    renewed_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name         text NOT NULL,
    slug         text NOT NULL,
    -- the project's data key, wrapped (AES-256-GCM) by the root key identified by root_key_id
    wrapped_key  bytea NOT NULL,
    root_key_id  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, slug)
);

CREATE TABLE environments (
    id          uuid PRIMARY KEY,
    project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        text NOT NULL,
    slug        text NOT NULL,
    position    integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, slug)
);

-- Folders below the root of an environment; the root "/" always exists and has no row.
CREATE TABLE folders (
    id          uuid PRIMARY KEY,
    env_id      uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    parent_id   uuid REFERENCES folders(id) ON DELETE CASCADE,
    name        text NOT NULL,
    -- full path of the folder itself, e.g. /apps/billing
    path        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (env_id, path)
);

CREATE TABLE project_memberships (
    id           uuid PRIMARY KEY,
    project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    identity_id  uuid NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    -- admin | member | viewer | no-access
    role         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, identity_id)
);
CREATE INDEX project_memberships_identity ON project_memberships(identity_id);

CREATE TABLE secrets (
    id           uuid PRIMARY KEY,
    project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    env_id       uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    -- folder path the secret lives in, e.g. / or /apps/billing
    path         text NOT NULL,
    key          text NOT NULL,
    type         text NOT NULL DEFAULT 'shared',
    version      integer NOT NULL,
    value_ct     bytea NOT NULL,
    comment_ct   bytea NOT NULL,
    skip_multiline_encoding boolean NOT NULL DEFAULT false,
    -- set when a secret rotation owns the secret; users cannot change or delete it then
    rotation_id  uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (env_id, path, key, type)
);

-- Every write keeps the previous version.
CREATE TABLE secret_versions (
    id          uuid PRIMARY KEY,
    secret_id   uuid NOT NULL,
    project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    env_id      uuid NOT NULL,
    path        text NOT NULL,
    key         text NOT NULL,
    version     integer NOT NULL,
    value_ct    bytea NOT NULL,
    comment_ct  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (secret_id, version)
);
