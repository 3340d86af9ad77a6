//! `edgecart admin-token create|list|revoke`: named admin tokens, managed in PostgreSQL
//! directly (every node sees a change at once). A created token is printed once; only its
//! SHA-256 is kept. Each change is in the audit log, with `cli` as its actor.

use clap::Subcommand;

use crate::{
    config::Settings,
    domain::Role,
    service::{self, Database, Operators},
    store,
};

/// The audit log's actor for changes made here.
const ACTOR: &str = "cli";

/// `edgecart admin-token` subcommands.
#[derive(Subcommand, Debug)]
pub enum AdminTokenCommand {
    /// Create a named token and print it (once).
    Create {
        /// Its name, `[a-z0-9][a-z0-9._-]{0,63}`: the audit log's actor.
        #[arg(long)]
        name: String,
        /// `viewer`, `editor` or `admin`.
        #[arg(long)]
        role: Role,
        #[command(flatten)]
        settings: Settings,
    },
    /// List the named tokens (never their values).
    List {
        #[command(flatten)]
        settings: Settings,
    },
    /// Revoke a named token; every node refuses it from its next request.
    Revoke {
        /// The token's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        settings: Settings,
    },
}

/// Why an `admin-token` command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminTokenError {
    /// The database could not be prepared.
    #[error("the database could not be prepared")]
    Setup(#[from] store::SetupError),
    /// The change was refused or failed.
    #[error("the token change failed")]
    Service(#[from] service::Error),
}

/// Runs an `admin-token` subcommand, printing its result.
pub async fn run(command: AdminTokenCommand) -> Result<(), AdminTokenError> {
    let (AdminTokenCommand::Create { settings, .. }
    | AdminTokenCommand::List { settings }
    | AdminTokenCommand::Revoke { settings, .. }) = &command;
    let pool = store::prepare_database(settings).await?;
    let operators = Operators::new(Database::without_fast_path(pool), None);
    match command {
        AdminTokenCommand::Create { name, role, .. } => {
            println!("{}", operators.create_token(ACTOR, &name, role).await?);
        }
        AdminTokenCommand::List { .. } => {
            for token in operators.tokens().await? {
                let state = token.revoked_at.map_or_else(
                    || "active".to_owned(),
                    |at| format!("revoked {}", at.to_rfc3339()),
                );
                println!(
                    "{}\t{}\t{}\t{state}",
                    token.name,
                    token.role.as_str(),
                    token.created_at.to_rfc3339()
                );
            }
        }
        AdminTokenCommand::Revoke { name, .. } => {
            operators.revoke_token(ACTOR, &name).await?;
            println!("revoked {name}");
        }
    }
    Ok(())
}
