//! The inbox against real services: a gateway, forms, uploads and smtp run
//! as their binaries, the inbox in this process, a real browser for pages.

mod browser;
mod helpers;
mod pages;
mod screenshots;
mod sync;
