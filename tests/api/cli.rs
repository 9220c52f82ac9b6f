//! The `rotary` binary: settings errors, bootstrap from the shell, graceful shutdown.

use std::process::Command;

use crate::helpers::{fresh_database, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_rotary");
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn rotary(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("ROTARY_ROOT_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("rotary runs")
}

#[test]
fn missing_or_invalid_settings_stop_with_one_line_and_exit_code_2() {
    let out = rotary(&["serve"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: DATABASE_URL is not set"),
        "{stderr}"
    );

    let out = rotary(
        &["serve"],
        &[
            ("DATABASE_URL", "postgres://x@127.0.0.1/x"),
            ("ROTARY_ROOT_KEY", "c2hvcnQ="),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.trim(),
        "error: ROTARY_ROOT_KEY is invalid: it must decode to 32 bytes, got 5; give it the base64 of 32 random bytes, e.g. from `head -c 32 /dev/urandom | base64`"
    );

    let out = rotary(
        &["serve"],
        &[
            ("DATABASE_URL", "postgres://x@127.0.0.1/x"),
            ("ROTARY_ROOT_KEY", KEY),
            ("ROTARY_LISTEN", "nowhere"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("ROTARY_LISTEN is invalid"));

    let out = rotary(&["serve", "--log-format", "xml"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn openapi_prints_the_committed_document() {
    let out = rotary(&["openapi"], &[]);
    assert!(out.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}

#[tokio::test]
async fn bootstrap_from_the_shell_prints_credentials_once() {
    let url = fresh_database().await;
    let out = rotary(
        &["bootstrap", "--organization", "Shell Org"],
        &[("DATABASE_URL", &url)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["organization"]["name"], "Shell Org");
    assert_eq!(body["identity"]["name"], "admin");
    assert_eq!(
        body["identity"]["credentials"]["clientSecret"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let out = rotary(
        &["bootstrap", "--organization", "Again"],
        &[("DATABASE_URL", &url)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap().trim(),
        "error: Instance has already been set up"
    );
}

#[tokio::test]
async fn serve_migrates_answers_and_stops_cleanly_on_sigterm() {
    let url = fresh_database().await;
    let server = ServerProcess::start(&url, KEY, &[]);
    let app = server.app(&url).await;
    let r = app
        .call(reqwest::Method::GET, "/api/status", None, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(server.stop().await, Some(0), "a clean exit on SIGTERM");
}
