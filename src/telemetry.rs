//! Logging set-up, done once by the binary (tests leave it off).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("hawaf=info,tower_http=warn"));
    // A second init (e.g. a test harness that already installed one) is harmless.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}
