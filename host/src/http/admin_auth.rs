//! Who operates the admin API: [`require_admin`] authenticates the bearer token (bootstrap or
//! named) and checks its role against the route (`viewer`: every GET; `editor`: plugins too;
//! `admin`: everything), before routing decides anything else, so a wrong method without a
//! token is 401 like a right one. Handlers take the [`Admin`] it found.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{Method, header, request::Parts},
    middleware::Next,
    response::Response,
};

use super::problem::ApiError;
use crate::{
    app::App,
    auth::bearer_token,
    domain::{Operator, Role},
    service::operators::Refusal,
};

/// The admin API's path prefix for plugins, which editors may change.
const PLUGINS: &str = "/admin/v1/plugins";

/// The operator of an admin request, as [`require_admin`] authenticated it.
#[derive(Debug, Clone)]
pub struct Admin(pub Operator);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Operator>()
            .cloned()
            .map(Admin)
            .ok_or(ApiError::Unauthorized)
    }
}

/// The role a request needs.
fn needed_role(method: &Method, path: &str) -> Role {
    if method == Method::GET || method == Method::HEAD {
        Role::Viewer
    } else if path == PLUGINS || path.starts_with("/admin/v1/plugins/") {
        Role::Editor
    } else {
        Role::Admin
    }
}

/// Middleware around the admin routes: 404 while the admin API is closed (no bootstrap and no
/// named token), 401 without a bearer token, 403 with a wrong or revoked one or one whose role
/// lacks the right; otherwise the request runs with its [`Operator`].
pub async fn require_admin(
    State(app): State<App>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let operator =
        app.operators()
            .authenticate(presented)
            .await
            .map_err(|refusal| match refusal {
                Refusal::Closed => ApiError::NotFound,
                Refusal::Missing => ApiError::Unauthorized,
                Refusal::Wrong => ApiError::Forbidden,
                Refusal::Service(error) => ApiError::Service(error),
            })?;
    if !operator
        .role
        .allows(needed_role(request.method(), request.uri().path()))
    {
        return Err(ApiError::Forbidden);
    }
    request.extensions_mut().insert(operator);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_need_a_viewer_plugins_an_editor_and_the_rest_an_admin() {
        assert_eq!(needed_role(&Method::GET, "/admin/v1/audit"), Role::Viewer);
        assert_eq!(needed_role(&Method::GET, "/admin/v1/plugins"), Role::Viewer);
        assert_eq!(
            needed_role(&Method::POST, "/admin/v1/plugins/x/activate"),
            Role::Editor
        );
        assert_eq!(
            needed_role(&Method::PUT, "/admin/v1/plugins/x/config"),
            Role::Editor
        );
        assert_eq!(needed_role(&Method::POST, "/admin/v1/users"), Role::Admin);
        assert_eq!(
            needed_role(&Method::PATCH, "/admin/v1/products/1"),
            Role::Admin
        );
        assert_eq!(
            needed_role(&Method::POST, "/admin/v1/pluginsx"),
            Role::Admin
        );
    }
}
