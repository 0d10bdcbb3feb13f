//! Loading and validation: bad input names the key.

use super::*;

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[test]
fn defaults_are_valid_and_safe() {
    let c = Config::from_yaml("{}").unwrap();
    assert!(!c.policy.allow_tsh_passthrough && !c.policy.allow_tctl_passthrough);
    assert_eq!(c.teleport.timeout, std::time::Duration::from_secs(30));
    assert!(c.database_url().unwrap_err().to_string().contains("database.url"));
}

#[test]
fn seed_keys_parse() {
    let c = Config::from_yaml(&format!(
        r#"
teleport: {{ proxy: "teleport.example.com:443", identity_file: /id.pem, tctl_path: tctl, timeout: 10s }}
tsh: {{ tsh_path: tsh, home: /var/lib/mcp-teleport/home }}
service: {{ host: 0.0.0.0, port: 8000, log_level: INFO }}
database: {{ url: "postgres://mcp:pw@localhost:5432/mcp" }}
policy: {{ allow_tsh_passthrough: false, default_proxy_ttl_seconds: 3600, max_concurrent_proxies_per_actor: 10 }}
auth:
  api_keys:
    - {{ actor: alice, role: user, sha256: "{HASH}" }}
"#
    ))
    .unwrap();
    assert_eq!(c.teleport.timeout.as_secs(), 10);
    assert_eq!(c.auth.api_keys[0].actor, "alice");
    assert_eq!(c.database_url().unwrap(), "postgres://mcp:pw@localhost:5432/mcp");
}

#[test]
fn unknown_keys_are_rejected_by_name() {
    let err = Config::from_yaml("teleport: { proxi: x }").unwrap_err().to_string();
    assert!(err.contains("proxi"), "{err}");
    let err = Config::from_yaml("nonsense: 1").unwrap_err().to_string();
    assert!(err.contains("nonsense"), "{err}");
}

#[test]
fn bad_values_name_the_key() {
    for (yaml, key) in [
        ("teleport: { timeout: forever }", "teleport.timeout"),
        ("teleport: { timeout: 0s }", "teleport.timeout"),
        ("service: { port: 99999 }", "service.port"),
        ("service: { log_level: 'loud[' }", "service.log_level"),
        ("database: { url: mysql://x }", "database.url"),
        ("worker: { concurrency: 0 }", "worker.concurrency"),
        ("auth: { api_keys: [ { actor: a, role: 'Root Admin', sha256: x } ] }", "auth.api_keys[0].role"),
        ("auth: { api_keys: [ { actor: a, role: user, sha256: abc } ] }", "auth.api_keys[0].sha256"),
        ("auth: { api_keys: [ { actor: a, role: user, sha256: x, key: y } ] }", "key"),
        ("teleport: { env: { TELEPORT_DEBUG: '1' } }", "teleport.env"),
        ("teleport: { proxy: '--insecure' }", "teleport.proxy"),
        ("service: { header_read_timeout: 0s }", "service.header_read_timeout"),
        ("service: { max_connections: 0 }", "service.max_connections"),
        ("service: { metrics_listen: 'nowhere' }", "service.metrics_listen"),
        ("service: { port: 8000, metrics_listen: '0.0.0.0:8000' }", "service.metrics_listen"),
    ] {
        let err = Config::from_yaml(yaml).unwrap_err().to_string();
        assert!(err.contains(key), "{yaml}: {err}");
    }
}

/// A key actor in the JWT namespace or with a reserved name would share records with a token
/// subject or with the control plane's own entries.
#[test]
fn api_key_actors_outside_the_plain_namespace_are_refused_by_key() {
    const HASH: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
    for (actor, says) in [("'oidc:x'", "contains ':'"), ("anonymous", "reserved"), ("conformance-suite", "reserved")] {
        let yaml = format!(
            "auth: {{ api_keys: [ {{ actor: a, sha256: '{HASH}' }}, {{ actor: {actor}, sha256: '{HASH}' }} ] }}"
        );
        let err = Config::from_yaml(&yaml).unwrap_err().to_string();
        assert!(err.contains("auth.api_keys[1].actor") && err.contains(says), "{yaml}: {err}");
    }
}

#[test]
fn missing_file_is_named() {
    let err = Config::load(Some(std::path::Path::new("/nonexistent/config.yaml"))).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/config.yaml"), "{err}");
}

#[test]
fn debug_output_hides_the_database_password() {
    let c = Config::from_yaml("database: { url: 'postgres://u:hunter2@h/db' }").unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
}

#[test]
fn the_example_documents_every_key_and_parses() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config.yaml.example")).unwrap();
    let c = Config::from_yaml(&text).unwrap();
    // Every key of the defaults appears in the example (it is the documentation).
    let defaults = serde_json::to_value(Config::default()).unwrap();
    for (section, keys) in defaults.as_object().unwrap() {
        assert!(text.contains(&format!("\n{section}:")), "section {section} missing");
        // A list or an optional value (`clusters`, `default_cluster`) is documented by its example.
        for key in keys.as_object().into_iter().flat_map(|k| k.keys()) {
            assert!(text.contains(&format!("  {key}:")), "{section}.{key} missing from config.yaml.example");
        }
    }
    assert!(!c.policy.allow_tsh_passthrough);
}

#[test]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type
fn environment_overrides_the_file_and_names_bad_values() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("config.yaml", "service: { port: 8000 }\nteleport: { timeout: 30s }\n")?;
        jail.set_env("MTCP_SERVICE__PORT", "9443");
        jail.set_env("MTCP_TELEPORT__TIMEOUT", "45s");
        jail.set_env("DATABASE_URL", "postgres://u@db:5432/mtcp");
        let c = Config::load(Some(std::path::Path::new("config.yaml"))).map_err(|e| e.to_string())?;
        assert_eq!(c.service.port, 9443);
        assert_eq!(c.teleport.timeout.as_secs(), 45);
        assert_eq!(c.database_url().unwrap(), "postgres://u@db:5432/mtcp");

        // The variable that names the file (images and charts set it) is not a configuration key.
        jail.set_env("MTCP_CONFIG", "config.yaml");
        let c = Config::load(Some(std::path::Path::new("config.yaml"))).map_err(|e| e.to_string())?;
        assert_eq!(c.service.port, 9443);
        // Nor is the second key of the gateway's test-only conformance switch.
        jail.set_env("MTCP_CONFORMANCE_FIXTURES", "1");
        assert!(Config::load(Some(std::path::Path::new("config.yaml"))).is_ok());

        jail.set_env("MTCP_WORKER__CONCURRENCY", "lots");
        let err = Config::load(Some(std::path::Path::new("config.yaml"))).unwrap_err().to_string();
        assert!(err.contains("worker.concurrency"), "{err}");
        Ok(())
    });
}

#[test]
fn the_seeds_database_url_is_read_as_postgres() {
    let c = Config::from_yaml("database: { url: 'postgresql+psycopg://mcp:mcp@localhost:5432/mcpteleport' }").unwrap();
    assert_eq!(c.database_url().unwrap(), "postgres://mcp:mcp@localhost:5432/mcpteleport");
    let err = Config::from_yaml("database: { url: 'mysql+pymysql://x@h/db' }").unwrap_err().to_string();
    assert!(err.contains("database.url"), "{err}");
}

#[test]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type
fn the_seeds_standard_variables_are_honoured() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("config.yaml", "teleport: { identity_file: /from/file }\n")?;
        let c = Config::load(Some(std::path::Path::new("config.yaml"))).map_err(|e| e.to_string())?;
        assert_eq!(c.teleport.identity_file.as_deref(), Some(std::path::Path::new("/from/file")));
        assert_eq!(c.telemetry.export_endpoint(), None, "no export unless asked for");

        jail.set_env("TELEPORT_IDENTITY_FILE", "/var/lib/tbot/identity");
        jail.set_env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        jail.set_env("OTEL_SERVICE_NAME", "teleport-ai-prod");
        let c = Config::load(Some(std::path::Path::new("config.yaml"))).map_err(|e| e.to_string())?;
        assert_eq!(c.teleport.identity_file.as_deref(), Some(std::path::Path::new("/var/lib/tbot/identity")));
        assert_eq!(c.telemetry.export_endpoint(), Some("http://collector:4318"));
        assert_eq!(c.telemetry.service_name.as_deref(), Some("teleport-ai-prod"));

        jail.set_env("OTEL_ENABLED", "false");
        let c = Config::load(Some(std::path::Path::new("config.yaml"))).map_err(|e| e.to_string())?;
        assert_eq!(c.telemetry.export_endpoint(), None, "OTEL_ENABLED=false turns export off");

        // Enabled with no endpoint: OpenTelemetry's default collector address.
        jail.clear_env();
        jail.set_env("OTEL_ENABLED", "true");
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.telemetry.export_endpoint(), Some("http://localhost:4318"));

        // The project's own variable is the more specific and wins.
        jail.set_env("TELEPORT_IDENTITY_FILE", "/generic");
        jail.set_env("MTCP_TELEPORT__IDENTITY_FILE", "/specific");
        let c = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.teleport.identity_file.as_deref(), Some(std::path::Path::new("/specific")));

        jail.set_env("OTEL_ENABLED", "maybe");
        let err = Config::load(None).unwrap_err().to_string();
        assert!(err.contains("telemetry.enabled"), "{err}");
        Ok(())
    });
}

#[test]
#[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type
fn an_overlay_file_applies_only_when_it_exists() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("base.yaml", "service: { port: 8000, host: 0.0.0.0 }\n")?;
        jail.set_env(OVERLAY_ENV, "project/config.yaml");
        let c = Config::load(Some(std::path::Path::new("base.yaml"))).map_err(|e| e.to_string())?;
        assert_eq!((c.service.port, c.service.host.as_str()), (8000, "0.0.0.0"), "no overlay: the base as it is");
        std::fs::create_dir("project").map_err(|e| e.to_string())?;
        jail.create_file("project/config.yaml", "service: { port: 8123 }\n")?;
        let c = Config::load(Some(std::path::Path::new("base.yaml"))).map_err(|e| e.to_string())?;
        assert_eq!((c.service.port, c.service.host.as_str()), (8123, "0.0.0.0"), "the overlay over the base");
        jail.set_env("MTCP_SERVICE__PORT", "9000");
        let c = Config::load(Some(std::path::Path::new("base.yaml"))).map_err(|e| e.to_string())?;
        assert_eq!(c.service.port, 9000, "the environment over both");
        Ok(())
    });
}

#[test]
fn coalescing_takes_only_reads_the_workers_run() {
    let c = Config::from_yaml("{}").unwrap();
    assert!(c.coalescing.applies_to(crate::domain::ToolName::ListNodes), "inventory reads by default");
    let c = Config::from_yaml("coalescing: { tools: [list_users, scan_rbac] }").unwrap();
    assert!(c.coalescing.applies_to(crate::domain::ToolName::ScanRbac));
    assert!(!c.coalescing.applies_to(crate::domain::ToolName::ListNodes));
    for (tool, why) in [
        ("create_access_request", "changes Teleport"),
        ("run_tctl_command", "passthrough"),
        ("whoami", "answered by the gateway"),
    ] {
        let err = Config::from_yaml(&format!("coalescing: {{ tools: [{tool}] }}")).unwrap_err().to_string();
        assert!(err.contains("coalescing.tools") && err.contains(tool) && err.contains(why), "{err}");
    }
    let err = Config::from_yaml("coalescing: { tools: [list_nodez] }").unwrap_err().to_string();
    assert!(err.contains("list_nodez"), "{err}");
}

#[test]
fn approvals_webhook_defaults_and_accepted_urls() {
    let c = Config::from_yaml("approvals: { webhook: { url: 'https://hooks.example.com/services/T0/B0/x' } }").unwrap();
    let hook = c.approvals.webhook.as_ref().unwrap();
    assert_eq!((hook.timeout.as_secs(), hook.max_attempts, hook.retry_backoff.as_secs()), (5, 8, 1));
    assert!(c.approvals.notifies());
    for url in ["http://127.0.0.1:9000/hook", "http://[::1]:9000/hook", "http://localhost/hook", "https://10.0.0.5/x"] {
        let yaml = format!(
            "approvals: {{ webhook: {{ url: '{url}' }}, approve_url: 'https://mtcp.example.com/a/{{op_id}}' }}"
        );
        assert!(Config::from_yaml(&yaml).is_ok(), "{url}");
    }
}

#[test]
fn bad_approvals_values_name_the_key_and_never_quote_the_webhook_url() {
    for (webhook, key) in [
        ("{ url: 'http://hooks.example.com/SECRET' }", "approvals.webhook.url"),
        ("{ url: 'ftp://127.0.0.1/SECRET' }", "approvals.webhook.url"),
        ("{ url: 'not a url SECRET' }", "approvals.webhook.url"),
        ("{ url: 'https://h/SECRET', timeout: 500ms }", "approvals.webhook.timeout"),
        ("{ url: 'https://h/SECRET', timeout: 61s }", "approvals.webhook.timeout"),
        ("{ url: 'https://h/SECRET', max_attempts: 0 }", "approvals.webhook.max_attempts"),
        ("{ url: 'https://h/SECRET', max_attempts: 51 }", "approvals.webhook.max_attempts"),
        ("{ url: 'https://h/SECRET', retry_backoff: 10ms }", "approvals.webhook.retry_backoff"),
        ("{ url: 'https://h/SECRET', retries: 3 }", "retries"),
    ] {
        let yaml = format!("approvals: {{ webhook: {webhook} }}");
        let err = Config::from_yaml(&yaml).unwrap_err().to_string();
        assert!(err.contains(key), "{yaml}: {err}");
        assert!(!err.contains("SECRET"), "the URL is a secret: {err}");
    }
    for approve in ["'mtcp.example.com/{op_id}'", "'javascript:alert(1)'", "'file:///etc/passwd'"] {
        let err = Config::from_yaml(&format!("approvals: {{ approve_url: {approve} }}")).unwrap_err().to_string();
        assert!(err.contains("approvals.approve_url"), "{approve}: {err}");
    }
}

#[test]
fn a_dump_of_the_configuration_hides_the_webhook_url() {
    let c = Config::from_yaml("approvals: { webhook: { url: 'https://hooks.example.com/SECRET' } }").unwrap();
    let dump = serde_yaml::to_string(&c).unwrap();
    assert!(!dump.contains("SECRET") && dump.contains("retry_backoff"), "{dump}");
}

#[test]
fn edge_heartbeats_fit_the_reapers_silence_threshold() {
    // Left unset, the heartbeat follows a lowered threshold instead of refusing the configuration.
    let c = Config::from_yaml("reaper: { agent_offline_after: 12s }").unwrap();
    assert_eq!(c.edge.heartbeat(c.reaper.agent_offline_after).as_secs(), 2);
    assert_eq!(Config::default().edge.heartbeat(Config::default().reaper.agent_offline_after).as_secs(), 5);
    for (yaml, key) in [
        ("reaper: { agent_offline_after: 12s }\nedge: { heartbeat_interval: 7s }", "edge.heartbeat_interval"),
        ("edge: { fail_closed_after: 2s }", "edge.fail_closed_after"),
        ("edge: { poll_wait: 10m }", "edge.poll_wait"),
    ] {
        let err = Config::from_yaml(yaml).unwrap_err().to_string();
        assert!(err.contains(key), "{yaml}: {err}");
    }
}

#[test]
fn console_cookie_keys_are_long_enough_wrapped_or_not_and_never_quoted() {
    // What `openssl rand -base64 64` prints: wrapped at 64 characters.
    let wrapped = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0\n\
                   LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==";
    let c = Config::from_yaml(&format!("console: {{ cookie_key: {wrapped:?} }}")).unwrap();
    assert!(c.console.cookie_key_bytes().unwrap().unwrap().len() >= 32);
    for short in ["c2VjcmV0", "not base64 at all!"] {
        let err = Config::from_yaml(&format!("console: {{ cookie_key: {short:?} }}")).unwrap_err().to_string();
        assert!(err.contains("console.cookie_key") && !err.contains(short), "{err}");
    }
    let err = Config::from_yaml("console: { session_ttl: 10s }").unwrap_err().to_string();
    assert!(err.contains("console.session_ttl"), "{err}");
}

#[test]
fn console_oidc_needs_auth_oidc_and_names_its_keys() {
    let console = |extra: &str| {
        format!(
            "console:\n  oidc:\n    client_id: mtcp-console\n    authorization_endpoint: https://idp.example.com/authorize\n    \
             token_endpoint: https://idp.example.com/token\n    redirect_url: https://mtcp.example.com/console/oidc/callback\n{extra}"
        )
    };
    let auth = "auth:\n  oidc: { issuer: 'https://idp.example.com/', audience: mcp-teleport, jwks_url: 'https://idp.example.com/jwks' }\n";

    let err = Config::from_yaml(&console("")).unwrap_err().to_string();
    assert!(err.contains("console.oidc") && err.contains("auth.oidc"), "{err}");

    let c = Config::from_yaml(&format!("{}{auth}", console(""))).unwrap();
    let oidc = c.console.oidc.unwrap();
    assert_eq!((oidc.client_id.as_str(), oidc.scopes.as_slice()), ("mtcp-console", &["openid".to_owned()][..]));

    for (bad, key) in [
        ("authorization_endpoint: 'http://idp.example.com/authorize'", "console.oidc.authorization_endpoint"),
        ("token_endpoint: 'not a url'", "console.oidc.token_endpoint"),
        ("redirect_url: 'https://mtcp.example.com/elsewhere'", "console.oidc.redirect_url"),
        ("client_id: ' '", "console.oidc.client_id"),
    ] {
        let (name, value) = bad.split_once(": ").unwrap();
        let yaml = console("")
            .lines()
            .filter(|l| !l.trim_start().starts_with(&format!("{name}:")))
            .collect::<Vec<_>>()
            .join("\n");
        let yaml = format!("{yaml}\n    {name}: {value}\n{auth}");
        let err = Config::from_yaml(&yaml).unwrap_err().to_string();
        assert!(err.contains(key), "{bad}: {err}");
    }
    // A client secret is never printed.
    let c = Config::from_yaml(&format!("{}{auth}", console("    client_secret: hunter2\n"))).unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
    assert!(!serde_json::to_string(&c).unwrap().contains("hunter2"));
}
