//! What the console's forms ask for: one description per app connection and per rotation
//! type (the Salesforce rotation has a form of its own, `create.rs`: it picks an External
//! Client App). Each field is named as the API names it, so a filled form becomes the API's
//! JSON body and goes through its parsing and validation; a new type adds an entry here.

use std::collections::HashMap;

use maud::{html, Markup};
use serde_json::{Map, Value};

/// How a field is entered, and how its value reaches the body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A trimmed string.
    Text,
    /// A string as typed, never shown again.
    Secret,
    /// A number typed as text (the API coerces it, as zod does).
    Number,
    /// A boolean: checked or not.
    Check,
    /// A multi-line string (a PEM certificate).
    Pem,
    /// One of the API's values (value, what the form says of it).
    Choice(&'static [(&'static str, &'static str)]),
}

#[derive(Clone, Copy)]
pub struct Field {
    /// The API's field (`credentials.<name>` or `parameters.<name>`) and the form's.
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    /// What a new form shows ("true" checks a box).
    pub default: &'static str,
    pub placeholder: &'static str,
    /// Left empty, an optional field is left out of the body.
    pub required: bool,
}

const fn field(name: &'static str, label: &'static str, input: Input) -> Field {
    Field {
        name,
        label,
        input,
        default: "",
        placeholder: "",
        required: !matches!(input, Input::Check | Input::Pem),
    }
}

const fn with(mut f: Field, default: &'static str, placeholder: &'static str) -> Field {
    f.default = default;
    f.placeholder = placeholder;
    f
}

const fn optional(mut f: Field) -> Field {
    f.required = false;
    f
}

/// An app's create form on the connections page.
pub struct ConnectionForm {
    pub app: &'static str,
    pub title: &'static str,
    pub method: &'static str,
    pub hint: &'static str,
    pub fields: &'static [Field],
}

const TLS: [Field; 3] = [
    with(field("sslEnabled", "Use TLS", Input::Check), "", ""),
    with(
        field(
            "sslRejectUnauthorized",
            "Verify the server's certificate and name",
            Input::Check,
        ),
        "true",
        "",
    ),
    field(
        "sslCertificate",
        "CA certificate (PEM, optional)",
        Input::Pem,
    ),
];

const fn sql_fields(port: &'static str, host: &'static str) -> [Field; 8] {
    let [tls1, tls2, tls3] = TLS;
    [
        with(field("host", "Host", Input::Text), "", host),
        with(field("port", "Port", Input::Number), port, ""),
        field("database", "Database", Input::Text),
        field("username", "Username", Input::Text),
        field("password", "Password", Input::Secret),
        tls1,
        tls2,
        tls3,
    ]
}

pub static CONNECTION_FORMS: &[ConnectionForm] = &[
    ConnectionForm {
        app: "salesforce",
        title: "Salesforce",
        method: "client-credentials",
        hint: "An External Client App of the org with the client-credentials flow on; Rotary gets a token with these credentials before it saves them (encrypted).",
        fields: &[
            with(
                field("instanceUrl", "Instance URL (My Domain)", Input::Text),
                "",
                "https://acme.my.salesforce.com",
            ),
            field("consumerKey", "Consumer key", Input::Text),
            field("consumerSecret", "Consumer secret", Input::Secret),
        ],
    },
    ConnectionForm {
        app: "postgres",
        title: "PostgreSQL",
        method: "username-and-password",
        hint: "A role with CREATEROLE (on PostgreSQL 16 and later also ADMIN OPTION on each rotated user); Rotary logs in with it and runs SELECT 1 before it saves it (encrypted).",
        fields: &sql_fields("5432", "db.example.com"),
    },
    ConnectionForm {
        app: "mysql",
        title: "MySQL",
        method: "username-and-password",
        hint: "An account with CREATE USER (and SELECT on mysql.user, so Rotary finds each user's host entry); Rotary logs in with it and runs SELECT 1 before it saves it (encrypted).",
        fields: &sql_fields("3306", "db.example.com"),
    },
    ConnectionForm {
        app: "mssql",
        title: "Microsoft SQL Server",
        method: "username-and-password",
        hint: "A SQL Server login with ALTER ANY LOGIN; Rotary signs in with it to the database and runs SELECT 1 before it saves it (encrypted). Without TLS only the login is encrypted.",
        fields: &sql_fields("1433", "sql.example.com"),
    },
    ConnectionForm {
        app: "oracledb",
        title: "OracleDB",
        method: "username-and-password",
        hint: "A user with CREATE SESSION and ALTER USER; Rotary logs on to the service (database: e.g. FREEPDB1) and runs SELECT 1 FROM DUAL before it saves it (encrypted). With TLS (TCPS) the certificate is always checked.",
        fields: &sql_fields("1521", "oracle.example.com"),
    },
    ConnectionForm {
        app: "mongodb",
        title: "MongoDB",
        method: "username-and-password",
        hint: "A user of the database with userAdmin on it (the rotated users are defined there too); Rotary logs in with it and runs ping before it saves it (encrypted). Host and port of the server: mongodb+srv is not supported.",
        fields: &[
            with(field("host", "Host", Input::Text), "", "mongo.example.com"),
            with(field("port", "Port", Input::Number), "27017", ""),
            field("database", "Database (the users' authSource)", Input::Text),
            field("username", "Username", Input::Text),
            field("password", "Password", Input::Secret),
            with(field("tlsEnabled", "Use TLS", Input::Check), "", ""),
            with(
                field(
                    "tlsRejectUnauthorized",
                    "Verify the server's certificate and name",
                    Input::Check,
                ),
                "true",
                "",
            ),
            field("tlsCertificate", "CA certificate (PEM, optional)", Input::Pem),
        ],
    },
    ConnectionForm {
        app: "redis",
        title: "Redis",
        method: "username-and-password",
        hint: "An ACL user with +acl|setuser +acl|deluser (and +acl|save when the server keeps an ACL file); Rotary logs in with it (AUTH) before it saves it (encrypted).",
        fields: &{
            let [tls1, tls2, tls3] = TLS;
            [
                with(field("host", "Host", Input::Text), "", "cache.example.com"),
                with(field("port", "Port", Input::Number), "6379", ""),
                field("username", "ACL user", Input::Text),
                optional(field("password", "Password (empty for a nopass user)", Input::Secret)),
                tls1,
                tls2,
                tls3,
            ]
        },
    },
    ConnectionForm {
        app: "ldap",
        title: "LDAP",
        method: "simple-bind",
        hint: "An account that may reset the rotated accounts' passwords (or only itself, for a self-rotation); Rotary binds with it, always over TLS, before it saves it (encrypted).",
        fields: &LDAP_CONNECTION,
    },
    ConnectionForm {
        app: "auth0",
        title: "Auth0",
        method: "client-credentials",
        hint: "A Machine-to-Machine application authorised for the Auth0 Management API with read:clients and update:client_keys; Rotary gets a Management API token with it before it saves it (encrypted).",
        fields: &[
            with(
                field("domain", "Domain", Input::Text),
                "",
                "acme.us.auth0.com",
            ),
            field("clientId", "Client ID", Input::Text),
            field("clientSecret", "Client secret", Input::Secret),
            with(
                field("audience", "Audience (the Management API's identifier)", Input::Text),
                "",
                "https://acme.us.auth0.com/api/v2/",
            ),
        ],
    },
    ConnectionForm {
        app: "aws",
        title: "AWS",
        method: "access-key",
        hint: "An IAM principal's access key with iam:ListAccessKeys, iam:CreateAccessKey, iam:DeleteAccessKey and iam:ListUsers; Rotary checks it with STS GetCallerIdentity before it saves it (encrypted). A role Rotary assumes (assume-role, with the organization id as ExternalId) is created through the API.",
        fields: &[
            with(
                field("accessKeyId", "Access key ID", Input::Text),
                "",
                "AKIA…",
            ),
            field("secretAccessKey", "Secret access key", Input::Secret),
        ],
    },
    ConnectionForm {
        app: "azure-client-secrets",
        title: "Azure",
        method: "client-secret",
        hint: "An app registration with Microsoft Graph's Application.ReadWrite.All (application permission, admin consent); Rotary gets a Graph token with its secret before it saves it (encrypted).",
        fields: &[
            field("tenantId", "Tenant ID", Input::Text),
            field("clientId", "Client (application) ID", Input::Text),
            field("clientSecret", "Client secret", Input::Secret),
        ],
    },
    ConnectionForm {
        app: "okta",
        title: "Okta",
        method: "api-token",
        hint: "An API token (Security → API → Tokens) of an admin that may manage the apps' client secrets; Rotary calls GET /api/v1/users/me with it before it saves it (encrypted).",
        fields: &[
            with(
                field("instanceUrl", "Org URL", Input::Text),
                "",
                "https://acme.okta.com",
            ),
            field("apiToken", "API token", Input::Secret),
        ],
    },
];

const LDAP_PROVIDERS: &[(&str, &str)] = &[
    (
        "active-directory",
        "Active Directory (unicodePwd, as Infisical)",
    ),
    (
        "open-ldap",
        "OpenLDAP and other directories with Password Modify (RFC 3062)",
    ),
];

const LDAP_CONNECTION: [Field; 6] = [
    with(
        field("provider", "Directory", Input::Choice(LDAP_PROVIDERS)),
        "active-directory",
        "",
    ),
    with(
        field(
            "url",
            "URL (ldaps://, or ldap:// with StartTLS)",
            Input::Text,
        ),
        "",
        "ldaps://dc.corp.example.com:636",
    ),
    with(
        field("dn", "Bind DN or UPN", Input::Text),
        "",
        "CN=Rotary,CN=Users,DC=corp,DC=example",
    ),
    field("password", "Password", Input::Secret),
    // Always TLS (ldaps:// or StartTLS): no "Use TLS" box.
    TLS[1],
    TLS[2],
];

pub fn connection_form(app: &str) -> Option<&'static ConnectionForm> {
    CONNECTION_FORMS.iter().find(|f| f.app == app)
}

/// A rotation type's create form (`/console/projects/{id}/rotations/new-{short}`).
pub struct RotationForm {
    pub slug: &'static str,
    pub short: &'static str,
    pub title: &'static str,
    pub hint: &'static str,
    /// What creating it does right away.
    pub first_run: &'static str,
    pub parameters: &'static [Field],
    /// `temporaryParameters`: used by the first run only, never stored in the rotation.
    pub temporary: &'static [Field],
    /// What the rotation's page says of its parameters, and its revoke checkbox.
    pub settings: fn(&Value) -> (&'static str, Markup),
    pub revoke: (&'static str, &'static str),
}

fn two_users(p: &Value) -> (&'static str, Markup) {
    (
        "Users",
        html! {
            code { (p["username1"].as_str().unwrap_or_default()) } " and "
            code { (p["username2"].as_str().unwrap_or_default()) }
            span.muted { ", used in turn: the previous one keeps working until the next rotation" }
        },
    )
}

fn redis_scope(p: &Value) -> (&'static str, Markup) {
    (
        "Permission scope",
        html! {
            code { (p["permissionScope"].as_str().unwrap_or_default()) }
            span.muted { ": each rotation creates a new ACL user with it; the previous one keeps working until the next rotation" }
        },
    )
}

fn auth0_app(p: &Value) -> (&'static str, Markup) {
    (
        "Application",
        html! {
            code { (p["clientId"].as_str().unwrap_or_default()) }
            span.muted { ": each rotation sets a new client secret, and the previous one stops working at once" }
        },
    )
}

fn aws_user(p: &Value) -> (&'static str, Markup) {
    (
        "IAM user",
        html! {
            code { (p["userName"].as_str().unwrap_or_default()) }
            span.muted { ": each rotation creates an access key and deletes the one of two rotations ago; the previous one keeps working until the next rotation" }
        },
    )
}

fn azure_app(p: &Value) -> (&'static str, Markup) {
    (
        "App registration",
        html! {
            code { (p["appName"].as_str().unwrap_or(p["objectId"].as_str().unwrap_or_default())) }
            span.muted { ": each rotation adds a client secret and removes the one of two rotations ago; the previous one keeps working until the next rotation" }
        },
    )
}

fn okta_app(p: &Value) -> (&'static str, Markup) {
    (
        "App",
        html! {
            code { (p["clientId"].as_str().unwrap_or_default()) }
            span.muted { ": each rotation adds a client secret and deletes the one of two rotations ago; the previous one keeps working until the next rotation" }
        },
    )
}

fn ldap_account(p: &Value) -> (&'static str, Markup) {
    let by = match p["rotationMethod"].as_str() {
        Some("target-principal") => ": it changes its own password",
        _ => ": the connection's account changes its password",
    };
    (
        "Account",
        html! {
            code { (p["dn"].as_str().unwrap_or_default()) }
            span.muted { (by) ", and its previous password stops working at once" }
        },
    )
}

const TWO_USERS: [Field; 2] = [
    with(
        field("username1", "First user", Input::Text),
        "",
        "app_user_1",
    ),
    with(
        field("username2", "Second user", Input::Text),
        "",
        "app_user_2",
    ),
];

const TWO_USERS_HINT: &str = "Two existing users, used in turn: each rotation gives the inactive one a new password, so the active one keeps working until the next rotation. Rotary manages both passwords from now on.";
const TWO_USERS_FIRST: &str = "Creating the rotation also rotates once, right away: the first user gets a new password, Rotary logs in with it, and writes both secrets.";
const TWO_USERS_REVOKE: (&str, &str) = (
    "Revoke: give both users a random password nobody keeps. ",
    "Every consumer of them stops logging in.",
);

pub static ROTATION_FORMS: &[RotationForm] = &[
    RotationForm {
        slug: "postgres-credentials",
        short: "postgres",
        title: "PostgreSQL",
        hint: TWO_USERS_HINT,
        first_run: TWO_USERS_FIRST,
        parameters: &TWO_USERS,
        temporary: &[],
        settings: two_users,
        revoke: TWO_USERS_REVOKE,
    },
    RotationForm {
        slug: "mongodb-credentials",
        short: "mongodb",
        title: "MongoDB",
        hint: TWO_USERS_HINT,
        first_run: TWO_USERS_FIRST,
        parameters: &TWO_USERS,
        temporary: &[],
        settings: two_users,
        revoke: TWO_USERS_REVOKE,
    },
    RotationForm {
        slug: "mssql-credentials",
        short: "mssql",
        title: "Microsoft SQL Server",
        hint: "Two existing SQL Server logins, each with a user in the connection's database, used in turn: each rotation gives the inactive one a new password, so the active one keeps working until the next rotation. Rotary manages both passwords from now on.",
        first_run: TWO_USERS_FIRST,
        parameters: &TWO_USERS,
        temporary: &[],
        settings: two_users,
        revoke: TWO_USERS_REVOKE,
    },
    RotationForm {
        slug: "oracledb-credentials",
        short: "oracledb",
        title: "OracleDB",
        hint: "Two existing Oracle users, named exactly (a user created without quotes is UPPERCASE), used in turn: each rotation gives the inactive one a new 30-character password, so the active one keeps working until the next rotation. Rotary manages both passwords from now on.",
        first_run: TWO_USERS_FIRST,
        parameters: &TWO_USERS,
        temporary: &[],
        settings: two_users,
        revoke: TWO_USERS_REVOKE,
    },
    RotationForm {
        slug: "mysql-credentials",
        short: "mysql",
        title: "MySQL",
        hint: TWO_USERS_HINT,
        first_run: TWO_USERS_FIRST,
        parameters: &TWO_USERS,
        temporary: &[],
        settings: two_users,
        revoke: TWO_USERS_REVOKE,
    },
    RotationForm {
        slug: "redis-credentials",
        short: "redis",
        title: "Redis",
        hint: "Each rotation creates a new ACL user with a generated name and password and these rules, and deletes the user of two rotations ago: the previous user keeps working until the next rotation.",
        first_run: "Creating the rotation also creates the first user right away: Rotary logs in as it and writes both secrets.",
        parameters: &[with(
            field("permissionScope", "Permission scope (ACL rules)", Input::Text),
            "~* +@all",
            "~app:* +@read +@write",
        )],
        temporary: &[],
        settings: redis_scope,
        revoke: (
            "Revoke: delete the ACL users this rotation holds. ",
            "Every consumer of them stops logging in.",
        ),
    },
    RotationForm {
        slug: "ldap-password",
        short: "ldap",
        title: "LDAP",
        hint: "One directory account whose password each rotation changes. Single-phase: its previous password stops working at once, so its consumers must read the secret again. With connection-principal the connection's account resets it (or changes its own); with target-principal the account changes its own, with its current password given below once.",
        first_run: "Creating the rotation also rotates once, right away: the account gets a new password, Rotary binds with it, and writes both secrets.",
        parameters: &[
            with(
                field("dn", "Account (DN or UPN)", Input::Text),
                "",
                "CN=App,OU=Services,DC=corp,DC=example",
            ),
            with(
                field(
                    "rotationMethod",
                    "Who changes the password",
                    Input::Choice(&[
                        (
                            "connection-principal",
                            "The connection's account (connection-principal)",
                        ),
                        (
                            "target-principal",
                            "The account itself (target-principal)",
                        ),
                    ]),
                ),
                "connection-principal",
                "",
            ),
        ],
        temporary: &[optional(field(
            "password",
            "The account's current password (target-principal only; used once, never stored)",
            Input::Secret,
        ))],
        settings: ldap_account,
        revoke: (
            "Revoke: change the account's password to a random one nobody keeps. ",
            "Every consumer of it stops binding.",
        ),
    },
    RotationForm {
        slug: "auth0-client-secret",
        short: "auth0",
        title: "Auth0",
        hint: "An application of the tenant whose client secret each rotation replaces with one Rotary chooses. Single-phase: Auth0 keeps one secret per application, so the previous secret stops working at once and its consumers must read the secret again.",
        first_run: "Creating the rotation also rotates once, right away: the application gets a new secret, Rotary checks it at the token endpoint, and writes both secrets.",
        parameters: &[with(
            field("clientId", "Application (client id)", Input::Text),
            "",
            "",
        )],
        temporary: &[],
        settings: auth0_app,
        revoke: (
            "Revoke: have Auth0 generate a secret for the application that nobody keeps. ",
            "Every consumer of it stops authenticating.",
        ),
    },
    RotationForm {
        slug: "aws-iam-user-secret",
        short: "aws",
        title: "AWS IAM",
        hint: "An IAM user of its own (IAM allows two access keys per user, and Rotary never deletes a key it did not issue): each rotation creates an access key and deletes the one of two rotations ago, so the previous key keeps working until the next rotation.",
        first_run: "Creating the rotation also creates the first access key right away: Rotary waits until AWS accepts it and writes both secrets.",
        parameters: &[
            field("userName", "IAM user name", Input::Text),
            optional(with(
                field("region", "Region (default us-east-1)", Input::Text),
                "",
                "us-east-1",
            )),
        ],
        temporary: &[],
        settings: aws_user,
        revoke: (
            "Revoke: delete the access keys this rotation holds. ",
            "Every consumer of them stops authenticating.",
        ),
    },
    RotationForm {
        slug: "azure-client-secret",
        short: "azure",
        title: "Azure",
        hint: "An app registration of the tenant: each rotation adds a client secret (expiring after two intervals and three days) and removes the one of two rotations ago, so the previous secret keeps working until the next rotation. The secrets it had before stay.",
        first_run: "Creating the rotation also adds the first rotated secret right away: Rotary gets a token with it and writes both secrets.",
        parameters: &[
            field("objectId", "Object ID", Input::Text),
            field("clientId", "Client (application) ID", Input::Text),
            optional(field("appName", "Name (shown only)", Input::Text)),
        ],
        temporary: &[],
        settings: azure_app,
        revoke: (
            "Revoke: remove the client secrets this rotation holds. ",
            "Every consumer of them stops authenticating.",
        ),
    },
    RotationForm {
        slug: "okta-client-secret",
        short: "okta",
        title: "Okta",
        hint: "An OIDC app of the org, which must hold a single client secret now (Okta keeps two): each rotation adds a secret Rotary chooses and deletes the one of two rotations ago, so the previous secret keeps working until the next rotation.",
        first_run: "Creating the rotation also adds the first rotated secret right away: Rotary reads it back from Okta and writes both secrets.",
        parameters: &[with(
            field("clientId", "App (client id)", Input::Text),
            "",
            "0oa1b2c3d4e5f6g7h8i9",
        )],
        temporary: &[],
        settings: okta_app,
        revoke: (
            "Revoke: deactivate and delete the client secrets this rotation holds. ",
            "Every consumer of them stops authenticating.",
        ),
    },
];

pub fn rotation_form(short_or_slug: &str) -> Option<&'static RotationForm> {
    ROTATION_FORMS
        .iter()
        .find(|f| f.short == short_or_slug || f.slug == short_or_slug)
}

/// A posted form (or a new one's defaults): field name → value; an unchecked box is absent.
pub type Values = HashMap<String, String>;

/// A new form's values: each field's default.
pub fn defaults(fields: &[Field]) -> Values {
    fields
        .iter()
        .filter(|f| !f.default.is_empty())
        .map(|f| (f.name.to_string(), f.default.to_string()))
        .collect()
}

/// The body's object for `fields` from a posted form.
pub fn body(fields: &[Field], form: &Values) -> Value {
    let mut out = Map::new();
    for f in fields {
        let raw = form.get(f.name).map(String::as_str).unwrap_or_default();
        let value = match f.input {
            Input::Check => Value::Bool(form.contains_key(f.name)),
            Input::Secret if raw.is_empty() && !f.required => continue,
            Input::Secret => Value::String(raw.to_string()),
            _ if raw.trim().is_empty() && !f.required => continue,
            _ => Value::String(raw.trim().to_string()),
        };
        out.insert(f.name.to_string(), value);
    }
    Value::Object(out)
}

/// What a form shows again after an error: everything but its secrets.
pub fn without_secrets(fields: &[Field], mut form: Values) -> Values {
    for f in fields.iter().filter(|f| f.input == Input::Secret) {
        form.remove(f.name);
    }
    form
}

/// One field's label and input; `prefix` keeps ids unique on a page of several forms.
pub fn render(prefix: &str, f: &Field, values: &Values) -> Markup {
    let id = format!("{prefix}-{}", f.name);
    let value = values.get(f.name).map(String::as_str).unwrap_or_default();
    html! {
        @match f.input {
            Input::Check => {
                label.check {
                    input id=(id) type="checkbox" name=(f.name) value="true" checked[values.contains_key(f.name)];
                    span { (f.label) }
                }
            }
            Input::Pem => {
                label for=(id) { (f.label) }
                textarea id=(id) name=(f.name) rows="3" { (value) }
            }
            Input::Secret => {
                label for=(id) { (f.label) }
                input id=(id) name=(f.name) type="password" autocomplete="off" required[f.required];
            }
            Input::Number => {
                label for=(id) { (f.label) }
                input id=(id) name=(f.name) type="number" min="1" max="65535" value=(value) required[f.required];
            }
            Input::Choice(choices) => {
                label for=(id) { (f.label) }
                select id=(id) name=(f.name) {
                    @for (v, text) in choices {
                        option value=(v) selected[*v == value] { (text) }
                    }
                }
            }
            Input::Text => {
                label for=(id) { (f.label) }
                input id=(id) name=(f.name) value=(value) placeholder=(f.placeholder) autocomplete="off" required[f.required];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_becomes_the_api_s_body() {
        let redis = connection_form("redis").unwrap();
        let mut form = Values::new();
        for (k, v) in [
            ("host", " cache "),
            ("port", "6380"),
            ("username", "mgr"),
            ("password", ""),
            ("sslEnabled", "true"),
        ] {
            form.insert(k.into(), v.into());
        }
        assert_eq!(
            body(redis.fields, &form),
            serde_json::json!({"host": "cache", "port": "6380", "username": "mgr",
                               "sslEnabled": true, "sslRejectUnauthorized": false})
        );
        let shown = without_secrets(redis.fields, form);
        assert!(!shown.contains_key("password"));
        let fresh = defaults(redis.fields);
        assert_eq!(fresh["port"], "6379");
        assert_eq!(fresh["sslRejectUnauthorized"], "true");
    }

    #[test]
    fn a_choice_is_a_select_of_the_api_s_values() {
        let ldap = connection_form("ldap").unwrap();
        let fresh = defaults(ldap.fields);
        let html = render("ldap", &ldap.fields[0], &fresh).into_string();
        assert!(
            html.contains(r#"<select id="ldap-provider" name="provider">"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<option value="active-directory" selected>"#),
            "{html}"
        );
        assert!(html.contains(r#"<option value="open-ldap">"#), "{html}");
        let mut form = fresh;
        form.insert("provider".into(), "open-ldap".into());
        assert_eq!(body(ldap.fields, &form)["provider"], "open-ldap");
    }
}
