//! Throwaway `redis-server`s for the Redis tests: one per test (so a test can list every ACL
//! user and find none it does not expect), on a free loopback port, in a directory of its own
//! under `ROTARY_REDIS_DIR` (scripts/with-redis.sh sets it and kills what is left at the end),
//! killed when dropped. `default` is switched off: every login names its user.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use redis::aio::MultiplexedConnection;

pub const ADMIN: &str = "admin";

pub struct RedisServer {
    child: Child,
    /// The plain port (the tests' own admin connections use it).
    pub port: u16,
    /// With `Options::tls`: the TLS port, and the certificate it presents.
    pub tls: Option<(u16, crate::test_cert::TestCert)>,
    pub dir: PathBuf,
    pub acl_file: bool,
    pub admin_password: String,
}

/// How a test's server is set up.
#[derive(Default, Clone, Copy)]
pub struct Options {
    /// Users are kept in `users.acl` (ACL SAVE writes there).
    pub acl_file: bool,
    /// A TLS port too, with a certificate for `localhost` and 127.0.0.1 from a test CA.
    pub tls: bool,
}

fn binary() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| {
        let path = "/usr/bin/redis-server";
        assert!(
            std::path::Path::new(path).exists(),
            "redis-server is missing: run scripts/test.sh (scripts/with-redis.sh installs it)"
        );
        path.into()
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn raw(port: u16) -> Option<MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).ok()?;
    client.get_multiplexed_async_connection().await.ok()
}

pub async fn auth(port: u16, user: &str, password: &str) -> Option<MultiplexedConnection> {
    let mut conn = raw(port).await?;
    redis::cmd("AUTH")
        .arg(user)
        .arg(password)
        .query_async::<()>(&mut conn)
        .await
        .ok()?;
    Some(conn)
}

impl RedisServer {
    /// A new server; with `acl_file`, its users live in `users.acl` (ACL SAVE writes there).
    pub async fn start(acl_file: bool) -> RedisServer {
        Self::start_with(Options {
            acl_file,
            tls: false,
        })
        .await
    }

    pub async fn start_with(options: Options) -> RedisServer {
        let acl_file = options.acl_file;
        let parent = std::env::var("ROTARY_REDIS_DIR").unwrap_or_else(|_| "/tmp".into());
        let dir =
            PathBuf::from(parent).join(format!("rotary-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        if acl_file {
            std::fs::write(dir.join("users.acl"), "").unwrap();
        }
        let admin_password = format!("admin-{}", uuid::Uuid::new_v4().simple());
        let cert = options.tls.then(|| {
            let cert = crate::test_cert::TestCert::new(&["localhost", "127.0.0.1"]);
            cert.write(&dir);
            cert
        });
        let mut server = None;
        for _ in 0..5 {
            let port = free_port();
            let tls_port = cert.as_ref().map(|_| free_port());
            let child = spawn(&dir, port, tls_port, acl_file);
            if let Some(mut s) = ready(child, port, &dir, acl_file, &admin_password).await {
                s.tls = tls_port.zip(cert);
                server = Some(s);
                break;
            }
        }
        let server = server.expect("redis-server did not start (see its redis.log)");
        let mut conn = raw(server.port).await.unwrap();
        cmd(
            &mut conn,
            &[
                "ACL",
                "SETUSER",
                ADMIN,
                "on",
                &format!(">{admin_password}"),
                "~*",
                "&*",
                "+@all",
            ],
        )
        .await;
        let mut admin = server.admin().await;
        cmd(&mut admin, &["ACL", "SETUSER", "default", "off"]).await;
        if acl_file {
            cmd(&mut admin, &["ACL", "SAVE"]).await;
        }
        server
    }

    pub async fn admin(&self) -> MultiplexedConnection {
        auth(self.port, ADMIN, &self.admin_password)
            .await
            .expect("the admin logs in")
    }

    /// Every ACL user but `default` and the admin.
    pub async fn users(&self) -> Vec<String> {
        let mut admin = self.admin().await;
        let users: Vec<String> = redis::cmd("ACL")
            .arg("USERS")
            .query_async(&mut admin)
            .await
            .unwrap();
        users
            .into_iter()
            .filter(|u| u != "default" && u != ADMIN)
            .collect()
    }

    /// Whether `user` logs in with `password` now.
    pub async fn works(&self, user: &str, password: &str) -> bool {
        auth(self.port, user, password).await.is_some()
    }

    /// Stops the server and starts it again on the same port and directory: what survives is
    /// what its ACL file held.
    pub async fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let tls_port = self.tls.as_ref().map(|(port, _)| *port);
        let child = spawn(&self.dir, self.port, tls_port, self.acl_file);
        self.child = child;
        for _ in 0..100 {
            if raw(self.port).await.is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not come back");
    }
}

pub async fn cmd(conn: &mut MultiplexedConnection, args: &[&str]) {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query_async::<()>(conn)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", args[..2.min(args.len())].join(" ")));
}

fn spawn(dir: &std::path::Path, port: u16, tls_port: Option<u16>, acl_file: bool) -> Child {
    let mut command = Command::new(binary());
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--logfile")
        .arg(dir.join("redis.log"));
    if acl_file {
        command.arg("--aclfile").arg(dir.join("users.acl"));
    }
    if let Some(tls_port) = tls_port {
        command
            .args([
                "--tls-port",
                &tls_port.to_string(),
                "--tls-auth-clients",
                "no",
            ])
            .arg("--tls-cert-file")
            .arg(dir.join("cert.pem"))
            .arg("--tls-key-file")
            .arg(dir.join("key.pem"))
            .arg("--tls-ca-cert-file")
            .arg(dir.join("ca.pem"));
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server runs")
}

async fn ready(
    mut child: Child,
    port: u16,
    dir: &std::path::Path,
    acl_file: bool,
    admin_password: &str,
) -> Option<RedisServer> {
    for _ in 0..100 {
        if let Ok(Some(_)) = child.try_wait() {
            return None; // the port was taken meanwhile
        }
        if raw(port).await.is_some() {
            return Some(RedisServer {
                child,
                port,
                tls: None,
                dir: dir.to_path_buf(),
                acl_file,
                admin_password: admin_password.into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    None
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
