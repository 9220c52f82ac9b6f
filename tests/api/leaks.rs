//! No secret value is ever stored or logged in plaintext.

use serde_json::json;

use crate::helpers::{captured_logs, spawn_app};

#[tokio::test]
async fn secret_values_appear_in_no_table_and_no_log() {
    let app = spawn_app().await;
    let (client_id, client_secret, _, _) = app.bootstrap().await;
    let token = app.login(&client_id, &client_secret).await;
    let project = app.create_project(&token, "P").await;
    let value = format!("canary-{}", uuid::Uuid::new_v4().simple());
    let updated = format!("canary2-{}", uuid::Uuid::new_v4().simple());
    let comment = format!("comment-{}", uuid::Uuid::new_v4().simple());
    let r = app
        .post("/api/v3/secrets/raw/CANARY", &token, json!({"workspaceId": project, "environment": "dev", "secretValue": value, "secretComment": comment}))
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .patch(
            "/api/v3/secrets/raw/CANARY",
            &token,
            json!({"workspaceId": project, "environment": "dev", "secretValue": updated}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .get(
            &format!("/api/v3/secrets/raw/CANARY?workspaceId={project}&environment=dev"),
            &token,
        )
        .await;
    assert_eq!(r.body["secret"]["secretValue"], json!(updated));
    // A failed login with a known wrong secret must not log it either.
    let wrong = format!("wrong-{}", uuid::Uuid::new_v4().simple());
    app.call(
        reqwest::Method::POST,
        "/api/v1/auth/universal-auth/login",
        None,
        Some(json!({"clientId": client_id, "clientSecret": wrong})),
    )
    .await;

    let needles = [
        value.as_str(),
        updated.as_str(),
        comment.as_str(),
        client_secret.as_str(),
        token.as_str(),
        wrong.as_str(),
    ];

    // Every column of every row of every table, as text (bytea as hex, so also look for hex).
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    let mut dump = String::new();
    for table in &tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(&app.pool)
            .await
            .unwrap();
        dump.push_str(&rows.join("\n"));
    }
    assert!(
        dump.contains("CANARY"),
        "the dump sees the secret's name, so it sees the rows"
    );
    for needle in needles {
        assert!(!dump.contains(needle), "{needle} is stored in plaintext");
        assert!(
            !dump.contains(&hex::encode(needle)),
            "{needle} is stored as plain bytes"
        );
    }
    let logs = captured_logs();
    assert!(logs.contains("secret created"), "logs are being captured");
    for needle in needles {
        assert!(!logs.contains(needle), "{needle} was logged");
    }
}
