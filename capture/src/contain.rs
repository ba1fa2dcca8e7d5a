//! Containment of third-party decoder panics at the reader boundary.
//!
//! The readers validate every header field they can against the file size before a decoder
//! sees the file (see `las_io::validate` and `e57_io`). What validation cannot rule out — a bit
//! flip inside LAZ's arithmetic-coded stream makes the `laz` crate index out of bounds, overflow or
//! trip an internal `assert_eq!` — is caught here with [`std::panic::catch_unwind`] and turned
//! into a typed [`CaptureError`](crate::CaptureError) naming the file. A corrupt scan must end in
//! "corrupt LAZ data in FILE", never in an aborted import or a crashed studio.
//!
//! Unwinding through the `las`/`laz`/`e57` crates is sound here: the reader that panicked is
//! dropped right after (never reused), and nothing it borrowed is left half-updated in a way our
//! code observes (the sink only receives fully decoded chunks).
//!
//! While a contained call runs, the default panic message ("thread … panicked at laz-0.13.0/…")
//! would still be printed to stderr by the process-wide panic hook. [`contained`] installs (once)
//! a hook that stays silent for panics raised inside those decoder crates while at least one
//! contained call is in flight — including on the rayon workers that parallel LAZ decoding uses —
//! and defers to the previous hook for every other panic, so test failures and our own bugs are
//! still reported.

use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();

/// Source paths of the crates whose panics are contained (cargo registry folder names).
const DECODER_CRATES: [&str; 3] = ["laz-", "las-", "e57-"];

fn from_decoder(info: &PanicHookInfo<'_>) -> bool {
    info.location().is_some_and(|l| {
        let f = l.file();
        DECODER_CRATES
            .iter()
            .any(|c| f.contains(&format!("/{c}")) || f.contains(&format!("\\{c}")))
    })
}

fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_FLIGHT.load(Ordering::SeqCst) > 0 && from_decoder(info) {
                return;
            }
            previous(info);
        }));
    });
}

/// Run `f`, turning a panic into `Err(message)`. See the module documentation for why.
pub(crate) fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    let r = std::panic::catch_unwind(AssertUnwindSafe(f));
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    r.map_err(|payload| {
        if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "decoder panicked".to_string()
        }
    })
}
