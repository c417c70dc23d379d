//! The `fuxiansheng` binary's command line: `serve` (the default), the operator's commands
//! (`migrate`, `backup`, `restore`, `check`, `seed-demo`) and those that set a market up. Each takes the same environment as the server (README, "Configuration").

use crate::config::Config;
use crate::store::ops::Ops;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
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
    /// Bring the database's schema up to date, then stop (a server does it when it starts).
    Migrate,
    /// Copy the SQLite database to FILE, consistent as at one moment, while the server runs.
    /// (PostgreSQL: pg_dump, README "Operating it".)
    Backup {
        /// Where the copy goes; it must not exist yet.
        file: PathBuf,
    },
    /// Put a backup in place of the SQLite database; the server must be stopped. The database
    /// it replaces is kept beside it as fuxiansheng.db.before-restore-<time>.
    Restore {
        /// A file `backup` wrote.
        file: PathBuf,
    },
    /// Read the market's books and say what does not hold (exit status 1 if anything).
    Check,
    /// Fill an empty database with the demo market (FXS_DEMO_SCALE=seed: the full-size one),
    /// then stop.
    SeedDemo,
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
        Command::Migrate => migrate().await,
        Command::Backup { file } => backup(&file).await,
        Command::Restore { file } => restore(&file).await,
        Command::Check => check().await,
        Command::SeedDemo => seed_demo().await,
        Command::Admin(Admin::AddStaff { phone }) => add_staff(&phone).await,
    }
}

/// The configuration from the environment, or the exit status that says it is wrong.
fn config() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|e| {
        eprintln!("configuration error: {e}");
        ExitCode::from(2)
    })
}

/// The store, its schema brought up to date (what a starting server does).
async fn store(config: &Config) -> Result<crate::store::DynStore, ExitCode> {
    crate::store::connect(config).await.map_err(|e| {
        eprintln!("could not open the database: {e}");
        ExitCode::FAILURE
    })
}

/// The database opened to read beside a running server.
async fn ops(config: &Config) -> Result<Ops, ExitCode> {
    Ops::open(config).await.map_err(|e| {
        eprintln!("could not open the database: {e}");
        ExitCode::FAILURE
    })
}

fn database(config: &Config) -> String {
    match &config.database_url {
        Some(_) => "PostgreSQL (DATABASE_URL)".to_owned(),
        None => crate::store::ops::sqlite_file(&config.data_dir).display().to_string(),
    }
}

async fn migrate() -> ExitCode {
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match store(&config).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let version = store.schema_version().await;
    store.close().await;
    match version {
        Ok((applied, _)) => {
            println!("{}: schema at migration {}", database(&config), applied.unwrap_or(0));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("could not read the schema's version: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn backup(file: &Path) -> ExitCode {
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    if file.exists() {
        eprintln!("{} exists already: name a new file", file.display());
        return ExitCode::from(2);
    }
    let ops = match ops(&config).await {
        Ok(o) => o,
        Err(code) => return code,
    };
    let started = std::time::Instant::now();
    let bar = working("copying the database");
    let done = ops.backup(file).await;
    bar.finish_and_clear();
    ops.close().await;
    match done {
        Ok(()) => {
            let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            println!(
                "{} copied to {} ({:.1} MiB in {:.1} s)",
                database(&config),
                file.display(),
                bytes as f64 / 1_048_576.0,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("backup failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn restore(file: &Path) -> ExitCode {
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    if config.database_url.is_some() {
        eprintln!("PostgreSQL is restored with pg_restore (README, \"Operating it\")");
        return ExitCode::from(2);
    }
    let bar = working("checking and restoring");
    let restored = crate::store::ops::restore(&config.data_dir, file, chrono::Utc::now()).await;
    bar.finish_and_clear();
    match restored {
        Ok(kept) => {
            println!("{} restored into {}", file.display(), database(&config));
            if let Some(kept) = kept {
                println!("the database it replaced is kept as {}", kept.display());
            }
            println!("start the server: it brings the schema up to date; then `fuxiansheng check`");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("restore failed, nothing changed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn check() -> ExitCode {
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let ops = match ops(&config).await {
        Ok(o) => o,
        Err(code) => return code,
    };
    let bar = working("reading the books");
    let books = ops.books().await;
    bar.finish_and_clear();
    ops.close().await;
    let books = match books {
        Ok(b) => b,
        Err(e) => {
            eprintln!("could not read the books: {e}");
            return ExitCode::FAILURE;
        }
    };
    let broken = crate::domain::books::check(&books);
    let orders: i64 = books.orders.iter().map(|c| c.n).sum();
    println!(
        "{}: {} products ({} units given to sell), {} slots, {} orders, {} group-buy items, {} WeChat payments, \
         {} markets' pools {} fen",
        database(&config),
        books.stock.len(),
        books.stock.iter().map(|p| p.stocked).sum::<i64>(),
        books.slots.len(),
        orders,
        books.items.len(),
        books.payments.len(),
        books.pools.len(),
        books.pools.iter().map(|p| p.balance_fen).sum::<i64>()
    );
    if broken.is_empty() {
        println!("the books balance");
        return ExitCode::SUCCESS;
    }
    for b in &broken {
        println!("NOT HELD: {}", b.0);
    }
    println!("{} things do not hold", broken.len());
    ExitCode::FAILURE
}

async fn seed_demo() -> ExitCode {
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    crate::telemetry::init("warn");
    let store = match store(&config).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let bar = working("seeding the demo market");
    let progress: Option<crate::demo::scale::Progress> = config.demo_full_size.then(|| {
        let bar = bar.clone();
        Box::new(move |day: i64, of: i64| {
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} days, {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_length(of.max(0) as u64);
            bar.set_position(day.max(0) as u64);
        }) as crate::demo::scale::Progress
    });
    let done = crate::startup::seed_demo(store.as_ref(), &config, progress).await;
    bar.finish_and_clear();
    store.close().await;
    match done {
        Ok(()) => {
            println!("{}: the demo market is in place", database(&config));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seeding failed: {e}");
            ExitCode::FAILURE
        }
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

/// A spinner with `what` and the time taken, on standard error while long work runs (hidden
/// when standard error is not a terminal, as under systemd or in tests).
fn working(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner().with_message(what.to_owned());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
