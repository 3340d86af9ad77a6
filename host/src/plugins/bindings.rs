//! Host-side bindings generated from `wit/` by wasmtime's `bindgen!`, one module per world.
//! Each world imports the same `host` interface, so each module has its own `Host` trait;
//! [`super::runtime::CallState`] implements all three.

/// World `charge-validate` (hook `charge.validate`).
pub mod charge_validate {
    wasmtime::component::bindgen!({ path: "../wit", world: "charge-validate" });
}

/// World `order-validate` (hook `order.validate`).
pub mod order_validate {
    wasmtime::component::bindgen!({ path: "../wit", world: "order-validate" });
}

/// World `order-price` (hook `order.price`).
pub mod order_price {
    wasmtime::component::bindgen!({ path: "../wit", world: "order-price" });
}
