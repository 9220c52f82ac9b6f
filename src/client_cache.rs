//! A cache of provider clients by app connection (infrastructure: it knows no provider).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::app_connections::ConnectionRow;

/// A client, tagged with the `updated_at` of the connection it was built from.
type Entry = (DateTime<Utc>, Arc<dyn Any + Send + Sync>);

/// Provider clients by app connection, of any type, shared by the runs and requests of one
/// connection (a Salesforce client reuses its access token). An entry is used only while the
/// connection's `updated_at` is what it was built from; at most `MAX_CLIENTS` are kept.
#[derive(Default)]
pub struct ClientCache {
    by_connection: Mutex<HashMap<Uuid, Entry>>,
}

/// Clients hold sockets and tokens: the cache forgets everything past this many.
const MAX_CLIENTS: usize = 10_000;

impl ClientCache {
    pub fn get<C: Send + Sync + 'static>(&self, row: &ConnectionRow) -> Option<Arc<C>> {
        let clients = self.by_connection.lock().unwrap_or_else(|e| e.into_inner());
        let (changed, client) = clients.get(&row.id)?;
        if *changed != row.updated_at {
            return None;
        }
        client.clone().downcast::<C>().ok()
    }

    pub fn put<C: Send + Sync + 'static>(&self, row: &ConnectionRow, client: Arc<C>) {
        let mut clients = self.by_connection.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(row.id, (row.updated_at, client));
    }
}
