//! The console's HTML (maud: checked at compile time, every value escaped).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::http::secret_rotations::RotationView;
use crate::store::projects::ProjectRow;

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
) -> Markup {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "—".into())
    };
    layout(
        &project.name,
        Some(header),
        html! {
            p.crumbs { a href="/console/projects" { "Projects" } " / " (project.name) }
            h1 { "Secret rotations" }
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
                                    td data-label="Name" { (r.name) }
                                    td data-label="Type" { (r.rotation_type) }
                                    td data-label="Connection" { (r.connection.name) }
                                    td data-label="Environment / path" { (r.environment.slug) " " code { (r.folder.path) } }
                                    td data-label="Status" {
                                        span class={ "status " (r.rotation_status) } { (r.rotation_status) }
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
