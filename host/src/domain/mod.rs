//! The domain: small validated values (ids, money, idempotency keys, pages, attributes) and
//! the records the services hand out (orders, plugins, recorded runs). Nothing here knows HTTP, SQL or Redis.

mod attributes;
mod operators;
mod records;
mod runs;
mod values;

pub use attributes::{Attributes, AttributesError, MAX_ATTRIBUTE_KEY_LEN, MAX_ATTRIBUTES_BYTES};
pub use operators::{AuditEntry, NamedToken, Operator, Role, UnknownRole};
pub use records::{
    Entry, Kind, Line, OnFailure, Order, Patch, Plugin, Product, Snapshot, Sold, Status, User,
    Version,
};
pub use runs::{Run, RunOutcome};
pub use values::*;
