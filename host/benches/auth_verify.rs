//! What end-user authentication adds to a request on a node with `EDGECART_AUTH=jwt` when
//! the token was verified before (the common case): finding the bearer token in the header,
//! its SHA-256 and the verified-token cache lookup, for one token and for 10,000 users' tokens
//! met in turn; beside `none`, which does nothing. Tokens are as long as RS256 ones (padded
//! claims): the digest's cost grows with the length. A token's first verification (the HS256
//! signature) is measured too.
//!
//! `cargo bench -p edgecart --bench auth_verify`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use edgecart::{
    auth::{Authenticator, verified},
    config::{AuthMode, Settings},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;

const SECRET: &str = "bench-secret-bench-secret-bench-secret";

/// A token for `user`, valid for an hour, about as long as an RS256 one.
fn token(user: u64) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({
        "sub": user.to_string(),
        "iat": now,
        "exp": now + 3_600,
        // An RS256 signature is 342 characters where HS256's is 43: pad the claims instead.
        "pad": "x".repeat(400),
    });
    let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap_or_else(|e| panic!("key: {e}"));
    encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap_or_else(|e| panic!("sign: {e}"))
}

fn auth_verify(c: &mut Criterion) {
    let executor = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let mut settings = Settings::with_urls("postgres://127.0.0.1/unused", "redis://127.0.0.1");
    settings.auth = Some(AuthMode::Jwt);
    settings.jwt_hs256_secret = Some(SECRET.to_owned().into());
    let jwt = executor
        .block_on(Authenticator::from_settings(&settings))
        .unwrap_or_else(|e| panic!("authenticator: {e}"));
    let none = Authenticator::None;

    let header = format!("Bearer {}", token(25));
    println!("token: {} characters", header.len() - "Bearer ".len());
    executor
        .block_on(jwt.caller(Some(&header)))
        .unwrap_or_else(|e| panic!("first verification: {e}"));

    c.bench_function("caller, EDGECART_AUTH=none", |b| {
        b.iter(|| black_box(executor.block_on(none.caller(black_box(None)))))
    });
    c.bench_function("caller, jwt, a token verified before", |b| {
        b.iter(|| black_box(executor.block_on(jwt.caller(black_box(Some(&header))))))
    });
    // As under load: many users, each with a token of their own, met in turn.
    let headers: Vec<String> = (1..=10_000)
        .map(|user| format!("Bearer {}", token(user)))
        .collect();
    for header in &headers {
        executor
            .block_on(jwt.caller(Some(header)))
            .unwrap_or_else(|e| panic!("first verification: {e}"));
    }
    let mut next = headers.iter().cycle();
    c.bench_function(
        "caller, jwt, 10,000 users' tokens verified before, in turn",
        |b| {
            b.iter(|| {
                let header = next.next().map(String::as_str);
                black_box(executor.block_on(jwt.caller(black_box(header))))
            })
        },
    );
    c.bench_function("SHA-256 of the token", |b| {
        b.iter(|| black_box(verified::digest(black_box(&header["Bearer ".len()..]))))
    });
    let mut user = 100_000;
    c.bench_function("caller, jwt, a token never seen (HS256 signature)", |b| {
        b.iter_batched(
            || {
                user += 1;
                format!("Bearer {}", token(user))
            },
            |fresh| black_box(executor.block_on(jwt.caller(Some(&fresh)))),
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, auth_verify);
criterion_main!(benches);
