//! Integration tests for inlet-uploads: a real server on a free port, real
//! HTTP clients.

mod helpers;
mod put;
