//! Headless Chromium driven over WebDriver (Debian's `chromium` + `chromium-driver`).

use std::process::Stdio;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::WAIT;

/// axe-core's source, from the `axe-selenium-python` wheel.
fn axe_script() -> String {
    let found = std::process::Command::new("python3")
        .args([
            "-c",
            "import axe_selenium_python, os; print(os.path.join(os.path.dirname(axe_selenium_python.__file__), 'node_modules', 'axe-core', 'axe.min.js'))",
        ])
        .output()
        .expect("python3 runs");
    let path = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("axe-core is not installed ({path:?}: {e}): pip install axe-selenium-python")
    })
}

/// Where Debian installs the browser and its driver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A browser session; the driver and every Chromium process it started
/// are killed when this is dropped, even when a test panics.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    _driver: Child,
}

impl Browser {
    /// Starts chromedriver on a free port, waits until it says it is ready, and
    /// opens a headless Chromium session.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Like [`Browser::start`], with more Chromium switches (e.g.
    /// `--force-dark-mode` for pages in dark).
    pub async fn start_with(extra_args: &[&str]) -> Self {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // A group of its own, which its Chromium processes join: killed
            // together on drop (killing the driver alone left them running).
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {CHROMEDRIVER} (apt-get install chromium-driver): {e}")
            });
        let stdout = driver.stdout.take().unwrap();
        // Keep reading the driver's output for its whole life, so it never
        // writes into a closed pipe; say when it reports being ready.
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut ready_tx = Some(ready_tx);
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("started successfully") {
                    if let Some(tx) = ready_tx.take() {
                        let _ = tx.send(());
                    }
                }
            }
        });
        let started = tokio::time::timeout(WAIT, ready_rx).await;
        assert!(matches!(started, Ok(Ok(()))), "chromedriver did not start");

        let mut caps = serde_json::Map::new();
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ];
        args.extend_from_slice(extra_args);
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args }),
        );
        let client = tokio::time::timeout(
            WAIT,
            ClientBuilder::new(HttpConnector::new())
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await
        .expect("browser session opens in time")
        .expect("browser session opens");
        Self {
            client,
            _driver: driver,
        }
    }

    /// The inputs of the current page that have no accessible name (no
    /// label and no `aria-label`), as HTML; empty when every input has one.
    pub async fn inputs_without_a_name(&self) -> Vec<String> {
        let unnamed = self
            .client
            .execute(
                "return [...document.querySelectorAll('input, select, textarea')]
                    .filter(i => i.type !== 'hidden')
                    .filter(i => !(i.labels && i.labels.length) && !i.getAttribute('aria-label'))
                    .map(i => i.outerHTML);",
                vec![],
            )
            .await
            .expect("the page runs the check");
        serde_json::from_value(unnamed).expect("a list of strings")
    }

    /// Types `text` into the element `css` selects (a file input takes a path).
    pub async fn type_into(&self, css: &str, text: &str) {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Clicks the element `css` selects.
    pub async fn click(&self, css: &str) {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Waits (up to [`WAIT`]) for an element matching `xpath` and returns its
    /// text. A page that is navigating away meanwhile (the driver answers
    /// "aborted by navigation", or the element goes stale) is asked again:
    /// what is waited for is the next page's element.
    pub async fn text_of(&self, xpath: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let found = self
                .client
                .wait()
                .at_most(left)
                .for_element(fantoccini::Locator::XPath(xpath))
                .await;
            let last = match found {
                Ok(element) => match element.text().await {
                    Ok(text) => return text,
                    Err(err) => err,
                },
                Err(err) => err,
            };
            assert!(
                tokio::time::Instant::now() < deadline,
                "{xpath} did not appear: {last}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The accessibility problems axe-core finds on the current page that
    /// it rates serious or critical, as `rule: elements`; empty when none.
    /// axe-core comes from the `axe-selenium-python` wheel on PyPI (which
    /// carries `axe.min.js`), found through `python3`.
    pub async fn serious_accessibility_problems(&self) -> Vec<String> {
        self.client
            .execute(&axe_script(), vec![])
            .await
            .expect("axe-core loads into the page");
        let found = tokio::time::timeout(
            WAIT,
            self.client.execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            ),
        )
        .await
        .expect("axe-core answers in time")
        .expect("axe-core runs");
        serde_json::from_value(found).expect("a list of strings")
    }

    /// Ends the browser session (then, dropped, its processes go).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self._driver.id() {
            // The driver's group: the driver and the browsers it started.
            let group = nix::unistd::Pid::from_raw(-(pid as i32));
            let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        }
    }
}
