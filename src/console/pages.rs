//! The console's HTML (maud: checked at compile time, every value escaped).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::http::app_connections::OauthAppView;
use crate::http::secret_rotations::{RotationView, RunView};
use crate::store::app_connections::ConnectionRow;
use crate::store::projects::{EnvironmentRow, ProjectRow};

/// Who is signed in, for the page header.
pub struct Header<'a> {
    pub identity: &'a str,
    pub csrf: &'a str,
}

pub fn layout(title: &str, header: Option<Header<'_>>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Rotary" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body {
                header.top {
                    a.brand href="/console/projects" { "Rotary" }
                    @if let Some(h) = header {
                        nav {
                            a href="/console/projects" { "Projects" }
                        }
                        form.signout method="post" action="/console/sign-out" {
                            input type="hidden" name="csrf" value=(h.csrf);
                            span.who { (h.identity) }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn sign_in(csrf: &str, notice: Option<&str>, error: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            section.card.narrow {
                h1 { "Sign in" }
                p.hint { "With a machine identity's universal-auth client ID and client secret." }
                @if let Some(notice) = notice { p.notice { (notice) } }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                form method="post" action="/console/sign-in" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="clientId" { "Client ID" }
                    input #clientId name="clientId" autocomplete="username" required;
                    label for="clientSecret" { "Client secret" }
                    input #clientSecret name="clientSecret" type="password" autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

pub fn projects(header: Header<'_>, projects: &[ProjectRow]) -> Markup {
    layout(
        "Projects",
        Some(header),
        html! {
            h1 { "Projects" }
            @if projects.is_empty() {
                p.empty { "This identity is not a member of any project yet." }
            } @else {
                ul.list {
                    @for p in projects {
                        li { a href={ "/console/projects/" (p.id) } { (p.name) } " " span.muted { (p.slug) } }
                    }
                }
            }
        },
    )
}

pub const STATUS_FILTERS: [(&str, &str); 3] = [
    ("all", "All"),
    ("success", "Succeeded"),
    ("failed", "Failed"),
];

pub fn rotations(
    header: Header<'_>,
    project: &ProjectRow,
    status: &str,
    rows: &[RotationView],
    notice: Option<&str>,
) -> Markup {
    layout(
        &project.name,
        Some(header),
        html! {
            p.crumbs { a href="/console/projects" { "Projects" } " / " (project.name) }
            h1 { "Secret rotations" }
            @if let Some(notice) = notice { p.notice { (notice) } }
            p.links {
                a.button href={ "/console/projects/" (project.id) "/rotations/new" } { "New Salesforce rotation" }
                " "
                a.button href={ "/console/projects/" (project.id) "/rotations/new-postgres" } { "New PostgreSQL rotation" }
                " "
                a href={ "/console/projects/" (project.id) "/connections" } { "Connections" }
            }
            nav.filters aria-label="Filter by status" {
                @for (value, label) in STATUS_FILTERS {
                    @if value == status {
                        span.current { (label) }
                    } @else {
                        a href={ "?status=" (value) } { (label) }
                    }
                }
            }
            @if rows.is_empty() {
                p.empty { "No rotations here." }
            } @else {
                div.scroll {
                    table {
                        thead { tr {
                            th { "Name" } th { "Type" } th { "Connection" } th { "Environment / path" }
                            th { "Status" } th { "Last rotated" } th { "Next rotation" } th { "Last message" }
                        } }
                        tbody {
                            @for r in rows {
                                tr {
                                    td data-label="Name" { a href={ "/console/rotations/" (r.id) } { (r.name) } }
                                    td data-label="Type" { (r.rotation_type) }
                                    td data-label="Connection" { (r.connection.name) }
                                    td data-label="Environment / path" { (r.environment.slug) " " code { (r.folder.path) } }
                                    td data-label="Status" {
                                        span class={ "status " (r.rotation_status.as_str()) } { (r.rotation_status.as_str()) }
                                        @if !r.is_auto_rotation_enabled { " " span.muted { "(auto off)" } }
                                    }
                                    td data-label="Last rotated" { (time(Some(r.last_rotated_at))) }
                                    td data-label="Next rotation" { (time(r.next_rotation_at)) }
                                    td data-label="Last message" { (r.last_rotation_message.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

pub fn rotation(
    header: Header<'_>,
    r: &RotationView,
    runs: &[RunView],
    notice: Option<&str>,
    error: Option<&str>,
    dev_mode: bool,
) -> Markup {
    let csrf = header.csrf.to_string();
    // ROTARY_ROTATION_DEV_MODE counts the interval in minutes.
    let unit = if dev_mode { "minute(s)" } else { "day(s)" };
    let mapped: Vec<(String, String)> = r
        .secrets_mapping
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let action = |what: &str| format!("/console/rotations/{}/{what}", r.id);
    layout(
        &r.name,
        Some(header),
        html! {
            p.crumbs {
                a href="/console/projects" { "Projects" } " / "
                a href={ "/console/projects/" (r.project_id) } { "Rotations" } " / " (r.name)
            }
            h1 { (r.name) " " span class={ "status " (r.rotation_status.as_str()) } { (r.rotation_status.as_str()) } }
            @if let Some(notice) = notice { p.notice role="status" { (notice) } }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            div.actions {
                form method="post" action=(action("rotate")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { "Rotate now" }
                }
                form method="post" action=(action("check")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button.secondary type="submit" { "Check credentials" }
                }
                form method="post" action=(action("auto-rotation")) {
                    input type="hidden" name="csrf" value=(csrf);
                    @if r.is_auto_rotation_enabled {
                        input type="hidden" name="enabled" value="false";
                        button.secondary type="submit" { "Disable auto-rotation" }
                    } @else {
                        input type="hidden" name="enabled" value="true";
                        button.secondary type="submit" { "Enable auto-rotation" }
                    }
                }
            }
            section.card {
                h2 { "Settings" }
                dl.settings {
                    dt { "Type" } dd { (r.rotation_type) }
                    dt { "Connection" } dd { (r.connection.name) }
                    dt { "Environment / path" } dd { (r.environment.slug) " " code { (r.folder.path) } }
                    @if r.rotation_type == "salesforce-oauth-credentials" {
                        dt { "External Client App" } dd { (r.parameters["appName"].as_str().unwrap_or_default()) " " span.muted { (r.parameters["appId"].as_str().unwrap_or_default()) } }
                    } @else {
                        dt { "Users" } dd {
                            code { (r.parameters["username1"].as_str().unwrap_or_default()) } " and "
                            code { (r.parameters["username2"].as_str().unwrap_or_default()) }
                            span.muted { ", used in turn: the previous one keeps working until the next rotation" }
                        }
                    }
                    dt { "Auto-rotation" } dd {
                        @if r.is_auto_rotation_enabled { "every " (r.rotation_interval) " " (unit) " at " (format!("{:02}:{:02}", r.rotate_at_utc.hours, r.rotate_at_utc.minutes)) " UTC" } @else { "off" }
                    }
                    dt { "Last rotated" } dd { (time(Some(r.last_rotated_at))) }
                    dt { "Next rotation" } dd { (time(r.next_rotation_at)) }
                    dt { "Last message" } dd { (r.last_rotation_message.as_deref().unwrap_or("—")) }
                }
                h3 { "Mapped secrets" }
                p.hint { "Applications read these names; their values are never shown here." }
                ul.plain {
                    @for (field, name) in &mapped { li { code { (name) } " " span.muted { "← " (field) } } }
                }
            }
            section.card {
                h2 { "Run history" }
                @if runs.is_empty() {
                    p.empty { "No runs yet." }
                } @else {
                    div.scroll {
                        table {
                            thead { tr { th { "Started" } th { "Trigger" } th { "Step reached" } th { "Outcome" } th { "Error" } } }
                            tbody {
                                @for run in runs {
                                    tr {
                                        td data-label="Started" { (time(Some(run.started_at))) }
                                        td data-label="Trigger" { (run.trigger) }
                                        td data-label="Step reached" { (run.step) }
                                        td data-label="Outcome" { span class={ "status " (run.outcome) } { (run.outcome) } }
                                        td data-label="Error" { (run.error.as_deref().unwrap_or("")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section.card.danger {
                h2 { "Delete this rotation" }
                form method="post" action=(action("delete")) {
                    input type="hidden" name="csrf" value=(csrf);
                    label.check {
                        input type="checkbox" name="deleteSecrets" value="true";
                        span { "Also delete the mapped secrets. Otherwise they stay, with their current values, and become ordinary editable secrets." }
                    }
                    label.check {
                        input type="checkbox" name="revokeGeneratedCredentials" value="true";
                        @if r.rotation_type == "salesforce-oauth-credentials" {
                            span {
                                "Revoke at Salesforce: delete the previous credential Rotary created and disable OAuth on the External Client App. "
                                strong { "Every consumer of that app stops getting tokens," } " not only Rotary's."
                            }
                        } @else {
                            span {
                                "Revoke: give both users a random password nobody keeps. "
                                strong { "Every consumer of them stops logging in." }
                            }
                        }
                    }
                    button.danger type="submit" { "Delete rotation" }
                }
            }
        },
    )
}

pub fn connections(
    header: Header<'_>,
    project: &ProjectRow,
    connections: &[ConnectionRow],
    f: &super::connections::Fields,
    notice: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let csrf = header.csrf.to_string();
    let base = format!("/console/projects/{}/connections", project.id);
    layout(
        "Connections",
        Some(header),
        html! {
            p.crumbs {
                a href="/console/projects" { "Projects" } " / "
                a href={ "/console/projects/" (project.id) } { (project.name) } " / Connections"
            }
            h1 { "Connections" }
            @if let Some(notice) = notice { p.notice role="status" { (notice) } }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            @if connections.is_empty() {
                p.empty { "No connection in this project yet." }
            } @else {
                ul.list {
                    @for c in connections {
                        li.connection {
                            div {
                                strong { (c.name) } " "
                                span.muted { (connection_summary(c)) }
                            }
                            div.actions {
                                form method="post" action={ (base) "/" (c.id) "/check" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.secondary type="submit" { "Check" }
                                }
                                form method="post" action={ (base) "/" (c.id) "/delete" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.danger type="submit" { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
            section.card {
                h2 { "New Salesforce connection" }
                p.hint { "An External Client App of the org with the client-credentials flow on; Rotary gets a token with these credentials before it saves them (encrypted)." }
                form method="post" action=(base) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="app" value="salesforce";
                    label for="name" { "Name" }
                    input #name name="name" value=(if f.app != "postgres" { f.name.as_str() } else { "" }) placeholder="my-org" required;
                    label for="instanceUrl" { "Instance URL (My Domain)" }
                    input #instanceUrl name="instanceUrl" value=(f.instance_url) placeholder="https://acme.my.salesforce.com" required;
                    label for="consumerKey" { "Consumer key" }
                    input #consumerKey name="consumerKey" value=(f.consumer_key) autocomplete="off" required;
                    label for="consumerSecret" { "Consumer secret" }
                    input #consumerSecret name="consumerSecret" type="password" autocomplete="off" required;
                    button type="submit" { "Create connection" }
                }
            }
            section.card {
                h2 { "New PostgreSQL connection" }
                p.hint { "A role with CREATEROLE (on PostgreSQL 16 and later also ADMIN OPTION on each rotated user); Rotary logs in with it and runs SELECT 1 before it saves it (encrypted)." }
                form method="post" action=(base) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="app" value="postgres";
                    label for="pg-name" { "Name" }
                    input #pg-name name="name" value=(if f.app == "postgres" { f.name.as_str() } else { "" }) placeholder="my-database" required;
                    div.row {
                        div {
                            label for="host" { "Host" }
                            input #host name="host" value=(f.host) placeholder="db.example.com" required;
                        }
                        div {
                            label for="port" { "Port" }
                            input #port name="port" type="number" min="1" max="65535" value=(if f.port.is_empty() { "5432" } else { f.port.as_str() }) required;
                        }
                    }
                    label for="database" { "Database" }
                    input #database name="database" value=(f.database) required;
                    label for="username" { "Username" }
                    input #username name="username" value=(f.username) autocomplete="off" required;
                    label for="password" { "Password" }
                    input #password name="password" type="password" autocomplete="off" required;
                    label.check {
                        input type="checkbox" name="sslEnabled" value="true" checked[f.ssl_enabled.is_some()];
                        span { "Use TLS" }
                    }
                    label.check {
                        input type="checkbox" name="sslRejectUnauthorized" value="true" checked[f.ssl_reject_unauthorized.is_some()];
                        span { "Verify the server's certificate and name" }
                    }
                    label for="sslCertificate" { "CA certificate (PEM, optional)" }
                    textarea #sslCertificate name="sslCertificate" rows="3" { (f.ssl_certificate) }
                    button type="submit" { "Create connection" }
                }
            }
        },
    )
}

/// What a connection reaches, without its secrets.
fn connection_summary(c: &ConnectionRow) -> String {
    let p = &c.public_config;
    match c.app.as_str() {
        app @ ("postgres" | "mysql") => format!(
            "{} · {}@{}:{}/{}",
            if app == "postgres" {
                "PostgreSQL"
            } else {
                "MySQL"
            },
            p["username"].as_str().unwrap_or_default(),
            p["host"].as_str().unwrap_or_default(),
            p["port"],
            p["database"].as_str().unwrap_or_default()
        ),
        "salesforce" => format!(
            "Salesforce · {}",
            p["instanceUrl"].as_str().unwrap_or_default()
        ),
        other => other.to_string(),
    }
}

/// What the create form offers.
pub struct NewRotation {
    pub project: ProjectRow,
    pub connections: Vec<ConnectionRow>,
    pub environments: Vec<EnvironmentRow>,
    /// The picked connection's External Client Apps.
    pub apps: Vec<OauthAppView>,
    /// Why they could not be listed.
    pub apps_error: Option<String>,
}

pub fn new_rotation(
    header: Header<'_>,
    v: &NewRotation,
    f: &super::create::Fields,
    error: Option<&str>,
    dev_mode: bool,
) -> Markup {
    let csrf = header.csrf.to_string();
    let unit = if dev_mode { "minutes" } else { "days" };
    let base = format!("/console/projects/{}/rotations/new", v.project.id);
    layout(
        "New rotation",
        Some(header),
        html! {
            p.crumbs {
                a href="/console/projects" { "Projects" } " / "
                a href={ "/console/projects/" (v.project.id) } { (v.project.name) } " / New rotation"
            }
            h1 { "New Salesforce rotation" }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            @if v.connections.is_empty() {
                p.empty { "This project has no Salesforce connection yet: " a href={ "/console/projects/" (v.project.id) "/connections" } { "create one" } " first." }
            } @else {
                section.card {
                    h2 { "1. Salesforce connection" }
                    form method="get" action=(base) {
                        label for="pick-connection" { "Connection" }
                        select #pick-connection name="connectionId" {
                            @for c in &v.connections {
                                option value=(c.id) selected[c.id.to_string() == f.connection_id] { (c.name) }
                            }
                        }
                        button.secondary type="submit" { "List its External Client Apps" }
                    }
                }
                @if !f.connection_id.is_empty() {
                    section.card {
                        h2 { "2. The rotation" }
                        @if let Some(e) = &v.apps_error { p.error { "The connection's apps could not be listed: " (e) } }
                        form method="post" action=(base) {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="connectionId" value=(f.connection_id);
                            label for="name" { "Name" }
                            input #name name="name" value=(f.name) placeholder="my-salesforce-rotation" required;
                            label for="description" { "Description (optional)" }
                            input #description name="description" value=(f.description);
                            label for="app" { "External Client App" }
                            select #app name="app" required {
                                @for a in &v.apps {
                                    @let value = format!("{}|{}", a.identifier, a.developer_name);
                                    option value=(value) selected[value == f.app] { (a.developer_name) " (" (a.identifier) ")" }
                                }
                            }
                            (placement_fields(&v.environments, &f.environment, &f.secret_path))
                            label for="consumerKeyName" { "Secret name for the consumer key" }
                            input #consumerKeyName name="consumerKeyName" value=(f.consumer_key_name) required;
                            label for="consumerSecretName" { "Secret name for the consumer secret" }
                            input #consumerSecretName name="consumerSecretName" value=(f.consumer_secret_name) required;
                            (schedule_fields(f.auto_rotation.is_some(), &f.rotation_interval, &f.rotate_at, unit))
                            p.hint { "Creating the rotation also rotates once, right away: a new credential is staged at Salesforce, activated, and written to the two secrets." }
                            button type="submit" { "Create rotation" }
                        }
                    }
                }
            }
        },
    )
}

/// Where a new rotation's secrets go: the environment and the folder path.
fn placement_fields(environments: &[EnvironmentRow], environment: &str, path: &str) -> Markup {
    html! {
        label for="environment" { "Environment" }
        select #environment name="environment" {
            @for e in environments {
                option value=(e.slug) selected[e.slug == environment] { (e.name) " (" (e.slug) ")" }
            }
        }
        label for="secretPath" { "Secret path" }
        input #secretPath name="secretPath" value=(path) required;
    }
}

/// When a new rotation rotates: on or off, every `interval` `unit`, at `rotate_at` UTC.
fn schedule_fields(auto: bool, interval: &str, rotate_at: &str, unit: &str) -> Markup {
    html! {
        label.check {
            input type="checkbox" name="autoRotation" value="true" checked[auto];
            span { "Rotate automatically" }
        }
        div.row {
            div {
                label for="rotationInterval" { "Every (" (unit) ")" }
                input #rotationInterval name="rotationInterval" type="number" min="1" value=(interval) required;
            }
            div {
                label for="rotateAt" { "At (UTC)" }
                input #rotateAt name="rotateAt" type="time" value=(rotate_at) required;
            }
        }
    }
}

/// What the PostgreSQL create form offers.
pub struct NewPostgresRotation {
    pub project: ProjectRow,
    pub connections: Vec<ConnectionRow>,
    pub environments: Vec<EnvironmentRow>,
}

pub fn new_postgres_rotation(
    header: Header<'_>,
    v: &NewPostgresRotation,
    f: &super::create_postgres::Fields,
    error: Option<&str>,
    dev_mode: bool,
) -> Markup {
    let csrf = header.csrf.to_string();
    let unit = if dev_mode { "minutes" } else { "days" };
    let base = format!("/console/projects/{}/rotations/new-postgres", v.project.id);
    layout(
        "New PostgreSQL rotation",
        Some(header),
        html! {
            p.crumbs {
                a href="/console/projects" { "Projects" } " / "
                a href={ "/console/projects/" (v.project.id) } { (v.project.name) } " / New PostgreSQL rotation"
            }
            h1 { "New PostgreSQL rotation" }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            @if v.connections.is_empty() {
                p.empty { "This project has no PostgreSQL connection yet: " a href={ "/console/projects/" (v.project.id) "/connections" } { "create one" } " first." }
            } @else {
                section.card {
                    p.hint { "Two existing login roles, used in turn: each rotation gives the inactive one a new password, so the active one keeps working until the next rotation. Rotary manages both passwords from now on." }
                    form method="post" action=(base) {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="connectionId" { "Connection" }
                        select #connectionId name="connectionId" {
                            @for c in &v.connections {
                                option value=(c.id) selected[c.id.to_string() == f.connection_id] { (c.name) }
                            }
                        }
                        label for="name" { "Name" }
                        input #name name="name" value=(f.name) placeholder="my-database-rotation" required;
                        label for="description" { "Description (optional)" }
                        input #description name="description" value=(f.description);
                        div.row {
                            div {
                                label for="username1" { "First user" }
                                input #username1 name="username1" value=(f.username1) placeholder="app_user_1" required;
                            }
                            div {
                                label for="username2" { "Second user" }
                                input #username2 name="username2" value=(f.username2) placeholder="app_user_2" required;
                            }
                        }
                        (placement_fields(&v.environments, &f.environment, &f.secret_path))
                        label for="usernameName" { "Secret name for the username" }
                        input #usernameName name="usernameName" value=(f.username_name) required;
                        label for="passwordName" { "Secret name for the password" }
                        input #passwordName name="passwordName" value=(f.password_name) required;
                        (schedule_fields(f.auto_rotation.is_some(), &f.rotation_interval, &f.rotate_at, unit))
                        p.hint { "Creating the rotation also rotates once, right away: the first user gets a new password, Rotary logs in with it, and writes both secrets." }
                        button type="submit" { "Create rotation" }
                    }
                }
            }
        },
    )
}

pub fn error(header: Option<Header<'_>>, title: &str, message: &str) -> Markup {
    layout(
        title,
        header,
        html! {
            section.card {
                h1 { (title) }
                p.error role="alert" { (message) }
                p { a href="/console/projects" { "Back to projects" } }
            }
        },
    )
}

/// The stylesheet, embedded in the binary.
pub const CSS: PreEscaped<&str> = PreEscaped(include_str!("console.css"));
