//! The use cases. Each service owns its transactions and speaks in domain values, typed
//! outcomes and [`Error`]; none knows about HTTP (the HTTP layer hands in a renderer where an
//! answer must be recorded inside a transaction).

pub mod batch;
pub mod catalog;
pub mod operators;
pub mod orders;
pub mod plugins;
pub mod points;
mod tx;

pub use catalog::Catalog;
pub use operators::Operators;
pub use orders::Orders;
pub use plugins::Plugins;
pub use points::Points;
pub use tx::{Answer, Committed, Database, Origin, SharedRender, Work, commit, commit_rows};

use tokio_postgres::error::SqlState;

use crate::rules::{Rejection, RuleFailure};

/// Every way a use case can fail. `http::problem` alone turns these into responses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller may not act for this user (403).
    #[error("forbidden")]
    Forbidden,
    /// An admin token name that is not `[a-z0-9][a-z0-9._-]{0,63}` (or is `admin`).
    #[error("invalid token name")]
    InvalidTokenName,
    /// A token of that name exists (even revoked).
    #[error("token name taken")]
    TokenNameTaken,
    /// No active token of that name.
    #[error("no such token")]
    TokenNotFound,
    /// The system's random number generator failed.
    #[error("no randomness: {0}")]
    Randomness(String),
    /// No such user (404).
    #[error("user not found")]
    UserNotFound,
    /// No such product (404).
    #[error("product not found")]
    ProductNotFound,
    /// A new user's fields are invalid (400).
    #[error("invalid user: {0}")]
    InvalidUser(&'static str),
    /// A product's fields are invalid (400).
    #[error("invalid product: {0}")]
    InvalidProduct(&'static str),
    /// A user's attributes are invalid (400, `INVALID_USER` naming the bad key).
    #[error("invalid user attributes")]
    InvalidUserAttributes(#[source] crate::domain::AttributesError),
    /// A product's attributes are invalid (400, `INVALID_PRODUCT` naming the bad key).
    #[error("invalid product attributes")]
    InvalidProductAttributes(#[source] crate::domain::AttributesError),
    /// The user of an order does not exist (404; the seed words it differently).
    #[error("order user not found")]
    OrderUserNotFound,
    /// No such order (404).
    #[error("order not found")]
    OrderNotFound,
    /// The order is malformed: no lines, a quantity below 1, a total out of range (400).
    #[error("invalid order: {0}")]
    InvalidOrder(&'static str),
    /// The order's `couponCode` is not 1 to 64 characters without control characters, or is
    /// only whitespace (400, `INVALID_ORDER`).
    #[error("invalid coupon code")]
    InvalidCoupon,
    /// The balance does not cover the order (409).
    #[error("insufficient balance")]
    InsufficientBalance,
    /// A line's product has fewer units than ordered (409).
    #[error("out of stock")]
    OutOfStock,
    /// The server's total differs from the client's `paymentAmount` (409).
    #[error("payment amount mismatch")]
    PaymentAmountMismatch,
    /// A product's price changed between pricing and paying: the order is priced once more,
    /// and a second change is answered like a payment mismatch (409).
    #[error("the price changed while the order was placed")]
    PriceChanged,
    /// A rule refused the request (400, the rule's code and message).
    #[error("rejected by rule: {}", .0.code)]
    Rejected(Rejection),
    /// A charge amount that no rule refused but that cannot be applied (not positive).
    #[error("charge amount must be positive")]
    InvalidChargeAmount,
    /// The balance would leave the range of a 64-bit integer (409).
    #[error("balance would overflow")]
    BalanceOverflow,
    /// Returned stock would leave the range of a 64-bit integer (409).
    #[error("stock would overflow")]
    StockOverflow,
    /// A text value PostgreSQL cannot store: a NUL character, or a character the database
    /// encoding lacks (400). Checked where PostgreSQL refuses it, so no text field is missed.
    #[error("text PostgreSQL cannot store")]
    UnstorableText(#[source] tokio_postgres::Error),
    /// Another request with this idempotency key is in flight (409).
    #[error("idempotency key in use")]
    IdempotencyKeyInUse,
    /// The idempotency key was used for another request (422).
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// No plugin of that name (404).
    #[error("plugin not found")]
    PluginNotFound,
    /// The plugin has no such version (404).
    #[error("plugin version not found")]
    PluginVersionNotFound,
    /// An uploaded component cannot be a plugin for its hook (400).
    #[error("invalid plugin: {0}")]
    PluginInvalid(String),
    /// The plugin already has that version; versions are immutable (409).
    #[error("plugin version exists")]
    PluginVersionExists,
    /// A rollback with no earlier activation to go back to (409).
    #[error("no previous version")]
    NoPreviousVersion,
    /// A config that does not fit the version's schema, with each field's error (400).
    #[error("plugin config does not fit its schema")]
    PluginConfigInvalid(Vec<plugins::ConfigError>),
    /// A plugin admin request with a bad name, version, hook, config or input (400).
    #[error("invalid plugin request: {0}")]
    InvalidPluginRequest(String),
    /// A rule could not decide (503; nothing changed).
    #[error(transparent)]
    RuleFailed(#[from] RuleFailure),
    /// PostgreSQL could not be reached or lend a connection in time (503).
    #[error("database unavailable")]
    DatabaseUnavailable(#[source] Unavailable),
    /// PostgreSQL answered with an error we did not expect (500).
    #[error("database error")]
    Database(#[source] tokio_postgres::Error),
    /// The error of a load several requests shared (a cache miss); it answers as the error
    /// inside does.
    #[error(transparent)]
    Shared(std::sync::Arc<Error>),
}

/// Why PostgreSQL is unavailable: the connection failed, or the pool had none to lend.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// The connection failed, or the server is shutting down or starting.
    #[error(transparent)]
    Connection(tokio_postgres::Error),
    /// No connection could be had in time.
    #[error(transparent)]
    Pool(deadpool_postgres::PoolError),
    /// The request's batch could not be committed for it: it waited too long in the queue,
    /// or the worker stopped. Nothing of it was applied.
    #[error("{0}")]
    Batch(&'static str),
}

impl Error {
    /// Whether this is the server's fault (5xx): such outcomes are never remembered for
    /// idempotency, so the client may retry with the same key.
    pub fn is_server_error(&self) -> bool {
        match self {
            Error::RuleFailed(_)
            | Error::DatabaseUnavailable(_)
            | Error::Database(_)
            | Error::Randomness(_) => true,
            Error::Shared(inner) => inner.is_server_error(),
            _ => false,
        }
    }

    /// Whether the inputs a unit of work was prepared with changed under it, so that
    /// preparing it again may succeed.
    pub fn is_stale(&self) -> bool {
        matches!(self, Error::PriceChanged)
    }
}

/// Whether a name-like text has 1 to `max_chars` characters and no NUL (PostgreSQL text
/// cannot hold one).
pub(crate) fn valid_text(text: &str, max_chars: usize) -> bool {
    !text.is_empty() && !text.contains('\0') && text.chars().count() <= max_chars
}

impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Self {
        // 22021 (NUL or an invalid byte in a text parameter) and 22P05 (a `\u0000` or a
        // character the encoding lacks in JSON): the client's text, never the server's fault.
        if error.code().is_some_and(|c| {
            *c == SqlState::CHARACTER_NOT_IN_REPERTOIRE || *c == SqlState::UNTRANSLATABLE_CHARACTER
        }) {
            return Error::UnstorableText(error);
        }
        // No SQLSTATE means the connection itself failed (closed, I/O, timeout); class 08 is a
        // connection exception and class 57 an operator intervention (the server shutting
        // down or starting up): all of them mean "PostgreSQL is not there right now".
        let unavailable_class = error
            .code()
            .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57"));
        if error.as_db_error().is_none() || error.is_closed() || unavailable_class {
            Error::DatabaseUnavailable(Unavailable::Connection(error))
        } else {
            Error::Database(error)
        }
    }
}

/// Maps PostgreSQL's "numeric value out of range" to the domain error `domain`, anything else
/// as usual.
pub(crate) fn overflow_as(domain: Error) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |error| {
        if error.code() == Some(&SqlState::NUMERIC_VALUE_OUT_OF_RANGE) {
            domain
        } else {
            error.into()
        }
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        match error {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => Error::DatabaseUnavailable(Unavailable::Pool(other)),
        }
    }
}

impl From<crate::idempotency::Conflict> for Error {
    fn from(conflict: crate::idempotency::Conflict) -> Self {
        match conflict {
            crate::idempotency::Conflict::InUse => Error::IdempotencyKeyInUse,
            crate::idempotency::Conflict::Reused => Error::IdempotencyKeyReused,
        }
    }
}
