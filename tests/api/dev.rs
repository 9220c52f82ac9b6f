//! `rotary dev`, the README's first command: it starts its own PostgreSQL, the mock org and the
//! server, prints a walkthrough, and every command in the walkthrough works when pasted into
//! bash. Ctrl-C stops everything; the next start finds the rotation and the org as they were.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_rotary");

struct Dev {
    child: Child,
    walkthrough: String,
}

impl Dev {
    /// Starts `rotary dev` on free ports and waits for its walkthrough (its last line is the
    /// second psql login).
    fn start(data_dir: &Path) -> Dev {
        let mut child = Command::new(BIN)
            .args([
                "dev",
                "--listen",
                "127.0.0.1:0",
                "--mock-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rotary dev starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut walkthrough = String::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(90)) {
                Ok(line) => {
                    walkthrough.push_str(&line);
                    walkthrough.push('\n');
                    if walkthrough.matches("SELECT current_user").count() == 2 {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let mut err = String::new();
                    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                    panic!(
                        "no walkthrough from rotary dev; printed:\n{walkthrough}\nstderr:\n{err}"
                    );
                }
            }
        }
        Dev { child, walkthrough }
    }

    /// The commands to paste: everything after "Paste these".
    fn commands(&self) -> &str {
        let at = self.walkthrough.find("Paste these").expect("walkthrough");
        self.walkthrough[at..].split_once('\n').unwrap().1
    }

    /// Ctrl-C: everything stops, the exit is clean.
    fn interrupt(mut self) {
        ctrl_c(&self.child);
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit {status:?}: {stderr}");
        assert!(stderr.trim_end().ends_with("Rotary stopped."), "{stderr}");
    }
}

/// A failed test still stops its `rotary dev` (and so its PostgreSQL).
impl Drop for Dev {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            ctrl_c(&self.child);
            let _ = self.child.wait();
        }
    }
}

fn ctrl_c(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs `script` in bash with -e and pipefail, returns its standard output.
fn bash(script: &str) -> String {
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the walkthrough failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn the_walkthrough_works_when_pasted_and_a_restart_keeps_the_state() {
    let dir = std::env::temp_dir().join(format!("rotary-dev-test-{}", uuid::Uuid::new_v4()));

    let dev = Dev::start(&dir);
    let out = bash(&format!(
        "{}\necho \"ROTATION=$ROTATION\"\necho \"PG_ROTATION=$PG_ROTATION\"",
        dev.commands()
    ));
    // 2: the org's apps; 4: the mapped secrets; 5: the new credential authenticates;
    // 6: the runs (creation and manual); 7: metrics; 8: the mock's view of the credentials.
    assert!(out.contains(r#""developerName":"Billing_Sync""#), "{out}");
    assert!(
        out.contains(r#""secretKey":"SALESFORCE_CONSUMER_SECRET""#),
        "{out}"
    );
    assert!(out.lines().any(|l| l == "204"), "{out}");
    // 10 and 11: psql logs in with the mapped secrets, as the first user, then the second.
    let logins: Vec<&str> = out.lines().filter(|l| l.starts_with("demo_app_")).collect();
    assert_eq!(logins, ["demo_app_1", "demo_app_2"], "{out}");
    assert!(
        out.contains(r#""trigger":"manual","step":"published","outcome":"succeeded""#),
        "{out}"
    );
    assert!(out.contains(r#""trigger":"create""#), "{out}");
    assert!(
        out.contains(r#"rotary_rotation_runs_total{type="salesforce-oauth-credentials",trigger="manual",outcome="succeeded"} 1"#),
        "{out}"
    );
    assert!(out.contains(r#""authenticates":true"#), "{out}");
    assert!(dev.walkthrough.contains("Web console: http://127.0.0.1:"));
    let rotation = out
        .lines()
        .find_map(|l| l.strip_prefix("ROTATION="))
        .unwrap()
        .to_string();
    assert_eq!(rotation.len(), 36, "{out}");
    let out_first = out;
    dev.interrupt();
    assert!(dir.join("mock-org.json").exists());
    assert!(
        !dir.join("pg/data/postmaster.pid").exists(),
        "PostgreSQL was left running"
    );

    // The next start: same identity, same rotation, and its credential still authenticates at
    // the (restored) mock org, which now listens on another port.
    let dev = Dev::start(&dir);
    let login = dev
        .commands()
        .split("\n\n")
        .find(|block| block.contains("# 1. log in"))
        .unwrap();
    let rotations = dev
        .walkthrough
        .split_whitespace()
        .find(|w| w.ends_with("/api/v2/secret-rotations/salesforce-oauth-credentials"))
        .unwrap();
    let out = bash(&format!(
        "{login}\ncurl -s -o /dev/null -w '%{{http_code}}\\n' -X POST {rotations}/{rotation}/check-credentials -H \"Authorization: Bearer $TOKEN\"\n\
         curl -s -o /dev/null -w '%{{http_code}}\\n' -X POST {rotations}/{rotation}/rotate-secrets -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{{}}'\n\
         curl -s -o /dev/null -w '%{{http_code}}\\n' -X POST {rotations}/{rotation}/check-credentials -H \"Authorization: Bearer $TOKEN\""
    ));
    assert_eq!(out, "204\n200\n204\n");
    // The cluster listens on another port now: the PostgreSQL connection followed it.
    let pg_rotation = out_first
        .lines()
        .find_map(|l| l.strip_prefix("PG_ROTATION="))
        .unwrap();
    let pg_rotations = rotations.replace("salesforce-oauth-credentials", "postgres-credentials");
    let out = bash(&format!(
        "{login}\ncurl -s -o /dev/null -w '%{{http_code}}\\n' -X POST {pg_rotations}/{pg_rotation}/rotate-secrets -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{{}}'\n\
         curl -s -o /dev/null -w '%{{http_code}}\\n' -X POST {pg_rotations}/{pg_rotation}/check-credentials -H \"Authorization: Bearer $TOKEN\""
    ));
    assert_eq!(out, "200\n204\n");
    dev.interrupt();
    let _ = std::fs::remove_dir_all(&dir);
}
