//! Deleting items: `GET /delete?item=kind:id…` asks "Delete these?", and
//! `POST /delete` (the delete scope, and the page's anti-forgery token)
//! deletes each at its service and takes it out of the index.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use inlet_common::access::Scope;
use inlet_http::page::html;

use super::reader::{changer, reader};
use super::session::local_path;
use crate::error::InboxError;
use crate::index::item::Kind;
use crate::index::Row;
use crate::sources::api::Deleted;
use crate::state::AppState;
use crate::views;

/// Most items one delete may name.
pub const MAX_ITEMS: usize = 500;

/// Largest `POST /delete` body: `MAX_ITEMS` items and the rest.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// What a delete request names.
struct Asked {
    items: Vec<(Kind, String)>,
    back: String,
    csrf: String,
}

fn asked(pairs: &[u8]) -> Result<Asked, InboxError> {
    let mut asked = Asked {
        items: Vec::new(),
        back: "/".into(),
        csrf: String::new(),
    };
    for (key, value) in form_urlencoded::parse(pairs) {
        match key.as_ref() {
            "item" => {
                let (kind, id) = value
                    .split_once(':')
                    .and_then(|(kind, id)| Some((Kind::parse(kind)?, id.to_owned())))
                    .ok_or(InboxError::BadRequest("each item must be kind:id"))?;
                if asked.items.len() == MAX_ITEMS {
                    return Err(InboxError::BadRequest(
                        "at most 500 items can be deleted at once",
                    ));
                }
                if !asked.items.contains(&(kind, id.clone())) {
                    asked.items.push((kind, id));
                }
            }
            "back" => asked.back = local_path(&value),
            "csrf" => asked.csrf = value.into_owned(),
            _ => {}
        }
    }
    if asked.items.is_empty() {
        return Err(InboxError::BadRequest("select at least one item to delete"));
    }
    Ok(asked)
}

async fn rows_of(state: &AppState, items: &[(Kind, String)]) -> Result<Vec<Row>, InboxError> {
    let items = items.to_vec();
    let rows = state
        .syncer
        .blocking(move |index| {
            let mut rows = Vec::new();
            for (kind, id) in &items {
                if let Some(stored) = index.get(*kind, id)? {
                    rows.push(stored.row);
                }
            }
            Ok(rows)
        })
        .await?;
    if rows.is_empty() {
        return Err(InboxError::NotFound);
    }
    Ok(rows)
}

/// `GET /delete`: the confirmation.
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, InboxError> {
    let who = reader(&req, Scope::Delete)?;
    let asked = asked(req.query_string().as_bytes())?;
    let rows = rows_of(&state, &asked.items).await?;
    Ok(html(
        views::forms::confirm_delete(&rows, &who.csrf, &asked.back).into_string(),
    ))
}

/// `POST /delete`: deletes each item at its service, then back to the list.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, InboxError> {
    let asked = asked(&body)?;
    changer(&req, Scope::Delete, &asked.csrf)?;
    let mut deleted = 0;
    for (kind, id) in asked.items {
        let outcome = state.syncer.api().delete(kind, &id).await;
        match outcome {
            Ok(Deleted::Removed) | Ok(Deleted::Missing) => {
                if matches!(outcome, Ok(Deleted::Removed)) {
                    deleted += 1;
                }
                tracing::info!(kind = kind.name(), id = %id, "item deleted from the inbox");
                state.syncer.remove(kind, id).await?;
            }
            Err(err) => return Err(err.into()),
        }
    }
    let back = if asked.back.starts_with("/items/") {
        "/".to_owned()
    } else {
        asked.back
    };
    let separator = if back.contains('?') { '&' } else { '?' };
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{back}{separator}deleted={deleted}"),
        ))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_kind_colon_id_and_back_stays_here() {
        let asked = asked(
            b"item=mail%3Aab&item=file%3Ax-1-a.txt&item=mail%3Aab&back=https%3A%2F%2Fevil&csrf=t",
        )
        .unwrap();
        assert_eq!(
            asked.items,
            vec![(Kind::Mail, "ab".into()), (Kind::File, "x-1-a.txt".into())]
        );
        assert_eq!(asked.back, "/");
        assert_eq!(asked.csrf, "t");
        assert!(super::asked(b"item=fax%3A1").is_err());
        assert!(super::asked(b"back=%2F").is_err(), "nothing selected");
    }
}
