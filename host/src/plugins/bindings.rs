//! Host-side bindings generated from `wit/` by wasmtime's `bindgen!`, one module per world
//! and contract version (0.1 at the top, 0.2 in [`v2`]). Per version, the `types` and `host`
//! interfaces are generated once, with the first world, and the other worlds reuse them
//! (`with`), so there is one `Order` type and one `Host` trait per version, which
//! [`super::host::CallState`] implements. Exports are async: a call runs on a fiber that
//! yields to the async runtime every so much fuel.

/// A world's module that reuses the version's `types` and `host` (in the parent module).
macro_rules! world {
    ($(#[$doc:meta])* $module:ident, $path:literal, $world:literal) => {
        $(#[$doc])*
        pub mod $module {
            wasmtime::component::bindgen!({
                path: $path,
                world: $world,
                exports: { default: async },
                with: {
                    "edgecart:rules/types": super::types,
                    "edgecart:rules/host": super::host,
                },
            });
        }
    };
}

/// World `charge-validate` (hook `charge.validate`), and the shared interfaces.
pub mod charge_validate {
    wasmtime::component::bindgen!({ path: "../wit", world: "charge-validate", exports: { default: async } });
}

pub use charge_validate::edgecart::rules::{host, types};

world!(
    /// World `order-validate` (hook `order.validate`).
    order_validate, "../wit", "order-validate"
);
world!(
    /// World `order-price` (hook `order.price`).
    order_price, "../wit", "order-price"
);

/// Contract 0.2 (`wit/v0.2/`): the same three worlds with the time, attributes, the coupon
/// and `config-schema`.
pub mod v2 {
    /// World `charge-validate` of 0.2, and its shared interfaces.
    pub mod charge_validate {
        wasmtime::component::bindgen!({ path: "../wit/v0.2", world: "charge-validate", exports: { default: async } });
    }

    pub use charge_validate::edgecart::rules::{host, types};

    world!(
        /// World `order-validate` of 0.2.
        order_validate, "../wit/v0.2", "order-validate"
    );
    world!(
        /// World `order-price` of 0.2.
        order_price, "../wit/v0.2", "order-price"
    );
}
