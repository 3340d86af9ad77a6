//! The records the use cases read and write, as the services hand them to the HTTP layer:
//! users, products, orders, history entries, plugins. Plain data; the store maps them from
//! rows, the HTTP layer renders them.

use chrono::{DateTime, Utc};

use super::Attributes;

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Phone number.
    pub hp_no: String,
    /// Points balance in won.
    pub balance: i64,
    /// Labels rules see (`tier`, …); empty when none.
    pub attributes: Attributes,
}

/// A product as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The product's id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Unit price in won.
    pub price: i64,
    /// Units in stock.
    pub stock: i64,
    /// Labels rules see (`category`, `brand`, …); empty when none.
    pub attributes: Attributes,
}

/// A partial update; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    /// New name.
    pub name: Option<String>,
    /// New unit price.
    pub price: Option<i64>,
    /// New stock.
    pub stock: Option<i64>,
    /// New attributes, replacing the old ones whole (empty clears them).
    pub attributes: Option<Attributes>,
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Paid with points; stock and points moved.
    Paid,
    /// Cancelled; stock and points returned.
    Cancelled,
}

impl Status {
    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Paid => "PAID",
            Status::Cancelled => "CANCELLED",
        }
    }

    /// Reads the stored name (anything but `CANCELLED` is paid).
    pub(crate) fn from_db(text: &str) -> Self {
        if text == "CANCELLED" {
            Status::Cancelled
        } else {
            Status::Paid
        }
    }
}

/// One line of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The product.
    pub product_id: i64,
    /// Units bought.
    pub quantity: i64,
    /// Price paid per unit, after pricing rules.
    pub unit_price: i64,
}

/// An order with its lines (ascending product id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The order's id.
    pub id: i64,
    /// Who ordered.
    pub user_id: i64,
    /// Paid or cancelled.
    pub status: Status,
    /// Points paid.
    pub total_amount: i64,
    /// Lines, ascending product id.
    pub lines: Vec<Line>,
    /// When it was paid.
    pub created_at: DateTime<Utc>,
}

/// Why a balance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Points bought (or an opening balance).
    Charge,
    /// Points spent on an order.
    Use,
    /// Points returned by a cancelled order.
    Refund,
}

impl Kind {
    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Charge => "CHARGE",
            Kind::Use => "USE",
            Kind::Refund => "REFUND",
        }
    }

    /// Reads the stored name (an unknown one as the first kind).
    pub(crate) fn from_db(text: &str) -> Self {
        match text {
            "USE" => Kind::Use,
            "REFUND" => Kind::Refund,
            _ => Kind::Charge,
        }
    }
}

/// One history row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Row id; newer rows have larger ids.
    pub id: i64,
    /// Why the balance changed.
    pub kind: Kind,
    /// The change's size in won (always positive; `kind` gives the direction).
    pub amount: i64,
    /// The balance right after the change.
    pub balance_after: i64,
    /// The order involved, for `USE` and `REFUND`.
    pub order_id: Option<i64>,
    /// When the change committed.
    pub created_at: DateTime<Utc>,
}

/// A plugin's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Plugin {
    /// `[a-z0-9-]{1,64}`.
    pub name: String,
    /// The hook's API name.
    pub hook: String,
    /// Lower runs first.
    pub priority: i32,
    /// A JSON object: strings only for a 0.1 version, what the version's schema allows for
    /// a 0.2 one.
    pub config: serde_json::Value,
    /// The version that runs, if any.
    pub active_version: Option<String>,
    /// The version that runs beside it in shadow, if any.
    pub shadow_version: Option<String>,
    /// What a failed call of it does to the request.
    pub on_failure: OnFailure,
}

/// A plugin's failure policy: what a call that traps, runs out of budget or breaks the
/// contract does to its request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum OnFailure {
    /// The request fails with 503 `PLUGIN_FAILED` (the default).
    #[default]
    Reject,
    /// The call counts as an acceptance; a pricing plugin leaves the prices as they were.
    Skip,
}

impl OnFailure {
    /// The stored and serialized name: `reject` or `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Reject => "reject",
            OnFailure::Skip => "skip",
        }
    }

    /// The policy a stored name means (the column's CHECK allows only the two).
    pub(crate) fn from_db(text: &str) -> Self {
        if text == "skip" {
            OnFailure::Skip
        } else {
            OnFailure::Reject
        }
    }
}

/// What an activation ran with: the version, its config, priority and failure policy, and
/// who activated it. A rollback restores the one before the newest live snapshot whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Its row's id (ascending in time).
    pub id: i64,
    /// The version activated.
    pub version: String,
    /// The config in force then (none on activations recorded before snapshots existed).
    pub config: Option<serde_json::Value>,
    /// The priority then.
    pub priority: Option<i32>,
    /// The failure policy then.
    pub on_failure: Option<OnFailure>,
    /// Who activated it (the audit log's actor).
    pub actor: Option<String>,
    /// When.
    pub activated_at: DateTime<Utc>,
    /// Whether a rollback has since gone back past it.
    pub rolled_back: bool,
}

/// One uploaded version (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The plugin.
    pub name: String,
    /// Its version string.
    pub version: String,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: i64,
    /// Free text given at upload.
    pub note: Option<String>,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
    /// The JSON Schema of its config (0.2), or none (0.1: any string map).
    pub config_schema: Option<serde_json::Value>,
}

/// A product and the units of it sold in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sold {
    /// The product.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Units sold in paid orders of the window.
    pub count: i64,
}
