//! Integration tests for inlet-gateway: a real gateway on free ports, real
//! WebSocket clients (tokio-tungstenite), real gRPC publishers.

mod access;
mod browser;
mod feed;
mod helpers;
mod hostile;
mod nats;
mod process;
mod publishing;
mod socket;
