//! This process's peak resident memory, for the benchmarks and `tile run --json`.
//!
//! Linux keeps the high-water mark of resident memory (`VmHWM` in `/proc/self/status`); it
//! starts afresh at exec (unlike `wait4`'s `ru_maxrss`, which a child inherits from the parent
//! across the fork), and writing `5` to `/proc/self/clear_refs` resets it to the current resident
//! size (proc(5)), so a stage's peak can be measured on its own. Elsewhere these say `None`.
//!
//! Before the reset, the allocator hands its free pages back (glibc `malloc_trim(3)`): memory an
//! earlier stage freed stays resident in glibc's per-thread arenas otherwise, and the next stage's
//! peak would start from it — a stage run as its own process (`twinmint reconstruct`) does not.

fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Reset the high-water mark (after returning the allocator's free pages to the OS); `false`
/// where the OS has no such knob.
pub fn reset() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of glibc's own heaps; no pointer is passed.
    unsafe {
        libc::malloc_trim(0);
    }
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The high-water mark of resident memory, bytes.
pub fn bytes() -> Option<u64> {
    status_kb("VmHWM:").map(|kb| kb * 1024)
}
