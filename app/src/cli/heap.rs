//! glibc heap settings for every verb.
//!
//! A verb's stages allocate and free large column buffers one after another (read, reconstruct,
//! fingerprint, package). glibc's default raises its mmap threshold each time such a block is
//! freed (up to 32 MiB), so later blocks come from the brk heap and stay resident after `free`:
//! each stage then starts with the last one's garbage (malloc(3), "M_MMAP_THRESHOLD"). Fixing the
//! threshold at 1 MiB maps and returns big blocks, trimming the heap top at every free keeps it
//! close to what is live, and two arenas instead of one per thread stop rayon's workers from
//! each holding a heap (the usual `MALLOC_ARENA_MAX` remedy for multi-threaded batch jobs, set
//! here so a scheduler's or user's environment need not).
//!
//! Measured (`twinmint bench pipeline`, 1 M points, with the 256 Ki-point read chunk): peak
//! 163 → 117 MB at about 3 % more time (within the run-to-run spread here); a survey
//! tile task, 1.4 M points: 215 → 168 MB at +4 % time.

/// Apply the settings; call first thing in `main`, before any thread starts.
pub fn bound() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc allocator parameters; it is called before the process
    // starts its threads and allocates its working set.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 0);
    }
}
