//! The `aws` app connection (reference §9.1). `access-key`: an IAM principal's key, stored
//! sealed. `assume-role`: a role ARN; Rotary assumes it with the organization id as
//! ExternalId, signing with its own key (ROTARY_AWS_ACCESS_KEY_ID) or the usual AWS
//! environment. Both are checked with STS `GetCallerIdentity` (as Infisical). Each
//! connection's client is shared by its runs (it keeps the assumed role's session); and the
//! users helper.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::connections::types::ConnectionType;
use crate::error::{ApiError, ApiResult, ErrorBody, Issue};
use crate::http::extract::ApiPath;
use crate::providers::aws::client::AwsClient;
use crate::providers::aws::wire::{AwsConnection, AwsConnectionInput, DEFAULT_REGION};
use crate::rotation::provider::{StepError, StepResult};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

pub const APP: &str = "aws";
pub const ASSUME_ROLE: &str = "assume-role";
pub const ACCESS_KEY: &str = "access-key";

pub struct AwsApp;

fn guard(state: &AppState) -> Result<(), String> {
    match &state.aws.endpoint {
        Some(url) => crate::providers::url_guard::check_literal(url, state.allow_internal_urls),
        None => Ok(()),
    }
}

/// A method's field: `Required` when missing, `empty` when blank (Zod's two answers).
fn field(value: &Option<String>, name: &str, empty: &str) -> Result<String, Issue> {
    match value.as_deref().map(str::trim) {
        None => Err(Issue::new(
            "invalid_type",
            &["credentials", name],
            "Required".to_string(),
        )),
        Some("") => Err(Issue::new(
            "too_small",
            &["credentials", name],
            empty.to_string(),
        )),
        Some(v) => Ok(v.to_string()),
    }
}

pub fn client(state: &AppState, org: Uuid, c: AwsConnection) -> AwsClient {
    AwsClient::new(c, org, state.aws.clone(), state.provider_timeout)
}

impl ConnectionType for AwsApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "AWS";
    const METHODS: &'static [&'static str] = &[ASSUME_ROLE, ACCESS_KEY];

    type Input = AwsConnectionInput;
    type Credentials = AwsConnection;

    async fn validate(
        state: &AppState,
        org: Uuid,
        method: &str,
        input: &AwsConnectionInput,
    ) -> ApiResult<AwsConnection> {
        let c = if method == ASSUME_ROLE {
            AwsConnection::AssumeRole {
                role_arn: field(&input.role_arn, "roleArn", "Role ARN required")
                    .map_err(|i| ApiError::Validation(vec![i]))?,
            }
        } else {
            let id = field(
                &input.access_key_id,
                "accessKeyId",
                "Access Key ID required",
            );
            let secret = field(
                &input.secret_access_key,
                "secretAccessKey",
                "Secret Access Key required",
            );
            match (id, secret) {
                (Ok(access_key_id), Ok(secret)) => AwsConnection::AccessKey {
                    access_key_id,
                    secret_access_key: secret.into(),
                },
                (id, secret) => {
                    return Err(ApiError::Validation(
                        [id.err(), secret.err()].into_iter().flatten().collect(),
                    ))
                }
            }
        };
        Self::check(state, org, c.clone()).await?;
        Ok(c)
    }

    async fn check(state: &AppState, org: Uuid, c: AwsConnection) -> ApiResult<()> {
        guard(state)
            .map_err(|e| ApiError::bad_request(format!("Unable to validate connection: {e}")))?;
        match client(state, org, c).identity(DEFAULT_REGION).await {
            Ok(_) => Ok(()),
            Err(f) if f.is_transient() => Err(ApiError::Upstream(format!(
                "Unable to validate connection: {}",
                f.message
            ))),
            Err(f) => Err(ApiError::bad_request(format!(
                "Unable to validate connection: {}",
                f.message
            ))),
        }
    }

    fn public(c: &AwsConnection) -> Value {
        match c {
            AwsConnection::AssumeRole { .. } => json!({}),
            AwsConnection::AccessKey { access_key_id, .. } => {
                json!({"accessKeyId": access_key_id})
            }
        }
    }

    fn helper_routes() -> axum::Router<AppState> {
        axum::Router::new().route(
            "/api/v1/app-connections/aws/{connectionId}/users",
            axum::routing::get(users),
        )
    }
}

/// The connection's client, shared by its runs and rebuilt when the connection changes.
pub async fn shared_client(state: &AppState, row: &ConnectionRow) -> StepResult<Arc<AwsClient>> {
    let org = row.org_id;
    crate::connections::target::shared(state, row, |c: AwsConnection| {
        guard(state)
            .map_err(|e| StepError::Setup(format!("The app connection cannot be used: {e}")))?;
        Ok(client(state, org, c))
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct IamUser {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "Arn")]
    pub arn: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IamUsers {
    pub iam_users: Vec<IamUser>,
}

#[utoipa::path(get, path = "/api/v1/app-connections/aws/{connectionId}/users", tag = "App Connections",
    params(("connectionId" = Uuid, Path)), security(("bearer" = [])),
    description = "The account's IAM users (the picker for a rotation's userName).",
    responses((status = 200, body = IamUsers), (status = "4XX", body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn users(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<IamUsers>> {
    let row = crate::http::app_connections::visible(
        &state,
        &auth,
        id,
        Some(APP),
        crate::access::Action::Read,
    )
    .await?;
    let client = shared_client(&state, &row).await?;
    let users = client
        .users(DEFAULT_REGION)
        .await
        .map_err(|f| f.api("Failed to list AWS IAM users"))?;
    Ok(Json(IamUsers {
        iam_users: users
            .into_iter()
            .map(|(user_name, arn)| IamUser { user_name, arn })
            .collect(),
    }))
}
