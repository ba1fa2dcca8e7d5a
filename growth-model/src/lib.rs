//! TwinMint growth model (work in progress).
