//! Test support: a real edgecart server on port 0 with its own fresh database and Redis key
//! prefix, typed helpers to call it, direct SQL access to check invariants, and private
//! PostgreSQL, Redis (with TLS when asked, certificates made at test time), Redis Cluster, webhook and server
//! processes for tests that stop, flush or kill them; servers set up for event delivery.
//! Each test's database and Redis keys are removed when its app is dropped.

mod app;
mod assert;
mod cleanup;
mod environment;
mod events;
mod operators;
mod otlp;
mod plugins;
mod postgres;
mod process;
mod redis;
mod redis_cluster;
mod tls;
mod webhook;

pub use app::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_with, try_spawn_app_with};
pub use assert::{answer_parts, assert_client_error, assert_problem, eventually};
pub use environment::{edgecart_command, free_port, repo_path, serve_locally};
pub use events::{spawn_notifying, spawn_notifying_on};
pub use otlp::{OtlpReceiver, ReceivedSpan};
pub use plugins::{DEFAULT_VERSION, fixture_wasm, plugin_wasm, wat_fixture};
pub use postgres::{PrivatePostgres, RowLock};
pub use process::ServerProcess;
pub use redis::PrivateRedis;
pub use redis_cluster::RedisCluster;
pub use tls::TestCa;
pub use webhook::Webhook;
