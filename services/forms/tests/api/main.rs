//! Integration tests for inlet-forms: a real server on a free port, real HTTP
//! clients, raw TCP where a well-behaved client cannot express the case.

mod access;
mod binary;
mod browser;
mod durability;
mod early_answers;
mod events;
mod health;
mod helpers;
mod limits;
mod metrics;
mod pages;
mod postgres;
mod removal;
mod shutdown;
mod submit;
mod timeouts;
