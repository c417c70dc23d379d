//! The market server as the black-box tests start it when they need a second process sharing
//! PostgreSQL: the same code as the `fuxiansheng` binary (cargo builds a package's own binaries
//! for its tests, not another package's), with the same command line.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    backend::cli::main().await
}
