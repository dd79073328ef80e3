//! `inlet ws`: a WebSocket conversation, interactive on a terminal and
//! line-by-line from a pipe; and the connection both it and `inlet events` use.

pub mod connect;
mod interactive;
mod piped;

use std::io::IsTerminal;

use crate::args::WsArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::outcome::Outcome;

/// Connects and talks, interactively when stdin is a terminal.
pub async fn run(args: WsArgs, ctx: &Context) -> Result<Outcome, CliError> {
    let url = connect::parse_url(&args.url)?;
    let interactive = std::io::stdin().is_terminal() && !args.once;
    let socket = match connect::open(&url, args.credential.token.as_deref(), ctx).await {
        Ok(socket) => socket,
        Err(err) if interactive => {
            interactive::failed(&err);
            return Err(CliError::Reported);
        }
        Err(err) => return Err(err),
    };
    if interactive {
        interactive::run(socket).await
    } else if args.once {
        piped::once(socket, ctx).await
    } else {
        piped::run(socket, &args, ctx).await
    }
}
