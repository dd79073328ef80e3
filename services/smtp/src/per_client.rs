//! Sessions open per client address, so that one address cannot hold every
//! session slot (`smtp.max_sessions_per_client`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The count of open sessions by client address.
#[derive(Debug, Clone)]
pub struct PerClient {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerClient {
    /// At most `limit` sessions per address.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            open: Arc::default(),
        }
    }

    /// A slot for one more session from `client`, or `None` when it has
    /// `limit` open.
    pub fn take(&self, client: IpAddr) -> Option<ClientSlot> {
        let mut open = self.open.lock().expect("per-client lock");
        let count = open.entry(client).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            client,
            open: Arc::clone(&self.open),
        })
    }
}

/// One open session of a client; dropping it frees the slot.
#[derive(Debug)]
pub struct ClientSlot {
    client: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("per-client lock");
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_limit_and_slots_come_back() {
        let per_client = PerClient::new(2);
        let a = IpAddr::from([192, 0, 2, 1]);
        let b = IpAddr::from([192, 0, 2, 2]);
        let first = per_client.take(a).unwrap();
        let _second = per_client.take(a).unwrap();
        assert!(per_client.take(a).is_none());
        assert!(per_client.take(b).is_some());
        drop(first);
        assert!(per_client.take(a).is_some());
    }
}
