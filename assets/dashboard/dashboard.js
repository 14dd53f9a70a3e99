// relsim dashboard: sliders send `--set` settings to relsim serve, which streams the charts'
// data as replications finish (server-sent events). No framework, nothing fetched from outside.
"use strict";

const state = {
  config: null,      // /api/sliders
  settings: {},      // key -> value as sent
  extra: {},         // settings from the page's address that have no slider
  source: null,      // the EventSource of the running experiment
  plots: [],         // one uPlot per chart
  plotShape: "",     // strategies and periods the plots were built for
  startedAt: 0,
  firstAt: null,
  updates: 0,
  story: 0,
  debounce: null,
};

const $ = (id) => document.getElementById(id);

function human(value) {
  if (value === null || !Number.isFinite(value)) return "n/a";
  const magnitude = Math.abs(value);
  const [scaled, suffix] = magnitude >= 1e9 ? [value / 1e9, "B"] : magnitude >= 1e6 ? [value / 1e6, "M"]
    : magnitude >= 1e3 ? [value / 1e3, "k"] : [value, ""];
  const digits = Math.abs(scaled) >= 100 ? 0 : Math.abs(scaled) >= 10 ? 1 : 2;
  return scaled.toFixed(digits) + suffix;
}

// An axis tick: as short as it can be (5k, 2.5M, 0).
function tick(value) {
  const text = human(value);
  if (!text.includes(".")) return text;
  return text.replace(/0+(?=[kMB]?$)/, "").replace(/\.(?=[kMB]?$)/, "");
}

function shown(slider, value) {
  const decimals = slider.step >= 1 ? 0 : Math.max(0, Math.ceil(-Math.log10(slider.step)));
  return Number(value).toFixed(decimals);
}

// A share as a percentage with as many decimals as the ticks' spacing needs (98.5 %, 99.0 %
// when they are half a point apart; 94 %, 96 % when two).
function percentTick(value, increment) {
  let decimals = 0;
  while (decimals < 3) {
    const scaled = increment * 100 * 10 ** decimals;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6) break;
    decimals += 1;
  }
  return (value * 100).toFixed(decimals) + " %";
}

function query(extra) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state.extra)) params.append(key, value);
  for (const [key, value] of Object.entries(state.settings)) params.append(key, value);
  for (const [key, value] of Object.entries(extra || {})) params.append(key, value);
  return params.toString();
}

function showError(message) {
  const box = $("error");
  if (message) {
    box.textContent = message;
    box.hidden = false;
  } else {
    box.hidden = true;
    box.textContent = "";
  }
}

function buildSliders() {
  const { config } = state;
  const container = $("sliders");
  container.innerHTML = "";
  const fromAddress = new URLSearchParams(location.search);
  const groups = new Map();
  for (const slider of config.sliders) {
    if (!groups.has(slider.group)) {
      const fieldset = document.createElement("fieldset");
      const legend = document.createElement("legend");
      const idx = config.strategies.indexOf(slider.group);
      if (idx >= 0) {
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = config.colours[idx];
        legend.appendChild(swatch);
      }
      legend.appendChild(document.createTextNode(slider.group));
      fieldset.appendChild(legend);
      container.appendChild(fieldset);
      groups.set(slider.group, fieldset);
    }
    const id = "slider-" + slider.key.replace(/\./g, "-");
    const row = document.createElement("div");
    row.className = "slider";
    row.innerHTML = `<label for="${id}"><span></span><output for="${id}"></output></label>
      <input type="range" id="${id}">`;
    row.querySelector("span").textContent = slider.label;
    const input = row.querySelector("input");
    const output = row.querySelector("output");
    input.min = slider.min;
    input.max = slider.max;
    input.step = slider.step;
    input.dataset.key = slider.key;
    // The value sent is the scenario's (or the address's) as it is, never the slider's
    // rounding of it, until the slider is moved.
    const initial = fromAddress.has(slider.key) ? fromAddress.get(slider.key) : String(slider.value);
    input.value = initial;
    output.textContent = fromAddress.has(slider.key) ? initial : shown(slider, slider.value);
    state.settings[slider.key] = initial;
    input.addEventListener("input", () => {
      output.textContent = shown(slider, input.value);
      state.settings[slider.key] = shown(slider, input.value);
      clearTimeout(state.debounce);
      state.debounce = setTimeout(start, 250);
    });
    groups.get(slider.group).appendChild(row);
  }
  // Settings in the address without a slider are passed on as they are (and checked by relsim).
  const keys = new Set(config.sliders.map((s) => s.key));
  for (const [key, value] of fromAddress) {
    if (!keys.has(key)) state.extra[key] = value;
  }
  const select = $("story-strategy");
  select.innerHTML = "";
  config.strategies.forEach((name) => {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = name;
    select.appendChild(option);
  });
}

function buildPlots(start) {
  const shape = JSON.stringify([start.strategies, start.periods]);
  if (shape === state.plotShape) return;
  state.plotShape = shape;
  state.plots.forEach((plot) => plot.destroy());
  state.plots = [];
  const charts = $("charts");
  charts.innerHTML = "";
  const word = state.config.period_word;
  const width = Math.max(380, Math.floor((charts.clientWidth - 24) / 2));
  for (const chart of state.config.charts) {
    const holder = document.createElement("div");
    holder.className = "chart";
    holder.id = "chart-" + chart.name;
    charts.appendChild(holder);
    const options = {
      title: chart.title,
      width: width - 10,
      height: 230,
      scales: { x: { time: false } },
      // The summary table above is the key to the colours; a legend under every chart would
      // repeat it four times.
      legend: { show: false },
      // Each strategy's mean, then the low and high ends of its 95 % interval, which only
      // bound the band between them.
      series: [{ label: word }]
        .concat(start.strategies.map((name, i) => ({
          label: name, stroke: start.colours[i], width: 2,
        })))
        .concat(start.strategies.flatMap((name) => [
          { label: name + " low", stroke: "transparent", points: { show: false } },
          { label: name + " high", stroke: "transparent", points: { show: false } },
        ])),
      bands: start.strategies.map((name, i) => {
        const low = 1 + start.strategies.length + 2 * i;
        return { series: [low + 1, low], fill: start.colours[i] + "2e" };
      }),
      axes: [
        { label: word },
        {
          size: 62,
          values: (u, ticks, axis, space, increment) => ticks.map((v) => (
            chart.name === "retention" ? percentTick(v, increment) : tick(v))),
        },
      ],
    };
    const xs = Array.from({ length: start.periods }, (_, i) => i + 1);
    const empty = [xs].concat(Array.from({ length: 3 * start.strategies.length },
      () => xs.map(() => null)));
    state.plots.push(new uPlot(options, empty, holder));
  }
}

function draw(update) {
  const xs = Array.from({ length: update.strategies[0].series[0].length }, (_, i) => i + 1);
  state.plots.forEach((plot, c) => {
    const bound = (s, sign) => s.series[c].map((mean, t) => {
      const half = s.half_widths[c][t];
      return mean === null || half === null ? null : mean + sign * half;
    });
    plot.setData([xs]
      .concat(update.strategies.map((s) => s.series[c]))
      .concat(update.strategies.flatMap((s) => [bound(s, -1), bound(s, 1)])));
  });
  const best = Math.max(...update.strategies.map((s) => s.npv_mean));
  const body = $("summary").querySelector("tbody");
  body.innerHTML = "";
  update.strategies.forEach((s, i) => {
    const row = document.createElement("tr");
    if (s.npv_mean === best) row.className = "leader";
    row.dataset.strategy = s.name;
    const ci = Number.isFinite(s.npv_half_width) ? " ± " + human(s.npv_half_width) : "";
    row.innerHTML = `<td><span class="swatch" style="background:${state.config.colours[i]}"></span></td>
      <td class="npv"></td><td class="retention"></td>`;
    row.cells[0].appendChild(document.createTextNode(s.name));
    row.cells[1].textContent = human(s.npv_mean) + ci;
    row.cells[2].textContent = (s.retention_mean * 100).toFixed(2) + " %";
    body.appendChild(row);
  });
  state.updates += 1;
  document.body.dataset.updates = state.updates;
  $("progress").textContent = `${update.done} of ${update.total} replications`
    + ` · first curves after ${(state.firstAt / 1000).toFixed(2)} s`;
}

function start() {
  if (state.source) state.source.close();
  showError("");
  const q = query();
  $("download").href = "/api/scenario.toml?" + q;
  history.replaceState(null, "", "?" + q);
  state.startedAt = performance.now();
  state.firstAt = null;
  document.body.dataset.state = "running";
  $("progress").textContent = "Simulating…";
  const source = new EventSource("/api/run?" + q);
  state.source = source;
  source.addEventListener("queued", () => {
    $("progress").textContent = "Waiting for other simulations on this computer to finish…";
  });
  source.addEventListener("start", (e) => {
    $("progress").textContent = "Simulating…";
    buildPlots(JSON.parse(e.data));
  });
  source.addEventListener("update", (e) => {
    if (state.firstAt === null) {
      state.firstAt = performance.now() - state.startedAt;
      document.body.dataset.firstChartMs = Math.round(state.firstAt);
    }
    draw(JSON.parse(e.data));
  });
  source.addEventListener("done", (e) => {
    source.close();
    state.source = null;
    const doneMs = performance.now() - state.startedAt;
    const done = JSON.parse(e.data);
    document.body.dataset.fullUpdateMs = Math.round(doneMs);
    document.body.dataset.state = "done";
    $("progress").textContent = `${done.done} replications`
      + ` · first curves after ${(state.firstAt / 1000).toFixed(2)} s`
      + ` · all after ${(doneMs / 1000).toFixed(2)} s`;
  });
  source.addEventListener("invalid", (e) => {
    source.close();
    state.source = null;
    document.body.dataset.state = "invalid";
    $("progress").textContent = "Not simulated: a setting is not allowed.";
    $("story-kind").textContent = "";
    showError("This setting is not allowed — " + e.data);
  });
  source.onerror = () => {
    if (state.source === source) {
      source.close();
      state.source = null;
      document.body.dataset.state = "disconnected";
      showError("Lost the connection to relsim serve. Is it still running?");
    }
  };
  loadStory();
}

async function loadStory() {
  const strategy = $("story-strategy").value;
  const requested = state.story;
  // Only the latest request's answer is shown (a slider may move before a story comes back).
  const ticket = (state.storyTicket = (state.storyTicket || 0) + 1);
  $("story").textContent = "Following a customer…";
  $("story-kind").textContent = "";
  $("story-chart").innerHTML = "";
  try {
    const response = await fetch("/api/story?" + query({ strategy, story: requested }));
    const answer = await response.json();
    if (ticket !== state.storyTicket) return;
    if (!response.ok) {
      $("story").textContent = "No story: " + answer.error;
      return;
    }
    if (answer.available && answer.story < requested) state.story = answer.story;
    $("story-kind").textContent = answer.kind ? `${strategy}: ${answer.kind}` : "";
    // relsim draws the small chart itself (an SVG of numbers only, the report's sparkline).
    $("story-chart").innerHTML = answer.sparkline
      ? answer.sparkline + ' <span class="key"><span style="color:#0072b2">trust</span> and '
        + `<span style="color:#d55e00">commitment</span>, ${state.config.period_word} by `
        + `${state.config.period_word}</span>`
      : "";
    $("story").textContent = answer.text;
  } catch (err) {
    $("story").textContent = "Could not reach relsim serve: " + err;
  }
}

async function init() {
  try {
    const response = await fetch("/api/sliders");
    state.config = await response.json();
  } catch (err) {
    showError("Could not reach relsim serve: " + err);
    return;
  }
  const { config } = state;
  document.title = "relsim · " + config.scenario;
  $("scenario-name").textContent = config.scenario;
  $("description").textContent = config.description;
  buildSliders();
  $("story-strategy").addEventListener("change", () => { state.story = 0; loadStory(); });
  $("next-story").addEventListener("click", () => { state.story = (state.story + 1) % 9; loadStory(); });
  $("reset").addEventListener("click", () => {
    history.replaceState(null, "", location.pathname);
    state.settings = {};
    state.extra = {};
    buildSliders();
    start();
  });
  start();
}

init();
