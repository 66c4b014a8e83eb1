// Follow-up send form: a live count of the SMS text (characters, alphabet, parts) with the
// GSM 7-bit tables the page was given by the server, which counts again on preview.
"use strict";
(function () {
  const text = document.getElementById("f-text");
  const out = document.getElementById("sms-count");
  if (!text || !out) return;
  const gsm = JSON.parse(text.dataset.gsm);
  const basic = new Set(gsm.basic);
  const extension = new Set(gsm.extension);
  const [gsmSingle, gsmPart, ucsSingle, ucsPart] = gsm.limits;

  function count(value) {
    const chars = Array.from(value);
    let gsmUnits = 0;
    let isGsm = true;
    for (const c of chars) {
      if (basic.has(c)) gsmUnits += 1;
      else if (extension.has(c)) gsmUnits += 2;
      else { isGsm = false; break; }
    }
    // UTF-16 code units: an emoji outside the BMP takes two.
    const units = isGsm ? gsmUnits : value.length;
    const single = isGsm ? gsmSingle : ucsSingle;
    const part = isGsm ? gsmPart : ucsPart;
    const parts = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
    return { chars: chars.length, isGsm, parts };
  }

  function show() {
    const c = count(text.value);
    out.textContent = out.dataset.format
      .replace("{chars}", String(c.chars))
      .replace("{alphabet}", c.isGsm ? out.dataset.gsm7 : out.dataset.ucs2)
      .replace("{parts}", String(c.parts));
    out.dataset.alphabet = c.isGsm ? "gsm7" : "ucs2";
    out.dataset.parts = String(c.parts);
  }

  text.addEventListener("input", show);
  show();
})();
