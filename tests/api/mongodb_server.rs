//! Rotary's MongoDB protocol server (`rotary::mock::mongodb`) against the official driver: a
//! login really checks the password (SCRAM-SHA-256 and SCRAM-SHA-1), `updateUser` changes it,
//! the built-in roles decide who may, MongoDB's error codes, and fault rules.

use std::time::Duration;

use mongodb::bson::doc;
use mongodb::options::{AuthMechanism, ClientOptions, Credential, ServerAddress};
use rotary::mock::mongodb::{Fault, FaultAction, MockMongo};

async fn server() -> MockMongo {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mock = MockMongo::spawn(listener);
    mock.add_user("app", "manager", "manager-pw", &[("userAdmin", "app")]);
    mock.add_user("app", "app_user_1", "first-pw", &[("readWrite", "app")]);
    mock
}

fn client(
    mock: &MockMongo,
    user: &str,
    password: &str,
    mechanism: Option<AuthMechanism>,
) -> mongodb::Client {
    let (host, port) = mock.address.rsplit_once(':').unwrap();
    let mut options = ClientOptions::default();
    options.hosts = vec![ServerAddress::Tcp {
        host: host.to_string(),
        port: Some(port.parse().unwrap()),
    }];
    options.direct_connection = Some(true);
    options.server_selection_timeout = Some(Duration::from_secs(3));
    options.connect_timeout = Some(Duration::from_secs(3));
    let mut credential = Credential::default();
    credential.username = Some(user.to_string());
    credential.password = Some(password.to_string());
    credential.source = Some("app".to_string());
    credential.mechanism = mechanism;
    options.credential = Some(credential);
    mongodb::Client::with_options(options).unwrap()
}

async fn ping(mock: &MockMongo, user: &str, password: &str) -> Result<(), String> {
    client(mock, user, password, None)
        .database("app")
        .run_command(doc! {"ping": 1})
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_driver_logs_in_only_with_the_password_and_update_user_changes_it() {
    let mock = server().await;
    ping(&mock, "manager", "manager-pw").await.unwrap();
    let e = ping(&mock, "manager", "wrong").await.unwrap_err();
    assert!(e.contains("Authentication failed"), "{e}");
    let e = ping(&mock, "nobody", "x").await.unwrap_err();
    assert!(e.contains("Authentication failed"), "{e}");
    // SCRAM-SHA-1 too (MongoDB's MD5 digest of the password first).
    client(
        &mock,
        "app_user_1",
        "first-pw",
        Some(AuthMechanism::ScramSha1),
    )
    .database("app")
    .run_command(doc! {"ping": 1})
    .await
    .unwrap();

    let manager = client(&mock, "manager", "manager-pw", None).database("app");
    manager
        .run_command(doc! {"updateUser": "app_user_1", "pwd": "second-pw"})
        .await
        .unwrap();
    assert!(mock.authenticates("app", "app_user_1", "second-pw"));
    assert!(!mock.authenticates("app", "app_user_1", "first-pw"));
    ping(&mock, "app_user_1", "second-pw").await.unwrap();
    assert!(ping(&mock, "app_user_1", "first-pw").await.is_err());

    let info = manager
        .run_command(doc! {"usersInfo": "app_user_1"})
        .await
        .unwrap();
    let users = info.get_array("users").unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0].as_document().unwrap().get_str("_id").unwrap(),
        "app.app_user_1"
    );

    // MongoDB's errors: not found, not authorized (readWrite manages no user), unknown.
    let e = manager
        .run_command(doc! {"updateUser": "nobody", "pwd": "x"})
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("User \"nobody@app\" not found"),
        "{e}"
    );
    assert!(matches!(*e.kind, mongodb::error::ErrorKind::Command(ref c) if c.code == 11));
    let plain = client(&mock, "app_user_1", "second-pw", None).database("app");
    let e = plain
        .run_command(doc! {"updateUser": "app_user_1", "pwd": "mine"})
        .await
        .unwrap_err();
    assert!(
        matches!(*e.kind, mongodb::error::ErrorKind::Command(ref c) if c.code == 13),
        "{e}"
    );
    assert!(
        !e.to_string().contains("mine"),
        "the password is not quoted: {e}"
    );
    manager
        .run_command(doc! {"createUser": "app_user_2", "pwd": "two", "roles": [{"role": "readWrite", "db": "app"}]})
        .await
        .unwrap();
    ping(&mock, "app_user_2", "two").await.unwrap();
    let e = manager
        .run_command(doc! {"createUser": "app_user_2", "pwd": "two", "roles": []})
        .await
        .unwrap_err();
    assert!(
        matches!(*e.kind, mongodb::error::ErrorKind::Command(ref c) if c.code == 51003),
        "{e}"
    );
    manager
        .run_command(doc! {"dropUser": "app_user_2"})
        .await
        .unwrap();
    assert!(ping(&mock, "app_user_2", "two").await.is_err());
}

#[tokio::test]
async fn fault_rules_fail_a_command_before_or_after_its_effect_or_drop_it() {
    let mock = server().await;
    let manager = client(&mock, "manager", "manager-pw", None).database("app");
    manager.run_command(doc! {"ping": 1}).await.unwrap();
    // After: the password changed, the answer says it did not.
    mock.fault(Fault {
        command: "updateUser".into(),
        after: true,
        action: FaultAction::Error(91, "injected: shutdown in progress".into()),
        times: 1,
    });
    let e = manager
        .run_command(doc! {"updateUser": "app_user_1", "pwd": "after-pw"})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("injected"), "{e}");
    assert!(mock.authenticates("app", "app_user_1", "after-pw"));
    // Before: nothing changed.
    mock.fault(Fault {
        command: "updateUser".into(),
        after: false,
        action: FaultAction::Error(91, "injected".into()),
        times: 1,
    });
    assert!(manager
        .run_command(doc! {"updateUser": "app_user_1", "pwd": "before-pw"})
        .await
        .is_err());
    assert!(mock.authenticates("app", "app_user_1", "after-pw"));
    // A dropped connection, after the effect.
    mock.fault(Fault {
        command: "updateUser".into(),
        after: true,
        action: FaultAction::Drop,
        times: 1,
    });
    assert!(manager
        .run_command(doc! {"updateUser": "app_user_1", "pwd": "dropped-pw"})
        .await
        .is_err());
    assert!(mock.authenticates("app", "app_user_1", "dropped-pw"));
    // And the next command works again.
    manager.run_command(doc! {"ping": 1}).await.unwrap();
    assert!(mock.log().iter().filter(|c| *c == "updateUser").count() >= 3);
    assert_eq!(mock.users().len(), 2);
}

/// The driver's monitor polls: it must not spin on hellos the server answers at once (it did,
/// 73,599 in two seconds, while the server announced a topologyVersion).
#[tokio::test]
async fn the_driver_s_monitor_polls_instead_of_spinning() {
    let mock = server().await;
    let c = client(&mock, "manager", "manager-pw", None);
    c.database("app")
        .run_command(doc! {"ping": 1})
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let hellos = mock
        .log()
        .iter()
        .filter(|c| c.as_str() == "hello" || c.as_str() == "isMaster")
        .count();
    assert!(hellos <= 5, "{hellos} hellos in a second");
}
