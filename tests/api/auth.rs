//! End-user authentication (`EDGECART_AUTH=jwt`): every bad token is 401 with
//! `WWW-Authenticate: Bearer`, a user acts only for themselves (403 on users, 404 on someone
//! else's order), keys come from a JWKS file or a URL (refetched for an unknown key id, kept
//! while the identity provider is down), `none` is refused on a non-loopback address, and
//! `edgecart token issue` signs a token the server accepts.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use edgecart::{Application, Settings, config::AuthMode};
use edgecart_tests::{
    TestApp, assert_problem, edgecart_command, free_port, repo_path, spawn_app_with,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, jwk::Jwk};
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.test";
const AUDIENCE: &str = "edgecart";

/// A test key that signs tokens.
struct Signer {
    key: EncodingKey,
    alg: Algorithm,
    kid: &'static str,
}

fn signer(file: &str, alg: Algorithm, kid: &'static str) -> Signer {
    let pem = std::fs::read(repo_path(&format!("tests/fixtures/jwt/{file}"))).expect("key file");
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .expect("test key");
    Signer { key, alg, kid }
}

fn es256() -> Signer {
    signer("es256.pem", Algorithm::ES256, "es-1")
}

fn ed25519() -> Signer {
    signer("ed25519.pem", Algorithm::EdDSA, "ed-1")
}

fn rs256() -> Signer {
    signer("rs256.pem", Algorithm::RS256, "rs-1")
}

/// The JWKS document of these signers' public keys.
fn jwks(signers: &[&Signer]) -> Value {
    let keys: Vec<Value> = signers
        .iter()
        .map(|s| {
            let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&s.key, s.alg).expect("jwk"))
                .expect("jwk json");
            jwk["kid"] = json!(s.kid);
            jwk
        })
        .collect();
    json!({ "keys": keys })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims for `user`.
fn claims(user: i64) -> Value {
    json!({"sub": user.to_string(), "iss": ISSUER, "aud": AUDIENCE, "iat": now(), "exp": now() + 600})
}

fn sign(signer: &Signer, claims: &Value) -> String {
    let mut header = Header::new(signer.alg);
    header.kid = Some(signer.kid.to_owned());
    encode(&header, claims, &signer.key).expect("signed")
}

/// Writes `document` to a temporary JWKS file that lives as long as the returned guard.
fn jwks_file(document: &Value) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, document.to_string()).expect("jwks written");
    (dir, path)
}

/// A server that verifies tokens against these signers' keys, from a JWKS file (kept as long
/// as the returned guard).
async fn app_with_keys(signers: &[&Signer]) -> (tempfile::TempDir, TestApp) {
    let (dir, path) = jwks_file(&jwks(signers));
    let app = spawn_app_with(|s| {
        with_jwt(s);
        s.jwt_jwks_file = Some(path.clone());
    })
    .await;
    (dir, app)
}

fn with_jwt(settings: &mut Settings) {
    settings.auth = Some(AuthMode::Jwt);
    settings.jwt_issuer = Some(ISSUER.into());
    settings.jwt_audience = Some(AUDIENCE.into());
}

/// A GET with this bearer token (none when `token` is `None`).
async fn get_as(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let request = app.http.get(app.url(path));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.expect("request sent")
}

/// A POST of `body` with this bearer token and a fresh idempotency key.
async fn post_as(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(body)
        .send()
        .await
        .expect("request sent")
}

async fn assert_unauthenticated(response: reqwest::Response, what: &str) {
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer"),
        "{what}"
    );
    assert_problem(response, 401, "UNAUTHENTICATED", "인증이 필요합니다.").await;
}

#[tokio::test]
async fn every_bad_token_is_401_with_a_bearer_challenge() {
    // Arrange: keys from a JWKS file holding the P-256 key only.
    let good = es256();
    let (_dir, app) = app_with_keys(&[&good]).await;
    let user = app.create_user("a", 1_000).await;
    let balance = format!("/api/v1/users/{user}");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims(user);
        change(&mut c);
        c
    };
    let other_key = Signer {
        kid: "es-1",
        ..signer("es256-other.pem", Algorithm::ES256, "es-1")
    };
    let hs256 = Signer {
        key: EncodingKey::from_secret(b"not configured").expect("secret"),
        alg: Algorithm::HS256,
        kid: "es-1",
    };
    // An RS256 token that names the P-256 key: an algorithm the key does not allow.
    let rs_as_es = Signer {
        kid: "es-1",
        ..rs256()
    };
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(user).to_string())
    );
    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not.a.token".into()),
        ("alg none", alg_none),
        (
            "expired",
            sign(&good, &with(&|c| c["exp"] = json!(now() - 3_600))),
        ),
        (
            "not yet valid",
            sign(&good, &with(&|c| c["nbf"] = json!(now() + 3_600))),
        ),
        (
            "issued in the future",
            sign(&good, &with(&|c| c["iat"] = json!(now() + 3_600))),
        ),
        (
            "no exp",
            sign(
                &good,
                &with(&|c| drop(c.as_object_mut().map(|o| o.remove("exp")))),
            ),
        ),
        ("wrongly signed", sign(&other_key, &claims(user))),
        (
            "wrong audience",
            sign(&good, &with(&|c| c["aud"] = json!("someone-else"))),
        ),
        (
            "wrong issuer",
            sign(&good, &with(&|c| c["iss"] = json!("https://evil.test"))),
        ),
        ("hs256 without a secret", sign(&hs256, &claims(user))),
        (
            "an algorithm the key does not allow",
            sign(&rs_as_es, &claims(user)),
        ),
        (
            "subject not a number",
            sign(&good, &with(&|c| c["sub"] = json!("alice"))),
        ),
        ("subject zero", sign(&good, &with(&|c| c["sub"] = json!(0)))),
        (
            "subject negative",
            sign(&good, &with(&|c| c["sub"] = json!("-5"))),
        ),
    ];

    // Act and assert: each is refused; a good token passes.
    assert_unauthenticated(get_as(&app, &balance, None).await, "no token").await;
    for (what, token) in &cases {
        assert_unauthenticated(get_as(&app, &balance, Some(token)).await, what).await;
    }
    let ok = get_as(&app, &balance, Some(&sign(&good, &claims(user)))).await;
    assert_eq!(ok.status(), 200);
    // A subject given as a number is a user too.
    let numeric = sign(&good, &with(&|c| c["sub"] = json!(user)));
    assert_eq!(get_as(&app, &balance, Some(&numeric)).await.status(), 200);
}

#[tokio::test]
async fn a_user_acts_only_for_themselves_with_any_accepted_algorithm() {
    let signers = [es256(), ed25519(), rs256()];
    let (_dir, app) = app_with_keys(&signers.iter().collect::<Vec<_>>()).await;
    let (alice, bob) = (
        app.create_user("alice", 10_000).await,
        app.create_user("bob", 10_000).await,
    );
    for signer in &signers {
        let token = sign(signer, &claims(alice));
        assert_eq!(
            get_as(&app, &format!("/api/v1/users/{alice}"), Some(&token))
                .await
                .status(),
            200
        );
        let history = format!("/api/v1/users/{alice}/points/history");
        assert_eq!(get_as(&app, &history, Some(&token)).await.status(), 200);
        for path in [
            format!("/api/v1/users/{bob}"),
            format!("/api/v1/users/{bob}/points/history"),
        ] {
            assert_problem(
                get_as(&app, &path, Some(&token)).await,
                403,
                "FORBIDDEN",
                "권한이 없습니다.",
            )
            .await;
        }
        let charge = json!({"chargeAmount": 5_000});
        assert_problem(
            post_as(
                &app,
                &format!("/api/v1/users/{bob}/charge"),
                &token,
                &charge,
            )
            .await,
            403,
            "FORBIDDEN",
            "권한이 없습니다.",
        )
        .await;
        let own = post_as(
            &app,
            &format!("/api/v1/users/{alice}/charge"),
            &token,
            &charge,
        )
        .await;
        assert_eq!(own.status(), 200, "{:?}", signer.alg);
    }
    // Bob's balance never moved; Alice got three charges.
    assert_eq!(
        (app.balance(alice).await, app.balance(bob).await),
        (25_000, 10_000)
    );
}

#[tokio::test]
async fn orders_belong_to_the_token_user() {
    let signer = es256();
    let (_dir, app) = app_with_keys(&[&signer]).await;
    let (alice, bob) = (
        app.create_user("alice", 10_000).await,
        app.create_user("bob", 10_000).await,
    );
    let product = app.create_product("p", 1_000, 10).await;
    let (as_alice, as_bob) = (sign(&signer, &claims(alice)), sign(&signer, &claims(bob)));
    let line = json!([{"id": product, "quantity": 1}]);

    // The body may leave the user out: the token's user pays.
    let placed = post_as(
        &app,
        "/api/v1/orders",
        &as_alice,
        &json!({"products": line, "paymentAmount": 1_000}),
    )
    .await;
    assert_eq!(placed.status(), 201);
    let order: Value = placed.json().await.expect("order");
    assert_eq!(order["userId"], alice);
    // A body naming someone else is refused, and nothing changes.
    assert_problem(
        post_as(
            &app,
            "/api/v1/orders",
            &as_alice,
            &json!({"user_id": bob, "products": line, "paymentAmount": 1_000}),
        )
        .await,
        403,
        "FORBIDDEN",
        "권한이 없습니다.",
    )
    .await;
    assert_eq!(
        (
            app.balance(alice).await,
            app.balance(bob).await,
            app.stock(product).await
        ),
        (9_000, 10_000, 9)
    );

    // Someone else's order does not exist for them, read or cancelled.
    let id = order["orderId"].as_i64().expect("order id");
    let (show, cancel) = (
        format!("/api/v1/orders/{id}"),
        format!("/api/v1/orders/{id}/cancel"),
    );
    let not_found = |r| assert_problem(r, 404, "ORDER_NOT_FOUND", "해당 주문이 존재하지 않습니다.");
    not_found(get_as(&app, &show, Some(&as_bob)).await).await;
    not_found(post_as(&app, &cancel, &as_bob, &json!({})).await).await;
    assert_eq!(
        app.balance(alice).await,
        9_000,
        "bob's cancel refunded nothing"
    );
    assert_unauthenticated(get_as(&app, &show, None).await, "no token").await;

    // Its owner reads and cancels it.
    assert_eq!(get_as(&app, &show, Some(&as_alice)).await.status(), 200);
    let cancelled = post_as(&app, &cancel, &as_alice, &json!({})).await;
    assert_eq!(cancelled.status(), 200);
    assert_eq!(app.balance(alice).await, 10_000);
}

/// A JWKS document served over HTTP by the test, which can change it or stop serving.
struct IdentityProvider {
    url: String,
    document: Arc<Mutex<Value>>,
    task: tokio::task::JoinHandle<()>,
}

impl IdentityProvider {
    async fn start(document: Value) -> Self {
        let document = Arc::new(Mutex::new(document));
        let served = document.clone();
        let router = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let document = served.lock().map(|d| d.clone()).unwrap_or_default();
                async move { axum::Json(document) }
            }),
        );
        let (address, task) = edgecart_tests::serve_locally(router).await;
        let url = format!("http://{address}/jwks.json");
        Self {
            url,
            document,
            task,
        }
    }

    fn publish(&self, document: Value) {
        *self.document.lock().expect("document lock") = document;
    }
}

#[tokio::test]
async fn keys_from_a_jwks_url_are_refetched_for_an_unknown_kid_and_kept_while_it_is_down() {
    let (first, rotated) = (es256(), ed25519());
    let idp = IdentityProvider::start(jwks(&[&first])).await;
    let app = spawn_app_with(|s| {
        with_jwt(s);
        s.jwt_jwks_url = Some(idp.url.clone());
        s.jwt_jwks_refetch_secs = 1;
    })
    .await;
    let user = app.create_user("a", 1_000).await;
    let balance = format!("/api/v1/users/{user}");
    assert_eq!(
        get_as(&app, &balance, Some(&sign(&first, &claims(user))))
            .await
            .status(),
        200
    );

    // The provider rotates in a new key; a token naming it is accepted after a refetch.
    idp.publish(jwks(&[&first, &rotated]));
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let new_key = sign(&rotated, &claims(user));
    assert_eq!(get_as(&app, &balance, Some(&new_key)).await.status(), 200);

    // The provider goes down: the keys held still verify, an unknown kid is still refused.
    idp.task.abort();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let unknown = Signer {
        kid: "never-published",
        ..signer("es256-other.pem", Algorithm::ES256, "x")
    };
    assert_unauthenticated(
        get_as(&app, &balance, Some(&sign(&unknown, &claims(user)))).await,
        "unknown kid",
    )
    .await;
    assert_eq!(
        get_as(&app, &balance, Some(&sign(&first, &claims(user))))
            .await
            .status(),
        200
    );
    assert_eq!(get_as(&app, &balance, Some(&new_key)).await.status(), 200);
}

#[tokio::test]
async fn a_node_refuses_to_start_without_auth_on_a_non_loopback_address() {
    // Nothing is bound or connected: the check comes first.
    let mut settings =
        Settings::with_urls("postgres://nobody@127.0.0.1:1/none", "redis://127.0.0.1:1");
    settings.listen = format!("0.0.0.0:{}", free_port()).parse().expect("address");
    let error = Application::build(settings).await.err().expect("refused");
    let text = edgecart::telemetry::chain(&error);
    assert!(text.contains("EDGECART_AUTH must be set"), "{text}");
}

#[tokio::test]
async fn token_issue_signs_a_token_the_server_accepts() {
    const SECRET: &str = "a-local-test-secret";
    let app = spawn_app_with(|s| {
        with_jwt(s);
        s.jwt_hs256_secret = Some(SECRET.to_owned().into());
    })
    .await;
    let (user, other) = (
        app.create_user("a", 1_000).await,
        app.create_user("b", 1_000).await,
    );
    let output = edgecart_command()
        .args(["token", "issue", "--user", &user.to_string(), "--ttl", "1h"])
        .env("EDGECART_JWT_HS256_SECRET", SECRET)
        .env("EDGECART_JWT_ISSUER", ISSUER)
        .env("EDGECART_JWT_AUDIENCE", AUDIENCE)
        .output()
        .expect("edgecart token issue runs (cargo test --workspace builds it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert_eq!(
        get_as(&app, &format!("/api/v1/users/{user}"), Some(&token))
            .await
            .status(),
        200
    );
    assert_problem(
        get_as(&app, &format!("/api/v1/users/{other}"), Some(&token)).await,
        403,
        "FORBIDDEN",
        "권한이 없습니다.",
    )
    .await;
}
