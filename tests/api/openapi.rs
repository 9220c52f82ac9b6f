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
