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
                a href={ "/console/projects/" (project.id) "/connections" } { "Salesforce connections" }
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
                    dt { "External Client App" } dd { (r.parameters["appName"].as_str().unwrap_or_default()) " " span.muted { (r.parameters["appId"].as_str().unwrap_or_default()) } }
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
                        span {
                            "Revoke at Salesforce: delete the previous credential Rotary created and disable OAuth on the External Client App. "
                            strong { "Every consumer of that app stops getting tokens," } " not only Rotary's."
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
            h1 { "Salesforce connections" }
            @if let Some(notice) = notice { p.notice role="status" { (notice) } }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            @if connections.is_empty() {
                p.empty { "No Salesforce connection in this project yet." }
            } @else {
                ul.list {
                    @for c in connections {
                        li.connection {
                            div {
                                strong { (c.name) } " "
                                span.muted { (c.public_config["instanceUrl"].as_str().unwrap_or_default()) }
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
                h2 { "New connection" }
                p.hint { "An External Client App of the org with the client-credentials flow on; Rotary gets a token with these credentials before it saves them (encrypted)." }
                form method="post" action=(base) {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="name" { "Name" }
                    input #name name="name" value=(f.name) placeholder="my-org" required;
                    label for="instanceUrl" { "Instance URL (My Domain)" }
                    input #instanceUrl name="instanceUrl" value=(f.instance_url) placeholder="https://acme.my.salesforce.com" required;
                    label for="consumerKey" { "Consumer key" }
                    input #consumerKey name="consumerKey" value=(f.consumer_key) autocomplete="off" required;
                    label for="consumerSecret" { "Consumer secret" }
                    input #consumerSecret name="consumerSecret" type="password" autocomplete="off" required;
                    button type="submit" { "Create connection" }
                }
            }
        },
    )
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
                            label for="environment" { "Environment" }
                            select #environment name="environment" {
                                @for e in &v.environments {
                                    option value=(e.slug) selected[e.slug == f.environment] { (e.name) " (" (e.slug) ")" }
                                }
                            }
                            label for="secretPath" { "Secret path" }
                            input #secretPath name="secretPath" value=(f.secret_path) required;
                            label for="consumerKeyName" { "Secret name for the consumer key" }
                            input #consumerKeyName name="consumerKeyName" value=(f.consumer_key_name) required;
                            label for="consumerSecretName" { "Secret name for the consumer secret" }
                            input #consumerSecretName name="consumerSecretName" value=(f.consumer_secret_name) required;
                            label.check {
                                input type="checkbox" name="autoRotation" value="true" checked[f.auto_rotation.is_some()];
                                span { "Rotate automatically" }
                            }
                            div.row {
                                div {
                                    label for="rotationInterval" { "Every (" (unit) ")" }
                                    input #rotationInterval name="rotationInterval" type="number" min="1" value=(f.rotation_interval) required;
                                }
                                div {
                                    label for="rotateAt" { "At (UTC)" }
                                    input #rotateAt name="rotateAt" type="time" value=(f.rotate_at) required;
                                }
                            }
                            p.hint { "Creating the rotation also rotates once, right away: a new credential is staged at Salesforce, activated, and written to the two secrets." }
                            button type="submit" { "Create rotation" }
                        }
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
