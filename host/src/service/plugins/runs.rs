//! A plugin's recorded runs: listed newest first, and replayed on a version. A replay runs
//! one call at a time in one instance slot, as the shadow runs do, one replay at a time per
//! node, so live requests keep the rest of the sandbox; nothing it does is stored.

use super::{Error, Plugins, schema, store, stored, validate::existing_name};
use crate::{
    domain::{Page, PageRequest, Run, RunOutcome},
    plugins::{
        PluginConfig,
        replay::{DEFAULT_REPLAY_RUNS, MAX_REPLAY_RUNS, Replay, Replayed},
    },
    store::runs,
};

/// Recorded runs a replay reads from PostgreSQL at a time.
const REPLAY_PAGE: i64 = 500;

impl Plugins {
    /// A page of `name`'s recorded runs, newest first, only those with `outcome` when given.
    #[tracing::instrument(name = "plugins.runs", skip(self))]
    pub async fn runs(
        &self,
        name: &str,
        outcome: Option<RunOutcome>,
        page: PageRequest,
    ) -> Result<Page<Run>, Error> {
        existing_name(name)?;
        let client = self.db.pool().get().await?;
        stored(&client, name, false).await?;
        let rows = runs::page(&client, name, outcome, page.after, page.limit + 1).await?;
        Ok(Page::from_rows(rows, page.limit, |run| run.id))
    }

    /// Runs `version` on `name`'s newest `limit` recorded runs (default
    /// [`DEFAULT_REPLAY_RUNS`], at most [`MAX_REPLAY_RUNS`]), each with its recorded input and
    /// config, or with `config` (checked against the version's schema first) when given.
    #[tracing::instrument(name = "plugins.replay", skip(self, config))]
    pub async fn replay(
        &self,
        name: &str,
        version: &str,
        limit: Option<i64>,
        config: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Replayed, Error> {
        let limit = limit.unwrap_or(DEFAULT_REPLAY_RUNS);
        if !(1..=MAX_REPLAY_RUNS).contains(&limit) {
            return Err(Error::InvalidPluginRequest(format!(
                "limit must be between 1 and {MAX_REPLAY_RUNS}"
            )));
        }
        let (hook, compiled) = self.stored_version(name, version).await?;
        let config = match config {
            None => None,
            Some(map) => {
                let config = serde_json::Value::Object(map.clone());
                let client = self.db.pool().get().await?;
                let schema = store::config_schema(&client, name, version)
                    .await?
                    .flatten();
                schema::check(schema.as_ref(), &config)?;
                Some(PluginConfig::new(&config))
            }
        };
        let _one_replay = self
            .replaying
            .acquire()
            .await
            .map_err(|e| crate::rules::RuleFailure::new("replay", e))?;
        let mut tally = Replayed::default();
        let mut before = None;
        let mut left = limit;
        while left > 0 {
            let page = {
                let client = self.db.pool().get().await?;
                runs::page(&client, name, None, before, left.min(REPLAY_PAGE)).await?
            };
            let Some(last) = page.last() else {
                break;
            };
            before = Some(last.id);
            left -= page.len() as i64;
            for run in &page {
                let outcome = match Replay::of(run, hook, config.as_ref()) {
                    Ok(replay) => {
                        self.registry
                            .call(&compiled, &replay.input, &replay.config)
                            .await?
                            .outcome
                    }
                    Err(unreadable) => Err(unreadable),
                };
                tally.add(run, &outcome);
            }
        }
        Ok(tally)
    }
}
