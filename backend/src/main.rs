//! The market server process: configuration from the environment (docs/contract.md), then serve.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    backend::startup::serve_from_env().await
}
