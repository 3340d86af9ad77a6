//! Test support: a real edgecart server on port 0 with its own fresh database and Redis key
//! prefix, typed helpers to call it, direct SQL access to check invariants, and private Redis
//! instances for tests that stop or flush Redis.

use std::{net::SocketAddr, process::Stdio, sync::LazyLock, time::Duration};

use edgecart::{Application, Settings};
use reqwest::{Response, StatusCode, header::CONTENT_TYPE};
use serde_json::{Value, json};
use tokio::{process::Child, sync::oneshot, task::JoinHandle};

/// The admin token test servers use unless a test says otherwise.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// The server's PostgreSQL and Redis, as `scripts/test` set them up.
fn base_database_url() -> String {
    std::env::var("EDGECART_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://edgecart:edgecart@127.0.0.1:5432/edgecart".into())
}

fn base_redis_url() -> String {
    std::env::var("EDGECART_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// `postgres://…/name` with another database name.
fn with_database(url: &str, name: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    match without_query.rfind('/') {
        Some(slash) if slash > "postgres://".len() => format!("{}/{name}", &without_query[..slash]),
        _ => format!("{without_query}/{name}"),
    }
}

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        edgecart::telemetry::init(edgecart::config::LogFormat::Text);
    }
});

/// A running server and what a test needs to talk to it and inspect its state.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// Direct access to this test's database.
    pub db: tokio_postgres::Client,
    /// The settings the server runs with.
    pub settings: Settings,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), edgecart::app::StartError>>>,
}

/// Starts a server with the default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `configure` has adjusted the settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    LazyLock::force(&TRACING);
    let name = format!("edgecart_test_{}", uuid::Uuid::new_v4().simple());
    let mut settings = Settings::with_urls(
        &with_database(&base_database_url(), &name),
        &base_redis_url(),
    );
    settings.listen = "127.0.0.1:0".parse().expect("literal address");
    settings.redis_prefix = format!("test:{name}:");
    settings.admin_token = Some(ADMIN_TOKEN.to_owned().into());
    settings.db_pool_size = 16;
    // Tests check invariants under real concurrency on a shared machine, not latency: a
    // request waits for a connection rather than failing.
    settings.db_timeout_ms = 30_000;
    settings.plugin_dir = repo_path("plugins/dist");
    settings.plugin_cache_dir = repo_path("target/plugin-cache");
    settings.plugin_sync_ms = 200;
    configure(&mut settings);
    start(settings).await
}

/// Starts a server with exactly these settings.
async fn start(settings: Settings) -> TestApp {
    let application = Application::build(settings.clone())
        .await
        .expect("server builds");
    let addr = application.local_addr();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let (db, connection) = tokio_postgres::connect(&settings.database_url, tokio_postgres::NoTls)
        .await
        .expect("test database connection");
    tokio::spawn(connection);
    TestApp {
        address: format!("http://{addr}"),
        addr,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("http client"),
        db,
        settings,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

/// A path inside the repository (tests run in `tests/`).
pub fn repo_path(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

/// A default plugin's component, as `scripts/build-plugins` built it.
pub fn plugin_wasm(name: &str) -> Vec<u8> {
    let path = repo_path(&format!("plugins/dist/{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-plugins)", path.display()))
}

/// A hostile test fixture's component (`tests/fixtures/plugins`).
pub fn fixture_wasm(name: &str) -> Vec<u8> {
    let path = repo_path(&format!("tests/fixtures/plugins/dist/{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-plugins)", path.display()))
}

impl TestApp {
    /// Another node on the same PostgreSQL database and Redis prefix (a second edge node).
    pub async fn spawn_node(&self) -> TestApp {
        let mut settings = self.settings.clone();
        settings.listen = "127.0.0.1:0".parse().expect("literal address");
        start(settings).await
    }

    /// An admin request with the token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// Uploads a plugin version.
    pub async fn upload_plugin(
        &self,
        name: &str,
        hook: &str,
        version: &str,
        bytes: Vec<u8>,
    ) -> Response {
        self.admin(
            reqwest::Method::POST,
            &format!("/admin/v1/plugins/{name}/versions?hook={hook}&version={version}"),
        )
        .header("Content-Type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .expect("request sent")
    }

    /// Uploads and activates a plugin version, asserting both succeed.
    pub async fn deploy_plugin(&self, name: &str, hook: &str, version: &str, bytes: Vec<u8>) {
        let uploaded = self.upload_plugin(name, hook, version, bytes).await;
        assert_eq!(
            uploaded.status(),
            201,
            "upload {name} {version}: {}",
            uploaded.text().await.unwrap_or_default()
        );
        let activated = self
            .admin_post(
                &format!("/admin/v1/plugins/{name}/activate"),
                &serde_json::json!({"version": version}),
            )
            .await;
        assert_eq!(activated.status(), 200, "activate {name} {version}");
    }

    /// Sets a plugin's config (and priority), asserting success.
    pub async fn configure_plugin(&self, name: &str, config: Value, priority: Option<i32>) {
        let response = self
            .admin(
                reqwest::Method::PUT,
                &format!("/admin/v1/plugins/{name}/config"),
            )
            .json(&serde_json::json!({"config": config, "priority": priority}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "config {name}");
    }

    /// Sum of the samples of a metric whose labels include all of `labels`.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = self
            .get("/metrics")
            .await
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
                (metric == name
                    && labels
                        .iter()
                        .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
                .then(|| value.parse::<f64>().ok())
                .flatten()
            })
            .sum()
    }

    /// The absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// POST a JSON body to an admin path with the admin token.
    pub async fn admin_post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Creates a user through the admin API and returns its id.
    pub async fn create_user(&self, name: &str, amount: i64) -> i64 {
        let response = self
            .admin_post(
                "/admin/v1/users",
                &json!({"name": name, "hpNo": "010-0000-0000", "amount": amount}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.expect("json")["userId"]
            .as_i64()
            .expect("userId")
    }

    /// Creates a product through the admin API and returns its id.
    pub async fn create_product(&self, name: &str, price: i64, stock: i64) -> i64 {
        let response = self
            .admin_post(
                "/admin/v1/products",
                &json!({"name": name, "price": price, "stock": stock}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id")
    }

    /// POST a charge with an optional idempotency key.
    pub async fn charge(&self, user: i64, key: Option<&str>, body: &Value) -> Response {
        let mut request = self
            .http
            .post(self.url(&format!("/api/v1/users/{user}/charge")))
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("request sent")
    }

    /// POST an order with an optional idempotency key.
    pub async fn order(&self, body: &Value, key: Option<&str>) -> Response {
        let mut request = self.http.post(self.url("/api/v1/orders")).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("request sent")
    }

    /// One `SELECT` returning a single `bigint`.
    pub async fn scalar(&self, sql: &str) -> i64 {
        self.db
            .query_one(sql, &[])
            .await
            .expect("scalar query")
            .get(0)
    }

    /// A product's stock, read from the database.
    pub async fn stock(&self, product: i64) -> i64 {
        self.db
            .query_one("SELECT stock FROM products WHERE id = $1", &[&product])
            .await
            .expect("product row")
            .get(0)
    }

    /// A user's balance, read from the database.
    pub async fn balance(&self, user: i64) -> i64 {
        self.db
            .query_one("SELECT balance FROM users WHERE id = $1", &[&user])
            .await
            .expect("user row")
            .get(0)
    }

    /// How many history rows a user has.
    pub async fn history_rows(&self, user: i64) -> i64 {
        self.db
            .query_one(
                "SELECT count(*) FROM point_history WHERE user_id = $1",
                &[&user],
            )
            .await
            .expect("count")
            .get(0)
    }

    /// Asks the server to shut down and waits for it, returning its result.
    pub async fn stop(mut self) -> Result<(), edgecart::app::StartError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.server.take() {
            Some(server) => server.await.expect("server task"),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

/// Checks the problem+json media type and returns the parsed body.
async fn problem_body(response: Response, what: &str) -> Value {
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "content type for {what}"
    );
    response.json().await.expect("problem body is JSON")
}

/// Asserts a problem+json answer: status, media type, `code` and `detail`. Returns the body.
pub async fn assert_problem(response: Response, status: u16, code: &str, detail: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status for {code}");
    let body = problem_body(response, code).await;
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["detail"], detail, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], "about:blank", "{body}");
    body
}

/// Asserts any 4xx problem+json answer (for the bad-input battery).
pub async fn assert_client_error(response: Response, what: &str) -> Value {
    let status = response.status();
    assert!(
        status.is_client_error(),
        "{what}: expected 4xx, got {status}"
    );
    let body = problem_body(response, what).await;
    assert_eq!(body["status"], status.as_u16(), "{what}: {body}");
    assert!(
        body["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{what}: {body}"
    );
    body
}

/// A user's row held `FOR UPDATE` by a transaction of the test's own, so a request that
/// updates the user waits inside its transaction until [`RowLock::release`].
pub struct RowLock {
    client: tokio_postgres::Client,
}

impl RowLock {
    /// Ends the holding transaction; the waiting request goes on.
    pub async fn release(self) {
        self.client
            .batch_execute("ROLLBACK")
            .await
            .expect("rollback");
    }
}

impl TestApp {
    /// Holds a user's row until the returned lock is released.
    pub async fn lock_user_row(&self, user: i64) -> RowLock {
        let (client, connection) =
            tokio_postgres::connect(&self.settings.database_url, tokio_postgres::NoTls)
                .await
                .expect("connect");
        tokio::spawn(connection);
        client
            .batch_execute(&format!(
                "BEGIN; SELECT 1 FROM users WHERE id = {user} FOR UPDATE"
            ))
            .await
            .expect("lock");
        RowLock { client }
    }

    /// Waits until some session of this database waits for a lock.
    pub async fn wait_for_lock_waiter(&self) {
        for _ in 0..500 {
            let waiting: i64 = self
                .db
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .await
                .expect("pg_stat_activity")
                .get(0);
            if waiting > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no request ever waited for the lock");
    }
}

/// A Redis server of the test's own, on a free port, stopped when dropped.
pub struct PrivateRedis {
    /// Its port.
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts `redis-server` on a free port and waits until it answers.
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    /// Starts it again on the same port (empty: it keeps no data).
    pub async fn restart(&mut self) {
        self.stop().await;
        *self = Self::start_on(self.port).await;
    }

    async fn start_on(port: u16) -> Self {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server starts (scripts/test installs it)");
        let redis = Self {
            port,
            child: Some(child),
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("private redis did not start on port {port}");
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Runs one command with `redis-cli` against this instance.
    pub async fn cli(&self, args: &[&str]) -> String {
        let output = tokio::process::Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .await
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Stops the server.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A webhook receiver of the test's own: records every notification it accepts (with its
/// `Idempotency-Key`), and answers 500 to the first `fail_first` attempts.
pub struct Webhook {
    /// Its URL.
    pub url: String,
    state: std::sync::Arc<WebhookState>,
    server: JoinHandle<()>,
}

#[derive(Default)]
struct WebhookState {
    fail_first: usize,
    attempts: std::sync::atomic::AtomicUsize,
    accepted: std::sync::Mutex<Vec<(String, Value)>>,
}

impl Webhook {
    /// Starts on a free port; `fail_first = usize::MAX` fails every attempt.
    pub async fn start(fail_first: usize) -> Self {
        use axum::{Json, extract::State, http::HeaderMap, routing::post};
        let state = std::sync::Arc::new(WebhookState {
            fail_first,
            ..WebhookState::default()
        });
        async fn receive(
            State(state): State<std::sync::Arc<WebhookState>>,
            headers: HeaderMap,
            Json(body): Json<Value>,
        ) -> axum::http::StatusCode {
            let attempt = state
                .attempts
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if attempt < state.fail_first {
                return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            }
            let key = headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            state.accepted.lock().expect("lock").push((key, body));
            axum::http::StatusCode::OK
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind webhook");
        let url = format!("http://{}/notify", listener.local_addr().expect("address"));
        let app = axum::Router::new()
            .route("/notify", post(receive))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state, server }
    }

    /// Attempts received so far (accepted or not).
    pub fn attempts(&self) -> usize {
        self.state
            .attempts
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The accepted notifications: `(Idempotency-Key, body)`.
    pub fn accepted(&self) -> Vec<(String, Value)> {
        self.state.accepted.lock().expect("lock").clone()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Polls `check` every 50 ms until it holds or `within` passes; returns whether it held.
pub async fn eventually<F: Future<Output = bool>>(
    within: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The real `edgecart serve` binary as a child process (for tests that kill it).
pub struct ServerProcess {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    child: Child,
}

impl ServerProcess {
    /// Starts `target/debug/edgecart serve` with `settings` (as `EDGECART_*` variables) on a
    /// free port and waits until it answers `/healthz`.
    pub async fn start(settings: &Settings) -> Self {
        let binary = repo_path("target/debug/edgecart");
        assert!(
            binary.exists(),
            "{} is missing: `cargo test --workspace` builds it",
            binary.display()
        );
        let port = free_port();
        let mut env = vec![
            ("EDGECART_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
            (
                "EDGECART_DATABASE_URL".to_owned(),
                settings.database_url.clone(),
            ),
            ("EDGECART_REDIS_URL".to_owned(), settings.redis_url.clone()),
            (
                "EDGECART_REDIS_PREFIX".to_owned(),
                settings.redis_prefix.clone(),
            ),
            ("EDGECART_ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned()),
            (
                "EDGECART_PLUGIN_DIR".to_owned(),
                settings.plugin_dir.display().to_string(),
            ),
            (
                "EDGECART_PLUGIN_CACHE_DIR".to_owned(),
                settings.plugin_cache_dir.display().to_string(),
            ),
            (
                "EDGECART_DB_TIMEOUT_MS".to_owned(),
                settings.db_timeout_ms.to_string(),
            ),
            (
                "EDGECART_OUTBOX_POLL_MS".to_owned(),
                settings.outbox_poll_ms.to_string(),
            ),
            (
                "EDGECART_CONSUMER_CLAIM_IDLE_MS".to_owned(),
                settings.consumer_claim_idle_ms.to_string(),
            ),
            (
                "EDGECART_IDEMPOTENCY_IN_FLIGHT_SECS".to_owned(),
                settings.idempotency_in_flight_secs.to_string(),
            ),
            (
                "RUST_LOG".to_owned(),
                std::env::var("SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            ),
        ];
        if let Some(url) = &settings.webhook_url {
            env.push(("EDGECART_WEBHOOK_URL".to_owned(), url.clone()));
        }
        // Its log, for a failing test: target/edgecart-<port>.log.
        let log = std::fs::File::create(repo_path(&format!("target/edgecart-{port}.log"))).ok();
        let errors = log.as_ref().and_then(|f| f.try_clone().ok());
        let (log, errors) = (
            log.map_or_else(Stdio::null, Stdio::from),
            errors.map_or_else(Stdio::null, Stdio::from),
        );
        let child = tokio::process::Command::new(binary)
            .arg("serve")
            .envs(env)
            .stdout(log)
            .stderr(errors)
            .kill_on_drop(true)
            .spawn()
            .expect("edgecart starts");
        let address = format!("http://127.0.0.1:{port}");
        let health = format!("{address}/healthz");
        for _ in 0..300 {
            if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
                return Self { address, child };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("edgecart did not start on port {port}");
    }

    /// SIGKILL: no shutdown, no drain.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

/// A PostgreSQL server of the test's own (a fresh cluster in a temporary folder, on a free
/// port, trust authentication on loopback), for tests that stop or restart it.
pub struct PrivatePostgres {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl PrivatePostgres {
    const BIN: &'static str = "/usr/lib/postgresql/15/bin";

    /// Creates the cluster and starts it.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let data = dir.path().join("data");
        // initdb and postgres refuse to run as root: the cluster belongs to `postgres`.
        let _ = std::process::Command::new("chown")
            .args(["-R", "postgres", &dir.path().display().to_string()])
            .status();
        let port = free_port();
        let postgres = Self { port, dir };
        postgres.run(&[
            &format!("{}/initdb", Self::BIN),
            "-D",
            &data.display().to_string(),
            "--auth=trust",
            "-U",
            "postgres",
        ]);
        postgres.ctl("start");
        postgres
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops it (fast: open connections are cut).
    pub fn stop(&self) {
        self.ctl("stop");
    }

    /// Starts it again.
    pub fn start_again(&self) {
        self.ctl("start");
    }

    fn ctl(&self, action: &str) {
        let data = self.dir.path().join("data");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let mut args = vec![
            format!("{}/pg_ctl", Self::BIN),
            "-D".into(),
            data.display().to_string(),
            "-o".into(),
            options,
            "-w".into(),
            "-l".into(),
            self.dir.path().join("log").display().to_string(),
        ];
        if action == "stop" {
            args.extend(["-m".into(), "fast".into()]);
        }
        args.push(action.into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args);
    }

    fn run(&self, command: &[&str]) {
        let status = if nix_is_root() {
            std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(command)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        } else {
            std::process::Command::new(command[0])
                .args(&command[1..])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        };
        assert!(
            status.is_ok_and(|s| s.success()),
            "{} failed",
            command.join(" ")
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.ctl_quietly();
    }
}

impl PrivatePostgres {
    fn ctl_quietly(&self) {
        let data = self.dir.path().join("data");
        let _ = std::process::Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                &format!("{}/pg_ctl", Self::BIN),
                "-D",
            ])
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Whether this process runs as root.
fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|v| v.split_whitespace().next() == Some("0"))
        })
        .unwrap_or(false)
}
