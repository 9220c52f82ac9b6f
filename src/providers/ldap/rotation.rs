//! `ldap-password`: one account's password changed in place (single-phase: the old password
//! dies when the new one is set).
//!
//! | phase    | what                                                                       |
//! |----------|----------------------------------------------------------------------------|
//! | Prepared | choose the new password; journaled, sealed, first (with the target's        |
//! |          | current password from `temporaryParameters` on a target-principal create)  |
//! | Issued   | if the new password already binds (a resumed run), nothing; else change it: |
//! |          | the connection's principal resets it, or changes its own, or the target     |
//! |          | changes its own with its current password                                   |
//! | Verified | bind as the target with the new password                                    |
//!
//! From Issued on the run only rolls forward and publishes: the old password is gone. When
//! the target is the connection's own principal, the connection's stored password changes in
//! the transaction that publishes (`connection_update`), and until then the run binds with the
//! journaled one.

use std::sync::Arc;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::connections::target::{self, Target};
use crate::providers::ldap::client::{self, bind, change_password, connect, resolve};
use crate::providers::ldap::connection::APP;
use crate::providers::ldap::wire::{
    same_principal, LdapConnection, LdapCredential, LdapParameters, RotationMethod,
};
use crate::providers::password;
use crate::rotation::provider::{
    sealed, Phase, RotationModel, RotationType, Run, StepError, StepResult,
};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct LdapPassword;

pub type LdapTarget = Target<LdapConnection>;

/// What a run keeps between phases besides the new password.
#[derive(Default, Serialize, Deserialize)]
pub struct LdapJournal {
    /// The target's current password, given once in `temporaryParameters` (target-principal
    /// create).
    #[serde(
        default,
        serialize_with = "sealed::expose_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub current: Option<SecretString>,
    /// The target's DN (a UPN resolved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
}

type LdapRun<'a> = Run<'a, LdapPassword>;

impl RotationType for LdapPassword {
    const TYPE: &'static str = "ldap-password";
    const NAME: &'static str = "LDAP Password";
    const PROVIDER: &'static str = "the directory";
    const MODEL: RotationModel = RotationModel::SinglePhase;
    const PHASES: &'static [Phase] = &[Phase::Prepared, Phase::Issued, Phase::Verified];
    const LAST_ABANDONABLE: Phase = Phase::Prepared;

    type Parameters = LdapParameters;
    type Credential = LdapCredential;
    type Journal = LdapJournal;
    type Client = LdapTarget;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<LdapTarget>> {
        target::target(state, rotation, APP, Self::PROVIDER).await
    }

    async fn run(phase: Phase, run: &mut LdapRun<'_>) -> StepResult {
        match phase {
            Phase::Prepared => prepare(run, &new_password(run)?),
            Phase::Issued => issue(run).await,
            Phase::Verified => {
                let new = issued(run)?.password.clone();
                let dn = target_dn(run).await?;
                let t = &run.client;
                client::check_bind(&t.connection, &dn, &new, t.allow_internal)
                    .await
                    .map_err(|e| match e {
                        StepError::Fatal(m) => {
                            StepError::Fatal(format!("Failed to verify credentials - {m}"))
                        }
                        other => other,
                    })
            }
            other => Err(StepError::Panicked(format!("LDAP has no phase {other:?}"))),
        }
    }

    /// Whether the new password binds although the change's answer was lost.
    async fn switched_meanwhile(run: &LdapRun<'_>) -> bool {
        let (Some(login), Ok(dn)) = (run.issued.as_ref(), target_dn(run).await) else {
            return false;
        };
        let t = &run.client;
        client::check_bind(&t.connection, &dn, &login.password, t.allow_internal)
            .await
            .is_ok()
    }

    /// Revoke: one more change, to a password nobody keeps (Infisical's revoke). When the
    /// target is the connection's principal the connection keeps it (`connection_update`).
    /// The password is derived from the root key and the revoke run's id, so a revoke taken
    /// over after it changed the password finds it (`issue` first binds with it): with a new
    /// random one a target-principal revoke could no longer bind as the account.
    async fn revoke(run: &mut LdapRun<'_>) -> StepResult {
        if run.issued.is_none() {
            let unknown = SecretString::from(password::derived(
                run.key,
                &format!("ldap-revoke:{}", run.run_id),
                &Default::default(),
            ));
            prepare(run, &unknown)?;
        }
        issue(run).await
    }

    fn connection_update(run: &LdapRun<'_>) -> Option<serde_json::Value> {
        let login = run.issued.as_ref()?;
        let c = &run.client.connection;
        if !same_principal(&run.params.dn, &c.dn) {
            return None;
        }
        let updated = LdapConnection {
            password: login.password.clone(),
            ..c.clone()
        };
        serde_json::to_value(updated).ok()
    }
}

fn issued<'r>(run: &'r LdapRun<'_>) -> StepResult<&'r LdapCredential> {
    run.issued
        .as_ref()
        .ok_or_else(|| StepError::Panicked("no password was prepared".into()))
}

fn new_password(run: &LdapRun<'_>) -> StepResult<SecretString> {
    let requirements = run.params.password_requirements.clone().unwrap_or_default();
    if let Some(problem) = requirements.problem() {
        return Err(StepError::Fatal(problem));
    }
    Ok(SecretString::from(password::generate(&requirements)))
}

/// Prepared: the new password, chosen once per run (a resumed run keeps what its journal
/// holds).
fn prepare(run: &mut LdapRun<'_>, password: &SecretString) -> StepResult {
    if run.issued.is_none() {
        run.issued = Some(LdapCredential {
            dn: run.params.dn.trim().to_string(),
            password: password.clone(),
        });
    }
    Ok(())
}

/// Whether the target is the connection's own principal.
fn self_rotation(run: &LdapRun<'_>) -> bool {
    same_principal(&run.params.dn, &run.client.connection.dn)
}

/// The connection principal's password now: the stored one, or, when this run changes the
/// principal's own password and already has, the journaled one.
async fn principal_password(run: &LdapRun<'_>) -> SecretString {
    let c = &run.client.connection;
    if self_rotation(run) {
        if let Some(login) = &run.issued {
            if client::check_bind(c, &c.dn, &login.password, run.client.allow_internal)
                .await
                .is_ok()
            {
                return login.password.clone();
            }
        }
    }
    c.password.clone()
}

/// The target's DN: the journaled one, the parameter when it is a DN, or a UPN resolved by
/// the connection's principal.
async fn target_dn(run: &LdapRun<'_>) -> StepResult<String> {
    if let Some(dn) = &run.journal.resolved {
        return Ok(dn.clone());
    }
    let dn = run.params.dn.trim();
    if !dn.contains('@') || dn.contains('=') {
        return Ok(dn.to_string());
    }
    let c = &run.client.connection;
    let mut ldap = connect(c, run.client.allow_internal).await?;
    bind(&mut ldap, c, &c.dn, &principal_password(run).await).await?;
    let resolved = resolve(&mut ldap, c, dn).await;
    let _ = ldap.unbind().await;
    resolved
}

/// Issued: the change, unless the new password already binds (a resumed run).
async fn issue(run: &mut LdapRun<'_>) -> StepResult {
    let new = issued(run)?.password.clone();
    let dn = target_dn(run).await?;
    run.journal.resolved = Some(dn.clone());
    let t = run.client.clone();
    let c = &t.connection;
    if client::check_bind(c, &dn, &new, t.allow_internal)
        .await
        .is_ok()
    {
        return Ok(());
    }
    let mut ldap = connect(c, t.allow_internal).await?;
    let result = match run.params.method() {
        RotationMethod::TargetPrincipal => {
            // The current password: the one given at create, else the active slot's, else
            // the inactive slot's (a run that settled after changing it).
            let candidates: Vec<SecretString> = run
                .journal
                .current
                .iter()
                .cloned()
                .chain(run.slots.active().map(|l| l.password.clone()))
                .chain(run.slots.inactive().map(|l| l.password.clone()))
                .collect();
            if candidates.is_empty() {
                return Err(StepError::Fatal(
                    "a target-principal rotation needs the target's current password (temporaryParameters.password)".into(),
                ));
            }
            let mut current = None;
            let mut refused = None;
            for candidate in candidates {
                match bind(&mut ldap, c, &dn, &candidate).await {
                    Ok(()) => {
                        current = Some(candidate);
                        break;
                    }
                    Err(e) => refused = Some(e),
                }
            }
            let Some(current) = current else {
                return Err(
                    refused.unwrap_or_else(|| StepError::Fatal("no current password binds".into()))
                );
            };
            change_password(&mut ldap, c, &dn, Some(&current), &new).await
        }
        RotationMethod::ConnectionPrincipal => {
            let principal = principal_password(run).await;
            bind(&mut ldap, c, &c.dn, &principal).await?;
            let old = self_rotation(run).then_some(&principal);
            change_password(&mut ldap, c, &dn, old, &new).await
        }
    };
    let _ = ldap.unbind().await;
    result
}
