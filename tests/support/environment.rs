//! What the machine gives the tests: the shared PostgreSQL and Redis (as `scripts/test` set
//! them up, or `EDGECART_DATABASE_URL` / `EDGECART_REDIS_URL`), paths inside the repository,
//! and free ports.

/// The shared PostgreSQL server's URL (its database name is replaced per test).
pub(crate) fn base_database_url() -> String {
    std::env::var("EDGECART_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://edgecart:edgecart@127.0.0.1:5432/edgecart".into())
}

/// The shared Redis server's URL.
pub(crate) fn base_redis_url() -> String {
    std::env::var("EDGECART_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A path inside the repository (tests run in `tests/`).
pub fn repo_path(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The `edgecart` binary `cargo test --workspace` built, as a command to run: the one beside
/// this test binary (`…/debug/deps/api-…` → `…/debug/edgecart`), so a `CARGO_TARGET_DIR`
/// outside the repository is followed.
pub fn edgecart_command() -> std::process::Command {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|test| Some(test.parent()?.parent()?.join("edgecart")))
        .unwrap_or_else(|| repo_path("target/debug/edgecart"));
    assert!(
        binary.exists(),
        "{} is missing: `cargo test --workspace` builds it",
        binary.display()
    );
    std::process::Command::new(binary)
}

/// Serves `app` on a free loopback port until the returned task is aborted: the stand-ins
/// for a webhook, a collector or an identity provider. Returns its address.
pub async fn serve_locally(
    app: axum::Router,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("its address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (address, task)
}
