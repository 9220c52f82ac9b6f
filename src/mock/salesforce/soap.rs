//! The SOAP Metadata API calls a rotation server makes to disable OAuth on an External Client
//! App (reference section 6): `updateMetadata`, `readMetadata` and `listMetadata` of
//! `ExtlClntAppConfigurablePolicies`. Parsing is namespace-agnostic (local names only), as
//! jsforce and zeep use different prefixes.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::model::Org;
use super::{rest, Reply, Req};

const POLICY_TYPE: &str = "ExtlClntAppConfigurablePolicies";

/// A parsed XML element, by local names.
#[derive(Debug, Default, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    name.rsplit(':').next().unwrap_or_default().to_string()
}

pub fn parse(xml: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                stack.push(element(&e)?);
            }
            Event::Empty(e) => {
                let el = element(&e)?;
                stack.last_mut().expect("root").children.push(el);
            }
            Event::End(_) => {
                let done = stack.pop().ok_or("unbalanced XML")?;
                stack
                    .last_mut()
                    .ok_or("unbalanced XML")?
                    .children
                    .push(done);
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| e.to_string())?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err("unclosed element".into());
    }
    stack
        .pop()
        .and_then(|root| root.children.into_iter().next())
        .ok_or_else(|| "empty document".into())
}

fn element(e: &quick_xml::events::BytesStart) -> Result<Element, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let value = a.unescape_value().map_err(|e| e.to_string())?.to_string();
        attrs.push((local(a.key.as_ref()), value));
    }
    Ok(Element {
        name: local(e.name().as_ref()),
        attrs,
        text: String::new(),
        children: vec![],
    })
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).to_string()
}

fn envelope(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns=\"http://soap.sforce.com/2006/04/metadata\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
}

pub fn fault(code: &str, message: &str) -> Reply {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:sf=\"http://soap.sforce.com/2006/04/metadata\"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
        escape(&format!("{code}: {message}"))
    );
    Reply::xml(500, body)
}

/// Which metadata operation a SOAP body calls (for fault rules and the log).
pub fn operation(body: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(body);
    if text.contains("updateMetadata") {
        "metadata_update"
    } else if text.contains("readMetadata") {
        "metadata_read"
    } else if text.contains("listMetadata") {
        "metadata_list"
    } else {
        "metadata_other"
    }
}

pub fn handle(org: &mut Org, req: &Req, version: u32) -> Reply {
    let text = String::from_utf8_lossy(&req.body);
    let doc = match parse(&text) {
        Ok(doc) if doc.name == "Envelope" => doc,
        _ => return fault("INVALID_XML", "The request is not a SOAP envelope"),
    };
    let token = doc.find("sessionId").map(|s| s.text.trim().to_string());
    let session = match rest::session_for(org, token.as_deref()) {
        Ok(s) => s,
        Err(_) => {
            return fault(
                "INVALID_SESSION_ID",
                "Invalid Session ID found in SessionHeader: Illegal Session",
            )
        }
    };
    if version < 60 {
        return fault(
            "INVALID_TYPE",
            &format!("Cannot use: {POLICY_TYPE} in this version"),
        );
    }
    if !org.settings.metadata_api_enabled {
        return fault(
            "API_DISABLED_FOR_ORG",
            "API is not enabled for this Organization or Partner",
        );
    }
    let allowed = org
        .users
        .get(&session.user)
        .is_some_and(|u| u.active && u.modify_metadata && u.eca_policy_admin);
    if !allowed {
        return fault(
            "INSUFFICIENT_ACCESS",
            "insufficient access rights on object id",
        );
    }
    let Some(body) = doc.child("Body").and_then(|b| b.children.first()) else {
        return fault("INVALID_XML", "The SOAP body is empty");
    };
    match body.name.as_str() {
        "updateMetadata" => update(org, body),
        "readMetadata" => read(org, body),
        "listMetadata" => list(org, body),
        other => fault(
            "UNKNOWN_EXCEPTION",
            &format!("Operation {other} is not supported by this mock"),
        ),
    }
}

fn parse_bool(text: Option<&str>) -> Option<bool> {
    text.map(|t| t.eq_ignore_ascii_case("true"))
}

fn update(org: &mut Org, call: &Element) -> Reply {
    let items: Vec<&Element> = call.children_named("metadata").collect();
    if items.len() > 10 {
        return fault(
            "INVALID_ARGUMENT",
            "Cannot update more than 10 metadata components per call",
        );
    }
    let mut results = String::new();
    for item in items {
        let type_name = item
            .attr("type")
            .map(|t| t.rsplit(':').next().unwrap_or(t).to_string())
            .unwrap_or_default();
        let full_name = item.text_of("fullName").unwrap_or_default().to_string();
        let error = |message: String, code: &str| {
            format!(
                "<result><errors><message>{}</message><statusCode>{code}</statusCode></errors><fullName>{}</fullName><success>false</success></result>",
                escape(&message),
                escape(&full_name)
            )
        };
        if type_name != POLICY_TYPE {
            results.push_str(&error(
                format!("Unsupported metadata type: {type_name}"),
                "INVALID_TYPE",
            ));
            continue;
        }
        let Some(ai) = org
            .apps
            .iter()
            .position(|a| a.policy_full_name == full_name)
        else {
            results.push_str(&error(
                format!("In field: fullName - no {POLICY_TYPE} named {full_name} found"),
                "INVALID_CROSS_REFERENCE_KEY",
            ));
            continue;
        };
        if let Some(eca) = item.text_of("externalClientApplication") {
            if eca != org.apps[ai].developer_name {
                results.push_str(&error(
                    format!("In field: externalClientApplication - no ExternalClientApplication named {eca} found"),
                    "INVALID_CROSS_REFERENCE_KEY",
                ));
                continue;
            }
        }
        let is_enabled = parse_bool(item.text_of("isEnabled"));
        let oauth = parse_bool(item.text_of("isOauthPluginEnabled"));
        let mode = org.knobs.metadata_missing_required.clone();
        if mode == "strict"
            && (is_enabled.is_none() || item.text_of("externalClientApplication").is_none())
        {
            results.push_str(&error(
                "Required fields are missing: [isEnabled, externalClientApplication]".into(),
                "REQUIRED_FIELD_MISSING",
            ));
            continue;
        }
        let default = |v: Option<bool>, current: bool| {
            if mode == "overwrite" {
                v.unwrap_or(true)
            } else {
                v.unwrap_or(current)
            }
        };
        let app = &mut org.apps[ai];
        app.plugins_enabled = default(is_enabled, app.plugins_enabled);
        app.oauth_enabled = default(oauth, app.oauth_enabled);
        let disabled = !app.oauth_enabled || !app.plugins_enabled;
        let app_id = app.id.clone();
        if disabled && org.knobs.revoke_sessions_on_oauth_disable {
            for s in org.sessions.values_mut().filter(|s| s.app == app_id) {
                s.revoked = true;
            }
        }
        org.event(
            if disabled {
                "oauth_disabled"
            } else {
                "oauth_enabled"
            },
            &app_id,
            None,
            None,
        );
        results.push_str(&format!(
            "<result><fullName>{}</fullName><success>true</success></result>",
            escape(&full_name)
        ));
    }
    Reply::xml(
        200,
        envelope(&format!(
            "<updateMetadataResponse>{results}</updateMetadataResponse>"
        )),
    )
}

fn policy_record(app: &super::model::App) -> String {
    format!(
        "<records xsi:type=\"{POLICY_TYPE}\"><fullName>{}</fullName><externalClientApplication>{}</externalClientApplication><isEnabled>{}</isEnabled><isOauthPluginEnabled>{}</isOauthPluginEnabled></records>",
        escape(&app.policy_full_name),
        escape(&app.developer_name),
        app.plugins_enabled,
        app.oauth_enabled
    )
}

fn read(org: &Org, call: &Element) -> Reply {
    let records: String = call
        .children_named("fullNames")
        .filter_map(|n| {
            org.apps
                .iter()
                .find(|a| a.policy_full_name == n.text.trim())
        })
        .map(policy_record)
        .collect();
    Reply::xml(
        200,
        envelope(&format!(
            "<readMetadataResponse><result>{records}</result></readMetadataResponse>"
        )),
    )
}

fn list(org: &Org, call: &Element) -> Reply {
    let wants = call
        .children_named("queries")
        .any(|q| q.text_of("type") == Some(POLICY_TYPE));
    let results: String = if wants {
        org.apps
            .iter()
            .map(|a| {
                format!(
                    "<result><fileName>extlClntAppPolicies/{0}.ecaPlcy</fileName><fullName>{0}</fullName><id>{1}</id><type>{POLICY_TYPE}</type></result>",
                    escape(&a.policy_full_name),
                    escape(&a.id)
                )
            })
            .collect()
    } else {
        String::new()
    };
    Reply::xml(
        200,
        envelope(&format!(
            "<listMetadataResponse>{results}</listMetadataResponse>"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_jsforce_and_zeep_envelopes_alike() {
        let jsforce = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header xmlns="http://soap.sforce.com/2006/04/metadata"><SessionHeader><sessionId>TOKEN</sessionId></SessionHeader></soapenv:Header><soapenv:Body xmlns="http://soap.sforce.com/2006/04/metadata"><updateMetadata><metadata xsi:type="ExtlClntAppConfigurablePolicies"><fullName>Billing_Sync_plcy</fullName><externalClientApplication>Billing_Sync</externalClientApplication><isOauthPluginEnabled>false</isOauthPluginEnabled></metadata></updateMetadata></soapenv:Body></soapenv:Envelope>"#;
        let zeep = r#"<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Header><ns0:SessionHeader xmlns:ns0="http://soap.sforce.com/2006/04/metadata"><ns0:sessionId>TOKEN</ns0:sessionId></ns0:SessionHeader></soap-env:Header><soap-env:Body><ns0:updateMetadata xmlns:ns0="http://soap.sforce.com/2006/04/metadata"><ns0:metadata xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="ns0:ExtlClntAppConfigurablePolicies"><ns0:fullName>Billing_Sync_plcy</ns0:fullName><ns0:isOauthPluginEnabled>false</ns0:isOauthPluginEnabled></ns0:metadata></ns0:updateMetadata></soap-env:Body></soap-env:Envelope>"#;
        for xml in [jsforce, zeep] {
            let doc = parse(xml).unwrap();
            assert_eq!(doc.name, "Envelope");
            assert_eq!(doc.find("sessionId").unwrap().text, "TOKEN");
            let call = &doc.child("Body").unwrap().children[0];
            assert_eq!(call.name, "updateMetadata");
            let item = call.child("metadata").unwrap();
            assert!(item
                .attr("type")
                .unwrap()
                .ends_with("ExtlClntAppConfigurablePolicies"));
            assert_eq!(item.text_of("fullName"), Some("Billing_Sync_plcy"));
            assert_eq!(item.text_of("isOauthPluginEnabled"), Some("false"));
        }
        assert!(parse("<a><b></a>").is_err());
    }
}
