//! The `fuxiansheng` binary's command line: `serve` (the default) and the commands that set a
//! market up. Each takes the same environment as the server (README, "Configuration").

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "fuxiansheng", version, about = "傅鲜生: the community market's server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the market (the default).
    Serve,
    /// Set the market up: people and roles.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Debug, Subcommand)]
pub enum Admin {
    /// Make the account of a mainland mobile number staff (made if new; its other roles stay).
    /// The first staff account of a new market starts here; staff give every other role in the
    /// app. On SQLite, run it while the server is stopped.
    AddStaff {
        /// 11 digits, e.g. 13800000000.
        phone: String,
    },
}

/// Parses the command line and runs it: the process's exit status (2: a usage or input error).
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::startup::serve_from_env().await,
        Command::Admin(Admin::AddStaff { phone }) => add_staff(&phone).await,
    }
}

async fn add_staff(phone: &str) -> ExitCode {
    let phone = match shared::Phone::parse(phone) {
        Ok(phone) => phone,
        Err(e) => {
            eprintln!("{phone}: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let store = match crate::store::connect(&config).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("could not open the database: {e}");
            return ExitCode::FAILURE;
        }
    };
    let answer = store.accounts().add_role(phone.as_str(), shared::Role::Staff, chrono::Utc::now()).await;
    store.close().await;
    match answer {
        Ok(had) => {
            let already = if had { " (it was already)" } else { "" };
            println!(
                "{} is staff{already}: log in on the market's page with this phone ({}).",
                phone.as_str(),
                crate::startup::how_codes_arrive(&config)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("could not record the staff account: {e}");
            ExitCode::FAILURE
        }
    }
}
