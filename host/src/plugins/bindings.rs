//! Host-side bindings generated from `wit/` by wasmtime's `bindgen!`, one module per world.
//! The `types` and `host` interfaces are generated once, with the first world, and the other
//! worlds reuse them (`with`), so there is one `Order` type and one `Host` trait, which
//! [`super::host::CallState`] implements. Exports are async: a call runs on a fiber that
//! yields to the async runtime every so much fuel.

/// World `charge-validate` (hook `charge.validate`), and the shared interfaces.
pub mod charge_validate {
    wasmtime::component::bindgen!({ path: "../wit", world: "charge-validate", exports: { default: async } });
}

pub use charge_validate::edgecart::rules::{host, types};

/// World `order-validate` (hook `order.validate`).
pub mod order_validate {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "order-validate",
        exports: { default: async },
        with: {
            "edgecart:rules/types": super::types,
            "edgecart:rules/host": super::host,
        },
    });
}

/// World `order-price` (hook `order.price`).
pub mod order_price {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "order-price",
        exports: { default: async },
        with: {
            "edgecart:rules/types": super::types,
            "edgecart:rules/host": super::host,
        },
    });
}
