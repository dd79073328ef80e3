//! A stand-in for the gateway's event ingest: a real tonic `EventIngest`
//! server on a free port that records what it is sent, for testing
//! publishers before (and apart from) the gateway.

use inlet_proto::events::v1::event_ingest_server::{EventIngest, EventIngestServer};
use inlet_proto::events::v1::{
    BatchedResult, Event, PublishBatchRequest, PublishBatchResponse, PublishRequest,
    PublishResponse,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::WAIT;

/// One publish the stand-in received.
#[derive(Debug, Clone)]
pub struct Published {
    /// The event.
    pub event: Event,
    /// The `traceparent` it came with (the call's metadata, or its batch
    /// entry), if any.
    pub traceparent: Option<String>,
}

/// A running stand-in; it stops when dropped with the test's runtime.
pub struct IngestStandIn {
    /// `http://127.0.0.1:PORT`, for `INLET_GATEWAY_URL`.
    pub url: String,
    received: mpsc::UnboundedReceiver<Published>,
    batches: Arc<AtomicUsize>,
}

struct Recorder(mpsc::UnboundedSender<Published>, Arc<AtomicUsize>);

#[tonic::async_trait]
impl EventIngest for Recorder {
    async fn publish(
        &self,
        request: tonic::Request<PublishRequest>,
    ) -> Result<tonic::Response<PublishResponse>, tonic::Status> {
        let traceparent = request
            .metadata()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let event = request
            .into_inner()
            .event
            .ok_or_else(|| tonic::Status::invalid_argument("no event"))?;
        let _ = self.0.send(Published { event, traceparent });
        Ok(tonic::Response::new(PublishResponse { sequence: 1 }))
    }

    async fn publish_batch(
        &self,
        request: tonic::Request<PublishBatchRequest>,
    ) -> Result<tonic::Response<PublishBatchResponse>, tonic::Status> {
        self.1.fetch_add(1, Ordering::Relaxed);
        let mut results = Vec::new();
        for entry in request.into_inner().events {
            let traceparent = entry.trace_context.get("traceparent").cloned();
            let event = entry
                .event
                .ok_or_else(|| tonic::Status::invalid_argument("no event"))?;
            let _ = self.0.send(Published { event, traceparent });
            results.push(BatchedResult {
                sequence: 1,
                refused: String::new(),
            });
        }
        Ok(tonic::Response::new(PublishBatchResponse { results }))
    }
}

impl IngestStandIn {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener)
    }

    /// Starts on `listener` (to come up later on a port a publisher already uses).
    pub fn serve(listener: tokio::net::TcpListener) -> Self {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, received) = mpsc::unbounded_channel();
        let batches = Arc::new(AtomicUsize::new(0));
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(EventIngestServer::new(Recorder(tx, Arc::clone(&batches))))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        Self {
            url,
            received,
            batches,
        }
    }

    /// How many `PublishBatch` calls it has answered.
    pub fn batches(&self) -> usize {
        self.batches.load(Ordering::Relaxed)
    }

    /// The next publish, waiting up to [`WAIT`].
    pub async fn next(&mut self) -> Published {
        tokio::time::timeout(WAIT, self.received.recv())
            .await
            .expect("an event arrives in time")
            .expect("the stand-in is running")
    }
}
