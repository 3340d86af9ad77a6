//! The OpenAPI 3.1 document, generated from the handlers' annotations and types, with the
//! shared parts from [`super::docs`].

use utoipa::OpenApi;

use super::{
    admin, audit, console,
    docs::{BearerAuth, CachedAnswers, ProblemBodies, SeedPaths},
    ops, orders, plugins, problem, products, reference, users,
};

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(title = "edgecart", description = "E-commerce backend whose business rules run as WebAssembly plugins."),
    paths(
        users::balance, users::charge, users::history,
        products::detail, products::list, products::popular,
        orders::place, orders::show, orders::cancel,
        admin::create_user, admin::update_user, admin::create_product, admin::update_product,
        audit::list_audit,
        plugins::upload_version, plugins::list_plugins, plugins::show_plugin, plugins::plugin_history,
        plugins::activate_version, plugins::rollback_plugin, plugins::deactivate_plugin,
        plugins::configure_plugin, plugins::shadow_version, plugins::evaluate_version,
        plugins::list_runs, plugins::replay_version, plugins::plugin_stats,
        admin::whoami,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi, reference::api_reference, console::console_page,
    ),
    components(schemas(problem::Problem)),
    modifiers(&BearerAuth, &ProblemBodies, &CachedAnswers, &SeedPaths),
)]
pub struct ApiDoc;
