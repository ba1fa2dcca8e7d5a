//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in the growth model, with the value or input that caused it.
#[derive(Debug, Error)]
pub enum GrowthError {
    /// An input tree or pipe is unusable (non-finite or non-positive size, duplicate id…).
    #[error("invalid input {what} (id {id}): {reason}")]
    InvalidInput {
        what: &'static str,
        id: u32,
        reason: String,
    },
    /// An option is out of range.
    #[error("invalid option {name} = {value}: {reason}")]
    InvalidOption {
        name: &'static str,
        value: String,
        reason: String,
    },
    /// The simulation would need more memory than [`crate::sim::MAX_SIMULATION_BYTES`] allows.
    #[error("{what}: needs about {estimate_gb:.1} GB, over the {cap_gb:.0} GB limit; {hint}")]
    TooLarge {
        what: String,
        estimate_gb: f64,
        cap_gb: f64,
        hint: String,
    },
    /// A result came out NaN or infinite; nothing is written.
    #[error("the simulation produced a non-finite {what} ({value}); refusing to write it")]
    NonFinite { what: String, value: String },
    /// Nothing to simulate.
    #[error("no trees to simulate")]
    NoTrees,
    /// A price table could not be parsed.
    #[error("price table {source_name}, line {line}: {reason}")]
    PriceParse {
        source_name: String,
        line: usize,
        reason: String,
    },
    /// A price table has too few months for what was asked of it.
    #[error("price table {source_name}: {reason}")]
    PriceData { source_name: String, reason: String },
    /// Currencies that must agree do not.
    #[error("currency mismatch: {expected} vs {found} ({context})")]
    CurrencyMismatch {
        expected: String,
        found: String,
        context: String,
    },
    /// Reading a price file failed (only `prices::load_csv` touches the file system).
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Refreshing a price table over the network failed (offline, HTTP error, bad body).
    #[error("price refresh from {url} failed: {message}")]
    Network { url: String, message: String },
    /// `prices::refresh` was called in a build without the `refresh` cargo feature.
    #[error(
        "price refresh from {url} is unavailable: growth-model was built without network support \
         (enable the `refresh` cargo feature)"
    )]
    NetworkDisabled { url: String },
    /// The cancellation token was triggered; nothing partial is returned.
    #[error("cancelled")]
    Cancelled,
}

/// Shorthand used throughout the crate.
pub type Result<T, E = GrowthError> = std::result::Result<T, E>;

pub(crate) fn bad_option(name: &'static str, value: impl ToString, reason: &str) -> GrowthError {
    let mut value = value.to_string();
    // 1e308 prints as 309 digits: keep extreme numbers readable.
    if value.len() > 24
        && let Ok(v) = value.parse::<f64>()
    {
        value = format!("{v:e}");
    }
    GrowthError::InvalidOption {
        name,
        value,
        reason: reason.to_string(),
    }
}
