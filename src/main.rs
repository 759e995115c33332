//! The thin binary: parse, set up logging and hooks, run, map the exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = shipdeck::cli::Cli::parse();
    ExitCode::from(shipdeck::run(cli))
}
