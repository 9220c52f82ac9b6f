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
    resolve_host(&host, port, false).await?;
    Ok(normalized)
}

/// Whether an address is anything but a public unicast one: loopback, private, link-local,
/// carrier-grade NAT, "this network", IETF protocol assignments, benchmarking, reserved,
/// multicast and broadcast; in IPv6 also unique-local, link-local, multicast, and the forms
/// that embed an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo), judged by that
/// address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0 // "this network"
                || a >= 240 // reserved
                || (a == 100 && (b & 0xc0) == 64) // carrier-grade NAT
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
                || (a == 198 && (b & 0xfe) == 18) // benchmarking
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                is_internal(IpAddr::V4(std::net::Ipv4Addr::from(
                    (u32::from(hi) << 16) | u32::from(lo),
                )))
            };
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated)
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
                // IPv4-compatible ::a.b.c.d
                || (s[..6] == [0; 6] && embedded(s[6], s[7]))
                // NAT64 64:ff9b::/96 and the local-use 64:ff9b:1::/48
                || (s[0] == 0x64 && s[1] == 0xff9b && embedded(s[6], s[7]))
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
                // 6to4 2002:a.b.c.d::/48
                || (s[0] == 0x2002 && embedded(s[1], s[2]))
                // Teredo 2001:0::/32 (the client address is obfuscated: refuse it all)
                || (s[0] == 0x2001 && s[1] == 0)
        }
    }
}

/// The addresses of a host (a name or an IP literal), each checked: none may be internal
/// unless allowed. The caller connects to one of exactly these addresses (a database host,
/// the HTTP client's resolver), or only checks a URL before saving it.
pub async fn resolve_host(
    host: &str,
    port: u16,
    allow_internal: bool,
) -> Result<Vec<std::net::SocketAddr>, String> {
    let bare = host.trim().trim_matches(['[', ']']);
    let (addresses, is): (Vec<std::net::SocketAddr>, &str) = match bare.parse::<IpAddr>() {
        Ok(ip) => (vec![std::net::SocketAddr::new(ip, port)], "is"),
        Err(_) => (
            tokio::net::lookup_host((bare, port))
                .await
                .map_err(|_| format!("the host '{bare}' cannot be resolved"))?
                .collect(),
            "resolves to",
        ),
    };
    if addresses.is_empty() {
        return Err(format!("the host '{bare}' cannot be resolved"));
    }
    if !allow_internal && addresses.iter().any(|a| is_internal(a.ip())) {
        return Err(format!(
            "the host '{bare}' {is} a local or private address; set ROTARY_ALLOW_INTERNAL_URLS=true to allow it"
        ));
    }
    Ok(addresses)
}

/// Refuses a URL whose host is an internal IP literal (names are checked when they are
/// resolved, by `GuardedResolver`). Cheap: no lookup. Used before every request, since a
/// literal never reaches the resolver.
pub fn check_literal(url: &str, allow_internal: bool) -> Result<(), String> {
    if allow_internal {
        return Ok(());
    }
    let url = reqwest::Url::parse(url).map_err(|_| "the URL is not valid".to_string())?;
    let Some(Ok(ip)) = url
        .host_str()
        .map(|h| h.trim_matches(['[', ']']).parse::<IpAddr>())
    else {
        return Ok(());
    };
    if is_internal(ip) {
        return Err(format!(
            "the host '{ip}' is a local or private address; set ROTARY_ALLOW_INTERNAL_URLS=true to allow it"
        ));
    }
    Ok(())
}

/// The resolver of every outbound HTTP client: a name is resolved once per connection, every
/// address is checked, and the client connects to exactly those addresses. A name that
/// resolved to a public address when it was saved and to 127.0.0.1 now (DNS rebinding, or a
/// race between a check and its use) is refused when it is used.
#[derive(Clone)]
pub struct GuardedResolver {
    pub allow_internal: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_internal = self.allow_internal;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = resolve_host(&host, 0, allow_internal).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for every call Rotary makes outwards (providers, webhooks): bounded
/// timeouts, no redirects, and the guarded resolver.
pub fn http_client(request_timeout: std::time::Duration, allow_internal: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(GuardedResolver { allow_internal }))
        .user_agent(concat!("rotary/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_name_resolving_inside_is_refused_when_the_client_connects() {
        // A listener on loopback that counts the connections it gets.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(socket);
            }
        });
        let guarded = http_client(std::time::Duration::from_secs(2), false);
        let err = guarded
            .get(format!("http://localhost:{port}/hook"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err}");
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);
        // Allowed, the same request connects (the listener is reachable).
        let open = http_client(std::time::Duration::from_secs(2), true);
        let _ = open
            .get(format!("http://localhost:{port}/hook"))
            .send()
            .await;
        assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    }

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
        // Addresses that embed an internal IPv4 one, and the other non-public ranges.
        for url in [
            "https://[64:ff9b::a9fe:a9fe]",
            "https://[2002:a9fe:a9fe::]",
            "https://[::127.0.0.1]",
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
            "https://[ff02::1]",
            "https://224.0.0.1",
            "https://0.1.2.3",
            "https://192.0.0.8",
            "https://198.18.0.1",
            "https://240.0.0.1",
        ] {
            let err = check_instance_url(url, false).await.unwrap_err();
            assert!(err.contains("ROTARY_ALLOW_INTERNAL_URLS"), "{url}: {err}");
            assert!(check_literal(url, false).is_err(), "{url}");
        }
        // Public ones, including NAT64 and 6to4 forms of a public address.
        for url in [
            "https://[64:ff9b::808:808]",
            "https://[2002:808:808::]",
            "https://[2606:4700::1111]",
        ] {
            assert!(check_instance_url(url, false).await.is_ok(), "{url}");
            assert!(check_literal(url, false).is_ok(), "{url}");
        }
        assert!(check_url("ftp://x/y", true, false).await.is_err());
        assert_eq!(
            check_url("http://127.0.0.1:9/hook", true, false)
                .await
                .unwrap(),
            "http://127.0.0.1:9/hook"
        );
    }
}
