//! The ingest paths Teleport's event-handler plugin can use: its fluentd client
//! (`integrations/event-handler/fluentd_client.go`) sends only `Content-Type: application/json`,
//! so it authenticates with a URL's user info (HTTP Basic, as Go's net/http sends it) or a client
//! certificate (mTLS, with a CA made here). And `mtcp audit import` of fluentd `out_file` lines.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::config::{IngestKey, TlsConfig};
use mtcp_tests::process::binary;
use mtcp_tests::{Stack, StackOptions, Tweak};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::{Value, json};

const INGEST_KEY: &str = "ingest-test-key-basic-0123";

fn event(uid: &str) -> String {
    json!({"uid": uid, "time": "2026-11-26T10:00:00Z", "event": "user.login", "user": "alice", "success": true})
        .to_string()
}

fn with_key(c: &mut mtcp_shared::config::Config) {
    c.audit.ingest_keys = vec![IngestKey { name: "event-handler".into(), sha256: mtcp_cli::dev::key_hash(INGEST_KEY) }];
    c.audit.retention = Duration::from_secs(100 * 365 * 24 * 3600);
}

async fn stored(stack: &Stack) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(&stack.db.pool).await.unwrap()
}

/// POST one event the way the plugin does: `Content-Type: application/json` and nothing else.
async fn send(client: &reqwest::Client, url: &str, body: String) -> Result<reqwest::Response, reqwest::Error> {
    client.post(url).header("Content-Type", "application/json").body(body).send().await
}

#[tokio::test]
async fn basic_auth_from_the_urls_user_info_is_accepted_and_the_user_name_ignored() {
    let tweak: Tweak = Arc::new(with_key);
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let addr = stack.base.strip_prefix("http://").unwrap().to_owned();
    let client = reqwest::Client::new();
    // reqwest, like Go's net/http, turns user info into `Authorization: Basic`.
    let url = |user: &str, key: &str| format!("http://{user}:{key}@{addr}/audit/ingest/teleport.events");
    let r = send(&client, &url("event-handler", INGEST_KEY), event("b-1")).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = send(&client, &url("anyone", INGEST_KEY), event("b-2")).await.unwrap();
    assert_eq!(r.status(), 200, "the user name is ignored");
    assert_eq!(stored(&stack).await, 2);
    // A wrong key, an MCP user's key, or no credential at all: refused, nothing stored.
    for bad in [url("event-handler", "wrong-key"), url("admin", stack.key("admin"))] {
        let r = send(&client, &bad, event("b-3")).await.unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = send(&client, &format!("http://{addr}/audit/ingest"), event("b-3")).await.unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Basic"), "{challenge}");
    assert_eq!(stored(&stack).await, 2);
    stack.stop().await;
}

/// A CA and one certificate signed by it, as PEM.
struct Pki {
    ca_pem: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Pki { ca_pem: issuer.pem(), issuer }
    }

    /// `(certificate PEM, key PEM)` for `names` with `usage`.
    fn issue(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

#[tokio::test]
async fn a_verified_client_certificate_authenticates_the_ingest_endpoint_only() {
    let dir = tempfile::tempdir().unwrap();
    let server_pki = Pki::new("gateway test CA");
    let client_pki = Pki::new("event-handler test CA");
    let rogue_pki = Pki::new("someone else's CA");
    let (server_cert, server_key) = server_pki.issue(&["localhost", "127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let tls = TlsConfig {
        cert: write("server.crt", &server_cert),
        key: write("server.key", &server_key),
        client_ca: Some(write("client-ca.crt", &client_pki.ca_pem)),
    };
    let tweak: Tweak = Arc::new(move |c| {
        with_key(c);
        c.service.tls = Some(tls.clone());
    });
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    assert!(stack.base.starts_with("https://"), "{}", stack.base);
    let ingest = format!("{}/audit/ingest/teleport.events", stack.base);

    let trusting = || {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(server_pki.ca_pem.as_bytes()).unwrap()])
    };
    let with_identity = |pki: &Pki| {
        let (cert, key) = pki.issue(&["teleport-event-handler"], ExtendedKeyUsagePurpose::ClientAuth);
        reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap()
    };

    // The plugin's way: a client certificate signed by the configured CA, over HTTP/2 (Go's client
    // negotiates it) and over HTTP/1.1.
    let plugin = trusting().identity(with_identity(&client_pki)).build().unwrap();
    let r = send(&plugin, &ingest, event("m-1")).await.unwrap();
    assert_eq!((r.status().as_u16(), r.version()), (200, reqwest::Version::HTTP_2));
    let plugin_h1 = trusting().identity(with_identity(&client_pki)).http1_only().build().unwrap();
    let r = send(&plugin_h1, &ingest, event("m-2")).await.unwrap();
    assert_eq!((r.status().as_u16(), r.version()), (200, reqwest::Version::HTTP_11));
    assert_eq!(stored(&stack).await, 2);

    // No certificate: the endpoint asks for a credential (an ingest key still works over TLS).
    let anonymous = trusting().build().unwrap();
    let r = send(&anonymous, &ingest, event("m-3")).await.unwrap();
    assert_eq!(r.status(), 401);
    let with_key = ingest.replacen("https://", &format!("https://event-handler:{INGEST_KEY}@"), 1);
    assert_eq!(send(&anonymous, &with_key, event("m-3")).await.unwrap().status(), 200);

    // A certificate from another CA: the TLS handshake itself is refused.
    let rogue = trusting().identity(with_identity(&rogue_pki)).build().unwrap();
    assert!(send(&rogue, &ingest, event("m-4")).await.is_err(), "an untrusted client certificate is refused");
    assert_eq!(stored(&stack).await, 3);

    // The MCP endpoint keeps its bearer credentials: a client certificate alone is not one.
    let call = |c: &reqwest::Client, bearer: Option<&str>| {
        let mut req = c
            .post(format!("{}/mcp", stack.base))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        req.send()
    };
    assert_eq!(call(&plugin, None).await.unwrap().status(), 401);
    assert_ne!(call(&anonymous, Some(stack.key("admin"))).await.unwrap().status(), 401);
    stack.stop().await;
}

#[tokio::test]
async fn import_reads_fluentd_out_file_lines_and_names_a_bad_line() {
    let db = mtcp_tests::TestDb::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.log");
    let import = |file: &std::path::Path| {
        Command::new(binary("mtcp")).args(["audit", "import"]).arg(file).env("DATABASE_URL", &db.url).output().unwrap()
    };
    // fluentd's default out_file format, a plain JSON line, and a blank line, mixed.
    let lines = format!(
        "2026-11-26T10:00:00+00:00\tteleport.events\t{}\n{}\n\n2026-11-26T10:00:02+00:00\tteleport.events\t{}\n",
        event("f-1"),
        event("f-2"),
        event("f-3")
    );
    std::fs::write(&file, lines).unwrap();
    let out = import(&file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 imported"), "{}", String::from_utf8_lossy(&out.stdout));
    let uids: Vec<String> =
        sqlx::query_scalar("SELECT uid FROM audit_events ORDER BY uid").fetch_all(&db.pool).await.unwrap();
    assert_eq!(uids, ["f-1", "f-2", "f-3"]);
    let raw: Value =
        sqlx::query_scalar("SELECT raw FROM audit_events WHERE uid = 'f-1'").fetch_one(&db.pool).await.unwrap();
    assert_eq!(raw["user"], "alice", "the record, not the time or tag, is stored");

    // A line that is no event: the good lines still go in, the bad one is named, the exit fails.
    let bad = dir.path().join("bad.log");
    std::fs::write(&bad, format!("{}\n2026-11-26 garbage without tabs\n{}\n", event("g-1"), event("g-2"))).unwrap();
    let out = import(&bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("bad.log:2:") && stderr.contains("out_file"), "{stderr}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(&db.pool).await.unwrap();
    assert_eq!(count, 5);
}
