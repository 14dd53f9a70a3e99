//! `relsim serve`: the page and its assets, the update stream the sliders use, bad settings,
//! several tabs at once and a clean stop, against the real binary on a free port.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use relsim::scenario::parse;

#[path = "support/child_process.rs"]
mod child_process;
use child_process::stop_by_signal;

/// A `relsim serve` on a free port, stopped when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_relsim"))
            .args(["serve", "--port", "0", "--threads", "2"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Self { child, address }
    }

    /// GET `path`: the status code, the headers (lower case) and the body.
    fn get(&self, path: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let head = head.to_lowercase();
        let body = if head.contains("transfer-encoding: chunked") {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, head, body)
    }

    /// What the server wrote on standard error, once it has ended.
    fn stderr(&mut self) -> String {
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        stderr
    }

    /// The server-sent events of `/api/run?query`: `(event, data)` in order.
    fn run(&self, query: &str) -> Vec<(String, String)> {
        let (status, head, body) = self.get(&format!("/api/run?{query}"));
        assert_eq!(status, 200);
        assert!(head.contains("content-type: text/event-stream"), "{head}");
        body.split("\n\n")
            .filter_map(|block| {
                let mut event = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event: ") {
                        event = Some(name.to_string());
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data = Some(value.to_string());
                    }
                }
                Some((event?, data.unwrap_or_default()))
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a chunked HTTP/1.1 response.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

fn last_update(events: &[(String, String)]) -> serde_json::Value {
    let data = &events
        .iter()
        .rev()
        .find(|(event, _)| event == "update")
        .expect("an update")
        .1;
    serde_json::from_str(data).unwrap()
}

fn npv_of(update: &serde_json::Value, strategy: &str) -> f64 {
    update["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == strategy)
        .unwrap()["npv_mean"]
        .as_f64()
        .unwrap()
}

#[test]
fn the_page_and_every_asset_it_names_are_served_by_relsim_itself() {
    let server = Server::start(&[]);
    let (status, head, page) = server.get("/");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"));
    let mut assets = Vec::new();
    for marker in ["src=\"", "href=\""] {
        for piece in page.split(marker).skip(1) {
            let target = piece.split('"').next().unwrap();
            if target.starts_with("/assets/") {
                assets.push(target.to_string());
            }
        }
    }
    assert!(assets.len() >= 5, "{assets:?}");
    for asset in &assets {
        let (status, head, body) = server.get(asset);
        assert_eq!(status, 200, "{asset}");
        assert!(!body.is_empty(), "{asset}");
        let expected = match asset.rsplit('.').next().unwrap() {
            "js" => "text/javascript",
            "css" => "text/css",
            _ => "text/plain",
        };
        assert!(head.contains(expected), "{asset}: {head}");
        // Nothing the page loads fetches anything from the internet.
        if asset.ends_with("dashboard.js") || asset.ends_with("dashboard.css") {
            assert!(
                !body.contains("http://") && !body.contains("https://"),
                "{asset}"
            );
        }
    }
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert_eq!(server.get("/assets/nothing.js").0, 404);

    let (status, _, sliders) = server.get("/api/sliders");
    assert_eq!(status, 200);
    let sliders: serde_json::Value = serde_json::from_str(&sliders).unwrap();
    assert_eq!(sliders["scenario"], "default");
    assert_eq!(sliders["period_word"], "month");
    let keys: Vec<&str> = sliders["sliders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    for key in [
        "replications",
        "market.population",
        "strategies.1.personal_care_managers",
        "strategies.2.price_level",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
}

#[test]
fn a_lever_streams_updates_until_done_and_ends_at_the_runs_own_figures() {
    let server = Server::start(&[]);
    let events = server.run("replications=4");
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names.first(), Some(&"start"));
    assert_eq!(names.last(), Some(&"done"));
    assert!(
        names.iter().filter(|&&n| n == "update").count() >= 2,
        "{names:?}"
    );
    let start: serde_json::Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(start["periods"], 60);
    assert_eq!(start["total"], 4);
    let before = last_update(&events);
    assert_eq!(before["done"], 4);
    for strategy in before["strategies"].as_array().unwrap() {
        for series in strategy["series"].as_array().unwrap() {
            assert_eq!(series.as_array().unwrap().len(), 60);
        }
        // Each mean comes with the half-width of its 95 % interval.
        for half_widths in strategy["half_widths"].as_array().unwrap() {
            let half_widths = half_widths.as_array().unwrap();
            assert_eq!(half_widths.len(), 60);
            assert!(half_widths[59].as_f64().unwrap() > 0.0);
        }
    }

    // The dashboard's NPV is the run's: the same replications, the same means.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let status = Command::new(env!("CARGO_BIN_EXE_relsim"))
        .args([
            "run",
            "default",
            "--replications",
            "4",
            "--no-plots",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    for line in summary
        .lines()
        .filter(|l| l.split(',').nth(1) == Some("npv"))
    {
        let fields: Vec<&str> = line.split(',').collect();
        let mean: f64 = fields[2].parse().unwrap();
        let shown = npv_of(&before, fields[0]);
        assert!((shown - mean).abs() <= 1e-9 * mean.abs(), "{line}: {shown}");
    }

    // The same endpoint the sliders use: no managers and no recovery for the relationship
    // strategy changes its NPV and, with common random numbers, no other strategy's.
    let after =
        last_update(&server.run(
            "replications=4&strategies.1.personal_care_managers=0&strategies.1.recovery_rate=0",
        ));
    assert_ne!(
        npv_of(&after, "relationship"),
        npv_of(&before, "relationship")
    );
    assert_eq!(
        npv_of(&after, "transactional"),
        npv_of(&before, "transactional")
    );
    assert_eq!(npv_of(&after, "hybrid"), npv_of(&before, "hybrid"));
}

#[test]
fn bad_settings_are_explained_and_the_server_carries_on() {
    let server = Server::start(&[]);
    for (query, says) in [
        ("market.population=abc", "market.population"),
        ("market.population=5000000", "at most 200000 customers"),
        (
            "replications=5000",
            "replications: the dashboard runs 2 to 200",
        ),
        ("market.base_failure=2", "market.base_failure"),
        ("no.such.key=1", "unknown field `no`"),
        ("strategies.7.price_level=1", "strategies.7"),
    ] {
        let events = server.run(query);
        assert_eq!(events.len(), 1, "{query}: {events:?}");
        assert_eq!(events[0].0, "invalid", "{query}");
        assert!(events[0].1.contains(says), "{query}: {}", events[0].1);
    }
    for path in [
        "/api/story?story=99",
        "/api/story?strategy=nope",
        "/api/scenario.toml?market.base_failure=-1",
    ] {
        let (status, _, body) = server.get(path);
        assert_eq!(status, 400, "{path}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(!body["error"].as_str().unwrap().is_empty(), "{path}");
    }
    assert_eq!(server.get("/").0, 200);
}

#[test]
fn the_story_and_the_download_follow_the_settings_on_screen() {
    let server = Server::start(&["--set", "market.population=4000"]);
    let (status, _, story) = server.get("/api/story?strategy=relationship&story=1&replications=4");
    assert_eq!(status, 200);
    let story: serde_json::Value = serde_json::from_str(&story).unwrap();
    assert_eq!(story["strategy"], "relationship");
    assert!(story["text"].as_str().unwrap().starts_with("Customer "));
    assert!(!story["path"].as_array().unwrap().is_empty());
    assert!(story["sparkline"]
        .as_str()
        .unwrap()
        .starts_with("<svg class=\"spark\""));

    let (status, head, toml) =
        server.get("/api/scenario.toml?strategies.1.price_level=1.1&replications=8");
    assert_eq!(status, 200);
    assert!(head.contains("attachment; filename=\"default-dashboard.toml\""));
    let scenario = parse(&toml, "download", &[]).unwrap();
    let value = |key: &str| scenario.value_of(key).unwrap();
    assert_eq!(value("strategies.1.price_level").as_float(), Some(1.1));
    assert_eq!(value("replications").as_integer(), Some(8));
    // The command line's --set is part of what is on screen.
    assert_eq!(value("market.population").as_integer(), Some(4000));
}

#[test]
fn several_tabs_at_once_each_get_their_own_updates() {
    let server = std::sync::Arc::new(Server::start(&["--set", "market.population=5000"]));
    let tabs: Vec<_> = ["1.0", "1.2", "0.8"]
        .into_iter()
        .map(|price| {
            let server = std::sync::Arc::clone(&server);
            std::thread::spawn(move || {
                server.run(&format!("replications=6&strategies.0.price_level={price}"))
            })
        })
        .collect();
    let finals: Vec<f64> = tabs
        .into_iter()
        .map(|tab| {
            let events = tab.join().unwrap();
            // Experiments beyond what the cores hold wait their turn, and say so first.
            let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
            match names.as_slice() {
                ["queued", "start", ..] | ["start", ..] => {}
                other => panic!("a tab's stream begins {other:?}"),
            }
            assert_eq!(events.last().unwrap().0, "done");
            npv_of(&last_update(&events), "transactional")
        })
        .collect();
    assert!(
        finals[0] != finals[1] && finals[1] != finals[2],
        "{finals:?}"
    );
}

#[test]
fn ctrl_c_stops_it_cleanly_even_while_it_simulates() {
    let mut server = Server::start(&[]);
    let address = server.address.clone();
    // A long experiment in flight.
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /api/run?replications=200 HTTP/1.1\r\nHost: {address}\r\n\r\n"
    )
    .unwrap();
    let mut first = [0u8; 64];
    let _ = stream.read(&mut first).unwrap();
    let status = stop_by_signal(&mut server.child, libc::SIGINT, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let stderr = server.stderr();
    assert!(stderr.contains("relsim serve: stopped"), "{stderr}");
}

#[test]
fn a_busy_port_or_a_bad_scenario_is_refused_with_exit_2() {
    let server = Server::start(&[]);
    let port = server.address.rsplit(':').next().unwrap().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_relsim"))
        .args(["serve", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("--port: port {port} is in use")),
        "{stderr}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_relsim"))
        .args(["serve", "nosuch", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(env!("CARGO_BIN_EXE_relsim"))
        .args(["serve", "--port", "0", "--set", "market.population=x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("market.population"));
}

#[test]
fn every_bundled_scenario_serves_its_sliders_charts_and_a_story() {
    for preset in relsim::scenario::presets::names() {
        let server = Server::start(&[preset]);
        let (status, _, sliders) = server.get("/api/sliders");
        assert_eq!(status, 200, "{preset}");
        let sliders: serde_json::Value = serde_json::from_str(&sliders).unwrap();
        assert_eq!(sliders["scenario"], preset);
        let events = server.run("replications=2&periods=6");
        assert_eq!(events.last().unwrap().0, "done", "{preset}: {events:?}");
        let update = last_update(&events);
        assert_eq!(
            update["strategies"].as_array().unwrap().len(),
            sliders["strategies"].as_array().unwrap().len()
        );
        let (status, _, story) = server.get("/api/story?replications=2&periods=6");
        assert_eq!(status, 200, "{preset}: {story}");
    }
}

#[test]
fn listening_beyond_this_computer_comes_with_a_warning() {
    let mut server = Server::start(&["--host", "0.0.0.0"]);
    assert!(server.address.starts_with("0.0.0.0:"), "{}", server.address);
    let port = server.address.rsplit(':').next().unwrap();
    let local = Server {
        child: Command::new("true").spawn().unwrap(),
        address: format!("127.0.0.1:{port}"),
    };
    assert_eq!(local.get("/").0, 200);
    let status = stop_by_signal(&mut server.child, libc::SIGTERM, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let stderr = server.stderr();
    assert!(
        stderr.contains("warning: serving on 0.0.0.0: anyone who can reach this computer"),
        "{stderr}"
    );
}
