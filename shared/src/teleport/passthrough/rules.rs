//! The passthrough's tables: the commands and flags each binary may run, and why the dangerous
//! ones are refused. Every reason is written for an LLM deciding what to do instead.

use crate::teleport::record::Scrub;
use crate::teleport::runner::Binary;

/// What a flag's value may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ValueKind {
    /// One of the command's `--format` values; the message says which.
    Format(&'static Formats),
    /// Free text (a predicate or search words): no leading `-` or `@`.
    Text,
}

/// A flag an allowed command accepts. Short forms are booleans only, so a short cluster never
/// carries a value (checked by a test).
#[derive(Debug)]
pub(super) struct FlagSpec {
    pub long: &'static str,
    pub short: Option<char>,
    pub value: Option<ValueKind>,
}

/// What the positional arguments of a command may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Positionals {
    None,
    /// Exactly one access request id.
    RequestId,
    /// Exactly one `kind` or `kind/name` from [`KINDS`].
    ResourceRef,
    /// Any number of `key=value[,key=value]` label filters.
    Labels,
}

/// A read-only command passthrough runs.
#[derive(Debug)]
pub(super) struct Allowed {
    pub binary: Binary,
    pub words: &'static [&'static str],
    pub positionals: Positionals,
    pub flags: &'static [FlagSpec],
    /// Extra scrubbing of the output (`tokens ls` prints secret token names).
    pub scrub: Scrub,
}

/// The `--format` values a command accepts, and the refusal that lists them.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Formats {
    pub values: &'static [&'static str],
    pub why: &'static str,
}

/// Listings and `tctl get`: every format some list command accepts.
const ANY_FORMAT: Formats = Formats { values: &["text", "json", "yaml", "names"], why: FORMAT_VALUE };
/// `tctl requests ls|get` (`tool/tctl/common/access_request_command.go`) and `tctl inventory ls`
/// (`tool/tctl/common/inventory_command.go`): text or JSON only.
const TEXT_JSON: Formats = Formats { values: &["text", "json"], why: FORMAT_TEXT_JSON };
/// `tctl tokens ls` (`tool/tctl/common/token_command.go`): text, JSON or YAML.
const TEXT_JSON_YAML: Formats = Formats { values: &["text", "json", "yaml"], why: FORMAT_TEXT_JSON_YAML };

const FORMAT: FlagSpec = FlagSpec { long: "format", short: None, value: Some(ValueKind::Format(&ANY_FORMAT)) };
const HELP: FlagSpec = FlagSpec { long: "help", short: None, value: None };
const QUERY: FlagSpec = FlagSpec { long: "query", short: None, value: Some(ValueKind::Text) };
const SEARCH: FlagSpec = FlagSpec { long: "search", short: None, value: Some(ValueKind::Text) };
const VERBOSE: FlagSpec = FlagSpec { long: "verbose", short: Some('v'), value: None };

const PLAIN: &[FlagSpec] = &[FORMAT, HELP];
/// `tctl status` and `tctl version` on 17.x/18.x declare no `--format`.
const NO_FORMAT: &[FlagSpec] = &[HELP];
const TEXT_JSON_ONLY: &[FlagSpec] =
    &[FlagSpec { long: "format", short: None, value: Some(ValueKind::Format(&TEXT_JSON)) }, HELP];
const TOKENS: &[FlagSpec] =
    &[FlagSpec { long: "format", short: None, value: Some(ValueKind::Format(&TEXT_JSON_YAML)) }, HELP];
const LISTING: &[FlagSpec] = &[FORMAT, HELP, QUERY, SEARCH, VERBOSE];
const REQUESTS: &[FlagSpec] = &[
    FORMAT,
    HELP,
    FlagSpec { long: "reviewable", short: None, value: None },
    FlagSpec { long: "suggested", short: None, value: None },
    FlagSpec { long: "my-requests", short: None, value: None },
];

const fn allow(binary: Binary, words: &'static [&'static str], positionals: Positionals) -> Allowed {
    Allowed { binary, words, positionals, flags: PLAIN, scrub: Scrub::Plain }
}

const fn listing(binary: Binary, words: &'static [&'static str]) -> Allowed {
    Allowed { binary, words, positionals: Positionals::Labels, flags: LISTING, scrub: Scrub::Plain }
}

use Binary::{Tctl, Tsh};
use Positionals::{None as NoArgs, RequestId, ResourceRef};

/// The allow-list. Keep [`TCTL_COMMANDS`] and [`TSH_COMMANDS`] in step (a test checks).
pub(super) const ALLOWED: &[Allowed] = &[
    allow(Tctl, &["get"], ResourceRef),
    Allowed { binary: Tctl, words: &["status"], positionals: NoArgs, flags: NO_FORMAT, scrub: Scrub::Plain },
    listing(Tctl, &["nodes", "ls"]),
    Allowed { binary: Tctl, words: &["tokens", "ls"], positionals: NoArgs, flags: TOKENS, scrub: Scrub::Tokens },
    allow(Tctl, &["users", "ls"], NoArgs),
    Allowed {
        binary: Tctl,
        words: &["requests", "ls"],
        positionals: NoArgs,
        flags: TEXT_JSON_ONLY,
        scrub: Scrub::Plain,
    },
    Allowed {
        binary: Tctl,
        words: &["requests", "get"],
        positionals: RequestId,
        flags: TEXT_JSON_ONLY,
        scrub: Scrub::Plain,
    },
    Allowed {
        binary: Tctl,
        words: &["alerts", "ls"],
        positionals: NoArgs,
        flags: &[FORMAT, HELP, VERBOSE],
        scrub: Scrub::Plain,
    },
    Allowed {
        binary: Tctl,
        words: &["inventory", "ls"],
        positionals: NoArgs,
        flags: TEXT_JSON_ONLY,
        scrub: Scrub::Plain,
    },
    Allowed { binary: Tctl, words: &["version"], positionals: NoArgs, flags: NO_FORMAT, scrub: Scrub::Plain },
    listing(Tsh, &["ls"]),
    allow(Tsh, &["status"], NoArgs),
    Allowed { binary: Tsh, words: &["request", "ls"], positionals: NoArgs, flags: REQUESTS, scrub: Scrub::Plain },
    allow(Tsh, &["request", "show"], RequestId),
    listing(Tsh, &["apps", "ls"]),
    listing(Tsh, &["db", "ls"]),
    listing(Tsh, &["kube", "ls"]),
    listing(Tsh, &["mcp", "ls"]),
    allow(Tsh, &["version"], NoArgs),
];

/// Resource kinds `tctl get` may read (`ParseShortcut` spellings, docs/teleport-output.md), with the scrubbing their output needs.
pub(super) const KINDS: &[(&str, Scrub)] = &[
    ("node", Scrub::Plain),
    ("nodes", Scrub::Plain),
    ("proxy", Scrub::Plain),
    ("proxies", Scrub::Plain),
    ("role", Scrub::Plain),
    ("roles", Scrub::Plain),
    ("user", Scrub::Plain),
    ("users", Scrub::Plain),
    ("token", Scrub::Tokens),
    ("tokens", Scrub::Tokens),
    ("cert_authority", Scrub::CertAuthorities),
    ("cert_authorities", Scrub::CertAuthorities),
    ("cas", Scrub::CertAuthorities),
    ("cluster_auth_preference", Scrub::Plain),
    ("cap", Scrub::Plain),
    ("trusted_cluster", Scrub::Plain),
    ("tc", Scrub::Plain),
    ("remote_cluster", Scrub::Plain),
    ("rc", Scrub::Plain),
    ("lock", Scrub::Plain),
    ("locks", Scrub::Plain),
    ("github", Scrub::Plain),
    ("oidc", Scrub::Plain),
    ("saml", Scrub::Plain),
];

pub(super) const TCTL_COMMANDS: &str = "passthrough runs only these read-only tctl commands: get <kind>[/<name>], \
status, nodes ls, tokens ls, users ls, requests ls, requests get <id>, alerts ls, inventory ls, version";
pub(super) const TSH_COMMANDS: &str = "passthrough runs only these read-only tsh commands: ls, status, request ls, \
request show <id>, apps ls, db ls, kube ls, mcp ls, version";
pub(super) const UNKNOWN_FLAG: &str = "not a flag passthrough allows for this command; allowed: --format=text|json|yaml, \
--help, and on list commands (nodes ls, ls, apps/db/kube/mcp ls) --query, --search, --verbose/-v; tsh request ls also \
--reviewable, --suggested, --my-requests";
pub(super) const KIND: &str = "not a resource kind passthrough may read; allowed: node, nodes, proxy, proxies, \
role, roles, user, users, token, tokens, cert_authority, cert_authorities, cas, cluster_auth_preference, cap, \
trusted_cluster, tc, remote_cluster, rc, lock, locks, github, oidc, saml; each also as <kind>/<name>";
pub(super) const RESOURCE_NAME: &str =
    "not a resource reference: write <kind> or <kind>/<name> with letters, digits and - _ . @ : in the name";
pub(super) const REQUEST_ID: &str = "not an access request id (letters, digits, - _ . :, not starting with -)";
pub(super) const LABELS: &str = "not a label filter: write key=value[,key=value] with letters, digits and - _ . / : * \
(or use --query)";
pub(super) const NO_POSITIONALS: &str = "this command takes no positional arguments";
pub(super) const ONE_POSITIONAL: &str = "this command takes exactly one positional argument";
pub(super) const FORMAT_VALUE: &str = "--format takes text, json, yaml or names";
pub(super) const FORMAT_TEXT_JSON: &str = "this command's --format takes only text or json";
pub(super) const FORMAT_TEXT_JSON_YAML: &str = "tctl tokens ls --format takes only text, json or yaml";
pub(super) const NO_FORMAT_FLAG: &str = "tctl status and tctl version take no --format in Teleport 17.x and 18.x \
(tctl refuses it as an unknown flag); run them without it and read the text";
pub(super) const MISSING_VALUE: &str = "this flag needs a value; write it as --flag=value";
pub(super) const NO_VALUE: &str = "this flag takes no value";
pub(super) const VALUE_SHAPE: &str = "a flag value may not be empty or start with - or @";
pub(super) const FLAG_FIRST: &str =
    "the command must come first, flags after it (e.g. [\"get\", \"nodes\", \"--format=json\"])";
pub(super) const DASH_DASH: &str = "`--` would make every later word positional; passthrough refuses it so each word \
is checked for what it is (no allowed command needs it)";
pub(super) const AT_FILE: &str = "a leading @ makes tctl/tsh read arguments from that file on the worker";
pub(super) const SHELL: &str = "looks like shell syntax, but there is no shell: the arguments go to the CLI as they are, \
so pass only the command's own words";
pub(super) const ENV: &str = "looks like an environment variable assignment; the CLI's environment is fixed by the \
control plane and cannot be set through arguments";
pub(super) const LOGIN: &str = "logs in or out, which would replace or remove the credentials the control plane runs \
with; the control plane always uses its configured identity";

const IDENTITY: &str = "overrides the control plane's identity; the worker always uses its configured identity file";
const PROXY: &str = "overrides the proxy/auth server the control plane is configured to talk to";
const CLUSTER: &str = "switches to another (leaf) cluster than the one the control plane is configured for";
const CONFIG: &str = "points tctl at another config file on the worker, i.e. another identity and auth server";
const OUTPUT: &str =
    "writes a file on the worker (for tsh -o: passes OpenSSH options); passthrough returns output instead";

/// Flags refused wherever they stand: `(binary or both, long, short, why)`.
pub(super) const DENIED_FLAGS: &[(Option<Binary>, &str, Option<char>, &str)] = &[
    (None, "identity", Some('i'), IDENTITY),
    (None, "proxy", None, PROXY),
    (None, "auth-server", None, PROXY),
    (None, "auth", None, "selects a login connector; the control plane never logs in, it uses its configured identity"),
    (None, "user", None, "overrides the Teleport user; the control plane acts as its one configured service identity"),
    (
        None,
        "login",
        Some('l'),
        "sets the SSH login (who you become on a node); only session commands use it, and passthrough refuses those",
    ),
    (Some(Tsh), "cluster", Some('c'), CLUSTER),
    (Some(Tctl), "cluster", None, CLUSTER),
    (Some(Tctl), "config", Some('c'), CONFIG),
    (Some(Tsh), "config", None, CONFIG),
    (None, "relay", None, "routes the connection through another relay than the configured one"),
    (None, "headless", None, "starts a headless login that waits for approval on another device"),
    (
        None,
        "mfa-mode",
        None,
        "changes how MFA prompts are answered; the control plane does not log in or answer prompts",
    ),
    (None, "insecure", None, "disables TLS certificate verification of the cluster"),
    (None, "add-keys-to-agent", Some('k'), "writes keys into the worker's SSH agent"),
    (None, "debug", Some('d'), "turns on debug output (stack traces and internals), which breaks error classification"),
    (None, "out", None, OUTPUT),
    (None, "output", Some('o'), OUTPUT),
    (None, "kubeconfig", None, "writes a kubeconfig file on the worker"),
    (None, "with-secrets", None, "prints private keys and other secrets; use list_cas or list_tokens, which mask them"),
];

const SESSION: &str = "opens an interactive session, which an agent cannot drive";
const LONG_LIVED: &str = "starts a long-lived local proxy or bridge; use the start_proxy tool, which leases and \
supervises it";
const REQUEST_CHANGE: &str = "changes access requests; use create_access_request, review_access_request or \
drop_access_request, which record who asked and why";
const WRITES_RESOURCES: &str = "reads resource files from the worker's disk and changes the cluster";

/// Commands refused with a specific reason (the allow-list would refuse them anyway).
pub(super) const DENIED_COMMANDS: &[(Binary, &[&str], &str)] = &[
    (Tsh, &["ssh"], "runs commands on nodes (interactive or long-lived); passthrough runs read-only listings only"),
    (Tsh, &["scp"], "copies files to or from the worker"),
    (Tsh, &["proxy"], LONG_LIVED),
    (Tsh, &["vnet"], LONG_LIVED),
    (Tsh, &["mcp", "connect"], LONG_LIVED),
    (Tsh, &["mcp", "config"], "writes MCP client configuration files on the worker"),
    (Tsh, &["db", "connect"], SESSION),
    (Tsh, &["kube", "exec"], SESSION),
    (Tsh, &["join"], SESSION),
    (Tsh, &["play"], SESSION),
    (Tsh, &["kube", "credentials"], "prints client credentials (a private key)"),
    (Tsh, &["request", "create"], REQUEST_CHANGE),
    (Tsh, &["request", "review"], REQUEST_CHANGE),
    (Tsh, &["request", "drop"], REQUEST_CHANGE),
    (Tctl, &["auth", "sign"], "issues credentials and writes them to files on the worker"),
    (Tctl, &["create"], WRITES_RESOURCES),
    (Tctl, &["update"], WRITES_RESOURCES),
    (Tctl, &["edit"], "opens an editor on the worker (interactive) and changes the cluster"),
    (Tctl, &["rm"], "deletes cluster resources"),
    (Tctl, &["bots", "add"], "creates a bot and prints its join token (a secret)"),
    (Tctl, &["tokens", "add"], "creates a join token (a secret)"),
    (Tctl, &["users", "add"], "creates a user and prints a sign-up link (a secret)"),
    (Tctl, &["users", "reset"], "creates a password reset link (a secret)"),
    (Tctl, &["requests", "approve"], REQUEST_CHANGE),
    (Tctl, &["requests", "deny"], REQUEST_CHANGE),
    (Tctl, &["requests", "rm"], REQUEST_CHANGE),
    (
        Tctl,
        &["lock"],
        "locks users, roles or access requests; use drop_access_request with `revoke`, which records who asked and why",
    ),
    (Tctl, &["top"], "opens an interactive terminal UI"),
];
