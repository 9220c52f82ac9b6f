//! The in-memory cache of tokens, memberships and environments (src/cache.rs): it is used, and
//! a change in the database ends it everywhere at once: on the replica that made it, on the
//! others, and when made by hand in SQL.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{
    assert_error, fresh_database, spawn_app, spawn_server, test_options, TestApp,
};

/// Waits until the server's cache listener is connected (it is off until then).
async fn until_live(app: &TestApp) {
    let lookups = &app.state.as_ref().expect("in-process server").lookups;
    for _ in 0..200 {
        if lookups.is_live() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the cache listener never connected");
}

/// Polls `path` as `token` until it answers `status`; how long that took.
async fn until_status(app: &TestApp, path: &str, token: &str, status: u16) -> Duration {
    let started = Instant::now();
    loop {
        let r = app.get(path, token).await;
        if r.status == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still {} after 5 s: {}",
            r.status,
            r.body
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn lookups_are_served_from_memory_until_the_database_says_otherwise() {
    let app = spawn_app().await;
    until_live(&app).await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Cached").await;
    let path = format!("/api/v3/secrets/raw?workspaceId={project}&environment=dev");
    assert_eq!(app.get(&path, &token).await.status, 200);
    let lookups = &app.state.as_ref().unwrap().lookups;
    assert!(
        lookups.len() >= 3,
        "token, membership and environment cached"
    );

    // A change the triggers do not announce is not seen: proof the rows come from memory.
    sqlx::query("ALTER TABLE access_tokens DISABLE TRIGGER access_tokens_cache")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE access_tokens SET is_revoked = true")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.get(&path, &token).await.status, 200);

    // Any notification clears the cache: the revocation now holds.
    sqlx::query("NOTIFY rotary_cache")
        .execute(&app.pool)
        .await
        .unwrap();
    until_status(&app, &path, &token, 401).await;
    assert_error(
        &app.get(&path, &token).await,
        401,
        "UnauthorizedError",
        json!("Access token has been revoked; log in again"),
    );
}

#[tokio::test]
async fn a_revocation_by_hand_in_sql_ends_a_cached_token_at_once() {
    let app = spawn_app().await;
    until_live(&app).await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/api/v1/workspace", &token).await.status, 200);
    sqlx::query("UPDATE access_tokens SET is_revoked = true")
        .execute(&app.pool)
        .await
        .unwrap();
    let took = until_status(&app, "/api/v1/workspace", &token, 401).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn changes_through_one_replica_reach_the_cache_of_another() {
    let url = fresh_database().await;
    let key = rotary::crypto::Key::generate();
    let a = spawn_server(&url, key.clone(), test_options(), false).await;
    let b = spawn_server(&url, key, test_options(), false).await;
    until_live(&a).await;
    until_live(&b).await;
    let admin = a.admin_token().await;
    let project = a.create_project(&admin, "Shared").await;
    let (member_id, member) = a.new_identity(&admin, "reader", "member").await;
    a.add_member(&admin, &project, &member_id, "viewer").await;
    let secrets = format!("/api/v3/secrets/raw?workspaceId={project}&environment=dev");

    // B caches the member's token and membership, then A removes the membership.
    assert_eq!(b.get(&secrets, &member).await.status, 200);
    let r = a
        .delete(
            &format!("/api/v2/workspace/{project}/identity-memberships/{member_id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let took = until_status(&b, &secrets, &member, 404).await;
    assert!(took < Duration::from_secs(1), "{took:?}");

    // B caches the admin's token, then A revokes it.
    assert_eq!(b.get(&secrets, &admin).await.status, 200);
    let r = a
        .post(
            "/api/v1/auth/token/revoke",
            &admin,
            json!({"accessToken": admin}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let took = until_status(&b, &secrets, &admin, 401).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn a_secret_written_through_one_replica_is_read_through_another() {
    let url = fresh_database().await;
    let key = rotary::crypto::Key::generate();
    let a = spawn_server(&url, key.clone(), test_options(), false).await;
    let b = spawn_server(&url, key, test_options(), false).await;
    until_live(&b).await;
    let admin = a.admin_token().await;
    let project = a.create_project(&admin, "Shared").await;
    let one = format!("/api/v3/secrets/raw/DB_PASSWORD?workspaceId={project}&environment=dev");
    let list = format!("/api/v3/secrets/raw?workspaceId={project}&environment=dev");
    let body =
        |value: &str| json!({"workspaceId": project, "environment": "dev", "secretValue": value});
    let r = a
        .post("/api/v3/secrets/raw/DB_PASSWORD", &admin, body("first"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // B reads (and caches) the secret and the folder's list, then A changes the value.
    assert_eq!(
        b.get(&one, &admin).await.body["secret"]["secretValue"],
        "first"
    );
    assert_eq!(
        b.get(&list, &admin).await.body["secrets"][0]["secretValue"],
        "first"
    );
    let r = a
        .patch("/api/v3/secrets/raw/DB_PASSWORD", &admin, body("second"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let started = Instant::now();
    loop {
        let single = b.get(&one, &admin).await.body["secret"]["secretValue"].clone();
        let listed = b.get(&list, &admin).await.body["secrets"][0]["secretValue"].clone();
        if single == "second" && listed == "second" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{single} {listed}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // On the replica that made the change, the next read sees it, with no wait at all.
    let r = b
        .patch("/api/v3/secrets/raw/DB_PASSWORD", &admin, body("third"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        b.get(&one, &admin).await.body["secret"]["secretValue"],
        "third"
    );
    assert_eq!(
        b.get(&list, &admin).await.body["secrets"][0]["secretValue"],
        "third"
    );
}
