// The supervisor's wallboard: the state arrives every second over a WebSocket and is
// drawn in place (station cards are kept and updated, so a coaching button being
// pressed is never replaced under the finger). Coaching buttons POST with the CSRF
// token; the answer shows in the notice line.
(function () {
  "use strict";
  const root = document.getElementById("wallboard");
  const S = JSON.parse(document.getElementById("strings").textContent);
  const lang = root.dataset.lang;
  const csrf = root.dataset.csrf;
  const pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  const num = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  const cards = new Map();
  let charts = null;

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_m, k) => values[k] ?? "");
  const rate = (value) => (value === null || value === undefined ? "–" : pct.format(value));

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const m = Math.floor(seconds / 60);
    const s = String(seconds % 60).padStart(2, "0");
    return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function notice(text, kind) {
    const line = document.getElementById("notice");
    line.className = `banner ${kind || "info"}`;
    line.textContent = text;
  }

  // -- totals --------------------------------------------------------------------------------
  function tile(label, value, extra) {
    return [h("div", { class: `tile ${extra || ""}` }, h("dt", {}, label), h("dd", {}, value))];
  }

  function drawTotals(state) {
    const t = state.totals;
    const worst = state.campaigns.reduce(
      (acc, c) => (c.abandon.today !== null && (acc === null || c.abandon.today > acc.abandon.today) ? c : acc),
      null,
    );
    const list = document.getElementById("totals");
    list.replaceChildren(
      ...["talking", "ready", "wrap_up", "paused", "handset_down"].flatMap((k) =>
        tile(S.states[k], t.stations[k] + (k === "handset_down" ? t.stations.idle : 0), `state-${k}`),
      ),
      ...tile(S.ringing, t.ringing),
      ...tile(S.waiting, t.waiting, t.waiting > 0 ? "warn" : ""),
      ...tile(S.bridged, t.bridged),
      ...tile(S.dial_level, t.dial_level === null ? "–" : num.format(t.dial_level)),
      ...tile(S.contacts_hour, t.contacts_last_hour),
      ...(worst ? tile(S.abandon_today, rate(worst.abandon.today), worst.abandon.over ? "bad" : "ok") : []),
    );
  }

  // -- stations ------------------------------------------------------------------------------
  async function coach(station, mode) {
    const handset = document.getElementById("handset").value.trim();
    const body = new URLSearchParams({ station, mode, handset });
    let response;
    try {
      response = await fetch("/supervisor/coach", {
        method: "POST",
        headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
        body,
        credentials: "same-origin",
      });
    } catch (_err) {
      notice(S.reconnecting, "bad");
      return;
    }
    if (response.status === 401) {
      notice(S.session_over, "bad");
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (response.ok) notice(S.notices[`coach_${mode}`], "ok");
    else notice(`${S.coach_failed} ${S.notices[answer.error] || response.status}`, "bad");
  }

  function newCard(number) {
    const title = h("h3", {}, fill(S.station, { n: number }));
    const pill = h("span", { class: "pill" });
    const timer = h("span", { class: "timer" });
    const who = h("p", { class: "who" });
    const coaching = h("p", { class: "coaching" });
    const buttons = h("div", { class: "coach-buttons", role: "group", "aria-label": fill(S.coach_group, { n: number }) });
    for (const mode of ["listen", "whisper", "barge"]) {
      const button = h(
        "button",
        { type: "button", class: `small coach-${mode}`, "aria-label": fill(S.mode_labels[mode], { n: number }) },
        S.modes[mode],
      );
      button.addEventListener("click", () => coach(number, mode));
      buttons.append(button);
    }
    const li = h("li", { class: "station", "data-number": number }, title, h("p", { class: "state" }, pill, " ", timer), who, coaching, buttons);
    return { li, pill, timer, who, coaching, buttons };
  }

  function drawStations(state) {
    const list = document.getElementById("stations");
    const seen = new Set();
    let previous = null;
    for (const st of state.stations) {
      seen.add(st.number);
      let card = cards.get(st.number);
      if (!card) {
        card = newCard(st.number);
        cards.set(st.number, card);
      }
      const li = card.li;
      li.className = `station state-${st.state}`;
      card.pill.className = `pill ${st.state}`;
      card.pill.textContent = S.states[st.state] || st.state;
      card.timer.textContent = duration(st.seconds);
      card.who.textContent = [st.volunteer, st.campaign, st.label].filter(Boolean).join(" · ");
      card.coaching.textContent = st.coaching
        .map((c) => fill(S.coach_line, { mode: S.modes[c.mode], by: c.by, state: S.coach_states[c.state] || c.state }))
        .join(" · ");
      card.buttons.hidden = st.state !== "talking";
      // Keep the cards in the state's order without moving those already in place.
      const next = previous ? previous.nextSibling : list.firstChild;
      if (next !== li) list.insertBefore(li, next);
      previous = li;
    }
    for (const [number, card] of cards) {
      if (!seen.has(number)) {
        card.li.remove();
        cards.delete(number);
      }
    }
    document.getElementById("stations").dataset.empty = state.stations.length === 0 ? S.no_station : "";
  }

  // -- charts --------------------------------------------------------------------------------
  // Bottom to top of the stacked bars (the state's keys may come in any order).
  const OUTCOMES = ["human", "abandoned", "machine", "busy", "no_answer", "failed"];
  const COLOURS = {
    human: "#17663a",
    abandoned: "#a4161a",
    machine: "#5b3f99",
    busy: "#8a4b00",
    no_answer: "#6b7280",
    failed: "#1a1a1a",
  };

  function chartWidth(el) {
    return Math.max(280, el.clientWidth || el.parentElement.clientWidth || 480);
  }

  function makeCharts(state) {
    if (typeof uPlot === "undefined") return null;
    const callsEl = document.getElementById("chart-calls");
    const abandonEl = document.getElementById("chart-abandon");
    const clock = (u, values) => values.map((v) => new Date(v * 1000).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }));
    // Stacked bars: each outcome's bar is drawn from the total of those below it, the
    // tallest stack first so the lower ones paint over it.
    const outcomes = [...OUTCOMES].reverse();
    const barPaths = uPlot.paths.bars({ size: [0.85, 24] });
    const calls = new uPlot(
      {
        width: chartWidth(callsEl),
        height: 220,
        series: [{}, ...outcomes.map((o) => ({ label: S.outcomes[o], stroke: COLOURS[o], fill: COLOURS[o], paths: barPaths, points: { show: false } }))],
        axes: [{ values: clock }, { size: 40 }],
        scales: { x: { time: false } },
        legend: { live: false },
      },
      callsData(state),
      callsEl,
    );
    const abandon = new uPlot(
      {
        width: chartWidth(abandonEl),
        height: 220,
        series: [
          {},
          { label: S.abandon_rate, stroke: "#a4161a", width: 2, spanGaps: false },
          { label: S.target, stroke: "#0b5cad", width: 2, dash: [6, 4], points: { show: false } },
        ],
        axes: [{ values: clock }, { size: 50, values: (u, values) => values.map((v) => pct.format(v)) }],
        scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(0.06, (max || 0) * 1.2)] } },
        legend: { live: false },
      },
      abandonData(state),
      abandonEl,
    );
    window.addEventListener("resize", () => {
      calls.setSize({ width: chartWidth(callsEl), height: 220 });
      abandon.setSize({ width: chartWidth(abandonEl), height: 220 });
    });
    return { calls, abandon };
  }

  function callsData(state) {
    const stacks = [];
    let below = state.chart.minutes.map(() => 0);
    for (const outcome of OUTCOMES) {
      const counts = state.chart.calls[outcome] || [];
      below = below.map((v, i) => v + (counts[i] || 0));
      stacks.push(below);
    }
    return [state.chart.minutes, ...stacks.reverse()];
  }
  const abandonData = (state) => [
    state.chart.minutes,
    state.chart.abandon,
    state.chart.minutes.map(() => state.chart.target),
  ];

  function drawCharts(state) {
    if (!charts) {
      charts = makeCharts(state);
      return;
    }
    charts.calls.setData(callsData(state));
    charts.abandon.setData(abandonData(state));
  }

  // -- campaigns -----------------------------------------------------------------------------
  function bars(items) {
    const total = items.reduce((acc, i) => acc + i.count, 0);
    if (!total) return h("p", { class: "hint" }, S.nothing_yet);
    return h(
      "ul",
      { class: "bars" },
      items.map((i) => {
        const bar = h("span", { class: `bar ${i.category || ""}` });
        bar.style.width = `${Math.round((100 * i.count) / total)}%`;
        return h("li", {}, h("span", { class: "bar-label" }, i.label), h("span", { class: "bar-track" }, bar), h("span", { class: "bar-count" }, i.count));
      }),
    );
  }

  function zones(lists) {
    if (!lists || !lists.total) return h("p", { class: "hint" }, S.no_lists);
    return h(
      "div",
      {},
      h("p", {}, h("strong", {}, `${S.penetration}: ${rate(lists.penetration)}`), " — ", fill(S.penetration_detail, lists)),
      h(
        "table",
        { class: "zones" },
        h("caption", {}, S.left),
        h("thead", {}, h("tr", {}, [S.zone, S.pending, S.due, S.window].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          lists.zones.map((z) =>
            h("tr", {}, h("th", { scope: "row" }, z.zone), h("td", {}, z.pending), h("td", {}, z.due), h("td", { class: z.open ? "ok" : "" }, z.open ? S.open : S.closed)),
          ),
        ),
      ),
    );
  }

  function campaignCard(c) {
    const a = c.abandon;
    const status = [S.states.talking + " " + c.stations.talking, S.states.ready + " " + c.stations.ready, S.ringing + " " + c.ringing, S.waiting + " " + c.waiting];
    return h(
      "article",
      { class: "campaign card", "aria-labelledby": `campaign-${c.id}` },
      h("h3", { id: `campaign-${c.id}` }, c.name, c.running ? null : h("span", { class: "hint" }, ` — ${S.not_running}`)),
      h("p", {}, status.join(" · "), c.dial_level === null ? "" : ` · ${S.dial_level} ${num.format(c.dial_level)}`),
      h(
        "dl",
        { class: "abandon" },
        h("dt", {}, S.abandon_today),
        h("dd", { class: a.over ? "bad" : "" }, `${rate(a.today)} (${S.target} ${rate(a.target)})`),
        h("dt", {}, S.abandon_30),
        h("dd", {}, rate(a.rolling)),
        h("dt", {}, S.contacts_today),
        h("dd", {}, `${c.contacts_today} (${S.contacts_hour.toLowerCase()} ${c.contacts_last_hour})`),
      ),
      c.throttled ? h("p", { class: "banner warn" }, S.throttled) : null,
      h("h4", {}, S.dispositions),
      bars(c.dispositions),
      c.surveys.length ? h("h4", {}, S.surveys) : null,
      c.surveys.map((q) => [h("p", { class: "survey-question" }, q.prompt), bars(q.answers)]),
      h("h4", {}, S.lists),
      zones(c.lists),
    );
  }

  let drawnCampaigns = "";
  function drawCampaigns(state) {
    // Redrawn only when something in them changed (they hold no controls).
    const key = JSON.stringify(state.campaigns);
    if (key === drawnCampaigns) return;
    drawnCampaigns = key;
    const box = document.getElementById("campaigns");
    if (!state.campaigns.length) box.replaceChildren(h("p", { class: "hint" }, S.no_campaign));
    else box.replaceChildren(...state.campaigns.map(campaignCard));
  }

  function draw(state) {
    drawTotals(state);
    drawStations(state);
    drawCampaigns(state);
    drawCharts(state);
    root.dataset.seq = state.seq;
    document.getElementById("dialer").hidden = state.dialer;
  }

  // -- the link ------------------------------------------------------------------------------
  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/supervisor/ws`);
    const status = document.getElementById("link");
    ws.onopen = () => {
      delay = 1000;
      status.textContent = S.live;
      status.className = "link-state live";
    };
    ws.onmessage = (event) => {
      if (event.data === "pong") return;
      draw(JSON.parse(event.data));
    };
    ws.onclose = () => {
      status.textContent = S.reconnecting;
      status.className = "link-state lost";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  function start() {
    draw(JSON.parse(document.getElementById("state").textContent));
    connect();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
