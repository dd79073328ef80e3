//! `inlet get`: the whole response, checked against its Content-Length, JSON
//! pretty-printed, or one top-level field of it (`--field`).

use std::io::Write;

use super::{client, exchange, is_json, parse_url, print_body, CheckedBody};
use crate::args::GetArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::outcome::Outcome;

/// Gets and prints.
pub async fn run(args: GetArgs, ctx: &Context) -> Result<Outcome, CliError> {
    let url = parse_url(&args.url)?;
    let client = client(ctx)?;
    let mut builder = client.get(url.clone());
    if let Some(token) = &args.credential.token {
        builder = builder.bearer_auth(token);
    }
    let (response, outcome) = exchange(&client, &url, builder, &args.http, ctx).await?;
    let Some(name) = &args.field else {
        print_body(response, !args.raw).await?;
        return Ok(outcome);
    };
    let json = is_json(&response);
    let bytes = CheckedBody::new(response).collect().await?;
    if outcome != Outcome::Done {
        std::io::stdout().write_all(&bytes)?;
        return Ok(outcome);
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|err| {
        let said = if json {
            ""
        } else {
            " (and does not say it is)"
        };
        CliError::Response(format!("the response is not JSON{said}: {err}"))
    })?;
    let field = value
        .as_object()
        .ok_or_else(|| CliError::Response("the response is JSON but not an object".to_owned()))?
        .get(name)
        .ok_or_else(|| CliError::Response(format!("the response has no field {name:?}")))?;
    match field {
        serde_json::Value::String(text) => println!("{text}"),
        other => println!("{other}"),
    }
    Ok(outcome)
}
