//! What `mysql-credentials` does beyond the generic suite (`suite_targets::Mysql`), against
//! the throwaway MariaDB of `scripts/with-mariadb.sh`: the account a user's host entries name.

use serde_json::json;

use crate::helpers::assert_error;
use crate::suite::{self, Target};
use crate::suite_targets::Mysql;

const BASE: &str = "/api/v2/secret-rotations/mysql-credentials";

async fn run(my: &Mysql, sql: &str) {
    sqlx::raw_sql(sql).execute(&my.admin).await.unwrap();
}

/// Infisical alters only `'<u>'@'%'`; Rotary alters the account the user has, and with
/// several (and no `%`) refuses and names them.
#[tokio::test]
async fn the_users_own_host_entry_is_altered_or_the_choice_named() {
    let my: Mysql = suite::world().await;
    let db = my.database.clone();
    // Accounts for 127.0.0.1 only (no '%'): the one there is gets the password.
    let (a, b) = (format!("{}_h", my.users[0]), format!("{}_h", my.users[1]));
    for user in [&a, &b] {
        run(
            &my,
            &format!("CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'initial'"),
        )
        .await;
        run(
            &my,
            &format!("GRANT ALL PRIVILEGES ON {db}.* TO '{user}'@'127.0.0.1'"),
        )
        .await;
    }
    let mut body = my.body("hosts");
    body["parameters"] = json!({"username1": a, "username2": b});
    let r = my.app.post(BASE, &my.token, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    let mapped = suite::mapped(&my).await;
    assert_eq!(mapped[0], a);
    assert!(
        my.works(&mapped).await,
        "the 127.0.0.1 account has the new password"
    );
    suite::assert_converged(&my, &id, "one host entry").await;

    // A second account for the inactive user, neither of them '%': refused, named.
    run(
        &my,
        &format!("CREATE USER '{b}'@'localhost' IDENTIFIED BY 'initial'"),
    )
    .await;
    let r = suite::rotate(&my, &id).await;
    assert_eq!(r.status, 500, "{}", r.body);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "the user \"{b}\" has accounts for the hosts '127.0.0.1', 'localhost'"
        )) || message.contains(&format!(
            "the user \"{b}\" has accounts for the hosts 'localhost', '127.0.0.1'"
        )),
        "{message}"
    );
    assert_eq!(suite::mapped(&my).await, mapped, "nothing published");
    assert!(my.works(&mapped).await);
    // With a '%' account among them, that one is altered.
    run(
        &my,
        &format!("CREATE USER '{b}'@'%' IDENTIFIED BY 'initial'"),
    )
    .await;
    run(&my, &format!("GRANT ALL PRIVILEGES ON {db}.* TO '{b}'@'%'")).await;
    run(&my, &format!("DROP USER '{b}'@'127.0.0.1'")).await;
    let r = suite::rotate(&my, &id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    suite::assert_converged(&my, &id, "'%' among several").await;
}

/// A connection account that may not read `mysql.user` alters `'<u>'@'%'`, as Infisical does;
/// a user that does not exist is a clear refusal at create, and nothing is left behind.
#[tokio::test]
async fn without_mysql_user_the_percent_account_is_altered() {
    let my: Mysql = suite::world().await;
    let conn = format!("{}_c", my.users[0]);
    run(
        &my,
        &format!("CREATE USER '{conn}'@'%' IDENTIFIED BY 'conn-pw-2'"),
    )
    .await;
    run(&my, &format!("GRANT CREATE USER ON *.* TO '{conn}'@'%'")).await;
    run(
        &my,
        &format!("GRANT ALL PRIVILEGES ON {}.* TO '{conn}'@'%'", my.database),
    )
    .await;
    let r = my
        .app
        .post(
            "/api/v1/app-connections/mysql",
            &my.token,
            json!({"name": "no-read", "method": "username-and-password", "projectId": my.project,
                   "credentials": {"host": my.host, "port": my.port, "database": my.database,
                                   "username": conn, "password": "conn-pw-2",
                                   "sslEnabled": false, "sslRejectUnauthorized": false}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let connection = r.body["appConnection"]["id"].as_str().unwrap().to_string();
    let mut body = my.body("percent");
    body["connectionId"] = json!(connection);
    let r = my.app.post(BASE, &my.token, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    suite::assert_converged(&my, &id, "'%' without mysql.user").await;

    let mut body = my.body("ghost");
    body["parameters"] = json!({"username1": "nobody_here", "username2": "nobody_there"});
    body["secretsMapping"] = json!({"username": "G_U", "password": "G_P"});
    let r = my.app.post(BASE, &my.token, body).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Rotary encountered an issue while generating credentials with the configured inputs: the user \"nobody_here\" does not exist (mysql.user has no account of that name)"),
    );
    assert_eq!(my.app.count("secret_rotations").await, 1);
}

/// A user that may not use the connection's database is named, with what to grant: the run
/// cannot verify its login (found by the benchmark, whose users had no grant there).
#[tokio::test]
async fn a_user_without_access_to_the_database_is_named() {
    let my: Mysql = suite::world().await;
    let (a, b) = (format!("{}_n", my.users[0]), format!("{}_n", my.users[1]));
    for user in [&a, &b] {
        run(
            &my,
            &format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'initial'"),
        )
        .await;
    }
    let mut body = my.body("no-grant");
    body["parameters"] = json!({"username1": a, "username2": b});
    let r = my.app.post(BASE, &my.token, body).await;
    assert_eq!(r.status, 500, "{}", r.body);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "\"{a}\" may not use the connection's database: GRANT it access there"
        )),
        "{message}"
    );
}
