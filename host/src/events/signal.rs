//! Tells relays that committed transactions stored events: this node's relay is woken in
//! process at once, and the relays of other nodes (listening on the outbox channel) by a
//! `NOTIFY` sent from its own short transaction, at most every few milliseconds. Sending the
//! `NOTIFY` inside the order transaction would serialize commits (see migration V6).

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::{PgPool, outbox};

/// How often at most the node announces new events to other nodes.
const ANNOUNCE_EVERY: Duration = Duration::from_millis(20);

/// The signal a service raises after committing events; cheap to clone and to raise.
#[derive(Clone, Default)]
pub struct OutboxSignal {
    committed: Arc<Notify>,
    local: Arc<Notify>,
}

impl OutboxSignal {
    /// Raised after a transaction that stored events committed.
    pub fn committed(&self) {
        self.committed.notify_one();
    }

    /// What this node's relay waits on.
    pub fn local(&self) -> Arc<Notify> {
        self.local.clone()
    }

    /// Forwards signals until `stop` is cancelled: wakes the local relay at once and sends
    /// one `NOTIFY` per burst for the other nodes.
    pub async fn forward(self, pool: PgPool, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.committed.notified() => {}
            }
            self.local.notify_one();
            if let Ok(client) = pool.get().await {
                let _ = client
                    .batch_execute(&format!("NOTIFY {}", outbox::CHANNEL))
                    .await;
            }
            tokio::time::sleep(ANNOUNCE_EVERY).await;
        }
    }
}
