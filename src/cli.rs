//! The command line: the only file that knows clap. It turns arguments into the option structs
//! of [`crate::commands`] and prints what they return.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::commands::{self, OutputChoice, RunOptions, ScenarioChoice};
use crate::error::Result;

const ABOUT: &str = "Simulate a firm's stakeholder network and find out when long-term \
relationships pay off compared with chasing transactions.";

const EXAMPLES: &str = "\
Examples:
  relsim run scenarios/default.toml             compare the strategies of a scenario file
  relsim run mass_retail --replications 50      run a bundled preset by name
  relsim validate scenarios/default.toml        check a file and show every value it implies
  relsim presets                                list the bundled scenarios
  relsim plot outputs/default                   redraw charts and report from a run's files
  relsim verify                                 check the model against known results
  relsim sweep my_study.toml                    run a design: robustness and sensitivity
  relsim breakeven default --vary market.cogs_share --between 0.4 0.8 --pair relationship,transactional
  relsim decompose default --pair relationship,transactional   what each lever contributes
  relsim init b2b_it_services -o my_market.toml copy a preset to edit
  relsim completions bash                       print the bash completion script
  relsim manpage --out ~/.local/share/man/man1  install the manual pages";

/// relsim's command line.
#[derive(Debug, Parser)]
#[command(name = "relsim", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `relsim stories --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoriesFormatArg {
    Text,
    Json,
}

/// `--progress`: how a long command shows its progress (the values are explained in the
/// option's help; doc comments here would make clap print a long list under every command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressArg {
    Bar,
    Json,
    None,
}

impl From<ProgressArg> for commands::ProgressOutput {
    fn from(arg: ProgressArg) -> Self {
        match arg {
            ProgressArg::Bar => Self::Bar,
            ProgressArg::Json => Self::Json,
            ProgressArg::None => Self::None,
        }
    }
}

/// The scenario a command works on (flattened into `run`, `sweep`, `breakeven`, `decompose`
/// and `slurm`; a command whose reading differs says so with `mut_arg`).
#[derive(Debug, Args)]
pub struct ScenarioArgs {
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
}

impl From<ScenarioArgs> for ScenarioChoice {
    fn from(args: ScenarioArgs) -> Self {
        Self {
            spec: args.scenario,
            overrides: args.overrides,
            replications: args.replications,
            seed: args.seed,
        }
    }
}

/// Where a command writes its result folder and what it shows meanwhile (flattened into `run`,
/// `sweep`, `breakeven` and `decompose`, each naming its default folder with `mut_arg`).
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output folder, replaced whole at the end.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the output folder even if it holds files relsim did not write.
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Progress on standard error: a bar, JSON lines (one object per line with done, total,
    /// elapsed and ETA, for schedulers and notebooks; shown even with --quiet), or none.
    #[arg(long, value_enum, default_value_t = ProgressArg::Bar, value_name = "HOW")]
    progress: ProgressArg,
}

impl From<OutputArgs> for OutputChoice {
    fn from(args: OutputArgs) -> Self {
        Self {
            out: args.out,
            force: args.force,
            quiet: args.quiet,
            progress: args.progress.into(),
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: simulate every strategy, print the comparison, write outputs/<name>/.
    #[command(after_help = "\
Examples:
  relsim run scenarios/default.toml
  relsim run default --replications 1000 --threads 2
  relsim run default --set market.population=50000
  relsim run default --set strategies.1.price_level=1.05
  relsim run b2b_it_services --seed 7 --out results/b2b --quiet
  relsim run default --replications 1000 --shard 2/8 --out parts/2
  relsim run default --replications 50 --target-ci 2% --max-replications 1000")]
    #[command(mut_arg("out", |arg| arg.help(
        "Output folder [default: outputs/<scenario name>]. It is replaced whole when the run has \
         finished; an interrupted or failed run leaves it as it was"
    )))]
    Run {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Worker threads (0 = one per core). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        #[command(flatten)]
        output: OutputArgs,
        /// Run even if the memory estimate exceeds a quarter of this machine's memory.
        #[arg(long)]
        allow_large: bool,
        /// Skip the charts and report.html (for batch runs).
        #[arg(long)]
        no_plots: bool,
        /// Run only shard i of n (replications r with r mod n = i - 1) into the part folder
        /// --out, for `relsim merge`; `slurm` takes i and n from the job array's task.
        #[arg(long, value_name = "i/n|slurm")]
        shard: Option<String>,
        /// Continue an interrupted run from what it kept (OUT.resume/), or an interrupted shard
        /// from its part folder's journal.
        #[arg(long)]
        resume: bool,
        /// Add replications in batches of --replications until the 95% interval of every
        /// paired difference of --target-metric is narrower than WIDTH: a number in the
        /// metric's unit (25000) or a percentage of its level (2%).
        #[arg(long, value_name = "WIDTH", conflicts_with = "shard")]
        target_ci: Option<String>,
        /// The metric --target-ci looks at [default: npv].
        #[arg(long, value_name = "METRIC", requires = "target_ci")]
        target_metric: Option<String>,
        /// The most replications --target-ci may run [default: ten batches].
        #[arg(long, value_name = "N", requires = "target_ci")]
        max_replications: Option<u32>,
    },
    /// Merge the part folders of a sharded run into one result folder.
    ///
    /// Writes the folder one process running every replication would have written: checks that
    /// the parts belong together and cover every replication once, then recomputes every
    /// summary from the runs (docs/cluster.md).
    #[command(after_help = "\
Examples:
  relsim merge parts/* --out results/study
  relsim merge parts/1 parts/2 parts/3 --out results/study --no-plots")]
    Merge {
        /// The part folders written by `relsim run … --shard i/n --out DIR`, one per shard.
        #[arg(required = true, value_name = "PART")]
        parts: Vec<PathBuf>,
        /// Output folder [default: outputs/<scenario name>], replaced whole at the end.
        #[arg(long, short, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Replace the output folder even if it holds files relsim did not write.
        #[arg(long)]
        force: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Skip the charts and report.html.
        #[arg(long)]
        no_plots: bool,
    },
    /// Write a Slurm job array of shards, its dependent merge job and a script submitting both.
    ///
    /// The job folder holds the expanded scenario, `shards.sbatch` (one shard per array task,
    /// kept and resumable across time limits), `merge.sbatch` and `submit.sh`; comments in the
    /// scripts say what to adapt to your cluster (docs/cluster.md).
    #[command(after_help = "\
Examples:
  relsim slurm default --replications 2000 --tasks 20 --time 01:00:00 --out slurm/study
  relsim slurm study.toml --tasks 8 --cpus-per-task 4 && slurm/study/submit.sh
  relsim slurm scenarios/sweeps/default_uncertainty.toml --sweep --tasks 16")]
    Slurm {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Shards: tasks of the job array.
        #[arg(long)]
        tasks: u32,
        /// Each task's time limit (minutes, HH:MM:SS or D-HH:MM:SS).
        #[arg(long, default_value = "01:00:00")]
        time: String,
        /// Cores per task (relsim's threads).
        #[arg(long, default_value_t = 1)]
        cpus_per_task: u32,
        /// The job folder [default: slurm/<scenario name>].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Write into a folder that already holds files.
        #[arg(long)]
        force: bool,
        /// Shard the scenario's design (relsim sweep) instead of its replications (relsim run).
        #[arg(long)]
        sweep: bool,
    },
    /// Run a scenario's design ([design] and [[vary]]): every point × replication × strategy,
    /// then the robustness of the verdict and global sensitivity (docs/sweeps.md).
    #[command(after_help = "\
Examples:
  relsim sweep scenarios/sweeps/default_uncertainty.toml
  relsim sweep my_study.toml --replications 20 --threads 2 --out results/study
  relsim sweep my_study.toml --set design.samples=512
  relsim sweep my_study.toml --shard 3/8 --out parts/3")]
    #[command(
        mut_arg("scenario", |arg| arg.help(
            "Scenario file (TOML) with a [design] table, or a bundled preset plus --set design"
        )),
        mut_arg("overrides", |arg| arg.help(
            "Override a value, as for `run` (design.* and vary.N.* too)"
        )),
        mut_arg("replications", |arg| arg.help(
            "Replications at every point (overrides the file)"
        )),
        mut_arg("out", |arg| arg.help(
            "Output folder [default: outputs/<scenario name>_sweep], replaced whole at the end"
        ))
    )]
    Sweep {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Worker threads (0 = one per core). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        #[command(flatten)]
        output: OutputArgs,
        /// Skip the charts and sweep_report.html (the data files are written as always).
        #[arg(long)]
        no_plots: bool,
        /// Run only shard i of n of the units (point × replication u with u mod n = i - 1)
        /// into the part folder --out, for `relsim merge`; `slurm` reads the array task.
        #[arg(long, value_name = "i/n|slurm")]
        shard: Option<String>,
        /// Continue an interrupted shard from its part folder's journal.
        #[arg(long, requires = "shard")]
        resume: bool,
    },
    /// Find where the NPV difference of two strategies crosses zero as one parameter varies (with
    /// a confidence interval), or map it over two parameters with its zero contour.
    #[command(after_help = "\
Examples:
  relsim breakeven default --vary strategies.1.price_level --between 0.8 1.2 --pair relationship,transactional
  relsim breakeven default --vary market.cogs_share --between 0.4 0.85 \\
      --vary market.population --between 5000 100000 --pair relationship,transactional --points 7")]
    #[command(
        mut_arg("replications", |arg| arg.help(
            "Replications at every point (overrides the file)"
        )),
        mut_arg("out", |arg| arg.help(
            "Output folder [default: outputs/<scenario name>_breakeven], replaced whole at the end"
        ))
    )]
    Breakeven {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// The key to vary (repeat once for a two-parameter map); any key --set accepts.
        #[arg(long, value_name = "KEY", required = true)]
        vary: Vec<String>,
        /// The range of each --vary key, in order: LO HI.
        #[arg(long, num_args = 2, value_names = ["LO", "HI"], required = true, allow_negative_numbers = true)]
        between: Vec<f64>,
        /// The two strategies compared, A,B: the difference is NPV of A minus NPV of B.
        #[arg(long, value_name = "A,B", required = true)]
        pair: String,
        /// Grid points along each key, both ends included.
        #[arg(long, default_value_t = 11)]
        points: u32,
        /// Worker threads (0 = one per core). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Fit the scenario's churn to a firm's observed cohort survival (maximum likelihood with the
    /// simulation in the loop) and write the calibrated scenario (docs/calibration.md).
    #[command(after_help = "\
Examples:
  relsim calibrate default --retention scenarios/calibration/subscription_cohorts.csv -o calibrated.toml
  relsim calibrate default --retention cohorts.csv -o calibrated.toml --strategy transactional --holdout 6
  relsim calibrate default --retention cohorts.csv -o calibrated.toml --fit defection.baseline
  relsim calibrate default --retention by_segment.csv --acquisition won.csv -o calibrated.toml")]
    Calibrate {
        /// Scenario file (TOML), or the name of a bundled preset.
        scenario: String,
        /// Observed survival: a CSV with columns period,surviving (counts or percentages such
        /// as 91.2%), optionally cohort, segment (a scenario segment's name) and size.
        #[arg(long, value_name = "FILE")]
        retention: PathBuf,
        /// Customers won per period: a CSV with columns period,acquired (adds
        /// market.advertising_max_reach to the keys fitted by default).
        #[arg(long, value_name = "FILE")]
        acquisition: Option<PathBuf>,
        /// Revenue per active customer per period: a CSV with columns
        /// period,revenue_per_customer (name the keys it informs with --fit).
        #[arg(long, value_name = "FILE")]
        revenue: Option<PathBuf>,
        /// Where to write the calibrated scenario (TOML); replaced whole.
        #[arg(long, short = 'o', value_name = "CALIBRATED.toml")]
        out: PathBuf,
        /// The strategy the firm runs today [default: the scenario's first].
        #[arg(long, value_name = "NAME")]
        strategy: Option<String>,
        /// Keys to fit [default: defection.baseline heterogeneity.churn_concentration; with a
        /// segment column, each observed segment's defection_intercept instead of the
        /// baseline].
        #[arg(long, value_name = "KEY", num_args = 1..)]
        fit: Vec<String>,
        /// Override a value, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Fit on periods 1..=K only and print how well the rest is projected.
        #[arg(long, value_name = "K")]
        holdout: Option<u32>,
        /// Replications behind each simulated curve [default: 100, or the file's if fewer]; the
        /// calibrated scenario keeps the file's.
        #[arg(long)]
        replications: Option<u32>,
        /// Master seed (overrides the file).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (0 = one per core). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Split the NPV gap between two strategies into what each differing lever contributes
    /// (Shapley values over orders of switching levers from the second to the first).
    #[command(after_help = "\
Examples:
  relsim decompose default --pair relationship,transactional
  relsim decompose default --pair relationship,hybrid --replications 50")]
    #[command(mut_arg("out", |arg| arg.help(
        "Output folder [default: outputs/<scenario name>_decompose], replaced whole at the end"
    )))]
    Decompose {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// The two strategies, A,B: the gap is NPV of A minus NPV of B.
        #[arg(long, value_name = "A,B", required = true)]
        pair: String,
        /// Random orders of switching levers (every order when there are few levers).
        #[arg(long, default_value_t = 24)]
        orders: usize,
        /// Worker threads (0 = one per core). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Redraw the charts and report.html of a finished run from its files, without simulating.
    #[command(after_help = "\
Example:
  relsim plot outputs/default")]
    Plot {
        /// The output folder of a `relsim run`.
        dir: PathBuf,
        /// Redraw even if the folder holds files relsim did not write (they are removed).
        #[arg(long)]
        force: bool,
    },
    /// Open a local web dashboard: sliders for the main levers and market parameters, charts
    /// that update as replications finish, a customer's story and the scenario to download.
    ///
    /// Everything is served by relsim itself (no internet needed), to this computer only unless
    /// --host says otherwise. Ctrl-C stops it.
    #[command(after_help = "\
Examples:
  relsim serve
  relsim serve b2b_it_services --port 8080
  relsim serve default --set market.population=5000
  relsim serve default --host 0.0.0.0   # a classroom network: every student's browser")]
    Serve {
        /// Scenario file (TOML), or the name of a bundled preset (see `relsim presets`).
        #[arg(default_value = "default")]
        scenario: String,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8050)]
        port: u16,
        /// Address to listen on; anything but 127.0.0.1 or ::1 lets other computers in.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Worker threads per simulation (0 = one per core). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Override a value before the page's own settings (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Tell the lives of a few customers of one replication, chosen to be worth reading.
    ///
    /// One who left after an unrecovered failure, an advocate who brought friends, one won back,
    /// a key account, one lost to a rival's campaign, …: how each came, every episode that
    /// mattered, how trust and commitment moved, whom they told, and why they stayed or left.
    /// A replay of the replication itself: the same seed tells the same stories.
    #[command(after_help = "\
Examples:
  relsim stories default
  relsim stories default --strategy relationship --customers 3
  relsim stories b2b_it_services --replication 4 --seed 7
  relsim stories default --format json > stories.json")]
    Stories {
        /// Scenario file (TOML), or the name of a bundled preset (see `relsim presets`).
        scenario: String,
        /// The strategy the firm follows [default: the scenario's first].
        #[arg(long)]
        strategy: Option<String>,
        /// How many customers to follow (1 to 100).
        #[arg(long, default_value_t = 5)]
        customers: usize,
        /// Which replication to replay (0 to the scenario's replications − 1).
        #[arg(long, default_value_t = 0)]
        replication: u64,
        /// Master seed (overrides the file).
        #[arg(long)]
        seed: Option<u64>,
        /// Override a value, e.g. --set market.population=5000 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// A dated narrative, or every event as JSON.
        #[arg(long, value_enum, default_value_t = StoriesFormatArg::Text, value_name = "HOW")]
        format: StoriesFormatArg,
    },
    /// Check a scenario and print it with every default written out.
    #[command(after_help = "\
Examples:
  relsim validate scenarios/default.toml
  relsim validate b2b_it_services --set network.kind=mixed
  relsim validate default --set network.kind=erdos_renyi --set network.mean_degree=6")]
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
        /// Where to write it [default: NAME.toml]; `-` for standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell's completion script for relsim.
    #[command(after_help = "\
Examples:
  relsim completions bash > ~/.local/share/bash-completion/completions/relsim
  relsim completions zsh > ~/.zfunc/_relsim
  relsim completions fish > ~/.config/fish/completions/relsim.fish")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print relsim's manual page (roff), or write one page per command into a folder.
    #[command(after_help = "\
Examples:
  relsim manpage | man -l -
  relsim manpage --out ~/.local/share/man/man1")]
    Manpage {
        /// Write relsim.1 and relsim-COMMAND.1 for every command into this folder.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// Runs the parsed command, printing its results to stdout.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            scenario,
            threads,
            output,
            allow_large,
            no_plots,
            shard,
            resume,
            target_ci,
            target_metric,
            max_replications,
        } => {
            let quiet = output.quiet;
            let options = RunOptions {
                target_ci,
                target_metric,
                max_replications,
                scenario: scenario.into(),
                threads,
                output: output.into(),
                allow_large,
                no_plots,
                table_width: terminal_width(),
                shard,
                resume,
            };
            if options.shard.is_some() {
                let report = commands::run_shard(&options)?;
                if !quiet {
                    print(&shard_done(&report, "replications"))?;
                }
                return Ok(());
            }
            let report = commands::run(&options)?;
            if !quiet {
                let written = if no_plots {
                    format!("results written to {}/", report.out_dir.display())
                } else {
                    format!(
                        "results, charts and report.html written to {}/ (charts took {:.2} s)",
                        report.out_dir.display(),
                        report.plot_seconds
                    )
                };
                let adaptive = report
                    .manifest
                    .adaptive
                    .as_ref()
                    .map_or_else(String::new, |a| {
                        format!(
                            "--target-ci {}: {} replications ({}); widest {} interval, {} − {}: \
                         {:.4} wide (allowed {:.4})\n",
                            a.target_ci,
                            a.replications_needed,
                            a.stopped,
                            a.metric,
                            a.widest_pair[0],
                            a.widest_pair[1],
                            a.widest_width,
                            a.allowed_width
                        )
                    });
                print(&format!("{}\n{adaptive}{written}\n", report.table))?;
            }
        }
        Command::Sweep {
            scenario,
            threads,
            output,
            no_plots,
            shard,
            resume,
        } => {
            let quiet = output.quiet;
            let options = commands::SweepOptions {
                scenario: scenario.into(),
                threads,
                output: output.into(),
                no_plots,
                shard,
                resume,
            };
            if options.shard.is_some() {
                let report = commands::sweep_shard(&options)?;
                if !quiet {
                    print(&shard_done(&report, "point-replications"))?;
                }
                return Ok(());
            }
            let report = commands::sweep(&options)?;
            if !quiet {
                print(&format!(
                    "{}\nresults written to {}/\n",
                    report.text,
                    report.out_dir.display()
                ))?;
            }
        }
        Command::Breakeven {
            scenario,
            vary,
            between,
            pair,
            points,
            threads,
            output,
        } => {
            let quiet = output.quiet;
            let report = commands::breakeven(&commands::BreakevenOptions {
                scenario: scenario.into(),
                vary,
                between,
                pair,
                points,
                threads,
                output: output.into(),
            })?;
            if !quiet {
                print(&format!(
                    "{}\nresults and breakeven.png written to {}/\n",
                    report.text,
                    report.out_dir.display()
                ))?;
            }
        }
        Command::Decompose {
            scenario,
            pair,
            orders,
            threads,
            output,
        } => {
            let quiet = output.quiet;
            let report = commands::decompose(&commands::DecomposeOptions {
                scenario: scenario.into(),
                pair,
                orders,
                threads,
                output: output.into(),
            })?;
            if !quiet {
                print(&format!(
                    "{}\nresults written to {}/\n",
                    report.text,
                    report.out_dir.display()
                ))?;
            }
        }
        Command::Calibrate {
            scenario,
            retention,
            acquisition,
            revenue,
            out,
            strategy,
            fit,
            overrides,
            holdout,
            replications,
            seed,
            threads,
            quiet,
        } => {
            let report = commands::calibrate(&commands::CalibrateOptions {
                scenario,
                retention,
                acquisition,
                revenue,
                out,
                strategy,
                fit,
                overrides,
                holdout,
                replications,
                seed,
                threads,
                quiet,
            })?;
            if !quiet {
                print(&report.text)?;
            }
        }
        Command::Merge {
            parts,
            out,
            force,
            quiet,
            no_plots,
        } => {
            let report = commands::merge(&commands::MergeOptions {
                parts,
                out,
                force,
                no_plots,
                table_width: terminal_width(),
            })?;
            if !quiet {
                print(&format!(
                    "{}\n{} parts merged into {}/\n",
                    report.table,
                    report.parts,
                    report.out_dir.display()
                ))?;
            }
        }
        Command::Slurm {
            scenario,
            tasks,
            time,
            cpus_per_task,
            out,
            force,
            sweep,
        } => {
            let report = commands::slurm(&commands::SlurmOptions {
                sweep,
                scenario: scenario.into(),
                tasks,
                time,
                cpus_per_task,
                out,
                force,
            })?;
            print(&format!(
                "job for {} {} in {} shards written to {}/; submit it with {}/submit.sh\n",
                report.units,
                report.unit_name,
                report.tasks,
                report.dir.display(),
                report.dir.display()
            ))?;
        }
        Command::Plot { dir, force } => {
            let report = commands::plot(&dir, force)?;
            print(&format!(
                "{} charts (PNG and SVG) and report.html written to {}/\n",
                report.charts,
                report.out_dir.display()
            ))?;
        }
        Command::Validate {
            scenario,
            overrides,
        } => print(&commands::validate(&scenario, &overrides)?)?,
        Command::Serve {
            scenario,
            port,
            host,
            threads,
            overrides,
        } => commands::serve(&commands::ServeOptions {
            scenario,
            overrides,
            host,
            port,
            threads,
        })?,
        Command::Stories {
            scenario,
            strategy,
            customers,
            replication,
            seed,
            overrides,
            format,
        } => print(&commands::stories(&commands::StoriesOptions {
            scenario,
            overrides,
            strategy,
            customers,
            replication,
            seed,
            format: match format {
                StoriesFormatArg::Text => commands::StoriesFormat::Text,
                StoriesFormatArg::Json => commands::StoriesFormat::Json,
            },
        })?)?,
        Command::Presets => print(&commands::presets())?,
        Command::Verify {
            cases,
            threads,
            markdown,
        } => {
            let results = crate::verify::verify(threads, &cases)?;
            if markdown {
                print(&crate::verify::markdown(&results))?;
            } else {
                print(&crate::verify::table(&results))?;
            }
            let failed = results.iter().filter(|r| !r.pass).count();
            if failed > 0 {
                return Err(crate::Error::VerificationFailed {
                    failed,
                    total: results.len(),
                });
            }
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "relsim", &mut script);
            print(&String::from_utf8_lossy(&script))?;
        }
        Command::Manpage { out: None } => print(&manual_page(&Cli::command())?)?,
        Command::Manpage { out: Some(dir) } => {
            let pages = write_manual_pages(&dir)?;
            print(&format!(
                "{} manual pages written to {}/\n",
                pages,
                dir.display()
            ))?;
        }
        Command::Init {
            name,
            output,
            force,
        } => {
            if output.as_deref() == Some(std::path::Path::new("-")) {
                print(commands::preset_text(&name)?)?;
            } else {
                let path = commands::init(&name, output.as_deref(), force)?;
                print(&format!(
                    "wrote {}; edit it, then run: relsim run {}\n",
                    path.display(),
                    path.display()
                ))?;
            }
        }
    }
    Ok(())
}

/// What a shard command says when its part folder is complete.
fn shard_done(report: &commands::ShardReport, units: &str) -> String {
    format!(
        "shard {}: {} {units} in {}/ ({} run now, {:.1} s); merge every shard's folder with \
         `relsim merge PARTS… --out DIR`\n",
        report.shard,
        report.replications,
        report.part_dir.display(),
        report.ran,
        report.wall_time_seconds
    )
}

/// A command's manual page as roff text.
fn manual_page(command: &clap::Command) -> Result<String> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut roff)
        .map_err(|source| crate::Error::Write {
            path: "the manual page".into(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&roff).into_owned())
}

/// Writes `relsim.1` and `relsim-COMMAND.1` for every command into `dir`; returns how many.
fn write_manual_pages(dir: &std::path::Path) -> Result<usize> {
    std::fs::create_dir_all(dir).map_err(|source| crate::Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let relsim = Cli::command();
    let mut pages = vec![("relsim.1".to_string(), relsim.clone())];
    for command in relsim.get_subcommands() {
        let name = format!("relsim-{}", command.get_name());
        let page = command
            .clone()
            .display_name(name.clone())
            .version(env!("CARGO_PKG_VERSION"))
            .bin_name(format!("relsim {}", command.get_name()));
        pages.push((format!("{name}.1"), page));
    }
    for (file, command) in &pages {
        let text = manual_page(command)?;
        crate::output::write_atomically(&dir.join(file), |out| out.write_all(text.as_bytes()))?;
    }
    Ok(pages.len())
}

/// The width of the terminal standard output goes to; `COLUMNS` where it says, and no limit
/// when the output is a file or a pipe.
fn terminal_width() -> usize {
    let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    let from_terminal = console::Term::stdout()
        .size_checked()
        .map(|(_, columns)| columns as usize);
    from_env.or(from_terminal).unwrap_or(usize::MAX)
}

/// Writes `text` to standard output. A reader that has gone away (`relsim validate | head -1`)
/// is not an error: the output simply ends there.
fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(crate::Error::Write {
            path: "standard output".into(),
            source: err,
        }),
        _ => Ok(()),
    }
}

/// Parses the process arguments, runs the command and maps errors to exit codes
/// (0 success, 2 bad input, 1 anything else, 128 + N when stopped by signal N). Errors are one
/// line on stderr.
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
