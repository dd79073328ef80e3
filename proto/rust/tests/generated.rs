//! The committed generated code is exactly what the `.proto` gives.

use std::path::{Path, PathBuf};

fn proto_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/generated/inlet.events.v1.rs")
}

#[test]
fn generated_code_matches_the_proto() {
    let fds = protox::compile(["inlet/events/v1/events.proto"], [proto_root()])
        .expect("the .proto compiles");
    let out = tempfile::tempdir().unwrap();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        .emit_rerun_if_changed(false)
        .out_dir(out.path())
        .compile_fds(fds)
        .expect("code generation succeeds");
    let fresh = std::fs::read_to_string(out.path().join("inlet.events.v1.rs")).unwrap();
    if std::env::var_os("INLET_PROTO_BLESS").is_some() {
        std::fs::write(committed(), &fresh).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(committed()).unwrap_or_default();
    assert!(
        kept == fresh,
        "src/generated/inlet.events.v1.rs is not what proto/ gives: \
         run `INLET_PROTO_BLESS=1 cargo test -p inlet-proto` and commit the result"
    );
}
