//! Request extractors that answer bad input in Infisical's error shape: `ApiJson` for bodies,
//! `ApiInput` for GET/DELETE inputs that clients send in the query, the body, or both.
//! Unknown keys are ignored everywhere, as zod strips them.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, Issue};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body, deserialized and then validated.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = header_content_type(&req);
        let bytes = read_body(req, state).await?;
        let value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            if !is_json(content_type.as_deref()) {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "Unsupported Media Type: {}; send the body as JSON with 'Content-Type: application/json'",
                    content_type.unwrap_or_else(|| "none".into())
                )));
            }
            parse_json(&bytes)?
        };
        if !value.is_object() {
            let received = match value {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                _ => "null",
            };
            return Err(ApiError::invalid(
                "invalid_type",
                &[],
                format!("Expected object, received {received}"),
            ));
        }
        Ok(ApiJson(from_value(value)?))
    }
}

/// Input of a GET or DELETE: the query string merged with a JSON body when there is one (the
/// SDKs send DELETE parameters in the body, and one of them repeats GET queries as a body).
/// A body that is not a JSON object is ignored, never an error.
pub struct ApiInput<T>(pub T);

impl<S, T> FromRequest<S> for ApiInput<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mut merged = query_map(req.uri().query().unwrap_or(""));
        let bytes = read_body(req, state).await?;
        if let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&bytes) {
            merged.extend(body);
        }
        Ok(ApiInput(from_value(Value::Object(merged))?))
    }
}

fn header_content_type(req: &Request) -> Option<String> {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        mime == "application/json" || mime.ends_with("+json")
    })
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(_) if rejection.status().as_u16() == 413 => {
                ApiError::PayloadTooLarge(format!(
                    "Request body is larger than the limit of {MAX_BODY_BYTES} bytes"
                ))
            }
            other => ApiError::bad_request(format!("Could not read the request body: {other}")),
        })
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|err| ApiError::bad_request(format!("Body is not valid JSON: {err}")))
}

/// The query string as a JSON object of strings; the last of repeated keys wins.
pub fn query_map(query: &str) -> Map<String, Value> {
    url_decode_pairs(query)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

fn url_decode_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    fn hex_digit(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi * 16 + lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Deserializes with the path of the first problem, then runs the `validator` rules, and turns
/// both into zod-like issues.
pub fn from_value<T: DeserializeOwned + Validate>(value: Value) -> Result<T, ApiError> {
    refuse_nul(&value, &mut Vec::new())?;
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|err| {
        let mut path: Vec<Value> = err
            .path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Map { key } => Some(Value::String(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(Value::from(*index)),
                _ => None,
            })
            .collect();
        let text = err.inner().to_string();
        let (code, message) = if let Some(field) = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            path.push(Value::String(field.to_string()));
            ("invalid_type", "Required".to_string())
        } else if let Some(rest) = text.strip_prefix("invalid type: ") {
            let (received, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
            (
                "invalid_type",
                format!(
                    "Expected {}, received {}",
                    expected_kind(expected),
                    received_kind(received)
                ),
            )
        } else if text.starts_with("invalid value") || text.starts_with("unknown variant") {
            ("invalid_enum_value", text)
        } else {
            ("custom", text)
        };
        ApiError::Validation(vec![Issue {
            code: code.into(),
            path,
            message,
        }])
    })?;
    parsed
        .validate()
        .map_err(|errors| ApiError::Validation(validation_issues(&errors, &[])))?;
    Ok(parsed)
}

const NUL_MESSAGE: &str = "String must not contain NUL (\\u0000) characters";

/// Postgres cannot store NUL characters in text or jsonb: refuse them up front, with the path
/// of the first one, rather than failing at the database.
fn refuse_nul(value: &Value, path: &mut Vec<Value>) -> Result<(), ApiError> {
    let fail = |path: &[Value]| {
        ApiError::Validation(vec![Issue {
            code: "invalid_string".into(),
            path: path.to_vec(),
            message: NUL_MESSAGE.into(),
        }])
    };
    match value {
        Value::String(text) if text.contains('\0') => Err(fail(path)),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            path.push(Value::from(i));
            refuse_nul(item, path)?;
            path.pop();
            Ok(())
        }),
        Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            path.push(Value::String(key.clone()));
            if key.contains('\0') {
                return Err(fail(path));
            }
            refuse_nul(item, path)?;
            path.pop();
            Ok(())
        }),
        _ => Ok(()),
    }
}

/// zod's name for what serde expected: `a string` is `string`, `struct Foo` is `object`.
fn expected_kind(serde_text: &str) -> &str {
    let text = serde_text
        .trim_start_matches("a ")
        .trim_start_matches("an ");
    if text.starts_with("struct") || text.starts_with("map") {
        "object"
    } else if text.starts_with("sequence") {
        "array"
    } else if text.starts_with("string") || text.starts_with("UUID") {
        "string"
    } else if text.starts_with("bool") {
        "boolean"
    } else if text.starts_with('i') || text.starts_with('u') || text.starts_with('f') {
        "number"
    } else {
        text
    }
}

fn received_kind(serde_text: &str) -> &str {
    let first = serde_text.split_whitespace().next().unwrap_or("");
    match first {
        "string" => "string",
        "integer" | "floating" => "number",
        "boolean" => "boolean",
        "null" | "unit" => "null",
        "map" => "object",
        "sequence" => "array",
        _ => "string",
    }
}

/// `validator` reports Rust field names; the wire uses camelCase.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn validation_issues(errors: &ValidationErrors, prefix: &[Value]) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut fields: Vec<_> = errors.errors().iter().collect();
    fields.sort_by_key(|(name, _)| name.to_string());
    for (field, kind) in fields {
        let mut path = prefix.to_vec();
        path.push(Value::String(camel_case(field)));
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let code = match e.code.as_ref() {
                        "length" | "range" => {
                            if e.params.contains_key("min") && !is_above_min(e) {
                                "too_small"
                            } else {
                                "too_big"
                            }
                        }
                        "regex" => "invalid_string",
                        other => other,
                    };
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| format!("Invalid {}", camel_case(field)));
                    issues.push(Issue {
                        code: code.to_string(),
                        path: path.clone(),
                        message,
                    });
                }
            }
            ValidationErrorsKind::Struct(inner) => issues.extend(validation_issues(inner, &path)),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    let mut item_path = path.clone();
                    item_path.push(Value::from(*index));
                    issues.extend(validation_issues(inner, &item_path));
                }
            }
        }
    }
    issues
}

/// Whether a failed length/range check failed on the upper bound (the value is at least min).
fn is_above_min(e: &validator::ValidationError) -> bool {
    let min = e.params.get("min").and_then(Value::as_f64);
    let value = match e.params.get("value") {
        Some(Value::String(s)) => Some(s.chars().count() as f64),
        Some(Value::Array(a)) => Some(a.len() as f64),
        Some(v) => v.as_f64(),
        None => None,
    };
    matches!((min, value), (Some(min), Some(value)) if value >= min)
}

/// A boolean that also accepts the strings `true`/`false` in any case, as query strings and
/// some SDK bodies carry them.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Bool(b)) => Ok(Some(b)),
        Some(Raw::Text(t)) if t.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Raw::Text(t)) if t.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(Raw::Text(t)) => Err(serde::de::Error::custom(format!(
            "Expected 'true' or 'false', received '{t}'"
        ))),
    }
}

/// A whole number that query strings carry as text (`?limit=5`).
pub fn lenient_integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("Expected integer")),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("Expected integer, received '{s}'"))),
        Some(_) => Err(serde::de::Error::custom("Expected integer")),
    }
}

/// Path parameters; a malformed one (an id that is not a UUID) is a 422, not axum's plain text.
pub struct ApiPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        use axum::extract::rejection::PathRejection;
        if let Ok(raw) = axum::extract::RawPathParams::from_request_parts(parts, state).await {
            if let Some((key, _)) = raw.iter().find(|(_, value)| value.contains('\0')) {
                return Err(ApiError::invalid("invalid_string", &[key], NUL_MESSAGE));
            }
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(err)) => {
                let message = err.body_text();
                let name = match err.into_kind() {
                    axum::extract::path::ErrorKind::ParseErrorAtKey { key, .. } => key,
                    _ => String::new(),
                };
                let path: Vec<&str> = if name.is_empty() { vec![] } else { vec![&name] };
                Err(ApiError::invalid("invalid_string", &path, message))
            }
            Err(other) => Err(ApiError::Internal(anyhow::anyhow!(
                "path extraction: {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_strings_decode_like_browsers_send_them() {
        let map = query_map("secretPath=%2Fapps%2Fbilling&recursive=False&a=1&a=2&flag&x=a+b");
        assert_eq!(map["secretPath"], "/apps/billing");
        assert_eq!(map["recursive"], "False");
        assert_eq!(map["a"], "2");
        assert_eq!(map["flag"], "");
        assert_eq!(map["x"], "a b");
        assert_eq!(query_map("bad=%zz%")["bad"], "%zz%");
    }

    #[test]
    fn nul_characters_are_refused_with_their_path() {
        let value = serde_json::json!({"a": [1, {"b": "x\0y"}]});
        match refuse_nul(&value, &mut Vec::new()) {
            Err(ApiError::Validation(issues)) => {
                assert_eq!(issues[0].path, vec![json!("a"), json!(1), json!("b")]);
                assert_eq!(issues[0].message, NUL_MESSAGE);
            }
            other => panic!("{other:?}"),
        }
        assert!(refuse_nul(&json!({"ok": ["fine"]}), &mut Vec::new()).is_ok());
    }

    #[test]
    fn snake_case_becomes_camel_case() {
        assert_eq!(camel_case("rotate_at_utc"), "rotateAtUtc");
        assert_eq!(camel_case("name"), "name");
    }
}
