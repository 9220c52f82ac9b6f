//! Rotary's Oracle protocol server (`rotary::mock::oracle`) against the real driver (Oracle's
//! `oracledb`, thin mode): the TNS connect and refusal, O5LOGON that really checks the
//! password, Oracle's case rule for user names, `SELECT 1 FROM DUAL`, `ALTER USER … IDENTIFIED
//! BY`, who may run it, ORA- errors (after the break/reset marker exchange), TCPS, and faults.
//!
//! The driver is synchronous and a dropped `Connection` logs off, blocking: the tests run on a
//! multi-threaded runtime so the server keeps answering while a worker waits.

use std::time::Duration;

use oracledb::{Config, Connection, ErrorKind};
use rotary::mock::oracle::{Fault, FaultAction, MockOracle};

use crate::test_cert::TestCert;

async fn server() -> MockOracle {
    rotary::install_crypto_provider();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mock = MockOracle::spawn(listener).unwrap();
    mock.add_user("MANAGER", "Manager-pw-1", true);
    mock.add_user("APP_USER_1", "First-pw-1", false);
    mock.add_user("app_user_2", "Second-pw-2", false);
    mock
}

/// The ORA- number of a database error, or the driver's message for anything else.
fn code(e: &oracledb::Error) -> Result<usize, String> {
    match e.kind() {
        ErrorKind::DbError(db) => Ok(db.code()),
        _ => Err(e.to_string()),
    }
}

/// The ORA- number a logon was refused with.
fn refused(r: Result<Connection, oracledb::Error>) -> Result<usize, String> {
    match r {
        Ok(_) => Err("logged on".into()),
        Err(e) => code(&e),
    }
}

async fn connect_to(
    connect_string: String,
    user: &str,
    password: &str,
) -> Result<Connection, oracledb::Error> {
    let (user, password) = (user.to_string(), password.to_string());
    tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || {
            let config = Config::default()
                .set_credentials(&user, &password)
                .set_connect_string(&connect_string)?
                .set_transport_connect_timeout(Some(Duration::from_secs(5)));
            oracledb::connect(config)
        }),
    )
    .await
    .expect("the server answers")
    .unwrap()
}

async fn logon(
    mock: &MockOracle,
    user: &str,
    password: &str,
) -> Result<Connection, oracledb::Error> {
    connect_to(format!("{}/FREEPDB1", mock.address), user, password).await
}

/// Runs `sql` on `conn` off the runtime: the first row's first number, if it is a query.
async fn run(conn: Connection, sql: &str) -> (Connection, Result<Option<i64>, usize>) {
    let sql = sql.to_string();
    tokio::task::spawn_blocking(move || {
        let result = if sql.trim_start().to_uppercase().starts_with("SELECT") {
            conn.query_row(&sql, &[])
                .and_then(|row| row.get::<i64>(0usize))
                .map(Some)
        } else {
            conn.execute(&sql, &[]).map(|_| None)
        };
        let result =
            result.map_err(|e| code(&e).unwrap_or_else(|m| panic!("not a database error: {m}")));
        (conn, result)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_logs_on_and_selects_from_dual() {
    let mock = server().await;
    let conn = logon(&mock, "app_user_1", "First-pw-1")
        .await
        .expect("logs on");
    let (conn, value) = run(conn, "SELECT 1 FROM DUAL").await;
    assert_eq!(value, Ok(Some(1)));
    // The same statement again goes through the driver's statement cache (re-execute).
    let (conn, value) = run(conn, "SELECT 1 FROM DUAL").await;
    assert_eq!(value, Ok(Some(1)));
    let (conn, value) = run(conn, "select 42 from dual").await;
    assert_eq!(value, Ok(Some(42)));
    let (conn, value) = run(conn, "SELECT 1 FROM DUAL;").await;
    assert_eq!(value, Err(911), "Oracle takes no trailing semicolon");
    // The session survives an error answer (the marker exchange worked).
    let (mut conn, value) = run(conn, "SELECT 7 FROM DUAL").await;
    assert_eq!(value, Ok(Some(7)));
    tokio::task::spawn_blocking(move || conn.close())
        .await
        .unwrap()
        .expect("logs off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_is_really_checked() {
    let mock = server().await;
    assert_eq!(
        refused(logon(&mock, "APP_USER_1", "first-pw-1").await),
        Ok(1017)
    );
    assert_eq!(
        refused(logon(&mock, "nobody", "First-pw-1").await),
        Ok(1017)
    );
    assert!(logon(&mock, "APP_USER_1", "First-pw-1").await.is_ok());
    // Unquoted names are upper-cased, quoted ones exact: app_user_2 was created quoted.
    assert_eq!(
        refused(logon(&mock, "app_user_2", "Second-pw-2").await),
        Ok(1017)
    );
    assert!(logon(&mock, "\"app_user_2\"", "Second-pw-2").await.is_ok());
    mock.set_locked("APP_USER_1", true);
    assert_eq!(
        refused(logon(&mock, "APP_USER_1", "First-pw-1").await),
        Ok(28000)
    );
    mock.set_locked("APP_USER_1", false);
    mock.set_create_session("APP_USER_1", false);
    assert_eq!(
        refused(logon(&mock, "APP_USER_1", "First-pw-1").await),
        Ok(1045)
    );
    assert!(mock.authenticates("app_user_2", "Second-pw-2"));
    assert!(
        !mock.authenticates("APP_USER_1", "First-pw-1"),
        "no CREATE SESSION"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_service_is_refused_by_the_listener() {
    let mock = server().await;
    let Err(e) = connect_to(format!("{}/NOPE", mock.address), "MANAGER", "Manager-pw-1").await
    else {
        panic!("connected to a service that does not exist");
    };
    assert!(matches!(e.kind(), ErrorKind::InvalidServiceName(..)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_user_changes_the_password_and_is_checked() {
    let mock = server().await;
    let conn = logon(&mock, "MANAGER", "Manager-pw-1").await.unwrap();
    let (conn, r) = run(conn, r#"ALTER USER "APP_USER_1" IDENTIFIED BY "New-pw-1""#).await;
    assert_eq!(r, Ok(None));
    assert!(mock.authenticates("APP_USER_1", "New-pw-1"));
    assert!(!mock.authenticates("APP_USER_1", "First-pw-1"));
    assert!(logon(&mock, "APP_USER_1", "New-pw-1").await.is_ok());
    // The quoted name is exact: the user is upper case.
    let (conn, r) = run(conn, r#"ALTER USER "app_user_1" IDENTIFIED BY "x""#).await;
    assert_eq!(r, Err(1918));
    let (conn, r) = run(
        conn,
        &format!(
            r#"ALTER USER "APP_USER_1" IDENTIFIED BY "{}""#,
            "a".repeat(31)
        ),
    )
    .await;
    assert_eq!(r, Err(988));
    let (_conn, r) = run(conn, r#"ALTER USER APP_USER_1 ACCOUNT LOCK"#).await;
    assert_eq!(r, Ok(None));
    assert_eq!(
        refused(logon(&mock, "APP_USER_1", "New-pw-1").await),
        Ok(28000)
    );

    // Without ALTER USER, only one's own password.
    let conn = logon(&mock, "\"app_user_2\"", "Second-pw-2").await.unwrap();
    let (conn, r) = run(conn, r#"ALTER USER "APP_USER_1" IDENTIFIED BY "Mine-1""#).await;
    assert_eq!(r, Err(1031));
    let (conn, r) = run(
        conn,
        r#"ALTER USER "app_user_2" IDENTIFIED BY "Mine-2" REPLACE "wrong""#,
    )
    .await;
    assert_eq!(r, Err(28008));
    let (_conn, r) = run(conn, r#"ALTER USER "app_user_2" IDENTIFIED BY "Mine-2""#).await;
    assert_eq!(r, Ok(None));
    assert!(mock.authenticates("app_user_2", "Mine-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcps_with_a_checked_certificate() {
    let mock = server().await;
    let cert = TestCert::new(&["localhost", "127.0.0.1"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = mock
        .listen_tcps(listener, &cert.cert_pem, &cert.key_pem)
        .unwrap();
    let port = address.rsplit_once(':').unwrap().1;
    let wallet = tempdir();
    std::fs::write(wallet.join("ewallet.pem"), &cert.ca_pem).unwrap();
    let (user, pw) = ("APP_USER_1", "First-pw-1");
    let connect_string = format!("tcps://localhost:{port}/FREEPDB1");
    let w = wallet.display().to_string();
    let conn = tokio::task::spawn_blocking(move || {
        let config = Config::default()
            .set_credentials(user, pw)
            .set_connect_string(&connect_string)?
            .set_wallet_location(w);
        oracledb::connect(config)
    })
    .await
    .unwrap()
    .expect("logs on over TLS");
    let (_conn, value) = run(conn, "SELECT 1 FROM DUAL").await;
    assert_eq!(value, Ok(Some(1)));
    // Without the CA the certificate is refused.
    let connect_string = format!("tcps://localhost:{port}/FREEPDB1");
    let Err(e) = tokio::task::spawn_blocking(move || {
        oracledb::connect(
            Config::default()
                .set_credentials(user, pw)
                .set_connect_string(&connect_string)?,
        )
    })
    .await
    .unwrap() else {
        panic!("connected without trusting the certificate");
    };
    assert!(
        code(&e).is_err(),
        "a TLS failure, not a database error: {e}"
    );
    let _ = std::fs::remove_dir_all(wallet);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rotary-oracle-wallet-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_fail_drop_and_delay() {
    let mock = server().await;
    mock.fault(Fault {
        operation: "logon".into(),
        after: false,
        action: FaultAction::Error(
            12516,
            "TNS:listener could not find available handler".into(),
        ),
        times: 1,
    });
    assert_eq!(
        refused(logon(&mock, "MANAGER", "Manager-pw-1").await),
        Ok(12516)
    );
    mock.fault(Fault {
        operation: "alter user".into(),
        after: true,
        action: FaultAction::Drop,
        times: 1,
    });
    let conn = logon(&mock, "MANAGER", "Manager-pw-1").await.unwrap();
    let r = tokio::task::spawn_blocking(move || {
        conn.execute(r#"ALTER USER "APP_USER_1" IDENTIFIED BY "Lost-1""#, &[])
    })
    .await
    .unwrap();
    assert!(r.is_err(), "the connection dropped");
    assert!(
        mock.authenticates("APP_USER_1", "Lost-1"),
        "the change happened before the drop"
    );
    mock.fault(Fault {
        operation: "select".into(),
        after: false,
        action: FaultAction::Error(1013, "user requested cancel of current operation".into()),
        times: 1,
    });
    let conn = logon(&mock, "MANAGER", "Manager-pw-1").await.unwrap();
    let (_conn, r) = run(conn, "SELECT 1 FROM DUAL").await;
    assert_eq!(r, Err(1013));
    assert_eq!(
        mock.log().iter().filter(|o| *o == "logon").count(),
        3,
        "{:?}",
        mock.log()
    );
}
