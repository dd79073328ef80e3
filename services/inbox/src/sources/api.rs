//! The services' read and delete APIs, called with the admin token.

use std::time::Duration;

use inlet_common::access::Secret;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::{Client, StatusCode};
use serde_json::Value;

use crate::config::InboxSettings;
use crate::index::item::Kind;

/// A service could not be asked, or gave an answer the inbox cannot use.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The kind's service is not configured.
    #[error("no {0} service is configured")]
    NotConfigured(&'static str),
    /// The request did not get an answer.
    #[error("{service} could not be reached")]
    Unreachable {
        /// Which service.
        service: &'static str,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// An answer with a status the inbox did not expect.
    #[error("{service} answered {status}")]
    Status {
        /// Which service.
        service: &'static str,
        /// The status.
        status: StatusCode,
    },
    /// An answer that is not the documented JSON.
    #[error("{service} gave an answer that is not its documented JSON")]
    BadAnswer {
        /// Which service.
        service: &'static str,
    },
}

/// One page of a service's list.
#[derive(Debug)]
pub struct ListPage {
    /// The items, newest first, as the API gave them.
    pub items: Vec<Value>,
    /// The cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The service removed it (204).
    Removed,
    /// The service has no such item (404): already gone.
    Missing,
}

/// The services' APIs.
#[derive(Clone)]
pub struct ServiceApi {
    client: Client,
    token: Option<Secret>,
    forms: Option<String>,
    uploads: Option<String>,
    mail: Option<String>,
    /// The largest page each kind's service has taken: a service refuses a
    /// `limit` over its own maximum (400), and the inbox then asks for half.
    page_caps: std::sync::Arc<[std::sync::atomic::AtomicU32; 3]>,
}

/// The smallest page the inbox halves down to before it calls a refusal
/// a failure.
const SMALLEST_PAGE: u32 = 50;

impl ServiceApi {
    /// Clients for the services `settings` names, sending `token`.
    pub fn new(settings: &InboxSettings, token: Option<Secret>) -> Self {
        // The client's TLS (for https service URLs) uses rustls with ring;
        // a build that shares reqwest with the CLI needs it installed. An
        // error only means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(settings.request_timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .expect("a client with timeouts only always builds");
        Self {
            client,
            token,
            forms: settings.forms_url.clone(),
            uploads: settings.uploads_url.clone(),
            mail: settings.mail_url.clone(),
            page_caps: std::sync::Arc::new(std::array::from_fn(|_| {
                std::sync::atomic::AtomicU32::new(u32::MAX)
            })),
        }
    }

    /// The kinds whose service is configured.
    pub fn kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|kind| self.base(*kind).is_some())
            .collect()
    }

    /// The service that keeps `kind`, as metrics and logs name it.
    pub const fn service(kind: Kind) -> &'static str {
        match kind {
            Kind::Submission => "forms",
            Kind::File => "uploads",
            Kind::Mail => "mail",
        }
    }

    fn base(&self, kind: Kind) -> Option<&str> {
        match kind {
            Kind::Submission => self.forms.as_deref(),
            Kind::File => self.uploads.as_deref(),
            Kind::Mail => self.mail.as_deref(),
        }
    }

    /// The list path and the envelope's key.
    const fn list_of(kind: Kind) -> (&'static str, &'static str) {
        match kind {
            Kind::Submission => ("/submissions", "submissions"),
            Kind::File => ("/files", "files"),
            Kind::Mail => ("/messages", "messages"),
        }
    }

    /// `<base>/<list>/<id><rest>`, the id as one path segment.
    fn item_url(&self, kind: Kind, id: &str, rest: &str) -> Result<String, SourceError> {
        let base = self
            .base(kind)
            .ok_or(SourceError::NotConfigured(Self::service(kind)))?;
        let (list, _) = Self::list_of(kind);
        let id = utf8_percent_encode(id, NON_ALPHANUMERIC);
        Ok(format!("{base}{list}/{id}{rest}"))
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let request = self.client.request(method, url);
        match &self.token {
            Some(token) => request.bearer_auth(token.expose()),
            None => request,
        }
    }

    async fn send(
        &self,
        kind: Kind,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SourceError> {
        let service = Self::service(kind);
        request
            .send()
            .await
            .map_err(|source| SourceError::Unreachable { service, source })
    }

    /// One page of `kind`'s list, newest first: up to `limit` items, or
    /// fewer where the service takes no more at once.
    pub async fn list(
        &self,
        kind: Kind,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<ListPage, SourceError> {
        use std::sync::atomic::Ordering;
        let service = Self::service(kind);
        let base = self.base(kind).ok_or(SourceError::NotConfigured(service))?;
        let (path, key) = Self::list_of(kind);
        let cap = &self.page_caps[kind as usize];
        let mut limit = limit.min(cap.load(Ordering::Relaxed));
        let response = loop {
            let mut url = reqwest::Url::parse(&format!("{base}{path}"))
                .map_err(|_| SourceError::BadAnswer { service })?;
            url.query_pairs_mut()
                .append_pair("limit", &limit.to_string());
            if let Some(cursor) = cursor {
                url.query_pairs_mut().append_pair("cursor", cursor);
            }
            let response = self
                .send(kind, self.request(reqwest::Method::GET, url.as_str()))
                .await?;
            match response.status() {
                StatusCode::OK => break response,
                StatusCode::BAD_REQUEST if limit > SMALLEST_PAGE => {
                    limit /= 2;
                    cap.store(limit, Ordering::Relaxed);
                    tracing::info!(
                        service,
                        limit,
                        "asking for smaller pages: the service refused a larger one"
                    );
                }
                status => return Err(SourceError::Status { service, status }),
            }
        };
        let mut body: Value = response
            .json()
            .await
            .map_err(|_| SourceError::BadAnswer { service })?;
        let items = match body.get_mut(key).map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => return Err(SourceError::BadAnswer { service }),
        };
        let next_cursor = body
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(ListPage { items, next_cursor })
    }

    /// One item as JSON (`rest` after its path, e.g. `""` or `/meta`);
    /// `None` when the service has no such item.
    pub async fn get_json(
        &self,
        kind: Kind,
        id: &str,
        rest: &str,
    ) -> Result<Option<Value>, SourceError> {
        let service = Self::service(kind);
        let url = self.item_url(kind, id, rest)?;
        let response = self
            .send(kind, self.request(reqwest::Method::GET, &url))
            .await?;
        match response.status() {
            StatusCode::OK => response
                .json()
                .await
                .map(Some)
                .map_err(|_| SourceError::BadAnswer { service }),
            StatusCode::NOT_FOUND => Ok(None),
            status => Err(SourceError::Status { service, status }),
        }
    }

    /// Bytes of one item (a file, a raw mail, an attachment), as the
    /// service answers them, to be streamed on.
    pub async fn get_bytes(
        &self,
        kind: Kind,
        id: &str,
        rest: &str,
    ) -> Result<Option<reqwest::Response>, SourceError> {
        let service = Self::service(kind);
        let url = self.item_url(kind, id, rest)?;
        let response = self
            .send(kind, self.request(reqwest::Method::GET, &url))
            .await?;
        match response.status() {
            StatusCode::OK => Ok(Some(response)),
            StatusCode::NOT_FOUND => Ok(None),
            status => Err(SourceError::Status { service, status }),
        }
    }

    /// Deletes one item at its service.
    pub async fn delete(&self, kind: Kind, id: &str) -> Result<Deleted, SourceError> {
        let service = Self::service(kind);
        let url = self.item_url(kind, id, "")?;
        let response = self
            .send(kind, self.request(reqwest::Method::DELETE, &url))
            .await?;
        match response.status() {
            StatusCode::NO_CONTENT | StatusCode::OK => Ok(Deleted::Removed),
            StatusCode::NOT_FOUND => Ok(Deleted::Missing),
            status => Err(SourceError::Status { service, status }),
        }
    }
}
