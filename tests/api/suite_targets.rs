//! The generic suite (`suite.rs`) for each rotation type: how its provider is set up and
//! how a credential is checked there.

use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use crate::helpers::TestApp;
use crate::rotation_suite;
use crate::suite::Target;

/// `salesforce-oauth-credentials` against the mock org.
pub struct Salesforce(crate::rotations::World);

impl Target for Salesforce {
    const TYPE: &'static str = "salesforce-oauth-credentials";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["SALESFORCE_CONSUMER_KEY", "SALESFORCE_CONSUMER_SECRET"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        Salesforce(crate::rotations::world_with(app).await)
    }
    fn app(&self) -> &TestApp {
        &self.0.app
    }
    fn app_mut(&mut self) -> &mut TestApp {
        &mut self.0.app
    }
    fn token(&self) -> &str {
        &self.0.token
    }
    fn project(&self) -> &str {
        &self.0.project
    }
    fn body(&self, name: &str) -> Value {
        let mut body = self.0.sample();
        body["name"] = json!(name);
        body
    }
    fn pair(item: &Value) -> [String; 2] {
        [
            item["consumerKey"].as_str().unwrap().to_string(),
            item["consumerSecret"].as_str().unwrap().to_string(),
        ]
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.0.authenticates(&pair[0], &pair[1]).await
    }
    async fn spoil(&self, _pair: &[String; 2]) {
        self.0
            .control(
                reqwest::Method::PATCH,
                &format!("apps/{}", self.0.billing.id),
                json!({"oauthEnabled": false}),
            )
            .await;
    }
    async fn mend(&self) {
        self.0
            .control(
                reqwest::Method::PATCH,
                &format!("apps/{}", self.0.billing.id),
                json!({"oauthEnabled": true}),
            )
            .await;
    }
    fn connection_secrets(&self) -> Vec<String> {
        vec![self.0.connector.secret.clone()]
    }
}

/// `postgres-credentials` against the real PostgreSQL of the test scripts: a connection role
/// with CREATEROLE and two login roles of its own.
pub struct Postgres {
    app: TestApp,
    token: String,
    project: String,
    connection: String,
    users: [String; 2],
    conn_password: String,
    /// The superuser, statements unlogged (they carry passwords).
    admin: sqlx::PgPool,
    host: String,
    port: u16,
    database: String,
}

impl Target for Postgres {
    const TYPE: &'static str = "postgres-credentials";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["POSTGRES_DB_USERNAME", "POSTGRES_DB_PASSWORD"];

    async fn on(app: TestApp, database_url: &str) -> Self {
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Databases").await;
        let rest = database_url.split_once('@').unwrap().1;
        let (hostport, database) = rest.split_once('/').unwrap();
        let (host, port) = hostport.split_once(':').unwrap();
        let crate::postgres::Roles {
            admin,
            tag,
            conn_role,
            users,
        } = crate::postgres::roles(database_url, "suite_conn", "suite_user").await;
        let conn_password = format!("conn-pw-{tag}");
        let r = app
            .post(
                "/api/v1/app-connections/postgres",
                &token,
                json!({"name": "pg", "method": "username-and-password", "projectId": project,
                       "credentials": {"host": host, "port": port, "database": database,
                                       "username": conn_role, "password": conn_password,
                                       "sslEnabled": false, "sslRejectUnauthorized": false}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        Postgres {
            connection: r.body["appConnection"]["id"].as_str().unwrap().to_string(),
            app,
            token,
            project,
            users,
            conn_password,
            admin,
            host: host.to_string(),
            port: port.parse().unwrap(),
            database: database.to_string(),
        }
    }
    fn app(&self) -> &TestApp {
        &self.app
    }
    fn app_mut(&mut self) -> &mut TestApp {
        &mut self.app
    }
    fn token(&self) -> &str {
        &self.token
    }
    fn project(&self) -> &str {
        &self.project
    }
    fn body(&self, name: &str) -> Value {
        json!({
            "name": name, "projectId": self.project, "connectionId": self.connection,
            "environment": "dev", "secretPath": "/", "isAutoRotationEnabled": false,
            "rotationInterval": 30,
            "parameters": {"username1": self.users[0], "username2": self.users[1]},
            "secretsMapping": {"username": Self::MAPPED[0], "password": Self::MAPPED[1]},
        })
    }
    fn pair(item: &Value) -> [String; 2] {
        [
            item["username"].as_str().unwrap().to_string(),
            item["password"].as_str().unwrap().to_string(),
        ]
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        let options = sqlx::postgres::PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .database(&self.database)
            .username(&pair[0])
            .password(&pair[1]);
        match PgConnection::connect_with(&options).await {
            Ok(conn) => {
                let _ = conn.close().await;
                true
            }
            Err(_) => false,
        }
    }
    async fn spoil(&self, pair: &[String; 2]) {
        sqlx::query(&format!(
            "ALTER ROLE {} PASSWORD 'spoiled-by-hand'",
            pair[0]
        ))
        .execute(&self.admin)
        .await
        .unwrap();
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![self.conn_password.clone()]
    }
}

rotation_suite!(salesforce, super::Salesforce);
rotation_suite!(postgres, super::Postgres);
