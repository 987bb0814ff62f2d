use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    hawaf::cli::run(hawaf::cli::Cli::parse()).await
}
