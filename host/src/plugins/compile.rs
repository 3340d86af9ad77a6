//! From uploaded bytes to a [`Compiled`] plugin: the component is validated (a component,
//! of the hook's world, importing only what the host allows), linked with every other import
//! a trap, and kept in the on-disk artifact cache ([`super::cache`]) under its content hash
//! and engine compatibility, so a restart deserializes instead of compiling.

use std::{
    fmt,
    sync::{Mutex, PoisonError},
    time::Instant,
};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre, Linker, types::ComponentItem};

use super::{
    Hook,
    bindings::{charge_validate, order_price, order_validate, v2},
    function_cache::FunctionCache,
    host::{self, CallState},
    runtime::Runtime,
};

/// Import namespaces a component may have: the host interface and the few interfaces a Rust
/// guest's standard library links (never called by a well-behaved plugin; they trap).
const ALLOWED_IMPORTS: [&str; 3] = ["edgecart:rules/", "wasi:cli/", "wasi:io/"];

/// Held while a component compiles: one compile at a time in this process. Cranelift already
/// spreads one compile over every core, and a compile that waited finds the functions the one
/// before it made in the [`super::function_cache`] (every JavaScript rule carries the same
/// engine), instead of compiling them again beside it.
static COMPILING: Mutex<()> = Mutex::new(());

/// A component that cannot become a plugin for a hook: the upload's 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// A compiled plugin version, ready to instantiate for its hook.
#[derive(Clone)]
pub struct Compiled {
    /// Hex SHA-256 of the component's bytes.
    pub sha256: String,
    pub(super) pre: Pre,
}

/// The version of the rule contract a component targets: `wit/rules.wit` or
/// `wit/v0.2/rules.wit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    /// `edgecart:rules@0.1.0`: ids, amounts and a string-map config.
    V0_1,
    /// `edgecart:rules@0.2.0`: also the time, attributes, the coupon, a JSON config and its
    /// schema.
    V0_2,
}

impl Contract {
    /// The WIT package version: `0.1.0` or `0.2.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }
}

/// The pre-linked component, typed by the world of its hook and its contract.
#[derive(Clone)]
pub(super) enum Pre {
    Charge(charge_validate::ChargeValidatePre<CallState>),
    OrderValidate(order_validate::OrderValidatePre<CallState>),
    OrderPrice(order_price::OrderPricePre<CallState>),
    ChargeV2(v2::charge_validate::ChargeValidatePre<CallState>),
    OrderValidateV2(v2::order_validate::OrderValidatePre<CallState>),
    OrderPriceV2(v2::order_price::OrderPricePre<CallState>),
}

impl Compiled {
    /// The hook this version serves.
    pub fn hook(&self) -> Hook {
        match self.pre {
            Pre::Charge(_) | Pre::ChargeV2(_) => Hook::ChargeValidate,
            Pre::OrderValidate(_) | Pre::OrderValidateV2(_) => Hook::OrderValidate,
            Pre::OrderPrice(_) | Pre::OrderPriceV2(_) => Hook::OrderPrice,
        }
    }

    /// The contract version it targets.
    pub fn contract(&self) -> Contract {
        match self.pre {
            Pre::Charge(_) | Pre::OrderValidate(_) | Pre::OrderPrice(_) => Contract::V0_1,
            Pre::ChargeV2(_) | Pre::OrderValidateV2(_) | Pre::OrderPriceV2(_) => Contract::V0_2,
        }
    }
}

impl fmt::Debug for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compiled")
            .field("sha256", &self.sha256)
            .field("hook", &self.hook())
            .field("contract", &self.contract())
            .finish()
    }
}

impl Runtime {
    /// Validates and compiles a component for `hook`: it must be a component, target the
    /// hook's world, and import nothing but the host interface (and the standard library's
    /// inert imports).
    pub fn compile(&self, hook: Hook, bytes: &[u8]) -> Result<Compiled, Invalid> {
        let sha256 = sha256_hex(bytes);
        let component = self.load(&sha256, bytes)?;
        self.check_imports(&component)?;
        let pre = self.instance_pre(&component)?;
        let pre = typed(hook, &pre).map_err(|(v2, v1)| {
            Invalid(format!(
                "does not implement world {world} of edgecart:rules@0.2.0 ({v2:#}) or of \
                 edgecart:rules@0.1.0 ({v1:#}) for hook {hook}",
                world = hook.world()
            ))
        })?;
        Ok(Compiled { sha256, pre })
    }

    /// Refuses a component that imports a capability the host does not give.
    fn check_imports(&self, component: &Component) -> Result<(), Invalid> {
        for (name, item) in component.component_type().imports(&self.engine) {
            // Imported types (the WIT records) carry no capability.
            if matches!(item.ty, ComponentItem::Type(_)) {
                continue;
            }
            let allowed = ALLOWED_IMPORTS.iter().any(|p| name.starts_with(p));
            if !allowed || !matches!(item.ty, ComponentItem::ComponentInstance(_)) {
                return Err(Invalid(format!(
                    "imports {name}, which the host does not give (only edgecart:rules/host)"
                )));
            }
        }
        Ok(())
    }

    /// Links `component` against the host interface (every world imports the same one),
    /// every other import a trap, and checks it can be instantiated.
    fn instance_pre(&self, component: &Component) -> Result<InstancePre<CallState>, Invalid> {
        let link = || {
            let mut linker = Linker::new(&self.engine);
            host::add_to_linker(&mut linker)?;
            linker.define_unknown_imports_as_traps(component)?;
            linker.instantiate_pre(component)
        };
        link().map_err(|e| Invalid(format!("cannot be linked: {e:#}")))
    }

    /// The component from the artifact cache, or compiled (and then cached). A cached
    /// artifact is used only when its MAC checks out, and the component is made from those
    /// very bytes (not from the file again, which could have changed since).
    fn load(&self, sha256: &str, bytes: &[u8]) -> Result<Component, Invalid> {
        let name = format!("{sha256}-{}.cwasm", self.compatibility);
        if let Some(artifact) = self.cache.as_ref().and_then(|cache| cache.read(&name)) {
            // SAFETY: the bytes carry a MAC under the key only this server's user can read,
            // so this node (or another of the same user) wrote them with
            // `Component::serialize` of an engine of the same compatibility hash, which is in
            // the name the MAC covers.
            match unsafe { Component::deserialize(&self.engine, &artifact) } {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(artifact = %name, error = %e, "ignoring a cached plugin artifact that does not load")
                }
            }
        }
        let one_at_a_time = COMPILING.lock().unwrap_or_else(PoisonError::into_inner);
        let (started, before) = (Instant::now(), FunctionCache::shared().lookups());
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| Invalid(format!("not a component this host can run: {e:#}")))?;
        let after = FunctionCache::shared().lookups();
        drop(one_at_a_time);
        tracing::info!(
            artifact = %name,
            bytes = bytes.len(),
            millis = started.elapsed().as_millis(),
            functions_reused = after.hits - before.hits,
            functions_compiled = after.misses - before.misses,
            "compiled a plugin"
        );
        if let Some(cache) = &self.cache {
            let written = component
                .serialize()
                .map_err(std::io::Error::other)
                .and_then(|artifact| cache.write(&name, &artifact));
            if let Err(e) = written {
                tracing::warn!(artifact = %name, error = %e, "could not cache a compiled plugin");
            }
        }
        Ok(component)
    }
}

/// `pre` typed by `hook`'s world, of contract 0.2 if it implements that, else of 0.1; both
/// errors when neither.
fn typed(
    hook: Hook,
    pre: &InstancePre<CallState>,
) -> Result<Pre, (wasmtime::Error, wasmtime::Error)> {
    let pre = pre.clone();
    let (v2, v1) = match hook {
        Hook::ChargeValidate => (
            v2::charge_validate::ChargeValidatePre::new(pre.clone()).map(Pre::ChargeV2),
            charge_validate::ChargeValidatePre::new(pre).map(Pre::Charge),
        ),
        Hook::OrderValidate => (
            v2::order_validate::OrderValidatePre::new(pre.clone()).map(Pre::OrderValidateV2),
            order_validate::OrderValidatePre::new(pre).map(Pre::OrderValidate),
        ),
        Hook::OrderPrice => (
            v2::order_price::OrderPricePre::new(pre.clone()).map(Pre::OrderPriceV2),
            order_price::OrderPricePre::new(pre).map(Pre::OrderPrice),
        ),
    };
    match (v2, v1) {
        (Ok(pre), _) | (Err(_), Ok(pre)) => Ok(pre),
        (Err(v2), Err(v1)) => Err((v2, v1)),
    }
}

/// Hex SHA-256 of a component: its identity in storage and in the artifact cache.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
