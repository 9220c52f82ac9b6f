//! The `rotary` binary: settings errors, bootstrap from the shell, graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::fresh_database;

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
    let mut child = Command::new(BIN)
        .args(["serve", "--log-format", "json"])
        .env("DATABASE_URL", &url)
        .env("ROTARY_ROOT_KEY", KEY)
        .env("ROTARY_LISTEN", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("server logs its address").unwrap();
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
        if entry["message"] == "rotary is serving" {
            break entry["address"].as_str().unwrap().to_string();
        }
    };
    let status = reqwest::get(format!("http://{address}/api/status"))
        .await
        .unwrap();
    assert_eq!(status.status(), 200);

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut waited = Duration::ZERO;
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            waited < Duration::from_secs(10),
            "server did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    };
    assert!(exit.success(), "{exit:?}");
}
