use super::parse;

const V18: &str = "Cluster: teleport.example.com
Version: 18.2.0
CA pins: sha256:7c1a30, sha256:99aa00

authority     rotation                                                  protocol status  algorithm   storage
------------- --------------------------------------------------------- -------- ------- ----------- --------
host          standby (never rotated)                                   SSH      active  Ed25519     software
                                                                        TLS      active  ECDSA P-256 software
user          update_clients (mode: manual, started: Dec 4 10:00:00 UTC, ending: Dec 5 16:00:00 UTC) SSH active Ed25519 software
db            standby (never rotated)                                   TLS      trusted RSA 2048    software
";

#[test]
fn reads_the_18x_layout() {
    let status = parse(V18).unwrap();
    assert_eq!(status.cluster.name, "teleport.example.com");
    assert_eq!(status.cluster.version, "18.2.0");
    assert_eq!(status.cluster.ca_pins, ["sha256:7c1a30", "sha256:99aa00"]);
    let types: Vec<&str> = status.authorities.iter().map(|a| a.ca_type.as_str()).collect();
    assert_eq!(types, ["host", "user", "db"]);
    let host = &status.authorities[0];
    assert_eq!(host.keys.len(), 2);
    assert_eq!((host.keys[1].protocol.as_str(), host.keys[1].algorithm.as_str()), ("TLS", "ECDSA P-256"));
    assert_eq!(host.rotation.as_ref().unwrap().state, "standby");
    assert_eq!(status.authorities[2].keys[0].status, "trusted");
}

#[test]
fn rows_in_another_order_and_the_headless_layout_of_older_releases() {
    let old = "Version                    16.4.2\nCluster                    old.example.com\n\
               host CA                    standby (never rotated)\n\
               User CA                    update_servers (mode: auto, started: x, ending: y)\n\
               CA pin                     sha256:aa\nCA pin                     sha256:bb\n";
    let status = parse(old).unwrap();
    assert_eq!((status.cluster.name.as_str(), status.cluster.version.as_str()), ("old.example.com", "16.4.2"));
    assert_eq!(status.cluster.ca_pins, ["sha256:aa", "sha256:bb"]);
    assert_eq!(status.authorities.len(), 2);
    let user = status.authorities[1].rotation.as_ref().unwrap();
    assert_eq!(
        (user.state.as_str(), user.phase.as_str(), user.mode.as_str()),
        ("in_progress", "update_servers", "auto")
    );
    assert!(user.in_progress());
}

#[test]
fn a_warning_line_first_does_not_hide_the_rows() {
    let text = format!("WARNING: One or more auth servers has a newly added or removed HSM.\n{V18}");
    assert_eq!(parse(&text).unwrap().cluster.version, "18.2.0");
}

#[test]
fn output_without_cluster_or_version_is_refused_with_the_command() {
    for text in ["", "garbage", "Cluster: x\n", "Version: 18.0.0\n", "Clusters: x\nVersion: 1\n"] {
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("\"tctl status\""), "{text:?}: {err}");
    }
}
