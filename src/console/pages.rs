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
                @for form in super::forms::ROTATION_FORMS {
                    a.button href={ "/console/projects/" (project.id) "/rotations/new-" (form.short) } { "New " (form.title) " rotation" }
                    " "
                }
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
                    } @else if let Some(form) = super::forms::rotation_form(&r.rotation_type) {
                        @let (label, text) = (form.settings)(&r.parameters);
                        dt { (label) } dd { (text) }
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
                        } @else if let Some(form) = super::forms::rotation_form(&r.rotation_type) {
                            span {
                                (form.revoke.0)
                                strong { (form.revoke.1) }
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
    f: &super::forms::Values,
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
            @for form in super::forms::CONNECTION_FORMS {
                @let posted = f.get("app").map(String::as_str) == Some(form.app);
                @let values = if posted { f.clone() } else { super::forms::defaults(form.fields) };
                details.card open[posted || connections.is_empty()] {
                    summary { "New " (form.title) " connection" }
                    p.hint { (form.hint) }
                    form method="post" action=(base) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="app" value=(form.app);
                        label for={ (form.app) "-name" } { "Name" }
                        input id={ (form.app) "-name" } name="name" value=(values.get("name").map(String::as_str).unwrap_or_default()) required;
                        @for field in form.fields {
                            (super::forms::render(form.app, field, &values))
                        }
                        button type="submit" { "Create connection" }
                    }
                }
            }
        },
    )
}

/// What a connection reaches, without its secrets.
fn connection_summary(c: &ConnectionRow) -> String {
    let p = &c.public_config;
    let title = super::forms::connection_form(&c.app)
        .map(|f| f.title)
        .unwrap_or(c.app.as_str());
    let at = format!(
        "{}@{}:{}",
        p["username"].as_str().unwrap_or_default(),
        p["host"].as_str().unwrap_or_default(),
        p["port"]
    );
    match c.app.as_str() {
        "aws" => match p["accessKeyId"].as_str() {
            Some(key) => format!("{title} · access key {key}"),
            None => format!("{title} · an assumed role"),
        },
        "azure-client-secrets" => format!(
            "{title} · {} in tenant {}",
            p["clientId"].as_str().unwrap_or_default(),
            p["tenantId"].as_str().unwrap_or_default()
        ),
        "auth0" => format!(
            "{title} · {} at {}",
            p["clientId"].as_str().unwrap_or_default(),
            p["domain"].as_str().unwrap_or_default()
        ),
        _ if p["instanceUrl"].is_string() => format!(
            "{title} · {}",
            p["instanceUrl"].as_str().unwrap_or_default()
        ),
        "ldap" => format!(
            "{title} · {} at {}",
            p["dn"].as_str().unwrap_or_default(),
            p["url"].as_str().unwrap_or_default()
        ),
        _ if p["database"].is_string() => format!(
            "{title} · {at}/{}",
            p["database"].as_str().unwrap_or_default()
        ),
        _ if p["host"].is_string() => format!("{title} · {at}"),
        _ => title.to_string(),
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

/// What a type's create form offers (`forms::ROTATION_FORMS`).
pub struct NewTypedRotation {
    pub project: ProjectRow,
    pub connections: Vec<ConnectionRow>,
    pub environments: Vec<EnvironmentRow>,
    pub form: &'static super::forms::RotationForm,
    /// (mapping field, default secret name).
    pub secrets: &'static [(&'static str, &'static str)],
}

pub fn new_typed_rotation(
    header: Header<'_>,
    v: &NewTypedRotation,
    f: &super::forms::Values,
    error: Option<&str>,
    dev_mode: bool,
) -> Markup {
    let csrf = header.csrf.to_string();
    let unit = if dev_mode { "minutes" } else { "days" };
    let form = v.form;
    let title = format!("New {} rotation", form.title);
    let base = format!(
        "/console/projects/{}/rotations/new-{}",
        v.project.id, form.short
    );
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    layout(
        &title,
        Some(header),
        html! {
            p.crumbs {
                a href="/console/projects" { "Projects" } " / "
                a href={ "/console/projects/" (v.project.id) } { (v.project.name) } " / " (title)
            }
            h1 { (title) }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            @if v.connections.is_empty() {
                p.empty { "This project has no " (form.title) " connection yet: " a href={ "/console/projects/" (v.project.id) "/connections" } { "create one" } " first." }
            } @else {
                section.card {
                    p.hint { (form.hint) }
                    form method="post" action=(base) {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="connectionId" { "Connection" }
                        select #connectionId name="connectionId" {
                            @for c in &v.connections {
                                option value=(c.id) selected[c.id.to_string() == get("connectionId")] { (c.name) }
                            }
                        }
                        label for="name" { "Name" }
                        input #name name="name" value=(get("name")) placeholder={ "my-" (form.short) "-rotation" } required;
                        label for="description" { "Description (optional)" }
                        input #description name="description" value=(get("description"));
                        @for field in form.parameters {
                            (super::forms::render("p", field, f))
                        }
                        @for field in form.temporary {
                            (super::forms::render("t", field, f))
                        }
                        (placement_fields(&v.environments, &get("environment"), &get("secretPath")))
                        @for (field, _) in v.secrets {
                            @let name = super::create_form::secret_field(field);
                            label for=(name) { "Secret name for the " (field) }
                            input id=(name) name=(name) value=(get(&name)) required;
                        }
                        (schedule_fields(f.contains_key("autoRotation"), &get("rotationInterval"), &get("rotateAt"), unit))
                        p.hint { (form.first_run) }
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
