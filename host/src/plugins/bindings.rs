//! Host-side bindings generated from `wit/` by wasmtime's `bindgen!`, one module per world.
//! Each world imports the same `host` interface, so each module has its own `Host` trait;
//! [`super::runtime::CallState`] implements all three. Exports are async: a call runs on a
//! fiber that yields to the async runtime every so much fuel.

/// World `charge-validate` (hook `charge.validate`).
pub mod charge_validate {
    wasmtime::component::bindgen!({ path: "../wit", world: "charge-validate", exports: { default: async } });
}

/// World `order-validate` (hook `order.validate`).
pub mod order_validate {
    wasmtime::component::bindgen!({ path: "../wit", world: "order-validate", exports: { default: async } });
}

/// World `order-price` (hook `order.price`).
pub mod order_price {
    wasmtime::component::bindgen!({ path: "../wit", world: "order-price", exports: { default: async } });
}
