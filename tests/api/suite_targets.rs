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

/// `mysql-credentials` against the throwaway MariaDB of `scripts/with-mariadb.sh`
/// (`MYSQL_URL`): a connection account with CREATE USER (and SELECT on `mysql.user`, so the
/// host lookup runs), two accounts `'<u>'@'%'`, and a database of their own.
pub struct Mysql {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub users: [String; 2],
    pub conn_password: String,
    pub admin: sqlx::MySqlPool,
    pub host: String,
    pub port: u16,
    pub database: String,
}

fn mysql_url() -> String {
    std::env::var("MYSQL_URL")
        .expect("MYSQL_URL must point at a MySQL or MariaDB server; run scripts/test.sh (scripts/with-mariadb.sh)")
}

impl Target for Mysql {
    const TYPE: &'static str = "mysql-credentials";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["MYSQL_USERNAME", "MYSQL_PASSWORD"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        use sqlx::ConnectOptions;
        let url = mysql_url();
        let rest = url.split_once('@').unwrap().1;
        let (hostport, _) = rest.split_once('/').unwrap();
        let (host, port) = hostport.split_once(':').unwrap();
        let options = url
            .parse::<sqlx::mysql::MySqlConnectOptions>()
            .unwrap()
            .log_statements(log::LevelFilter::Off);
        let admin = sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .unwrap();
        let tag = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
        let conn_role = format!("suite_conn_{tag}");
        let conn_password = format!("conn-pw-{tag}");
        let users = [format!("suite_u1_{tag}"), format!("suite_u2_{tag}")];
        let database = format!("suite_{tag}");
        for sql in [
            format!("CREATE DATABASE {database}"),
            format!("CREATE USER '{conn_role}'@'%' IDENTIFIED BY '{conn_password}'"),
            format!("GRANT CREATE USER ON *.* TO '{conn_role}'@'%'"),
            format!("GRANT SELECT ON mysql.user TO '{conn_role}'@'%'"),
            format!("GRANT ALL PRIVILEGES ON {database}.* TO '{conn_role}'@'%'"),
            format!("CREATE USER '{}'@'%' IDENTIFIED BY 'initial-1'", users[0]),
            format!("CREATE USER '{}'@'%' IDENTIFIED BY 'initial-2'", users[1]),
            format!("GRANT ALL PRIVILEGES ON {database}.* TO '{}'@'%'", users[0]),
            format!("GRANT ALL PRIVILEGES ON {database}.* TO '{}'@'%'", users[1]),
        ] {
            sqlx::raw_sql(&sql).execute(&admin).await.unwrap();
        }
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Databases").await;
        let r = app
            .post(
                "/api/v1/app-connections/mysql",
                &token,
                json!({"name": "my", "method": "username-and-password", "projectId": project,
                       "credentials": {"host": host, "port": port, "database": database,
                                       "username": conn_role, "password": conn_password,
                                       "sslEnabled": false, "sslRejectUnauthorized": false}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        Mysql {
            connection: r.body["appConnection"]["id"].as_str().unwrap().to_string(),
            app,
            token,
            project,
            users,
            conn_password,
            admin,
            host: host.to_string(),
            port: port.parse().unwrap(),
            database,
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
        Postgres::pair(item)
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        let options = sqlx::mysql::MySqlConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .database(&self.database)
            .username(&pair[0])
            .password(&pair[1]);
        match sqlx::mysql::MySqlConnection::connect_with(&options).await {
            Ok(conn) => {
                let _ = conn.close().await;
                true
            }
            Err(_) => false,
        }
    }
    async fn spoil(&self, pair: &[String; 2]) {
        sqlx::raw_sql(&format!(
            "ALTER USER '{}'@'%' IDENTIFIED BY 'spoiled-by-hand'",
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

rotation_suite!(mysql, super::Mysql);

/// `redis-credentials` against a throwaway `redis-server` of its own
/// (`redis_server::RedisServer`): a manager user with Infisical's documented privileges (and
/// `+acl|save`), and a scope that grants no PING (a login is checked with AUTH alone).
pub struct Redis {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub manager: String,
    pub manager_password: String,
    pub scope: String,
    pub server: crate::redis_server::RedisServer,
}

impl Redis {
    /// A world on a server with an ACL file, or without one.
    pub async fn on_server(app: TestApp, acl_file: bool) -> Self {
        use crate::redis_server::{cmd, RedisServer};
        let server = RedisServer::start(acl_file).await;
        let tag = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
        let manager = format!("manager_{tag}");
        let manager_password = format!("manager-pw-{tag}");
        let mut admin = server.admin().await;
        cmd(
            &mut admin,
            &[
                "ACL",
                "SETUSER",
                &manager,
                "on",
                &format!(">{manager_password}"),
                "+acl|setuser",
                "+acl|deluser",
                "+acl|save",
                "~*",
            ],
        )
        .await;
        if acl_file {
            cmd(&mut admin, &["ACL", "SAVE"]).await;
        }
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Caches").await;
        let r = app
            .post(
                "/api/v1/app-connections/redis",
                &token,
                json!({"name": "cache", "method": "username-and-password", "projectId": project,
                       "credentials": {"host": "127.0.0.1", "port": server.port,
                                       "username": manager, "password": manager_password,
                                       "sslEnabled": false, "sslRejectUnauthorized": false}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        Redis {
            connection: r.body["appConnection"]["id"].as_str().unwrap().to_string(),
            app,
            token,
            project,
            manager,
            manager_password,
            scope: "~suite:* +get +set".into(),
            server,
        }
    }
}

impl Target for Redis {
    const TYPE: &'static str = "redis-credentials";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["REDIS_USERNAME", "REDIS_PASSWORD"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        Redis::on_server(app, false).await
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
            "parameters": {"permissionScope": self.scope},
            "secretsMapping": {"username": Self::MAPPED[0], "password": Self::MAPPED[1]},
        })
    }
    fn pair(item: &Value) -> [String; 2] {
        Postgres::pair(item)
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.server.works(&pair[0], &pair[1]).await
    }
    async fn spoil(&self, pair: &[String; 2]) {
        let mut admin = self.server.admin().await;
        crate::redis_server::cmd(
            &mut admin,
            &["ACL", "SETUSER", &pair[0], "resetpass", ">spoiled-by-hand"],
        )
        .await;
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![self.manager_password.clone()]
    }
    async fn strays(&self, known: &[[String; 2]]) -> Vec<String> {
        self.server
            .users()
            .await
            .into_iter()
            .filter(|u| *u != self.manager && !known.iter().any(|[k, _]| k == u))
            .collect()
    }
}

rotation_suite!(redis, super::Redis);

/// `ldap-password` against a throwaway `slapd` of its own (`ldap_server::LdapServer`), over
/// ldaps:// with the test CA: the connection binds as a manager that may reset passwords,
/// and rotates one user's (single-phase).
pub struct Ldap {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub user: String,
    pub server: crate::ldap_server::LdapServer,
}

impl Ldap {
    /// A connection for `server` as the manager: over ldaps://, or ldap:// with StartTLS.
    pub fn connection_body(
        server: &crate::ldap_server::LdapServer,
        project: &str,
        name: &str,
        starttls: bool,
    ) -> Value {
        let url = if starttls {
            format!("ldap://127.0.0.1:{}", server.port)
        } else {
            format!("ldaps://127.0.0.1:{}", server.tls_port)
        };
        json!({"name": name, "method": "simple-bind", "projectId": project,
               "credentials": {"provider": "open-ldap", "url": url, "dn": crate::ldap_server::MANAGER,
                               "password": server.manager_password, "sslRejectUnauthorized": true,
                               "sslCertificate": server.cert.ca_pem}})
    }
}

impl Target for Ldap {
    const TYPE: &'static str = "ldap-password";
    const DUAL_PHASE: bool = false;
    const MAPPED: [&'static str; 2] = ["LDAP_DN", "LDAP_PASSWORD"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        let server = crate::ldap_server::LdapServer::start().await;
        let user = server.user("suite", "initial-password").await;
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Directory").await;
        let r = app
            .post(
                "/api/v1/app-connections/ldap",
                &token,
                Ldap::connection_body(&server, &project, "directory", false),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        Ldap {
            connection: r.body["appConnection"]["id"].as_str().unwrap().to_string(),
            app,
            token,
            project,
            user,
            server,
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
            "parameters": {"dn": self.user},
            "secretsMapping": {"dn": Self::MAPPED[0], "password": Self::MAPPED[1]},
        })
    }
    fn pair(item: &Value) -> [String; 2] {
        [
            item["dn"].as_str().unwrap().to_string(),
            item["password"].as_str().unwrap().to_string(),
        ]
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.server.bind(&pair[0], &pair[1]).await
    }
    async fn spoil(&self, pair: &[String; 2]) {
        self.server.set_password(&pair[0], "spoiled-by-hand").await;
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![self.server.manager_password.clone()]
    }
}

rotation_suite!(ldap, super::Ldap);

/// `ldap-password` with the `active-directory` provider, against the mock directory
/// (`rotary::mock::active_directory`, LDAPS only) in the test process: an administrator
/// connection that resets one user's `unicodePwd` (single-phase).
pub struct ActiveDirectory {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub user: String,
    pub admin_password: String,
    pub url: String,
    pub ca: String,
    pub directory: rotary::mock::active_directory::MockDirectory,
}

pub const AD_ADMIN: &str = "CN=Rotary Admin,CN=Users,DC=corp,DC=test";
pub const AD_USER: &str = "CN=App Service,OU=Services,DC=corp,DC=test";

impl ActiveDirectory {
    pub async fn directory() -> (
        rotary::mock::active_directory::MockDirectory,
        String,
        String,
    ) {
        let cert = crate::test_cert::TestCert::new(&["localhost", "127.0.0.1"]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let directory =
            rotary::mock::active_directory::spawn(listener, &cert.cert_pem, &cert.key_pem)
                .await
                .unwrap();
        (directory, format!("ldaps://127.0.0.1:{port}"), cert.ca_pem)
    }
}

impl Target for ActiveDirectory {
    const TYPE: &'static str = "ldap-password";
    const DUAL_PHASE: bool = false;
    const MAPPED: [&'static str; 2] = ["LDAP_DN", "LDAP_PASSWORD"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        let (directory, url, ca) = ActiveDirectory::directory().await;
        let admin_password = format!("Admin-{}", uuid::Uuid::new_v4().simple());
        directory.add_account(AD_ADMIN, "rotary-admin@corp.test", &admin_password, true);
        directory.add_account(AD_USER, "app-service@corp.test", "Initial-Passw0rd", false);
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Windows").await;
        let r = app
            .post(
                "/api/v1/app-connections/ldap",
                &token,
                json!({"name": "corp", "method": "simple-bind", "projectId": project,
                       "credentials": {"provider": "active-directory", "url": url, "dn": AD_ADMIN,
                                       "password": admin_password, "sslRejectUnauthorized": true,
                                       "sslCertificate": ca}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        ActiveDirectory {
            connection: r.body["appConnection"]["id"].as_str().unwrap().to_string(),
            app,
            token,
            project,
            user: AD_USER.to_string(),
            admin_password,
            url,
            ca,
            directory,
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
            "parameters": {"dn": self.user},
            "secretsMapping": {"dn": Self::MAPPED[0], "password": Self::MAPPED[1]},
        })
    }
    fn pair(item: &Value) -> [String; 2] {
        Ldap::pair(item)
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.directory.accepts(&pair[0], &pair[1])
    }
    async fn spoil(&self, pair: &[String; 2]) {
        self.directory.set_password(&pair[0], "Spoiled-By-Hand-1");
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![self.admin_password.clone()]
    }
}

rotation_suite!(active_directory, super::ActiveDirectory);

/// `okta-client-secret` against the mock Okta org (`rotary::mock::okta`) in the test
/// process: an API-token connection and one OIDC app that starts with one secret.
pub struct Okta {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub client_id: String,
    /// The secret the app had before any rotation.
    pub initial: String,
    pub api_token: String,
    pub url: String,
    pub mock: rotary::mock::okta::MockOkta,
}

impl Okta {
    pub async fn org() -> (rotary::mock::okta::MockOkta, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        rotary::mock::okta::spawn(listener).await.unwrap()
    }
}

impl Target for Okta {
    const TYPE: &'static str = "okta-client-secret";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["OKTA_CLIENT_ID", "OKTA_CLIENT_SECRET"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        let (mock, url) = Okta::org().await;
        let api_token = mock.org().add_token();
        let (client_id, initial) = mock.org().add_app("Suite app");
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Identity").await;
        let r = app
            .post(
                "/api/v1/app-connections/okta",
                &token,
                json!({"name": "okta", "method": "api-token", "projectId": project,
                       "credentials": {"instanceUrl": url, "apiToken": api_token}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        Okta {
            connection: r.body["appConnection"]["id"].as_str().unwrap().to_string(),
            app,
            token,
            project,
            client_id,
            initial,
            api_token,
            url,
            mock,
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
            "parameters": {"clientId": self.client_id},
            "secretsMapping": {"clientId": Self::MAPPED[0], "clientSecret": Self::MAPPED[1]},
        })
    }
    fn pair(item: &Value) -> [String; 2] {
        [
            item["clientId"].as_str().unwrap().to_string(),
            item["clientSecret"].as_str().unwrap().to_string(),
        ]
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.mock.org().authenticates(&pair[0], &pair[1])
    }
    async fn spoil(&self, pair: &[String; 2]) {
        self.mock.set_status(&pair[0], &pair[1], "INACTIVE");
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![self.api_token.clone()]
    }
    async fn strays(&self, known: &[[String; 2]]) -> Vec<String> {
        self.mock
            .secrets(&self.client_id)
            .into_iter()
            .filter(|s| {
                s.client_secret != self.initial && !known.iter().any(|[_, k]| *k == s.client_secret)
            })
            .map(|s| s.id)
            .collect()
    }
}

rotation_suite!(okta, super::Okta);

/// `auth0-client-secret` against the mock Auth0 tenant (`rotary::mock::auth0`) in the test
/// process: a Machine-to-Machine connection with `read:clients update:client_keys`, and one
/// application (with no grant of its own: Auth0 answers its token requests with a 403 once
/// it authenticated).
pub struct Auth0 {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub client_id: String,
    pub initial: String,
    pub m2m: (String, String),
    pub url: String,
    pub mock: rotary::mock::auth0::MockAuth0,
}

impl Auth0 {
    pub fn connection_body(&self, name: &str, secret: &str) -> Value {
        json!({"name": name, "method": "client-credentials", "projectId": self.project,
               "credentials": {"domain": self.url, "clientId": self.m2m.0, "clientSecret": secret,
                               "audience": self.mock.tenant().audience()}})
    }
}

impl Target for Auth0 {
    const TYPE: &'static str = "auth0-client-secret";
    const DUAL_PHASE: bool = false;
    const MAPPED: [&'static str; 2] = ["AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mock, url) = rotary::mock::auth0::spawn(listener).await.unwrap();
        let m2m = mock
            .tenant()
            .add_client("Rotary", &["read:clients", "update:client_keys"]);
        let (client_id, initial) = mock.tenant().add_client("Suite app", &[]);
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Tenant").await;
        let mut t = Auth0 {
            app,
            token,
            project,
            connection: String::new(),
            client_id,
            initial,
            m2m,
            url,
            mock,
        };
        let body = t.connection_body("auth0", &t.m2m.1.clone());
        let r = t
            .app
            .post("/api/v1/app-connections/auth0", &t.token, body)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        t.connection = r.body["appConnection"]["id"].as_str().unwrap().to_string();
        t
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
            "parameters": {"clientId": self.client_id},
            "secretsMapping": {"clientId": Self::MAPPED[0], "clientSecret": Self::MAPPED[1]},
        })
    }
    fn pair(item: &Value) -> [String; 2] {
        Okta::pair(item)
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.mock.tenant().authenticates(&pair[0], &pair[1])
    }
    async fn spoil(&self, pair: &[String; 2]) {
        let mut t = self.mock.tenant();
        if let Some(c) = t.clients.iter_mut().find(|c| c.client_id == pair[0]) {
            c.client_secret = "spoiled-by-hand-in-the-dashboard".into();
        }
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![self.m2m.1.clone()]
    }
}

rotation_suite!(auth0, super::Auth0);

/// `azure-client-secret` against the process's mock of Microsoft (`helpers::azure`), in a
/// tenant of its own: a connection as an app registration that may manage the others, and
/// one app registration that starts with one secret.
pub struct Azure {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub tenant: uuid::Uuid,
    pub object_id: uuid::Uuid,
    pub client_id: uuid::Uuid,
    pub manager: (uuid::Uuid, String),
    pub mock: rotary::mock::azure::MockAzure,
}

impl Azure {
    pub fn connection_body(&self, name: &str, secret: &str) -> Value {
        json!({"name": name, "method": "client-secret", "projectId": self.project,
               "credentials": {"tenantId": self.tenant, "clientId": self.manager.0, "clientSecret": secret}})
    }
}

impl Target for Azure {
    const TYPE: &'static str = "azure-client-secret";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        let mock = crate::helpers::azure().0.clone();
        let (tenant, manager, object_id, client_id) = {
            let mut d = mock.directory();
            let tenant = d.add_tenant();
            let (_, manager, secret) = d.add_app(tenant, "Rotary", true);
            let (object_id, client_id, _) = d.add_app(tenant, "Suite app", false);
            (tenant, (manager, secret), object_id, client_id)
        };
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Entra").await;
        let mut t = Azure {
            app,
            token,
            project,
            connection: String::new(),
            tenant,
            object_id,
            client_id,
            manager,
            mock,
        };
        let body = t.connection_body("azure", &t.manager.1.clone());
        let r = t
            .app
            .post(
                "/api/v1/app-connections/azure-client-secrets",
                &t.token,
                body,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        t.connection = r.body["appConnection"]["id"].as_str().unwrap().to_string();
        t
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
            "parameters": {"objectId": self.object_id, "clientId": self.client_id, "appName": "Suite app"},
            "secretsMapping": {"clientId": Self::MAPPED[0], "clientSecret": Self::MAPPED[1]},
        })
    }
    fn pair(item: &Value) -> [String; 2] {
        Okta::pair(item)
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.mock
            .directory()
            .authenticates(self.tenant, &pair[0], &pair[1])
    }
    async fn spoil(&self, pair: &[String; 2]) {
        let mut d = self.mock.directory();
        if let Some(apps) = d.tenants.get_mut(&self.tenant) {
            for a in apps.iter_mut() {
                a.passwords.retain(|p| p.secret_text != pair[1]);
            }
        }
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![self.manager.1.clone()]
    }
    async fn strays(&self, known: &[[String; 2]]) -> Vec<String> {
        let d = self.mock.directory();
        d.app(self.tenant, self.object_id)
            .map(|a| {
                a.passwords
                    .iter()
                    .filter(|p| {
                        p.display_name != "initial"
                            && !known.iter().any(|[_, k]| *k == p.secret_text)
                    })
                    .map(|p| p.key_id.to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

rotation_suite!(azure, super::Azure);

/// `aws-iam-user-secret` against moto's AWS server (`crate::moto`), with IAM users of its
/// own: a connection principal with the permissions Infisical's docs list, and a user with no
/// key to rotate.
#[cfg(feature = "aws")]
pub struct Aws {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub user: String,
    pub manager: (String, String, String),
}

#[cfg(feature = "aws")]
impl Aws {
    pub fn connection_body(&self, name: &str, secret: &str) -> Value {
        json!({"name": name, "method": "access-key", "projectId": self.project,
               "credentials": {"accessKeyId": self.manager.1, "secretAccessKey": secret}})
    }
}

#[cfg(feature = "aws")]
impl Target for Aws {
    const TYPE: &'static str = "aws-iam-user-secret";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        let manager = crate::moto::principal("rotary", crate::moto::MANAGER_POLICY).await;
        let user = crate::moto::user("suite").await;
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Cloud").await;
        let mut t = Aws {
            app,
            token,
            project,
            connection: String::new(),
            user,
            manager,
        };
        let body = t.connection_body("aws", &t.manager.2.clone());
        let r = t
            .app
            .post("/api/v1/app-connections/aws", &t.token, body)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        t.connection = r.body["appConnection"]["id"].as_str().unwrap().to_string();
        t
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
            "parameters": {"userName": self.user},
            "secretsMapping": {"accessKeyId": Self::MAPPED[0], "secretAccessKey": Self::MAPPED[1]},
        })
    }
    fn pair(item: &Value) -> [String; 2] {
        [
            item["accessKeyId"].as_str().unwrap().to_string(),
            item["secretAccessKey"].as_str().unwrap().to_string(),
        ]
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        crate::moto::works(&pair[0], &pair[1]).await
    }
    async fn spoil(&self, pair: &[String; 2]) {
        crate::moto::delete_key(&self.user, &pair[0]).await
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![self.manager.2.clone()]
    }
    async fn strays(&self, known: &[[String; 2]]) -> Vec<String> {
        crate::moto::keys(&self.user)
            .await
            .into_iter()
            .filter(|k| !known.iter().any(|[id, _]| id == k))
            .collect()
    }
}

#[cfg(feature = "aws")]
rotation_suite!(aws, super::Aws);

/// `mongodb-credentials` against a MongoDB protocol server of its own
/// (`rotary::mock::mongodb`), which the official driver logs in to with SCRAM-SHA-256: a
/// connection user with `userAdmin` on the database, and two `readWrite` users to rotate.
#[cfg(feature = "mongodb")]
pub struct Mongo {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub server: rotary::mock::mongodb::MockMongo,
    pub users: [String; 2],
}

#[cfg(feature = "mongodb")]
pub const MONGO_MANAGER_PASSWORD: &str = "suite-manager-pw";

#[cfg(feature = "mongodb")]
impl Mongo {
    pub fn connection_body(&self, name: &str, password: &str) -> Value {
        let (host, port) = self.server.address.rsplit_once(':').unwrap();
        json!({"name": name, "method": "username-and-password", "projectId": self.project,
               "credentials": {"host": host, "port": port.parse::<u16>().unwrap(), "database": "app",
                               "username": "rotary", "password": password,
                               "tlsEnabled": false, "tlsRejectUnauthorized": false}})
    }
}

#[cfg(feature = "mongodb")]
impl Target for Mongo {
    const TYPE: &'static str = "mongodb-credentials";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["MONGODB_DB_USERNAME", "MONGODB_DB_PASSWORD"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = rotary::mock::mongodb::MockMongo::spawn(listener);
        server.add_user(
            "app",
            "rotary",
            MONGO_MANAGER_PASSWORD,
            &[("userAdmin", "app")],
        );
        let users = ["app_user_1".to_string(), "app_user_2".to_string()];
        for (i, u) in users.iter().enumerate() {
            server.add_user("app", u, &format!("initial-{i}"), &[("readWrite", "app")]);
        }
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Documents").await;
        let mut t = Mongo {
            app,
            token,
            project,
            connection: String::new(),
            server,
            users,
        };
        let body = t.connection_body("mongo", MONGO_MANAGER_PASSWORD);
        let r = t
            .app
            .post("/api/v1/app-connections/mongodb", &t.token, body)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        t.connection = r.body["appConnection"]["id"].as_str().unwrap().to_string();
        t
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
        Postgres::pair(item)
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.server.authenticates("app", &pair[0], &pair[1])
    }
    async fn spoil(&self, pair: &[String; 2]) {
        self.server
            .add_user("app", &pair[0], "spoiled-by-hand", &[("readWrite", "app")]);
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![MONGO_MANAGER_PASSWORD.to_string()]
    }
}

#[cfg(feature = "mongodb")]
rotation_suite!(mongodb, super::Mongo);

/// `mssql-credentials` against a SQL Server protocol server of its own (`rotary::mock::mssql`),
/// which tiberius signs in to over TDS (the login encrypted, as with `sslEnabled` false): a
/// connection login with ALTER ANY LOGIN, and two logins to rotate, each with a user in `app`.
#[cfg(feature = "mssql")]
pub struct Mssql {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub server: rotary::mock::mssql::MockMssql,
    pub cert: crate::test_cert::TestCert,
    pub users: [String; 2],
}

#[cfg(feature = "mssql")]
pub const MSSQL_MANAGER_PASSWORD: &str = "Suite-manager-pw-1";

#[cfg(feature = "mssql")]
impl Mssql {
    pub fn connection_body(&self, name: &str, password: &str) -> Value {
        let (host, port) = self.server.address.rsplit_once(':').unwrap();
        json!({"name": name, "method": "username-and-password", "projectId": self.project,
               "credentials": {"host": host, "port": port.parse::<u16>().unwrap(), "database": "app",
                               "username": "rotary", "password": password,
                               "sslEnabled": false, "sslRejectUnauthorized": false}})
    }

    /// Whether `login` signs in to `app` with `password` through the driver, as a consumer does.
    pub async fn signs_in(&self, login: &str, password: &str) -> bool {
        let mut config = tiberius::Config::new();
        config.host("127.0.0.1");
        config.port(
            self.server
                .address
                .rsplit_once(':')
                .unwrap()
                .1
                .parse()
                .unwrap(),
        );
        config.database("app");
        config.authentication(tiberius::AuthMethod::sql_server(login, password));
        config.encryption(tiberius::EncryptionLevel::Off);
        config.trust_cert();
        let tcp = tokio::net::TcpStream::connect(&self.server.address)
            .await
            .unwrap();
        use tokio_util::compat::TokioAsyncWriteCompatExt;
        match tiberius::Client::connect(config, tcp.compat_write()).await {
            Ok(client) => {
                let _ = client.close().await;
                true
            }
            Err(tiberius::error::Error::Server(e)) if e.code() == 18456 => false,
            Err(e) => panic!("the protocol server failed a login: {e}"),
        }
    }
}

#[cfg(feature = "mssql")]
impl Target for Mssql {
    const TYPE: &'static str = "mssql-credentials";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["MSSQL_DB_USERNAME", "MSSQL_DB_PASSWORD"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        let cert = crate::test_cert::TestCert::new(&["localhost", "127.0.0.1"]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server =
            rotary::mock::mssql::MockMssql::spawn(listener, &cert.cert_pem, &cert.key_pem).unwrap();
        server.add_database("app");
        server.add_login("rotary", MSSQL_MANAGER_PASSWORD, true, &["app"]);
        let users = ["app_user_1".to_string(), "app_user_2".to_string()];
        for (i, u) in users.iter().enumerate() {
            server.add_login(u, &format!("Initial-pw-{i}"), false, &["app"]);
        }
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Databases").await;
        let mut t = Mssql {
            app,
            token,
            project,
            connection: String::new(),
            server,
            cert,
            users,
        };
        let body = t.connection_body("mssql", MSSQL_MANAGER_PASSWORD);
        let r = t
            .app
            .post("/api/v1/app-connections/mssql", &t.token, body)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        t.connection = r.body["appConnection"]["id"].as_str().unwrap().to_string();
        t
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
        Postgres::pair(item)
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.signs_in(&pair[0], &pair[1]).await
    }
    async fn spoil(&self, pair: &[String; 2]) {
        self.server.set_password(&pair[0], "Spoiled-by-hand-1");
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![MSSQL_MANAGER_PASSWORD.to_string()]
    }
}

#[cfg(feature = "mssql")]
rotation_suite!(mssql, super::Mssql);

/// `oracledb-credentials` against an Oracle protocol server of its own (`rotary::mock::oracle`),
/// which Oracle's driver logs on to over TNS with O5LOGON: a connection user with ALTER USER,
/// and two UPPERCASE users to rotate (created unquoted, as most are).
#[cfg(feature = "oracle")]
pub struct Oracle {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub server: rotary::mock::oracle::MockOracle,
    pub users: [String; 2],
}

#[cfg(feature = "oracle")]
pub const ORACLE_MANAGER_PASSWORD: &str = "Suite-manager-pw-1";

#[cfg(feature = "oracle")]
impl Oracle {
    pub fn connection_body(&self, name: &str, password: &str) -> Value {
        let (host, port) = self.server.address.rsplit_once(':').unwrap();
        json!({"name": name, "method": "username-and-password", "projectId": self.project,
               "credentials": {"host": host, "port": port.parse::<u16>().unwrap(), "database": "FREEPDB1",
                               "username": "rotary", "password": password,
                               "sslEnabled": false, "sslRejectUnauthorized": false}})
    }

    /// Whether `user` (exact) logs on with `password` through the driver, as a consumer does.
    pub async fn signs_in(&self, user: &str, password: &str) -> bool {
        let connect_string = format!("{}/FREEPDB1", self.server.address);
        let (user, password) = (format!("\"{user}\""), password.to_string());
        tokio::task::spawn_blocking(move || {
            let config = oracledb::Config::default()
                .set_credentials(&user, &password)
                .set_connect_string(&connect_string)
                .unwrap();
            match oracledb::connect(config) {
                Ok(conn) => {
                    let ok = conn.query_row("SELECT 1 FROM DUAL", &[]).is_ok();
                    drop(conn);
                    ok
                }
                Err(e) => match e.kind() {
                    oracledb::ErrorKind::DbError(db) if db.code() == 1017 => false,
                    _ => panic!("the protocol server failed a logon: {e}"),
                },
            }
        })
        .await
        .unwrap()
    }
}

#[cfg(feature = "oracle")]
impl Target for Oracle {
    const TYPE: &'static str = "oracledb-credentials";
    const DUAL_PHASE: bool = true;
    const MAPPED: [&'static str; 2] = ["ORACLEDB_USERNAME", "ORACLEDB_PASSWORD"];

    async fn on(app: TestApp, _database_url: &str) -> Self {
        rotary::install_crypto_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = rotary::mock::oracle::MockOracle::spawn(listener).unwrap();
        // Unquoted at logon: the server upper-cases it, as Oracle does.
        server.add_user("ROTARY", ORACLE_MANAGER_PASSWORD, true);
        let users = ["APP_USER_1".to_string(), "APP_USER_2".to_string()];
        for (i, u) in users.iter().enumerate() {
            server.add_user(u, &format!("Initial-pw-{i}"), false);
        }
        let token = app.admin_token().await;
        let project = app.create_project(&token, "Databases").await;
        let mut t = Oracle {
            app,
            token,
            project,
            connection: String::new(),
            server,
            users,
        };
        let body = t.connection_body("oracle", ORACLE_MANAGER_PASSWORD);
        let r = t
            .app
            .post("/api/v1/app-connections/oracledb", &t.token, body)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        t.connection = r.body["appConnection"]["id"].as_str().unwrap().to_string();
        t
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
        Postgres::pair(item)
    }
    async fn works(&self, pair: &[String; 2]) -> bool {
        self.signs_in(&pair[0], &pair[1]).await
    }
    async fn spoil(&self, pair: &[String; 2]) {
        self.server.set_password(&pair[0], "Spoiled-by-hand-1");
    }
    async fn mend(&self) {}
    fn connection_secrets(&self) -> Vec<String> {
        vec![ORACLE_MANAGER_PASSWORD.to_string()]
    }
}

#[cfg(feature = "oracle")]
rotation_suite!(oracle, super::Oracle);
