//! TwinMint mint stage (work in progress).
