//! Integration tests for inlet-uploads: a real server on a free port, real
//! HTTP clients, and raw TCP for what a good client won't send.

mod access;
mod browser;
mod events;
mod files;
mod helpers;
mod hostile;
mod multipart;
mod process;
mod put;
mod removal;
mod s3;
mod table;
