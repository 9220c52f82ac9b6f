//! `aws-iam-user-secret` and the `aws` connection on Infisical's wire (reference §9.1–9.2): the
//! connection's method fields, the rotation's `userName` and optional `region`, the
//! `{accessKeyId, secretAccessKey}` mapping and the credential a slot holds.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::rotation::provider::{sealed, Credential};
use crate::validation::{invalid, secret_name_rule};

/// The regions Infisical's `region` takes (its AWSRegion enum), GovCloud included.
pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "mx-central-1",
    "ca-central-1",
    "ca-west-1",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "sa-east-1",
];

pub const DEFAULT_REGION: &str = "us-east-1";

/// The `credentials` of an `aws` connection: `assume-role` takes `roleArn`, `access-key`
/// takes `accessKeyId` and `secretAccessKey` (checked per method in `connection.rs`).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsConnectionInput {
    /// `assume-role`: the role Rotary assumes (its trust policy names Rotary's principal and
    /// the organization id as `sts:ExternalId`).
    #[serde(default)]
    #[schema(example = "arn:aws:iam::123456789012:role/rotary")]
    pub role_arn: Option<String>,
    /// `access-key`.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// `access-key`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub secret_access_key: Option<String>,
}

/// An `aws` connection as stored (sealed). The API shows `{}` (assume-role) or
/// `{accessKeyId}` (access-key).
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum AwsConnection {
    #[serde(rename_all = "camelCase")]
    AssumeRole { role_arn: String },
    #[serde(rename_all = "camelCase")]
    AccessKey {
        access_key_id: String,
        #[serde(serialize_with = "sealed::expose")]
        secret_access_key: SecretString,
    },
}

/// IAM user names: 1–64 of letters, digits and `+=,.@_-` (IAM's own rule, checked before
/// any call; Infisical only requires one character).
fn user_name_rule(name: &str) -> Result<(), ValidationError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("too_small", "Client Name Required".into()));
    }
    let ok = name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !ok {
        return Err(invalid(
            "invalid_string",
            "An IAM user name is 1 to 64 letters, digits and +=,.@_-".into(),
        ));
    }
    Ok(())
}

fn region_rule(region: &str) -> Result<(), ValidationError> {
    if REGIONS.contains(&region) {
        return Ok(());
    }
    let expected: Vec<String> = REGIONS.iter().map(|r| format!("'{r}'")).collect();
    Err(invalid(
        "invalid_enum_value",
        format!(
            "Invalid enum value. Expected {}, received '{region}'",
            expected.join(" | ")
        ),
    ))
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsParameters {
    /// The IAM user whose access keys are rotated (a user of its own: Rotary never deletes
    /// a key it did not issue, and IAM allows two per user).
    #[validate(custom(function = "user_name_rule"))]
    #[schema(max_length = 64)]
    pub user_name: String,
    /// The region the calls are signed for (IAM is global; it picks the partition). Default
    /// us-east-1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "region_rule"))]
    pub region: Option<String>,
}

impl AwsParameters {
    pub fn normalized(&self) -> AwsParameters {
        AwsParameters {
            user_name: self.user_name.trim().to_string(),
            region: self.region.clone(),
        }
    }
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsMapping {
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub access_key_id: String,
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub secret_access_key: String,
}

/// A slot: an access key of the user.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsKey {
    pub access_key_id: String,
    #[serde(serialize_with = "sealed::expose")]
    #[schema(value_type = String)]
    pub secret_access_key: SecretString,
}

impl Credential for AwsKey {
    fn secrets(&self) -> Vec<(&'static str, SecretString)> {
        vec![
            (
                "accessKeyId",
                SecretString::from(self.access_key_id.clone()),
            ),
            ("secretAccessKey", self.secret_access_key.clone()),
        ]
    }
    fn label(&self) -> String {
        format!("access key {}", self.access_key_id)
    }
}
