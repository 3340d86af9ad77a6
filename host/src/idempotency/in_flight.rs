//! A request's hold on its key in Redis, from [`FastStore::begin`] to its answer. The answer
//! replaces the marker ([`InFlight::complete`]); a server error removes it
//! ([`InFlight::abandon`]); a request dropped before either (its client went away, its
//! deadline passed) removes it in the background when dropped, so that no marker of a live
//! node outlasts its request. Removal compares first: a marker another request has taken
//! over since is left alone.

use super::{StoredResponse, fast::FastStore};

/// This request's in-flight marker, if it set one; see the module doc.
pub struct InFlight {
    store: FastStore,
    key: String,
    fp: String,
    /// The marker as written, while this request still answers for it.
    marker: Option<String>,
}

impl InFlight {
    /// The hold of `marker` on `key` for a request of fingerprint `fp` (no marker: Redis did
    /// not take one, and there is nothing to remove).
    pub(super) fn new(store: FastStore, key: String, fp: String, marker: Option<String>) -> Self {
        Self {
            store,
            key,
            fp,
            marker,
        }
    }

    /// Caches the finished response for the retention period, in place of the marker (or
    /// removes the marker if that fails: a retry then gets the answer from PostgreSQL).
    pub async fn complete(mut self, response: &StoredResponse) {
        // The marker stays armed until Redis has answered, so a drop in between still frees it.
        let cached = self.store.cache(&self.key, &self.fp, response).await;
        if let (false, Some(marker)) = (cached, &self.marker) {
            self.store.release(&self.key, marker, false).await;
        }
        self.marker = None;
    }

    /// Frees the key after a failure that is not remembered (5xx), so a retry may run.
    pub async fn abandon(mut self) {
        if let Some(marker) = &self.marker {
            self.store.release(&self.key, marker, false).await;
        }
        self.marker = None;
    }
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("key", &self.key)
            .field("holds", &self.marker.is_some())
            .finish()
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let Some(marker) = self.marker.take() else {
            return;
        };
        // Dropped outside a runtime (the process is ending): the marker expires by itself.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, key) = (self.store.clone(), std::mem::take(&mut self.key));
        runtime.spawn(async move { store.release(&key, &marker, true).await });
    }
}
