//! The one table of error codes: every code's stable name and HTTP status.
//!
//! An error type only says which [`Code`] it is; its status and name come from
//! here, so they cannot drift apart. The names are what clients see (the JSON
//! `error.code` of an HTTP answer) and what the CLI and the gateway's close
//! reasons will use. A name, once published, never changes meaning.

/// Declares [`Code`] with its status and name for each variant.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $status:literal, $name:literal;)*) => {
        /// A stable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The HTTP status an answer with this code carries.
            pub const fn http_status(self) -> u16 {
                match self {
                    $(Code::$variant => $status,)*
                }
            }

            /// The stable, snake_case name clients see.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    /// A request the server cannot parse (malformed head, bad header value).
    BadRequest => 400, "bad_request";
    /// A `Content-Length` that is not a plain decimal number.
    BadContentLength => 400, "bad_content_length";
    /// The body ended before its declared length.
    IncompleteBody => 400, "incomplete_body";
    /// The body (or a decoded field) is not valid UTF-8.
    InvalidUtf8 => 400, "invalid_utf8";
    /// A JSON body that does not parse.
    InvalidJson => 400, "invalid_json";
    /// A query parameter that is not valid.
    BadQuery => 400, "bad_query";
    /// A header the request needs is missing or unreadable.
    MissingHeader => 400, "missing_header";
    /// A multipart body that does not follow its own syntax.
    MalformedMultipart => 400, "malformed_multipart";
    /// Reading stored items needs a credential and the request carried none.
    MissingCredential => 401, "missing_credential";
    /// The credential the request carried is not one of the configured ones.
    BadCredential => 401, "bad_credential";
    /// The credential is right but lacks the scope this needs.
    InsufficientScope => 403, "insufficient_scope";
    /// No credential is configured, so nothing stored can be read.
    ReadingDisabled => 403, "reading_disabled";
    /// Too many failed credentials from this address; wait and try again.
    TooManyFailures => 429, "too_many_failures";
    /// A WebSocket handshake from a browser page whose origin is not allowed.
    OriginNotAllowed => 403, "origin_not_allowed";
    /// A change from a page without the page's anti-forgery token.
    BadCsrfToken => 403, "bad_csrf_token";
    /// A request whose `Host` is not in `http.allowed_hosts` (DNS rebinding).
    HostNotAllowed => 403, "host_not_allowed";
    /// No such path.
    NotFound => 404, "not_found";
    /// The path exists but does not serve this method.
    MethodNotAllowed => 405, "method_not_allowed";
    /// The request head did not arrive in time.
    RequestTimeout => 408, "request_timeout";
    /// The request body did not arrive in time.
    BodyTimeout => 408, "body_timeout";
    /// A body-carrying request with neither `Content-Length` nor chunked encoding.
    LengthRequired => 411, "length_required";
    /// A body over its configured limit.
    PayloadTooLarge => 413, "payload_too_large";
    /// More fields than the configured limit.
    TooManyFields => 413, "too_many_fields";
    /// A file larger than the configured limit.
    FileTooLarge => 413, "file_too_large";
    /// A text field larger than the configured limit.
    FieldTooLarge => 413, "field_too_large";
    /// More multipart parts than the configured limit.
    TooManyParts => 413, "too_many_parts";
    /// A multipart part's header block larger than the configured limit.
    PartHeadersTooLarge => 413, "part_headers_too_large";
    /// A request target over the server's limit.
    UriTooLong => 414, "uri_too_long";
    /// A content type (or charset) the endpoint does not take.
    UnsupportedMediaType => 415, "unsupported_media_type";
    /// A plain HTTP request to an endpoint that only speaks WebSocket.
    UpgradeRequired => 426, "upgrade_required";
    /// Request headers over the server's limit.
    HeadersTooLarge => 431, "headers_too_large";
    /// A failure on our side; the details are in the log, not the answer.
    Internal => 500, "internal";
    /// Storing what was sent failed; nothing was kept.
    StoreFailed => 500, "store_failed";
    /// The disk is full; nothing was kept.
    InsufficientStorage => 507, "insufficient_storage";
    /// The service cannot serve now (not ready, shutting down, out of room).
    Unavailable => 503, "unavailable";
    /// Every connection slot is taken; try again later.
    TooManyConnections => 503, "too_many_connections";
    /// A service this one relies on failed or could not be reached.
    UpstreamFailed => 502, "upstream_failed";
}

impl Code {
    /// The generic code for an answer that carries no code of its own (one
    /// actix made before any handler ran); `None` for a status with none.
    pub fn for_status(status: u16) -> Option<Code> {
        let generic = [
            Code::BadRequest,
            Code::NotFound,
            Code::MethodNotAllowed,
            Code::RequestTimeout,
            Code::LengthRequired,
            Code::PayloadTooLarge,
            Code::UriTooLong,
            Code::UnsupportedMediaType,
            Code::HeadersTooLarge,
            Code::Unavailable,
        ];
        generic
            .into_iter()
            .find(|c| c.http_status() == status)
            .or_else(|| (500..600).contains(&status).then_some(Code::Internal))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_statuses_are_errors() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let name = code.name();
            assert!(seen.insert(name), "{name} is used twice");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name} is not snake_case"
            );
            assert!((400..600).contains(&code.http_status()), "{name}");
        }
    }

    #[test]
    fn generic_codes_follow_the_status() {
        assert_eq!(Code::for_status(404), Some(Code::NotFound));
        assert_eq!(Code::for_status(431), Some(Code::HeadersTooLarge));
        assert_eq!(Code::for_status(502), Some(Code::Internal));
        assert_eq!(Code::for_status(409), None);
        for status in [400, 404, 405, 408, 411, 413, 414, 415, 431, 503] {
            assert_eq!(Code::for_status(status).unwrap().http_status(), status);
        }
    }
}
