//! The `clusters:` configuration: the legacy sections as cluster `default`, the default cluster,
//! what a worker serves, and every mistake named by its key.

use super::*;

const TWO: &str = "clusters:
  - { name: prod, proxy: 'prod.example.com:443', identity_file: /id/prod }
  - { name: staging, proxy: 'staging.example.com:443', identity_file: /id/staging, teleport_name: stg.example.com }
";

#[test]
fn the_single_cluster_sections_are_cluster_default() {
    let c = Config::from_yaml("teleport: { proxy: 'tp.example.com:443', timeout: 12s }\ntsh: { tsh_path: /opt/tsh }")
        .unwrap();
    let clusters = c.clusters();
    assert_eq!(clusters.len(), 1);
    let d = &clusters[0];
    assert_eq!((d.name.as_str(), d.proxy.as_deref(), d.timeout.as_secs()), ("default", Some("tp.example.com:443"), 12));
    assert_eq!(d.tsh_path, std::path::Path::new("/opt/tsh"));
    assert_eq!(c.default_cluster(), "default");
    assert!(c.has_cluster("default") && !c.has_cluster("prod"));
    assert_eq!(c.worker_clusters().len(), 1);
    assert_eq!(d.audit_name(), None, "its events are all of it, whatever name Teleport gave it");
}

#[test]
fn several_clusters_a_default_and_what_a_worker_serves() {
    let c = Config::from_yaml(TWO).unwrap();
    assert_eq!(c.default_cluster(), "prod", "the first, when none is named");
    assert_eq!(c.cluster("staging").unwrap().teleport_name(), "stg.example.com");
    assert_eq!(c.cluster("prod").unwrap().teleport_name(), "prod");
    assert_eq!(c.cluster("staging").unwrap().audit_name(), Some("stg.example.com"));
    assert_eq!(c.cluster_names(), "prod, staging");
    let c = Config::from_yaml(&format!("{TWO}default_cluster: staging\nworker: {{ clusters: [staging] }}\n")).unwrap();
    assert_eq!(c.default_cluster(), "staging");
    let served: Vec<String> = c.worker_clusters().into_iter().map(|c| c.name).collect();
    assert_eq!(served, ["staging"]);
    assert_eq!(
        c.identity_of("staging"),
        Some((Some("staging.example.com:443"), Some(std::path::Path::new("/id/staging"))))
    );
}

#[test]
fn mistakes_are_named_by_their_key() {
    let cases = [
        (
            format!("{TWO}default_cluster: dev\n"),
            "`default_cluster`: \"dev\" is not a configured cluster (prod, staging)",
        ),
        (
            format!("{TWO}worker: {{ clusters: [prod, dev] }}\n"),
            "`worker.clusters`: \"dev\" is not a configured cluster",
        ),
        ("clusters: [{ name: Prod }]".to_owned(), "`clusters[0].name`"),
        ("clusters: [{ name: a }, { name: a }]".to_owned(), "`clusters[1].name`: \"a\" is configured twice"),
        ("clusters: [{ name: a, leaf: true }]".to_owned(), "`clusters[0].proxy`: a leaf cluster"),
        ("clusters: [{ name: a, timeout: 0s }]".to_owned(), "`clusters[0].timeout`"),
        ("clusters: [{ name: a, proxy: '-x' }]".to_owned(), "`clusters[0].proxy`"),
        ("clusters: [{ name: a, env: { TELEPORT_DEBUG: '1' } }]".to_owned(), "`clusters[0].env`"),
        ("clusters: [{ name: a, teleport_name: 'two words' }]".to_owned(), "`clusters[0].teleport_name`"),
        (format!("{TWO}teleport: {{ proxy: 'old.example.com:443' }}\n"), "`teleport`: `clusters:` is set"),
        ("default_cluster: prod".to_owned(), "`default_cluster`: \"prod\" is not a configured cluster (default)"),
        ("clusters: [{ name: a, colour: red }]".to_owned(), "colour"),
    ];
    for (yaml, expected) in cases {
        let err = Config::from_yaml(&yaml).unwrap_err().to_string();
        assert!(err.contains(expected), "{yaml}\n→ {err}\n(expected {expected:?})");
    }
}
