//! A plugin's live figures on this node, per version (calls, rejections, failures by kind,
//! p99 duration, shadow agreement), read from the node's own metrics: what the console
//! refreshes while it is open.

use super::{Error, Plugins, stored, validate::existing_name};
use crate::metrics::VersionStats;

impl Plugins {
    /// `name`'s figures on this node since it started, one entry per version that has run or
    /// been shadowed here; `PluginNotFound` for a plugin that does not exist.
    #[tracing::instrument(name = "plugins.stats", skip(self))]
    pub async fn stats(&self, name: &str) -> Result<Vec<VersionStats>, Error> {
        existing_name(name)?;
        let client = self.db.pool().get().await?;
        stored(&client, name, false).await?;
        Ok(self.metrics.plugin_stats(name))
    }
}
