//! Talking to a directory (the `ldap3` crate, async over tokio, TLS through rustls with
//! ring): a connection that is always TLS (`ldaps://`, or `ldap://` upgraded with StartTLS)
//! to an address the URL guard allows, simple binds, resolving a UPN, and the password
//! change each directory takes. Passwords never reach a message: the directory's diagnostic
//! text is shown with every password in play masked.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ldap3::exop::PasswordModify;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Mod, Scope, SearchEntry};
use secrecy::{ExposeSecret, SecretString};

use crate::providers::ldap::wire::{LdapConnection, LdapProvider};
use crate::rotation::provider::{StepError, StepResult};

/// Infisical's LDAP timeout, for connecting and for each operation.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Masks every password in play in a directory's text.
fn masked(text: &str, secrets: &[&SecretString]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        let s = s.expose_secret();
        if !s.is_empty() {
            out = out.replace(s, "*******************");
        }
    }
    out
}

fn tls_config(pem: &str) -> Result<Arc<rustls::ClientConfig>, StepError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let bad = || {
        StepError::Fatal(
            "the connection's certificate is not a PEM certificate the directory can be checked against"
                .into(),
        )
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.map_err(|_| bad())?).map_err(|_| bad())?;
    }
    if roots.is_empty() {
        return Err(bad());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| bad())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A TLS connection to the connection's directory (not yet bound).
pub async fn connect(c: &LdapConnection, allow_internal: bool) -> StepResult<Ldap> {
    let url = url::Url::parse(&c.url)
        .map_err(|_| StepError::Fatal("the connection's URL is not an LDAP URL".into()))?;
    let ldaps = url.scheme().eq_ignore_ascii_case("ldaps");
    let host = url
        .host_str()
        .ok_or_else(|| StepError::Fatal("the connection's URL names no host".into()))?;
    let port = url.port().unwrap_or(if ldaps { 636 } else { 389 });
    crate::providers::url_guard::resolve_host(host, port, allow_internal)
        .await
        .map_err(StepError::Setup)?;
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(TIMEOUT)
        // No password is sent over a connection that is not TLS: ldap:// upgrades first.
        .set_starttls(!ldaps)
        .set_no_tls_verify(!c.ssl_reject_unauthorized);
    if let Some(pem) = c
        .ssl_certificate
        .as_deref()
        .filter(|_| c.ssl_reject_unauthorized)
    {
        settings = settings.set_config(tls_config(pem)?);
    }
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &c.url)
        .await
        .map_err(|e| describe(&e, c, "connect", &[]))?;
    ldap3::drive!(conn);
    ldap.with_timeout(TIMEOUT);
    Ok(ldap)
}

/// Binds as `dn` with `password`.
pub async fn bind(
    ldap: &mut Ldap,
    c: &LdapConnection,
    dn: &str,
    password: &SecretString,
) -> StepResult {
    let result = ldap
        .simple_bind(dn, password.expose_secret())
        .await
        .map_err(|e| describe(&e, c, "bind", &[password]))?;
    match result.rc {
        0 => Ok(()),
        49 => Err(StepError::Fatal(format!(
            "the directory refused the bind of \"{dn}\" (wrong password, or the account is locked or disabled)"
        ))),
        _ => Err(result_error(&result, "bind", &[password])),
    }
}

/// Connects and binds: does `dn` log in with `password`?
pub async fn check_bind(
    c: &LdapConnection,
    dn: &str,
    password: &SecretString,
    allow_internal: bool,
) -> StepResult {
    let mut ldap = connect(c, allow_internal).await?;
    let result = bind(&mut ldap, c, dn, password).await;
    let _ = ldap.unbind().await;
    result
}

/// A DN as is; a UPN looked up (`userPrincipalName`, under the `dc=` parts of its domain).
pub async fn resolve(ldap: &mut Ldap, c: &LdapConnection, dn: &str) -> StepResult<String> {
    let Some((_, domain)) = dn.split_once('@').filter(|_| !dn.contains('=')) else {
        return Ok(dn.to_string());
    };
    let base = domain
        .split('.')
        .map(|l| format!("dc={l}"))
        .collect::<Vec<_>>()
        .join(",");
    let filter = format!("(userPrincipalName={})", ldap3::ldap_escape(dn));
    let (entries, _) = ldap
        .search(&base, Scope::Subtree, &filter, vec!["1.1"])
        .await
        .map_err(|e| describe(&e, c, "search", &[]))?
        .success()
        .map_err(|e| describe(&e, c, "search", &[]))?;
    match entries.into_iter().next() {
        Some(entry) => Ok(SearchEntry::construct(entry).dn),
        None => Err(StepError::Fatal(format!("Unable to resolve DN for {dn}."))),
    }
}

/// AD's `unicodePwd` value: the password in double quotes, UTF-16LE.
pub fn unicode_pwd(password: &SecretString) -> Vec<u8> {
    format!("\"{}\"", password.expose_secret())
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect()
}

/// Sets `dn`'s password to `new`, bound as whoever may: with `old`, the principal changes its
/// own password (AD: delete the old value and add the new one; RFC 3062: oldPasswd); without,
/// an administrator resets it (AD: replace; RFC 3062: no oldPasswd).
pub async fn change_password(
    ldap: &mut Ldap,
    c: &LdapConnection,
    dn: &str,
    old: Option<&SecretString>,
    new: &SecretString,
) -> StepResult {
    let secrets: Vec<&SecretString> = old.into_iter().chain([new]).collect();
    let result = match c.provider {
        LdapProvider::OpenLdap => ldap
            .extended(PasswordModify {
                user_id: Some(dn),
                old_pass: old.map(|p| p.expose_secret()),
                new_pass: Some(new.expose_secret()),
            })
            .await
            .map(|r| r.1)
            .map_err(|e| describe(&e, c, "the Password Modify operation", &secrets))?,
        LdapProvider::ActiveDirectory => {
            let attr = b"unicodePwd".to_vec();
            let changes = match old {
                Some(old) => vec![
                    Mod::Delete(attr.clone(), HashSet::from([unicode_pwd(old)])),
                    Mod::Add(attr, HashSet::from([unicode_pwd(new)])),
                ],
                None => vec![Mod::Replace(attr, HashSet::from([unicode_pwd(new)]))],
            };
            ldap.modify(dn, changes)
                .await
                .map_err(|e| describe(&e, c, "the unicodePwd change", &secrets))?
        }
    };
    match result.rc {
        0 => Ok(()),
        50 => Err(StepError::Fatal(format!(
            "the directory does not let the bound principal change the password of \"{dn}\" (insufficient access: give it the right to reset passwords, or use target-principal)"
        ))),
        19 => Err(StepError::Fatal(format!(
            "the directory refused the new password of \"{dn}\" (constraint violation: {}); check its password policy against the rotation's password requirements",
            masked(&result.text, &secrets)
        ))),
        32 => Err(StepError::Fatal(format!("the directory has no entry \"{dn}\""))),
        _ => Err(result_error(&result, "the password change", &secrets)),
    }
}

fn result_error(result: &ldap3::LdapResult, what: &str, secrets: &[&SecretString]) -> StepError {
    let text = masked(&result.text, secrets);
    let detail = if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    };
    match result.rc {
        // busy, unavailable, unwilling to perform because of load, other
        51 | 52 => StepError::Transient(format!(
            "the directory is busy or unavailable for {what} (result {}){detail}",
            result.rc
        )),
        rc => StepError::Fatal(format!(
            "the directory refused {what} (result {rc}){detail}"
        )),
    }
}

/// An LDAP failure in Rotary's words.
pub fn describe(
    e: &LdapError,
    c: &LdapConnection,
    what: &str,
    secrets: &[&SecretString],
) -> StepError {
    match e {
        LdapError::LdapResult { result } => result_error(result, what, secrets),
        LdapError::Timeout { .. } => StepError::Transient(format!(
            "the directory at {} did not answer {what} within {} s",
            c.url,
            TIMEOUT.as_secs()
        )),
        LdapError::Io { source } if source.kind() == std::io::ErrorKind::ConnectionRefused => {
            StepError::Transient(format!(
                "the directory at {} refused the connection (is it running?)",
                c.url
            ))
        }
        other => {
            let text = other.to_string().to_lowercase();
            if ["certificate", "tls", "handshake", "dns name"]
                .iter()
                .any(|w| text.contains(w))
            {
                StepError::Fatal(format!(
                    "the TLS handshake with the directory at {} failed (is the certificate trusted, does it name the host, and does an ldap:// server offer StartTLS?)",
                    c.url
                ))
            } else {
                StepError::Transient(format!(
                    "the connection to the directory at {} failed",
                    c.url
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unicode_pwd_is_the_quoted_password_in_utf16le() {
        let v = super::unicode_pwd(&secrecy::SecretString::from("aé"));
        assert_eq!(v, vec![0x22, 0, 0x61, 0, 0xe9, 0, 0x22, 0]);
    }
}
