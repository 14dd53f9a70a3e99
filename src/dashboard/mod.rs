//! `relsim serve`: a local web page with sliders for the main levers and market parameters, and
//! charts that update as replications finish (docs/teaching.md).
//!
//! The only module with a network and an async runtime. The page and its charting library are
//! compiled in (`assets/dashboard/`), so it works with no internet. Every setting the page
//! sends is a `--set KEY=VALUE` of the scenario and goes through the same checks; a bad one is
//! answered with the message `--set` would print, never a crash. Each request for charts runs
//! its own experiment on a blocking thread and streams an update per batch of replications as
//! server-sent events; a tab that closes or changes its settings stops its experiment.

mod levers;
mod live;

pub use levers::{sliders, Slider, DASHBOARD_REPLICATIONS, MAX_DASHBOARD_POPULATION};
pub use live::{LiveSink, StrategyUpdate, Update, CHARTED};

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};

use crate::error::{Error, Result};
use crate::experiment::{run_experiment, ExperimentOptions, StopRequest};
use crate::plot::strategy_colour_hex;
use crate::report::stories_html::sparkline;
use crate::scenario::{Override, ScenarioSource};
use crate::stories::{narrate, period_word, tell, StoryRequest};
use crate::Scenario;

/// How to serve the dashboard.
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// The scenario the page starts from.
    pub source: ScenarioSource,
    /// `--set` overrides applied before the page's own settings.
    pub overrides: Vec<Override>,
    pub host: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// Worker threads per experiment (at least 1; `commands::resolve_threads` turns the
    /// command line's 0 into one per core).
    pub threads: usize,
}

/// The page, its script and the vendored charting library, compiled in.
const ASSETS: [(&str, &str, &str); 5] = [
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/dashboard/dashboard.js"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/dashboard/dashboard.css"),
    ),
    (
        "uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/dashboard/vendor/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/dashboard/vendor/uPlot.min.css"),
    ),
    (
        "LICENSE-uPlot",
        "text/plain; charset=utf-8",
        include_str!("../../assets/dashboard/vendor/LICENSE-uPlot"),
    ),
];
const INDEX_HTML: &str = include_str!("../../assets/dashboard/index.html");

/// What every request reads.
struct Dashboard {
    options: DashboardOptions,
    /// The scenario with the command line's overrides: what the page starts from.
    base: Scenario,
    /// Set when the server is stopping: running experiments end at their next batch.
    stopping: AtomicBool,
    /// Experiments allowed at once: as many as the cores hold at `threads` each. A classroom
    /// of tabs then queues (first come, first served) instead of every tab's experiment
    /// fighting for the same cores.
    experiments: Arc<tokio::sync::Semaphore>,
}

/// How many experiments of `threads` threads each run at once on this machine.
fn experiments_at_once(threads: usize) -> usize {
    (crate::commands::resolve_threads(0) / threads.max(1)).max(1)
}

/// Query keys that are not scenario settings.
const STRATEGY_PARAM: &str = "strategy";
const STORY_PARAM: &str = "story";

impl Dashboard {
    /// The scenario with the page's settings (`KEY=VALUE` pairs, `--set` keys) applied, or the
    /// message that says which setting is wrong and what is allowed.
    fn scenario_for(&self, settings: &[(String, String)]) -> std::result::Result<Scenario, String> {
        let mut overrides = self.options.overrides.clone();
        for (key, value) in settings {
            if key == STRATEGY_PARAM || key == STORY_PARAM {
                continue;
            }
            overrides.push(Override::parse(&format!("{key}={value}")).map_err(explain)?);
        }
        let scenario = self.options.source.scenario(&overrides).map_err(explain)?;
        let (fewest, most) = DASHBOARD_REPLICATIONS;
        if !(fewest..=most).contains(&scenario.replications()) {
            return Err(format!(
                "replications: the dashboard runs {fewest} to {most}, got {} (use `relsim run` \
                 for more)",
                scenario.replications()
            ));
        }
        let population = scenario.model().market.population;
        if population > MAX_DASHBOARD_POPULATION {
            return Err(format!(
                "market.population: the dashboard simulates at most {MAX_DASHBOARD_POPULATION} \
                 customers, got {population} (use `relsim run` for more)"
            ));
        }
        Ok(scenario)
    }

    fn strategy_idx(
        scenario: &Scenario,
        settings: &[(String, String)],
    ) -> std::result::Result<usize, String> {
        match settings.iter().find(|(key, _)| key == STRATEGY_PARAM) {
            None => Ok(0),
            Some((_, name)) => scenario
                .strategy_index(name, STRATEGY_PARAM)
                .map_err(explain),
        }
    }
}

/// What a wrong setting says on the page: the key and what is allowed (the page has no file,
/// so a scenario error loses the "preset … with --set" that names one on the command line).
fn explain(err: Error) -> String {
    match err {
        Error::InvalidScenario { key, message, .. } if !key.is_empty() => {
            format!("{key}: {message}")
        }
        other => other.to_string(),
    }
}

/// Serves the dashboard until Ctrl-C or SIGTERM; `listening` is told the address first.
pub fn serve(options: DashboardOptions, listening: impl FnOnce(SocketAddr)) -> Result<()> {
    let base = options.source.scenario(&options.overrides)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| Error::ThreadPool {
            threads: 2,
            message: err.to_string(),
        })?;
    let address = SocketAddr::new(options.host, options.port);
    let experiments = Arc::new(tokio::sync::Semaphore::new(experiments_at_once(
        options.threads,
    )));
    let state = Arc::new(Dashboard {
        options,
        base,
        stopping: AtomicBool::new(false),
        experiments,
    });
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|err| Error::InvalidOption {
                option: "--port".into(),
                message: match err.kind() {
                    std::io::ErrorKind::AddrInUse => format!(
                        "port {} is in use on {}; choose another with --port (0 picks a free one)",
                        address.port(),
                        address.ip()
                    ),
                    _ => format!("cannot listen on {address}: {err}"),
                },
            })?;
        let bound = listener.local_addr().map_err(|err| Error::InvalidOption {
            option: "--port".into(),
            message: err.to_string(),
        })?;
        // The handlers are in place before anyone is told where to connect, so a Ctrl-C from
        // then on always stops the server cleanly.
        let stop_signals = StopSignals::install()?;
        listening(bound);
        let app = router(Arc::clone(&state));
        let shutdown = {
            let state = Arc::clone(&state);
            async move {
                stop_signals.received().await;
                state.stopping.store(true, Ordering::Relaxed);
            }
        };
        // Open update streams would keep a graceful shutdown waiting; they end with their
        // experiment, which stops at its next batch, so a short grace is enough.
        let server = axum::serve(listener, app).with_graceful_shutdown(shutdown);
        let server = tokio::spawn(async move { server.await });
        while !state.stopping.load(Ordering::Relaxed) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            if server.is_finished() {
                break;
            }
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), server).await;
        Ok(())
    });
    // Experiments stop at their next batch once `stopping` is set; a story being told cannot be
    // stopped, so the runtime waits for blocking work a little, not for ever.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    served
}

/// Ctrl-C (SIGINT) and SIGTERM, listened for from the moment they are installed.
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind: SignalKind| {
            signal(kind).map_err(|err| Error::InvalidOption {
                option: "serve".into(),
                message: format!("cannot listen for Ctrl-C and SIGTERM: {err}"),
            })
        };
        Ok(Self {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
        })
    }

    /// Waits for either.
    async fn received(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

fn router(state: Arc<Dashboard>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
        .route("/api/sliders", get(sliders_json))
        .route("/api/run", get(run_stream))
        .route("/api/story", get(story_json))
        .route("/api/scenario.toml", get(scenario_toml))
        .with_state(state)
}

async fn index() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        INDEX_HTML,
    )
        .into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(asset, _, _)| *asset == name) {
        Some((_, content_type, body)) => {
            ([(header::CONTENT_TYPE, *content_type)], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, format!("no asset {name:?}")).into_response(),
    }
}

/// A JSON body with its content type.
fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(value).expect("the dashboard's answers are plain data"),
    )
        .into_response()
}

fn bad_request(message: String) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &serde_json::json!({ "error": message }),
    )
}

/// What the page builds itself from: the scenario's name and description, what a period is
/// called, the strategies, the sliders and the charts.
async fn sliders_json(State(state): State<Arc<Dashboard>>) -> Response {
    let base = &state.base;
    let charts: Vec<_> = CHARTED
        .iter()
        .map(|c| serde_json::json!({ "name": c.name, "title": c.title }))
        .collect();
    json(
        StatusCode::OK,
        &serde_json::json!({
            "scenario": base.name(),
            "description": base.description().split_whitespace().collect::<Vec<_>>().join(" "),
            "period_word": period_word(base.periods_per_year()),
            "strategies": base.strategies().iter().map(|s| &s.name).collect::<Vec<_>>(),
            "colours": (0..base.strategies().len()).map(strategy_colour_hex).collect::<Vec<_>>(),
            "sliders": sliders(base),
            "charts": charts,
        }),
    )
}

/// The charts' data for the page's settings, as server-sent events: `queued` if other
/// experiments hold the cores, `start` (strategies, periods, replications), an `update` per
/// batch of replications, then `done`; or a single `invalid` with the message when a setting is
/// wrong.
async fn run_stream(
    State(state): State<Arc<Dashboard>>,
    Query(settings): Query<Vec<(String, String)>>,
) -> Sse<impl Stream<Item = std::result::Result<Event, Infallible>>> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Event>(64);
    match state.scenario_for(&settings) {
        Err(message) => {
            let _ = sender.try_send(Event::default().event("invalid").data(message));
        }
        Ok(scenario) => {
            tokio::spawn(async move {
                let experiments = Arc::clone(&state.experiments);
                let permit = match experiments.clone().try_acquire_owned() {
                    Ok(permit) => permit,
                    Err(_) => {
                        let queued = Event::default().event("queued").data("");
                        if sender.send(queued).await.is_err() {
                            return;
                        }
                        match experiments.acquire_owned().await {
                            Ok(permit) => permit,
                            Err(_) => return,
                        }
                    }
                };
                // A tab that closed while it waited needs nothing more.
                if sender.is_closed() || state.stopping.load(Ordering::Relaxed) {
                    return;
                }
                let _ = tokio::task::spawn_blocking(move || {
                    simulate_live(&state, &scenario, &sender);
                    drop(permit);
                })
                .await;
            });
        }
    }
    Sse::new(ReceiverStream::new(receiver).map(Ok)).keep_alive(KeepAlive::default())
}

/// Runs `scenario`'s replications, sending an update after every batch, until they are done,
/// the page stops listening or the server stops.
fn simulate_live(
    state: &Dashboard,
    scenario: &Scenario,
    sender: &tokio::sync::mpsc::Sender<Event>,
) {
    let names: Vec<String> = scenario
        .strategies()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let total = scenario.replications() as u64;
    let start = serde_json::json!({
        "strategies": names,
        "colours": (0..names.len()).map(strategy_colour_hex).collect::<Vec<_>>(),
        "periods": scenario.periods(),
        "total": total,
    });
    if sender
        .blocking_send(Event::default().event("start").data(start.to_string()))
        .is_err()
    {
        return;
    }
    let stop = StopRequest::default();
    let threads = state.options.threads;
    let send_update = |update: Update| {
        let listening = !state.stopping.load(Ordering::Relaxed)
            && sender
                .blocking_send(
                    Event::default()
                        .event("update")
                        .data(serde_json::to_string(&update).expect("plain data")),
                )
                .is_ok();
        if !listening {
            // SIGINT's number, as if the user had stopped a run: the experiment ends after the
            // replications in flight.
            stop.request(2);
        }
    };
    let mut sink = LiveSink::new(names, scenario.periods() as usize, total, send_update);
    let options = ExperimentOptions {
        threads,
        // An update per replication each thread finishes: the first curves come as soon as
        // the first replications are done.
        batch_size: threads,
        stop: stop.clone(),
        replications: None,
    };
    let outcome = run_experiment(scenario, options, &mut sink, &|| {});
    let last = sink.update();
    let event = match outcome {
        Ok(_) => Event::default().event("done").data(
            serde_json::json!({ "elapsed_ms": last.elapsed_ms, "done": last.done }).to_string(),
        ),
        Err(Error::Interrupted { .. }) => return,
        Err(err) => Event::default().event("invalid").data(err.to_string()),
    };
    let _ = sender.blocking_send(event);
}

/// One customer's story for the page's settings: `strategy` (a name; the first by default) and
/// `story` (0 for the first customer worth reading, 1 for the next, …).
async fn story_json(
    State(state): State<Arc<Dashboard>>,
    Query(settings): Query<Vec<(String, String)>>,
) -> Response {
    let scenario = match state.scenario_for(&settings) {
        Ok(scenario) => scenario,
        Err(message) => return bad_request(message),
    };
    let strategy_idx = match Dashboard::strategy_idx(&scenario, &settings) {
        Ok(idx) => idx,
        Err(message) => return bad_request(message),
    };
    const MOST_STORIES: usize = 9;
    let story = match settings.iter().find(|(key, _)| key == STORY_PARAM) {
        None => 0,
        Some((_, value)) => match value.parse::<usize>() {
            Ok(n) if n < MOST_STORIES => n,
            _ => {
                return bad_request(format!(
                    "story: a number from 0 to {}, got {value:?}",
                    MOST_STORIES - 1
                ))
            }
        },
    };
    let told = tokio::task::spawn_blocking(move || {
        tell(
            &scenario,
            StoryRequest {
                strategy_idx,
                replication: 0,
                customers: story + 1,
            },
        )
    })
    .await;
    match told {
        Ok(Ok(stories)) => {
            let available = stories.stories.len();
            match stories.stories.get(story).or(stories.stories.last()) {
                Some(chosen) => json(
                    StatusCode::OK,
                    &serde_json::json!({
                        "strategy": stories.strategy,
                        "story": story.min(available - 1),
                        "available": available,
                        "text": narrate(chosen, &stories.period_word, stories.periods),
                        "kind": chosen.kind.title(),
                        "path": chosen.path,
                        "sparkline": sparkline(&chosen.path, stories.periods),
                    }),
                ),
                None => json(
                    StatusCode::OK,
                    &serde_json::json!({
                        "strategy": stories.strategy,
                        "available": 0,
                        "text": "No customer in this run had a story worth telling.",
                    }),
                ),
            }
        }
        Ok(Err(err)) => bad_request(err.to_string()),
        Err(err) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &serde_json::json!({ "error": err.to_string() }),
        ),
    }
}

/// The scenario on screen as a file, to re-run a class result exactly with `relsim run`.
async fn scenario_toml(
    State(state): State<Arc<Dashboard>>,
    Query(settings): Query<Vec<(String, String)>>,
) -> Response {
    match state.scenario_for(&settings) {
        Ok(scenario) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/toml; charset=utf-8".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-dashboard.toml\"",
                        file_stem(scenario.name())
                    ),
                ),
            ],
            scenario.to_toml(),
        )
            .into_response(),
        Err(message) => bad_request(message),
    }
}

/// `name` with anything but letters, digits, `-` and `_` replaced, for a download's file name.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
