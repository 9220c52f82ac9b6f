//! docker-compose.yml cannot be run here (no Docker engine), so check what can be checked:
//! it parses, and it wires Rotary to Postgres with health checks.

#[test]
fn docker_compose_file_parses_and_wires_the_services() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml"))
        .unwrap();
    let doc: serde_json::Value = serde_norway::from_str(&text).expect("docker-compose.yml is YAML");
    let services = doc["services"].as_object().unwrap();
    let rotary = &services["rotary"];
    assert_eq!(rotary["command"], serde_json::json!(["serve"]));
    assert_eq!(
        rotary["depends_on"]["postgres"]["condition"],
        "service_healthy"
    );
    assert!(rotary["environment"]["DATABASE_URL"]
        .as_str()
        .unwrap()
        .contains("@postgres:5432/"));
    assert!(rotary["healthcheck"]["test"]
        .to_string()
        .contains("/api/status"));
    assert!(services["postgres"]["healthcheck"]["test"]
        .to_string()
        .contains("pg_isready"));
    let mock = &services["mock-salesforce"];
    assert_eq!(mock["command"][0], "mock-salesforce");
    assert!(mock["healthcheck"]["test"]
        .to_string()
        .contains("/services/data"));
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("COPY migrations"),
        "the image must carry the migrations it embeds"
    );
}
