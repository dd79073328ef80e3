//! Error text for logs and operators: an error with the chain of its causes.

/// `b: c` for an error whose sources are `b` and then `c`; empty when it has none.
pub fn causes(err: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut next = err.source();
    while let Some(cause) = next {
        parts.push(cause.to_string());
        next = cause.source();
    }
    parts.join(": ")
}

/// `a: b: c` for an error `a` with its sources.
pub fn with_causes(err: &dyn std::error::Error) -> String {
    let causes = causes(err);
    if causes.is_empty() {
        err.to_string()
    } else {
        format!("{err}: {causes}")
    }
}
