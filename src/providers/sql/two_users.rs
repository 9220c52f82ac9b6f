//! What the two-user SQL types (postgres, mysql, mssql, oracledb) do the same way: which user a run rotates,
//! its new password, and revoke's passwords nobody keeps. Each type applies them with its own
//! statement and driver.

use secrecy::SecretString;

use crate::providers::login::Login;
use crate::providers::password;
use crate::providers::sql::statement;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::provider::{RotationType, Run, StepError, StepResult};
use crate::store::rotations::Lifecycle;

/// A rotation type of two users: its parameters and slots are the SQL ones.
pub trait TwoUsers: RotationType<Parameters = SqlParameters, Credential = Login> {}

impl<T: RotationType<Parameters = SqlParameters, Credential = Login>> TwoUsers for T {}

/// The login Prepared chose (Issued and Verified work on it).
pub fn issued<'r, T: TwoUsers>(run: &'r Run<'_, T>) -> StepResult<&'r Login> {
    run.issued
        .as_ref()
        .ok_or_else(|| StepError::Panicked("no password was prepared".into()))
}

/// Prepared: the inactive user (slot i belongs to username i+1) and a new password. Chosen
/// once per run: a resumed run keeps what its journal holds, so a crash between choosing and
/// applying re-applies the same password.
pub fn prepare<T: TwoUsers>(run: &mut Run<'_, T>) -> StepResult {
    prepare_with(run, &password::PasswordRequirements::default())
}

/// [`prepare`] for a type whose passwords default to other requirements than Infisical's
/// usual 48 characters (Oracle's 30).
pub fn prepare_with<T: TwoUsers>(
    run: &mut Run<'_, T>,
    default: &password::PasswordRequirements,
) -> StepResult {
    if run.issued.is_some() {
        return Ok(());
    }
    let params = &run.params;
    let username = if run.rotation.lifecycle != Lifecycle::Active || run.slots.is_empty() {
        &params.username1
    } else if run.slots.active_index == 0 {
        &params.username2
    } else {
        &params.username1
    };
    let username = username.trim().to_string();
    if !statement::safe_name(&username) {
        return Err(StepError::Fatal(format!(
            "the username \"{username}\" cannot be used in a statement"
        )));
    }
    let requirements = params
        .password_requirements
        .clone()
        .unwrap_or_else(|| default.clone());
    if let Some(problem) = requirements.problem() {
        return Err(StepError::Fatal(problem));
    }
    run.issued = Some(Login {
        username,
        password: SecretString::from(password::generate(&requirements)),
    });
    Ok(())
}

/// Revoke: a random password nobody keeps for every slot's user (Infisical's revoke).
pub fn unknown_passwords<T: TwoUsers>(run: &Run<'_, T>) -> Vec<Login> {
    unknown_passwords_with(run, &password::PasswordRequirements::default())
}

/// [`unknown_passwords`] made to `requirements`.
pub fn unknown_passwords_with<T: TwoUsers>(
    run: &Run<'_, T>,
    requirements: &password::PasswordRequirements,
) -> Vec<Login> {
    run.slots
        .items
        .iter()
        .map(|l| Login {
            username: l.username.clone(),
            password: SecretString::from(password::generate(requirements)),
        })
        .collect()
}

/// The statements that set `login`'s password: the `rotationStatement` rendered, or `None`
/// for the type's own statement.
pub fn custom_statements<T: TwoUsers>(
    run: &Run<'_, T>,
    login: &Login,
    database: &str,
) -> StepResult<Option<Vec<String>>> {
    use secrecy::ExposeSecret;
    let Some(template) = run
        .params
        .rotation_statement
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    else {
        return Ok(None);
    };
    if let Some(problem) = statement::problem(template) {
        return Err(StepError::Fatal(problem.into()));
    }
    Ok(Some(statement::render(
        template,
        &login.username,
        login.password.expose_secret(),
        database,
    )))
}
