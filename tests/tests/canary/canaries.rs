//! The canaries of a run: random secrets in the shapes scanners look for (bearer tokens, JWTs,
//! PEM blocks, plain cores), and where in a sink each one was found.

use std::collections::BTreeMap;

use base64::Engine;
use rand::Rng;
use serde_json::Value;

/// The canaries of one run: what each is and the random text that must never come out.
#[derive(Default)]
pub(crate) struct Canaries(pub(crate) Vec<(String, String)>);

impl Canaries {
    /// Records `secret` under `label` and returns it.
    pub(crate) fn add(&mut self, label: &str, secret: String) -> String {
        self.0.push((label.to_owned(), secret.clone()));
        secret
    }

    /// A fresh random core of `len` characters (mixed case and digits).
    pub(crate) fn core(&mut self, label: &str, len: usize) -> String {
        let body: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(len - 3).map(char::from).collect();
        self.add(label, format!("Kq7{body}"))
    }

    pub(crate) fn bearer(&mut self, label: &str) -> String {
        format!("Bearer {}", self.core(label, 28))
    }

    pub(crate) fn jwt(&mut self, label: &str) -> String {
        let signature = self.core(label, 43);
        format!("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib3QiLCJpc3MiOiJjaSJ9.{signature}")
    }

    pub(crate) fn pem(&mut self, label: &str, kind: &str) -> String {
        let line = self.core(label, 64);
        format!("-----BEGIN {kind}-----\n{line}\n{}\n-----END {kind}-----\n", "MIIEowIBAAKCAQEA".repeat(4))
    }

    /// A PEM block base64-encoded, as Teleport prints `[]byte` key fields; the canary is a window
    /// of the encoding that covers the random line.
    pub(crate) fn pem_base64(&mut self, label: &str, kind: &str) -> String {
        let mut scratch = Canaries::default();
        let encoded = base64::engine::general_purpose::STANDARD.encode(scratch.pem(label, kind));
        self.add(label, encoded[48..88].to_owned());
        encoded
    }

    /// Every canary found in `text`, once per place (tool, table column, log event), with context.
    pub(crate) fn found_in(&self, sink: &str, text: &str) -> Vec<String> {
        let mut leaks = Vec::new();
        for (label, secret) in &self.0 {
            let mut places: BTreeMap<String, String> = BTreeMap::new();
            for (at, _) in text.match_indices(secret.as_str()) {
                let from = text.floor_char_boundary(at.saturating_sub(60));
                let to = text.ceil_char_boundary((at + secret.len() + 20).min(text.len()));
                places.entry(place(sink, text, at)).or_insert_with(|| text[from..to].to_owned());
            }
            for (place, context) in places {
                leaks.push(format!("{label} in {sink} ({place}): …{context}…"));
            }
        }
        leaks
    }
}

/// Where in a sink the text at `at` is: the MCP call, the table and column of a dump, the log event.
fn place(sink: &str, text: &str, at: usize) -> String {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[start..end];
    match sink {
        "MCP results" => line.split('\t').next().unwrap_or_default().to_owned(),
        "pg_dump" => {
            let Some(copy) = text[..at].rfind("\nCOPY ").map(|i| i + 1) else { return "schema".into() };
            let header = &text[copy + 5..copy + text[copy..].find('\n').unwrap_or(5)];
            let table = header.split(' ').next().unwrap_or_default();
            let columns: Vec<&str> = header
                .split_once('(')
                .and_then(|(_, rest)| rest.split_once(')'))
                .map_or_else(Vec::new, |(cols, _)| cols.split(", ").collect());
            let index = text[start..at].matches('\t').count();
            format!("{table}.{}", columns.get(index).copied().unwrap_or("?"))
        }
        "service logs" => serde_json::from_str::<Value>(line).map_or_else(
            |_| "a line that is not JSON".to_owned(),
            |l| format!("{} \"{}\"", l["target"].as_str().unwrap_or("?"), l["message"].as_str().unwrap_or("?")),
        ),
        _ => line.chars().take(60).collect(),
    }
}
