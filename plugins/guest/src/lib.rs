//! The guest runtime of a `no_std` rule plugin. The host runs every call in a fresh instance
//! and drops it afterwards, so nothing a call allocates needs freeing: the allocator here hands
//! out memory upwards from the end of the plugin's static data (`__heap_base`) and never
//! reuses it, growing linear memory only when the initial pages are used up. It also exports
//! `cabi_realloc`, through which the host writes a call's arguments into the instance (a
//! `std` plugin gets both from wasi-libc, with the WASI imports that come with it).
//!
//! A plugin links it with `extern crate edgecart_guest;` and, on `wasm32`, is `#![no_std]`
//! with the `#[panic_handler]` that [`panic_handler!`] defines in its `component.rs`: it logs
//! the panic through the host and traps. Off `wasm32` (its native unit tests) this crate is
//! empty (the macro defines nothing there) and the plugin uses `std`.
//!
//! Why not a general allocator (`dlmalloc`, `talc`): their bookkeeping buys reuse, which a
//! single call does not need, and `dlmalloc` grows memory instead of using the pages the
//! instance already has, so each call would touch pages the host then has to reset.

#![no_std]
#![deny(missing_docs)]

extern crate alloc;

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
