//! `edgecart plugin replay NAME VERSION`: a server replays an uploaded version on its
//! recorded runs. With `--wasm FILE` instead of a version, the runs are fetched through the
//! admin API and a component not yet uploaded is replayed here, in the server's sandbox;
//! both print the same report.

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    Admin, Error,
    admin::{json_answer, print_answer},
    read,
};
use crate::{
    domain::{Run, RunOutcome},
    http::plugins::ReplayView,
    plugins::{
        Hook, Limits, PluginConfig, Runtime,
        replay::{DEFAULT_REPLAY_RUNS, Replay, Replayed},
    },
};

/// Runs a page of the runs list asks for at most.
const RUNS_PAGE: i64 = 100;

/// What to replay: an uploaded version, or a local component.
pub(super) enum Target<'a> {
    /// A version the server has.
    Version(&'a str),
    /// A component file.
    Wasm(&'a Path),
}

/// Replays `target` on `name`'s newest `limit` recorded runs, with `config` for every run
/// when given, and prints the report.
pub(super) async fn replay(
    admin: &Admin,
    name: &str,
    target: Target<'_>,
    limit: Option<i64>,
    config: Option<serde_json::Map<String, Value>>,
) -> Result<(), Error> {
    match target {
        Target::Version(version) => {
            let path = format!("/admin/v1/plugins/{name}/versions/{version}/replay");
            let body = json!({"limit": limit, "config": config});
            print_answer(admin.request(Method::POST, &path)?.json(&body)).await
        }
        Target::Wasm(wasm) => {
            let tally = replay_here(admin, name, wasm, limit, config).await?;
            let report = serde_json::to_value(ReplayView::from(tally)).unwrap_or_default();
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            Ok(())
        }
    }
}

/// The local replay: the plugin's hook and runs from the server, the calls here.
async fn replay_here(
    admin: &Admin,
    name: &str,
    wasm: &Path,
    limit: Option<i64>,
    config: Option<serde_json::Map<String, Value>>,
) -> Result<Replayed, Error> {
    let bytes = read(wasm)?;
    let plugin =
        json_answer(admin.request(Method::GET, &format!("/admin/v1/plugins/{name}"))?).await?;
    let hook: Hook = plugin["hook"]
        .as_str()
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| Error::UnexpectedAnswer("the plugin has no known hook".into()))?;
    let runtime = Runtime::new(Limits::default(), None)?;
    let compiled = runtime
        .compile(hook, &bytes)
        .map_err(|invalid| Error::NotAPlugin(vec![(hook, invalid)]))?;
    let config = config.map(|map| PluginConfig::new(&Value::Object(map)));
    let mut left = limit.unwrap_or(DEFAULT_REPLAY_RUNS);
    let mut cursor: Option<String> = None;
    let mut tally = Replayed::default();
    while left > 0 {
        let mut path = format!(
            "/admin/v1/plugins/{name}/runs?limit={}",
            left.min(RUNS_PAGE)
        );
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = json_answer(admin.request(Method::GET, &path)?).await?;
        let runs: Vec<Run> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(run_from_json)
            .collect();
        if runs.is_empty() {
            break;
        }
        left -= runs.len() as i64;
        for run in &runs {
            let outcome = match Replay::of(run, hook, config.as_ref()) {
                Ok(replay) => {
                    runtime
                        .call(&compiled, &replay.input, &replay.config)
                        .await
                        .outcome
                }
                Err(unreadable) => Err(unreadable),
            };
            tally.add(run, &outcome);
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    Ok(tally)
}

/// A run as the runs list shows it (what a replay needs of it).
fn run_from_json(item: &Value) -> Option<Run> {
    Some(Run {
        id: item["id"].as_i64()?,
        plugin: String::new(),
        version: item["version"].as_str()?.to_owned(),
        hook: item["hook"].as_str()?.to_owned(),
        outcome: RunOutcome::parse(item["outcome"].as_str()?)?,
        input: item["input"].clone(),
        config: item["config"].clone(),
        decision: item["decision"].clone(),
        fuel: item["fuel"].as_i64().unwrap_or_default(),
        duration_micros: item["durationMicros"].as_i64().unwrap_or_default(),
        logs: item["logs"].clone(),
        recorded_at: chrono::Utc::now(),
    })
}
