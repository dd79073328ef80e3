//! Integration tests for inlet-smtp: a real server on free ports, a real
//! SMTP client (lettre) and raw TCP dialogues.

mod dialogue;
mod helpers;
mod hostile;
mod messages;
mod process;
mod removal;
mod starttls;
