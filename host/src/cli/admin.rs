//! The commands that talk to a server's admin API (`deploy`, `list`, `activate`, `rollback`,
//! `config`, `shadow`; `replay` in [`super::replay`]): one request each (two for `deploy --activate`), the JSON answer
//! printed, a non-2xx answer an [`Error::Refused`] carrying the server's problem.

use std::path::Path;

use clap::Args;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use super::{Error, read};
use crate::plugins::Hook;

/// Where and how to reach the admin API.
#[derive(Args, Clone, Debug)]
pub struct Admin {
    /// Base URL of an edgecart node.
    #[arg(
        long,
        env = "EDGECART_ADMIN_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// The admin bearer token.
    #[arg(long, env = "EDGECART_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl Admin {
    /// Uploads the component `wasm` as `name`'s `version` for `hook`, then activates it when
    /// `activate` is set.
    pub async fn deploy(
        &self,
        name: &str,
        hook: Hook,
        version: &str,
        activate: bool,
        wasm: &Path,
    ) -> Result<(), Error> {
        let bytes = read(wasm)?;
        let path = format!("/admin/v1/plugins/{name}/versions?hook={hook}&version={version}");
        let request = self
            .request(Method::POST, &path)?
            .header("Content-Type", "application/wasm")
            .body(bytes);
        print_answer(request).await?;
        if activate {
            self.activate(name, version).await?;
        }
        Ok(())
    }

    /// Lists the server's plugins.
    pub async fn list(&self) -> Result<(), Error> {
        print_answer(self.request(Method::GET, "/admin/v1/plugins")?).await
    }

    /// Makes `version` the one of `name` that runs.
    pub async fn activate(&self, name: &str, version: &str) -> Result<(), Error> {
        let path = format!("/admin/v1/plugins/{name}/activate");
        print_answer(
            self.request(Method::POST, &path)?
                .json(&json!({"version": version})),
        )
        .await
    }

    /// Activates the version of `name` active before the current one.
    pub async fn rollback(&self, name: &str) -> Result<(), Error> {
        let path = format!("/admin/v1/plugins/{name}/rollback");
        print_answer(self.request(Method::POST, &path)?).await
    }

    /// Replaces `name`'s config with `entries` and, when given, sets its priority.
    pub async fn configure(
        &self,
        name: &str,
        entries: Vec<(String, Value)>,
        priority: Option<i32>,
    ) -> Result<(), Error> {
        let config: serde_json::Map<String, Value> = entries.into_iter().collect();
        let path = format!("/admin/v1/plugins/{name}/config");
        let body = json!({"config": config, "priority": priority});
        print_answer(self.request(Method::PUT, &path)?.json(&body)).await
    }

    /// Shadows `name`'s `version` beside the active one, or stops shadowing (`version` is
    /// `None` and `stop` set).
    pub async fn shadow(&self, name: &str, version: Option<&str>, stop: bool) -> Result<(), Error> {
        if version.is_none() && !stop {
            return Err(Error::ShadowWithoutVersion);
        }
        let path = format!("/admin/v1/plugins/{name}/shadow");
        print_answer(
            self.request(Method::POST, &path)?
                .json(&json!({"version": version})),
        )
        .await
    }

    /// A request to `path` on this server, with the bearer token.
    pub(super) fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, Error> {
        let token = self.token.as_deref().ok_or(Error::MissingToken)?;
        let url = format!("{}{path}", self.url.trim_end_matches('/'));
        Ok(reqwest::Client::new()
            .request(method, url)
            .bearer_auth(token))
    }
}

/// Sends a request and prints the JSON answer; a non-2xx answer is an error (its problem
/// printed).
pub(super) async fn print_answer(request: RequestBuilder) -> Result<(), Error> {
    println!("{}", pretty(&json_answer(request).await?));
    Ok(())
}

/// JSON pretty-printed; a string as it is.
fn pretty(answer: &Value) -> String {
    match answer {
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// Sends a request and returns its JSON answer (a non-JSON one as a string); a non-2xx
/// answer is an error carrying it.
pub(super) async fn json_answer(request: RequestBuilder) -> Result<Value, Error> {
    let response = request.send().await.map_err(Error::Request)?;
    let status = response.status();
    let body = response.text().await.map_err(Error::Answer)?;
    let answer = serde_json::from_str::<Value>(&body).unwrap_or(Value::String(body));
    if status.is_success() {
        Ok(answer)
    } else {
        Err(Error::Refused {
            status,
            body: pretty(&answer),
        })
    }
}
