//! `inlet delete`: one DELETE with the credential; the item is gone when
//! the answer is 204.

use super::{client, exchange, parse_url, print_body};
use crate::args::DeleteArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::outcome::Outcome;
use crate::style::{dim, Stream};

/// Deletes and says so.
pub async fn run(args: DeleteArgs, ctx: &Context) -> Result<Outcome, CliError> {
    let url = parse_url(&args.url)?;
    let client = client(ctx)?;
    let mut builder = client.delete(url.clone());
    if let Some(token) = &args.credential.token {
        builder = builder.bearer_auth(token);
    }
    let (response, outcome) = exchange(&client, &url, builder, &args.http, ctx).await?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND && args.missing_ok {
        eprintln!(
            "{}",
            dim(
                Stream::Stderr,
                "not there (already gone): nothing to delete"
            )
        );
        return Ok(Outcome::Done);
    }
    if status.is_success() {
        eprintln!("{}", dim(Stream::Stderr, "deleted"));
    }
    // A refusal's sentence (401, 403, 404) says what to do.
    print_body(response, false).await?;
    Ok(outcome)
}
