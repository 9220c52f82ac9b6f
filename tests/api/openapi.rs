/// The committed openapi.yaml is what the code generates. Regenerate with
/// `cargo run -- openapi > openapi.yaml`.
#[test]
fn openapi_yaml_is_current() {
    let generated = rotary::http::openapi_yaml();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.yaml is stale: run `cargo run -- openapi > openapi.yaml` (or UPDATE_OPENAPI=1 cargo test openapi)"
    );
}

#[test]
fn openapi_documents_every_route_with_the_error_shape() {
    let doc: serde_json::Value = serde_json::from_str(
        &<rotary::http::ApiDoc as utoipa::OpenApi>::openapi()
            .to_json()
            .unwrap(),
    )
    .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/status",
        "/api/v1/auth/universal-auth/login",
        "/api/v2/workspace",
        "/api/v3/secrets/raw/{secretName}",
        "/api/v2/folders/{folderId}",
        "/api/v2/workspace/{projectId}/identity-memberships/{identityId}",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// The routes `http::router` registers, read from its source: (method, path) for every
/// `.route("…", get(…).post(…)…)` outside the console (server-rendered pages, not API).
fn routes_in_source() -> Vec<(String, String)> {
    let source = include_str!("../../src/http/mod.rs");
    let start = source
        .find("pub fn router(")
        .expect("router() in src/http/mod.rs");
    let body = &source[start..];
    let body = &body[..body
        .find(".merge(crate::console::routes())")
        .unwrap_or(body.len())];
    let mut out = Vec::new();
    for chunk in body.split(".route(").skip(1) {
        let Some(path) = chunk.split('"').nth(1) else {
            continue;
        };
        // The method router is everything up to the call's closing parenthesis at depth 0.
        let mut depth = 1;
        let mut end = chunk.len();
        for (i, c) in chunk.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &chunk[..end];
        for method in ["get", "post", "patch", "delete", "put"] {
            // `get(`, `.get(` or `axum::routing::get(`, not `forget(` or `x_get(`.
            let called = call.match_indices(&format!("{method}(")).any(|(i, _)| {
                !call[..i]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            if called {
                out.push((method.to_string(), path.to_string()));
            }
        }
    }
    out
}

/// Every route the router serves has an OpenAPI operation, and every documented operation
/// is served (a request to it never gets the router's "Route … not found" or a 405).
#[tokio::test]
async fn the_router_and_the_openapi_document_list_the_same_operations() {
    let doc: serde_json::Value = serde_json::from_str(
        &<rotary::http::ApiDoc as utoipa::OpenApi>::openapi()
            .to_json()
            .unwrap(),
    )
    .unwrap();
    let documented: std::collections::BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "patch", "delete", "put"].contains(&m.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let served: std::collections::BTreeSet<(String, String)> =
        routes_in_source().into_iter().collect();
    assert!(served.len() > 40, "the source scan found only {served:?}");
    // Infisical serves folders under v1 and v2; Rotary serves both with the same handlers and
    // documents them once, under v2.
    let aliases = |(m, p): &&(String, String)| {
        p.starts_with("/api/v1/folders")
            && documented.contains(&(m.clone(), p.replacen("/api/v1/", "/api/v2/", 1)))
    };
    let undocumented: Vec<_> = served
        .difference(&documented)
        .filter(|r| !aliases(r))
        .collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );

    let app = crate::helpers::spawn_app().await;
    for (method, path) in &documented {
        let concrete = path
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let r = app
            .client
            .request(
                method.to_uppercase().parse().unwrap(),
                format!("{}{concrete}", app.base),
            )
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        assert_ne!(
            status, 405,
            "{method} {path} is documented but not served: {body}"
        );
        assert!(
            !(status == 404 && body.contains("\"Route ")),
            "{method} {path} is documented but not served: {body}"
        );
    }
}
