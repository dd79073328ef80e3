//! The paging rules every list endpoint shares (`/submissions`, `/files`,
//! `/messages`), as one table each service's tests run against its own list.

use crate::http::admin_client;

/// Checks `list_url` (items under `items`, largest page `max_limit`):
/// walking it two at a time gives exactly the items of one whole page, in
/// the same newest-first order, ending with a `null` cursor; and every
/// malformed query is `400 bad_query` with a sentence saying what is wrong.
/// Returns the whole page's items.
pub async fn assert_pages_like_every_list(
    list_url: &str,
    items: &str,
    max_limit: usize,
) -> Vec<serde_json::Value> {
    let client = admin_client();
    let get = |url: String| {
        let client = client.clone();
        async move {
            let res = client
                .get(&url)
                .header("accept", "application/json")
                .send()
                .await
                .expect("an answer");
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
            (status, body)
        }
    };
    let sep = if list_url.contains('?') { '&' } else { '?' };
    let (status, whole) = get(format!("{list_url}{sep}limit={max_limit}")).await;
    assert_eq!(status, 200, "{list_url}: {whole}");
    let all = whole[items].as_array().expect("the items").clone();
    assert!(
        whole["next_cursor"].is_null(),
        "one page holds them all: {whole}"
    );
    assert!(all.len() >= 3, "the table needs at least three items");

    let mut walked = Vec::new();
    let mut url = format!("{list_url}{sep}limit=2");
    for _ in 0..all.len() {
        let (status, page) = get(url.clone()).await;
        assert_eq!(status, 200, "{url}: {page}");
        let got = page[items].as_array().unwrap();
        assert!(!got.is_empty() && got.len() <= 2, "{url}: {page}");
        walked.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("{list_url}{sep}limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let ids = |list: &[serde_json::Value]| -> Vec<String> {
        list.iter().map(|item| item["id"].to_string()).collect()
    };
    assert_eq!(
        ids(&walked),
        ids(&all),
        "paging gives each item once, in order"
    );
    for item in &all {
        for key in ["id", "received_at", "trace_id", "size"] {
            assert!(item.get(key).is_some(), "every item has {key}: {item}");
        }
    }

    let too_many: String = (0..9).map(|i| format!("k{i}=v&")).collect();
    let over = max_limit + 1;
    for query in [
        "limit=0".to_owned(),
        format!("limit={over}"),
        "limit=two".to_owned(),
        "limit=1&limit=2".to_owned(),
        "cursor=not-a-cursor".to_owned(),
        "cursor=1&cursor=2".to_owned(),
        "limit=%FF".to_owned(),
        too_many,
    ] {
        let (status, body) = get(format!("{list_url}{sep}{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_query", "{query}: {body}");
    }
    all
}
