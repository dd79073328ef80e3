//! HTTP building blocks every actix-web service shares.

pub mod errors;
pub mod settings;
