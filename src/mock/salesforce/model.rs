//! The mock org's state: apps, OAuth consumers with a primary credential and one staged slot,
//! users, sessions, a virtual clock, the knobs for behaviour Salesforce does not document,
//! and the request log. Pure data and rules; no HTTP here.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Staged credentials live 30 days; so do rotated (previous) ones.
pub const STAGED_LIFETIME_DAYS: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cred {
    pub key: String,
    pub secret: String,
    pub minted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StagedState {
    Active,
    Rotated,
    Expired,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Staged {
    pub id: String,
    pub cred: Cred,
    pub state: StagedState,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Retired {
    pub cred: Cred,
    /// deleted, replaced, expired
    pub why: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Consumer {
    pub id: String,
    pub name: String,
    pub primary: Cred,
    pub slot: Option<Staged>,
    /// Credentials that no longer authenticate, kept for the control API's audits.
    pub graveyard: Vec<Retired>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub id: String,
    pub developer_name: String,
    pub label: String,
    pub has_usage: bool,
    pub policy_full_name: String,
    pub plugins_enabled: bool,
    pub oauth_enabled: bool,
    pub cc_flow_enabled: bool,
    pub run_as: Option<String>,
    pub session_timeout_min: Option<i64>,
    pub consumers: Vec<Consumer>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub username: String,
    pub active: bool,
    pub eca_developer: bool,
    pub view_client_secret: bool,
    pub eca_policy_admin: bool,
    pub modify_metadata: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub user: String,
    pub app: String,
    pub consumer: String,
    pub via_key: String,
    pub issued_at: DateTime<Utc>,
    pub last_used: DateTime<Utc>,
    pub timeout_min: i64,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// "Allow access to External Client App consumer secrets via REST API".
    pub rest_secret_access: bool,
    pub metadata_api_enabled: bool,
}

/// Behaviour Salesforce leaves undocumented, switchable (reference 5.3). Defaults are the
/// reference's best guess.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Knobs {
    /// `self` (staged `url` = …/staged/{id}) or `primary` (…/{consumerId}, the doc's literal text).
    pub staged_url_mode: String,
    pub rotated_blocks_post: bool,
    pub rotate_keeps_staged_id: bool,
    /// `error` or `swap_back`.
    pub rotate_twice: String,
    pub staging_mints_new_key: bool,
    pub post_staged_status: u16,
    pub duplicate_post_status: u16,
    /// `empty200` or `404`.
    pub empty_staged_get: String,
    /// `FUNCTIONALITY_NOT_ENABLED`, `INSUFFICIENT_ACCESS` or `404`.
    pub rest_secret_off_error: String,
    /// `invalid_client_id` or `invalid_client`.
    pub oauth_disabled_token_error: String,
    /// `invalid_grant` or `invalid_client`.
    pub cc_flow_disabled_error: String,
    pub token_error_status: u16,
    pub revoke_sessions_on_credential_delete: bool,
    pub revoke_sessions_on_oauth_disable: bool,
    pub reuse_tokens: bool,
    /// `merge`, `strict` or `overwrite`.
    pub metadata_missing_required: String,
    pub usage_id_length: usize,
    pub usage_lists_unused_apps: bool,
    pub identity_host: Option<String>,
    pub jwt_access_tokens: bool,
    pub session_timeout_min: i64,
    /// `sliding` or `absolute`.
    pub session_mode: String,
    /// Calls allowed per 24 hours before `REQUEST_LIMIT_EXCEEDED`.
    pub api_limit_24h: u64,
    pub latency_ms: u64,
    pub new_credential_delay_ms: u64,
    pub revocation_delay_ms: u64,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            staged_url_mode: "self".into(),
            rotated_blocks_post: false,
            rotate_keeps_staged_id: true,
            rotate_twice: "error".into(),
            staging_mints_new_key: true,
            post_staged_status: 201,
            duplicate_post_status: 400,
            empty_staged_get: "empty200".into(),
            rest_secret_off_error: "FUNCTIONALITY_NOT_ENABLED".into(),
            oauth_disabled_token_error: "invalid_client_id".into(),
            cc_flow_disabled_error: "invalid_grant".into(),
            token_error_status: 400,
            revoke_sessions_on_credential_delete: false,
            revoke_sessions_on_oauth_disable: false,
            reuse_tokens: false,
            metadata_missing_required: "merge".into(),
            usage_id_length: 18,
            usage_lists_unused_apps: false,
            identity_host: None,
            jwt_access_tokens: false,
            session_timeout_min: 120,
            session_mode: "sliding".into(),
            api_limit_24h: 15_000,
            latency_ms: 0,
            new_credential_delay_ms: 0,
            revocation_delay_ms: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub app: String,
    pub consumer: Option<String>,
    pub key: Option<String>,
}

/// One consumer's credentials, as `Org::saved_credentials` keeps them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedConsumer {
    pub app: String,
    pub consumer: String,
    pub primary: Cred,
    pub slot: Option<Staged>,
    pub graveyard: Vec<Retired>,
}

/// One org. All ids are 18 characters; lookups also accept the 15-character form.
#[derive(Debug)]
pub struct Org {
    pub id: String,
    pub instance_url: String,
    pub settings: Settings,
    pub users: BTreeMap<String, User>,
    pub apps: Vec<App>,
    pub sessions: BTreeMap<String, Session>,
    pub api_used: u64,
    /// Added to the wall clock: the mock's virtual time.
    pub clock_offset: Duration,
    pub knobs: Knobs,
    pub events: Vec<Event>,
    pub rng: StdRng,
    /// Apps by the 15-character form of their id (positions in `apps`), so a lookup does not
    /// scan every app: benchmarks seed 10,000 of them. Rebuilt by `load`, the only writer.
    app_index: std::collections::HashMap<String, usize>,
    /// When `tick` last ran; it runs at most once per (virtual) second, since it visits every
    /// consumer.
    last_tick: Option<DateTime<Utc>>,
}

const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const KEY_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

/// Whether `given` names the 18-character id `id` (in full or by its 15-character form).
pub fn same_id(id: &str, given: &str) -> bool {
    id == given || (given.len() == 15 && id.starts_with(given))
}

impl Org {
    pub fn new(instance_url: &str, seed: Option<u64>) -> Self {
        let mut rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        let id = random_id(&mut rng, "00D");
        Org {
            id,
            instance_url: instance_url.trim_end_matches('/').to_string(),
            settings: Settings {
                rest_secret_access: true,
                metadata_api_enabled: true,
            },
            users: BTreeMap::new(),
            apps: Vec::new(),
            sessions: BTreeMap::new(),
            api_used: 0,
            clock_offset: Duration::zero(),
            knobs: Knobs::default(),
            events: Vec::new(),
            rng,
            app_index: std::collections::HashMap::new(),
            last_tick: None,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }

    pub fn new_id(&mut self, prefix: &str) -> String {
        random_id(&mut self.rng, prefix)
    }

    pub fn new_cred(&mut self) -> Cred {
        let key: String = "3MVG9"
            .chars()
            .chain((0..80).map(|_| KEY_CHARS[self.rng.gen_range(0..KEY_CHARS.len())] as char))
            .collect();
        Cred {
            key,
            secret: self.new_secret(),
            minted_at: self.now(),
        }
    }

    pub fn new_secret(&mut self) -> String {
        (0..32)
            .map(|_| format!("{:02X}", self.rng.gen::<u8>()))
            .collect()
    }

    pub fn event(&mut self, kind: &str, app: &str, consumer: Option<&str>, key: Option<&str>) {
        let at = self.now();
        self.events.push(Event {
            at,
            kind: kind.into(),
            app: app.into(),
            consumer: consumer.map(str::to_string),
            key: key.map(str::to_string),
        });
    }

    /// Applies the passage of (virtual) time: Active staged records expire after 30 days,
    /// Rotated ones disappear.
    pub fn tick(&mut self) {
        let now = self.now();
        if self
            .last_tick
            .is_some_and(|last| now >= last && now < last + Duration::seconds(1))
        {
            return;
        }
        self.last_tick = Some(now);
        let mut events = Vec::new();
        for app in &mut self.apps {
            for consumer in &mut app.consumers {
                let Some(slot) = &mut consumer.slot else {
                    continue;
                };
                if now < slot.expires_at {
                    continue;
                }
                match slot.state {
                    StagedState::Active => {
                        slot.state = StagedState::Expired;
                        events.push((
                            "expired",
                            app.id.clone(),
                            consumer.id.clone(),
                            slot.cred.key.clone(),
                        ));
                    }
                    StagedState::Rotated => {
                        let gone = consumer.slot.take().expect("slot is present");
                        events.push((
                            "previous_removed",
                            app.id.clone(),
                            consumer.id.clone(),
                            gone.cred.key.clone(),
                        ));
                        consumer.graveyard.push(Retired {
                            cred: gone.cred,
                            why: "expired".into(),
                            at: now,
                        });
                    }
                    StagedState::Expired => {}
                }
            }
        }
        for (kind, app, consumer, key) in events {
            self.event(kind, &app, Some(&consumer), Some(&key));
        }
    }

    fn app_position(&self, id: &str) -> Option<usize> {
        let i = *self.app_index.get(id.get(..15)?)?;
        same_id(&self.apps[i].id, id).then_some(i)
    }

    pub fn app(&self, id: &str) -> Option<&App> {
        self.app_position(id).map(|i| &self.apps[i])
    }

    pub fn app_mut(&mut self, id: &str) -> Option<&mut App> {
        self.app_position(id).map(|i| &mut self.apps[i])
    }

    /// The app and consumer holding a credential key, and whether it is the primary, an
    /// Active staged or a Rotated (previous) credential that still authenticates.
    /// Knobs `new_credential_delay_ms` (a new staged key is not accepted at once) and
    /// `revocation_delay_ms` (a deleted key is still accepted for a while) model Salesforce's
    /// eventual consistency.
    pub fn find_key(&self, key: &str) -> Option<(&App, &Consumer, &Cred)> {
        let now = self.now();
        let new_delay = Duration::milliseconds(self.knobs.new_credential_delay_ms as i64);
        let revocation_delay = Duration::milliseconds(self.knobs.revocation_delay_ms as i64);
        for app in &self.apps {
            for consumer in &app.consumers {
                if consumer.primary.key == key {
                    return Some((app, consumer, &consumer.primary));
                }
                if let Some(slot) = &consumer.slot {
                    let propagated =
                        slot.state != StagedState::Active || now >= slot.created_at + new_delay;
                    if slot.cred.key == key && slot.state != StagedState::Expired && propagated {
                        return Some((app, consumer, &slot.cred));
                    }
                }
                if let Some(gone) = consumer
                    .graveyard
                    .iter()
                    .find(|g| g.cred.key == key && now < g.at + revocation_delay)
                {
                    return Some((app, consumer, &gone.cred));
                }
            }
        }
        None
    }

    /// Every consumer's credentials, so a demo can keep its org across restarts
    /// (`rotary dev` saves them on exit and restores them on the next start).
    pub fn saved_credentials(&self) -> Vec<SavedConsumer> {
        self.apps
            .iter()
            .flat_map(|app| {
                app.consumers.iter().map(|c| SavedConsumer {
                    app: app.id.clone(),
                    consumer: c.id.clone(),
                    primary: c.primary.clone(),
                    slot: c.slot.clone(),
                    graveyard: c.graveyard.clone(),
                })
            })
            .collect()
    }

    /// Puts back what `saved_credentials` returned, for the consumers this org still has
    /// (same seed, same ids). The generator is reseeded: replaying the seeded sequence would
    /// mint the very credentials minted before the restart.
    pub fn restore_credentials(&mut self, saved: Vec<SavedConsumer>) {
        for s in saved {
            let Some(app) = self.app_mut(&s.app) else {
                continue;
            };
            if let Some(c) = app.consumers.iter_mut().find(|c| c.id == s.consumer) {
                c.primary = s.primary;
                c.slot = s.slot;
                c.graveyard = s.graveyard;
            }
        }
        self.rng = StdRng::from_entropy();
    }

    pub fn session_timeout(&self, app: &App) -> i64 {
        app.session_timeout_min
            .unwrap_or(self.knobs.session_timeout_min)
    }
}

fn random_id(rng: &mut StdRng, prefix: &str) -> String {
    prefix
        .chars()
        .chain((0..18 - prefix.len()).map(|_| ID_CHARS[rng.gen_range(0..ID_CHARS.len())] as char))
        .collect()
}

// ---- seeds ---------------------------------------------------------------------------------

/// A seed file: the users and apps an org starts with. Keys and secrets may be given (to
/// reproduce a real org) or are generated.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Seed {
    #[serde(default)]
    pub users: Vec<SeedUser>,
    pub apps: Vec<SeedApp>,
    #[serde(default)]
    pub settings: Option<Settings>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedUser {
    pub username: String,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default = "yes")]
    pub eca_developer: bool,
    #[serde(default = "yes")]
    pub view_client_secret: bool,
    #[serde(default = "yes")]
    pub eca_policy_admin: bool,
    #[serde(default = "yes")]
    pub modify_metadata: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedApp {
    pub developer_name: String,
    pub label: Option<String>,
    #[serde(default = "yes")]
    pub cc_flow_enabled: bool,
    /// Username of the Run-As user.
    pub run_as: Option<String>,
    #[serde(default = "yes")]
    pub has_usage: bool,
    pub policy_full_name: Option<String>,
    /// Consumers (default: one, with generated credentials).
    #[serde(default)]
    pub consumers: Vec<SeedConsumer>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedConsumer {
    pub key: Option<String>,
    pub secret: Option<String>,
}

fn yes() -> bool {
    true
}

/// The demo org: `Rotary_Connector` (the app a Rotary connection logs in with) and
/// `Billing_Sync` (the app whose secret Rotary rotates), both run as an admin-like user.
pub fn demo_seed() -> Seed {
    let user = "rotary-runas@demo.example";
    let app = |name: &str, label: &str| SeedApp {
        developer_name: name.into(),
        label: Some(label.into()),
        cc_flow_enabled: true,
        run_as: Some(user.into()),
        has_usage: true,
        policy_full_name: None,
        consumers: vec![],
    };
    Seed {
        users: vec![SeedUser {
            username: user.into(),
            active: true,
            eca_developer: true,
            view_client_secret: true,
            eca_policy_admin: true,
            modify_metadata: true,
        }],
        apps: vec![
            app("Rotary_Connector", "Rotary Connector"),
            app("Billing_Sync", "Billing Sync"),
        ],
        settings: None,
    }
}

impl Org {
    /// Replaces users, apps, sessions and events with the seed's; keeps knobs and the clock.
    pub fn load(&mut self, seed: &Seed) -> Result<(), String> {
        self.users.clear();
        self.apps.clear();
        self.sessions.clear();
        self.events.clear();
        self.api_used = 0;
        if let Some(settings) = &seed.settings {
            self.settings = settings.clone();
        }
        for u in &seed.users {
            let id = self.new_id("005");
            self.users.insert(
                id.clone(),
                User {
                    id,
                    username: u.username.clone(),
                    active: u.active,
                    eca_developer: u.eca_developer,
                    view_client_secret: u.view_client_secret,
                    eca_policy_admin: u.eca_policy_admin,
                    modify_metadata: u.modify_metadata,
                },
            );
        }
        for a in &seed.apps {
            let run_as = match &a.run_as {
                Some(name) => Some(
                    self.user_by_name(name)
                        .ok_or_else(|| {
                            format!(
                                "app {}: runAs user '{name}' is not in users",
                                a.developer_name
                            )
                        })?
                        .id
                        .clone(),
                ),
                None => None,
            };
            let app_id = self.new_id("0xI");
            let label = a
                .label
                .clone()
                .unwrap_or_else(|| a.developer_name.replace('_', " "));
            let seeds = if a.consumers.is_empty() {
                vec![SeedConsumer::default()]
            } else {
                a.consumers.clone()
            };
            let mut consumers = Vec::new();
            for c in seeds {
                let mut cred = self.new_cred();
                if let Some(key) = c.key {
                    cred.key = key;
                }
                if let Some(secret) = c.secret {
                    cred.secret = secret;
                }
                consumers.push(Consumer {
                    id: self.new_id("888"),
                    name: label.clone(),
                    primary: cred,
                    slot: None,
                    graveyard: vec![],
                });
            }
            self.apps.push(App {
                id: app_id,
                developer_name: a.developer_name.clone(),
                label,
                has_usage: a.has_usage,
                policy_full_name: a
                    .policy_full_name
                    .clone()
                    .unwrap_or_else(|| format!("{}_plcy", a.developer_name)),
                plugins_enabled: true,
                oauth_enabled: true,
                cc_flow_enabled: a.cc_flow_enabled,
                run_as,
                session_timeout_min: None,
                consumers,
            });
        }
        self.app_index = self
            .apps
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id[..15].to_string(), i))
            .collect();
        self.last_tick = None;
        Ok(())
    }

    pub fn user_by_name(&self, username: &str) -> Option<&User> {
        self.users.values().find(|u| u.username == username)
    }
}
