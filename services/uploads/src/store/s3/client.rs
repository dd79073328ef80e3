//! The S3 client as the store uses it: built from `[store.s3]` on rustls
//! with ring, and its errors sorted into what the store must tell apart.

use std::error::Error as StdError;
use std::io;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

use super::settings::S3Settings;
use crate::store::StoreUnavailable;

/// A client for the bucket in `settings`.
pub fn build(settings: &S3Settings) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .credentials_provider(Credentials::new(
            settings.access_key_id.clone(),
            settings.secret_access_key.clone(),
            None,
            None,
            "inlet-config",
        ))
        .force_path_style(settings.path_style)
        .http_client(http)
        // SHA-256 of every file is already computed; no CRC on top of it.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(
                    settings
                        .request_timeout()
                        .min(std::time::Duration::from_secs(5)),
                )
                .operation_attempt_timeout(settings.request_timeout())
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if !settings.endpoint.is_empty() {
        config = config.endpoint_url(settings.endpoint.clone());
    }
    Client::from_conf(config.build())
}

/// What went wrong with one S3 request, as far as the store cares.
#[derive(Debug)]
pub enum Failure {
    /// `412`: the conditional create found the key taken.
    Taken,
    /// `409`: a concurrent conditional write; trying again may succeed.
    Conflict,
    /// `404`: no such key (or upload).
    Missing,
    /// S3 could not be reached, timed out, or answered 5xx.
    Unreachable(String),
    /// Anything else (refused credentials, a bad request…).
    Other(String),
}

impl Failure {
    /// Sorts an SDK error.
    pub fn of<E, R>(err: SdkError<E, R>) -> Self
    where
        E: StdError + Send + Sync + 'static,
        R: std::fmt::Debug + HasStatus,
    {
        let text = DisplayErrorContext(&err).to_string();
        match &err {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => Failure::Unreachable(text),
            _ => match err.raw_response().map(HasStatus::status) {
                Some(412) => Failure::Taken,
                Some(409) => Failure::Conflict,
                Some(404) => Failure::Missing,
                Some(status) if status >= 500 => Failure::Unreachable(text),
                _ => Failure::Other(text),
            },
        }
    }
}

impl From<Failure> for io::Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unreachable(why) => io::Error::other(StoreUnavailable(why)),
            Failure::Taken => io::Error::new(io::ErrorKind::AlreadyExists, "the S3 key is taken"),
            Failure::Conflict => io::Error::other("a concurrent write to the same S3 key"),
            Failure::Missing => io::Error::new(io::ErrorKind::NotFound, "no such S3 key"),
            Failure::Other(why) => io::Error::other(why),
        }
    }
}

/// The HTTP status of a raw response.
pub trait HasStatus {
    /// Its status code.
    fn status(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}
