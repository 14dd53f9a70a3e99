//! `relsim serve`: the local dashboard (`crate::dashboard`), started from the command line.

use std::io::Write;
use std::net::IpAddr;

use super::parse_overrides;
use crate::dashboard::{serve as serve_dashboard, DashboardOptions};
use crate::error::Result;
use crate::scenario::ScenarioSource;

/// Options of `relsim serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub scenario: String,
    pub overrides: Vec<String>,
    pub host: IpAddr,
    pub port: u16,
    pub threads: usize,
}

/// `relsim serve`: serves the dashboard until Ctrl-C, printing its address first.
pub fn serve(options: &ServeOptions) -> Result<()> {
    let source = ScenarioSource::open(&options.scenario)?;
    let overrides = parse_overrides(&options.overrides)?;
    if !options.host.is_loopback() {
        eprintln!(
            "warning: serving on {}: anyone who can reach this computer can open the dashboard \
             and make it simulate. The default, 127.0.0.1, keeps it to this computer.",
            options.host
        );
    }
    serve_dashboard(
        DashboardOptions {
            source,
            overrides,
            host: options.host,
            port: options.port,
            threads: super::resolve_threads(options.threads),
        },
        |address| {
            let mut out = std::io::stdout();
            let _ = writeln!(
                out,
                "relsim dashboard for {}: http://{address}/ (Ctrl-C stops it)",
                options.scenario
            );
            let _ = out.flush();
        },
    )?;
    eprintln!("relsim serve: stopped");
    Ok(())
}
