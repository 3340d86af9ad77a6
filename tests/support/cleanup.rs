//! What a test leaves behind, removed when it ends: [`Leftovers`] names the database
//! [`spawn_app`](crate::spawn_app) created and the Redis key prefix it gave the server, and
//! drops the one and deletes the keys under the other when it is dropped.

use std::time::Duration;

use crate::{postgres, redis};

/// How long the removal may take before it gives up (`scripts/test` drops what is left).
const TIMEOUT: Duration = Duration::from_secs(10);

/// A test's own database and Redis keys, removed when this is dropped. The app `spawn_app`
/// started and the nodes spawned from it share it (through an `Arc`), each letting go only
/// after it has stopped its server, so the removal comes after the last of them.
pub(crate) struct Leftovers {
    /// The URL of the database created for the test, unless the test pointed the server
    /// at another one.
    pub(crate) database_url: Option<String>,
    /// The Redis URL and key prefix, unless the test pointed the server at another Redis or
    /// prefix.
    pub(crate) redis: Option<(String, String)>,
}

impl Drop for Leftovers {
    /// `Drop` cannot await, and the test's runtime may be blocked here or shutting down: a
    /// thread of its own with a runtime of its own does the removal, and this waits for it.
    /// Failures are reported on stderr, never as a panic.
    fn drop(&mut self) {
        let (database_url, redis) = (self.database_url.take(), self.redis.take());
        if database_url.is_none() && redis.is_none() {
            return;
        }
        let remove = move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => return eprintln!("test clean-up: no runtime: {e}"),
            };
            runtime.block_on(async {
                let database = async {
                    if let Some(url) = &database_url
                        && let Err(e) = postgres::drop_database(url).await
                    {
                        let name = url.rsplit('/').next().unwrap_or_default();
                        eprintln!("test clean-up: database {name} not dropped: {e}");
                    }
                };
                let keys = async {
                    if let Some((url, prefix)) = &redis
                        && let Err(e) = redis::delete_keys(url, prefix).await
                    {
                        eprintln!("test clean-up: Redis keys {prefix}* not deleted: {e}");
                    }
                };
                if tokio::time::timeout(TIMEOUT, async { tokio::join!(database, keys) })
                    .await
                    .is_err()
                {
                    eprintln!("test clean-up: gave up after {TIMEOUT:?}");
                }
            });
        };
        match std::thread::Builder::new()
            .name("test-clean-up".into())
            .spawn(remove)
        {
            Ok(thread) => {
                if thread.join().is_err() {
                    eprintln!("test clean-up: the clean-up thread panicked");
                }
            }
            Err(e) => eprintln!("test clean-up: no thread: {e}"),
        }
    }
}
