//! Rotation benchmarks, run by hand (never in CI): `scripts/bench-rotations.sh`.
//!
//! Starts the mock Salesforce org in this process and `--replicas` release `rotary serve`
//! processes on a fresh database, creates `--rotations` Salesforce rotations spread over
//! `--connections` app connections through the API, then makes all of them due at the same
//! second with `--latency-ms` added to every call to the org, and measures how the scheduler
//! drains the burst:
//!
//! - drain time: from the due time to the last run's end, and rotations per second;
//! - scheduler lag: from the due time to the start of each run (p50, p99), for all runs and
//!   for the runs that had a free per-connection slot at the due time (the first
//!   `--per-connection` runs of each connection);
//! - failures (must be 0) and the servers' resident memory at the end.
//!
//! With `--latency-ms 0` this is the rotation-throughput benchmark; with 10,000 rotations over
//! 100 connections at 50 ms it is the burst-drain benchmark.
//!
//! `--postgres 1` rotates `postgres-credentials` instead, against the benchmark's own cluster:
//! `--connections` connection roles (CREATEROLE, scram logins) with two login roles per
//! rotation; every rotation is an ALTER ROLE on a fresh connection, a fresh login as the user,
//! and Rotary's journal and publish. `scripts/bench-rotations.sh postgres` prints it beside
//! pgbench replaying one ALTER ROLE on a fresh scram login per transaction.
//!
//! `--mysql 1` rotates `mysql-credentials` against the MySQL or MariaDB of `MYSQL_URL`
//! (`scripts/bench-rotations.sh mysql` starts one), then measures the server alone replaying a
//! rotation's statements from as many clients.
//!
//! `--redis PORT` rotates `redis-credentials` against the Redis on that loopback port
//! (`scripts/bench-rotations.sh redis` starts one): every rotation deletes the user of two
//! rotations ago, creates a new ACL user and logs in as it, each on a fresh connection.
//!
//! `--okta 1` rotates `okta-client-secret` against a mock Okta org in this process (one app
//! per rotation, `--latency-ms` added to every call to it, as to the mock Salesforce org).
//!
//! `--auth0 1` rotates `auth0-client-secret` against a mock Auth0 tenant in this process in
//! the same way (single-phase: a PATCH and two token checks per rotation).
//!
//! `--azure 1` rotates `azure-client-secret` against a mock of Microsoft's token endpoint and
//! Graph in this process (its URL given to the servers as ROTARY_AZURE_LOGIN_URL and
//! ROTARY_AZURE_GRAPH_URL), one app registration per rotation.
//!
//! `--aws 1` rotates `aws-iam-user-secret` against moto's AWS server (ROTARY_TEST_AWS_URL and
//! ROTARY_TEST_AWS_ADMIN from `scripts/with-moto.sh`, as `scripts/bench-rotations.sh aws` runs
//! it) through the tests' fault proxy, which adds `--latency-ms` to every call; one IAM user per
//! rotation. Then moto alone replays a rotation's calls (three ListAccessKeys, a
//! CreateAccessKey, a GetCallerIdentity) from as many clients.
//!
//! `--mongodb 1` rotates `mongodb-credentials` against Rotary's MongoDB protocol server in this
//! process (`--latency-ms` before every command), two users per rotation in one database per
//! connection; then the server alone serves a rotation's driver work (a client logging in as
//! the manager for `updateUser`, one logging in as the user for `ping`) from as many clients.
//!
//! `--mssql 1` rotates `mssql-credentials` against Rotary's SQL Server protocol server in this
//! process (`--latency-ms` before every TDS message; the login encrypted, as with `sslEnabled`
//! false), two logins per rotation; then the server alone serves a rotation's driver work (a
//! session as the manager for ALTER LOGIN, one as the login for SELECT 1) from as many clients.
//!
//! `--oracle 1` rotates `oracledb-credentials` against Rotary's Oracle protocol server in this
//! process (`--latency-ms` before every answer), two users per rotation; then the server alone
//! serves a rotation's driver work (a session as the manager for ALTER USER, one as the user
//! for SELECT 1 FROM DUAL) from as many clients.
//!
//! `--ldap 1` rotates `ldap-password` (open-ldap, connection-principal) against a throwaway
//! slapd it starts (the tests' `ldap_server.rs`, over ldaps:// with a test CA; run it under
//! `scripts/with-slapd.sh`, as `scripts/bench-rotations.sh ldap` does), one account per
//! rotation, then measures slapd alone replaying a rotation's operations from as many clients.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

// The tests' throwaway slapd, shared rather than copied (the benchmark uses part of it).
#[allow(dead_code)]
#[path = "../tests/api/ldap_server.rs"]
mod ldap_server;
#[allow(dead_code)]
#[path = "../tests/api/test_cert.rs"]
mod test_cert;
// moto's helpers and the fault proxy that adds latency in front of it.
#[allow(dead_code)]
#[path = "../tests/api/aws_proxy.rs"]
mod aws_proxy;
#[allow(dead_code)]
#[path = "../tests/api/moto.rs"]
mod moto;

struct Args {
    rotations: usize,
    connections: usize,
    latency_ms: u64,
    concurrency: usize,
    per_connection: usize,
    replicas: usize,
    postgres: bool,
    /// A Redis on this loopback port with a user `bench_manager` (password
    /// `bench-manager-pw`) that may run ACL SETUSER/DELUSER: rotate `redis-credentials`.
    redis: Option<u16>,
    /// Rotate `mysql-credentials` against the MySQL or MariaDB of `MYSQL_URL` (root).
    mysql: bool,
    /// Rotate `ldap-password` against a slapd of the benchmark's own.
    ldap: bool,
    /// Rotate `okta-client-secret` against a mock Okta org in this process.
    okta: bool,
    /// Rotate `auth0-client-secret` against a mock Auth0 tenant in this process.
    auth0: bool,
    /// Rotate `azure-client-secret` against a mock of Microsoft in this process.
    azure: bool,
    /// Rotate `aws-iam-user-secret` against moto (scripts/with-moto.sh).
    aws: bool,
    /// Rotate `mongodb-credentials` against Rotary's MongoDB protocol server.
    mongodb: bool,
    /// Rotate `mssql-credentials` against Rotary's SQL Server protocol server.
    mssql: bool,
    /// Rotate `oracledb-credentials` against Rotary's Oracle protocol server.
    oracle: bool,
}

fn args() -> Args {
    let mut a = Args {
        rotations: 1000,
        connections: 10,
        latency_ms: 50,
        concurrency: 16,
        per_connection: 4,
        replicas: 1,
        postgres: false,
        redis: None,
        mysql: false,
        ldap: false,
        okta: false,
        auth0: false,
        azure: false,
        aws: false,
        mongodb: false,
        mssql: false,
        oracle: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        // `cargo bench` adds `--bench`; anything else unknown is a mistake.
        if flag == "--bench" {
            continue;
        }
        let value: usize = it
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a number"));
        match flag.as_str() {
            "--rotations" => a.rotations = value,
            "--connections" => a.connections = value,
            "--latency-ms" => a.latency_ms = value as u64,
            "--concurrency" => a.concurrency = value,
            "--per-connection" => a.per_connection = value,
            "--replicas" => a.replicas = value,
            "--postgres" => a.postgres = value != 0,
            "--redis" => a.redis = Some(value as u16),
            "--mysql" => a.mysql = value != 0,
            "--ldap" => a.ldap = value != 0,
            "--okta" => a.okta = value != 0,
            "--auth0" => a.auth0 = value != 0,
            "--azure" => a.azure = value != 0,
            "--aws" => a.aws = value != 0,
            "--mongodb" => a.mongodb = value != 0,
            "--mssql" => a.mssql = value != 0,
            "--oracle" => a.oracle = value != 0,
            _ => panic!("unknown flag {flag}; see benches/rotations.rs"),
        }
    }
    a
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(
    database_url: &str,
    root_key: &str,
    a: &Args,
    azure: Option<&str>,
    aws: Option<&str>,
) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rotary"));
    if let Some(url) = azure {
        command
            .env("ROTARY_AZURE_LOGIN_URL", url)
            .env("ROTARY_AZURE_GRAPH_URL", url);
    }
    if let Some(url) = aws {
        command.env("ROTARY_AWS_ENDPOINT_URL", url);
    }
    let mut child = command
        .args([
            "serve",
            "--log-format",
            "json",
            "--log-level",
            "warn,rotary=info",
        ])
        .env("DATABASE_URL", database_url)
        .env("ROTARY_ROOT_KEY", root_key)
        .env("ROTARY_LISTEN", "127.0.0.1:0")
        .env("ROTARY_ALLOW_INTERNAL_URLS", "true")
        .env("ROTARY_SCHEDULER_CONCURRENCY", a.concurrency.to_string())
        .env(
            "ROTARY_SCHEDULER_PER_CONNECTION",
            a.per_connection.to_string(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rotary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the server logs its address").unwrap();
        let entry: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if entry["message"] == "rotary is serving" {
            break entry["address"].as_str().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base: format!("http://{address}"),
    }
}

/// CPU seconds used so far by the servers, by Postgres (all its processes) and by this
/// process (the mock org and the polling), read from /proc (clock ticks of 1/100 s).
fn cpu_seconds(servers: &[Server]) -> [f64; 3] {
    let ticks = |pid: &str| -> Option<(String, f64)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (comm, rest) = stat.split_once(") ")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let t = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some((comm.rsplit('(').next()?.to_string(), t / 100.0))
    };
    let mut out = [0.0; 3];
    for s in servers {
        out[0] += ticks(&s.child.id().to_string()).map_or(0.0, |t| t.1);
    }
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((comm, t)) = name.parse::<u32>().ok().and_then(|_| ticks(&name)) {
            // The provider's servers: Postgres, or Redis for `--redis`.
            if comm == "postgres"
                || comm == "redis-server"
                || comm == "slapd"
                || comm == "mariadbd"
                || comm == "mysqld"
            {
                out[1] += t;
            }
        }
    }
    out[2] = ticks("self").map_or(0.0, |t| t.1);
    out
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

async fn call(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = http.post(url).json(&body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let r = request.send().await.expect("the server answers");
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn fresh_database() -> (String, PgPool) {
    let admin = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a Postgres server; run scripts/bench-rotations.sh");
    let name = format!("rotary_bench_{}", uuid::Uuid::new_v4().simple());
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .unwrap();
    (url, pool)
}

#[tokio::main]
async fn main() {
    let a = args();
    let (database_url, db) = fresh_database().await;
    let root_key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (org, org_base) = rotary::mock::salesforce::spawn(listener, None, Some(7))
        .await
        .unwrap();
    let connector = org.seeded_apps()[0].clone();
    let azure = if a.azure {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Some(rotary::mock::azure::spawn(listener).await.unwrap())
    } else {
        None
    };
    let azure_url = azure.as_ref().map(|(_, url)| url.clone());
    let aws = if a.aws {
        Some(aws_proxy::FaultProxy::start(&moto::moto().url).await)
    } else {
        None
    };
    let aws_url = aws.as_ref().map(|p| p.url.clone());
    let servers: Vec<Server> = (0..a.replicas)
        .map(|_| {
            start_server(
                &database_url,
                &root_key,
                &a,
                azure_url.as_deref(),
                aws_url.as_deref(),
            )
        })
        .collect();
    let base = servers[0].base.clone();
    let http = reqwest::Client::new();

    // Set-up through the API, with no added latency.
    let boot = call(
        &http,
        format!("{base}/api/v1/admin/bootstrap"),
        None,
        json!({"organization": "Bench"}),
    )
    .await;
    let creds = &boot["identity"]["credentials"];
    let token = call(
        &http,
        format!("{base}/api/v1/auth/universal-auth/login"),
        None,
        json!({"clientId": creds["clientId"], "clientSecret": creds["clientSecret"]}),
    )
    .await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let project = call(
        &http,
        format!("{base}/api/v2/workspace"),
        Some(&token),
        json!({"projectName": "Bench"}),
    )
    .await["project"]["id"]
        .clone();
    let started = Instant::now();
    let directory = if a.ldap {
        Some(ldap_server::LdapServer::start().await)
    } else {
        None
    };
    let okta = if a.okta {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Some(rotary::mock::okta::spawn(listener).await.unwrap())
    } else {
        None
    };
    let auth0 = if a.auth0 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Some(rotary::mock::auth0::spawn(listener).await.unwrap())
    } else {
        None
    };
    let mongo = if a.mongodb {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Some(rotary::mock::mongodb::MockMongo::spawn(listener))
    } else {
        None
    };
    let mssql = if a.mssql {
        let cert = test_cert::TestCert::new(&["localhost", "127.0.0.1"]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Some(
            rotary::mock::mssql::MockMssql::spawn(listener, &cert.cert_pem, &cert.key_pem).unwrap(),
        )
    } else {
        None
    };
    let oracle = if a.oracle {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Some(rotary::mock::oracle::MockOracle::spawn(listener).unwrap())
    } else {
        None
    };
    let (kind, bodies) = if let Some(server) = &oracle {
        (
            "oracledb-credentials",
            oracle_rotations(&http, &base, &token, &project, server, &a).await,
        )
    } else if let Some(server) = &mssql {
        (
            "mssql-credentials",
            mssql_rotations(&http, &base, &token, &project, server, &a).await,
        )
    } else if let Some(server) = &mongo {
        (
            "mongodb-credentials",
            mongo_rotations(&http, &base, &token, &project, server, &a).await,
        )
    } else if aws.is_some() {
        (
            "aws-iam-user-secret",
            aws_rotations(&http, &base, &token, &project, &a).await,
        )
    } else if let Some((mock, _)) = &azure {
        (
            "azure-client-secret",
            azure_rotations(&http, &base, &token, &project, mock, &a).await,
        )
    } else if let Some((tenant, auth0_base)) = &auth0 {
        (
            "auth0-client-secret",
            auth0_rotations(&http, &base, &token, &project, tenant, auth0_base, &a).await,
        )
    } else if let Some((org, okta_base)) = &okta {
        (
            "okta-client-secret",
            okta_rotations(&http, &base, &token, &project, org, okta_base, &a).await,
        )
    } else if let Some(server) = &directory {
        (
            "ldap-password",
            ldap_rotations(&http, &base, &token, &project, server, &a).await,
        )
    } else if let Some(port) = a.redis {
        (
            "redis-credentials",
            redis_rotations(&http, &base, &token, &project, port, &a).await,
        )
    } else if a.mysql {
        (
            "mysql-credentials",
            mysql_rotations(&http, &base, &token, &project, &a).await,
        )
    } else if a.postgres {
        (
            "postgres-credentials",
            postgres_rotations(&http, &base, &token, &project, &db, &database_url, &a).await,
        )
    } else {
        (
            "salesforce-oauth-credentials",
            salesforce_rotations(&http, &base, &token, &project, &org_base, &connector, &a).await,
        )
    };
    for chunk in bodies.chunks(32) {
        let mut set = tokio::task::JoinSet::new();
        for body in chunk.iter().cloned() {
            let (http, url, token) = (
                http.clone(),
                format!("{base}/api/v2/secret-rotations/{kind}"),
                token.clone(),
            );
            set.spawn(async move { call(&http, url, Some(&token), body).await });
        }
        set.join_all().await;
    }
    eprintln!(
        "set-up: {} rotations created through the API in {:.1} s",
        a.rotations,
        started.elapsed().as_secs_f64()
    );

    // The burst: every rotation due at the same second.
    http.patch(format!("{org_base}/__mock/knobs"))
        .json(&json!({"latency_ms": a.latency_ms}))
        .send()
        .await
        .unwrap();
    if let Some((org, _)) = &okta {
        org.org().knobs.latency_ms = a.latency_ms;
    }
    if let Some((tenant, _)) = &auth0 {
        tenant.tenant().knobs.latency_ms = a.latency_ms;
    }
    if let Some((mock, _)) = &azure {
        mock.directory().knobs.latency_ms = a.latency_ms;
    }
    if let Some(server) = &mongo {
        server.set_latency(Duration::from_millis(a.latency_ms));
    }
    if let Some(server) = &mssql {
        server.set_latency(Duration::from_millis(a.latency_ms));
    }
    if let Some(server) = &oracle {
        server.set_latency(Duration::from_millis(a.latency_ms));
    }
    if let Some(proxy) = &aws {
        proxy
            .latency_ms
            .store(a.latency_ms, std::sync::atomic::Ordering::Relaxed);
    }
    // ROTARY_PG_OPTIONS='-c shared_preload_libraries=pg_stat_statements' makes the benchmark
    // print the statements that cost Postgres the most during the burst.
    let statements = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&db)
        .await
        .is_ok()
        && sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(&db)
            .await
            .is_ok();
    let cpu_before = cpu_seconds(&servers);
    let due: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "UPDATE secret_rotations SET next_rotation_at = date_trunc('second', now()) + interval '2 seconds' \
         RETURNING next_rotation_at",
    )
    .fetch_all(&db)
    .await
    .unwrap()[0];
    // The UPDATE above makes every rotation due in one statement, which time does not do: a
    // real table's statistics say how many are due because autovacuum analyzed it after the
    // rotations were created. Here they were created seconds ago; analyze as autovacuum would.
    sqlx::query("ANALYZE secret_rotations")
        .execute(&db)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let finished: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rotation_runs WHERE trigger = 'scheduled' AND outcome <> 'running'",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if finished as usize >= a.rotations {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the burst did not drain in 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cpu_after = cpu_seconds(&servers);
    let cpu: Vec<f64> = (0..3).map(|i| cpu_after[i] - cpu_before[i]).collect();
    let stats: (f64, f64, f64, f64, f64, i64) = sqlx::query_as(
        "WITH runs AS ( \
           SELECT extract(epoch FROM x.created_at - $1) AS lag, x.finished_at, x.outcome, \
                  row_number() OVER (PARTITION BY r.connection_id ORDER BY x.created_at) AS nth \
           FROM rotation_runs x JOIN secret_rotations r ON r.id = x.rotation_id \
           WHERE x.trigger = 'scheduled') \
         SELECT extract(epoch FROM max(finished_at) - $1)::float8, \
                percentile_cont(0.5) WITHIN GROUP (ORDER BY lag)::float8, \
                percentile_cont(0.99) WITHIN GROUP (ORDER BY lag)::float8, \
                (percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) FILTER (WHERE nth <= $2))::float8, \
                (percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) FILTER (WHERE nth <= $2))::float8, \
                count(*) FILTER (WHERE outcome <> 'succeeded') \
         FROM runs",
    )
    .bind(due)
    .bind(a.per_connection as i64)
    .fetch_one(&db)
    .await
    .unwrap();
    let (drain, p50, p99, free_p50, free_p99, failed) = stats;
    println!(
        "machine: {} cores; {} replica(s), concurrency {} per replica, {} per connection",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        a.replicas,
        a.concurrency,
        a.per_connection
    );
    println!(
        "burst: {} {kind} rotations over {} connections, {} ms per call to the org",
        a.rotations, a.connections, a.latency_ms
    );
    println!(
        "drained in {drain:.2} s ({:.0} rotations/s); failed runs: {failed}",
        a.rotations as f64 / drain
    );
    println!("scheduler lag, all runs: p50 {p50:.3} s, p99 {p99:.3} s");
    println!(
        "scheduler lag, runs with a free connection slot: p50 {free_p50:.3} s, p99 {free_p99:.3} s"
    );
    println!(
        "CPU during the burst: rotary {:.1} s, the database servers (postgres, and redis, mariadb or slapd) {:.1} s, mock org + benchmark {:.1} s",
        cpu[0], cpu[1], cpu[2]
    );
    for (i, s) in servers.iter().enumerate() {
        println!(
            "replica {i}: resident memory {:.1} MB",
            rss_mb(s.child.id())
        );
    }
    if a.mysql {
        mysql_floor(&a).await;
    }
    if let Some(port) = a.redis {
        redis_floor(&a, port).await;
    }
    if let Some(server) = &directory {
        ldap_floor(&a, server).await;
    }
    if a.aws {
        aws_floor(&a).await;
    }
    if let Some(server) = &mongo {
        server.set_latency(Duration::ZERO);
        mongo_floor(&a, server).await;
    }
    if let Some(server) = &mssql {
        server.set_latency(Duration::ZERO);
        mssql_floor(&a, server).await;
    }
    if let Some(server) = &oracle {
        server.set_latency(Duration::ZERO);
        oracle_floor(&a, server).await;
    }
    if statements {
        let top: Vec<(i64, f64, String)> = sqlx::query_as(
            "SELECT calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) \
             FROM pg_stat_statements \
             ORDER BY total_exec_time DESC LIMIT 25",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        println!("top statements during the burst (calls, total ms, statement):");
        for (calls, ms, query) in top {
            println!("{calls:>8} {ms:>9.1}  {query}");
        }
    }
    assert_eq!(failed, 0, "every rotation succeeded");
}

/// Salesforce rotations: `--connections` connections to the mock org, one app per rotation.
async fn salesforce_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    org_base: &str,
    connector: &rotary::mock::salesforce::SeededApp,
    a: &Args,
) -> Vec<Value> {
    let token = token.to_string();
    let mut connections = Vec::new();
    for i in 0..a.connections {
        let c = call(
            http,
            format!("{base}/api/v1/app-connections/salesforce"),
            Some(&token),
            json!({"name": format!("org-{i}"), "method": "client-credentials", "projectId": project,
                   "credentials": {"instanceUrl": org_base, "consumerKey": connector.key, "consumerSecret": connector.secret}}),
        )
        .await;
        connections.push(c["appConnection"]["id"].clone());
    }
    let apps: Vec<Value> = (0..a.rotations)
        .map(|i| json!({"developerName": format!("App_{i}"), "runAs": "rotary-runas@demo.example"}))
        .chain([
            json!({"developerName": "Rotary_Connector", "runAs": "rotary-runas@demo.example",
                       "consumers": [{"key": connector.key, "secret": connector.secret}]}),
        ])
        .collect();
    let seeded = http
        .post(format!("{org_base}/__mock/seed"))
        .json(&json!({"users": [{"username": "rotary-runas@demo.example"}], "apps": apps}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    // A real org's daily API allowance would stop a benchmark this size.
    http.patch(format!("{org_base}/__mock/knobs"))
        .json(&json!({"api_limit_24h": 1_000_000_000u64}))
        .send()
        .await
        .unwrap();
    seeded["apps"].as_array().unwrap()[..a.rotations]
        .iter()
        .enumerate()
        .map(|(i, app)| {
            json!({
                "name": format!("rotation-{i}"), "projectId": project,
                "connectionId": connections[i % a.connections], "environment": "dev",
                "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
                "parameters": {"appId": app["id"], "appName": app["developerName"]},
                "secretsMapping": {"consumerKey": format!("KEY_{i}"), "consumerSecret": format!("SECRET_{i}")}
            })
        })
        .collect()
}

/// PostgreSQL rotations against this cluster: `--connections` connection roles, each with
/// CREATEROLE and ADMIN OPTION on its rotations' users, and two login roles per rotation.
async fn postgres_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    db: &PgPool,
    database_url: &str,
    a: &Args,
) -> Vec<Value> {
    let rest = database_url.split_once('@').unwrap().1;
    let (hostport, database) = rest.split_once('/').unwrap();
    let (host, port) = hostport.split_once(':').unwrap();
    let mut connections = Vec::new();
    for c in 0..a.connections {
        let role = format!("bench_conn_{c}");
        sqlx::query(&format!(
            "CREATE ROLE {role} LOGIN CREATEROLE PASSWORD 'bench-conn-pw-{c}'"
        ))
        .execute(db)
        .await
        .unwrap();
        let body = json!({"name": format!("db-{c}"), "method": "username-and-password", "projectId": project,
            "credentials": {"host": host, "port": port, "database": database, "username": role,
                            "password": format!("bench-conn-pw-{c}"), "sslEnabled": false, "sslRejectUnauthorized": false}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/postgres"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    let mut bodies = Vec::new();
    for i in 0..a.rotations {
        let c = i % a.connections;
        let users = [format!("bench_u{i}_a"), format!("bench_u{i}_b")];
        for user in &users {
            for sql in [
                format!("CREATE ROLE {user} LOGIN PASSWORD 'initial'"),
                format!("GRANT {user} TO bench_conn_{c} WITH ADMIN OPTION"),
            ] {
                sqlx::query(&sql).execute(db).await.unwrap();
            }
        }
        bodies.push(json!({
            "name": format!("rotation-{i}"), "projectId": project,
            "connectionId": connections[c], "environment": "dev",
            "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
            "parameters": {"username1": users[0], "username2": users[1]},
            "secretsMapping": {"username": format!("USER_{i}"), "password": format!("PASSWORD_{i}")}
        }));
    }
    bodies
}

/// Redis rotations against the Redis on `port`: `--connections` connections as its
/// `bench_manager`, one rotation per permission scope (each a new ACL user per rotation).
async fn redis_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    port: u16,
    a: &Args,
) -> Vec<Value> {
    let mut connections = Vec::new();
    for c in 0..a.connections {
        let body = json!({"name": format!("cache-{c}"), "method": "username-and-password", "projectId": project,
            "credentials": {"host": "127.0.0.1", "port": port, "username": "bench_manager",
                            "password": "bench-manager-pw", "sslEnabled": false, "sslRejectUnauthorized": false}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/redis"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    (0..a.rotations)
        .map(|i| {
            json!({
                "name": format!("rotation-{i}"), "projectId": project,
                "connectionId": connections[i % a.connections], "environment": "dev",
                "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
                "parameters": {"permissionScope": format!("~app{i}:* +@read +@write")},
                "secretsMapping": {"username": format!("USER_{i}"), "password": format!("PASSWORD_{i}")}
            })
        })
        .collect()
}

fn mysql_url() -> (String, String, u16) {
    let url = std::env::var("MYSQL_URL").expect("MYSQL_URL (scripts/with-mariadb.sh gives one)");
    let rest = url.split_once('@').unwrap().1;
    let (hostport, _) = rest.split_once('/').unwrap();
    let (host, port) = hostport.split_once(':').unwrap();
    (url.clone(), host.to_string(), port.parse().unwrap())
}

async fn mysql_admin() -> sqlx::MySqlPool {
    use sqlx::ConnectOptions;
    let options = mysql_url()
        .0
        .parse::<sqlx::mysql::MySqlConnectOptions>()
        .unwrap()
        .log_statements(log::LevelFilter::Off);
    sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .unwrap()
}

/// MySQL rotations: `--connections` accounts with CREATE USER (and SELECT on mysql.user),
/// two accounts per rotation.
async fn mysql_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    a: &Args,
) -> Vec<Value> {
    let (_, host, port) = mysql_url();
    let admin = mysql_admin().await;
    sqlx::raw_sql("CREATE DATABASE IF NOT EXISTS bench")
        .execute(&admin)
        .await
        .unwrap();
    let mut connections = Vec::new();
    for c in 0..a.connections {
        for sql in [
            format!("CREATE USER 'bench_conn_{c}'@'%' IDENTIFIED BY 'bench-conn-pw-{c}'"),
            format!("GRANT CREATE USER ON *.* TO 'bench_conn_{c}'@'%'"),
            format!("GRANT SELECT ON mysql.user TO 'bench_conn_{c}'@'%'"),
            format!("GRANT SELECT ON bench.* TO 'bench_conn_{c}'@'%'"),
        ] {
            sqlx::raw_sql(&sql).execute(&admin).await.unwrap();
        }
        let body = json!({"name": format!("db-{c}"), "method": "username-and-password", "projectId": project,
            "credentials": {"host": host, "port": port, "database": "bench", "username": format!("bench_conn_{c}"),
                            "password": format!("bench-conn-pw-{c}"), "sslEnabled": false, "sslRejectUnauthorized": false}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/mysql"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    let mut bodies = Vec::new();
    for i in 0..a.rotations {
        let users = [format!("bench_u{i}_a"), format!("bench_u{i}_b")];
        for user in &users {
            for sql in [
                format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'initial'"),
                format!("GRANT SELECT ON bench.* TO '{user}'@'%'"),
            ] {
                sqlx::raw_sql(&sql).execute(&admin).await.unwrap();
            }
        }
        bodies.push(json!({
            "name": format!("rotation-{i}"), "projectId": project,
            "connectionId": connections[i % a.connections], "environment": "dev",
            "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
            "parameters": {"username1": users[0], "username2": users[1]},
            "secretsMapping": {"username": format!("USER_{i}"), "password": format!("PASSWORD_{i}")}
        }));
    }
    bodies
}

/// The server's own rate for a MySQL rotation's statements, in the same run: per client, a
/// fresh login as a connection account, the host lookup and ALTER USER on a user of its own,
/// then a fresh login as that user and SELECT 1 (what Issued and Verified send), for 10 s.
async fn mysql_floor(a: &Args) {
    use sqlx::{ConnectOptions, Connection, Executor};
    let (_, host, port) = mysql_url();
    let admin = mysql_admin().await;
    for c in 0..a.concurrency {
        for sql in [
            format!("CREATE USER 'floor_conn_{c}'@'%' IDENTIFIED BY 'floor-conn-pw'"),
            format!("GRANT CREATE USER ON *.* TO 'floor_conn_{c}'@'%'"),
            format!("GRANT SELECT ON mysql.user TO 'floor_conn_{c}'@'%'"),
            format!("GRANT SELECT ON bench.* TO 'floor_conn_{c}'@'%'"),
            format!("CREATE USER 'floor_u{c}'@'%' IDENTIFIED BY 'initial'"),
            format!("GRANT SELECT ON bench.* TO 'floor_u{c}'@'%'"),
        ] {
            sqlx::raw_sql(&sql).execute(&admin).await.unwrap();
        }
    }
    let host: &'static str = Box::leak(host.into_boxed_str());
    let options = move |user: &str, password: &str| {
        sqlx::mysql::MySqlConnectOptions::new()
            .host(host)
            .port(port)
            .database("bench")
            .username(user)
            .password(password)
            .log_statements(log::LevelFilter::Off)
    };
    let until = Instant::now() + Duration::from_secs(10);
    let mut set = tokio::task::JoinSet::new();
    for c in 0..a.concurrency {
        let conn_options = options(&format!("floor_conn_{c}"), "floor-conn-pw");
        let user = format!("floor_u{c}");
        set.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                let password = format!("pw-{done}-{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::mysql::MySqlConnection::connect_with(&conn_options)
                    .await
                    .unwrap();
                let _: Vec<String> =
                    sqlx::query_scalar("SELECT CAST(Host AS CHAR) FROM mysql.user WHERE User = ?")
                        .bind(&user)
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                conn.execute(
                    format!("ALTER USER '{user}'@'%' IDENTIFIED BY '{password}'").as_str(),
                )
                .await
                .unwrap();
                let _ = conn.close().await;
                let mut login =
                    sqlx::mysql::MySqlConnection::connect_with(&options(&user, &password))
                        .await
                        .unwrap();
                sqlx::query("SELECT 1").execute(&mut login).await.unwrap();
                let _ = login.close().await;
                done += 1;
            }
            done
        });
    }
    let total: u64 = set.join_all().await.into_iter().sum();
    println!(
        "the server alone, same run: a rotation's MySQL statements (a fresh login, the host lookup, ALTER USER; a fresh login as the user, SELECT 1), {} clients, 10 s: {:.0}/s",
        a.concurrency,
        total as f64 / 10.0
    );
}

/// The server's own rate for a Redis rotation's commands, in the same run: per client, as
/// the rotation sends them, a fresh connection and AUTH as the manager, ACL DELUSER of the
/// user of two rounds ago; another, ACL SETUSER of a new user and ACL SAVE; a fresh
/// connection and AUTH as the new user; for 10 s.
async fn redis_floor(a: &Args, port: u16) {
    async fn login(port: u16, user: &str, password: &str) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("AUTH")
            .arg(user)
            .arg(password)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        conn
    }
    let until = Instant::now() + Duration::from_secs(10);
    let mut set = tokio::task::JoinSet::new();
    for c in 0..a.concurrency {
        set.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                let user = format!("floor_{c}_{done}");
                let password = uuid::Uuid::new_v4().simple().to_string();
                let mut conn = login(port, "bench_manager", "bench-manager-pw").await;
                let old = format!("floor_{c}_{}", done.wrapping_sub(2));
                let _: i64 = redis::cmd("ACL")
                    .arg("DELUSER")
                    .arg(&old)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                drop(conn);
                let mut conn = login(port, "bench_manager", "bench-manager-pw").await;
                redis::cmd("ACL")
                    .arg(&[
                        "SETUSER",
                        &user,
                        "reset",
                        "on",
                        &format!(">{password}"),
                        "~app:*",
                        "+@read",
                        "+@write",
                    ])
                    .query_async::<()>(&mut conn)
                    .await
                    .unwrap();
                let _ = redis::cmd("ACL")
                    .arg("SAVE")
                    .query_async::<()>(&mut conn)
                    .await;
                drop(conn);
                drop(login(port, &user, &password).await);
                done += 1;
            }
            done
        });
    }
    let total: u64 = set.join_all().await.into_iter().sum();
    println!(
        "the server alone, same run: a rotation's Redis commands (AUTH, ACL DELUSER; AUTH, ACL SETUSER, ACL SAVE; AUTH as the new user, each on a fresh connection), {} clients, 10 s: {:.0}/s",
        a.concurrency,
        total as f64 / 10.0
    );
}

/// Okta rotations: `--connections` API-token connections to the mock org, one app each
/// rotation.
async fn okta_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    org: &rotary::mock::okta::MockOkta,
    okta_base: &str,
    a: &Args,
) -> Vec<Value> {
    let mut connections = Vec::new();
    for c in 0..a.connections {
        let api_token = org.org().add_token();
        let body = json!({"name": format!("okta-{c}"), "method": "api-token", "projectId": project,
            "credentials": {"instanceUrl": okta_base, "apiToken": api_token}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/okta"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    (0..a.rotations)
        .map(|i| {
            let (app, _) = org.org().add_app(&format!("App {i}"));
            json!({
                "name": format!("rotation-{i}"), "projectId": project,
                "connectionId": connections[i % a.connections], "environment": "dev",
                "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
                "parameters": {"clientId": app},
                "secretsMapping": {"clientId": format!("CLIENT_ID_{i}"), "clientSecret": format!("CLIENT_SECRET_{i}")}
            })
        })
        .collect()
}

/// Auth0 rotations: `--connections` Machine-to-Machine connections to the mock tenant, one
/// application each rotation.
async fn auth0_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    tenant: &rotary::mock::auth0::MockAuth0,
    auth0_base: &str,
    a: &Args,
) -> Vec<Value> {
    let audience = tenant.tenant().audience();
    let mut connections = Vec::new();
    for c in 0..a.connections {
        let (id, secret) = tenant.tenant().add_client(
            &format!("Rotary {c}"),
            &["read:clients", "update:client_keys"],
        );
        let body = json!({"name": format!("auth0-{c}"), "method": "client-credentials", "projectId": project,
            "credentials": {"domain": auth0_base, "clientId": id, "clientSecret": secret, "audience": audience}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/auth0"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    (0..a.rotations)
        .map(|i| {
            let (app, _) = tenant.tenant().add_client(&format!("App {i}"), &[]);
            json!({
                "name": format!("rotation-{i}"), "projectId": project,
                "connectionId": connections[i % a.connections], "environment": "dev",
                "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
                "parameters": {"clientId": app},
                "secretsMapping": {"clientId": format!("CLIENT_ID_{i}"), "clientSecret": format!("CLIENT_SECRET_{i}")}
            })
        })
        .collect()
}

/// Azure rotations: `--connections` tenants, each with a connection as an app registration
/// that may manage the others, one app registration each rotation.
async fn azure_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    mock: &rotary::mock::azure::MockAzure,
    a: &Args,
) -> Vec<Value> {
    let mut connections = Vec::new();
    let mut tenants = Vec::new();
    for c in 0..a.connections {
        let (tenant, manager, secret) = {
            let mut d = mock.directory();
            let tenant = d.add_tenant();
            let (_, manager, secret) = d.add_app(tenant, "Rotary", true);
            (tenant, manager, secret)
        };
        let body = json!({"name": format!("azure-{c}"), "method": "client-secret", "projectId": project,
            "credentials": {"tenantId": tenant, "clientId": manager, "clientSecret": secret}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/azure-client-secrets"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
        tenants.push(tenant);
    }
    (0..a.rotations)
        .map(|i| {
            let (object_id, client_id, _) =
                mock.directory()
                    .add_app(tenants[i % a.connections], &format!("App {i}"), false);
            json!({
                "name": format!("rotation-{i}"), "projectId": project,
                "connectionId": connections[i % a.connections], "environment": "dev",
                "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
                "parameters": {"objectId": object_id, "clientId": client_id},
                "secretsMapping": {"clientId": format!("CLIENT_ID_{i}"), "clientSecret": format!("CLIENT_SECRET_{i}")}
            })
        })
        .collect()
}

/// MongoDB rotations: a manager (`userAdmin`) per connection, each in a database of its own,
/// and two users per rotation there.
async fn mongo_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    server: &rotary::mock::mongodb::MockMongo,
    a: &Args,
) -> Vec<Value> {
    let (host, port) = server.address.rsplit_once(':').unwrap();
    let mut connections = Vec::new();
    for c in 0..a.connections {
        let db = format!("app{c}");
        server.add_user(&db, "rotary", "bench-manager-pw", &[("userAdmin", &db)]);
        let body = json!({"name": format!("mongo-{c}"), "method": "username-and-password", "projectId": project,
            "credentials": {"host": host, "port": port.parse::<u16>().unwrap(), "database": db,
                            "username": "rotary", "password": "bench-manager-pw",
                            "tlsEnabled": false, "tlsRejectUnauthorized": false}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/mongodb"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    (0..a.rotations)
        .map(|i| {
            let db = format!("app{}", i % a.connections);
            for n in 1..=2 {
                server.add_user(&db, &format!("u{i}_{n}"), "initial", &[("readWrite", &db)]);
            }
            json!({
                "name": format!("rotation-{i}"), "projectId": project,
                "connectionId": connections[i % a.connections], "environment": "dev",
                "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
                "parameters": {"username1": format!("u{i}_1"), "username2": format!("u{i}_2")},
                "secretsMapping": {"username": format!("USER_{i}"), "password": format!("PASSWORD_{i}")}
            })
        })
        .collect()
}

/// The protocol server alone: `--concurrency` clients doing a rotation's driver work (a new
/// client as the manager runs `updateUser`, a new client as the user runs `ping`) for ten
/// seconds, each on a user of its own.
async fn mongo_floor(a: &Args, server: &rotary::mock::mongodb::MockMongo) {
    use mongodb::bson::doc;
    use secrecy::SecretString;
    let c = rotary::providers::mongodb::wire::MongoConnection {
        host: server.address.rsplit_once(':').unwrap().0.to_string(),
        port: server.address.rsplit_once(':').unwrap().1.parse().unwrap(),
        database: "floor".into(),
        username: "rotary".into(),
        password: SecretString::from("floor-manager-pw"),
        tls_enabled: false,
        tls_reject_unauthorized: false,
        tls_certificate: None,
    };
    server.add_user(
        "floor",
        "rotary",
        "floor-manager-pw",
        &[("userAdmin", "floor")],
    );
    let until = Instant::now() + Duration::from_secs(10);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..a.concurrency {
        let user = format!("floor_{n}");
        server.add_user("floor", &user, "initial", &[("readWrite", "floor")]);
        let c = c.clone();
        set.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                let password = SecretString::from(format!("pw-{done}-{n}"));
                rotary::providers::mongodb::client::set_password(&c, &user, &password, true)
                    .await
                    .unwrap();
                let client = rotary::providers::mongodb::client::client(&c, &user, &password, true)
                    .await
                    .unwrap();
                client
                    .database("floor")
                    .run_command(doc! {"ping": 1})
                    .await
                    .unwrap();
                client.shutdown().await;
                done += 1;
            }
            done
        });
    }
    let total: u64 = set.join_all().await.into_iter().sum();
    println!(
        "the protocol server alone, a rotation's updateUser and login from {} clients: {:.0} rotations/s",
        a.concurrency,
        total as f64 / started.elapsed().as_secs_f64()
    );
}

/// SQL Server rotations: a manager login (ALTER ANY LOGIN) per connection, each in a database
/// of its own, and two logins per rotation with a user there.
async fn mssql_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    server: &rotary::mock::mssql::MockMssql,
    a: &Args,
) -> Vec<Value> {
    let (host, port) = server.address.rsplit_once(':').unwrap();
    let mut connections = Vec::new();
    for c in 0..a.connections {
        let db = format!("app{c}");
        server.add_database(&db);
        server.add_login(&format!("rotary{c}"), "Bench-manager-pw-1", true, &[&db]);
        let body = json!({"name": format!("mssql-{c}"), "method": "username-and-password", "projectId": project,
            "credentials": {"host": host, "port": port.parse::<u16>().unwrap(), "database": db,
                            "username": format!("rotary{c}"), "password": "Bench-manager-pw-1",
                            "sslEnabled": false, "sslRejectUnauthorized": false}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/mssql"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    (0..a.rotations)
        .map(|i| {
            let db = format!("app{}", i % a.connections);
            for n in 1..=2 {
                server.add_login(&format!("u{i}_{n}"), "Initial-pw-1", false, &[&db]);
            }
            json!({
                "name": format!("rotation-{i}"), "projectId": project,
                "connectionId": connections[i % a.connections], "environment": "dev",
                "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
                "parameters": {"username1": format!("u{i}_1"), "username2": format!("u{i}_2")},
                "secretsMapping": {"username": format!("USER_{i}"), "password": format!("PASSWORD_{i}")}
            })
        })
        .collect()
}

/// The protocol server alone: `--concurrency` clients doing a rotation's driver work (a
/// session as the manager runs ALTER LOGIN, a session as the login runs SELECT 1) for ten
/// seconds, each on a login of its own.
async fn mssql_floor(a: &Args, server: &rotary::mock::mssql::MockMssql) {
    use rotary::providers::mssql::{connection, rotation};
    use secrecy::{ExposeSecret, SecretString};
    server.add_database("floor");
    server.add_login("floor_manager", "Floor-manager-pw-1", true, &["floor"]);
    let c = rotary::providers::sql::wire::SqlConnection {
        host: server.address.rsplit_once(':').unwrap().0.to_string(),
        port: server.address.rsplit_once(':').unwrap().1.parse().unwrap(),
        database: "floor".into(),
        username: "floor_manager".into(),
        password: SecretString::from("Floor-manager-pw-1"),
        ssl_enabled: false,
        ssl_reject_unauthorized: false,
        ssl_certificate: None,
    };
    let until = Instant::now() + Duration::from_secs(10);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..a.concurrency {
        let login = format!("floor_{n}");
        server.add_login(&login, "Initial-pw-1", false, &["floor"]);
        let c = c.clone();
        set.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                let password = SecretString::from(format!("Pw-{done}-{n}-x"));
                let mut manager = connection::connect_as(&c, &c.username, &c.password, true)
                    .await
                    .unwrap();
                let sql = rotation::alter_login(&login, password.expose_secret());
                connection::run(&mut manager, &sql, &login).await.unwrap();
                let _ = manager.close().await;
                connection::check_login(&c, &login, &password, true)
                    .await
                    .unwrap();
                done += 1;
            }
            done
        });
    }
    let total: u64 = set.join_all().await.into_iter().sum();
    println!(
        "the protocol server alone, a rotation's ALTER LOGIN and login from {} clients: {:.0} rotations/s",
        a.concurrency,
        total as f64 / started.elapsed().as_secs_f64()
    );
}

/// Oracle rotations: a manager user (ALTER USER) per connection and two users per rotation,
/// all in the server's FREEPDB1.
async fn oracle_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    server: &rotary::mock::oracle::MockOracle,
    a: &Args,
) -> Vec<Value> {
    let (host, port) = server.address.rsplit_once(':').unwrap();
    let mut connections = Vec::new();
    for c in 0..a.connections {
        server.add_user(&format!("ROTARY{c}"), "Bench-manager-pw-1", true);
        let body = json!({"name": format!("oracle-{c}"), "method": "username-and-password", "projectId": project,
            "credentials": {"host": host, "port": port.parse::<u16>().unwrap(), "database": "FREEPDB1",
                            "username": format!("ROTARY{c}"), "password": "Bench-manager-pw-1",
                            "sslEnabled": false, "sslRejectUnauthorized": false}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/oracledb"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    (0..a.rotations)
        .map(|i| {
            for n in 1..=2 {
                server.add_user(&format!("U{i}_{n}"), "Initial-pw-1", false);
            }
            json!({
                "name": format!("rotation-{i}"), "projectId": project,
                "connectionId": connections[i % a.connections], "environment": "dev",
                "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
                "parameters": {"username1": format!("U{i}_1"), "username2": format!("U{i}_2")},
                "secretsMapping": {"username": format!("USER_{i}"), "password": format!("PASSWORD_{i}")}
            })
        })
        .collect()
}

/// The protocol server alone: `--concurrency` clients doing a rotation's driver work (a
/// session as the manager runs ALTER USER, a session as the user runs SELECT 1 FROM DUAL) for
/// ten seconds, each on a user of its own, through the same driver calls Rotary makes.
async fn oracle_floor(a: &Args, server: &rotary::mock::oracle::MockOracle) {
    use rotary::providers::oracle::{connection, rotation};
    use secrecy::{ExposeSecret, SecretString};
    server.add_user("FLOOR_MANAGER", "Floor-manager-pw-1", true);
    let c = rotary::providers::sql::wire::SqlConnection {
        host: server.address.rsplit_once(':').unwrap().0.to_string(),
        port: server.address.rsplit_once(':').unwrap().1.parse().unwrap(),
        database: "FREEPDB1".into(),
        username: "FLOOR_MANAGER".into(),
        password: SecretString::from("Floor-manager-pw-1"),
        ssl_enabled: false,
        ssl_reject_unauthorized: false,
        ssl_certificate: None,
    };
    let until = Instant::now() + Duration::from_secs(10);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..a.concurrency {
        let user = format!("FLOOR_{n}");
        server.add_user(&user, "Initial-pw-1", false);
        let c = c.clone();
        set.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                let password = SecretString::from(format!("Pw-{done}-{n}-x"));
                let sql = rotation::alter_user(&user, password.expose_secret());
                connection::session(
                    &c,
                    &c.username,
                    &c.password,
                    true,
                    (vec![sql], &user),
                    false,
                )
                .await
                .unwrap();
                connection::check_login(&c, &connection::exact(&user), &password, true)
                    .await
                    .unwrap();
                done += 1;
            }
            done
        });
    }
    let total: u64 = set.join_all().await.into_iter().sum();
    println!(
        "the protocol server alone, a rotation's ALTER USER and logon from {} clients: {:.0} rotations/s",
        a.concurrency,
        total as f64 / started.elapsed().as_secs_f64()
    );
}

/// AWS rotations: `--connections` access-key connections (principals with Infisical's
/// documented permissions), one IAM user per rotation, all in moto.
async fn aws_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    a: &Args,
) -> Vec<Value> {
    let mut connections = Vec::new();
    for c in 0..a.connections {
        let (_, id, secret) = moto::principal("bench-rotary", moto::MANAGER_POLICY).await;
        let body = json!({"name": format!("aws-{c}"), "method": "access-key", "projectId": project,
            "credentials": {"accessKeyId": id, "secretAccessKey": secret}});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/aws"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    let mut bodies = Vec::new();
    for i in 0..a.rotations {
        let user = moto::user("bench").await;
        bodies.push(json!({
            "name": format!("rotation-{i}"), "projectId": project,
            "connectionId": connections[i % a.connections], "environment": "dev",
            "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
            "parameters": {"userName": user},
            "secretsMapping": {"accessKeyId": format!("KEY_ID_{i}"), "secretAccessKey": format!("KEY_SECRET_{i}")}
        }));
    }
    bodies
}

/// moto alone: `--concurrency` clients replaying the calls of the burst's rotations (a first
/// scheduled rotation: the user's keys listed three times, a key created, GetCallerIdentity
/// signed with it), each on a user of its own, for ten seconds. Each client then deletes the
/// key outside its timed part, so the user never reaches IAM's two keys.
async fn aws_floor(a: &Args) {
    let clients = a.concurrency;
    let mut users = Vec::new();
    for _ in 0..clients {
        let user = moto::user("floor").await;
        moto::add_key(&user).await;
        users.push(user);
    }
    let (_, id, secret) = moto::principal("floor-rotary", moto::MANAGER_POLICY).await;
    let until = Instant::now() + Duration::from_secs(10);
    let mut set = tokio::task::JoinSet::new();
    for user in users {
        let iam = moto::iam((&id, &secret));
        set.spawn(async move {
            let (mut done, mut busy) = (0u64, Duration::ZERO);
            while Instant::now() < until {
                let started = Instant::now();
                for _ in 0..3 {
                    iam.list_access_keys()
                        .user_name(&user)
                        .send()
                        .await
                        .unwrap();
                }
                let out = iam
                    .create_access_key()
                    .user_name(&user)
                    .send()
                    .await
                    .unwrap();
                let key = out.access_key().unwrap();
                assert!(moto::works(key.access_key_id(), key.secret_access_key()).await);
                busy += started.elapsed();
                done += 1;
                iam.delete_access_key()
                    .user_name(&user)
                    .access_key_id(key.access_key_id())
                    .send()
                    .await
                    .unwrap();
            }
            done as f64 / busy.as_secs_f64()
        });
    }
    let rate: f64 = set.join_all().await.into_iter().sum();
    println!("moto alone, a rotation's 5 calls from {clients} clients: {rate:.0} rotations/s");
}

/// The connection `ldap-password` rotations use: the manager over ldaps:// with the test CA.
fn ldap_connection(
    server: &ldap_server::LdapServer,
) -> rotary::providers::ldap::wire::LdapConnection {
    rotary::providers::ldap::wire::LdapConnection {
        provider: rotary::providers::ldap::wire::LdapProvider::OpenLdap,
        url: format!("ldaps://127.0.0.1:{}", server.tls_port),
        dn: ldap_server::MANAGER.into(),
        password: server.manager_password.clone().into(),
        ssl_reject_unauthorized: true,
        ssl_certificate: Some(server.cert.ca_pem.clone()),
    }
}

/// LDAP rotations: `--connections` connections as the manager (which may reset passwords),
/// one account per rotation.
async fn ldap_rotations(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    project: &Value,
    server: &ldap_server::LdapServer,
    a: &Args,
) -> Vec<Value> {
    let credentials = serde_json::to_value(ldap_connection(server)).unwrap();
    let mut connections = Vec::new();
    for c in 0..a.connections {
        let body = json!({"name": format!("directory-{c}"), "method": "simple-bind",
                          "projectId": project, "credentials": credentials});
        let made = call(
            http,
            format!("{base}/api/v1/app-connections/ldap"),
            Some(token),
            body,
        )
        .await;
        connections.push(made["appConnection"]["id"].clone());
    }
    let mut bodies = Vec::new();
    for i in 0..a.rotations {
        let dn = server.user(&format!("bench{i}"), "initial-password").await;
        bodies.push(json!({
            "name": format!("rotation-{i}"), "projectId": project,
            "connectionId": connections[i % a.connections], "environment": "dev",
            "secretPath": "/", "isAutoRotationEnabled": true, "rotationInterval": 30,
            "parameters": {"dn": dn},
            "secretsMapping": {"dn": format!("DN_{i}"), "password": format!("PASSWORD_{i}")}
        }));
    }
    bodies
}

/// slapd's own rate for an LDAP rotation's operations, in the same run, through the same
/// client code (ldap3 over rustls): per client, on a fresh ldaps connection each, a bind as
/// the account with the new password (refused: the check a resumed run needs), a bind as the
/// manager and the Password Modify operation, then a bind as the account; for 10 s.
async fn ldap_floor(a: &Args, server: &ldap_server::LdapServer) {
    use rotary::providers::ldap::client;
    let connection = std::sync::Arc::new(ldap_connection(server));
    let mut users = Vec::new();
    for c in 0..a.concurrency {
        users.push(server.user(&format!("floor{c}"), "initial-password").await);
    }
    let until = Instant::now() + Duration::from_secs(10);
    let mut set = tokio::task::JoinSet::new();
    for user in users {
        let c = connection.clone();
        set.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                let new = secrecy::SecretString::from(uuid::Uuid::new_v4().simple().to_string());
                assert!(client::check_bind(&c, &user, &new, true).await.is_err());
                let mut ldap = client::connect(&c, true).await.unwrap();
                client::bind(&mut ldap, &c, &c.dn, &c.password)
                    .await
                    .unwrap();
                client::change_password(&mut ldap, &c, &user, None, &new)
                    .await
                    .unwrap();
                let _ = ldap.unbind().await;
                client::check_bind(&c, &user, &new, true).await.unwrap();
                done += 1;
            }
            done
        });
    }
    let total: u64 = set.join_all().await.into_iter().sum();
    println!(
        "the server alone, same run: a rotation's LDAP operations (ldaps: a refused bind as the account; a bind as the manager, Password Modify; a bind as the account, each on a fresh connection), {} clients, 10 s: {:.0}/s",
        a.concurrency,
        total as f64 / 10.0
    );
}
