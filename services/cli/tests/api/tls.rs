//! https, wss and STARTTLS with `--cacert`: Inlet's HTTP services behind a
//! TLS-terminating proxy written into the test (rustls), the SMTP service
//! with its own STARTTLS certificate.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

use crate::helpers::{inlet, port_logged, service, stored_mail, url, Gateway};

/// A self-signed certificate for `localhost`, its PEM files, and a server config.
struct Certificate {
    dir: tempfile::TempDir,
    server: Arc<rustls::ServerConfig>,
}

impl Certificate {
    fn new() -> Self {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), made.cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), made.signing_key.serialize_pem()).unwrap();
        let key =
            rustls_pki_types::PrivateKeyDer::try_from(made.signing_key.serialize_der()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![made.cert.der().clone()], key)
            .unwrap();
        Self {
            dir,
            server: Arc::new(server),
        }
    }

    fn pem(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }
}

/// Terminates TLS on a free port and forwards each connection to `backend`.
async fn tls_proxy(cert: &Certificate, backend: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(cert.server.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                let mut plain = TcpStream::connect(("127.0.0.1", backend)).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn https_and_wss_work_with_the_servers_certificate_trusted() {
    let cert = Certificate::new();
    let data = tempfile::tempdir().unwrap();
    let forms = service("forms", data.path(), None, &[]).await;
    let gateway = Gateway::start().await;
    let https = tls_proxy(&cert, forms.port).await;
    let wss = tls_proxy(&cert, gateway.process.port).await;
    let cacert = cert.pem().display().to_string();

    let run = inlet(
        &[
            "post",
            &format!("https://localhost:{https}/"),
            "--json",
            r#"{"over":"tls"}"#,
            "--cacert",
            &cacert,
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    let stored = inlet(
        &[
            "get",
            &url(&forms, "/submissions"),
            "--field",
            "submissions",
        ],
        b"",
    )
    .await;
    assert!(
        stored.stdout.contains("\"over\":\"tls\""),
        "{}",
        stored.stdout
    );

    // Not trusted: refused, in one line that says why.
    let run = inlet(
        &[
            "post",
            &format!("https://localhost:{https}/"),
            "--json",
            "{}",
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    let run = inlet(
        &[
            "ws",
            &format!("wss://localhost:{wss}/"),
            "--once",
            "--cacert",
            &cacert,
        ],
        b"Hello\n",
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.stdout, "Websockets!\n");
}

#[tokio::test]
async fn mail_goes_over_starttls_when_asked() {
    let cert = Certificate::new();
    let data = tempfile::tempdir().unwrap();
    let cert_path = cert.pem().display().to_string();
    let key_path = cert.dir.path().join("key.pem").display().to_string();
    let smtp = service(
        "smtp",
        data.path(),
        None,
        &[
            ("INLET_SMTP__TLS_CERT", &cert_path),
            ("INLET_SMTP__TLS_KEY", &key_path),
        ],
    )
    .await;
    let port = port_logged(&smtp, "inlet-smtp SMTP listening").await;
    let run = inlet(
        &[
            "mail",
            "--server",
            &format!("localhost:{port}"),
            "--starttls",
            "--cacert",
            &cert_path,
            "--to",
            "you@example.com",
            "--body",
            "sealed",
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    let stored = stored_mail(data.path());
    assert_eq!(stored.len(), 1);
    assert!(stored[0].1.contains("sealed"));
}
