//! edgecart: an e-commerce backend (points wallet, orders paid with points, stock, popular
//! products) whose business rules run as sandboxed WebAssembly plugins.
//!
//! # Layout
//!
//! Dependencies point one way: `http` → `service` → `store` / `idempotency` / `rules` ←
//! `plugins`; nothing
//! below `http` knows about HTTP.
//!
//! - [`config`]: every setting, from flags and `EDGECART_*` variables.
//! - [`app`]: the shared state every handler sees.
//! - [`startup`]: the composition root that builds it, and the server that serves it.
//! - [`shutdown`]: the shutdown signal and the background tasks stopped by one token.
//! - [`health`]: readiness (which dependencies answer) and the gauges read at scrape time.
//! - [`auth`]: who calls the user-facing API (none, or bearer JWTs).
//! - [`http`]: routes, handlers, the one error-to-problem+json mapping, layers, OpenAPI.
//! - [`service`]: the use cases (points, orders, catalog); they own transactions.
//! - [`store`]: PostgreSQL access, one file per table group, and the migrations.
//! - [`idempotency`]: the Redis fast path and the PostgreSQL durable record.
//! - [`rules`]: the business-rule seam (charge limits, order checks, pricing) the services
//!   ask.
//! - [`plugins`]: the WebAssembly plugins behind it: sandbox, registry, sync across nodes.
//! - [`events`]: the outbox relay to the Redis stream, the notification consumer, and the
//!   dead letters (their gauge and their redrive).
//! - [`cache`]: in-process caches (moka) of public answers, their staleness bounds and
//!   their tags.
//! - [`revisions`]: keeping nodes in step with a revision in PostgreSQL (plugins, catalog),
//!   announced on Redis.
//! - [`domain`]: small validated newtypes (ids, money, idempotency keys, pages).
//! - [`redis`]: the Redis client and key naming.
//! - [`tls`]: the rustls client configurations of the PostgreSQL and Redis connections.
//! - [`metrics`]: every Prometheus metric, named in one place.
//! - [`telemetry`]: tracing subscriber set-up.
//! - [`seed`]: demo data for `scripts/serve`.
//! - [`cli`]: `edgecart plugin …`, the business teams' command line, and the operators'
//!   commands (`admin-token`, `token`, `events redrive`).

pub(crate) mod app;
pub mod auth;
pub(crate) mod cache;
pub mod cli;
pub mod config;
pub mod domain;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod http;
pub mod idempotency;
pub(crate) mod metrics;
pub mod plugins;
pub(crate) mod redis;
pub(crate) mod revisions;
pub mod rules;
pub mod seed;
pub(crate) mod service;
pub mod shutdown;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tls;

pub use config::Settings;
pub use startup::{Application, StartError};
