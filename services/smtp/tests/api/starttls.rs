//! STARTTLS with a configured certificate: a real rustls client upgrades,
//! sends a message, and nothing sent in plain text before the handshake
//! counts inside it.

use std::sync::Arc;

use inlet_testkit::smtp::Dialogue;
use inlet_testkit::WAIT;
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use crate::helpers::{spawn_smtp, TestSmtp};

/// A self-signed certificate for `localhost`, written as PEM files.
struct Certificate {
    dir: tempfile::TempDir,
    der: rustls_pki_types::CertificateDer<'static>,
}

fn certificate() -> Certificate {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), made.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), made.signing_key.serialize_pem()).unwrap();
    Certificate {
        der: made.cert.der().clone(),
        dir,
    }
}

async fn spawn_with_tls(cert: &Certificate) -> TestSmtp {
    let cert_path = cert.dir.path().join("cert.pem").display().to_string();
    let key_path = cert.dir.path().join("key.pem").display().to_string();
    spawn_smtp(&[
        ("INLET_SMTP__TLS_CERT", &cert_path),
        ("INLET_SMTP__TLS_KEY", &key_path),
    ])
    .await
}

/// Upgrades `plain` to TLS, trusting only `cert`.
async fn handshake(
    plain: tokio::net::TcpStream,
    cert: &Certificate,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(WAIT, connector.connect(name, plain))
        .await
        .expect("the handshake ends in time")
        .expect("the server's certificate is the configured one")
}

/// A session with a STARTTLS-capable server, its EHLO answered; gives the
/// EHLO reply too.
async fn greeted(smtp: &TestSmtp) -> (Dialogue<TcpStream>, String) {
    let mut plain = smtp.dial().await;
    plain.send(b"ehlo client\r\n").await;
    let ehlo = plain.reply().await;
    assert!(ehlo.starts_with("250"), "{ehlo}");
    (plain, ehlo)
}

#[tokio::test]
async fn a_client_upgrades_with_starttls_and_its_message_is_stored() {
    let cert = certificate();
    let smtp = spawn_with_tls(&cert).await;
    let (mut plain, ehlo) = greeted(&smtp).await;
    assert!(ehlo.contains("STARTTLS"), "{ehlo}");
    assert_eq!(plain.say("starttls").await, 220);
    let mut tls = Dialogue::new(handshake(plain.into_inner(), &cert).await);
    tls.send(b"ehlo client\r\n").await;
    let ehlo = tls.reply().await;
    assert!(ehlo.starts_with("250"), "{ehlo}");
    assert!(!ehlo.contains("STARTTLS"), "not offered twice: {ehlo}");
    tls.start_message(&["you@example.com"]).await;
    assert_eq!(tls.say("sent over TLS\r\n.").await, 250);
    let stored = smtp.new_mail("you");
    assert_eq!(stored.len(), 1);
    assert!(stored[0].ends_with(b"sent over TLS\r\n"));
}

#[tokio::test]
async fn commands_sent_in_plain_text_behind_starttls_are_dropped() {
    let cert = certificate();
    let smtp = spawn_with_tls(&cert).await;
    let (mut plain, _) = greeted(&smtp).await;
    // The injection: a MAIL FROM riding in the same packet as STARTTLS.
    plain
        .send(b"starttls\r\nmail from:<evil@example.com>\r\n")
        .await;
    assert_eq!(plain.code().await, 220);
    let mut tls = Dialogue::new(handshake(plain.into_inner(), &cert).await);
    assert_eq!(tls.say("ehlo client").await, 250);
    // Had the injected MAIL counted, this RCPT would be accepted.
    assert_eq!(tls.say("rcpt to:<you@example.com>").await, 503);
}

#[tokio::test]
async fn without_a_certificate_starttls_is_not_offered() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    session.send(b"ehlo client\r\n").await;
    let ehlo = session.reply().await;
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
}
