use backend::{telemetry, Application, Config};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    telemetry::init("info");
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("could not start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("傅鲜生 market is open at {}  (database: {})", app.url(), app.database_kind());
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
