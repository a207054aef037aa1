//! Panic containment for every `extern "C"` entry point: a panic must never unwind into C. It is
//! logged with its location through Kamailio's logger and the entry returns its failure value.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::sys::L_CRIT;

static HOOK: Once = Once::new();

thread_local! {
    /// Inside `guard`: panics are reported through Kamailio's logger.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !GUARDED.get() {
                return previous(info);
            }
            let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(non-text panic payload)");
            crate::log::write(L_CRIT, file, line, "panic", &format!("panic: {msg}"));
        }));
    });
}

/// Runs `body`; if it panics, logs the panic (with its location) and returns `on_panic`.
pub fn guard<R>(entry: &'static str, on_panic: R, body: impl FnOnce() -> R) -> R {
    install_hook();
    let outer = GUARDED.replace(true);
    let result = panic::catch_unwind(AssertUnwindSafe(body));
    GUARDED.set(outer);
    match result {
        Ok(r) => r,
        Err(_) => {
            crate::log::write(
                L_CRIT,
                file!(),
                line!(),
                entry,
                "aborted by a panic (logged above); returning failure to the caller",
            );
            on_panic
        }
    }
}
