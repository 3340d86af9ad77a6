//! `edgecart events redrive`: moves dead-lettered events back to the event stream, where the
//! consumers of the running nodes notify them. Reads the same settings as `serve` (the Redis
//! URL, CA file and key prefix, the stream's length cap); the work is
//! `events::dead_letters`; this only reports it.

use clap::Subcommand;

use crate::{
    config::Settings,
    events::dead_letters::{DeadLetterError, DeadLetters},
    metrics::Metrics,
    redis::{Redis, SetupError},
};

/// `edgecart events` subcommands.
#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Move dead-lettered events (`<prefix>events:dead`) back to `<prefix>events`, oldest
    /// first, to be notified again; prints how many moved and how many remain.
    Redrive {
        /// Move at most this many.
        #[arg(long)]
        limit: Option<u64>,
        #[command(flatten)]
        settings: Settings,
    },
}

/// Why an `events` command failed.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// The Redis client could not be set up (a bad URL or TLS setting).
    #[error("Redis could not be set up")]
    Setup(#[from] SetupError),
    /// Reading, appending or deleting failed; what moved before stays moved.
    #[error("the redrive failed")]
    Redrive(#[from] DeadLetterError),
}

/// Runs an `events` subcommand, printing its result.
pub async fn run(command: EventsCommand) -> Result<(), EventsError> {
    let EventsCommand::Redrive { limit, settings } = command;
    let redis = Redis::connect(&settings, Metrics::new()).await?;
    let dead_letters = DeadLetters::new(&redis, settings.events_max_len);
    let redriven = dead_letters.redrive(limit).await?;
    println!(
        "moved {} dead-lettered events to {}",
        redriven.moved,
        dead_letters.event_stream()
    );
    let remaining = dead_letters.waiting().await?;
    if redriven.unreadable > 0 {
        println!(
            "{remaining} remain in {} ({} hold no event and were left)",
            dead_letters.dead_stream(),
            redriven.unreadable
        );
    } else {
        println!("{remaining} remain in {}", dead_letters.dead_stream());
    }
    Ok(())
}
