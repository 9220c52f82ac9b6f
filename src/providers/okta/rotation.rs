//! `okta-client-secret`: every rotation adds a client secret to the app, and deletes the one
//! of two rotations ago; the previous secret keeps working for one interval (dual-phase
//! within Okta's two secrets per app).
//!
//! | phase    | what                                                                        |
//! |----------|-----------------------------------------------------------------------------|
//! | Retired  | deactivate and delete the inactive slot's secret, and any secret a failed   |
//! |          | run added; after the first rotation, the secret the app had before it        |
//! | Prepared | choose the new secret's value; journaled, sealed, first                      |
//! | Issued   | add it to the app (Okta takes a secret of the caller's choosing); a resumed |
//! |          | run first looks for it among the app's secrets                               |
//! | Verified | read it back: it exists, is active, and is the value journaled              |
//!
//! Until it is published nobody uses the new secret, so a run that fails up to Verified is
//! abandoned and `discard` deletes the secret. Where Infisical differs: Okta generates its
//! secret and Infisical records it after the call, so a crash in between leaves a live secret
//! nobody knows; Rotary chooses the value and journals it before the call, so a resumed run
//! finds it (or `discard` deletes it). Infisical deletes the inactive secret after creating the
//! new one only when it can; Rotary deletes it first, so the two-secret limit never stops a
//! rotation that Rotary's own secrets fill.

use std::sync::Arc;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::connections::target;
use crate::providers::okta::client::{
    is_validation, removal_failed, OktaClient, OktaSecretInfo, MAX_SECRETS,
};
use crate::providers::okta::connection::APP;
use crate::providers::okta::wire::{OktaConnection, OktaParameters, OktaSecret};
use crate::providers::password::{self, PasswordRequirements, Required};
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct OktaClientSecret;

/// Nothing beyond the issued secret.
#[derive(Default, Serialize, Deserialize)]
pub struct OktaJournal {}

type OktaRun<'a> = Run<'a, OktaClientSecret>;

/// The secrets Rotary chooses: 64 letters and digits (Okta takes 14 to 100 URL-safe
/// characters, 32 at least for `client_secret_jwt` apps).
fn secret_requirements() -> PasswordRequirements {
    PasswordRequirements {
        length: 64,
        required: Required {
            lowercase: 5,
            uppercase: 5,
            digits: 5,
            symbols: 0,
        },
        allowed_symbols: None,
    }
}

impl RotationType for OktaClientSecret {
    const TYPE: &'static str = "okta-client-secret";
    const NAME: &'static str = "Okta Client Secret";
    const PROVIDER: &'static str = "Okta";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[
        Phase::Retired,
        Phase::Prepared,
        Phase::Issued,
        Phase::Verified,
    ];
    // Nothing switches before the publish: consumers learn of the new secret only then.
    const LAST_ABANDONABLE: Phase = Phase::Issued;

    type Parameters = OktaParameters;
    type Credential = OktaSecret;
    type Journal = OktaJournal;
    type Client = OktaClient;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<OktaClient>> {
        let t = target::target::<OktaConnection>(state, rotation, APP, Self::PROVIDER).await?;
        crate::providers::url_guard::check_literal(&t.connection.instance_url, t.allow_internal)
            .map_err(|e| StepError::Setup(format!("The app connection cannot be used: {e}")))?;
        Ok(Arc::new(OktaClient::new(
            state.provider_http.clone(),
            t.connection.clone(),
        )))
    }

    async fn run(phase: Phase, run: &mut OktaRun<'_>) -> StepResult {
        match phase {
            Phase::Retired => retire(run).await,
            Phase::Prepared => {
                if run.issued.is_none() {
                    run.issued = Some(OktaSecret {
                        client_id: app(run).to_string(),
                        client_secret: SecretString::from(password::generate(
                            &secret_requirements(),
                        )),
                        secret_id: String::new(),
                    });
                }
                Ok(())
            }
            Phase::Issued => issue(run).await,
            Phase::Verified => {
                let issued = issued(run)?.clone();
                let found = run
                    .client
                    .secret(&issued.client_id, &issued.secret_id)
                    .await
                    .map_err(|f| f.step("Failed to read back the new client secret"))?;
                match found {
                    Some(s)
                        if s.status == "ACTIVE"
                            && (s.client_secret.is_none() || s.is(&issued.client_secret)) =>
                    {
                        Ok(())
                    }
                    Some(s) if s.status != "ACTIVE" => Err(StepError::Fatal(format!(
                        "Okta holds the new client secret {} of app {} as {}, not ACTIVE",
                        s.id, issued.client_id, s.status
                    ))),
                    Some(_) => Err(StepError::Fatal(format!(
                        "Okta's client secret {} of app {} is not the value Rotary set",
                        issued.secret_id, issued.client_id
                    ))),
                    None => Err(StepError::Transient(format!(
                        "Okta does not list the new client secret {} of app {} yet",
                        issued.secret_id, issued.client_id
                    ))),
                }
            }
            other => Err(StepError::Panicked(format!("Okta has no phase {other:?}"))),
        }
    }

    /// The run is abandoned: delete the secret it added (nobody was told of it).
    async fn discard(run: &mut OktaRun<'_>) {
        let Some(issued) = run.issued.clone() else {
            return;
        };
        let result = async {
            let secrets = run.client.secrets(&issued.client_id).await?;
            for s in secrets.iter().filter(|s| mine(s, &issued)) {
                run.client.remove(&issued.client_id, &s.id).await?;
            }
            Ok::<_, crate::providers::http_failure::HttpFailure>(())
        };
        if let Err(f) = result.await {
            // The next run's Retired deletes it (it is in this run's journal).
            tracing::warn!(rotation_id = %run.rotation.id, app = %issued.client_id, error = %f.message, "could not delete the client secret of an abandoned Okta run");
        }
    }

    /// Revoke: every secret the rotation holds stops working. Okta keeps at least one active
    /// secret per app, so when Rotary's are all the app has, Okta first generates one that
    /// nobody keeps.
    async fn revoke(run: &mut OktaRun<'_>) -> StepResult {
        let app = app(run).to_string();
        let mut ours: Vec<String> = run
            .slots
            .items
            .iter()
            .map(|s| s.secret_id.clone())
            .collect();
        ours.extend(leftovers(run).await?);
        let secrets = list(run).await?;
        let others_active = secrets
            .iter()
            .any(|s| s.status == "ACTIVE" && !ours.contains(&s.id));
        // Inactive first: the last one removed is the one Okta needs a successor for.
        let mut present: Vec<&OktaSecretInfo> =
            secrets.iter().filter(|s| ours.contains(&s.id)).collect();
        present.sort_by_key(|s| s.status == "ACTIVE");
        for (i, s) in present.iter().enumerate() {
            if i + 1 == present.len() && !others_active {
                run.client.create(&app, None).await.map_err(|f| {
                    f.step(&format!(
                        "Failed to add a client secret nobody keeps to Okta app {app}"
                    ))
                })?;
            }
            run.client
                .remove(&app, &s.id)
                .await
                .map_err(|f| removal_failed(f, &s.id, &app))?;
        }
        Ok(())
    }
}

fn app<'r>(run: &'r OktaRun<'_>) -> &'r str {
    run.params.client_id.trim()
}

fn issued<'r>(run: &'r OktaRun<'_>) -> StepResult<&'r OktaSecret> {
    run.issued
        .as_ref()
        .ok_or_else(|| StepError::Panicked("no client secret was prepared".into()))
}

/// Whether Okta's secret is the one `ours` describes (by id, or by value before the id was
/// journaled).
fn mine(s: &OktaSecretInfo, ours: &OktaSecret) -> bool {
    (!ours.secret_id.is_empty() && s.id == ours.secret_id) || s.is(&ours.client_secret)
}

async fn list(run: &OktaRun<'_>) -> StepResult<Vec<OktaSecretInfo>> {
    let app = app(run);
    run.client.secrets(app).await.map_err(|f| {
        f.step(&format!(
            "Failed to list the client secrets of Okta app {app}"
        ))
    })
}

/// The Okta ids of secrets that failed runs added and no slot holds (their discard may have
/// failed), as Okta lists them now.
async fn leftovers(run: &OktaRun<'_>) -> StepResult<Vec<String>> {
    let abandoned: Vec<OktaSecret> = run
        .leftovers()
        .await?
        .into_iter()
        .filter_map(|state| state.issued)
        .collect();
    if abandoned.is_empty() {
        return Ok(Vec::new());
    }
    let secrets = list(run).await?;
    let slots: Vec<&str> = run
        .slots
        .items
        .iter()
        .map(|s| s.secret_id.as_str())
        .collect();
    Ok(secrets
        .iter()
        .filter(|s| !slots.contains(&s.id.as_str()) && abandoned.iter().any(|a| mine(s, a)))
        .map(|s| s.id.clone())
        .collect())
}

/// Retired: make room for the new secret without touching the one consumers use.
async fn retire(run: &mut OktaRun<'_>) -> StepResult {
    let app = app(run).to_string();
    let mut doomed = leftovers(run).await?;
    if let Some(inactive) = run.slots.inactive() {
        doomed.push(inactive.secret_id.clone());
    }
    for id in &doomed {
        run.client
            .remove(&app, id)
            .await
            .map_err(|f| removal_failed(f, id, &app))?;
    }
    // Room for the new secret when the app is still full: the active slot's own secret if
    // Okta holds it deactivated (it authenticates nobody), or the secret the app had before
    // the rotation was created: the rotation's first previous credential, which consumers
    // left when the first rotated one was published (Infisical deletes it at the second
    // rotation too). A secret someone added since is never Rotary's to delete.
    let Some(active) = run.slots.active().cloned() else {
        return Ok(());
    };
    let secrets = list(run).await?;
    if secrets.len() < MAX_SECRETS {
        return Ok(());
    }
    let dead_active = secrets
        .iter()
        .find(|s| s.id == active.secret_id && s.status != "ACTIVE");
    let created = run.rotation.created_at;
    let previous = || {
        secrets
            .iter()
            .find(|s| s.id != active.secret_id && s.created.is_some_and(|c| c < created))
    };
    if let Some(doomed) = dead_active.or_else(previous) {
        run.client
            .remove(&app, &doomed.id)
            .await
            .map_err(|f| removal_failed(f, &doomed.id, &app))?;
        run.note = Some(if doomed.id == active.secret_id {
            format!(
                "Deleted the active client secret {}: Okta holds it deactivated, so it authenticated nobody",
                doomed.id
            )
        } else {
            format!(
                "Deleted the client secret {} the app had before this rotation was created, to make room for the new one (Okta keeps two per app)",
                doomed.id
            )
        });
    }
    Ok(())
}

/// Issued: add the journaled secret, unless a resumed run finds Okta already has it.
async fn issue(run: &mut OktaRun<'_>) -> StepResult {
    let ours = issued(run)?.clone();
    let app = ours.client_id.clone();
    let secrets = list(run).await?;
    if let Some(found) = secrets.iter().find(|s| s.is(&ours.client_secret)) {
        run.issued.as_mut().expect("issued above").secret_id = found.id.clone();
        return Ok(());
    }
    let context = format!("Failed to add client secret to Okta app {app}");
    let id = match run.client.create(&app, Some(&ours.client_secret)).await {
        Ok(id) => id,
        Err(f) if is_validation(&f) && secrets.len() >= MAX_SECRETS => {
            // Infisical's words for a create; at a later rotation, what holds the room.
            return Err(StepError::Fatal(if run.slots.is_empty() {
                format!("{context}: You must have only a single secret for the Okta app prior to creating this secret rotation.")
            } else {
                let foreign: Vec<&str> = secrets
                    .iter()
                    .filter(|s| !run.slots.items.iter().any(|o| o.secret_id == s.id))
                    .map(|s| s.id.as_str())
                    .collect();
                format!(
                    "{context}: Okta keeps two client secrets per app, and the app holds {}, which this rotation did not issue: delete it in Okta and rotate again.",
                    foreign.join(" and ")
                )
            }));
        }
        Err(f) => return Err(f.step(&context)),
    };
    run.issued.as_mut().expect("issued above").secret_id = id;
    Ok(())
}
