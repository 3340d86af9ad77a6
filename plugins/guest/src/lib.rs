//! The guest side of a `no_std` rule plugin, and the helpers the default plugins share.
//!
//! The host runs every call in a fresh instance and drops it afterwards, so nothing a call
//! allocates needs freeing: the allocator here hands out memory upwards from the end of the
//! plugin's static data (`__heap_base`) and never reuses it, growing linear memory only when
//! the initial pages are used up. It also exports `cabi_realloc`, through which the host
//! writes a call's arguments into the instance (a `std` plugin gets both from wasi-libc, with
//! the WASI imports that come with it).
//!
//! A plugin links it with `extern crate edgecart_guest;` and, on `wasm32`, is `#![no_std]`
//! with the `#[panic_handler]` that [`panic_handler!`] defines in its `component.rs`: it logs
//! the panic through the host and traps. Off `wasm32` (its native unit tests) the allocator
//! and the panic handler are left out and the plugin uses `std`. The helpers are there on
//! every target:
//! - [`thousands`] writes amounts the way the host's messages do;
//! - [`config`] reads the config (JSON text, contract 0.2): [`config::parse`] into any serde
//!   type, [`ConfigNumbers`] whole numbers by key, panicking on a bad value, and
//!   [`whole!`] is the schema fragment of such a number;
//! - `testing::schema_errors` (feature `testing`, for the plugins' unit tests) checks a config
//!   against a plugin's schema as the host does.
//!
//! Why not a general allocator (`dlmalloc`, `talc`): their bookkeeping buys reuse, which a
//! single call does not need, and `dlmalloc` grows memory instead of using the pages the
//! instance already has, so each call would touch pages the host then has to reset.

#![no_std]
#![deny(missing_docs)]

extern crate alloc;

use alloc::string::{String, ToString};

pub mod config;

pub use config::ConfigNumbers;

#[cfg(target_arch = "wasm32")]
mod bump {
    use core::{
        alloc::{GlobalAlloc, Layout},
        arch::wasm32,
        cell::Cell,
        ptr,
    };

    const PAGE: usize = 65_536;

    unsafe extern "C" {
        /// The first byte after the stack and static data, placed by the linker.
        static __heap_base: u8;
    }

    /// Memory handed out upwards, never freed; see the crate docs.
    pub struct Bump {
        /// Next free byte; 0 until the first allocation.
        next: Cell<usize>,
        /// End of linear memory as of the last look.
        end: Cell<usize>,
    }

    // SAFETY: a component instance runs on one thread; nothing else can reach this value.
    unsafe impl Sync for Bump {}

    impl Bump {
        const fn new() -> Self {
            Self {
                next: Cell::new(0),
                end: Cell::new(0),
            }
        }
    }

    // SAFETY: every block returned is aligned as asked, lies within linear memory (grown first
    // when needed), and is never handed out twice, since `next` only moves up.
    unsafe impl GlobalAlloc for Bump {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if self.end.get() == 0 {
                self.next.set(&raw const __heap_base as usize);
                self.end.set(wasm32::memory_size(0) * PAGE);
            }
            let start = self.next.get().next_multiple_of(layout.align());
            let Some(stop) = start.checked_add(layout.size()) else {
                return ptr::null_mut();
            };
            if stop > self.end.get() {
                let pages = (stop - self.end.get()).div_ceil(PAGE);
                if wasm32::memory_grow(0, pages) == usize::MAX {
                    return ptr::null_mut();
                }
                self.end.set(self.end.get() + pages * PAGE);
            }
            self.next.set(stop);
            start as *mut u8
        }

        unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
    }

    #[global_allocator]
    static ALLOCATOR: Bump = Bump::new();

    /// The canonical ABI's allocation entry point: where the host copies a call's strings and
    /// lists. A failure traps (the host reports it as the call's memory failure).
    ///
    /// # Safety
    /// Called by the host only, with the canonical ABI's arguments.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn cabi_realloc(
        old: *mut u8,
        old_len: usize,
        align: usize,
        new_len: usize,
    ) -> *mut u8 {
        if new_len == 0 {
            return align as *mut u8;
        }
        // SAFETY: the canonical ABI passes a power-of-two alignment and, when `old_len` is not
        // zero, a block of `old_len` bytes this function returned before.
        unsafe {
            let new = ALLOCATOR.alloc(Layout::from_size_align_unchecked(new_len, align));
            if new.is_null() {
                wasm32::unreachable()
            }
            if old_len != 0 {
                ptr::copy_nonoverlapping(old, new, old_len.min(new_len));
            }
            new
        }
    }
}

/// Defines the plugin's `#[panic_handler]`, on `wasm32` only (where the plugin is `no_std`). A
/// panic (a bad config value, say) is written to the call's log through the host, then traps:
/// the host fails the call with 503 `PLUGIN_FAILED` and keeps the log.
///
/// Give it the path of the `host` interface that `wit_bindgen::generate!` put in the module,
/// as each default plugin's `component.rs` does:
/// `edgecart_guest::panic_handler!(edgecart::rules::host);`
#[macro_export]
macro_rules! panic_handler {
    ($($host:ident)::+) => {
        #[cfg(target_arch = "wasm32")]
        #[panic_handler]
        fn panic(info: &::core::panic::PanicInfo) -> ! {
            $crate::log_and_trap(info, |message| {
                $($host)::+::log($($host)::+::Level::Error, message)
            })
        }
    };
}

/// What [`panic_handler!`] expands to call: writes the panic with `log`, then traps.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub fn log_and_trap(info: &core::panic::PanicInfo, log: impl FnOnce(&str)) -> ! {
    log(&alloc::format!("{info}"));
    core::arch::wasm32::unreachable()
}

/// Formats 1000000 as "1,000,000" (the host's format, so messages match byte for byte).
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// For the plugins' native unit tests: feature `testing`, which they turn on as a
/// dev-dependency only, so it is never in a component.
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    extern crate std;

    use alloc::{borrow::ToOwned, string::String, vec::Vec};

    /// Where `config` (JSON text) does not fit `schema` (a plugin's `CONFIG_SCHEMA`), checked
    /// as the host checks it (the `jsonschema` crate, draft 2020-12): one JSON Pointer per
    /// error, `""` for the whole config; empty when it fits.
    ///
    /// # Panics
    /// When either is not JSON, or the schema does not compile (the host would refuse the
    /// upload).
    pub fn schema_errors(schema: &str, config: &str) -> Vec<String> {
        let schema: serde_json::Value = serde_json::from_str(schema).expect("the schema is JSON");
        let config: serde_json::Value = serde_json::from_str(config).expect("the config is JSON");
        let validator =
            jsonschema::draft202012::new(&schema).expect("the schema compiles as draft 2020-12");
        validator
            .iter_errors(&config)
            .map(|error| error.instance_path().as_str().to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn schema_errors_name_each_offending_path() {
        let schema = r#"{"type": "object", "additionalProperties": false,
            "properties": {"max": {"type": "integer"}}}"#;
        assert!(testing::schema_errors(schema, r#"{"max": 5}"#).is_empty());
        assert_eq!(testing::schema_errors(schema, r#"{"max": "5"}"#), ["/max"]);
        assert_eq!(testing::schema_errors(schema, r#"{"mx": 5}"#), [""]);
    }
}
