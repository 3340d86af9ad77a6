//! Black-box tests of the HTTP API: each test starts the real server on port 0 with its own
//! database and Redis prefix, and speaks HTTP to it.

mod admin;
mod admin_roles;
mod attributes;
mod auth;
mod bad_input;
mod batches;
mod compression;
mod console;
mod dead_letters;
mod edge_values;
mod events;
mod faults;
mod idempotency;
mod in_flight_keys;
mod log_secrets;
mod monitoring;
mod operations;
mod order_inputs;
mod orders;
mod plugin_config;
mod plugin_inputs;
mod plugin_runs;
mod plugins;
mod plugins_sandbox;
mod points;
mod popular;
mod product_cache;
mod products;
mod promotions;
mod reference;
mod replay;
mod slow_clients;
mod stale_if_error;
mod tls;
mod traces;
