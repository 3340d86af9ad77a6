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
//! - [`ConfigNumbers`] reads whole numbers from the config, panicking on a bad value;
//! - `testing::config` (feature `testing`, for the plugins' unit tests) builds a config.
//!
//! Why not a general allocator (`dlmalloc`, `talc`): their bookkeeping buys reuse, which a
//! single call does not need, and `dlmalloc` grows memory instead of using the pages the
//! instance already has, so each call would touch pages the host then has to reset.

#![no_std]
#![deny(missing_docs)]

extern crate alloc;

use alloc::string::{String, ToString};
use core::ops::RangeInclusive;

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

/// Reads whole numbers from a plugin's config, the `(key, value)` pairs the host passes.
///
/// A value that is present but wrong panics (the host then fails the request with 503
/// `PLUGIN_FAILED`), with a message that starts with [`plugin`](Self::plugin) and names the
/// key:
/// - ``{plugin}: config `{key}` must be {kind}, got "{value}"`` when it is not a decimal
///   integer;
/// - ``{plugin}: config `{key}` is {value}, it must be at least {low}`` when it is below a
///   range with no upper end (one that ends at `i64::MAX`);
/// - ``{plugin}: config `{key}` is {value}, it must be {low} to {high}`` when it is outside
///   any other range.
#[derive(Debug, Clone, Copy)]
pub struct ConfigNumbers<'a> {
    /// The plugin's name, at the start of each panic message, e.g. `charge-limits`.
    pub plugin: &'a str,
    /// What a value must be, in the panic message: `a whole number`, `a whole number of won`.
    pub kind: &'a str,
    /// The config as the call got it.
    pub config: &'a [(String, String)],
}

impl ConfigNumbers<'_> {
    /// The value of `key` as a whole number in `range`, or `default` when the key is absent.
    ///
    /// # Panics
    /// When the value is not a decimal integer or lies outside `range` (messages above). The
    /// panic names the caller's line, not this one.
    #[track_caller]
    pub fn get(&self, key: &str, default: i64, range: RangeInclusive<i64>) -> i64 {
        let Self {
            plugin,
            kind,
            config,
        } = *self;
        let Some((_, raw)) = config.iter().find(|(k, _)| k == key) else {
            return default;
        };
        let (low, high) = (*range.start(), *range.end());
        match raw.parse::<i64>() {
            Ok(n) if range.contains(&n) => n,
            Ok(_) if high == i64::MAX => {
                panic!("{plugin}: config `{key}` is {raw}, it must be at least {low}")
            }
            Ok(_) => panic!("{plugin}: config `{key}` is {raw}, it must be {low} to {high}"),
            Err(_) => panic!("{plugin}: config `{key}` must be {kind}, got {raw:?}"),
        }
    }
}

/// For the plugins' native unit tests: feature `testing`, which they turn on as a
/// dev-dependency only, so it is never in a component.
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use alloc::{
        string::{String, ToString},
        vec::Vec,
    };

    /// A config as the host passes it, from `(key, value)` literals.
    pub fn config(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn numbers(config: &[(String, String)]) -> ConfigNumbers<'_> {
        ConfigNumbers {
            plugin: "some-plugin",
            kind: "a whole number of won",
            config,
        }
    }

    fn config() -> Vec<(String, String)> {
        testing::config(&[("n", "7"), ("big", "101"), ("neg", "-3"), ("bad", "7%")])
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn config_numbers_in_range_or_default() {
        let config = config();
        let numbers = numbers(&config);
        assert_eq!(numbers.get("n", 1, 0..=i64::MAX), 7);
        assert_eq!(numbers.get("n", 1, 7..=7), 7);
        assert_eq!(numbers.get("neg", 1, -3..=0), -3);
        assert_eq!(numbers.get("absent", 42, 0..=10), 42);
        // A default is not checked against the range.
        assert_eq!(numbers.get("absent", -1, 0..=10), -1);
    }

    #[test]
    #[should_panic(expected = "some-plugin: config `neg` is -3, it must be at least 0")]
    fn config_number_below_an_open_range_panics() {
        numbers(&config()).get("neg", 0, 0..=i64::MAX);
    }

    #[test]
    #[should_panic(expected = "some-plugin: config `big` is 101, it must be 0 to 100")]
    fn config_number_above_a_range_panics() {
        numbers(&config()).get("big", 0, 0..=100);
    }

    #[test]
    #[should_panic(expected = "some-plugin: config `n` is 7, it must be 8 to 9")]
    fn config_number_below_a_closed_range_panics() {
        numbers(&config()).get("n", 0, 8..=9);
    }

    #[test]
    #[should_panic(
        expected = "some-plugin: config `bad` must be a whole number of won, got \"7%\""
    )]
    fn config_number_that_is_not_a_number_panics() {
        numbers(&config()).get("bad", 0, 0..=i64::MAX);
    }
}
