//! `webthreat`: find suspicious interactions in network and web-traffic logs.

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;
use webthreat_cli::{Command, Finish, VERSION, execute, exit, set_threads};

#[derive(Parser)]
#[command(
    name = "webthreat",
    version = VERSION,
    about = "webthreat: find suspicious interactions in network and web-traffic logs",
    after_help = "Exit codes: 0 success, 1 error, 2 usage error, 3 with --exit-code when a detector flagged a row.\n\nExamples:\n  webthreat scan conn.log.gz\n  webthreat run configs/iforest.yaml --json\n  webthreat compare iforest/0001 iforest/0002"
)]
struct Cli {
    /// Worker threads for detectors (default: all cores; at most 1024). Results do not depend
    /// on it.
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    #[command(subcommand)]
    command: TopCommand,
}

#[derive(Subcommand)]
enum TopCommand {
    #[command(flatten)]
    Analyst(Command),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    #[command(
        after_help = "Example:\n  webthreat completions bash > ~/.local/share/bash-completion/completions/webthreat"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    exit(set_threads(cli.threads).and_then(|()| match cli.command {
        TopCommand::Analyst(command) => execute(command),
        TopCommand::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "webthreat",
                &mut std::io::stdout(),
            );
            Ok(Finish::Done)
        }
    }))
}
