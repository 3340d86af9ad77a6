//! [`Error`]: every way an `edgecart plugin …` command fails. Each variant keeps its cause as
//! its `source`, and `main` reports the chain once (`edgecart::telemetry::chain`), so a
//! message reads `what: cause` (`plugin.wasm: No such file or directory (os error 2)`).

use std::{path::PathBuf, process::ExitStatus};

use reqwest::StatusCode;

use crate::plugins::{Hook, Invalid, RuntimeError, json::InputMismatch};

/// Why an `edgecart plugin` command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read, created or written.
    #[error("{}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A command could not be started.
    #[error("{command}")]
    Spawn {
        /// The command, e.g. `cargo metadata`.
        command: &'static str,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// `cargo` or `npm` ran and failed; it printed why.
    #[error("{program} {args} failed")]
    Tool {
        /// `cargo` or `npm`.
        program: &'static str,
        /// Its arguments, joined by spaces.
        args: String,
        /// How it exited.
        status: ExitStatus,
    },
    /// `new` was given a name that is not `[a-z0-9-]{1,64}`.
    #[error("a plugin name is 1 to 64 of a-z, 0-9 and -")]
    InvalidName,
    /// `new` would write over this folder.
    #[error("{} exists already", .0.display())]
    Exists(PathBuf),
    /// The crate's `Cargo.toml` has no `name = "…"` line.
    #[error("no package name in Cargo.toml")]
    NoPackageName,
    /// cargo built the crate, but the component is not at this path.
    #[error("built, but {} is missing", .0.display())]
    NotBuilt(PathBuf),
    /// `run`'s input file is not JSON.
    #[error("input")]
    InputJson(#[source] serde_json::Error),
    /// `run`'s input is JSON, but not the hook's input.
    #[error("{0}")]
    Input(#[from] InputMismatch),
    /// The sandbox could not be built.
    #[error("{0}")]
    Runtime(#[from] RuntimeError),
    /// The component compiles for none of the hooks tried; why, per hook.
    #[error("not a plugin for any hook: {}", per_hook(.0))]
    NotAPlugin(Vec<(Hook, Invalid)>),
    /// A command-line entry is not `key=text` or `key:=json`.
    #[error("`{0}` is not key=text or key:=json")]
    NotKeyValue(String),
    /// `shadow` was given neither a version nor `--stop`.
    #[error("give a version to shadow, or --stop")]
    ShadowWithoutVersion,
    /// An admin command has no token.
    #[error("the admin token is missing: --token or EDGECART_ADMIN_TOKEN")]
    MissingToken,
    /// The admin request could not be sent.
    #[error("request")]
    Request(#[source] reqwest::Error),
    /// The admin API's answer could not be read.
    #[error("answer")]
    Answer(#[source] reqwest::Error),
    /// The admin API answered 2xx with something other than what was asked for.
    #[error("unexpected answer: {0}")]
    UnexpectedAnswer(String),
    /// The admin API answered with a status other than 2xx.
    #[error("{status}: {body}")]
    Refused {
        /// The status.
        status: StatusCode,
        /// The answer (a problem), pretty-printed when it is JSON.
        body: String,
    },
}

/// `hook: why; hook: why`.
fn per_hook(refusals: &[(Hook, Invalid)]) -> String {
    refusals
        .iter()
        .map(|(hook, invalid)| format!("{hook}: {invalid}"))
        .collect::<Vec<_>>()
        .join("; ")
}
