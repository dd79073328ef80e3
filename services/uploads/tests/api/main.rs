//! Integration tests for inlet-uploads: a real server on a free port, real
//! HTTP clients.

mod browser;
mod helpers;
mod put;
