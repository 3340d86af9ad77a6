//! [`App`]: the shared state every handler sees (settings, services, metrics, health), built
//! once by [`crate::startup`]. It holds no logic of its own beyond handing out its parts.

use std::sync::Arc;

use crate::{
    auth::Authenticator,
    config::Settings,
    health::Health,
    metrics::Metrics,
    service::{Catalog, Operators, Orders, Plugins, Points},
};

/// The shared state every handler sees; cheap to clone.
#[derive(Clone)]
pub struct App(Arc<Inner>);

/// What [`App`] holds.
pub(crate) struct Inner {
    pub(crate) settings: Settings,
    pub(crate) metrics: Metrics,
    pub(crate) points: Points,
    pub(crate) orders: Orders,
    pub(crate) catalog: Catalog,
    pub(crate) plugins: Plugins,
    pub(crate) health: Health,
    pub(crate) auth: Authenticator,
    pub(crate) operators: Operators,
}

impl App {
    pub(crate) fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    /// The settings this node runs with.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The points service.
    pub fn points(&self) -> &Points {
        &self.0.points
    }

    /// The orders service.
    pub fn orders(&self) -> &Orders {
        &self.0.orders
    }

    /// The catalog service.
    pub fn catalog(&self) -> &Catalog {
        &self.0.catalog
    }

    /// The plugin admin service.
    pub fn plugins(&self) -> &Plugins {
        &self.0.plugins
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Which dependencies answer (readiness, the dependency gauges).
    pub fn health(&self) -> &Health {
        &self.0.health
    }

    /// How end users are authenticated.
    pub fn auth(&self) -> &Authenticator {
        &self.0.auth
    }

    /// Admin identities and the audit log.
    pub fn operators(&self) -> &Operators {
        &self.0.operators
    }
}
