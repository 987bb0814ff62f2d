//! Logging set-up, done once by the binary (tests leave it off). Logs go to
//! stderr, leaving stdout to the CLI's output.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("hawaf=info,tower_http=warn"));
    // A second init (e.g. a test harness that already installed one) is harmless.
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).try_init();
}
