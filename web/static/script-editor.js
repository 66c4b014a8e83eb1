// The script editor: add, remove and move rows (renumbering the inputs' names), keep the
// "then go to" lists in step with the questions' keys, and refresh the live preview.
// The preview is rendered by the server with the volunteer screen's own rules
// (phonebank/volunteer/script.py): nothing here decides where a branch goes.
"use strict";

(() => {
  const form = document.getElementById("script-form");
  if (!form) return;
  const T = JSON.parse(document.getElementById("editor-strings").textContent);
  const csrf = form.querySelector('input[name="csrf_token"]').value;
  const pane = document.getElementById("preview");
  const status = document.getElementById("preview-status");
  const samples = ["sample_first_name", "sample_last_name", "sample_city"].map((id) => document.getElementById(id));

  // Read by the browser tests: how many previews were asked and shown.
  window.scriptEditor = { asked: 0, shown: 0 };

  // ------------------------------------------------------------ names and numbers
  // An input's name is the chain of the rows around it plus its own part:
  // q-2-opt-0-next is the "next" input of option 0 of question 2.
  function prefixOf(node) {
    const parts = [];
    for (let row = node.closest("[data-item]"); row; row = row.parentElement.closest("[data-item]")) {
      const kind = row.dataset.item;
      const siblings = Array.from(row.parentElement.children).filter((x) => x.dataset.item === kind);
      parts.unshift(`${kind}-${siblings.indexOf(row)}-`);
    }
    return parts.join("");
  }

  function renumber() {
    for (const input of form.querySelectorAll("[data-name]")) {
      const name = prefixOf(input) + input.dataset.name;
      input.name = name;
      input.id = `f-${name}`;
      if (input.hasAttribute("aria-describedby")) input.setAttribute("aria-describedby", `e-${name}`);
    }
    for (const label of form.querySelectorAll("[data-label]")) {
      label.htmlFor = `f-${prefixOf(label)}${label.dataset.label}`;
    }
    for (const error of form.querySelectorAll("[data-error]")) {
      error.id = `e-${prefixOf(error)}${error.dataset.error}`;
    }
    form.querySelectorAll('[data-item="q"]').forEach((block, i) => {
      block.querySelector("[data-number]").textContent = String(i + 1);
    });
  }

  // --------------------------------------------------------- "then go to" lists
  function questions() {
    return Array.from(form.querySelectorAll('[data-item="q"]')).map((block) => ({
      block,
      key: block.querySelector('[data-name="key"]').value.trim(),
      prompt: block.querySelector('[data-name="prompt"]').value.trim(),
    }));
  }

  function short(text) {
    return text.length > 48 ? `${text.slice(0, 47)}…` : text;
  }

  // `renamed`: a key the author just changed, so the branches that named it follow.
  function refreshTargets(renamed = null) {
    const all = questions();
    const keys = all.map((q) => q.key).filter(Boolean);
    for (const select of form.querySelectorAll("select[data-next]")) {
      const own = select.closest('[data-item="q"]').querySelector('[data-name="key"]').value.trim();
      let value = select.value;
      if (renamed && value === renamed.from) value = renamed.to;
      const empty = select.dataset.next === "question" ? T.in_order : select.dataset.next === "option" ? T.as_question : "—";
      const choices = [["", empty], ["end", T.end]];
      for (const q of all) if (q.key && q.key !== own) choices.push([q.key, `${q.key} — ${short(q.prompt)}`]);
      // A target that is gone stays chosen, marked: the check names it, nothing is silently re-routed.
      if (value && value !== "end" && (!keys.includes(value) || value === own)) choices.push([value, `⚠ ${value}`]);
      select.replaceChildren(...choices.map(([v, text]) => new Option(text, v, false, v === value)));
      select.value = value;
    }
  }

  // ------------------------------------------------------------------ rows
  function cloneRow(kind) {
    const template = document.getElementById(`new-${kind}`);
    return template.content.firstElementChild.cloneNode(true);
  }

  function freshKey() {
    const taken = new Set(questions().map((q) => q.key));
    let n = taken.size + 1;
    while (taken.has(`q${n}`)) n += 1;
    return `q${n}`;
  }

  function add(button) {
    const kind = button.dataset.add;
    const scope = kind === "opt" || kind === "branch" ? button.closest('[data-item="q"]') : form;
    const list = scope.querySelector(`[data-list="${kind}"]`);
    const row = cloneRow(kind);
    list.append(row);
    if (kind === "q") row.querySelector('[data-name="key"]').value = freshKey();
    changed();
    const first = kind === "q" ? row.querySelector('[data-name="prompt"]') : row.querySelector("input, select, textarea");
    first.focus();
  }

  function move(button) {
    const row = button.closest("[data-item]");
    const kind = row.dataset.item;
    const up = button.dataset.move === "up";
    let other = up ? row.previousElementSibling : row.nextElementSibling;
    while (other && other.dataset.item !== kind) other = up ? other.previousElementSibling : other.nextElementSibling;
    if (!other) return;
    if (up) other.before(row);
    else other.after(row);
    changed();
    button.focus();
  }

  function remove(button) {
    const row = button.closest("[data-item]");
    if (row.dataset.item === "q" && !window.confirm(T.confirm_remove)) return;
    const list = row.parentElement;
    row.remove();
    changed();
    const next = list.querySelector("[data-item] input, [data-item] select, [data-item] textarea");
    if (next) next.focus();
  }

  function changed() {
    renumber();
    refreshTargets();
    schedule();
  }

  form.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-add], button[data-move], button[data-remove]");
    if (!button) return;
    event.preventDefault();
    if (button.dataset.add) add(button);
    else if (button.dataset.move) move(button);
    else remove(button);
  });

  // A key's last value, to follow a rename.
  form.addEventListener("focusin", (event) => {
    if (event.target.dataset.name === "key" && event.target.closest('[data-item="q"]')) {
      event.target.dataset.was = event.target.value.trim();
    }
  });
  form.addEventListener("input", (event) => {
    const target = event.target;
    if (target.closest('[data-item="q"]') && ["key", "prompt"].includes(target.dataset.name)) {
      let renamed = null;
      if (target.dataset.name === "key" && target.dataset.was !== undefined) {
        renamed = { from: target.dataset.was, to: target.value.trim() };
        target.dataset.was = renamed.to;
      }
      refreshTargets(renamed);
    }
    schedule();
  });
  form.addEventListener("change", schedule);
  for (const input of samples) input.addEventListener("input", schedule);

  // -------------------------------------------------------------------- preview
  let answers = {};
  let outcome = "";
  let timer = null;
  let asked = 0;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  async function refresh() {
    clearTimeout(timer);
    asked += 1;
    const mine = asked;
    window.scriptEditor.asked = mine;
    const body = new URLSearchParams(new FormData(form));
    for (const input of samples) body.set(input.name, input.value);
    body.set("preview_answers", JSON.stringify(answers));
    body.set("preview_outcome", outcome);
    status.textContent = T.updating;
    let response;
    try {
      response = await fetch(form.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrf },
        body,
      });
    } catch (_) {
      if (mine === asked) status.textContent = T.offline;
      return;
    }
    if (mine !== asked) return;  // a newer preview is on its way
    if (response.status === 401 || response.status === 403) {
      status.textContent = T.expired;
      return;
    }
    if (!response.ok) {
      status.textContent = T.offline;
      return;
    }
    const data = await response.json();
    if (mine !== asked) return;
    const focused = document.activeElement && pane.contains(document.activeElement) ? document.activeElement.id : null;
    pane.innerHTML = data.html;
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    status.textContent = "";
    window.scriptEditor.shown = mine;
  }

  function answerOf(set) {
    const kind = set.dataset.kind;
    if (kind === "text") return { text: set.querySelector("textarea").value };
    const picked = Array.from(set.querySelectorAll("input:checked")).map((x) => x.value);
    if (kind === "scale") return picked.length ? { number: Number(picked[0]) } : null;
    return { options: picked };
  }

  pane.addEventListener("change", (event) => {
    const set = event.target.closest("fieldset[data-key]");
    if (!set || set.dataset.kind === "text") return;
    answers[set.dataset.key] = answerOf(set);
    refresh();
  });
  // Free text never changes the way on: kept, sent with the next preview.
  pane.addEventListener("input", (event) => {
    const set = event.target.closest('fieldset[data-kind="text"]');
    if (set) answers[set.dataset.key] = answerOf(set);
  });
  pane.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-outcome], button[data-restart]");
    if (!button) return;
    if (button.dataset.outcome !== undefined) {
      outcome = outcome === button.dataset.outcome ? "" : button.dataset.outcome;
    } else {
      answers = {};
      outcome = "";
    }
    refresh();
  });

  renumber();
  refreshTargets();
})();
