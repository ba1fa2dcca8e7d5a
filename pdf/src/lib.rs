//! TwinMint's PDF reports: the collateral report (mint package) and the drift report (resurvey).
//!
//! A deliberately small, deterministic PDF 1.7 writer ([`doc`]): no clock, no random ids, the
//! same input gives the same bytes (the collateral report is hashed into the package's CID).
//! Text is set in **Hack**, a monospaced TrueType font bundled with the binary and embedded in
//! every file (simple font, WinAnsi encoding, so `pdftotext` and screen readers get the text
//! back); monospacing makes tables align without a shaping engine. [`flow`] lays text, tables
//! and figures down pages; [`figure`] draws the maps and band charts as vector graphics.

pub mod doc;
pub mod figure;
pub mod flow;

pub use doc::{Page, Pdf, Rgb};
pub use flow::Flow;
