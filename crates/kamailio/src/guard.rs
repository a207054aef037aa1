//! Panic containment for every `extern "C"` entry point: a panic must never unwind into C. It is
//! logged with its location through Kamailio's logger and the entry returns its failure value.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::sys::L_CRIT;

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        panic::set_hook(Box::new(|info| {
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
    match panic::catch_unwind(AssertUnwindSafe(body)) {
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
