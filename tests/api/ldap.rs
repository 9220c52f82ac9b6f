//! What `ldap-password` and the `ldap` connection do beyond the generic suite
//! (`suite_targets::Ldap`), each test against a `slapd` of its own: Infisical's refusals,
//! TLS (ldaps:// and StartTLS, the connection's CA), target-principal with the password given
//! once, the immutable DN and method, and rotating the connection's own principal; and the
//! Active Directory path against the mock directory: UPNs, a self-change, the history rule.

use serde_json::{json, Value};

use crate::helpers::assert_error;
use crate::ldap_server::MANAGER;
use crate::suite::{self, Target};
use crate::suite_targets::Ldap;

const BASE: &str = "/api/v2/secret-rotations/ldap-password";
const CONNECTIONS: &str = "/api/v1/app-connections/ldap";

fn credentials(l: &Ldap, change: Value) -> Value {
    let mut body = Ldap::connection_body(&l.server, &l.project, "other", false);
    for (k, v) in change.as_object().unwrap() {
        body["credentials"][k] = v.clone();
    }
    body
}

#[tokio::test]
async fn ldap_connections_are_validated_by_binding_over_tls() {
    let l: Ldap = suite::world().await;
    let (app, token) = (&l.app, &l.token);
    let resp = app
        .post(
            CONNECTIONS,
            token,
            credentials(&l, json!({"password": "wrong"})),
        )
        .await;
    assert_error(
        &resp,
        400,
        "BadRequest",
        json!(format!("Unable to validate connection: the directory refused the bind of \"{MANAGER}\" (wrong password, or the account is locked or disabled)")),
    );
    for (field, value, code, message) in [
        (
            "url",
            "http://127.0.0.1",
            "invalid_string",
            "Invalid LDAP URL",
        ),
        ("url", "", "too_small", "URL required"),
        ("dn", "manager", "invalid_string", "Invalid DN/UPN format"),
    ] {
        let resp = app
            .post(CONNECTIONS, token, credentials(&l, json!({field: value})))
            .await;
        assert_error(
            &resp,
            422,
            "ValidationFailure",
            json!([{"code": code, "path": ["credentials", field], "message": message}]),
        );
    }
    // The test CA not given: the certificate is not trusted.
    let resp = app
        .post(
            CONNECTIONS,
            token,
            credentials(&l, json!({"sslCertificate": null})),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert!(
        resp.body["message"]
            .as_str()
            .unwrap()
            .contains("the TLS handshake with the directory"),
        "{}",
        resp.body
    );
    // Not verified, it connects; ldap:// upgrades with StartTLS.
    let resp = app
        .post(
            CONNECTIONS,
            token,
            credentials(
                &l,
                json!({"sslRejectUnauthorized": false, "sslCertificate": null}),
            ),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = app
        .post(CONNECTIONS, token, {
            let mut b = Ldap::connection_body(&l.server, &l.project, "starttls", true);
            b["name"] = json!("starttls");
            b
        })
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    // The saved one shows everything but the password.
    let resp = app
        .get(&format!("{CONNECTIONS}/{}", l.connection), token)
        .await;
    assert_eq!(
        resp.body["appConnection"]["credentials"],
        json!({"provider": "open-ldap", "url": format!("ldaps://127.0.0.1:{}", l.server.tls_port),
               "dn": MANAGER, "sslRejectUnauthorized": true, "sslCertificate": l.server.cert.ca_pem.trim()})
    );
    let options = app.get("/api/v2/secret-rotations/options", token).await;
    assert!(
        options.body["secretRotationOptions"].as_array().unwrap().iter().any(|o| o
            == &json!({"name": "LDAP Password", "type": "ldap-password", "connection": "ldap",
                       "template": {"secretsMapping": {"dn": "LDAP_DN", "password": "LDAP_PASSWORD"}}})),
        "{}",
        options.body
    );
}

#[tokio::test]
async fn target_principal_changes_its_own_password_with_the_one_given_once() {
    let l: Ldap = suite::world().await;
    let (app, token) = (&l.app, &l.token);
    let dn = l.server.user("self", "self-initial-pw").await;
    let mut body = l.body("self");
    body["parameters"] = json!({"dn": dn, "rotationMethod": "target-principal"});
    let resp = app.post(BASE, token, body.clone()).await;
    assert_error(
        &resp,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": ["temporaryParameters", "password"], "message": "Password required"}]),
    );
    body["temporaryParameters"] = json!({"password": "self-initial-pw"});
    let resp = app.post(BASE, token, body).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let id = resp.body["secretRotation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !l.server.bind(&dn, "self-initial-pw").await,
        "the old password is gone"
    );
    let (slots, _) = suite::generated(&l, &id).await;
    assert!(l.server.bind(&dn, &slots[0][1]).await);
    // The next rotation binds with the active password.
    let resp = suite::rotate(&l, &id).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let (slots, active) = suite::generated(&l, &id).await;
    assert!(l.server.bind(&dn, &slots[active][1]).await);
    // The password given once is in no table in plaintext.
    for table in ["rotation_runs", "secret_rotations", "audit_log"] {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM {table} t"))
                .fetch_all(&app.pool)
                .await
                .unwrap_or_default();
        assert!(
            rows.iter().all(|r| !r.contains("self-initial-pw")),
            "{table}"
        );
    }
    // dn and rotationMethod cannot change.
    for parameters in [
        json!({"dn": l.user, "rotationMethod": "target-principal"}),
        json!({"dn": dn}),
    ] {
        let resp = app
            .patch(
                &format!("{BASE}/{id}"),
                token,
                json!({"parameters": parameters}),
            )
            .await;
        assert_error(
            &resp,
            400,
            "BadRequest",
            json!("Cannot update rotation method or DN"),
        );
    }
    let resp = app
        .patch(
            &format!("{BASE}/{id}"),
            token,
            json!({"parameters": {"dn": dn, "rotationMethod": "target-principal", "passwordRequirements": {"length": 20, "required": {"lowercase": 1, "uppercase": 1, "digits": 1, "symbols": 0}}}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    // One rotation per account.
    let mut again = l.body("again");
    again["parameters"] = json!({"dn": dn});
    let resp = app.post(BASE, token, again).await;
    assert_eq!(resp.status, 400, "{}", resp.body);
}

#[tokio::test]
async fn rotating_the_connection_s_own_principal_keeps_the_connection_working() {
    let l: Ldap = suite::world().await;
    let (app, token) = (&l.app, &l.token);
    let mut body = l.body("manager");
    body["parameters"] = json!({"dn": MANAGER});
    body["secretsMapping"] = json!({"dn": "MANAGER_DN", "password": "MANAGER_PASSWORD"});
    let resp = app.post(BASE, token, body).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let id = resp.body["secretRotation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !l.server.bind(MANAGER, &l.server.manager_password).await,
        "the old password is gone"
    );
    for round in 0..2 {
        // The connection holds the new password: it still resets another user's.
        let mut other = l.body(&format!("other-{round}"));
        let user = l.server.user(&format!("other{round}"), "x-initial").await;
        other["parameters"] = json!({"dn": user});
        other["secretsMapping"] =
            json!({"dn": format!("O{round}_DN"), "password": format!("O{round}_PASSWORD")});
        let resp = app.post(BASE, token, other).await;
        assert_eq!(resp.status, 200, "round {round}: {}", resp.body);
        let resp = suite::rotate(&l, &id).await;
        assert_eq!(resp.status, 200, "round {round}: {}", resp.body);
    }
    let (slots, active) = suite::generated(&l, &id).await;
    assert!(l.server.bind(MANAGER, &slots[active][1]).await);
}

#[tokio::test]
async fn active_directory_changes_passwords_as_ad_takes_them() {
    use crate::suite_targets::{ActiveDirectory, AD_ADMIN, AD_USER};
    let ad: ActiveDirectory = suite::world().await;
    let (app, token) = (&ad.app, &ad.token);
    // A UPN is resolved to the account's DN; the admin resets it (replace).
    let mut body = ad.body("upn");
    body["parameters"] = json!({"dn": "app-service@corp.test"});
    let resp = app.post(BASE, token, body).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let id = resp.body["secretRotation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (slots, _) = suite::generated(&ad, &id).await;
    assert_eq!(
        slots[0][0], "app-service@corp.test",
        "the slot keeps the UPN as given"
    );
    assert!(ad.directory.accepts(AD_USER, &slots[0][1]));
    // target-principal: the account changes its own (delete the old value, add the new).
    let self_dn = "CN=Self Service,OU=Services,DC=corp,DC=test";
    ad.directory
        .add_account(self_dn, "self@corp.test", "Self-Initial-1", false);
    let mut body = ad.body("self");
    body["parameters"] = json!({"dn": self_dn, "rotationMethod": "target-principal"});
    body["secretsMapping"] = json!({"dn": "SELF_DN", "password": "SELF_PASSWORD"});
    body["temporaryParameters"] = json!({"password": "wrong-current"});
    let resp = app.post(BASE, token, body.clone()).await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert!(
        resp.body["message"]
            .as_str()
            .unwrap()
            .contains("refused the bind"),
        "{}",
        resp.body
    );
    assert_eq!(ad.directory.changes(self_dn), 0);
    body["temporaryParameters"] = json!({"password": "Self-Initial-1"});
    let resp = app.post(BASE, token, body).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(ad.directory.changes(self_dn), 1);
    assert!(!ad.directory.accepts(self_dn, "Self-Initial-1"));
    // The connection's own principal: a self-change with the stored password; the connection
    // keeps working with the new one.
    let mut body = ad.body("admin");
    body["parameters"] = json!({"dn": AD_ADMIN});
    body["secretsMapping"] = json!({"dn": "ADMIN_DN", "password": "ADMIN_PASSWORD"});
    let resp = app.post(BASE, token, body).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(!ad.directory.accepts(AD_ADMIN, &ad.admin_password));
    let resp = suite::rotate(&ad, &id).await;
    assert_eq!(
        resp.status, 200,
        "the connection still resets the user's: {}",
        resp.body
    );
    // LDAPS only: ldap:// (StartTLS) finds no LDAP it can upgrade.
    let resp = app
        .post(
            CONNECTIONS,
            token,
            json!({"name": "plain", "method": "simple-bind", "projectId": ad.project,
                   "credentials": {"provider": "active-directory", "url": ad.url.replace("ldaps://", "ldap://"),
                                   "dn": AD_ADMIN, "password": "x", "sslCertificate": ad.ca}}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
}

/// The mock's history rule, through Rotary's own client: a self-change to a recent password
/// is AD's constraint violation, and the message names the policy.
#[tokio::test]
async fn a_recently_used_password_is_a_constraint_violation() {
    use rotary::providers::ldap::client::{bind, change_password, connect};
    use rotary::providers::ldap::wire::{LdapConnection, LdapProvider};
    use secrecy::SecretString;
    let (directory, url, ca) = crate::suite_targets::ActiveDirectory::directory().await;
    directory.add_account("CN=a,DC=corp,DC=test", "a@corp.test", "One-1", false);
    directory.set_password("CN=a,DC=corp,DC=test", "Two-2");
    let c = LdapConnection {
        provider: LdapProvider::ActiveDirectory,
        url,
        dn: "a@corp.test".into(),
        password: SecretString::from("Two-2"),
        ssl_reject_unauthorized: true,
        ssl_certificate: Some(ca),
    };
    let mut ldap = connect(&c, true).await.unwrap();
    bind(&mut ldap, &c, "a@corp.test", &c.password)
        .await
        .unwrap();
    let e = change_password(
        &mut ldap,
        &c,
        "CN=a,DC=corp,DC=test",
        Some(&c.password),
        &SecretString::from("One-1"),
    )
    .await
    .unwrap_err();
    assert!(
        e.reason().contains("constraint violation: 0000052D"),
        "{}",
        e.reason()
    );
    assert!(!e.reason().contains("One-1") && !e.reason().contains("Two-2"));
    change_password(
        &mut ldap,
        &c,
        "CN=a,DC=corp,DC=test",
        Some(&c.password),
        &SecretString::from("Three-3"),
    )
    .await
    .unwrap();
    assert!(directory.accepts("CN=a,DC=corp,DC=test", "Three-3"));
}
