//! Integration tests for `inlet`: the real binary against real Inlet
//! services started as child processes, through pipes and, for the
//! interactive commands, a real pseudo-terminal.

mod events;
mod helpers;
mod http;
mod mail;
mod terminal;
mod tls;
mod trace;
mod upload;
mod ws;
