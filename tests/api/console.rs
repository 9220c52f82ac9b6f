//! The web console over HTTP: sign-in and its cookie, CSRF on every form, sessions that end
//! when their token does, and pages that show an identity only its own projects.

use reqwest::redirect::Policy;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app, TestApp};

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// The value of the first `name="csrf"` hidden field of a page.
fn csrf_field(html: &str) -> String {
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF field")
        + 19;
    html[at..].split('"').next().unwrap().to_string()
}

/// GETs a console page as the session `token`.
async fn page(
    app: &TestApp,
    path: &str,
    token: &str,
) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let r = browser()
        .get(format!("{}{path}", app.base))
        .header("Cookie", format!("rotary_session={token}"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    (status, r.text().await.unwrap(), headers)
}

/// Fills and sends the sign-in form as a browser does (its double-submit cookie included).
async fn post_sign_in(app: &TestApp, client_id: &str, client_secret: &str) -> reqwest::Response {
    let form = browser()
        .get(format!("{}/console/sign-in", app.base))
        .send()
        .await
        .unwrap();
    let cookie = set_cookies(&form)[0].split(';').next().unwrap().to_string();
    let csrf = csrf_field(&form.text().await.unwrap());
    browser()
        .post(format!("{}/console/sign-in", app.base))
        .header("Cookie", cookie)
        .form(&[
            ("clientId", client_id),
            ("clientSecret", client_secret),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs in through the form; the session token from the cookie.
async fn sign_in(app: &TestApp, client_id: &str, client_secret: &str) -> String {
    let r = post_sign_in(app, client_id, client_secret).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console/projects");
    let session = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("rotary_session="))
        .expect("a session cookie");
    assert!(
        session.contains("; HttpOnly; SameSite=Strict; Max-Age="),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain HTTP: no Secure flag");
    session["rotary_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_signed_in_identity_sees_its_projects_and_nothing_of_others() {
    let app = spawn_app().await;
    let (client_id, client_secret, _, _) = app.bootstrap().await;
    let admin = app.login(&client_id, &client_secret).await;
    let billing = app.create_project(&admin, "Billing").await;
    let (_, outsider) = app.new_identity(&admin, "outsider", "member").await;

    let session = sign_in(&app, &client_id, &client_secret).await;
    let (status, html, headers) = page(&app, "/console/projects", &session).await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert!(html.contains(">Billing</a>"), "{html}");
    assert!(html.contains(r#"<meta name="viewport""#));

    let (status, html, _) = page(&app, "/console/projects", &outsider).await;
    assert_eq!(status, 200);
    assert!(!html.contains("Billing"), "{html}");
    assert!(html.contains("not a member of any project"));
    let (status, html, _) = page(&app, &format!("/console/projects/{billing}"), &outsider).await;
    assert_eq!(status, 404);
    assert!(
        html.contains(&format!("Project with ID &#39;{billing}&#39; not found"))
            || html.contains(&format!("Project with ID '{billing}' not found")),
        "{html}"
    );

    // A wrong secret: the form again, with the reason, and no session.
    let r = post_sign_in(&app, &client_id, "wrong").await;
    assert_eq!(r.status(), 401);
    assert!(!set_cookies(&r)
        .iter()
        .any(|c| c.starts_with("rotary_session=")));
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("That client ID and client secret do not match a machine identity."));
}

#[tokio::test]
async fn forms_without_the_session_csrf_token_are_refused() {
    let app = spawn_app().await;
    let (client_id, client_secret, _, _) = app.bootstrap().await;
    let session = sign_in(&app, &client_id, &client_secret).await;
    let sign_out = |csrf: Option<&str>| {
        let mut form = vec![];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf.to_string()));
        }
        browser()
            .post(format!("{}/console/sign-out", app.base))
            .header("Cookie", format!("rotary_session={session}"))
            .form(&form)
            .send()
    };
    for csrf in [None, Some("0123456789abcdef0123456789abcdef")] {
        let r = sign_out(csrf).await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("missing or wrong CSRF token"));
        assert_eq!(app.get("/api/v1/workspace", &session).await.status, 200);
    }
    // The token of the page's own form signs out: the session's token is revoked.
    let (_, html, _) = page(&app, "/console/projects", &session).await;
    let r = sign_out(Some(&csrf_field(&html))).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console/sign-in");
    assert!(set_cookies(&r)[0].starts_with("rotary_session=; "));
    assert_eq!(app.get("/api/v1/workspace", &session).await.status, 401);

    // Sign-in without the double-submit cookie is refused too.
    let r = browser()
        .post(format!("{}/console/sign-in", app.base))
        .form(&[
            ("clientId", client_id.as_str()),
            ("clientSecret", &client_secret),
            ("csrf", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(!set_cookies(&r)
        .iter()
        .any(|c| c.starts_with("rotary_session=")));
}

#[tokio::test]
async fn an_ended_session_goes_back_to_sign_in_and_says_why() {
    let app = spawn_app().await;
    let (client_id, client_secret, _, _) = app.bootstrap().await;
    let r = browser()
        .get(format!("{}/console/projects", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console/sign-in");
    let r = browser()
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/console/sign-in");

    // Expired (its TTL passed since the last renewal).
    let session = sign_in(&app, &client_id, &client_secret).await;
    assert_eq!(page(&app, "/console/projects", &session).await.0, 200);
    sqlx::query("UPDATE access_tokens SET ttl = 60, renewed_at = now() - interval '2 minutes'")
        .execute(&app.pool)
        .await
        .unwrap();
    // The server hears of the change through its cache's notification: within milliseconds.
    let mut tries = 0;
    let (status, _, headers) = loop {
        let got = page(&app, "/console/projects", &session).await;
        tries += 1;
        if got.0 != 200 || tries == 200 {
            break got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/console/sign-in?expired=1");
    assert!(headers["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("rotary_session=; "));
    let r = browser()
        .get(format!("{}/console/sign-in?expired=1", app.base))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Your session has ended"));

    // Revoked through the API.
    let session = sign_in(&app, &client_id, &client_secret).await;
    let r = app
        .post(
            "/api/v1/auth/token/revoke",
            &session,
            json!({"accessToken": session}),
        )
        .await;
    assert_eq!(r.status, 200);
    let (status, _, headers) = page(&app, "/console/projects", &session).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/console/sign-in?expired=1");
}

#[tokio::test]
async fn a_projects_rotations_are_listed_and_filtered_by_status() {
    let w = crate::rotations::world().await;
    w.create().await;
    let path = format!("/console/projects/{}", w.project);
    let (status, html, _) = page(&w.app, &path, &w.token).await;
    assert_eq!(status, 200);
    for text in [
        "my-salesforce-rotation",
        "salesforce-oauth-credentials",
        r#"<span class="status success">success</span>"#,
        "dev <code>/</code>",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let (_, html, _) = page(&w.app, &format!("{path}?status=failed"), &w.token).await;
    assert!(html.contains("No rotations here."));
    assert!(!html.contains("my-salesforce-rotation"));
    let (status, html, _) = page(&w.app, &format!("{path}?status=bogus"), &w.token).await;
    assert_eq!(status, 400);
    assert!(html.contains("Unknown status filter"));
}

/// POSTs a console form as the session `token`.
async fn submit(
    app: &TestApp,
    path: &str,
    token: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser()
        .post(format!("{}{path}", app.base))
        .header("Cookie", format!("rotary_session={token}"))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_rotations_page_shows_its_runs_and_its_buttons_act_through_the_api() {
    let w = crate::rotations::world().await;
    let id = w.create().await;
    let path = format!("/console/rotations/{id}");
    let (status, html, _) = page(&w.app, &path, &w.token).await;
    assert_eq!(status, 200);
    for text in [
        "my-salesforce-rotation",
        "SALESFORCE_CONSUMER_KEY",
        "SALESFORCE_CONSUMER_SECRET",
        "Billing_Sync",
        ">create<",
        "Rotate now",
        "Disable auto-rotation",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    // Names only: the values stay out of the page.
    let secret = w
        .app
        .get(
            &format!(
                "/api/v3/secrets/raw/SALESFORCE_CONSUMER_SECRET?workspaceId={}&environment=dev",
                w.project
            ),
            &w.token,
        )
        .await
        .body["secret"]["secretValue"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!html.contains(&secret));
    let csrf = csrf_field(&html);

    // Without the session's CSRF token nothing happens.
    let r = submit(
        &w.app,
        &format!("{path}/rotate"),
        &w.token,
        &[("csrf", "nope")],
    )
    .await;
    assert_eq!(r.status(), 403);
    let (_, html, _) = page(&w.app, &path, &w.token).await;
    assert!(!html.contains(">manual<"));

    let r = submit(
        &w.app,
        &format!("{path}/rotate"),
        &w.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("{path}?done=rotated").as_str()
    );
    let (_, html, _) = page(&w.app, &format!("{path}?done=rotated"), &w.token).await;
    assert!(html.contains("Rotated: the new credential is published"));
    assert!(html.contains(">manual<"));

    let r = submit(
        &w.app,
        &format!("{path}/check"),
        &w.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("{path}?done=checked").as_str()
    );

    let r = submit(
        &w.app,
        &format!("{path}/auto-rotation"),
        &w.token,
        &[("csrf", &csrf), ("enabled", "false")],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("{path}?done=auto-off").as_str()
    );
    let api = w
        .app
        .get(
            &format!("/api/v2/secret-rotations/salesforce-oauth-credentials/{id}"),
            &w.token,
        )
        .await;
    assert_eq!(api.body["secretRotation"]["isAutoRotationEnabled"], false);
    let (_, html, _) = page(&w.app, &path, &w.token).await;
    assert!(html.contains("Enable auto-rotation"));

    // A failure is shown on the page with the API's status and reason.
    w.control(
        Method::PATCH,
        "users/rotary-runas@demo.example",
        json!({"viewClientSecret": false}),
    )
    .await;
    let r = submit(
        &w.app,
        &format!("{path}/rotate"),
        &w.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), 500);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<p class="error" role="alert">"#), "{html}");

    // Delete, with the mapped secrets.
    let r = submit(
        &w.app,
        &format!("{path}/delete"),
        &w.token,
        &[("csrf", &csrf), ("deleteSecrets", "true")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/console/projects/{}?done=deleted", w.project).as_str()
    );
    let api = w
        .app
        .get(
            &format!("/api/v2/secret-rotations/salesforce-oauth-credentials/{id}"),
            &w.token,
        )
        .await;
    assert_eq!(api.status, 404);
    let secrets = w
        .app
        .get(
            &format!(
                "/api/v3/secrets/raw?workspaceId={}&environment=dev",
                w.project
            ),
            &w.token,
        )
        .await;
    assert_eq!(secrets.body["secrets"], json!([]));
    let (_, html, _) = page(
        &w.app,
        &format!("/console/projects/{}?done=deleted", w.project),
        &w.token,
    )
    .await;
    assert!(html.contains("Rotation deleted."));
}

#[tokio::test]
async fn the_create_form_lists_the_apps_and_creates_through_the_api() {
    let w = crate::rotations::world().await;
    let new = format!("/console/projects/{}/rotations/new", w.project);
    let (status, html, _) = page(&w.app, &new, &w.token).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!(r#"<option value="{}">"#, w.connection)),
        "{html}"
    );
    assert!(
        !html.contains("Billing_Sync"),
        "apps come after picking the connection"
    );

    let (_, html, _) = page(
        &w.app,
        &format!("{new}?connectionId={}", w.connection),
        &w.token,
    )
    .await;
    let app = format!("{}|Billing_Sync", w.billing.id);
    assert!(
        html.contains(&format!(r#"<option value="{app}">"#)),
        "{html}"
    );
    assert!(html.contains(r#"value="SALESFORCE_CONSUMER_SECRET""#));
    let csrf = csrf_field(&html);
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("connectionId", w.connection.as_str()),
        ("name", "from-the-console"),
        ("app", app.as_str()),
        ("environment", "dev"),
        ("secretPath", "/"),
        ("consumerKeyName", "SF_KEY"),
        ("consumerSecretName", "SF_SECRET"),
        ("autoRotation", "true"),
        ("rotationInterval", "0"),
        ("rotateAt", "03:30"),
    ];
    // The API's validation, shown on the form, which keeps what was typed.
    let r = submit(&w.app, &new, &w.token, &form).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("rotationInterval: rotationInterval must be at least 1"),
        "{html}"
    );
    assert!(html.contains(r#"value="from-the-console""#));
    assert_eq!(w.app.count("secret_rotations").await, 0);

    form[9] = ("rotationInterval", "7");
    let r = submit(&w.app, &new, &w.token, &form[1..]).await;
    assert_eq!(r.status(), 403, "no CSRF token, no rotation");
    let r = submit(&w.app, &new, &w.token, &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("?done=created"), "{location}");
    let list = w
        .app
        .get(
            &format!("/api/v2/secret-rotations?projectId={}", w.project),
            &w.token,
        )
        .await;
    let created = &list.body["secretRotations"][0];
    assert_eq!(created["name"], "from-the-console");
    assert_eq!(created["rotationInterval"], 7);
    assert_eq!(created["rotateAtUtc"], json!({"hours": 3, "minutes": 30}));
    assert_eq!(
        created["secretsMapping"],
        json!({"consumerKey": "SF_KEY", "consumerSecret": "SF_SECRET"})
    );
    assert_eq!(created["rotationStatus"], "success");
    let (_, html, _) = page(&w.app, &location, &w.token).await;
    assert!(html.contains("Created, and rotated once"));
}

#[tokio::test]
async fn connections_are_created_checked_and_deleted_through_the_api() {
    let w = crate::rotations::world().await;
    let base = format!("/console/projects/{}/connections", w.project);
    let (status, html, _) = page(&w.app, &base, &w.token).await;
    assert_eq!(status, 200);
    assert!(html.contains("<strong>sf</strong>"), "{html}");
    let csrf = csrf_field(&html);

    let r = submit(
        &w.app,
        &format!("{base}/{}/check", w.connection),
        &w.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("{base}?done=checked&apps=2").as_str()
    );
    let (_, html, _) = page(&w.app, &format!("{base}?done=checked&apps=2"), &w.token).await;
    assert!(html.contains("The connection works: Salesforce lists 2 External Client App(s)."));

    // Credentials that get no token are refused, and the secret is not echoed back.
    let bad = [
        ("csrf", csrf.as_str()),
        ("app", "salesforce"),
        ("name", "second-org"),
        ("instanceUrl", w.org_base.as_str()),
        ("consumerKey", w.connector.key.as_str()),
        ("consumerSecret", "not-the-secret"),
    ];
    let r = submit(&w.app, &base, &w.token, &bad).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<p class="error" role="alert">"#), "{html}");
    assert!(html.contains(r#"value="second-org""#));
    assert!(!html.contains("not-the-secret"));
    assert_eq!(w.app.count("app_connections").await, 1);

    let mut good = bad;
    good[5] = ("consumerSecret", w.connector.secret.as_str());
    let r = submit(&w.app, &base, &w.token, &good).await;
    assert_eq!(
        r.headers()["location"],
        format!("{base}?done=created").as_str()
    );
    assert_eq!(w.app.count("app_connections").await, 2);
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM app_connections WHERE name = 'second-org'")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    let r = submit(
        &w.app,
        &format!("{base}/{id}/delete"),
        &w.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("{base}?done=deleted").as_str()
    );
    assert_eq!(w.app.count("app_connections").await, 1);

    // A connection a rotation uses stays, and the page says why.
    w.create().await;
    let r = submit(
        &w.app,
        &format!("{base}/{}/delete", w.connection),
        &w.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("is used by 1 secret rotation(s); delete them first"));
    assert_eq!(w.app.count("app_connections").await, 1);
}

/// PostgreSQL in the console: a connection created (and checked) through the page, a
/// rotation created through its form, shown, rotated and checked from its page.
#[tokio::test]
async fn postgres_connections_and_rotations_work_from_the_console() {
    let pg = crate::postgres::pg_world().await;
    let base = format!("/console/projects/{}/connections", pg.project);
    let (status, html, _) = page(&pg.app, &base, &pg.token).await;
    assert_eq!(status, 200);
    assert!(html.contains("<strong>pg</strong>"), "{html}");
    assert!(
        html.contains(&format!("PostgreSQL · {}@", pg.conn_role)),
        "{html}"
    );
    let csrf = csrf_field(&html);
    let r = submit(
        &pg.app,
        &format!("{base}/{}/check", pg.connection_id),
        &pg.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("{base}?done=checked").as_str()
    );
    // A wrong password is refused and not echoed; the right one creates a second connection.
    let port = pg.port.to_string();
    let tag = &pg.conn_role["rotary_conn_".len()..];
    let password = format!("conn-pw-{tag}");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("app", "postgres"),
        ("name", "second-db"),
        ("host", pg.host.as_str()),
        ("port", port.as_str()),
        ("database", pg.database.as_str()),
        ("username", pg.conn_role.as_str()),
        ("password", "not-the-password"),
    ];
    let r = submit(&pg.app, &base, &pg.token, &form).await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("Unable to validate connection"), "{html}");
    assert!(!html.contains("not-the-password"));
    form[7] = ("password", password.as_str());
    let r = submit(&pg.app, &base, &pg.token, &form).await;
    assert_eq!(
        r.headers()["location"],
        format!("{base}?done=created").as_str()
    );
    assert_eq!(pg.app.count("app_connections").await, 2);

    // The rotation form: another pair of users, through the API's validation.
    for sql in [
        format!("CREATE ROLE c1_{tag} LOGIN PASSWORD 'x1'"),
        format!("CREATE ROLE c2_{tag} LOGIN PASSWORD 'x2'"),
        format!("GRANT c1_{tag} TO {} WITH ADMIN OPTION", pg.conn_role),
        format!("GRANT c2_{tag} TO {} WITH ADMIN OPTION", pg.conn_role),
    ] {
        sqlx::query(&sql).execute(&pg.admin).await.unwrap();
    }
    let new = format!("/console/projects/{}/rotations/new-postgres", pg.project);
    let (status, html, _) = page(&pg.app, &new, &pg.token).await;
    assert_eq!(status, 200);
    assert!(html.contains("POSTGRES_DB_USERNAME"), "{html}");
    let csrf = csrf_field(&html);
    let connection = pg.connection_id.to_string();
    let (u1, u2) = (format!("c1_{tag}"), format!("c2_{tag}"));
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("connectionId", connection.as_str()),
        ("name", "console-pg"),
        ("username1", u1.as_str()),
        ("username2", "bad\"name"),
        ("environment", "dev"),
        ("secretPath", "/"),
        ("usernameName", "CONSOLE_USER"),
        ("passwordName", "CONSOLE_PASSWORD"),
        ("rotationInterval", "30"),
        ("rotateAt", "00:00"),
    ];
    let r = submit(&pg.app, &new, &pg.token, &fields).await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("cannot be used in a statement"));
    fields[4] = ("username2", u2.as_str());
    let r = submit(&pg.app, &new, &pg.token, &fields).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("?done=created"), "{location}");
    let (user, password) = pg
        .app
        .read_pair(&pg.token, &pg.project, ["CONSOLE_USER", "CONSOLE_PASSWORD"])
        .await;
    assert_eq!(user, u1);
    assert!(pg.logs_in(&user, &password).await);

    // Its page shows the users; its buttons rotate and check.
    let (status, html, _) = page(&pg.app, &location, &pg.token).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("<code>{u1}</code> and <code>{u2}</code>")),
        "{html}"
    );
    assert!(html.contains("give both users a random password"));
    let rotation = location
        .trim_start_matches("/console/rotations/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_field(&html);
    let r = submit(
        &pg.app,
        &format!("/console/rotations/{rotation}/rotate"),
        &pg.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("/console/rotations/{rotation}?done=rotated").as_str()
    );
    let (user, password) = pg
        .app
        .read_pair(&pg.token, &pg.project, ["CONSOLE_USER", "CONSOLE_PASSWORD"])
        .await;
    assert_eq!(user, u2);
    assert!(pg.logs_in(&user, &password).await);
    let r = submit(
        &pg.app,
        &format!("/console/rotations/{rotation}/check"),
        &pg.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("/console/rotations/{rotation}?done=checked").as_str()
    );
}

/// The console's forms for a type described in `forms.rs`: the connections page shows the
/// world's connection and creates another from its form (a wrong secret refused and not
/// echoed), the type's rotation form creates a rotation with Infisical's secret names as
/// defaults, and its page shows the parameters and rotates.
#[cfg(feature = "crash-points")]
async fn a_type_works_from_the_console<T: crate::suite::Target>(
    t: &T,
    short: &str,
    summary: &str,
    connection: &[(&str, &str)],
    secret: (&str, &str),
    parameters: &[(&str, &str)],
    shown: &str,
) {
    a_type_works_from_the_console_with(
        t,
        short,
        summary,
        connection,
        secret,
        "not-the-password",
        parameters,
        shown,
    )
    .await
}

/// As `a_type_works_from_the_console`, with the wrong secret to try first (one the form
/// takes: Okta's tokens have a format).
#[cfg(feature = "crash-points")]
#[allow(clippy::too_many_arguments)]
async fn a_type_works_from_the_console_with<T: crate::suite::Target>(
    t: &T,
    short: &str,
    summary: &str,
    connection: &[(&str, &str)],
    secret: (&str, &str),
    wrong: &str,
    parameters: &[(&str, &str)],
    shown: &str,
) {
    use crate::suite;
    let (app, token, project) = (t.app(), t.token(), t.project());
    let base = format!("/console/projects/{project}/connections");
    let (status, html, _) = page(app, &base, token).await;
    assert_eq!(status, 200);
    assert!(html.contains(summary), "{summary} in {html}");
    let csrf = csrf_field(&html);
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("name", "second")];
    form.extend_from_slice(connection);
    form.push((secret.0, wrong));
    let r = submit(app, &base, token, &form).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let html = r.text().await.unwrap();
    // The provider's refusal, in the API's words (tests of each type check them exactly).
    assert!(html.contains(r#"<p class="error" role="alert">"#), "{html}");
    assert!(!html.contains(wrong));
    form.pop();
    form.push(secret);
    let r = submit(app, &base, token, &form).await;
    assert_eq!(
        r.headers()["location"],
        format!("{base}?done=created").as_str()
    );

    let new = format!("/console/projects/{project}/rotations/new-{short}");
    let (status, html, _) = page(app, &new, token).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(T::MAPPED[0]), "{html}");
    let csrf = csrf_field(&html);
    let world_body = t.body("x");
    let connection_id = world_body["connectionId"].as_str().unwrap().to_string();
    // Each mapped secret's form field (`usernameName`, `dnName`…), named CONSOLE_0 and
    // CONSOLE_1 in `MAPPED`'s order.
    let names: Vec<(String, String)> = world_body["secretsMapping"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(field, default)| {
            let i = T::MAPPED.iter().position(|m| default == m).unwrap();
            (format!("{field}Name"), format!("CONSOLE_{i}"))
        })
        .collect();
    let mut fields: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("connectionId", &connection_id),
        ("name", "console-rotation"),
        ("environment", "dev"),
        ("secretPath", "/"),
        ("rotationInterval", "30"),
        ("rotateAt", "00:00"),
    ];
    fields.extend(names.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    fields.extend_from_slice(parameters);
    let r = submit(app, &new, token, &fields).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let pair = app
        .read_pair(token, project, ["CONSOLE_0", "CONSOLE_1"])
        .await;
    let first = [pair.0, pair.1];
    assert!(t.works(&first).await);
    let (status, html, _) = page(app, &location, token).await;
    assert_eq!(status, 200);
    assert!(html.contains(shown), "{shown} in {html}");
    let rotation = location
        .trim_start_matches("/console/rotations/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_field(&html);
    let r = submit(
        app,
        &format!("/console/rotations/{rotation}/rotate"),
        token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        r.headers()["location"],
        format!("/console/rotations/{rotation}?done=rotated").as_str()
    );
    let pair = app
        .read_pair(token, project, ["CONSOLE_0", "CONSOLE_1"])
        .await;
    assert_ne!([pair.0.clone(), pair.1.clone()], first);
    assert!(t.works(&[pair.0, pair.1]).await);
    let _ = suite::generated(t, &rotation).await;
}

#[cfg(feature = "crash-points")]
#[tokio::test]
async fn redis_connections_and_rotations_work_from_the_console() {
    let r: crate::suite_targets::Redis = crate::suite::world().await;
    let port = r.server.port.to_string();
    a_type_works_from_the_console(
        &r,
        "redis",
        &format!("Redis · {}@127.0.0.1:{port}", r.manager),
        &[
            ("app", "redis"),
            ("host", "127.0.0.1"),
            ("port", &port),
            ("username", &r.manager),
        ],
        ("password", &r.manager_password),
        &[("permissionScope", "~suite:* +get")],
        "<code>~suite:* +get</code>",
    )
    .await;
}

#[cfg(feature = "crash-points")]
#[tokio::test]
async fn mysql_connections_and_rotations_work_from_the_console() {
    let my: crate::suite_targets::Mysql = crate::suite::world().await;
    let port = my.port.to_string();
    let conn_role = format!("suite_conn_{}", &my.database["suite_".len()..]);
    a_type_works_from_the_console(
        &my,
        "mysql",
        &format!("MySQL · {conn_role}@{}:{port}/{}", my.host, my.database),
        &[
            ("app", "mysql"),
            ("host", &my.host),
            ("port", &port),
            ("database", &my.database),
            ("username", &conn_role),
        ],
        ("password", &my.conn_password),
        &[("username1", &my.users[0]), ("username2", &my.users[1])],
        &format!(
            "<code>{}</code> and <code>{}</code>",
            my.users[0], my.users[1]
        ),
    )
    .await;
}

#[cfg(all(feature = "crash-points", feature = "mongodb"))]
#[tokio::test]
async fn mongodb_connections_and_rotations_work_from_the_console() {
    let m: crate::suite_targets::Mongo = crate::suite::world().await;
    let (host, port) = m.server.address.rsplit_once(':').unwrap();
    a_type_works_from_the_console(
        &m,
        "mongodb",
        &format!("MongoDB · rotary@{host}:{port}/app"),
        &[
            ("app", "mongodb"),
            ("host", host),
            ("port", port),
            ("database", "app"),
            ("username", "rotary"),
        ],
        ("password", crate::suite_targets::MONGO_MANAGER_PASSWORD),
        &[("username1", &m.users[0]), ("username2", &m.users[1])],
        &format!(
            "<code>{}</code> and <code>{}</code>",
            m.users[0], m.users[1]
        ),
    )
    .await;
}

#[cfg(all(feature = "crash-points", feature = "mssql"))]
#[tokio::test]
async fn mssql_connections_and_rotations_work_from_the_console() {
    let m: crate::suite_targets::Mssql = crate::suite::world().await;
    let (host, port) = m.server.address.rsplit_once(':').unwrap();
    a_type_works_from_the_console(
        &m,
        "mssql",
        &format!("Microsoft SQL Server · rotary@{host}:{port}/app"),
        &[
            ("app", "mssql"),
            ("host", host),
            ("port", port),
            ("database", "app"),
            ("username", "rotary"),
        ],
        ("password", crate::suite_targets::MSSQL_MANAGER_PASSWORD),
        &[("username1", &m.users[0]), ("username2", &m.users[1])],
        &format!(
            "<code>{}</code> and <code>{}</code>",
            m.users[0], m.users[1]
        ),
    )
    .await;
}

#[cfg(all(feature = "crash-points", feature = "oracle"))]
#[tokio::test]
async fn oracle_connections_and_rotations_work_from_the_console() {
    let m: crate::suite_targets::Oracle = crate::suite::world().await;
    let (host, port) = m.server.address.rsplit_once(':').unwrap();
    a_type_works_from_the_console(
        &m,
        "oracledb",
        &format!("OracleDB · rotary@{host}:{port}/FREEPDB1"),
        &[
            ("app", "oracledb"),
            ("host", host),
            ("port", port),
            ("database", "FREEPDB1"),
            ("username", "rotary"),
        ],
        ("password", crate::suite_targets::ORACLE_MANAGER_PASSWORD),
        &[("username1", &m.users[0]), ("username2", &m.users[1])],
        &format!(
            "<code>{}</code> and <code>{}</code>",
            m.users[0], m.users[1]
        ),
    )
    .await;
}

#[cfg(feature = "crash-points")]
#[tokio::test]
async fn ldap_connections_and_rotations_work_from_the_console() {
    let l: crate::suite_targets::Ldap = crate::suite::world().await;
    let url = format!("ldaps://127.0.0.1:{}", l.server.tls_port);
    a_type_works_from_the_console(
        &l,
        "ldap",
        &format!("LDAP · {} at {url}", crate::ldap_server::MANAGER),
        &[
            ("app", "ldap"),
            ("provider", "open-ldap"),
            ("url", &url),
            ("dn", crate::ldap_server::MANAGER),
            ("sslRejectUnauthorized", "true"),
            ("sslCertificate", &l.server.cert.ca_pem),
        ],
        ("password", &l.server.manager_password),
        &[("dn", &l.user), ("rotationMethod", "connection-principal")],
        &format!(
            "<code>{}</code><span class=\"muted\">: the connection's account",
            l.user
        ),
    )
    .await;
}

/// Active Directory from the console, the account changing its own password: its current
/// one is the form's temporary field, used by the first run and never shown again.
#[cfg(feature = "crash-points")]
#[tokio::test]
async fn a_target_principal_ad_rotation_is_created_from_the_console() {
    use crate::suite_targets::{ActiveDirectory, AD_ADMIN, AD_USER};
    let ad: ActiveDirectory = crate::suite::world().await;
    a_type_works_from_the_console(
        &ad,
        "ldap",
        &format!("LDAP · {AD_ADMIN} at {}", ad.url),
        &[
            ("app", "ldap"),
            ("provider", "active-directory"),
            ("url", &ad.url),
            ("dn", AD_ADMIN),
            ("sslRejectUnauthorized", "true"),
            ("sslCertificate", &ad.ca),
        ],
        ("password", &ad.admin_password),
        &[
            ("dn", AD_USER),
            ("rotationMethod", "target-principal"),
            ("password", "Initial-Passw0rd"),
        ],
        &format!("<code>{AD_USER}</code><span class=\"muted\">: it changes its own password"),
    )
    .await;
    let rotations = ad
        .app
        .get(
            &format!("/api/v2/secret-rotations?projectId={}", ad.project),
            &ad.token,
        )
        .await;
    assert!(!rotations.body.to_string().contains("Initial-Passw0rd"));
}

#[cfg(feature = "crash-points")]
#[tokio::test]
async fn okta_connections_and_rotations_work_from_the_console() {
    let o: crate::suite_targets::Okta = crate::suite::world().await;
    let wrong = format!("00{}", "w".repeat(40));
    a_type_works_from_the_console_with(
        &o,
        "okta",
        &format!("Okta · {}", o.url),
        &[("app", "okta"), ("instanceUrl", &o.url)],
        ("apiToken", &o.api_token),
        &wrong,
        &[("clientId", &o.client_id)],
        &format!(
            "<code>{}</code><span class=\"muted\">: each rotation adds a client secret",
            o.client_id
        ),
    )
    .await;
}

#[cfg(feature = "crash-points")]
#[tokio::test]
async fn auth0_connections_and_rotations_work_from_the_console() {
    let a: crate::suite_targets::Auth0 = crate::suite::world().await;
    let audience = a.mock.tenant().audience();
    a_type_works_from_the_console(
        &a,
        "auth0",
        &format!("Auth0 · {} at {}", a.m2m.0, a.url),
        &[
            ("app", "auth0"),
            ("domain", &a.url),
            ("clientId", &a.m2m.0),
            ("audience", &audience),
        ],
        ("clientSecret", &a.m2m.1),
        &[("clientId", &a.client_id)],
        &format!(
            "<code>{}</code><span class=\"muted\">: each rotation sets a new client secret",
            a.client_id
        ),
    )
    .await;
}

#[cfg(all(feature = "crash-points", feature = "aws"))]
#[tokio::test]
async fn aws_connections_and_rotations_work_from_the_console() {
    let a: crate::suite_targets::Aws = crate::suite::world().await;
    let key = a.manager.1.clone();
    a_type_works_from_the_console_with(
        &a,
        "aws",
        &format!("AWS · access key {key}"),
        &[("app", "aws"), ("accessKeyId", &key)],
        ("secretAccessKey", &a.manager.2),
        "not-the-secret",
        &[("userName", &a.user)],
        &format!(
            "<code>{}</code><span class=\"muted\">: each rotation creates an access key",
            a.user
        ),
    )
    .await;
}

#[cfg(feature = "crash-points")]
#[tokio::test]
async fn azure_connections_and_rotations_work_from_the_console() {
    let a: crate::suite_targets::Azure = crate::suite::world().await;
    let (tenant, manager, object_id, client_id) = (
        a.tenant.to_string(),
        a.manager.0.to_string(),
        a.object_id.to_string(),
        a.client_id.to_string(),
    );
    a_type_works_from_the_console_with(
        &a,
        "azure",
        &format!("Azure · {manager} in tenant {tenant}"),
        &[
            ("app", "azure-client-secrets"),
            ("tenantId", &tenant),
            ("clientId", &manager),
        ],
        ("clientSecret", &a.manager.1),
        "not-the-secret",
        &[
            ("objectId", &object_id),
            ("clientId", &client_id),
            ("appName", "Suite app"),
        ],
        "<code>Suite app</code><span class=\"muted\">: each rotation adds a client secret",
    )
    .await;
}
