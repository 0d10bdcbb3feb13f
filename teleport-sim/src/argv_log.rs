//! `TELEPORT_SIM_ARGV_LOG`: one JSON line per invocation with the arguments the tool received,
//! so an end-to-end test can prove which words reached `tctl`/`tsh` (and that no caller value
//! arrived as a flag).

use std::fs::OpenOptions;
use std::io::Write;

use serde::Serialize;

use crate::invocation::{self, Invocation};

/// One line of the log; fields in this order: `{"tool":"tctl","argv":[…]}`.
#[derive(Serialize)]
struct Line<'a> {
    tool: &'a str,
    argv: &'a [String],
}

/// The line for `argv` (program name first), newline included. `tool` is `tctl`/`tsh` and `argv`
/// what that tool parses (after `argv[0]`, and after the tool word when run as
/// `teleport-sim tctl …`); anything else is logged as `teleport-sim` with everything after `argv[0]`.
pub fn line(argv: &[String]) -> String {
    let rest = argv.get(1..).unwrap_or_default();
    let (tool, args) = match invocation::resolve(argv) {
        Invocation::Tool(tool, args) => (tool.name(), args),
        _ => ("teleport-sim", rest.to_vec()),
    };
    let mut text = serde_json::to_string(&Line { tool, argv: &args }).unwrap_or_default();
    text.push('\n');
    text
}

/// Appends [`line`] to `path`. The whole line goes out in one `write` on a file opened with
/// `O_APPEND`, so concurrent invocations add whole lines rather than interleaving bytes. Errors
/// are ignored: the log is an observation aid and must never change what the tool prints.
pub fn append(path: &str, argv: &[String]) {
    let Ok(mut file) = OpenOptions::new().create(true).append(true).open(path) else { return };
    // A single call on purpose: retrying a short write (as `write_all` would) could split a line.
    let _ = file.write(line(argv).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn lines_name_the_tool_and_keep_every_argument_verbatim() {
        let via_link = line(&argv(&["/opt/bin/tctl", "-i", "/id", "get", "nodes", "--format=json"]));
        assert_eq!(via_link, "{\"tool\":\"tctl\",\"argv\":[\"-i\",\"/id\",\"get\",\"nodes\",\"--format=json\"]}\n");
        let wrapped = line(&argv(&["teleport-sim", "tsh", "ls", "a\nb \"c\""]));
        assert_eq!(wrapped, "{\"tool\":\"tsh\",\"argv\":[\"ls\",\"a\\nb \\\"c\\\"\"]}\n");
        assert_eq!(
            line(&argv(&["teleport-sim", "demo-state"])),
            "{\"tool\":\"teleport-sim\",\"argv\":[\"demo-state\"]}\n"
        );
    }
}
