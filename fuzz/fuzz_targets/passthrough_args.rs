//! Raw `tctl`/`tsh` arguments (`run_tctl_command`, `run_tsh_command`): the first byte picks the
//! binary, the rest is the argv, one argument per line. What passes has only allowed flags, never
//! a value that starts with `-`, no `--`, no `@file`, no control characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtcp_shared::redact::redact_argv;
use mtcp_shared::teleport::passthrough::validate_args;
use mtcp_shared::teleport::runner::Binary;

/// Every flag an allowed command takes, with whether it takes a value.
const ALLOWED_FLAGS: &[(&str, bool)] = &[
    ("format", true),
    ("help", false),
    ("query", true),
    ("search", true),
    ("verbose", false),
    ("reviewable", false),
    ("suggested", false),
    ("my-requests", false),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let binary = if selector % 2 == 0 { Binary::Tctl } else { Binary::Tsh };
    let args: Vec<String> = String::from_utf8_lossy(rest).split('\n').map(str::to_owned).collect();
    let _ = redact_argv(&args);
    if validate_args(binary, &args).is_err() {
        return;
    }
    assert!(!args[0].starts_with('-'), "{args:?}");
    let mut value_next = false;
    for arg in &args {
        assert!(!arg.chars().any(char::is_control) && !arg.starts_with('@') && arg != "--", "{args:?}");
        if value_next {
            assert!(!arg.is_empty() && !arg.starts_with('-'), "{binary} {args:?}");
            value_next = false;
        } else if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = body.split_once('=').map_or((body, None), |(n, v)| (n, Some(v)));
            let takes_value = match ALLOWED_FLAGS.iter().find(|(f, _)| *f == name) {
                Some((_, takes_value)) => *takes_value,
                None => panic!("{binary} {args:?}: {arg} is not an allowed flag"),
            };
            if let Some(v) = inline {
                assert!(takes_value && !v.is_empty() && !v.starts_with('-'), "{binary} {args:?}");
            }
            value_next = takes_value && inline.is_none();
        } else if arg.len() > 1 && arg.starts_with('-') {
            assert!(arg[1..].chars().all(|c| c == 'v'), "{binary} {args:?}: {arg}");
        }
    }
});
