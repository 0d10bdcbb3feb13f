//! Property tests of redaction: it never panics, redacting twice changes nothing, a planted secret
//! of every recognised kind is gone whatever text surrounds it, and a PEM private key streamed line
//! by line never shows a line of its body.

mod prop_support;

use mtcp_shared::redact::{LineRedactor, REDACTED, Redactor, redact_argv, redact_json, redact_text};
use prop_support::{config, json, text};
use proptest::prelude::*;
use serde_json::Value;

/// A secret value: long and random enough never to occur in the surrounding text by chance.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{6,20}".prop_map(|s| format!("Zq9{s}"))
}

fn b64(min: usize, max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("[A-Za-z0-9+/]{{{min},{max}}}")).unwrap()
}

fn b64url(min: usize, max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("[A-Za-z0-9_-]{{{min},{max}}}")).unwrap()
}

/// A secret written the way some tool prints it: `(text to plant, the part that must be gone)`.
fn planted() -> impl Strategy<Value = (String, String)> {
    let kv_key = prop::sample::select(vec![
        "password",
        "db_password",
        "passwd",
        "secret",
        "client_secret",
        "api_key",
        "API-KEY",
        "apikey",
        "private_key",
        "access_key",
        "token",
        "auth_token",
        "join.token",
        "Token",
    ]);
    let flag = prop::sample::select(vec![
        "--token",
        "--auth-token",
        "--password",
        "--secret",
        "--client-secret",
        "--api-key",
        "--private-key",
        "--access-key",
        "--db-password",
    ]);
    let header = prop::sample::select(vec!["Authorization", "proxy-authorization", "Cookie", "set-cookie"]);
    let label = prop::sample::select(vec!["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"]);
    prop_oneof![
        (label.clone(), prop::collection::vec(b64(8, 64), 1..5)).prop_map(|(label, body)| {
            let text = format!("-----BEGIN {label}-----\n{}\n-----END {label}-----", body.join("\n"));
            (text, body[0].clone())
        }),
        (label, b64(8, 64)).prop_map(|(label, body)| (format!("-----BEGIN {label}-----\n{body}"), body)),
        b64(8, 40).prop_map(|b| (format!("LS0tLS1CRUdJTi{b}"), format!("LS0tLS1CRUdJTi{b}"))),
        (b64url(4, 30), b64url(4, 30), b64url(8, 40)).prop_map(|(h, p, s)| {
            let jwt = format!("eyJ{h}.eyJ{p}.{s}");
            (jwt.clone(), jwt)
        }),
        (prop::sample::select(vec!["https", "postgres", "redis", "git+ssh"]), "[a-z]{1,8}", secret())
            .prop_map(|(scheme, user, pw)| (format!("{scheme}://{user}:{pw}@db.example.com/x"), pw)),
        (prop::sample::select(vec!["Bearer ", "bearer\t", "BEARER  "]), secret())
            .prop_map(|(b, t)| (format!("{b}{t}"), t)),
        (header, prop::sample::select(vec!["", "Basic ", "session="]), secret())
            .prop_map(|(h, scheme, v)| (format!("{h}: {scheme}{v}"), v)),
        (flag, prop::sample::select(vec!["=", " ", "\t", "='", "=\""]), secret()).prop_map(|(f, sep, v)| {
            let close = sep.trim_start_matches(['=', ' ', '\t']);
            (format!("{f}{sep}{v}{close}"), v)
        }),
        (kv_key.clone(), prop::sample::select(vec!["=", ": ", " = ", ":", "\": \"", "\\\": \\\"", "='"]), secret())
            .prop_map(|(k, sep, v)| {
                let (open, close) = match sep {
                    "\": \"" => ("\"", "\""),
                    "\\\": \\\"" => ("\\\"", "\\\""),
                    "='" => ("", "'"),
                    _ => ("", ""),
                };
                (format!("{open}{k}{sep}{v}{close}"), v)
            }),
        (kv_key.clone(), secret(), secret()).prop_map(|(k, a, b)| (format!("\"{k}\": [\"{a}\", \"{b}\"]"), b)),
        // A YAML key starts its line.
        (kv_key, secret(), secret()).prop_map(|(k, a, b)| (format!("\n{k}:\n  - {a}\n  - {b}\n"), b)),
        ("AKIA|ASIA", "[A-Z0-9]{16}").prop_map(|(p, k)| {
            let id = format!("{p}{k}");
            (id.clone(), id)
        }),
        "[a-z]{10}[A-Z]{10}[0-9]{10}[/+]{2}[A-Za-z0-9]{8}".prop_map(|k| (k.clone(), k)),
        // Two AWS secret keys one character apart (as in a CSV row): both go.
        ("[a-z]{10}[A-Z]{10}[0-9]{10}[/+]{2}[A-Za-z0-9]{8}", "[ ,:;|\t]", "[A-Z]{10}[a-z]{10}[0-9]{20}")
            .prop_map(|(a, sep, b)| (format!("{a}{sep}{b}"), b)),
    ]
}

/// Surrounding text: arbitrary, but kept off the planted secret by a separator, as output is.
fn surrounding() -> impl Strategy<Value = String> {
    prop_oneof![text(), "[a-z ]{0,20}"]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![" ", "\n", "\t", " \n", "\r\n", "\n\n"])
}

proptest! {
    #![proptest_config(config(4))]

    #[test]
    fn text_redaction_never_panics_and_is_idempotent(s in prop_oneof![
        text(),
        planted().prop_map(|(p, _)| p),
        (surrounding(), planted(), surrounding()).prop_map(|(a, (p, _), b)| format!("{a}{p}{b}")),
    ]) {
        let once = redact_text(&s);
        prop_assert_eq!(redact_text(&once), once.clone(), "input {:?}", s);
    }

    #[test]
    fn a_planted_secret_is_gone_whatever_surrounds_it(
        (before, sep1, (plant, secret), sep2, after) in (surrounding(), separator(), planted(), separator(), surrounding()),
    ) {
        let input = format!("{before}{sep1}{plant}{sep2}{after}");
        let out = redact_text(&input);
        prop_assert!(!out.contains(&secret), "{secret:?} survived: {input:?} → {out:?}");
        prop_assert!(out.contains(REDACTED));
    }

}

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn literal_secrets_are_gone_anywhere(lit in "[a-z0-9]{4,24}", before in text(), after in text()) {
        let r = Redactor::with_literals(vec![format!("  {lit}\n")]);
        let out = r.text(&format!("{before}{lit}{after}"));
        prop_assert!(!out.contains(&lit), "{out:?}");
    }
}

proptest! {
    #![proptest_config(config(2))]

    #[test]
    fn json_redaction_never_panics_is_idempotent_and_hides_planted_secrets(
        mut v in json(),
        (plant, secret) in planted(),
        key in prop::sample::select(vec!["token", "password", "client_secret", "privateKey", "note", "args"]),
        depth in 0usize..3,
    ) {
        // Plant the secret as a value under `key` (a secret name or not: then the text patterns must catch it).
        let mut planted = Value::String(plant);
        for _ in 0..depth {
            planted = serde_json::json!({ "items": [planted] });
        }
        if let Value::Object(map) = &mut v {
            map.insert(key.to_owned(), planted);
        } else {
            v = serde_json::json!({ "wrapped": v, key: planted });
        }
        let mut once = v.clone();
        redact_json(&mut once);
        let mut twice = once.clone();
        redact_json(&mut twice);
        prop_assert_eq!(&twice, &once);
        let shown = once.to_string();
        prop_assert!(!shown.contains(&secret), "{secret:?} survived under {key:?}: {shown}");
    }

    #[test]
    fn argv_redaction_never_panics_is_idempotent_and_hides_flag_values(
        mut args in prop::collection::vec(prop_oneof![text(), "[-a-z=/]{1,12}"], 0..6),
        at in any::<prop::sample::Index>(),
        flag in prop::sample::select(vec!["--token", "--password", "--client-secret", "--api-key", "tokens|rm", "get|token/"]),
        secret in secret(),
    ) {
        let once = redact_argv(&args);
        prop_assert_eq!(redact_argv(&once), once.clone());
        let i = at.index(args.len() + 1);
        let planted: Vec<String> = match flag.split_once('|') {
            Some((get, kind)) if kind.ends_with('/') => vec![get.to_owned(), format!("{kind}{secret}")],
            Some((tokens, rm)) => vec![tokens.to_owned(), rm.to_owned(), secret.clone()],
            None => vec![flag.to_owned(), secret.clone()],
        };
        args.splice(i..i, planted);
        let out = redact_argv(&args);
        prop_assert!(out.iter().all(|a| !a.contains(&secret)), "{args:?} → {out:?}");
    }
}

/// A private key as a CLI might print it among other lines: any body width, CRLF or LF, text
/// before the BEGIN line or after the END line on the same line, sometimes a second key at once.
fn pem_stream() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    let label = prop::sample::select(vec!["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"]);
    let key = (label, b64(200, 600), 1usize..80, any::<bool>());
    (
        prop::collection::vec(text(), 0..4),
        prop::collection::vec(key, 1..3),
        prop::sample::select(vec!["", "key: ", "  ", "error: "]),
        prop::sample::select(vec!["", " ", " done", "\r"]),
        prop::collection::vec(text(), 0..4),
        any::<bool>(),
    )
        .prop_map(|(before, keys, lead, trail, after, glued)| {
            let mut lines: Vec<String> = before.iter().flat_map(|t| t.lines().map(str::to_owned)).collect();
            let mut bodies = Vec::new();
            for (k, (label, body, width, crlf)) in keys.iter().enumerate() {
                let eol = if *crlf { "\r" } else { "" };
                let begin = format!("{lead}-----BEGIN {label}-----{eol}");
                // A second key glued onto the END line of the first.
                match lines.last_mut() {
                    Some(last) if glued && k > 0 => last.push_str(&begin),
                    _ => lines.push(begin),
                }
                let chunks: Vec<String> =
                    body.as_bytes().chunks(*width).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
                lines.extend(chunks.iter().map(|c| format!("{c}{eol}")));
                bodies.extend(chunks.into_iter().filter(|c| c.len() >= 12));
                lines.push(format!("-----END {label}-----{trail}"));
            }
            lines.extend(after.iter().flat_map(|t| t.lines().map(str::to_owned)));
            (lines, bodies)
        })
}

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn streamed_private_keys_never_show_a_body_line((lines, bodies) in pem_stream()) {
        let mut r = LineRedactor::default();
        let out: Vec<String> = lines.iter().map(|l| r.line(l)).collect();
        for body in &bodies {
            prop_assert!(out.iter().all(|l| !l.contains(body.as_str())), "{body:?} survived in {out:#?}");
        }
    }

    #[test]
    fn line_redaction_never_panics(lines in prop::collection::vec(prop_oneof![
        text(),
        Just("-----BEGIN RSA PRIVATE KEY-----".to_owned()),
        Just("-----END RSA PRIVATE KEY-----".to_owned()),
    ], 0..12)) {
        let mut r = LineRedactor::default();
        for line in &lines {
            r.line(line);
        }
    }
}

#[test]
fn an_unterminated_escape_before_a_private_key_hides_neither_the_key_nor_the_lines_after_it() {
    let input = "\x1b] -----BEGIN RSA PRIVATE KEY-----\n00AA/aAa\n-----END RSA PRIVATE KEY----- \nnext line";
    let out = redact_text(input);
    assert!(!out.contains("00AA/aAa") && out.contains(REDACTED), "{out:?}");
    assert!(out.ends_with("next line"), "{out:?}");
}

#[test]
fn an_escape_that_eats_the_start_of_a_marker_hides_nothing() {
    for input in [
        "\x1b[ -----BEGIN RSA PRIVATE KEY-----\nAA/00A0+AAaaaaAaAa0A0AaA//aAaAaa0aAaAAaa+\n-----END RSA PRIVATE KEY----- ",
        "\x1b[ Authorization: Basic Zq9secretvalue42",
        "pass\x1b[0mword=Zq9secretvalue42",
    ] {
        let out = redact_text(input);
        assert!(!out.contains("AA/00A0+AAaaaaAaAa0A0AaA") && !out.contains("Zq9secretvalue42"), "{input:?} → {out:?}");
        assert!(out.contains(REDACTED), "{input:?} → {out:?}");
        assert_eq!(redact_text(&out), out, "idempotent");
    }
    let mut lines = LineRedactor::default();
    let streamed: Vec<String> = [
        "\x1b[ -----BEGIN RSA PRIVATE KEY-----",
        "AA/00A0+AAaaaaAaAa0A0AaA//aAaAaa0a",
        "-----END RSA PRIVATE KEY-----",
    ]
    .iter()
    .map(|l| lines.line(l))
    .collect();
    assert_eq!(streamed[1], REDACTED, "{streamed:?}");
}
