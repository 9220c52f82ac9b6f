//! An access token a provider client keeps between calls (Auth0's Management API, Microsoft
//! Graph): in memory only, fetched again when less than five minutes of it remain (as
//! Infisical) or when the caller says the provider refused it. One fetch at a time.

use std::future::Future;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokio::sync::Mutex;

/// A token is fetched again when less than this remains of it.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

#[derive(Default)]
pub struct TokenCache(Mutex<Option<(SecretString, Instant)>>);

impl TokenCache {
    /// The cached token, or a new one from `fetch` (token, expiry) when there is none, it is
    /// about to expire, or `fresh` (the provider refused the cached one).
    pub async fn get<E, F>(&self, fresh: bool, fetch: impl FnOnce() -> F) -> Result<SecretString, E>
    where
        F: Future<Output = Result<(SecretString, Instant), E>>,
    {
        let mut cached = self.0.lock().await;
        if let Some((token, expiry)) = cached.as_ref() {
            if !fresh && *expiry > Instant::now() + REFRESH_MARGIN {
                return Ok(token.clone());
            }
        }
        let (token, expiry) = fetch().await?;
        *cached = Some((token.clone(), expiry));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[tokio::test]
    async fn a_token_is_kept_until_it_nearly_expires_or_is_refused() {
        let cache = TokenCache::default();
        let long = || async {
            Ok::<_, ()>((
                "a".to_string().into(),
                Instant::now() + Duration::from_secs(3600),
            ))
        };
        assert_eq!(cache.get(false, long).await.unwrap().expose_secret(), "a");
        let other = || async {
            Ok::<_, ()>((
                "b".to_string().into(),
                Instant::now() + Duration::from_secs(60),
            ))
        };
        assert_eq!(cache.get(false, other).await.unwrap().expose_secret(), "a");
        assert_eq!(cache.get(true, other).await.unwrap().expose_secret(), "b");
        // "b" expires within the margin: fetched again.
        let third = || async {
            Ok::<_, ()>((
                "c".to_string().into(),
                Instant::now() + Duration::from_secs(3600),
            ))
        };
        assert_eq!(cache.get(false, third).await.unwrap().expose_secret(), "c");
    }
}
