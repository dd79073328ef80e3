//! The scaled set (`deploy/compose/scale.yml`): the feed on NATS JetStream
//! and two gateways behind the balancer. Run by `tests/e2e/run.sh` after the
//! single-machine stack, with `INLET_E2E_BALANCER_URL` (`ws://`) set.

use std::collections::HashSet;

use futures_util::StreamExt;
use inlet_testkit::ws::{self, Socket};
use inlet_testkit::WAIT;
use tokio_tungstenite::tungstenite::Message;

use crate::stack::Stack;

/// One subscriber of the feed through the balancer, reconnecting with
/// `since` and `epoch` when its gateway goes away.
struct Subscriber {
    url: String,
    token: String,
    socket: Socket,
    epoch: String,
    /// Every event frame it was given: (sequence, kind, id).
    seen: Vec<(u64, String, String)>,
    /// How many times its socket was closed under it.
    dropped: usize,
}

impl Subscriber {
    async fn connect(url: &str, token: &str) -> Self {
        let (socket, hello) = open(&format!("{url}/events"), token).await;
        assert_eq!(hello["recovered"], true, "{hello}");
        Self {
            url: url.to_owned(),
            token: token.to_owned(),
            socket,
            epoch: hello["epoch"].as_str().unwrap().to_owned(),
            seen: Vec::new(),
            dropped: 0,
        }
    }

    /// Reads until it has `count` events in all, reconnecting through the
    /// balancer whenever its socket ends.
    async fn read_until(&mut self, count: usize) {
        while self.seen.len() < count {
            let next = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("an event or the socket's end in time");
            match next {
                Some(Ok(Message::Text(text))) => {
                    let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(frame["type"], "event", "{frame}");
                    self.seen.push((
                        frame["sequence"].as_u64().unwrap(),
                        frame["kind"].as_str().unwrap().to_owned(),
                        frame["id"].as_str().unwrap().to_owned(),
                    ));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(_)) | Some(Err(_)) | None => self.reconnect().await,
            }
        }
    }

    async fn reconnect(&mut self) {
        self.dropped += 1;
        let since = self.seen.last().map_or(0, |(sequence, _, _)| *sequence);
        let url = format!("{}/events?since={since}&epoch={}", self.url, self.epoch);
        let (socket, hello) = open(&url, &self.token).await;
        assert_eq!(hello["recovered"], true, "{hello}");
        assert_eq!(
            hello["epoch"],
            self.epoch.as_str(),
            "one stream behind both gateways"
        );
        self.socket = socket;
    }
}

/// Opens `url` with the stack's token, retrying while the balancer finds
/// no gateway; the socket and its `subscribed` frame.
async fn open(url: &str, token: &str) -> (Socket, serde_json::Value) {
    let bearer = format!("Bearer {token}");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match ws::try_connect(url, &[("authorization", &bearer)]).await {
            Ok(mut socket) => {
                let hello = ws::next_json(&mut socket).await;
                assert_eq!(hello["type"], "subscribed", "{hello}");
                return (socket, hello);
            }
            Err(status) => {
                assert!(tokio::time::Instant::now() < deadline, "{url}: {status}");
                // Polling the balancer until a gateway answers, not a timed guess.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test]
#[ignore = "needs the scaled compose set: run tests/e2e/run.sh"]
async fn arrivals_reach_subscribers_of_both_gateways_and_a_stopped_gateway_costs_them_nothing() {
    let stack = Stack::from_env();
    let balancer = std::env::var("INLET_E2E_BALANCER_URL").expect("run tests/e2e/run.sh");
    // Four subscribers through the balancer: round robin puts two on each gateway.
    let mut subscribers = Vec::new();
    for _ in 0..4 {
        subscribers.push(Subscriber::connect(&balancer, &stack.token).await);
    }
    let arrivals = |round: &'static str| {
        let stack = &stack;
        async move {
            stack.post_form(&[format!("round={round}")]).await;
            stack.put_traced(&format!("{round}.txt"), round).await;
            stack.mail_traced(round, round).await;
        }
    };
    arrivals("first").await;
    for subscriber in &mut subscribers {
        subscriber.read_until(3).await;
    }

    // One gateway stops; the next arrivals come while its subscribers
    // reconnect through the balancer to the other.
    stack.compose(&["stop", "gateway-2"]).await;
    arrivals("second").await;
    for subscriber in &mut subscribers {
        subscriber.read_until(6).await;
    }
    stack.compose(&["start", "gateway-2"]).await;

    let moved = subscribers.iter().filter(|s| s.dropped > 0).count();
    assert!(
        (1..subscribers.len()).contains(&moved),
        "subscribers were on both gateways: {moved} of {} moved",
        subscribers.len()
    );
    let first = &subscribers[0].seen;
    for subscriber in &subscribers {
        assert_eq!(
            &subscriber.seen, first,
            "every subscriber saw the same events with the same sequences"
        );
    }
    let kinds: Vec<&str> = first.iter().map(|(_, kind, _)| kind.as_str()).collect();
    let expected = ["form_submitted", "file_stored", "mail_received"];
    for round in kinds.chunks(3) {
        let round: HashSet<&str> = round.iter().copied().collect();
        assert_eq!(round, expected.into_iter().collect(), "{kinds:?}");
    }
    let ids: HashSet<&str> = first.iter().map(|(_, _, id)| id.as_str()).collect();
    assert_eq!(ids.len(), 6, "no event twice");
    assert!(
        first.windows(2).all(|w| w[1].0 > w[0].0),
        "in stream order: {first:?}"
    );
}
