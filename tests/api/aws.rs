//! What `aws-iam-user-secret` and the `aws` connection do beyond the generic suite
//! (`suite_targets::Aws`), against moto's AWS server with its request authentication on, each
//! test with IAM users of its own: Infisical's wire and refusals, the connection's methods
//! (assume-role with the organization id as ExternalId, which moto's trust policy checks), the
//! users helper, a user holding keys Rotary did not issue (never deleted: the run names them),
//! and a run resumed after a crash that lost its CreateAccessKey answer (its orphan deleted).

use std::time::Duration;

use serde_json::json;

use crate::helpers::{assert_error, fresh_database, spawn_server, test_options, ServerProcess};
use crate::moto;
use crate::suite::{self, Target};
use crate::suite_targets::Aws;

const BASE: &str = "/api/v2/secret-rotations/aws-iam-user-secret";
const CONNECTIONS: &str = "/api/v1/app-connections/aws";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

async fn world() -> Aws {
    let url = fresh_database().await;
    let app = spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await;
    Aws::on(app, &url).await
}

#[tokio::test]
async fn the_api_serves_aws_rotations_as_infisical_does() {
    let a = world().await;
    let (app, token) = (&a.app, &a.token);
    let entry = app.rotation_option(token, "aws-iam-user-secret").await;
    assert_eq!(
        entry,
        Some(
            json!({"name": "AWS IAM User Secret", "type": "aws-iam-user-secret", "connection": "aws",
                    "template": {"secretsMapping": {"accessKeyId": "AWS_ACCESS_KEY_ID", "secretAccessKey": "AWS_SECRET_ACCESS_KEY"}}})
        )
    );
    let options = app.get("/api/v1/app-connections/options", token).await;
    assert!(
        options.body["appConnectionOptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["app"] == "aws"
                && e["name"] == "AWS"
                && e["methods"] == json!(["assume-role", "access-key"])),
        "{}",
        options.body
    );
    for (field, value, code, message) in [
        ("userName", json!(" "), "too_small", "Client Name Required"),
        (
            "userName",
            json!("a/b"),
            "invalid_string",
            "An IAM user name is 1 to 64 letters, digits and +=,.@_-",
        ),
    ] {
        let mut body = a.body("aws-rotation");
        body["parameters"][field] = value;
        let r = app.post(BASE, token, body).await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": code, "path": ["parameters", field], "message": message}]),
        );
    }
    let mut body = a.body("aws-rotation");
    body["parameters"]["region"] = json!("mars-1");
    let r = app.post(BASE, token, body).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let message = r.body["message"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Invalid enum value. Expected 'us-east-1' | 'us-east-2'")
            && message.ends_with("received 'mars-1'"),
        "{message}"
    );
    // Nothing reached AWS: the user still has no key.
    assert_eq!(moto::keys(&a.user).await, Vec::<String>::new());

    // A region is kept as given; the created rotation shows Infisical's shape.
    let mut body = a.body("aws-rotation");
    body["parameters"]["region"] = json!("eu-west-1");
    let r = app.post(BASE, token, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rotation = &r.body["secretRotation"];
    assert_eq!(
        rotation["parameters"],
        json!({"userName": a.user, "region": "eu-west-1"})
    );
    assert_eq!(rotation["type"], "aws-iam-user-secret");
    assert_eq!(
        rotation["secretsMapping"],
        json!({"accessKeyId": "AWS_ACCESS_KEY_ID", "secretAccessKey": "AWS_SECRET_ACCESS_KEY"})
    );
    // One rotation per IAM user of a connection.
    let mut body = a.body("another");
    body["secretsMapping"] = json!({"accessKeyId": "OTHER_ID", "secretAccessKey": "OTHER_SECRET"});
    let r = app.post(BASE, token, body).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!("The IAM user \"{}\" is already rotated by another AWS IAM User Secret rotation of this connection. Delete the other rotation first.", a.user)),
    );
}

#[tokio::test]
async fn connections_are_checked_with_get_caller_identity_and_never_show_a_secret() {
    let a = world().await;
    let (app, token) = (&a.app, &a.token);
    let r = app
        .get(&format!("{CONNECTIONS}/{}", a.connection), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["appConnection"]["credentials"],
        json!({"accessKeyId": a.manager.1})
    );
    assert_eq!(r.body["appConnection"]["method"], "access-key");
    assert!(!r.body.to_string().contains(&a.manager.2));

    for (method, credentials, issues) in [
        (
            "access-key",
            json!({"accessKeyId": " "}),
            json!([{"code": "too_small", "path": ["credentials", "accessKeyId"], "message": "Access Key ID required"},
                   {"code": "invalid_type", "path": ["credentials", "secretAccessKey"], "message": "Required"}]),
        ),
        (
            "assume-role",
            json!({}),
            json!([{"code": "invalid_type", "path": ["credentials", "roleArn"], "message": "Required"}]),
        ),
        (
            "assume-role",
            json!({"roleArn": ""}),
            json!([{"code": "too_small", "path": ["credentials", "roleArn"], "message": "Role ARN required"}]),
        ),
    ] {
        let r = app
            .post(
                CONNECTIONS,
                token,
                json!({"name": "bad", "method": method, "projectId": a.project, "credentials": credentials}),
            )
            .await;
        assert_error(&r, 422, "ValidationFailure", issues);
    }
    // A wrong secret: AWS's words, never the secret.
    let r = app
        .post(
            CONNECTIONS,
            token,
            a.connection_body("wrong", "not-the-secret"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Unable to validate connection: SignatureDoesNotMatch"),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"));

    // The users helper: every IAM user of the account, this world's among them.
    let r = app
        .get(&format!("{CONNECTIONS}/{}/users", a.connection), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let users = r.body["iamUsers"].as_array().unwrap();
    let mine = users
        .iter()
        .find(|u| u["UserName"] == json!(a.user))
        .expect("the world's user is listed");
    assert_eq!(
        mine,
        &json!({"UserName": a.user, "Arn": format!("arn:aws:iam::123456789012:user/{}", a.user)})
    );
    // A principal without iam:ListUsers: AWS's refusal as a 400.
    let (_, id, secret) = moto::principal("no-list", &["iam:ListAccessKeys"]).await;
    let r = app
        .post(
            CONNECTIONS,
            token,
            json!({"name": "narrow", "method": "access-key", "projectId": a.project,
                   "credentials": {"accessKeyId": id, "secretAccessKey": secret}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let narrow = r.body["appConnection"]["id"].as_str().unwrap().to_string();
    let r = app
        .get(&format!("{CONNECTIONS}/{narrow}/users"), token)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Failed to list AWS IAM users: AccessDenied"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn assume_role_sends_the_organization_id_as_external_id() {
    let url = fresh_database().await;
    // Rotary's own key signs AssumeRole (ROTARY_AWS_ACCESS_KEY_ID).
    let (instance, id, secret) = moto::principal("rotary-instance", &["sts:AssumeRole"]).await;
    let mut options = test_options();
    options.aws.own_key = Some((id, secret.clone().into()));
    let app = spawn_server(&url, rotary::crypto::Key::generate(), options, false).await;
    let (client_id, client_secret, _, org) = app.bootstrap().await;
    let token = app.login(&client_id, &client_secret).await;
    let project = app.create_project(&token, "Cloud").await;

    let role = |name: &str, external_id: &str| {
        let trust = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": format!("arn:aws:iam::123456789012:user/{instance}")},
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]});
        let name = format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        async move {
            let iam = moto::admin();
            let arn = iam
                .create_role()
                .role_name(&name)
                .assume_role_policy_document(trust.to_string())
                .send()
                .await
                .unwrap()
                .role()
                .unwrap()
                .arn()
                .to_string();
            let policy = json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": moto::MANAGER_POLICY, "Resource": "*"}]});
            iam.put_role_policy()
                .role_name(&name)
                .policy_name("rotary")
                .policy_document(policy.to_string())
                .send()
                .await
                .unwrap();
            arn
        }
    };
    // A role that trusts another organization's ExternalId cannot be assumed.
    let foreign = role("other-org", &uuid::Uuid::new_v4().to_string()).await;
    let r = app
        .post(
            CONNECTIONS,
            &token,
            json!({"name": "foreign", "method": "assume-role", "projectId": project,
                   "credentials": {"roleArn": foreign}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap().starts_with(
            "Unable to validate connection: Failed to assume role - verify credentials and role configuration"
        ),
        "{}",
        r.body
    );
    assert!(!r.body.to_string().contains(&secret));

    let ours = role("this-org", &org).await;
    let r = app
        .post(
            CONNECTIONS,
            &token,
            json!({"name": "ours", "method": "assume-role", "projectId": project,
                   "credentials": {"roleArn": ours}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["appConnection"]["credentials"], json!({}));
    let connection = r.body["appConnection"]["id"].as_str().unwrap().to_string();

    // A rotation through the assumed role.
    let user = moto::user("assumed").await;
    let r = app
        .post(
            BASE,
            &token,
            json!({"name": "assumed", "projectId": project, "connectionId": connection,
                   "environment": "dev", "secretPath": "/", "isAutoRotationEnabled": false,
                   "rotationInterval": 30, "parameters": {"userName": user},
                   "secretsMapping": {"accessKeyId": "AWS_ACCESS_KEY_ID", "secretAccessKey": "AWS_SECRET_ACCESS_KEY"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (key_id, key_secret) = app
        .read_pair(
            &token,
            &project,
            ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        )
        .await;
    assert!(moto::works(&key_id, &key_secret).await);
    assert_eq!(moto::keys(&user).await, vec![key_id]);
}

#[tokio::test]
async fn keys_rotary_did_not_issue_are_never_deleted_and_named() {
    let a = world().await;
    // One key of the user's own: the first key fits beside it, the second does not.
    let (own, own_secret) = moto::add_key(&a.user).await;
    let id = suite::create(&a, "beside-a-key").await;
    let first = suite::mapped(&a).await;
    let r = suite::rotate(&a, &id).await;
    assert_eq!(r.status, 500, "{}", r.body);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "IAM user {} holds access key {own}, which Rotary did not issue, beside the rotation's active key {}",
            a.user, first[0]
        )) && message.contains(&format!("delete {own} (Rotary never deletes a key it did not issue)")),
        "{message}"
    );
    assert!(moto::works(&own, &own_secret).await, "the user's key works");
    assert_eq!(suite::mapped(&a).await, first, "the mapped key stays");
    assert!(a.works(&first).await);
    let mut held = moto::keys(&a.user).await;
    held.sort();
    let mut expected = vec![own.clone(), first[0].clone()];
    expected.sort();
    assert_eq!(held, expected);
    // Once the user's key is gone, rotations go on.
    moto::delete_key(&a.user, &own).await;
    let r = suite::rotate(&a, &id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    suite::assert_converged(&a, &id, "after the user's key went").await;

    // Two keys of its own: creation fails naming both, and nothing is created.
    let full = moto::user("full").await;
    let (k1, _) = moto::add_key(&full).await;
    let (k2, _) = moto::add_key(&full).await;
    let mut body = a.body("full");
    body["parameters"]["userName"] = json!(full);
    body["secretsMapping"] = json!({"accessKeyId": "FULL_ID", "secretAccessKey": "FULL_SECRET"});
    let r = a.app.post(BASE, &a.token, body).await;
    assert!(
        r.status.is_client_error() || r.status.is_server_error(),
        "{}",
        r.body
    );
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "IAM user {full} already holds 2 access keys that Rotary did not issue ({k1}, {k2})"
        )),
        "{message}"
    );
    let mut held = moto::keys(&full).await;
    held.sort();
    let mut expected = vec![k1, k2];
    expected.sort();
    assert_eq!(held, expected, "no key was deleted or added");
    let r = a.app.get(BASE, &a.token).await;
    let names: Vec<&str> = r.body["secretRotations"]
        .as_array()
        .map(|l| l.iter().filter_map(|s| s["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(!names.contains(&"full"), "{names:?}");
}

#[tokio::test]
async fn a_run_resumed_after_a_lost_create_answer_deletes_its_orphan() {
    let url = fresh_database().await;
    let env = [("ROTARY_RUN_LEASE_SECONDS", "1")];
    let first = ServerProcess::start(&url, KEY, &env);
    let mut a = Aws::on(first.app(&url).await, &url).await;
    let id = suite::create(&a, "orphan").await;
    let before = suite::mapped(&a).await;
    first.stop().await;

    // The run stops right after Prepared listed the user's keys...
    let mut crashing =
        ServerProcess::start(&url, KEY, &[env[0], ("ROTARY_CRASH_AFTER", "prepared")]);
    a.app_mut().base = crashing.base.clone();
    let sent = a
        .app()
        .client
        .post(format!("{}{BASE}/{id}/rotate-secrets", a.app().base))
        .bearer_auth(a.token())
        .json(&json!({}))
        .send()
        .await;
    assert!(sent.is_err());
    assert_eq!(crashing.wait().await, Some(86));
    // ...and the key its CreateAccessKey made was never journaled (a lost answer).
    let (orphan, orphan_secret) = moto::add_key(&a.user).await;

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let restarted = ServerProcess::start(&url, KEY, &env);
    a.app_mut().base = restarted.base.clone();
    for _ in 0..100 {
        if a.app()
            .count("rotation_runs WHERE outcome = 'running'")
            .await
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    suite::assert_converged(&a, &id, "resumed").await;
    let runs = a.app().get(&format!("{BASE}/{id}/runs"), a.token()).await;
    assert_eq!(
        runs.body["runs"][0]["outcome"], "succeeded",
        "{}",
        runs.body
    );
    let (_, active) = suite::generated(&a, &id).await;
    assert_eq!(active, 1, "the resumed run published a new key");
    assert!(
        !moto::works(&orphan, &orphan_secret).await,
        "the orphan is gone"
    );
    assert!(a.works(&before).await, "the previous key still works");
    let (slots, _) = suite::generated(&a, &id).await;
    let mut held = moto::keys(&a.user).await;
    held.sort();
    let mut expected: Vec<String> = slots.iter().map(|s| s[0].clone()).collect();
    expected.sort();
    assert_eq!(held, expected);
    restarted.stop().await;
}

#[tokio::test]
async fn a_fault_before_and_after_every_aws_call_keeps_the_invariants() {
    // The server reaches moto through a proxy that fails chosen calls; the test's own checks
    // go to moto directly.
    let proxy = crate::aws_proxy::FaultProxy::start(&moto::moto().url).await;
    let url = fresh_database().await;
    let mut options = test_options();
    options.aws.endpoint = Some(proxy.url.clone());
    let app = spawn_server(&url, rotary::crypto::Key::generate(), options, false).await;
    let a = Aws::on(app, &url).await;
    let id = suite::create(&a, "faults").await;
    suite::a_fault_at_any_provider_call_keeps_the_invariants(
        &a,
        &id,
        &[
            "ListAccessKeys",
            "DeleteAccessKey",
            "CreateAccessKey",
            "GetCallerIdentity",
        ],
        |rule| proxy.rule(rule),
    )
    .await;
}
