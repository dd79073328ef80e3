//! Ctrl+C as an event the commands wait on. The listener is made once, up
//! front, so an interrupt that arrives while a command is busy (printing,
//! reconnecting) is kept for its next wait instead of being missed.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Listens for SIGINT from the moment it is made.
pub struct Interrupt(Signal);

impl Interrupt {
    /// Starts listening.
    pub fn listen() -> std::io::Result<Self> {
        Ok(Self(signal(SignalKind::interrupt())?))
    }

    /// Resolves at the next Ctrl+C (or one that came since the last wait).
    pub async fn wait(&mut self) {
        self.0.recv().await;
    }
}
