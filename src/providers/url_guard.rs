//! Refuses provider URLs that point inside the network Rotary runs in (loopback, private,
//! link-local), so a connection cannot be used to probe internal services. Operators who run a
//! provider (or the mock org) on such an address opt in with ROTARY_ALLOW_INTERNAL_URLS=true.

use std::net::IpAddr;

/// Normalizes like Infisical (https:// when no scheme, no trailing slash) and checks the URL.
pub async fn check_instance_url(raw: &str, allow_internal: bool) -> Result<String, String> {
    check_url(raw, allow_internal, true).await
}

/// Checks a URL Rotary will call (a webhook, say): https and a public host, unless allowed.
pub async fn check_url(raw: &str, allow_internal: bool, base_only: bool) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    let normalized = if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        trimmed.to_string()
    } else if trimmed.contains("://") {
        return Err(format!("'{raw}' must be an http or https URL"));
    } else {
        format!("https://{trimmed}")
    };
    let url =
        reqwest::Url::parse(&normalized).map_err(|_| format!("'{raw}' is not a valid URL"))?;
    let host = url
        .host_str()
        .ok_or_else(|| format!("'{raw}' has no host"))?
        .to_string();
    if base_only && (url.path() != "/" || url.query().is_some()) {
        return Err(
            "the instance URL must be the org's base URL, e.g. https://acme.my.salesforce.com"
                .into(),
        );
    }
    if allow_internal {
        return Ok(normalized);
    }
    if url.scheme() != "https" {
        return Err(if base_only {
            "the instance URL must use https".into()
        } else {
            "the URL must use https".into()
        });
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| format!("the host '{host}' cannot be resolved"))?
            .map(|a| a.ip())
            .collect(),
    };
    if addresses.iter().any(|ip| is_internal(*ip)) {
        return Err(format!(
            "the host '{host}' is a local or private address; set ROTARY_ALLOW_INTERNAL_URLS=true to allow it"
        ));
    }
    Ok(normalized)
}

fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 // carrier-grade NAT
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_addresses_are_refused_unless_allowed() {
        for url in [
            "https://127.0.0.1",
            "https://10.1.2.3",
            "https://[::1]",
            "https://169.254.169.254",
            "https://localhost",
            "https://192.168.0.1:8443",
        ] {
            let err = check_instance_url(url, false).await.unwrap_err();
            assert!(err.contains("ROTARY_ALLOW_INTERNAL_URLS"), "{url}: {err}");
        }
        assert_eq!(
            check_instance_url("http://127.0.0.1:8787/", true)
                .await
                .unwrap(),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            check_instance_url("http://8.8.8.8", false)
                .await
                .unwrap_err(),
            "the instance URL must use https"
        );
        assert_eq!(
            check_instance_url("https://8.8.8.8/", false).await.unwrap(),
            "https://8.8.8.8"
        );
        assert_eq!(
            check_instance_url("8.8.8.8", false).await.unwrap(),
            "https://8.8.8.8"
        );
        assert!(check_instance_url("https://8.8.8.8/services", false)
            .await
            .is_err());
        assert!(check_instance_url("https://", false).await.is_err());
        assert!(check_url("ftp://x/y", true, false).await.is_err());
        assert_eq!(
            check_url("http://127.0.0.1:9/hook", true, false)
                .await
                .unwrap(),
            "http://127.0.0.1:9/hook"
        );
    }
}
