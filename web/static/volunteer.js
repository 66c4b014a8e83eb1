// The volunteer screen: call pops over a WebSocket, the branching survey, outcomes
// saved before the screen moves on. Nothing recorded is ever dropped: an outcome
// goes to localStorage first and leaves it only once the server has it (a resend
// with the same client_request_id records once).
"use strict";

(() => {
  const root = document.getElementById("volunteer");
  if (!root) return;
  const T = JSON.parse(document.getElementById("strings").textContent);
  const page = root.dataset.page;
  const csrf = root.dataset.csrf;
  // Dates in the page's language, on a 24-hour clock as the phone bank speaks.
  const lang = root.dataset.lang === "en" ? "en-GB" : "fr-FR";
  const userId = root.dataset.user;
  const OUTBOX = `phonebank.outbox.${userId}`;
  const CURRENT = `phonebank.card.${userId}`;
  const $ = (id) => document.getElementById(id);

  // Timing marks read by the benchmark and the browser tests.
  window.phonebank = { pops: [], saved: [], state: "paused" };

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-") || key.startsWith("aria-") || key === "for") node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) node.append(child);
    return node;
  }

  function banner(text, kind = "info", link = null) {
    const box = $("banner");
    box.replaceChildren();
    box.className = `banner ${kind}`;
    if (!text) return;
    box.append(el("span", { text }));
    if (link) box.append(" ", el("a", { href: link.href, text: link.text }));
  }

  function randomId() {
    // crypto.randomUUID needs a secure context; a LAN http:// address is not one.
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { data = {}; }
    return { status: response.status, ok: response.ok, data };
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let data = {};
    try { data = await response.json(); } catch (_) { data = {}; }
    return { status: response.status, ok: response.ok, data };
  }

  // ---------------------------------------------------------------- state & timer
  let state = "paused";
  let stateSince = Date.now();
  let pauseAfterCall = false;

  function setState(next) {
    state = next;
    window.phonebank.state = next;
    stateSince = Date.now();
    const pill = $("mode");
    if (pill) {
      pill.textContent = T[next] || next;
      pill.className = `pill ${next}`;
    }
    if ($("ready")) {
      $("ready").disabled = next !== "paused";
      $("pause").disabled = next === "paused";
    }
    const idle = $("idle-text");
    if (idle && (next === "ready" || next === "paused")) {
      idle.textContent = next === "ready" ? T.waiting_ready : T.waiting_paused;
    }
    tick();
  }

  function tick() {
    const timer = $("timer");
    if (!timer) return;
    const seconds = Math.floor((Date.now() - stateSince) / 1000);
    const m = Math.floor(seconds / 60);
    const s = String(seconds % 60).padStart(2, "0");
    timer.textContent = m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }
  setInterval(tick, 1000);

  async function reportMode(mode) {
    const result = await postJSON("/station/mode", { mode }).catch(() => null);
    if (result === null) { banner(T.errors.network, "bad"); return false; }
    if (result.status === 401 || result.status === 403) { expired(); return false; }
    return result.ok;
  }

  // ---------------------------------------------------------------- time zones
  function zoneOffsetMinutes(tz, date) {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(date);
    const v = Object.fromEntries(parts.map((p) => [p.type, p.value]));
    const asUTC = Date.UTC(+v.year, +v.month - 1, +v.day, +v.hour, +v.minute, +v.second);
    return (asUTC - date.getTime()) / 60000;
  }

  function zonedToDate(local, tz) {
    const [day, time] = local.split("T");
    const [y, mo, d] = day.split("-").map(Number);
    const [h, mi] = time.split(":").map(Number);
    const guess = Date.UTC(y, mo - 1, d, h, mi);
    const first = zoneOffsetMinutes(tz, new Date(guess));
    const second = zoneOffsetMinutes(tz, new Date(guess - first * 60000));
    return new Date(guess - second * 60000);
  }

  function formatIn(date, tz) {
    return new Intl.DateTimeFormat(lang, { timeZone: tz, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);
  }

  const myZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  // ---------------------------------------------------------------- the card
  let card = null;
  let answers = {};
  let chosen = null;
  let requestId = null;

  function show(section, visible) { if (section) section.hidden = !visible; }

  function showCard(next, kind) {
    card = next;
    answers = {};
    chosen = null;
    requestId = randomId();
    const c = card.contact;
    $("card-kicker").textContent = T[kind] || "";
    $("contact-name").textContent = `${c.first_name} ${c.last_name}`.trim();
    $("contact-age").textContent = c.age === null ? T.unknown : T.age.replace("{age}", c.age);
    $("contact-city").textContent = [c.postal_code, c.city].filter(Boolean).join(" ") || T.unknown;
    $("contact-precinct").textContent = c.precinct || T.unknown;
    $("contact-support").textContent = T.support[c.support_level] || c.support_level;
    $("contact-phone").textContent = card.phone.e164 || T.unknown;
    $("contact-time").textContent = `${formatIn(new Date(), card.phone.time_zone)} (${card.phone.time_zone})`;
    renderHistory();
    renderScript();
    renderSurvey();
    renderDispositions();
    $("notes").value = "";
    $("consent-email").checked = false;
    $("consent-sms").checked = false;
    $("callback-date").value = "";
    $("callback-time").value = "";
    $("callback-zone").textContent = card.phone.time_zone;
    $("callback-mine").textContent = "";
    show($("callback-box"), false);
    show($("outcome-error"), false);
    $("closing").hidden = true;
    const briefing = $("briefing-text");
    briefing.replaceChildren(...paragraphs(card.campaign.briefing));
    const preview = kind === "preview";
    show($("preview-actions"), preview);
    document.querySelector(".outcome").hidden = preview;
    show($("idle"), false);
    show($("card"), true);
  }

  function paragraphs(text) {
    return (text || "").split(/\n{2,}/).filter(Boolean).map((p) => el("p", { text: p }));
  }

  function clearCard() {
    card = null;
    localStorage.removeItem(CURRENT);
    show($("card"), false);
    show($("idle"), true);
  }

  function renderHistory() {
    const list = $("history");
    list.replaceChildren();
    $("history-count").textContent = String(card.history.length);
    if (!card.history.length) list.append(el("li", { text: T.no_history }));
    for (const h of card.history) {
      const when = new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(new Date(h.at));
      const item = el("li", {}, el("strong", { text: `${when} · ${T.channels[h.channel] || h.channel} · ${h.disposition}` }));
      if (h.notes) item.append(el("p", { text: h.notes }));
      if (h.answers.length) {
        const dl = el("dl", { class: "answers" });
        for (const a of h.answers) dl.append(el("dt", { text: a.question }), el("dd", { text: a.value }));
        item.append(dl);
      }
      list.append(item);
    }
  }

  function renderScript() {
    $("script-opening").textContent = card.script.opening;
    const box = $("script-sections");
    box.replaceChildren();
    for (const s of card.script.sections) {
      box.append(el("h3", { text: s.title }), ...paragraphs(s.text));
    }
  }

  // ------------------------------------------------------------- branching survey
  // The same rules as phonebank/volunteer/script.py: next_question.
  function nextQuestion(key) {
    const qs = card.survey;
    const index = qs.findIndex((q) => q.key === key);
    if (index < 0) return null;
    const q = qs[index];
    const a = answers[key];
    let target = null;
    if (a) {
      if (q.kind === "single" || q.kind === "multiple") {
        const hit = q.options.find((o) => (a.options || []).includes(o.value) && o.next);
        target = hit ? hit.next : null;
      } else if (q.kind === "scale" && typeof a.number === "number") {
        const branch = q.branches.find((b) => b.from <= a.number && a.number <= b.to);
        target = branch ? branch.next : null;
      }
    }
    target = target || q.next;
    if (target === "end") return null;
    if (target && qs.some((other) => other.key === target)) return target;
    return index + 1 < qs.length ? qs[index + 1].key : null;
  }

  function answered(q) {
    const a = answers[q.key];
    if (!a) return q.kind === "text";  // a free-text question may be left empty
    if (q.kind === "scale") return typeof a.number === "number";
    if (q.kind === "text") return true;
    return (a.options || []).length > 0;
  }

  function path() {
    const seen = [];
    let key = card.survey.length ? card.survey[0].key : null;
    while (key && !seen.includes(key)) {
      seen.push(key);
      const q = card.survey.find((x) => x.key === key);
      if (!answered(q)) break;
      key = nextQuestion(key);
    }
    return seen;
  }

  function renderSurvey(focusId) {
    const box = $("survey");
    box.replaceChildren();
    const keys = path();
    for (const key of keys) box.append(questionBlock(card.survey.find((q) => q.key === key)));
    const last = card.survey.find((q) => q.key === keys[keys.length - 1]);
    if (last && answered(last) && nextQuestion(last.key) === null) {
      box.append(el("p", { class: "done", text: T.survey_done }));
    }
    if (!card.survey.length) box.append(el("p", { class: "hint", text: "—" }));
    if (focusId && $(focusId)) $(focusId).focus();
  }

  function questionBlock(q) {
    const set = el("fieldset", { class: "question", "data-key": q.key });
    const legend = el("legend", { text: q.prompt });
    if (q.required) legend.append(" ", el("span", { class: "req", text: `(${T.required})` }));
    set.append(legend);
    const a = answers[q.key] || {};
    const name = `q-${q.key}`;
    if (q.kind === "single" || q.kind === "multiple") {
      q.options.forEach((o, i) => {
        const id = `${name}-${i}`;
        const input = el("input", { type: q.kind === "single" ? "radio" : "checkbox", name, id, value: o.value });
        input.checked = (a.options || []).includes(o.value);
        input.addEventListener("change", () => {
          const picked = Array.from(set.querySelectorAll("input:checked")).map((x) => x.value);
          answers[q.key] = { options: picked };
          renderSurvey(id);
        });
        set.append(el("label", { class: "choice", for: id }, input, ` ${o.label}`));
      });
    } else if (q.kind === "scale") {
      const row = el("div", { class: "scale" });
      for (let n = q.min; n <= q.max; n += 1) {
        const id = `${name}-${n}`;
        const input = el("input", { type: "radio", name, id, value: String(n) });
        input.checked = a.number === n;
        input.addEventListener("change", () => { answers[q.key] = { number: n }; renderSurvey(id); });
        row.append(el("label", { class: "choice", for: id }, input, ` ${n}`));
      }
      set.append(row);
    } else {
      const id = `${name}-text`;
      const area = el("textarea", { id, rows: 2, maxLength: 2000 });
      area.value = a.text || "";
      area.setAttribute("aria-label", q.prompt);
      area.addEventListener("input", () => { answers[q.key] = { text: area.value }; });
      set.append(area);
    }
    return set;
  }

  function surveyAnswers() {
    const out = [];
    for (const key of path()) {
      const a = answers[key];
      const q = card.survey.find((x) => x.key === key);
      if (!a) continue;
      if (q.kind === "text") { if ((a.text || "").trim()) out.push({ key, text: a.text.trim() }); }
      else if (q.kind === "scale") out.push({ key, number: a.number });
      else if ((a.options || []).length) out.push({ key, options: a.options });
    }
    return out;
  }

  // ---------------------------------------------------------------- dispositions
  function renderDispositions() {
    const box = $("dispositions");
    box.replaceChildren();
    for (const d of card.dispositions) {
      const button = el("button", { type: "button", class: `disposition ${d.category}`, "data-code": d.code, "aria-pressed": "false" });
      if (d.key) button.append(el("kbd", { text: d.key.toUpperCase() }), " ");
      button.append(d.label);
      if (d.key) button.setAttribute("aria-keyshortcuts", d.key);
      button.addEventListener("click", () => choose(d.code));
      box.append(button);
    }
  }

  function choose(code) {
    const d = card.dispositions.find((x) => x.code === code);
    if (!d) return;
    chosen = d;
    for (const b of $("dispositions").querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(b.dataset.code === code));
    }
    const closings = card.script.closings;
    const line = closings[d.code] || closings[d.category] || closings.default || "";
    $("closing").textContent = line;
    $("closing").hidden = !line;
    show($("callback-box"), d.callback);
    show($("outcome-error"), false);
    if (d.callback && !$("callback-date").value) {
      const tomorrow = new Date(Date.now() + 86400000);
      $("callback-date").value = new Intl.DateTimeFormat("en-CA", { timeZone: card.phone.time_zone }).format(tomorrow);
      $("callback-time").value = "18:00";
      updateCallbackMine();
    }
  }

  function callbackLocal() {
    const day = $("callback-date").value;
    const time = $("callback-time").value;
    return day && time ? `${day}T${time}` : "";
  }

  function updateCallbackMine() {
    const local = callbackLocal();
    if (!local || !card) { $("callback-mine").textContent = ""; return; }
    const when = zonedToDate(local, card.phone.time_zone);
    $("callback-mine").textContent = `${T.your_time} ${formatIn(when, myZone)} (${myZone})`;
  }
  $("callback-date").addEventListener("input", updateCallbackMine);
  $("callback-time").addEventListener("input", updateCallbackMine);

  // ---------------------------------------------------------------- outbox
  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (_) { return []; }
  }
  function keep(items) { localStorage.setItem(OUTBOX, JSON.stringify(items)); }
  function remove(id) { keep(outbox().filter((x) => x.client_request_id !== id)); }

  let isExpired = false;
  function expired() {
    isExpired = true;
    const back = page === "door" ? "/door" : "/station";
    banner(T.expired, "bad", { href: `/login?next=${encodeURIComponent(back)}`, text: T.login_again });
  }

  // Sends one outcome; "saved" | "expired" | "offline" | "refused".
  async function send(payload) {
    let result;
    try { result = await postJSON("/outcomes", payload); } catch (_) { return { verdict: "offline" }; }
    if (result.ok) {
      remove(payload.client_request_id);
      window.phonebank.saved.push({ id: payload.client_request_id, outcome: result.data.outcome_id, created: result.data.created });
      return { verdict: "saved", data: result.data };
    }
    if (result.status === 401 || result.status === 403) return { verdict: "expired" };
    if (result.status >= 500) return { verdict: "offline" };
    return { verdict: "refused", error: result.data.error || "bad_request" };
  }

  let flushing = false;
  async function flush() {
    if (flushing || isExpired) return;
    flushing = true;
    try {
      for (const item of outbox()) {
        if (item.refused) continue;
        const result = await send(item);
        if (result.verdict === "saved") banner(T.saved_later, "ok");
        else if (result.verdict === "expired") { expired(); break; }
        else if (result.verdict === "offline") break;
        else {
          keep(outbox().map((x) => (x.client_request_id === item.client_request_id ? { ...x, refused: result.error } : x)));
          banner(`${T.failed} ${T.errors[result.error] || result.error}`, "bad");
        }
      }
    } finally { flushing = false; }
  }
  setInterval(flush, 4000);

  async function save() {
    if (!card) return;
    if (!chosen) { fail("choose_disposition_local"); return; }
    const payload = {
      client_request_id: requestId,
      disposition: chosen.code,
      notes: $("notes").value,
      answers: surveyAnswers(),
      consent: { email: $("consent-email").checked, sms: $("consent-sms").checked },
      // The answers are checked against the script version this card showed.
      script_id: card.script ? card.script.id : null,
    };
    if (chosen.callback) {
      const local = callbackLocal();
      if (!local) { fail("callback_needed_local"); return; }
      payload.callback = { local };
    }
    if (card.type === "door") {
      payload.channel = "door";
      payload.campaign_id = card.campaign.id;
      payload.contact_id = card.contact.id;
    } else {
      payload.channel = "phone";
      payload.attempt_id = card.attempt_id;
    }
    payload.label = `${card.contact.first_name} ${card.contact.last_name}`;
    // On this device first: a crash, a closed tab or an expired session loses nothing.
    keep([...outbox().filter((x) => x.client_request_id !== requestId), payload]);
    $("save").disabled = true;
    const result = await send(payload);
    $("save").disabled = false;
    if (result.verdict === "saved") {
      banner(T.saved, "ok");
      afterSave();
    } else if (result.verdict === "expired") {
      expired();
    } else if (result.verdict === "offline") {
      banner(T.not_saved, "warn");
      afterSave();
    } else {
      remove(payload.client_request_id);  // nothing was recorded: the form stays to be fixed
      fail(result.error);
    }
  }

  function fail(code) {
    const box = $("outcome-error");
    const local = { choose_disposition_local: T.choose_disposition, callback_needed_local: T.callback_needed };
    box.textContent = local[code] || T.errors[code] || code;
    box.hidden = false;
  }

  async function afterSave() {
    clearCard();
    if (page !== "station") { $("door-name").focus(); return; }
    const next = pauseAfterCall ? "paused" : "ready";
    pauseAfterCall = false;
    if (await reportMode(next)) setState(next);
  }

  $("save").addEventListener("click", save);

  // ---------------------------------------------------------------- keyboard
  document.addEventListener("keydown", (event) => {
    if (!card || $("card").hidden || event.altKey || event.ctrlKey || event.metaKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    const typing = tag === "textarea" || (tag === "input" && !["radio", "checkbox"].includes(event.target.type)) || tag === "select";
    if (typing) return;
    if (event.key === "Enter" && chosen && tag !== "button" && document.querySelector(".outcome").hidden === false) {
      event.preventDefault();
      save();
      return;
    }
    const d = card.dispositions.find((x) => x.key && x.key.toLowerCase() === event.key.toLowerCase());
    if (d && document.querySelector(".outcome").hidden === false) {
      event.preventDefault();
      choose(d.code);
    }
  });

  // ---------------------------------------------------------------- briefing
  for (const id of ["briefing-open", "briefing-open-card"]) {
    $(id)?.addEventListener("click", () => $("briefing").showModal());
  }

  // ---------------------------------------------------------------- station page
  function rememberCard() {
    if (card && card.type === "call") localStorage.setItem(CURRENT, JSON.stringify(card));
  }

  function onMessage(message) {
    if (message.type === "hello") {
      banner(T.connected, "ok");
      if (state === "ready") reportMode("ready");
      if (!card) {
        const stored = localStorage.getItem(CURRENT);
        if (stored) {
          // A reloaded page in wrap-up: the call is over but not yet recorded.
          try { showCard(JSON.parse(stored), "wrapup"); setState("wrapup"); } catch (_) { localStorage.removeItem(CURRENT); }
        }
      }
    } else if (message.type === "call") {
      if (card && card.type === "call" && card.attempt_id === message.attempt_id) return;  // a reconnect
      showCard(message, "call");
      setState("call");
      rememberCard();
      window.phonebank.pops.push({ attempt: message.attempt_id, shown: Date.now(), pop_at: message.pop_at, sent_at: message.sent_at });
      $("contact-name").focus();
    } else if (message.type === "ended") {
      if (card && card.attempt_id === message.attempt_id) {
        setState("wrapup");
        banner(T.ended, "info");
      }
    } else if (message.type === "offer") {
      showCard(message, "preview");
      setState("preview");
      $("dial").focus();
    } else if (message.type === "withdrawn") {
      if (card && card.type === "offer" && card.entry_id === message.entry_id) {
        clearCard();
        setState("ready");
      }
    }
  }

  function connect(delay = 500) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/station/ws`);
    socket.addEventListener("message", (event) => {
      if (event.data === "pong") return;
      onMessage(JSON.parse(event.data));
    });
    socket.addEventListener("open", () => { delay = 500; flush(); });
    socket.addEventListener("close", () => {
      if (isExpired) return;
      banner(T.reconnecting, "warn");
      setTimeout(() => connect(Math.min(delay * 2, 5000)), delay);
    });
  }

  if (page === "station") {
    setState("paused");
    $("ready").addEventListener("click", async () => { if (await reportMode("ready")) setState("ready"); });
    $("pause").addEventListener("click", async () => {
      if (state === "call" || state === "wrapup") { pauseAfterCall = true; banner(T.pause_after, "info"); return; }
      if (await reportMode("paused")) { setState("paused"); clearCard(); }
    });
    $("dial").addEventListener("click", async () => {
      if (!card || card.type !== "offer") return;
      const result = await postJSON("/station/dial", { entry_id: card.entry_id }).catch(() => null);
      if (result && result.ok) setState("dialing");
      else banner(T.errors[(result && result.data.error) || "network"], "bad");
    });
    banner(T.connecting, "info");
    connect();
  }

  // ---------------------------------------------------------------- door page
  if (page === "door") {
    const results = $("door-results");
    $("door-search").addEventListener("submit", async (event) => {
      event.preventDefault();
      const params = new URLSearchParams({ campaign: $("door-campaign").value, q: $("door-name").value, city: $("door-city").value });
      const result = await getJSON(`/door/search?${params}`).catch(() => null);
      results.replaceChildren();
      if (!result || !result.ok) { if (result && result.status === 401) expired(); return; }
      if (!result.data.results.length) results.append(el("li", { text: T.no_results }));
      for (const r of result.data.results) {
        const button = el("button", { type: "button", class: "result", text: `${r.last_name} ${r.first_name} — ${[r.address, r.postal_code, r.city].filter(Boolean).join(", ")}` });
        button.addEventListener("click", async () => {
          const got = await getJSON(`/door/contacts/${r.id}?campaign=${encodeURIComponent($("door-campaign").value)}`);
          if (got.ok) { showCard(got.data, "door"); $("contact-name").focus(); }
        });
        results.append(el("li", {}, button));
      }
    });
    flush();
  }
})();
