// Admin pages: follow a list import until it ends (the page works without it after a reload).
"use strict";
(function () {
  const box = document.getElementById("import-job");
  if (!box) return;
  const url = box.dataset.statusUrl;
  function show(status) {
    box.dataset.state = status.state;
    document.getElementById("import-progress").value = status.fraction;
    document.getElementById("import-rows").textContent = status.rows;
    for (const part of box.querySelectorAll("[data-when]")) {
      part.hidden = part.dataset.when !== status.state;
    }
    if (status.state === "failed") {
      document.getElementById("import-error").textContent = status.error;
    }
    if (status.state === "done") {
      for (const cell of box.querySelectorAll("[data-key]")) {
        const value = status.summary[cell.dataset.key];
        cell.textContent = value === undefined || value === null ? "" : value;
      }
      document.getElementById("import-rejected").textContent = status.rejected;
      document.getElementById("import-rejects").hidden = status.rejected === 0;
      document.getElementById("import-summary").hidden = false;
    }
  }
  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const status = await response.json();
        show(status);
        if (status.state !== "running") return;
      }
    } catch (err) {
      // A network hiccup: try again below.
    }
    setTimeout(poll, 500);
  }
  if (box.dataset.state === "running") poll();
})();
