//! Start-up shared by the service binaries: the `--config` flag, configuration loading, logging
//! and trace export.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser};

use crate::config::Config;

/// Command line of a service binary.
#[derive(Debug, Parser)]
#[command(version)]
pub struct ServiceArgs {
    /// Configuration file (YAML); environment overrides apply on top.
    #[arg(long, env = "MTCP_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The common command line plus the flags one binary adds.
#[derive(Debug, Parser)]
#[command(version)]
struct WithFlags<F: Args> {
    #[command(flatten)]
    service: ServiceArgs,
    #[command(flatten)]
    flags: F,
}

/// Parse the command line of service `name`, load and validate its configuration, start logging
/// (and trace export when configured; spans are named after `name` unless configured otherwise).
pub fn start(name: &'static str, about: &'static str) -> anyhow::Result<Config> {
    let matches = ServiceArgs::command().name(name).about(about).get_matches();
    let args = ServiceArgs::from_arg_matches(&matches)?;
    load(args, name)
}

/// [`start`] for a binary with flags of its own; returns them with the configuration.
pub fn start_with<F: Args>(name: &'static str, about: &'static str) -> anyhow::Result<(Config, F)> {
    let matches = WithFlags::<F>::command().name(name).about(about).get_matches();
    let args = WithFlags::<F>::from_arg_matches(&matches)?;
    Ok((load(args.service, name)?, args.flags))
}

fn load(args: ServiceArgs, name: &str) -> anyhow::Result<Config> {
    let config = Config::load(args.config.as_deref())?;
    crate::telemetry::init(&config, name);
    Ok(config)
}
