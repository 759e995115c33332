//! Every subcommand, argument and option says what it is for in `--help`.

use clap::CommandFactory;

fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(id, "help" | "version") || arg.is_hide_set() {
            continue;
        }
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        if help.trim().is_empty() {
            missing.push(format!("{path} {id}"));
        }
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("{path} {}", sub.get_name());
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        if about.trim().is_empty() {
            missing.push(format!("{name} (the subcommand)"));
        }
        walk(sub, &name, missing);
    }
}

#[test]
fn every_argument_option_and_subcommand_has_help_text() {
    let mut missing = Vec::new();
    walk(&shipdeck::cli::Cli::command(), "shipdeck", &mut missing);
    assert!(
        missing.is_empty(),
        "no help text for:\n  {}",
        missing.join("\n  ")
    );
}
