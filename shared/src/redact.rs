//! Redaction of secrets in text and JSON before anything is stored, logged or returned.
//!
//! Pattern-based and deliberately greedy: a false positive costs a `[REDACTED]` in a log, a false
//! negative leaks a credential. The patterns are tuned not to touch ordinary inventory text
//! (host names, UUIDs, role names, `host:port` addresses, Teleport enum values).

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

use crate::terminal::strip_escapes;

/// The marker that replaces every secret.
pub const REDACTED: &str = "[REDACTED]";

/// What a marker is while escapes are stripped: a private-use character, outside every byte class
/// of an escape sequence ([`crate::terminal`] never lets an OSC run across it). A stray one in text
/// with escapes comes out as a marker.
const MARKER_STAND_IN: &str = "\u{e000}";

/// Literal secrets shorter than this are ignored: replacing a three-letter string everywhere
/// would mangle the text without protecting anything worth protecting.
const MIN_LITERAL_LEN: usize = 4;
/// Lines of a multi-line literal (e.g. an identity file) at least this long are scrubbed on their
/// own too, because a CLI may echo one line of it (a certificate, a key) rather than the whole.
const MIN_LITERAL_LINE_LEN: usize = 16;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("redaction pattern compiles")
}

/// Complete PEM blocks: private keys (PKCS#1/#8, EC, OpenSSH) and certificates alike.
static PEM_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?s)-----BEGIN [A-Z0-9 ]{1,64}-----.*?-----END [A-Z0-9 ]{1,64}-----"));
/// A PEM header whose END line was cut off (output cap): everything after it goes.
static PEM_OPEN: LazyLock<Regex> = LazyLock::new(|| re(r"(?s)-----BEGIN [A-Z0-9 ]{1,64}-----.*"));
/// Base64 of a PEM document (`LS0tLS1CRUdJTi` is base64 of `-----BEGIN`): kubeconfig
/// `client-key-data`, Teleport CA `cert` fields.
static PEM_BASE64: LazyLock<Regex> = LazyLock::new(|| re(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=]*"));
static JWT: LazyLock<Regex> = LazyLock::new(|| re(r"\beyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"));
static URL_CREDENTIALS: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@"));
static BEARER: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*"));
/// HTTP credential headers: the whole value up to the end of the line or a closing quote.
static HEADER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b((?:proxy-)?authorization|set-cookie|cookie)([ \t]*:[ \t]*)[^\s'\x22][^\r\n'\x22]*"));
/// Command-line flags carrying a secret: `--token=X`, `--token X`, `--client-secret X`.
static SECRET_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)(--(?:[a-z0-9]+-)*(?:token|password|passwd|secret|api-key|private-key|access-key)(?:=|[ \t]+))("[^"\n]*"|'[^'\n]*'|[^\s"'\-][^\s"']*)"#,
    )
});
/// `key=value`, `key: value`, `"key": "value"` where the key names a secret — also with escaped
/// quotes (`\"key\": \"value\"`, a JSON document inside a JSON string) and with a list value
/// (`"key": ["a", "b"]`, possibly over several lines). So that redacting twice changes nothing, a
/// list is read past `]` inside its quoted items (`["[REDACTED]"]` is one value), and a list with
/// no `]` at all runs to the end (else the `]` of a marker put inside it closed it the second time).
static SECRET_KV: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)((?:\\?["'])?\b[a-z0-9_.-]*?(?:password|passwd|secret|api[_-]?key|private[_-]?key|access[_-]?key|token)(?:\\?["'])?[ \t]*[:=][ \t]*)(\[(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\]"'])*\]|\[[^\]]*(?:\]|$)|\\"(?:[^"\\\n]|\\[^"\n])*\\"|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,;&"'{}\[\]\\][^\s,;&"'}\]\\]*)"#,
    )
});
/// YAML: a secret-named key whose value is a block list (`key:` then `- item` lines).
static SECRET_YAML_LIST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?im)^([ \t]*[a-z0-9_.-]*?(?:password|passwd|secret|api[_-]?key|private[_-]?key|access[_-]?key|token)[ \t]*:[ \t]*\r?\n)((?:[ \t]*-[ \t]+[^\n]*(?:\n|$))+)"#,
    )
});
static AWS_ACCESS_KEY_ID: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"));
/// A bare 40-character AWS secret access key. Matches each maximal run of at least 40 key
/// characters (a match cannot start inside a run: it would start at the run's beginning), with any
/// `=` padding after it; [`AwsSecret`] keeps those that are exactly 40 characters, unpadded, of
/// mixed case with a digit (which keeps hex digests, git SHAs, out). Runs, not a 40-character
/// window with a separator on each side: that consumed the separator, so of two keys one space
/// apart only the first was redacted.
static AWS_SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| re(r"[A-Za-z0-9/+]{40,}=*"));
/// `tctl get token/<name>`: the name of a join token is its secret.
static TOKEN_RESOURCE_REF: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(tokens?/)[^\s,]+"));

/// Flags whose following argument is a secret (argv form, `--token X`).
const SECRET_FLAGS: &str =
    "--token --auth-token --password --secret --client-secret --api-key --private-key --access-key";

/// Scrubs secrets from text and JSON. Cheap to clone; the regexes are compiled once per process.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a literal that contains another is replaced whole.
    literals: Vec<String>,
}

impl fmt::Debug for Redactor {
    // Never print the literals: they are the secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor").field("literals", &self.literals.len()).finish()
    }
}

impl Redactor {
    /// A redactor that also scrubs these known secrets verbatim (e.g. the contents of the
    /// operator's identity file). Literals under 4 characters are ignored; long lines of a
    /// multi-line literal are scrubbed individually as well.
    pub fn with_literals(literals: Vec<String>) -> Redactor {
        let mut all: Vec<String> = Vec::new();
        for literal in literals {
            for line in literal.lines().map(str::trim) {
                if line.len() >= MIN_LITERAL_LINE_LEN && line != literal.trim() {
                    all.push(line.to_owned());
                }
            }
            if literal.trim().len() >= MIN_LITERAL_LEN {
                all.push(literal.trim().to_owned());
            }
        }
        all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        all.dedup();
        Redactor { literals: all }
    }

    /// Returns `s` with every recognised secret replaced by `[REDACTED]`, and without terminal
    /// escape sequences ([`strip_escapes`]): everything stored, logged or returned passes here.
    ///
    /// Text with escapes is redacted as written and again as a terminal shows it: an escape can
    /// split a keyword (`pass\x1b[0mword=…`, found only once the escapes are gone), and stripping
    /// one can eat the first characters of what follows (`ESC [ -----BEGIN …` and `ESC [ Authorization`
    /// read as CSI sequences ending in `B` and `A`), which would hide the marker a pattern keys on.
    pub fn text(&self, s: &str) -> String {
        if !s.contains(['\x1b', '\u{9b}']) {
            return self.scrub(Cow::Borrowed(s)).into_owned();
        }
        // While the escapes go, each marker stands as one character no escape sequence can take
        // (an `ESC [` before `[REDACTED]` would read `[R` as the end of a CSI sequence).
        let written = self.scrub(Cow::Borrowed(s)).replace(REDACTED, MARKER_STAND_IN);
        let shown = strip_escapes(&written).replace(MARKER_STAND_IN, REDACTED);
        self.scrub(Cow::Owned(shown)).into_owned()
    }

    /// Literals, then the patterns.
    fn scrub<'a>(&self, mut out: Cow<'a, str>) -> Cow<'a, str> {
        for literal in &self.literals {
            if out.contains(literal.as_str()) {
                out = Cow::Owned(out.replace(literal.as_str(), REDACTED));
            }
        }
        apply_patterns(out)
    }

    /// Replaces the values of secret-named keys and passes every other string through [`Self::text`].
    pub fn json(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                let red = self.text(s);
                if red != *s {
                    *s = red;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.json(item)),
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if is_secret_key(key) {
                        // Null and booleans carry no secret and keep flags readable.
                        if !matches!(value, Value::Null | Value::Bool(_)) {
                            *value = Value::String(REDACTED.to_owned());
                        }
                    } else {
                        self.json(value);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Redacts a command line: each argument through [`Self::text`], plus the argument after a
    /// secret flag (`--token X`) and the token name in `tctl tokens rm X` / `tctl get token/X`.
    pub fn argv(&self, args: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(args.len());
        let mut secret_next = false;
        for (i, arg) in args.iter().enumerate() {
            if secret_next && !arg.starts_with('-') {
                out.push(REDACTED.to_owned());
                secret_next = false;
                continue;
            }
            let lower = arg.to_ascii_lowercase();
            secret_next = SECRET_FLAGS.split_whitespace().any(|f| f == lower)
                || (matches!(lower.as_str(), "rm" | "del") && i > 0 && args[i - 1].eq_ignore_ascii_case("tokens"));
            let text = self.text(arg);
            out.push(TOKEN_RESOURCE_REF.replace_all(&text, "${1}[REDACTED]").into_owned());
        }
        out
    }
}

/// The secret values of a command line, as [`Redactor::argv`] finds them: the argument after a
/// secret flag or after `tokens rm`/`tokens del`, the value of `--token=X`, the name in `token/X`.
/// A CLI echoes its arguments in errors (`tctl tokens rm X` that fails says `token "X" not found`),
/// and a token's name is its secret, so these are scrubbed from the run's output verbatim
/// ([`scrub_literals`]); under 4 characters they are left (see [`Redactor::with_literals`]).
pub fn argv_secrets(args: &[String]) -> Vec<String> {
    let mut secrets = Vec::new();
    let mut secret_next = false;
    for (i, arg) in args.iter().enumerate() {
        if secret_next && !arg.starts_with('-') {
            secrets.push(arg.clone());
        }
        let lower = arg.to_ascii_lowercase();
        secret_next = SECRET_FLAGS.split_whitespace().any(|f| f == lower)
            || (matches!(lower.as_str(), "rm" | "del") && i > 0 && args[i - 1].eq_ignore_ascii_case("tokens"));
        for c in SECRET_FLAG.captures_iter(arg) {
            secrets.push(c[2].trim_matches(['"', '\'']).to_owned());
        }
        for c in TOKEN_RESOURCE_REF.captures_iter(arg) {
            secrets.push(c[0][c[1].len()..].to_owned());
        }
    }
    secrets.retain(|s| s.len() >= MIN_LITERAL_LEN);
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();
    secrets
}

/// `text` with every occurrence of `secrets` (longest first, as [`argv_secrets`] orders them)
/// replaced by `[REDACTED]` and nothing else changed: parsers still read the rest verbatim.
pub fn scrub_literals(text: &mut String, secrets: &[String]) {
    for secret in secrets {
        if text.contains(secret.as_str()) {
            *text = text.replace(secret.as_str(), REDACTED);
        }
    }
}

static DEFAULT: LazyLock<Redactor> = LazyLock::new(Redactor::default);

/// Redacts `s` with the default [`Redactor`] (patterns only, no literals).
pub fn redact_text(s: &str) -> String {
    DEFAULT.text(s)
}

/// Redacts a stream one line at a time, remembering an open PEM block: a key printed over several
/// lines has nothing secret-looking on its base64 lines, so every line up to its END line goes.
#[derive(Debug, Default)]
pub struct LineRedactor {
    in_pem: bool,
}

impl LineRedactor {
    /// The redacted form of the stream's next line.
    pub fn line(&mut self, line: &str) -> String {
        let was_in_pem = self.in_pem;
        // The last marker on the line decides: a block can end and the next one begin on one line
        // (a body then leaked when only the END was seen).
        let opens = |line: &str| match (line.rfind("-----BEGIN "), line.rfind("-----END ")) {
            (None, None) => was_in_pem,
            (Some(begin), end) => end.is_none_or(|end| begin > end),
            (None, Some(_)) => false,
        };
        // As written and as a terminal shows it: an escape may split a marker, or stripping one
        // may eat the start of it (see [`Redactor::text`]); either way the block is open.
        self.in_pem = opens(line) || opens(&strip_escapes(line));
        if was_in_pem { REDACTED.to_owned() } else { redact_text(line) }
    }
}

/// Redacts `v` in place with the default [`Redactor`].
pub fn redact_json(v: &mut Value) {
    DEFAULT.json(v)
}

/// Redacts a command line with the default [`Redactor`]; see [`Redactor::argv`].
pub fn redact_argv(args: &[String]) -> Vec<String> {
    DEFAULT.argv(args)
}

/// Passes of the patterns at most. One pass can leave text that another pattern reads differently
/// once a marker stands next to it (the fuzzer: `--token=-x\y` lost `-x` to the key=value pattern,
/// which stops at `\`, and the flag pattern took `\y` on the next pass), so redaction repeats
/// until a pass changes nothing. That also makes it idempotent. Text without secrets takes one pass.
const MAX_PASSES: usize = 4;

fn apply_patterns(s: Cow<'_, str>) -> Cow<'_, str> {
    let mut current = one_pass(s);
    for _ in 1..MAX_PASSES {
        if matches!(current, Cow::Borrowed(_)) {
            break;
        }
        let next = one_pass(Cow::Borrowed(&current)).into_owned();
        if next == *current {
            break;
        }
        current = Cow::Owned(next);
    }
    current
}

fn one_pass(s: Cow<'_, str>) -> Cow<'_, str> {
    let mut s = s;
    replace(&mut s, &PEM_BLOCK, REDACTED);
    replace(&mut s, &PEM_OPEN, REDACTED);
    replace(&mut s, &PEM_BASE64, REDACTED);
    replace(&mut s, &JWT, REDACTED);
    replace(&mut s, &URL_CREDENTIALS, "${1}[REDACTED]@");
    replace(&mut s, &BEARER, "${1}[REDACTED]");
    replace(&mut s, &HEADER, "${1}${2}[REDACTED]");
    replace(&mut s, &SECRET_FLAG, flag_replacement);
    replace(&mut s, &AWS_ACCESS_KEY_ID, REDACTED);
    replace(&mut s, &SECRET_YAML_LIST, "${1}- [REDACTED]\n");
    replace(&mut s, &SECRET_KV, kv_replacement);
    replace(&mut s, &AWS_SECRET_KEY, AwsSecret);
    s
}

/// Replaces every match of `re` in `s`, allocating only when there is one.
fn replace(s: &mut Cow<'_, str>, re: &Regex, with: impl regex::Replacer) {
    if re.is_match(s) {
        *s = Cow::Owned(re.replace_all(s, with).into_owned());
    }
}

/// Keeps the quotes of a quoted flag value: `--token='x'0` became `--token=[REDACTED]0`, which a
/// second pass read as a new unquoted value (redaction must change nothing the second time).
fn flag_replacement(caps: &Captures<'_>) -> String {
    match caps[2].chars().next() {
        Some(q @ ('"' | '\'')) => format!("{}{q}{REDACTED}{q}", &caps[1]),
        _ => format!("{}{REDACTED}", &caps[1]),
    }
}

fn kv_replacement(caps: &Captures<'_>) -> String {
    let (prefix, value) = (&caps[1], &caps[2]);
    let keep = matches!(
        value.to_ascii_lowercase().as_str(),
        "null" | "true" | "false" | "~" | "\"\"" | "''" | "\"[redacted]\"" | "[redacted]"
    );
    if keep {
        return caps[0].to_owned();
    }
    if value.starts_with("\\\"") {
        return format!("{prefix}\\\"{REDACTED}\\\"");
    }
    match value.chars().next() {
        Some(q @ ('"' | '\'')) => format!("{prefix}{q}{REDACTED}{q}"),
        Some('[') => format!("{prefix}[\"{REDACTED}\"]"),
        _ => format!("{prefix}{REDACTED}"),
    }
}

/// The replacer of [`AWS_SECRET_KEY`].
struct AwsSecret;

impl regex::Replacer for AwsSecret {
    fn replace_append(&mut self, caps: &Captures<'_>, dst: &mut String) {
        let run = &caps[0];
        let looks_random = run.len() == 40
            && run.bytes().any(|b| b.is_ascii_uppercase())
            && run.bytes().any(|b| b.is_ascii_lowercase())
            && run.bytes().any(|b| b.is_ascii_digit());
        dst.push_str(if looks_random { REDACTED } else { run });
    }
}

/// Key names (compared on their last words, case-insensitively) whose values are secrets.
const SECRET_LAST_WORDS: &str = "token secret password passwd passphrase priv cookie cookies authorization apikey";
/// The same for the last two words, joined by `_`.
const SECRET_LAST_PAIRS: &str = "private_key priv_key key_pem client_secret api_key access_key \
     secret_key password_hash totp_key local_auth";

/// Whether a JSON key names a secret: `token`, `auth_token`, `accessToken`, `client_secret`,
/// `private_key`, … but not `password_state`, `allow_passwordless`, `token_ttl` or `tokens`.
pub fn is_secret_key(key: &str) -> bool {
    let words = split_words(key);
    let Some(last) = words.last() else {
        return false;
    };
    let single = SECRET_LAST_WORDS.split_whitespace().any(|w| last == w)
        || ["token", "secret", "password"].iter().any(|w| last.ends_with(w));
    let pair = match words.len().checked_sub(2) {
        Some(i) => {
            let last_two = format!("{}_{last}", words[i]);
            SECRET_LAST_PAIRS.split_whitespace().any(|p| p == last_two)
        }
        None => false,
    };
    single || pair
}

/// Splits `snake_case`, `kebab-case`, `dotted.names` and `camelCase` into lowercase words.
fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn a_pem_block_over_several_lines_is_redacted_line_by_line() {
        let mut r = LineRedactor::default();
        let out: Vec<String> = [
            "connecting failed; key:",
            "-----BEGIN RSA PRIVATE KEY-----",
            "MIIEowIBAAKCAQEAzZ9x",
            "Kq7fxZzmwlL6dac6yW7S",
            "-----END RSA PRIVATE KEY-----",
            "retrying",
        ]
        .iter()
        .map(|l| r.line(l))
        .collect();
        assert!(out.iter().all(|l| !l.contains("MIIE") && !l.contains("Kq7f")), "{out:?}");
        assert_eq!((out[0].as_str(), out[5].as_str()), ("connecting failed; key:", "retrying"));
    }

    /// Found by the property tests: the second key's body was printed in clear.
    #[test]
    fn a_key_that_begins_on_the_end_line_of_another_is_redacted_too() {
        let mut r = LineRedactor::default();
        let out: Vec<String> = [
            "-----BEGIN RSA PRIVATE KEY-----",
            "MIIEowIBAAKCAQEAzZ9x",
            "-----END RSA PRIVATE KEY----------BEGIN EC PRIVATE KEY-----",
            "Kq7fxZzmwlL6dac6yW7S",
            "-----END EC PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----",
            "after",
        ]
        .iter()
        .map(|l| r.line(l))
        .collect();
        assert!(out.iter().all(|l| !l.contains("MIIE") && !l.contains("Kq7f") && !l.contains("MIIB")), "{out:?}");
        assert_eq!(out[6], "after", "a block on one line closes itself");
    }

    #[test]
    fn argv_secrets_are_what_argv_redaction_hides() {
        let args: Vec<String> = [
            "tokens",
            "rm",
            "abcd1234",
            "--token=s3cr3t-v",
            "get",
            "token/zyxw9876",
            "--password",
            "pw12345",
            "-i",
            "x",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(argv_secrets(&args), ["abcd1234", "s3cr3t-v", "zyxw9876", "pw12345"]);
        let mut text = "ERROR: token \"zyxw9876\" is not found; abcd1234 gone".to_owned();
        scrub_literals(&mut text, &argv_secrets(&args));
        assert_eq!(text, "ERROR: token \"[REDACTED]\" is not found; [REDACTED] gone");
        assert!(argv_secrets(&["tokens".into(), "rm".into(), "ab".into()]).is_empty(), "too short to scrub");
    }
}
