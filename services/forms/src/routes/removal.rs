//! `DELETE /submissions/{id}`: delete one submission (the delete scope);
//! `POST /submissions/compact`: erase every deleted one from the disk now.

use std::time::SystemTime;

use actix_web::{web, HttpResponse};
use inlet_common::publish::{event, event_now, SubmissionDeleted};
use inlet_common::retention::Reason;
use serde_json::json;

use crate::error::FormsError;
use crate::state::AppState;
use crate::store::SubmissionStore;

/// Handles `DELETE /submissions/{id}`: 204 once no read returns it (and
/// its tombstone is on disk); 404 when there is no such submission, which
/// is also the answer to deleting one twice.
pub async fn delete(
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FormsError> {
    let id = uuid::Uuid::try_parse(&id).map_err(|_| FormsError::NotFound)?;
    let removed = state
        .store
        .delete(id, SystemTime::now())
        .await?
        .ok_or(FormsError::NotFound)?;
    state.removals.count(Reason::Deleted, 1, removed.bytes);
    tracing::info!(
        submission_id = %id,
        seq = removed.sequence,
        bytes = removed.bytes,
        "submission deleted; its bytes are erased at the next compaction"
    );
    state.publisher.publish(event_now(
        id,
        "inlet-forms",
        event::Kind::SubmissionDeleted(SubmissionDeleted {
            submission_id: id.to_string(),
        }),
    ));
    Ok(HttpResponse::NoContent().finish())
}

/// Handles `POST /submissions/compact`: rewrites every segment holding a
/// deleted submission now, rather than at the next due sweep, and says
/// what it did.
pub async fn compact(state: web::Data<AppState>) -> Result<HttpResponse, FormsError> {
    let done = state.store.compact(SystemTime::now()).await?;
    tracing::info!(
        erased = done.records,
        segments_rewritten = done.segments,
        bytes_freed = done.bytes,
        "compaction asked for"
    );
    Ok(HttpResponse::Ok().json(json!({
        "erased": done.records,
        "segments_rewritten": done.segments,
        "bytes_freed": done.bytes,
    })))
}
