//! In-memory copies of the rows nearly every request looks up: the access token with its
//! identity, the caller's project membership, environments and app connections, and what the
//! hot reads return: one secret, a folder's secrets, one rotation. Without them a read of one
//! secret was four queries; with them a repeated read is none (one query costs more than the
//! rest of the request on a small machine: see the README's performance section).
//!
//! A cached row is never trusted longer than the database says it is valid:
//! - Migration 0009 puts a statement-level trigger on each table these rows come from (updates,
//!   deletes, truncates); it sends `NOTIFY rotary_cache` in the writing transaction, and every
//!   server process LISTENs on one connection and clears everything when one arrives. So a token
//!   revoked or a membership removed through any replica, or by hand in psql, stops working
//!   everywhere as soon as the commit is delivered.
//! - While that listening connection is down, nothing is cached or served from the cache
//!   (a notification might be missed); it is cleared when listening starts again.
//! - In this process, every request that may change these rows clears the cache when it ends,
//!   so a client sees its own change at once (see `http::mod`).
//! - A lookup that started before a clear does not store what it read (a generation counter),
//!   so a read racing with a revocation cannot put the old row back.
//!
//! Rows whose use is counted in the database (tokens with a use limit) are never cached.
//! Secrets and rotations are cached only for the read endpoints, never for a write that reads
//! before it changes, and stay sealed in memory (values are opened per request).
//!
//! A stale secret is harmless for the rotated credentials too: a published rotation keeps the
//! previous credential valid until the next rotation's first step, far longer than it takes a
//! notification to arrive.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use sqlx::postgres::PgListener;
use uuid::Uuid;

use crate::store::app_connections::ConnectionRow;
use crate::store::identities::TokenRow;
use crate::store::projects::{EnvironmentRow, ProjectRow};
use crate::store::rotations::RotationRow;
use crate::store::secrets::SecretRow;

/// The channel migration 0009's triggers notify.
pub const CHANNEL: &str = "rotary_cache";

/// A map that reaches this size is emptied before the next insert: memory stays bounded
/// whatever the number of tokens, projects or environments.
const MAX_ENTRIES: usize = 10_000;

/// Folder listings longer than this are read from the database each time.
const MAX_LISTED: usize = 1_000;

/// Notifications from these tables clear only the cached secrets and rotations: they change
/// with every rotation, while tokens and memberships stay valid.
const CONTENT_TABLES: [&str; 2] = ["secrets", "secret_rotations"];

#[derive(Default)]
pub struct Lookups {
    maps: RwLock<Maps>,
    /// Whether the invalidation listener is connected; the cache is off while it is not.
    live: AtomicBool,
}

#[derive(Default)]
struct Maps {
    /// Bumped by every clear.
    generation: u64,
    /// By SHA-256 of the token: the cache never holds a token itself.
    tokens: HashMap<Vec<u8>, TokenRow>,
    /// By (project, identity).
    members: HashMap<(Uuid, Uuid), (ProjectRow, String)>,
    /// By (project, slug).
    environments: HashMap<(Uuid, String), EnvironmentRow>,
    environments_by_id: HashMap<Uuid, EnvironmentRow>,
    /// By (organization, connection).
    connections: HashMap<(Uuid, Uuid), ConnectionRow>,
    /// By (environment, folder path, name).
    secrets: HashMap<(Uuid, String, String), SecretRow>,
    /// By (environment, folder path, recursive).
    secret_lists: HashMap<(Uuid, String, bool), Arc<Listing>>,
    rotations: HashMap<Uuid, RotationRow>,
}

impl Lookups {
    /// Forgets everything; lookups in flight will not store what they read.
    pub fn clear(&self) {
        let mut maps = self.write();
        *maps = Maps {
            generation: maps.generation + 1,
            ..Maps::default()
        };
    }

    /// Forgets the cached secrets and rotations only.
    pub fn clear_content(&self) {
        let mut maps = self.write();
        maps.generation += 1;
        maps.secrets.clear();
        maps.secret_lists.clear();
        maps.rotations.clear();
    }

    fn set_live(&self, live: bool) {
        self.clear();
        self.live.store(live, Ordering::SeqCst);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Maps> {
        self.maps.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Maps> {
        self.maps.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached value under `key` in the map `pick` names, else what `load` reads (stored
    /// when `keep` says it may be, and no clear happened meanwhile).
    async fn through<K, V>(
        &self,
        pick: fn(&Maps) -> &HashMap<K, V>,
        pick_mut: fn(&mut Maps) -> &mut HashMap<K, V>,
        key: K,
        keep: fn(&V) -> bool,
        load: impl Future<Output = sqlx::Result<Option<V>>>,
    ) -> sqlx::Result<Option<V>>
    where
        K: Hash + Eq,
        V: Clone,
    {
        if !self.live.load(Ordering::SeqCst) {
            return load.await;
        }
        let generation = {
            let maps = self.read();
            if let Some(value) = pick(&maps).get(&key) {
                return Ok(Some(value.clone()));
            }
            maps.generation
        };
        let value = load.await?;
        if let Some(found) = value.as_ref().filter(|v| keep(v)) {
            let mut maps = self.write();
            if maps.generation == generation && self.live.load(Ordering::SeqCst) {
                let map = pick_mut(&mut maps);
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
                map.insert(key, found.clone());
            }
        }
        Ok(value)
    }

    /// Whether lookups may be served from memory (the invalidation listener is connected).
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    /// How many rows are cached (tests and metrics).
    pub fn len(&self) -> usize {
        let maps = self.read();
        maps.tokens.len()
            + maps.members.len()
            + maps.environments.len()
            + maps.environments_by_id.len()
            + maps.connections.len()
            + maps.secrets.len()
            + maps.secret_lists.len()
            + maps.rotations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the cache reads through and stores in: the server's pool and lookups (`AppState`
/// implements it; the cache does not depend on the state it is part of).
pub trait Source: Sync {
    fn pool(&self) -> &sqlx::PgPool;
    fn lookups(&self) -> &Lookups;
}

pub async fn token(state: &impl Source, token: &str) -> sqlx::Result<Option<TokenRow>> {
    let hash = crate::crypto::token_hash(token);
    state
        .lookups()
        .through(
            |m| &m.tokens,
            |m| &mut m.tokens,
            hash,
            |row| row.num_uses_limit == 0,
            crate::store::identities::find_token(state.pool(), token),
        )
        .await
}

pub async fn membership(
    state: &impl Source,
    project_id: Uuid,
    identity_id: Uuid,
) -> sqlx::Result<Option<(ProjectRow, String)>> {
    state
        .lookups()
        .through(
            |m| &m.members,
            |m| &mut m.members,
            (project_id, identity_id),
            |_| true,
            crate::store::projects::find_project_for_member(state.pool(), project_id, identity_id),
        )
        .await
}

pub async fn environment_by_slug(
    state: &impl Source,
    project_id: Uuid,
    slug: &str,
) -> sqlx::Result<Option<EnvironmentRow>> {
    state
        .lookups()
        .through(
            |m| &m.environments,
            |m| &mut m.environments,
            (project_id, slug.to_string()),
            |_| true,
            crate::store::projects::find_environment_by_slug(state.pool(), project_id, slug),
        )
        .await
}

pub async fn environment_by_id(state: &impl Source, id: Uuid) -> sqlx::Result<EnvironmentRow> {
    let found = state
        .lookups()
        .through(
            |m| &m.environments_by_id,
            |m| &mut m.environments_by_id,
            id,
            |_| true,
            async {
                crate::store::projects::environment_by_id(state.pool(), id)
                    .await
                    .map(Some)
            },
        )
        .await?;
    found.ok_or(sqlx::Error::RowNotFound)
}

pub async fn connection(
    state: &impl Source,
    org_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ConnectionRow>> {
    state
        .lookups()
        .through(
            |m| &m.connections,
            |m| &mut m.connections,
            (org_id, id),
            |_| true,
            crate::store::app_connections::find(state.pool(), org_id, id),
        )
        .await
}

/// One secret, for the read endpoint.
pub async fn secret(
    state: &impl Source,
    env_id: Uuid,
    path: &str,
    name: &str,
) -> sqlx::Result<Option<SecretRow>> {
    state
        .lookups()
        .through(
            |m| &m.secrets,
            |m| &mut m.secrets,
            (env_id, path.to_string(), name.to_string()),
            |_| true,
            crate::store::secrets::find(state.pool(), env_id, path, name),
        )
        .await
}

/// A folder's secrets, for the list endpoint.
/// A folder's secrets as the list endpoint reads them, shared by every reader while cached.
pub struct Listing {
    pub rows: Vec<SecretRow>,
    /// Each row's JSON text before and after its sealed fields (value and comment), made by
    /// the first reader (`http::secrets`) and reused by the next ones: a listing's JSON costs
    /// more to build than the rest of the request. Holds nothing secret.
    pub frames: OnceLock<Vec<(String, String)>>,
}

pub async fn secrets(
    state: &impl Source,
    env_id: Uuid,
    path: &str,
    recursive: bool,
) -> sqlx::Result<Arc<Listing>> {
    let found = state
        .lookups()
        .through(
            |m| &m.secret_lists,
            |m| &mut m.secret_lists,
            (env_id, path.to_string(), recursive),
            |listing| listing.rows.len() <= MAX_LISTED,
            async {
                let rows =
                    crate::store::secrets::list(state.pool(), env_id, path, recursive).await?;
                Ok(Some(Arc::new(Listing {
                    rows,
                    frames: OnceLock::new(),
                })))
            },
        )
        .await?;
    Ok(found.expect("the loader always finds a listing"))
}

/// One rotation, for the read endpoint.
pub async fn rotation(state: &impl Source, id: Uuid) -> sqlx::Result<Option<RotationRow>> {
    state
        .lookups()
        .through(
            |m| &m.rotations,
            |m| &mut m.rotations,
            id,
            |_| true,
            crate::store::rotations::find(state.pool(), id),
        )
        .await
}

/// Keeps the cache in step with the database: LISTENs for the triggers' notifications and
/// clears on each; the cache is on only while listening. Ends when the pool is closed.
pub async fn follow_invalidations(state: impl Source) {
    let lookups = state.lookups();
    loop {
        if state.pool().is_closed() {
            return;
        }
        let listener = async {
            let mut listener = PgListener::connect_with(state.pool()).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match listener.await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "cache invalidation listener cannot connect; lookups go to the database");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        lookups.set_live(true);
        while let Ok(Some(notification)) = listener.try_recv().await {
            if CONTENT_TABLES.contains(&notification.payload()) {
                lookups.clear_content();
            } else {
                lookups.clear();
            }
        }
        // The connection was lost (`None`) or the pool closed: notifications may have been
        // missed, so nothing is served from memory until listening again.
        lookups.set_live(false);
    }
}
