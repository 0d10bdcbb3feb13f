use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Kind, METRICS, find};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() && !name.starts_with('.') && name != "target" {
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// The text of a macro call from its opening parenthesis to the matching closing one.
fn call_args(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[1..i];
                }
            }
            _ => {}
        }
    }
    text
}

/// Every metric recorded anywhere in the workspace is described here, with the kind it is recorded
/// as and exactly the labels it is recorded with (names are literals, so nothing is missed).
#[test]
fn every_recorded_metric_is_described_with_its_kind_and_labels() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for crate_dir in ["shared", "gateway", "worker", "reaper", "cli", "teleport-sim"] {
        rust_files(&root.join(crate_dir).join("src"), &mut files);
    }
    let label = regex::Regex::new(r#""([a-z_]+)"\s*=>"#).unwrap();
    let mut recorded = BTreeSet::new();
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let at = file.strip_prefix(root).unwrap().display().to_string();
        for (macro_name, kind) in [("counter", Kind::Counter), ("gauge", Kind::Gauge), ("histogram", Kind::Histogram)] {
            let needle = format!("metrics::{macro_name}!(");
            for (i, _) in text.match_indices(&needle) {
                let args = call_args(&text[i + needle.len() - 1..]);
                let Some(name) = args.trim_start().strip_prefix('"').and_then(|s| s.split('"').next()) else {
                    problems.push(format!("{at}: {macro_name}! with a name that is not a string literal"));
                    continue;
                };
                recorded.insert(name.to_owned());
                let Some(metric) = find(name) else {
                    problems.push(format!("{at}: {name} is not in telemetry::metrics::METRICS"));
                    continue;
                };
                if metric.kind != kind {
                    problems
                        .push(format!("{at}: {name} is recorded as a {macro_name}, described as {:?}", metric.kind));
                }
                let used: BTreeSet<&str> = label.captures_iter(args).map(|c| c.get(1).unwrap().as_str()).collect();
                let described: BTreeSet<&str> = metric.labels.iter().copied().collect();
                if used != described {
                    problems.push(format!("{at}: {name} recorded with labels {used:?}, described with {described:?}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Each entry is recorded somewhere.
    for metric in METRICS {
        assert!(recorded.contains(metric.name), "{} is described but never recorded", metric.name);
    }
}

#[test]
fn names_follow_the_prometheus_conventions() {
    let mut seen = BTreeSet::new();
    for metric in METRICS {
        let name = metric.name;
        assert!(seen.insert(name), "{name} is listed twice");
        assert!(name.starts_with("mtcp_"), "{name}: the mtcp_ prefix");
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}: snake case");
        match metric.kind {
            Kind::Counter => assert!(name.ends_with("_total"), "{name}: a counter ends in _total"),
            Kind::Histogram => assert!(name.ends_with("_seconds"), "{name}: histograms here measure seconds"),
            Kind::Gauge => assert!(!name.ends_with("_total"), "{name}: a gauge is not a _total"),
        }
        assert_eq!(
            metric.unit == metrics::Unit::Seconds,
            name.ends_with("_seconds"),
            "{name}: the unit and the name's suffix agree"
        );
        for label in metric.labels {
            assert!(!["op_id", "actor", "lease_id", "request_id"].contains(label), "{name}: unbounded label {label}");
        }
        assert!(metric.help.ends_with('.') && metric.help.len() > 20, "{name}: a sentence of help");
    }
}
