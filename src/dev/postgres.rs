//! A throwaway PostgreSQL for `rotary dev`: Debian's `postgresql` binaries (installed with
//! apt-get when missing), one cluster under the demo's data directory, kept between runs,
//! started on a free loopback port and stopped when this value is dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context};

const PG_HBA: &str = "\
local all postgres trust
host  all postgres 127.0.0.1/32 trust
host  all postgres ::1/128 trust
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128 scram-sha-256
";

pub struct LocalPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    running: bool,
}

impl LocalPostgres {
    /// Creates the cluster under `dir` on first use, then starts it. Blocks for a few seconds.
    pub fn start(dir: &Path) -> anyhow::Result<LocalPostgres> {
        let bin = match find_bin() {
            Some(bin) => bin,
            None => {
                install()?;
                find_bin().ok_or_else(|| {
                    anyhow!("apt-get installed postgresql but /usr/lib/postgresql/*/bin/initdb is still missing")
                })?
            }
        };
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("resolving {}", dir.display()))?;
        if is_root() {
            // initdb refuses to run as root: the cluster belongs to the postgres user.
            run(Command::new("chown").arg("postgres:postgres").arg(&dir))?;
        }
        run(Command::new("chmod").arg("700").arg(&dir))?;
        let data = dir.join("data");
        if !data.join("PG_VERSION").exists() {
            run(as_postgres(&bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
                .args(["--locale=C.UTF-8", "--no-sync"]))
            .context("initdb")?;
        }
        // The superuser (Rotary's own connection) is trusted; every other role logs in with
        // its password, so the demo's PostgreSQL rotation really changes who can log in.
        // Written on every start: clusters of older versions trusted everyone.
        let hba = data.join("pg_hba.conf");
        std::fs::write(&hba, PG_HBA).with_context(|| format!("writing {}", hba.display()))?;
        if is_root() {
            run(Command::new("chown").arg("postgres:postgres").arg(&hba))?;
        }
        // A previous `rotary dev` killed without its clean-up leaves its server running.
        let _ = as_postgres(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-m", "fast", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let port = free_port()?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {}",
            dir.display()
        );
        run(as_postgres(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]))
        .with_context(|| {
            format!(
                "starting PostgreSQL (its log: {})",
                dir.join("server.log").display()
            )
        })?;
        Ok(LocalPostgres {
            bin,
            dir,
            port,
            running: true,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast mode: sessions are ended, data is flushed).
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The newest installed server's binaries, e.g. `/usr/lib/postgresql/15/bin`.
fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn install() -> anyhow::Result<()> {
    eprintln!("PostgreSQL is not installed: running apt-get install -y postgresql...");
    let sudo = !is_root();
    let apt = |args: &[&str]| {
        let mut cmd = if sudo {
            let mut cmd = Command::new("sudo");
            cmd.arg("apt-get");
            cmd
        } else {
            Command::new("apt-get")
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(&mut apt(&["update", "-qq"]))
        .and_then(|_| run(&mut apt(&["install", "-y", "-qq", "postgresql"])))
        .context(
            "installing PostgreSQL failed; install it yourself (sudo apt-get install -y postgresql) and run again",
        )
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program` run as the postgres user when we are root, as ourselves otherwise.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// Runs a command to completion; its output is shown only when it fails.
fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{:?} failed ({}): {}{}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(socket.local_addr()?.port())
}
