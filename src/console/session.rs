//! Console sessions: the session cookie holds an access token from a universal-auth login
//! (HttpOnly, SameSite=Strict, Secure behind TLS), so a session expires, renews and is revoked
//! exactly like an API token. Forms carry a CSRF token bound to the session (an HMAC under
//! the root key, the same in every replica); the sign-in form, before any session, uses a
//! double-submit cookie.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::{check_token, Auth};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "rotary_session";
pub const SIGN_IN_CSRF_COOKIE: &str = "rotary_signin_csrf";

/// A signed-in person: the identity behind the session's token.
pub struct Session {
    pub auth: Auth,
    pub token: String,
    /// What this session's forms must send back as `csrf`.
    pub csrf: String,
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The CSRF token of a session: the first 32 hex digits of HMAC-SHA256(root key, label+token).
pub fn csrf_for(state: &AppState, token: &str) -> String {
    let mut mac = state
        .root_key
        .fingerprint(format!("rotary-console-csrf\0{token}").as_bytes());
    mac.truncate(32);
    mac
}

/// Compares in constant time, so a guess learns nothing from the timing.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether the request came over TLS (directly or through a proxy that says so).
pub fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value for an HttpOnly, SameSite=Strict cookie (`max_age` 0 removes it).
pub fn set_cookie(name: &str, value: &str, max_age: i64, tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are URL-safe base64 or hex")
}

/// Where a request without a (valid) session goes: the sign-in page, saying why.
pub struct SignInFirst {
    expired: bool,
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let to = if self.expired {
            "/console/sign-in?expired=1"
        } else {
            "/console/sign-in"
        };
        let mut response = StatusCode::SEE_OTHER.into_response();
        response
            .headers_mut()
            .insert(LOCATION, HeaderValue::from_static(to));
        if self.expired {
            // The dead token is of no use to the browser either.
            response.headers_mut().insert(
                axum::http::header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, "", 0, false),
            );
        }
        response
    }
}

/// `Option<Session>`: pages that also serve people who are not signed in.
impl axum::extract::OptionalFromRequestParts<AppState> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <Session as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, SignInFirst> {
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|t| !t.is_empty())
            .ok_or(SignInFirst { expired: false })?
            .to_string();
        let row = check_token(state, &token)
            .await
            .map_err(|_| SignInFirst { expired: true })?;
        Ok(Session {
            auth: Auth {
                identity_id: row.identity_id,
                identity_name: row.identity_name,
                org_id: row.org_id,
                org_role: row.org_role,
                token_id: row.id,
            },
            csrf: csrf_for(state, &token),
            token,
        })
    }
}
