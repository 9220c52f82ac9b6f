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
    // The real servers of the optional profiles, off unless asked for.
    let mongodb = &services["mongodb"];
    assert_eq!(mongodb["profiles"], serde_json::json!(["mongodb"]));
    assert!(mongodb["image"].as_str().unwrap().starts_with("mongo:"));
    assert!(mongodb["healthcheck"]["test"].to_string().contains("ping"));
    let mssql = &services["mssql"];
    assert_eq!(mssql["profiles"], serde_json::json!(["mssql"]));
    assert!(mssql["image"]
        .as_str()
        .unwrap()
        .starts_with("mcr.microsoft.com/mssql/server:"));
    assert_eq!(mssql["environment"]["ACCEPT_EULA"], "Y");
    assert!(mssql["healthcheck"]["test"]
        .to_string()
        .contains("SELECT 1"));
    let oracle = &services["oracle"];
    assert_eq!(oracle["profiles"], serde_json::json!(["oracle"]));
    assert!(oracle["image"]
        .as_str()
        .unwrap()
        .starts_with("gvenzl/oracle-free:"));
    assert!(oracle["environment"]["ORACLE_PASSWORD"].is_string());
    assert!(oracle["healthcheck"]["test"]
        .to_string()
        .contains("healthcheck.sh"));
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("COPY migrations"),
        "the image must carry the migrations it embeds"
    );
}

/// The Dockerfile's build stage must copy everything Cargo reads to build: the manifest, the
/// lock file, and every target's folder (a missing bench file fails the manifest itself, as
/// it once did here). Checked against a copy of exactly what the Dockerfile copies.
#[test]
fn the_dockerfile_copies_all_that_cargo_needs() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dockerfile = std::fs::read_to_string(format!("{root}/Dockerfile")).unwrap();
    let build_stage = dockerfile
        .split("\nFROM ")
        .find(|stage| stage.contains(" AS build"))
        .expect("a build stage");
    let copied: Vec<&str> = build_stage
        .lines()
        .filter_map(|l| l.strip_prefix("COPY "))
        .flat_map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            parts[..parts.len() - 1].to_vec()
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("rotary-docker-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for item in &copied {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(format!("{root}/{item}"))
            .arg(dir.join(item))
            .status()
            .unwrap();
        assert!(
            status.success(),
            "the Dockerfile copies {item}, which is missing"
        );
    }
    // Cargo's own list of the package's targets; each non-test one's file must be copied.
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for target in meta["packages"][0]["targets"].as_array().unwrap() {
        let kinds = target["kind"].to_string();
        if kinds.contains("test") {
            continue; // integration tests are not built in the image, and Cargo skips them
        }
        let path = target["src_path"].as_str().unwrap();
        let relative = path.strip_prefix(&format!("{root}/")).unwrap();
        assert!(
            dir.join(relative).exists(),
            "{relative} ({kinds}) is not copied by the Dockerfile's build stage"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
