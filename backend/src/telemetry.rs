//! Logging: `RUST_LOG` picks the level; tests stay quiet unless `TEST_LOG` is set.

use tracing_subscriber::EnvFilter;

pub fn init(default_level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},sqlx=warn,actix_server=warn,actix_web=warn")));
    // A second init (several apps in one test process) is harmless.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}
