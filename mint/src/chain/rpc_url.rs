//! RPC URLs often carry a secret — an API key in the path (`https://eth-mainnet.example/v2/KEY`),
//! in the query (`?apikey=…`) or as `user:pass@` — so they are never shown in full: errors,
//! `Debug` output and messages print [`redact_url`]'s `scheme://host[:port]` form.

use std::fmt;

/// `scheme://host[:port]`, with `/…` appended when a path, query or fragment was hidden and `…@`
/// in place of a `user:pass@`. A URL with nothing to hide (`http://127.0.0.1:8545`) comes back
/// unchanged; a string that is not `scheme://…` is not shown at all.
pub fn redact_url(url: &str) -> String {
    // Something that is not a URL at all could be anything, a bare key included.
    let Ok(u) = url.trim().parse::<alloy::transports::http::reqwest::Url>() else {
        return NOT_SHOWN.into();
    };
    let Some(host) = u.host_str() else {
        return NOT_SHOWN.into();
    };
    let userinfo = !u.username().is_empty() || u.password().is_some();
    let tail = !matches!(u.path(), "" | "/") || u.query().is_some() || u.fragment().is_some();
    format!(
        "{}://{}{host}{}{}",
        u.scheme(),
        if userinfo { "…@" } else { "" },
        u.port().map(|p| format!(":{p}")).unwrap_or_default(),
        if tail { "/…" } else { "" }
    )
}

const NOT_SHOWN: &str = "(RPC URL not shown)";

/// Replace every spelling of `url` in `text` (as given, and as the HTTP client normalises it),
/// and its secret parts on their own, with their redacted forms: transport errors quote the URL
/// they failed on.
pub fn redact_in(text: &str, url: &str) -> String {
    let short = redact_url(url);
    let mut spellings = vec![url.trim().to_string()];
    if let Ok(u) = url.trim().parse::<alloy::transports::http::reqwest::Url>() {
        spellings.push(u.as_str().to_string());
    }
    let mut secrets: Vec<(String, String)> = Vec::new();
    for s in &spellings {
        secrets.push((s.clone(), short.clone()));
        if let Some(p) = split(s) {
            if let Some(tail) = secret_tail(p.tail) {
                secrets.push((tail.to_string(), "/…".into()));
            }
            if let Some(user) = p.userinfo {
                secrets.push((format!("{user}@"), "…@".into()));
            }
        }
    }
    // Longest first, so a spelling that contains another is replaced whole.
    secrets.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for (secret, shown) in &secrets {
        if !secret.is_empty() && secret != shown {
            out = out.replace(secret.as_str(), shown);
        }
    }
    out
}

/// The parts of a URL that may hold a secret.
struct Parts<'a> {
    userinfo: Option<&'a str>,
    tail: &'a str,
}

fn split(url: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    Some(Parts {
        userinfo: authority.rsplit_once('@').map(|(user, _)| user),
        tail,
    })
}

/// Path, query and fragment, unless there is nothing there (`""`, `"/"`).
fn secret_tail(tail: &str) -> Option<&str> {
    (!(tail.is_empty() || tail == "/")).then_some(tail)
}

/// Is this an `http(s)://` URL on this machine (`localhost`, `127.0.0.0/8`, `[::1]`)?
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(u) = url.trim().parse::<alloy::transports::http::reqwest::Url>() else {
        return false;
    };
    if !matches!(u.scheme(), "http" | "https") {
        return false;
    }
    let Some(host) = u.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An RPC URL held in an error: `Display` and `Debug` show only [`redact_url`]'s form.
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedUrl(String);

impl RedactedUrl {
    /// The full URL, secret included: for connecting, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for RedactedUrl {
    fn from(s: String) -> Self {
        RedactedUrl(s)
    }
}

impl From<&str> for RedactedUrl {
    fn from(s: &str) -> Self {
        RedactedUrl(s.to_string())
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", redact_url(&self.0))
    }
}
