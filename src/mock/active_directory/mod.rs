//! A mock Active Directory, for the `active-directory` provider of `ldap-password`: an LDAPS
//! server (TLS only, as AD requires for password changes) on `ldap3_proto`'s codec that
//! enforces what AD does with `unicodePwd` (Microsoft's "Set a Windows Active Directory user
//! password through LDAP", MS-ADTS 3.1.1.3.1.5):
//!
//! - the value is the password in double quotes, UTF-16LE; anything else is refused;
//! - a user changes its own password with one modify that deletes the old value and adds the
//!   new one; the old value must be its current password;
//! - an administrator resets another's with a replace; anyone else gets insufficient access;
//! - a user's new password that is in its history (the last three) is a constraint violation
//!   (`0000052D`); an administrator's reset is not checked against it;
//! - binds take a DN or a UPN; searches need a bind; `(userPrincipalName=…)` finds an account.
//!
//! What it does not model: referrals, password age and complexity rules, lockout, other
//! attributes and object classes, StartTLS, SASL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use ldap3_proto::proto::{
    LdapBindCred, LdapBindResponse, LdapFilter, LdapModifyType, LdapMsg, LdapOp,
    LdapPartialAttribute, LdapResult, LdapResultCode, LdapSearchResultEntry,
};
use ldap3_proto::LdapCodec;
use tokio::net::TcpListener;
use tokio_util::codec::{FramedRead, FramedWrite};

/// How many passwords an account remembers (the current one included).
pub const HISTORY: usize = 3;

#[derive(Clone, Debug)]
struct Account {
    dn: String,
    upn: String,
    /// Newest last; the last is the current password.
    history: Vec<String>,
    admin: bool,
}

#[derive(Default)]
struct Directory {
    accounts: HashMap<String, Account>,
    /// Password changes applied, by DN (tests count them).
    changes: HashMap<String, u32>,
}

/// The running mock: add accounts and read what it holds.
#[derive(Clone)]
pub struct MockDirectory {
    inner: Arc<Mutex<Directory>>,
}

fn key(dn: &str) -> String {
    dn.split(',')
        .map(|p| p.trim().to_lowercase())
        .collect::<Vec<_>>()
        .join(",")
}

impl MockDirectory {
    /// An account with `password`; `admin` accounts may reset others' passwords.
    pub fn add_account(&self, dn: &str, upn: &str, password: &str, admin: bool) {
        self.inner.lock().unwrap().accounts.insert(
            key(dn),
            Account {
                dn: dn.to_string(),
                upn: upn.to_string(),
                history: vec![password.to_string()],
                admin,
            },
        );
    }

    /// Whether `dn_or_upn` binds with `password` now.
    pub fn accepts(&self, dn_or_upn: &str, password: &str) -> bool {
        let d = self.inner.lock().unwrap();
        find(&d, dn_or_upn).is_some_and(|a| a.history.last().map(String::as_str) == Some(password))
    }

    /// Sets a password as a domain administrator would, behind Rotary's back.
    pub fn set_password(&self, dn: &str, password: &str) {
        let mut d = self.inner.lock().unwrap();
        if let Some(a) = d.accounts.get_mut(&key(dn)) {
            a.history.push(password.to_string());
        }
    }

    /// How many password changes the account has had through LDAP.
    pub fn changes(&self, dn: &str) -> u32 {
        self.inner
            .lock()
            .unwrap()
            .changes
            .get(&key(dn))
            .copied()
            .unwrap_or(0)
    }
}

fn find<'a>(d: &'a Directory, dn_or_upn: &str) -> Option<&'a Account> {
    d.accounts.get(&key(dn_or_upn)).or_else(|| {
        d.accounts
            .values()
            .find(|a| a.upn.eq_ignore_ascii_case(dn_or_upn.trim()))
    })
}

/// Serves the mock on `listener` over TLS with `cert_pem`/`key_pem`.
pub async fn spawn(
    listener: TcpListener,
    cert_pem: &str,
    key_pem: &str,
) -> anyhow::Result<MockDirectory> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs =
        CertificateDer::pem_slice_iter(cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let directory = MockDirectory {
        inner: Arc::new(Mutex::new(Directory::default())),
    };
    let served = directory.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, directory) = (acceptor.clone(), served.clone());
            tokio::spawn(async move {
                // Not TLS (a plain ldap:// client): the handshake fails and the socket closes.
                if let Ok(stream) = acceptor.accept(socket).await {
                    session(stream, directory).await;
                }
            });
        }
    });
    Ok(directory)
}

fn result(code: LdapResultCode, message: &str) -> LdapResult {
    LdapResult {
        code,
        matcheddn: String::new(),
        message: message.to_string(),
        referral: Vec::new(),
    }
}

/// AD's texts for the refusals Rotary meets.
const INVALID_CREDENTIALS: &str =
    "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563";
const BIND_FIRST: &str = "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, v4563";
const INSUFFICIENT_ACCESS: &str =
    "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFFICIENT_ACCESS_RIGHTS), data 0";
const WRONG_OLD_PASSWORD: &str = "00000056: AtrErr: DSID-03190F80, #1:\n\t0: 00000056: DSID-03190F80, problem 1005 (CONSTRAINT_ATT_TYPE), data 0, Att 9005a (unicodePwd)";
const IN_HISTORY: &str = "0000052D: SvcErr: DSID-031A1236, problem 5003 (WILL_NOT_PERFORM), data 0";
const NOT_UNICODE_PWD: &str =
    "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0";

/// The password in a `unicodePwd` value, if it is one: `"…"` in UTF-16LE.
fn decode(value: &[u8]) -> Option<String> {
    if !value.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = value
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).ok()?;
    text.strip_prefix('"')?
        .strip_suffix('"')
        .map(str::to_string)
}

async fn session<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: S,
    directory: MockDirectory,
) {
    let (r, w) = tokio::io::split(stream);
    let mut requests = FramedRead::new(r, LdapCodec::default());
    let mut responses = FramedWrite::new(w, LdapCodec::default());
    let mut bound: Option<String> = None;
    while let Some(Ok(msg)) = requests.next().await {
        let id = msg.msgid;
        let reply = |op: LdapOp| LdapMsg {
            msgid: id,
            op,
            ctrl: Vec::new(),
        };
        let out: Vec<LdapMsg> = match msg.op {
            LdapOp::BindRequest(req) => {
                let LdapBindCred::Simple(password) = req.cred else {
                    let res = result(LdapResultCode::AuthMethodNotSupported, "");
                    let _ = responses
                        .send(reply(LdapOp::BindResponse(LdapBindResponse {
                            res,
                            saslcreds: None,
                        })))
                        .await;
                    continue;
                };
                let d = directory.inner.lock().unwrap();
                let account = find(&d, &req.dn)
                    .filter(|a| a.history.last() == Some(&password))
                    .cloned();
                drop(d);
                let res = match account {
                    Some(a) => {
                        bound = Some(a.dn);
                        result(LdapResultCode::Success, "")
                    }
                    None => {
                        bound = None;
                        result(LdapResultCode::InvalidCredentials, INVALID_CREDENTIALS)
                    }
                };
                vec![reply(LdapOp::BindResponse(LdapBindResponse {
                    res,
                    saslcreds: None,
                }))]
            }
            LdapOp::UnbindRequest => return,
            LdapOp::SearchRequest(req) => {
                if bound.is_none() {
                    vec![reply(LdapOp::SearchResultDone(result(
                        LdapResultCode::OperationsError,
                        BIND_FIRST,
                    )))]
                } else {
                    let d = directory.inner.lock().unwrap();
                    let base = key(&req.base);
                    let mut out: Vec<LdapMsg> = d
                        .accounts
                        .values()
                        .filter(|a| key(&a.dn).ends_with(&base))
                        .filter(|a| match &req.filter {
                            LdapFilter::Equality(attr, value)
                                if attr.eq_ignore_ascii_case("userPrincipalName") =>
                            {
                                a.upn.eq_ignore_ascii_case(value)
                            }
                            LdapFilter::Present(attr) => attr.eq_ignore_ascii_case("objectClass"),
                            _ => false,
                        })
                        .map(|a| {
                            reply(LdapOp::SearchResultEntry(LdapSearchResultEntry {
                                dn: a.dn.clone(),
                                attributes: vec![LdapPartialAttribute {
                                    atype: "userPrincipalName".into(),
                                    vals: vec![a.upn.clone().into_bytes()],
                                }],
                            }))
                        })
                        .collect();
                    out.push(reply(LdapOp::SearchResultDone(result(
                        LdapResultCode::Success,
                        "",
                    ))));
                    out
                }
            }
            LdapOp::ModifyRequest(req) => {
                let res = modify(&directory, bound.as_deref(), &req.dn, &req.changes);
                vec![reply(LdapOp::ModifyResponse(res))]
            }
            LdapOp::AbandonRequest(_) => continue,
            _ => vec![reply(LdapOp::ModifyResponse(result(
                LdapResultCode::UnwillingToPerform,
                NOT_UNICODE_PWD,
            )))],
        };
        for m in out {
            if responses.send(m).await.is_err() {
                return;
            }
        }
    }
}

fn modify(
    directory: &MockDirectory,
    bound: Option<&str>,
    dn: &str,
    changes: &[ldap3_proto::proto::LdapModify],
) -> LdapResult {
    let Some(bound) = bound else {
        return result(LdapResultCode::OperationsError, BIND_FIRST);
    };
    if changes.is_empty()
        || !changes
            .iter()
            .all(|c| c.modification.atype.eq_ignore_ascii_case("unicodePwd"))
    {
        return result(LdapResultCode::UnwillingToPerform, NOT_UNICODE_PWD);
    }
    let mut values = Vec::new();
    for c in changes {
        if c.modification.vals.len() != 1 {
            return result(LdapResultCode::UnwillingToPerform, NOT_UNICODE_PWD);
        }
        match decode(&c.modification.vals[0]) {
            Some(p) => values.push((c.operation.clone(), p)),
            None => return result(LdapResultCode::UnwillingToPerform, NOT_UNICODE_PWD),
        }
    }
    let mut d = directory.inner.lock().unwrap();
    let binder_admin = d.accounts.get(&key(bound)).is_some_and(|a| a.admin);
    let Some(target) = d.accounts.get_mut(&key(dn)) else {
        return result(
            LdapResultCode::NoSuchObject,
            "0000208D: NameErr: DSID-0310028D, problem 2001 (NO_OBJECT), data 0",
        );
    };
    let self_change = key(&target.dn) == key(bound);
    let new = match values.as_slice() {
        // A change of one's own password: delete the old value, add the new one.
        [(LdapModifyType::Delete, old), (LdapModifyType::Add, new)] if self_change => {
            if target.history.last() != Some(old) {
                return result(LdapResultCode::ConstraintViolation, WRONG_OLD_PASSWORD);
            }
            new.clone()
        }
        // An administrator's reset.
        [(LdapModifyType::Replace, new)] if binder_admin => new.clone(),
        [(LdapModifyType::Replace, _)]
        | [(LdapModifyType::Delete, _), (LdapModifyType::Add, _)] => {
            return result(LdapResultCode::InsufficentAccessRights, INSUFFICIENT_ACCESS)
        }
        _ => return result(LdapResultCode::UnwillingToPerform, NOT_UNICODE_PWD),
    };
    // AD enforces the history on a change, not on an administrator's reset.
    if self_change && target.history.iter().rev().take(HISTORY).any(|p| *p == new) {
        return result(LdapResultCode::ConstraintViolation, IN_HISTORY);
    }
    target.history.push(new);
    let k = key(&target.dn);
    *d.changes.entry(k).or_default() += 1;
    result(LdapResultCode::Success, "")
}
