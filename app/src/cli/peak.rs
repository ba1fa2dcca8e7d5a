//! This process's peak resident memory, for the benchmarks and `tile run --json`.
//!
//! Linux keeps the high-water mark of resident memory (`VmHWM` in `/proc/self/status`); it
//! starts afresh at exec (unlike `wait4`'s `ru_maxrss`, which a child inherits from the parent
//! across the fork), and writing `5` to `/proc/self/clear_refs` resets it to the current resident
//! size (proc(5)), so a stage's peak can be measured on its own. Elsewhere these say `None`.

fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Reset the high-water mark; `false` where the OS has no such knob.
pub fn reset() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The high-water mark of resident memory, bytes.
pub fn bytes() -> Option<u64> {
    status_kb("VmHWM:").map(|kb| kb * 1024)
}
