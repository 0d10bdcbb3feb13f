//! The environment the simulator reads, captured once at start-up: the real Teleport variables
//! and the `TELEPORT_SIM_*` knobs. Nothing else in the crate touches `std::env`.

/// The variables the simulator honours. Unset and empty are both treated as unset, like Go's
/// `os.Getenv` checks in `tctl`/`tsh`.
#[derive(Debug, Clone, Default)]
pub struct SimEnv {
    /// `TELEPORT_AUTH_SERVER`
    pub auth_server: Option<String>,
    /// `TELEPORT_PROXY`
    pub proxy: Option<String>,
    /// `TELEPORT_IDENTITY_FILE`
    pub identity_file: Option<String>,
    /// `TELEPORT_CONFIG_FILE`
    pub config_file: Option<String>,
    /// `TELEPORT_USER`
    pub user: Option<String>,
    /// `TELEPORT_CLUSTER`
    pub cluster: Option<String>,
    /// `TELEPORT_HOME`: the `tsh` profile directory; the default home of the state directory.
    pub teleport_home: Option<String>,
    /// `HOME`: `~/.tsh` is where `tsh` keeps profiles when `TELEPORT_HOME` is unset.
    pub home: Option<String>,
    /// `TELEPORT_SIM_ALLOW_NO_IDENTITY=1`: run without any credential.
    pub allow_no_identity: bool,
    /// `TELEPORT_SIM_STATE`: path of a state file (YAML or JSON).
    pub state_file: Option<String>,
    /// `TELEPORT_SIM_STATE_DIR`: where mutable state (access requests) lives (see [`crate::store`]).
    pub state_dir: Option<String>,
    /// `TELEPORT_SIM_USER`: the user the simulator acts as, over the state's `identity_user`.
    pub sim_user: Option<String>,
    /// `TELEPORT_SIM_VERSION`: the Teleport release to imitate (see [`crate::release`]).
    pub version: Option<String>,
    /// `TELEPORT_SIM_NOW`: an RFC 3339 time that replaces the clock (deterministic output).
    pub now: Option<String>,
    /// `TELEPORT_SIM_DELAY_MS`
    pub delay_ms: Option<String>,
    /// `TELEPORT_SIM_HANG`
    pub hang: Option<String>,
    /// `TELEPORT_SIM_HANG_AFTER`
    pub hang_after: Option<String>,
    /// `TELEPORT_SIM_FAIL`
    pub fail: Option<String>,
    /// `TELEPORT_SIM_FAIL_ON`
    pub fail_on: Option<String>,
    /// `TELEPORT_SIM_EXIT`
    pub exit: Option<String>,
    /// `TELEPORT_SIM_GARBAGE`
    pub garbage: Option<String>,
    /// `TELEPORT_SIM_STDERR_NOISE`
    pub stderr_noise: Option<String>,
    /// `TELEPORT_SIM_PROXY_FAIL`: long-running commands fail at start.
    pub proxy_fail: Option<String>,
    /// `TELEPORT_SIM_PROXY_EXIT_AFTER_MS`: long-running commands exit 3 by themselves after this.
    pub proxy_exit_after_ms: Option<String>,
    /// `TELEPORT_SIM_IGNORE_SIGTERM`: long-running commands survive SIGTERM (SIGKILL still works).
    pub ignore_sigterm: Option<String>,
    /// `TELEPORT_SIM_OS`: the platform `tsh vnet` believes it runs on (Go's `GOOS` names:
    /// `darwin`, `windows`, `linux`); default the real one.
    pub os: Option<String>,
    /// `TELEPORT_TOOLS_VERSION`: `off` disables client tools' self-update.
    pub tools_version: Option<String>,
    /// `TELEPORT_SIM_MANAGED_TOOLS=<version>`: the cluster advertises managed client tools at that
    /// version, so a tool run without `TELEPORT_TOOLS_VERSION=off` would update itself (see [`crate::gate`]).
    pub managed_tools: Option<String>,
    /// `TELEPORT_SIM_ARGV_LOG`: a file that gets one JSON line per invocation (see [`crate::argv_log`]).
    pub argv_log: Option<String>,
}

impl SimEnv {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds the snapshot from any lookup function (tests pass a closure over a list).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |key: &str| lookup(key).filter(|v| !v.is_empty());
        SimEnv {
            auth_server: get("TELEPORT_AUTH_SERVER"),
            proxy: get("TELEPORT_PROXY"),
            identity_file: get("TELEPORT_IDENTITY_FILE"),
            config_file: get("TELEPORT_CONFIG_FILE"),
            user: get("TELEPORT_USER"),
            cluster: get("TELEPORT_CLUSTER").or_else(|| get("TELEPORT_SITE")),
            teleport_home: get("TELEPORT_HOME"),
            home: get("HOME"),
            allow_no_identity: get("TELEPORT_SIM_ALLOW_NO_IDENTITY").is_some_and(|v| truthy(&v)),
            state_file: get("TELEPORT_SIM_STATE"),
            state_dir: get("TELEPORT_SIM_STATE_DIR"),
            sim_user: get("TELEPORT_SIM_USER"),
            version: get("TELEPORT_SIM_VERSION"),
            now: get("TELEPORT_SIM_NOW"),
            delay_ms: get("TELEPORT_SIM_DELAY_MS"),
            hang: get("TELEPORT_SIM_HANG"),
            hang_after: get("TELEPORT_SIM_HANG_AFTER"),
            fail: get("TELEPORT_SIM_FAIL"),
            fail_on: get("TELEPORT_SIM_FAIL_ON"),
            exit: get("TELEPORT_SIM_EXIT"),
            garbage: get("TELEPORT_SIM_GARBAGE"),
            stderr_noise: get("TELEPORT_SIM_STDERR_NOISE"),
            proxy_fail: get("TELEPORT_SIM_PROXY_FAIL"),
            proxy_exit_after_ms: get("TELEPORT_SIM_PROXY_EXIT_AFTER_MS"),
            ignore_sigterm: get("TELEPORT_SIM_IGNORE_SIGTERM"),
            os: get("TELEPORT_SIM_OS"),
            tools_version: get("TELEPORT_TOOLS_VERSION"),
            managed_tools: get("TELEPORT_SIM_MANAGED_TOOLS"),
            argv_log: get("TELEPORT_SIM_ARGV_LOG"),
        }
    }

    /// Builds the snapshot from `(name, value)` pairs.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::from_lookup(|key| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned()))
    }
}

/// `1`, `true`, `yes` (any case) switch a knob on; `0`, `false`, `no` leave it off.
pub fn truthy(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}
