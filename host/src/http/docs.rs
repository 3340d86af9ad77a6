//! The parts of the OpenAPI document every route shares, written once: the error responses
//! many routes have (as utoipa [`IntoResponses`]), the problem+json body of every error
//! response, the revalidation of the cached routes, the schema of attributes, and the seed's
//! path aliases documented from their main routes.

use std::collections::BTreeMap;

use utoipa::{
    IntoResponses, Modify,
    openapi::{
        ContentBuilder, Object, ObjectBuilder, OpenApi, PathItem, Ref, RefOr, Required, Response,
        ResponseBuilder, Type,
        header::{Header, HeaderBuilder},
        path::{Operation, Parameter, ParameterBuilder, ParameterIn},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use super::problem::PROBLEM_JSON;

/// The seed's paths, each an alias of a main route: `(alias, main route)`.
pub const SEED_ALIASES: [(&str, &str); 2] = [
    ("/products/{productId}", "/api/v1/products/{productId}"),
    ("/products/popular", "/api/v1/products/popular"),
];

/// The schema of attributes ([`crate::domain::Attributes`]): an object of strings whose keys
/// are `[a-z0-9_.-]{1,64}`, 4 KiB in all as compact JSON (a bound JSON Schema cannot state,
/// checked by the server with 400).
pub fn attributes_schema() -> Object {
    let key = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[a-z0-9_.-]{1,64}$"));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
        .property_names(Some(key))
        .description(Some(
            "String-to-string labels that rule plugins see; keys [a-z0-9_.-]{1,64}, \
             at most 4096 bytes as compact JSON",
        ))
        .examples([serde_json::json!({"category": "salad", "brand": "빽다방"})])
        .build()
}

fn described(rows: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    rows.iter()
        .map(|(status, description)| {
            let response = ResponseBuilder::new().description(*description).build();
            ((*status).to_owned(), RefOr::T(response))
        })
        .collect()
}

/// 503: a dependency (PostgreSQL) is down; `Retry-After` says when to try again.
pub struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        described(&[("503", "SERVICE_UNAVAILABLE: a dependency is down")])
    }
}

/// 503: a rule plugin failed (the request failed closed), or a dependency is down.
pub struct RuleOrUnavailable;

impl IntoResponses for RuleOrUnavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        described(&[(
            "503",
            "PLUGIN_FAILED, or SERVICE_UNAVAILABLE: a dependency is down",
        )])
    }
}

/// 413 and 415: a body over the size limit, or not JSON.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        described(&[
            ("413", "PAYLOAD_TOO_LARGE"),
            ("415", "UNSUPPORTED_MEDIA_TYPE"),
        ])
    }
}

/// 401 and 403 of every admin route.
pub struct AdminAuth;

impl IntoResponses for AdminAuth {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        described(&[("401", "UNAUTHORIZED"), ("403", "FORBIDDEN")])
    }
}

/// 401 and 403 of the user-scoped routes (with `EDGECART_AUTH=jwt`).
pub struct UserAuth;

impl IntoResponses for UserAuth {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        described(&[
            (
                "401",
                "UNAUTHENTICATED: no valid end-user token (with EDGECART_AUTH=jwt)",
            ),
            ("403", "FORBIDDEN: the token's user is not this user"),
        ])
    }
}

/// 401 of the order routes, where someone else's order is simply not found.
pub struct Unauthenticated;

impl IntoResponses for Unauthenticated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        described(&[(
            "401",
            "UNAUTHENTICATED: no valid end-user token (with EDGECART_AUTH=jwt)",
        )])
    }
}

/// Declares the two bearer schemes: `bearer`, the admin API's tokens, and `user`, end users'
/// JWTs (needed with `EDGECART_AUTH=jwt`).
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "user",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An end user's JWT, when the server runs with EDGECART_AUTH=jwt",
                    ))
                    .build(),
            ),
        );
    }
}

/// Gives every error response (4xx, 5xx) that declares no body the problem+json body.
pub struct ProblemBodies;

impl Modify for ProblemBodies {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                for (status, response) in &mut operation.responses.responses {
                    let is_error = status.starts_with('4') || status.starts_with('5');
                    if let RefOr::T(response) = response
                        && is_error
                        && response.content.is_empty()
                    {
                        let problem = ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .example(Some(problem_example(status, &response.description)))
                            .build();
                        response.content.insert(PROBLEM_JSON.to_owned(), problem);
                    }
                }
            }
        }
    }
}

/// An example problem body for an error response: its status and reason phrase, and the first
/// code its description names (descriptions read "CODE_A or CODE_B: when …"), so that the
/// reference shows each answer's own code rather than one example for all.
fn problem_example(status: &str, description: &str) -> serde_json::Value {
    let status: u16 = status.parse().unwrap_or(500);
    let title = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    // No code named: the generic one of the status (`NOT_FOUND`, `PAYLOAD_TOO_LARGE`, …).
    let code = description
        .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .find(|word| word.len() >= 4)
        .map_or_else(
            || title.to_ascii_uppercase().replace(' ', "_"),
            str::to_owned,
        );
    serde_json::json!({
        "type": "about:blank", "title": title, "status": status,
        "code": code, "detail": description,
    })
}

/// The routes served from the node's caches with revalidation ([`super::cached`]).
pub const CACHED_ROUTES: [&str; 3] = [
    "/api/v1/products/{productId}",
    "/api/v1/products",
    "/api/v1/products/popular",
];

/// Documents the revalidation of [`CACHED_ROUTES`]: the `If-None-Match` parameter, the
/// headers of their 200 answers, and the 304 answer with the same headers.
pub struct CachedAnswers;

impl Modify for CachedAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        for route in CACHED_ROUTES {
            let Some(get) = openapi
                .paths
                .paths
                .get_mut(route)
                .and_then(|i| i.get.as_mut())
            else {
                continue;
            };
            get.parameters
                .get_or_insert_with(Vec::new)
                .push(if_none_match());
            if let Some(RefOr::T(ok)) = get.responses.responses.get_mut("200") {
                ok.headers.extend(revalidation_headers());
            }
            let not_modified = revalidation_headers().into_iter().fold(
                ResponseBuilder::new().description("Unchanged since the given ETag; no body"),
                |response, (name, header)| response.header(name, header),
            );
            get.responses
                .responses
                .insert("304".to_owned(), RefOr::T(not_modified.build()));
        }
    }
}

fn if_none_match() -> Parameter {
    ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some("ETags of earlier answers; a current one gives 304"))
        .schema(Some(Object::with_type(Type::String)))
        .build()
}

fn revalidation_headers() -> [(String, Header); 4] {
    let header = |name: &str, schema_type, description: &str| {
        let header = HeaderBuilder::new()
            .schema(Object::with_type(schema_type))
            .description(Some(description))
            .build();
        (name.to_owned(), header)
    };
    [
        header(
            "ETag",
            Type::String,
            "The answer's tag: the same on every node for the same answer",
        ),
        header(
            "Cache-Control",
            Type::String,
            "public, max-age=N, stale-if-error=S",
        ),
        header("Vary", Type::String, "Accept-Encoding"),
        header(
            "Age",
            Type::Integer,
            "Seconds since the answer was loaded; only while the database is unreachable and the answer is past max-age",
        ),
    ]
}

/// Documents each seed alias as its main route, with an operation id of its own.
pub struct SeedPaths;

impl Modify for SeedPaths {
    fn modify(&self, openapi: &mut OpenApi) {
        for (alias, main) in SEED_ALIASES {
            let Some(mut item) = openapi.paths.paths.get(main).cloned() else {
                continue;
            };
            for operation in operations(&mut item) {
                if let Some(id) = &mut operation.operation_id {
                    id.push_str("_seed_path");
                }
            }
            openapi.paths.paths.insert(alias.to_owned(), item);
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}
