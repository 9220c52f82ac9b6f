//! moto's AWS server, which `scripts/with-moto.sh` starts for the tests with request
//! authentication on (ROTARY_TEST_AWS_URL, and ROTARY_TEST_AWS_ADMIN: an administrator's key).
//! Every test makes IAM users of its own with the administrator's key; moto checks each
//! request's signature against the keys it holds, so a deleted key is refused.

use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use serde_json::json;

pub struct Moto {
    pub url: String,
    pub admin: (String, String),
}

pub fn moto() -> &'static Moto {
    static MOTO: std::sync::OnceLock<Moto> = std::sync::OnceLock::new();
    MOTO.get_or_init(|| {
        let url = std::env::var("ROTARY_TEST_AWS_URL")
            .expect("ROTARY_TEST_AWS_URL is not set: run the tests under scripts/with-moto.sh (scripts/test.sh does)");
        let admin = std::env::var("ROTARY_TEST_AWS_ADMIN").expect("ROTARY_TEST_AWS_ADMIN");
        let (id, secret) = admin.split_once(':').expect("<id>:<secret>");
        Moto {
            url,
            admin: (id.to_string(), secret.to_string()),
        }
    })
}

fn credentials(key: (&str, &str)) -> Credentials {
    Credentials::new(key.0, key.1, None, None, "test")
}

pub fn iam(key: (&str, &str)) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials(key))
            .http_client(rotary::providers::aws::client::https())
            .endpoint_url(&moto().url)
            .build(),
    )
}

pub fn admin() -> aws_sdk_iam::Client {
    let m = moto();
    iam((&m.admin.0, &m.admin.1))
}

/// Whether AWS (moto) accepts the key: STS GetCallerIdentity signed with it.
pub async fn works(id: &str, secret: &str) -> bool {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials((id, secret)))
            .http_client(rotary::providers::aws::client::https())
            .endpoint_url(&moto().url)
            .build(),
    );
    sts.get_caller_identity().send().await.is_ok()
}

/// A new IAM user named `<prefix>-<random>`, with no key.
pub async fn user(prefix: &str) -> String {
    let name = format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    admin().create_user().user_name(&name).send().await.unwrap();
    name
}

/// The permissions Infisical's docs give the connection's principal.
pub const MANAGER_POLICY: &[&str] = &[
    "iam:ListAccessKeys",
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:DeleteAccessKey",
    "iam:ListUsers",
];

/// A user with `actions` allowed on every resource, and its key.
pub async fn principal(prefix: &str, actions: &[&str]) -> (String, String, String) {
    let name = user(prefix).await;
    let policy = json!({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
    admin()
        .put_user_policy()
        .user_name(&name)
        .policy_name("rotary")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let (id, secret) = add_key(&name).await;
    (name, id, secret)
}

pub async fn add_key(user: &str) -> (String, String) {
    let out = admin()
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .unwrap();
    let key = out.access_key().unwrap();
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

pub async fn keys(user: &str) -> Vec<String> {
    admin()
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .unwrap()
        .access_key_metadata()
        .iter()
        .filter_map(|k| k.access_key_id().map(str::to_string))
        .collect()
}

pub async fn delete_key(user: &str, id: &str) {
    admin()
        .delete_access_key()
        .user_name(user)
        .access_key_id(id)
        .send()
        .await
        .unwrap();
}
