//! The `edgecart` binary: parses the command line and hands over to the library.

use clap::{Parser, Subcommand};
use edgecart::{Application, Settings, shutdown::shutdown_signal, store, telemetry};

/// edgecart: an e-commerce backend with WebAssembly rule plugins.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database when missing, migrate, and serve HTTP until SIGTERM or SIGINT.
    Serve(Settings),
    /// Create the database when missing and run the migrations, then exit.
    Migrate(Settings),
    /// Insert demo users and products when the database holds none, then exit.
    Seed(Settings),
    /// Run only the notification consumer (to scale it apart from the servers).
    Consume(Settings),
    /// Write, test, run and deploy rule plugins.
    Plugin {
        #[command(subcommand)]
        command: edgecart::cli::PluginCommand,
    },
    /// Named admin tokens, managed in the database (`admin-token create --name alice --role editor`).
    AdminToken {
        #[command(subcommand)]
        command: edgecart::cli::admin_tokens::AdminTokenCommand,
    },
    /// End-user tokens for local testing (`token issue --user 25 --ttl 1h`).
    Token {
        #[command(subcommand)]
        command: edgecart::cli::tokens::TokenCommand,
    },
    /// Order events: move dead-lettered ones back to be notified (`events redrive`).
    Events {
        #[command(subcommand)]
        command: edgecart::cli::events::EventsCommand,
    },
    /// Print the OpenAPI document (what `GET /openapi.json` serves), for client generators.
    Openapi,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let log_format = match &cli.command {
        Command::Serve(s) | Command::Migrate(s) | Command::Seed(s) | Command::Consume(s) => {
            s.log_format
        }
        Command::Plugin { .. }
        | Command::Token { .. }
        | Command::AdminToken { .. }
        | Command::Events { .. }
        | Command::Openapi => edgecart::config::LogFormat::Text,
    };
    // Held to the end: dropping it flushes the spans still buffered.
    let _exporter = telemetry::init(log_format);
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Plugin { command } => edgecart::cli::run(command).await.map_err(Into::into),
        Command::Token { command } => edgecart::cli::tokens::run(command).map_err(Into::into),
        Command::Openapi => edgecart::cli::openapi::print().map_err(Into::into),
        Command::AdminToken { command } => edgecart::cli::admin_tokens::run(command)
            .await
            .map_err(Into::into),
        Command::Events { command } => edgecart::cli::events::run(command)
            .await
            .map_err(Into::into),
        Command::Consume(settings) => {
            edgecart::startup::consume_until_stopped(settings, shutdown_signal())
                .await
                .map_err(Into::into)
        }
        Command::Serve(settings) => serve(settings).await.map_err(Into::into),
        Command::Migrate(settings) => store::prepare_database(&settings)
            .await
            .map(|_| ())
            .map_err(Into::into),
        Command::Seed(settings) => edgecart::seed::run(&settings).await.map_err(Into::into),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Every layer's error keeps its source: the whole chain is reported once, here.
            let error = telemetry::chain(error.as_ref());
            tracing::error!(%error, "edgecart failed");
            eprintln!("edgecart: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), edgecart::StartError> {
    let app = Application::build(settings).await?;
    tracing::info!(address = %app.local_addr(), "edgecart listening");
    app.run_until_stopped(shutdown_signal()).await
}
