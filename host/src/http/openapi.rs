//! The OpenAPI 3.1 document, generated from the handlers' annotations and types.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::{admin, ops, orders, plugins, problem, products, users};

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(title = "edgecart", description = "E-commerce backend whose business rules run as WebAssembly plugins."),
    paths(
        users::balance, users::charge, users::history,
        products::detail, products::detail_seed_path, products::list,
        products::popular, products::popular_seed_path,
        orders::place, orders::show, orders::cancel,
        admin::create_user, admin::create_product, admin::update_product,
        plugins::upload_version, plugins::list_plugins, plugins::show_plugin,
        plugins::activate_version, plugins::rollback_plugin, plugins::deactivate_plugin,
        plugins::configure_plugin, plugins::shadow_version, plugins::evaluate_version,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
    ),
    components(schemas(problem::Problem)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Declares the admin API's bearer token scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
