//! Rotary's SQL Server protocol server (`rotary::mock::mssql`) against the real driver
//! (tiberius): each ENCRYPTION negotiation with TLS inside TDS, a login that really checks the
//! password, certificate checks, ALTER LOGIN and who may run it, SQL Server's error numbers,
//! and fault rules.

use std::time::Duration;

use rotary::mock::mssql::{Fault, FaultAction, MockMssql};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::test_cert::TestCert;

type MsClient = Client<Compat<TcpStream>>;

async fn server() -> (MockMssql, TestCert) {
    let cert = TestCert::new(&["localhost", "127.0.0.1"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mock = MockMssql::spawn(listener, &cert.cert_pem, &cert.key_pem).unwrap();
    mock.add_database("app");
    mock.add_login("manager", "Manager-pw-1", true, &["app"]);
    mock.add_login("app_user_1", "First-pw-1", false, &["app"]);
    mock.add_login("app_user_2", "Second-pw-2", false, &["app"]);
    (mock, cert)
}

fn config(mock: &MockMssql, user: &str, password: &str, encryption: EncryptionLevel) -> Config {
    let mut config = Config::new();
    config.host("localhost");
    config.port(mock.address.rsplit_once(':').unwrap().1.parse().unwrap());
    config.database("app");
    config.authentication(AuthMethod::sql_server(user, password));
    config.encryption(encryption);
    config.trust_cert();
    config
}

async fn connect(mock: &MockMssql, config: Config) -> Result<MsClient, tiberius::error::Error> {
    let tcp = TcpStream::connect(&mock.address).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(10),
        Client::connect(config, tcp.compat_write()),
    )
    .await
    .expect("the server answers")
}

async fn login(mock: &MockMssql, user: &str, password: &str) -> Result<MsClient, u32> {
    connect(mock, config(mock, user, password, EncryptionLevel::Off))
        .await
        .map_err(|e| {
            e.code()
                .unwrap_or_else(|| panic!("not a server error: {e}"))
        })
}

/// The batch's first error number, or the first row's first INT.
async fn batch(client: &mut MsClient, sql: &str) -> Result<Option<i32>, u32> {
    let run = async {
        let results = client.simple_query(sql).await?.into_results().await?;
        let value = results
            .first()
            .and_then(|rows| rows.first())
            .and_then(|row| row.get::<i32, _>(0));
        Ok::<_, tiberius::error::Error>(value)
    };
    run.await.map_err(|e| {
        e.code()
            .unwrap_or_else(|| panic!("not a server error: {e}"))
    })
}

#[tokio::test]
async fn the_driver_signs_in_only_with_the_password_whatever_the_encryption() {
    let (mock, _cert) = server().await;
    for encryption in [
        EncryptionLevel::Off,
        EncryptionLevel::On,
        EncryptionLevel::Required,
        EncryptionLevel::NotSupported,
    ] {
        let mut client = connect(&mock, config(&mock, "app_user_1", "First-pw-1", encryption))
            .await
            .unwrap_or_else(|e| panic!("{encryption:?}: {e}"));
        assert_eq!(
            batch(&mut client, "SELECT 1").await,
            Ok(Some(1)),
            "{encryption:?}"
        );
        assert_eq!(batch(&mut client, "select 7;").await, Ok(Some(7)));
        let e = connect(&mock, config(&mock, "app_user_1", "first-pw-1", encryption))
            .await
            .err()
            .unwrap();
        assert_eq!(e.code(), Some(18456), "{encryption:?}: {e}");
    }
    // Names compare without case, passwords with.
    assert!(login(&mock, "APP_USER_1", "First-pw-1").await.is_ok());
    assert_eq!(
        login(&mock, "nobody", "First-pw-1").await.err(),
        Some(18456)
    );
    // A forced server encrypts a client that offered nothing (the driver goes along).
    mock.set_force_encryption(true);
    let mut client = connect(
        &mock,
        config(
            &mock,
            "app_user_1",
            "First-pw-1",
            EncryptionLevel::NotSupported,
        ),
    )
    .await
    .unwrap();
    assert_eq!(batch(&mut client, "SELECT 1").await, Ok(Some(1)));
    let log = mock.log();
    assert_eq!(&log[..3], ["prelogin", "login", "select"], "{log:?}");
}

#[tokio::test]
async fn the_certificate_is_checked_when_the_client_asks() {
    let (mock, cert) = server().await;
    // A fresh config: trust_cert would switch the check off.
    let verified = |ca: &str| {
        let mut c = Config::new();
        c.host("localhost");
        c.port(mock.address.rsplit_once(':').unwrap().1.parse().unwrap());
        c.database("app");
        c.authentication(AuthMethod::sql_server("app_user_1", "First-pw-1"));
        c.encryption(EncryptionLevel::Required);
        c.trust_cert_ca_bundle(ca.as_bytes().to_vec());
        c
    };
    assert!(connect(&mock, verified(&cert.ca_pem)).await.is_ok());
    let other = TestCert::new(&["localhost"]);
    let e = connect(&mock, verified(&other.ca_pem)).await.err().unwrap();
    assert!(
        matches!(
            e,
            tiberius::error::Error::Tls(_) | tiberius::error::Error::Io { .. }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn alter_login_changes_a_password_for_whoever_may() {
    let (mock, _cert) = server().await;
    let mut manager = login(&mock, "manager", "Manager-pw-1").await.unwrap();
    assert_eq!(
        batch(
            &mut manager,
            "ALTER LOGIN [app_user_1] WITH PASSWORD = N'New-pw-1'"
        )
        .await,
        Ok(None)
    );
    assert_eq!(
        login(&mock, "app_user_1", "First-pw-1").await.err(),
        Some(18456)
    );
    assert!(login(&mock, "app_user_1", "New-pw-1").await.is_ok());
    assert!(mock.authenticates("app_user_1", "New-pw-1"));
    // SQL Server's answers: no such login, policy, syntax.
    assert_eq!(
        batch(
            &mut manager,
            "ALTER LOGIN [ghost] WITH PASSWORD = 'New-pw-1'"
        )
        .await,
        Err(15151)
    );
    assert_eq!(
        batch(
            &mut manager,
            "ALTER LOGIN [app_user_1] WITH PASSWORD = 'short'"
        )
        .await,
        Err(15116)
    );
    assert_eq!(
        batch(
            &mut manager,
            "ALTER LOGIN [app_user_1] WITH PASSWORD = 'alllowercase'"
        )
        .await,
        Err(15118)
    );
    assert_eq!(
        batch(
            &mut manager,
            "ALTER LOGIN [app_user_1] WITH PASSWORD = 'alllowercase', CHECK_POLICY = OFF"
        )
        .await,
        Ok(None)
    );
    assert_eq!(
        batch(&mut manager, "GRANT CONNECT SQL TO x").await,
        Err(102)
    );
    // Without ALTER ANY LOGIN: not another's, and one's own only with the old password.
    let mut user = login(&mock, "app_user_2", "Second-pw-2").await.unwrap();
    assert_eq!(
        batch(
            &mut user,
            "ALTER LOGIN [app_user_1] WITH PASSWORD = 'Other-pw-1'"
        )
        .await,
        Err(15151)
    );
    assert_eq!(
        batch(
            &mut user,
            "ALTER LOGIN [app_user_2] WITH PASSWORD = 'Other-pw-2'"
        )
        .await,
        Err(15151)
    );
    assert_eq!(
        batch(
            &mut user,
            "ALTER LOGIN [app_user_2] WITH PASSWORD = 'Other-pw-2' OLD_PASSWORD = 'Second-pw-2'"
        )
        .await,
        Ok(None)
    );
    assert!(mock.authenticates("app_user_2", "Other-pw-2"));
    assert_eq!(
        batch(&mut user, "CREATE LOGIN [x] WITH PASSWORD = 'Other-pw-3'").await,
        Err(15247)
    );
    // A database the login has no user in, and one that does not exist.
    mock.add_database("other");
    let mut c = config(&mock, "manager", "Manager-pw-1", EncryptionLevel::Off);
    c.database("other");
    assert_eq!(
        connect(&mock, c).await.err().and_then(|e| e.code()),
        Some(4060)
    );
    let mut c = config(&mock, "manager", "Manager-pw-1", EncryptionLevel::Off);
    c.database("missing");
    assert_eq!(
        connect(&mock, c).await.err().and_then(|e| e.code()),
        Some(4060)
    );
    // A disabled login.
    assert_eq!(
        batch(&mut manager, "ALTER LOGIN [app_user_2] DISABLE").await,
        Ok(None)
    );
    assert_eq!(
        login(&mock, "app_user_2", "Other-pw-2").await.err(),
        Some(18470)
    );
}

#[tokio::test]
async fn faults_fail_an_operation_before_or_after_its_effect() {
    let (mock, _cert) = server().await;
    let mut manager = login(&mock, "manager", "Manager-pw-1").await.unwrap();
    // After: the password changed, but the client hears an error.
    mock.fault(Fault {
        operation: "alter login".into(),
        after: true,
        action: FaultAction::Error(1205, "deadlock".into()),
        times: 1,
    });
    assert_eq!(
        batch(
            &mut manager,
            "ALTER LOGIN [app_user_1] WITH PASSWORD = 'After-pw-1'"
        )
        .await,
        Err(1205)
    );
    assert!(mock.authenticates("app_user_1", "After-pw-1"));
    // Before: nothing changed.
    mock.fault(Fault {
        operation: "alter login".into(),
        after: false,
        action: FaultAction::Error(1205, "deadlock".into()),
        times: 1,
    });
    assert_eq!(
        batch(
            &mut manager,
            "ALTER LOGIN [app_user_1] WITH PASSWORD = 'Before-pw-1'"
        )
        .await,
        Err(1205)
    );
    assert!(mock.authenticates("app_user_1", "After-pw-1"));
    // A dropped connection after the effect: the driver sees the connection end.
    mock.fault(Fault {
        operation: "alter login".into(),
        after: true,
        action: FaultAction::Drop,
        times: 1,
    });
    let e = manager
        .simple_query("ALTER LOGIN [app_user_1] WITH PASSWORD = 'Dropped-pw-1'")
        .await;
    let e = match e {
        Ok(stream) => stream.into_results().await.err().unwrap(),
        Err(e) => e,
    };
    assert!(e.code().is_none(), "{e}");
    assert!(mock.authenticates("app_user_1", "Dropped-pw-1"));
    // A login refused by a rule, then served.
    mock.fault(Fault {
        operation: "login".into(),
        after: false,
        action: FaultAction::Error(40613, "Database is not currently available.".into()),
        times: 1,
    });
    assert_eq!(
        login(&mock, "manager", "Manager-pw-1").await.err(),
        Some(40613)
    );
    assert!(login(&mock, "manager", "Manager-pw-1").await.is_ok());
    // A delay.
    mock.fault(Fault {
        operation: "select".into(),
        after: false,
        action: FaultAction::Delay(Duration::from_millis(300)),
        times: 1,
    });
    let started = std::time::Instant::now();
    let mut manager = login(&mock, "manager", "Manager-pw-1").await.unwrap();
    assert_eq!(batch(&mut manager, "SELECT 1").await, Ok(Some(1)));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(mock.logins().len(), 3);
}
