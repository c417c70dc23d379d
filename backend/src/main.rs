//! The market server process: the command line (`cli.rs`; `serve` by default), configuration
//! from the environment (docs/contract.md).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    backend::cli::main().await
}
