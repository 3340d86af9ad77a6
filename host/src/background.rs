//! Helpers for the background tasks a node runs beside its requests.

/// Aborts a spawned task when dropped, so a helper task never outlives its owner.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
