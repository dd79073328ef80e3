//! Where items come from: the services' read APIs (listed, fetched,
//! deleted with the admin token) and the gateway's event feed.
//!
//! # Layout
//! - [`api`]: the services' HTTP APIs.
//! - [`arrivals`]: new items fetched by the ids the feed names.
//! - [`convert`]: an API item as an index item.
//! - [`sync`]: catch-ups, rebuilds and removals.
//! - [`feed`]: following the event feed.

pub mod api;
pub mod arrivals;
pub mod convert;
pub mod feed;
pub mod sync;
