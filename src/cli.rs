//! The command line: the only file that knows clap. It turns arguments into the option structs
//! of [`crate::commands`] and prints what they return.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{self, RunOptions};
use crate::error::Result;

const ABOUT: &str = "Simulate a firm's stakeholder network and find out when long-term \
relationships pay off compared with chasing transactions.";

const EXAMPLES: &str = "\
Examples:
  relsim run scenarios/default.toml             compare the strategies of a scenario file
  relsim run mass_retail --replications 50      run a bundled preset by name
  relsim validate my_market.toml                check a file and show every value it implies
  relsim presets                                list the bundled scenarios
  relsim plot outputs/default                   redraw charts and report from a run's files
  relsim verify                                 check the model against known results
  relsim init b2b_it_services -o my_market.toml copy a preset to edit";

/// relsim's command line.
#[derive(Debug, Parser)]
#[command(name = "relsim", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: simulate every strategy, print the comparison, write outputs/<name>/.
    #[command(after_help = "\
Examples:
  relsim run scenarios/default.toml
  relsim run default --replications 1000 --threads 2
  relsim run scenarios/default.toml --set market.population=50000 --set strategies.1.price_level=1.05
  relsim run b2b_it_services --seed 7 --out results/b2b --quiet")]
    Run {
        /// Scenario file (TOML), or the name of a bundled preset (see `relsim presets`).
        scenario: String,
        /// Override a value, e.g. --set market.population=50000 (repeatable; same checks as the file).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Number of replications (overrides the file).
        #[arg(long)]
        replications: Option<u32>,
        /// Master seed (overrides the file).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (0 = one per core). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Output folder [default: outputs/<scenario name>].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Run even if the memory estimate exceeds a quarter of this machine's memory.
        #[arg(long)]
        allow_large: bool,
        /// Skip the charts and report.html (for batch runs).
        #[arg(long)]
        no_plots: bool,
    },
    /// Redraw the charts and report.html of a finished run from its files, without simulating.
    #[command(after_help = "\
Example:
  relsim plot outputs/default")]
    Plot {
        /// The output folder of a `relsim run`.
        dir: PathBuf,
    },
    /// Check a scenario and print it with every default written out.
    #[command(after_help = "\
Examples:
  relsim validate scenarios/default.toml
  relsim validate my_market.toml --set network.kind=mixed")]
    Validate {
        /// Scenario file (TOML), or the name of a bundled preset.
        scenario: String,
        /// Override a value, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// List the bundled scenarios with what each teaches.
    #[command(after_help = "\
Example:
  relsim presets")]
    Presets,
    /// Check the model against analytic results and stylized facts (exit 1 if any case fails).
    #[command(after_help = "\
Examples:
  relsim verify
  relsim verify --case bass_diffusion --case tenure_mean
  relsim verify --markdown > table.md")]
    Verify {
        /// Run only this case (repeatable); `relsim verify` lists every case id.
        #[arg(long = "case", value_name = "ID")]
        cases: Vec<String>,
        /// Worker threads (0 = one per core). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Print the table as Markdown (as in docs/validation.md).
        #[arg(long)]
        markdown: bool,
    },
    /// Write a bundled scenario to a file for editing.
    #[command(after_help = "\
Examples:
  relsim init default                      writes default.toml
  relsim init mass_retail -o my_shop.toml")]
    Init {
        /// Name of the bundled scenario (see `relsim presets`).
        name: String,
        /// Where to write it [default: NAME.toml].
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
}

/// Runs the parsed command, printing its results to stdout.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            scenario,
            overrides,
            replications,
            seed,
            threads,
            out,
            quiet,
            allow_large,
            no_plots,
        } => {
            let report = commands::run(&RunOptions {
                scenario,
                overrides,
                replications,
                seed,
                threads,
                out,
                quiet,
                allow_large,
                no_plots,
            })?;
            if !quiet {
                println!("{}", report.table);
                if no_plots {
                    println!("results written to {}/", report.out_dir.display());
                } else {
                    println!(
                        "results, charts and report.html written to {}/ (charts took {:.2} s)",
                        report.out_dir.display(),
                        report.plot_seconds
                    );
                }
            }
        }
        Command::Plot { dir } => {
            let files = commands::plot(&dir)?;
            println!(
                "{} charts and report.html written to {}/",
                files.len() - 1,
                dir.display()
            );
        }
        Command::Validate {
            scenario,
            overrides,
        } => print!("{}", commands::validate(&scenario, &overrides)?),
        Command::Presets => print!("{}", commands::presets()),
        Command::Verify {
            cases,
            threads,
            markdown,
        } => {
            let results = crate::verify::verify(threads, &cases)?;
            if markdown {
                print!("{}", crate::verify::markdown(&results));
            } else {
                print!("{}", crate::verify::table(&results));
            }
            let failed = results.iter().filter(|r| !r.pass).count();
            if failed > 0 {
                return Err(crate::Error::VerificationFailed {
                    failed,
                    total: results.len(),
                });
            }
        }
        Command::Init {
            name,
            output,
            force,
        } => {
            let path = commands::init(&name, output.as_deref(), force)?;
            println!(
                "wrote {}; edit it, then run: relsim run {}",
                path.display(),
                path.display()
            );
        }
    }
    Ok(())
}

/// Parses the process arguments, runs the command and maps errors to exit codes
/// (0 success, 2 bad input, 1 anything else). Errors are one line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
