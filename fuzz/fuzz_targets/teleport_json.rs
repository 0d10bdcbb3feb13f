//! Every Teleport output parser on arbitrary input: the first byte picks the parser, the rest is
//! the output. A parser may refuse (`Err`), never panic. Seeds are fixtures behind their selector.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtcp_shared::teleport::parse::{
    parse_access_request, parse_access_requests, parse_audit_events, parse_auth_preference, parse_cert_authorities,
    parse_cluster_status, parse_mcp_apps, parse_nodes, parse_proxies, parse_roles, parse_tokens, parse_users,
};
use mtcp_shared::teleport::table::{parse_table, parse_tsh_ls_text};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let s = text.as_ref();
    // Keep the order: the seed corpus files start with these selectors.
    match selector % 14 {
        0 => drop(parse_nodes(s)),
        1 => drop(parse_proxies(s)),
        2 => drop(parse_roles(s)),
        3 => drop(parse_users(s)),
        4 => drop(parse_tokens(s)),
        5 => drop(parse_cert_authorities(s)),
        6 => drop(parse_auth_preference(s)),
        7 => drop(parse_cluster_status(s)),
        8 => drop(parse_access_requests(s)),
        9 => drop(parse_access_request(s)),
        10 => drop(parse_mcp_apps(s)),
        11 => drop(parse_audit_events(s)),
        12 => drop(parse_tsh_ls_text(s)),
        _ => drop(parse_table(s)),
    }
});
