//! The library's own tests, one binary (unit tests in the library would compile it a second
//! time for `cargo test`: the test build should compile only test code).

mod accuracy;
mod ari;
mod chm;
mod chm_filter;
mod cog;
mod dtm;
mod gltf;
mod gpu;
mod ground_csf;
mod mesh;
mod model;
mod noise;
mod normalize;
mod normals;
mod pipes;
mod segment;
mod species_input;
mod stem;
mod step;
mod trees;
mod treetops;

/// Unit tests' GPU: the shared context, or `None` with a message where no adapter exists —
/// allowed only outside CI and without `TWINMINT_REQUIRE_GPU` (lavapipe must run there).
pub fn shared_or_skip() -> Option<std::sync::Arc<reconstruct::gpu::GpuContext>> {
    match reconstruct::gpu::GpuContext::shared() {
        Ok(g) => Some(g),
        Err(e) => {
            test_support::skip_or_fail("this GPU test", &e);
            None
        }
    }
}
