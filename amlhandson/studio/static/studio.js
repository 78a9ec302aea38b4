// AML Studio (local): the few things the pages do in the browser.
// Data from the API is always put into the page with textContent, never as HTML;
// the only HTML inserted is the server's own escaped rendering of the run page.
"use strict";

(function () {
  function cookie(name) {
    const m = document.cookie.match("(?:^|; )" + name + "=([^;]*)");
    return m ? decodeURIComponent(m[1]) : "";
  }

  async function call(method, url, body) {
    const headers = { "X-XSRFToken": cookie("_xsrf") };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(url, { method, headers, body, credentials: "same-origin" });
    let data = null;
    const text = await resp.text();
    try { data = JSON.parse(text); } catch (e) { data = { message: text }; }
    return { ok: resp.ok, status: resp.status, data };
  }

  function show(el, text, isError) {
    el.hidden = false;
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  }

  // -- create a workspace ------------------------------------------------------------------
  function initCreate() {
    const form = document.getElementById("create-form");
    if (!form) return;
    const out = document.getElementById("create-result");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = {};
      new FormData(form).forEach((v, k) => { body[k] = v; });
      const r = await call("POST", form.dataset.api, JSON.stringify(body));
      if (!r.ok) { show(out, "作成できませんでした: " + r.data.message, true); return; }
      const studio = document.body.dataset.studio;
      const base = studio + "ws/" + encodeURIComponent(r.data.resourceGroup) + "/" + encodeURIComponent(r.data.name) + "/";
      out.hidden = false;
      out.classList.remove("error");
      out.textContent = "ワークスペース " + r.data.name + " (resource group " + r.data.resourceGroup + ") を作成しました。 ";
      const open = document.createElement("a");
      open.href = base; open.textContent = "開く"; open.id = "open-created";
      const cfg = document.createElement("a");
      cfg.href = studio + "api/ws/" + encodeURIComponent(r.data.resourceGroup) + "/" + encodeURIComponent(r.data.name) + "/config.json";
      cfg.textContent = "config.json をダウンロード"; cfg.setAttribute("download", "config.json");
      out.append(open, " · ", cfg);
    });
  }

  // -- runs table: select and compare -----------------------------------------------------
  function initCompare() {
    const button = document.getElementById("compare-button");
    if (!button) return;
    const picks = () => Array.from(document.querySelectorAll("input.pick:checked")).map((c) => c.value);
    const update = () => {
      const n = picks().length;
      button.disabled = n < 2;
      button.textContent = n ? "選んだ " + n + " 個の Run を比較" : "選んだ Run を比較";
    };
    document.addEventListener("change", (ev) => {
      if (ev.target.id === "select-all") {
        document.querySelectorAll("input.pick").forEach((c) => { c.checked = ev.target.checked; });
      }
      if (ev.target.matches("input.pick, #select-all")) update();
    });
    button.addEventListener("click", () => {
      location.href = button.dataset.compare + "?runs=" + encodeURIComponent(picks().join(","));
    });
    update();
  }

  // -- run page: live refresh while the run is not finished --------------------------------
  function initLive() {
    const body = document.body;
    if (!body.dataset.poll || body.dataset.terminal === "1") return;
    let interval = 2000;
    let stopped = false;
    async function tick() {
      if (stopped) return;
      const started = performance.now();
      try {
        const r = await call("GET", body.dataset.poll);
        if (r.ok && (r.data.version !== body.dataset.version || r.data.is_terminal)) {
          const html = await fetch(body.dataset.live, { credentials: "same-origin" });
          if (html.ok) {
            document.getElementById("live").innerHTML = await html.text();
            body.dataset.version = r.data.version;
            body.dataset.refreshed = String(Number(body.dataset.refreshed || 0) + 1);
          }
          if (r.data.is_terminal) { stopped = true; body.dataset.terminal = "1"; return; }
        }
      } catch (e) { /* the server may be restarting: try again later */ }
      // a slow answer (a huge run) makes the page poll less often
      interval = Math.max(2000, Math.min(30000, 10 * (performance.now() - started)));
      setTimeout(tick, document.hidden ? interval * 5 : interval);
    }
    setTimeout(tick, interval);
  }

  // -- metric values, one page at a time ----------------------------------------------------
  async function showValues(api, offset) {
    const box = document.getElementById("values");
    const r = await call("GET", api + "?offset=" + offset + "&limit=100");
    if (!r.ok) { show(box, r.data.message, true); return; }
    box.hidden = false;
    box.replaceChildren();
    const title = document.createElement("h3");
    title.textContent = r.data.name + " (" + (r.data.offset + 1) + "–" + Math.min(r.data.offset + r.data.limit, r.data.total) + " / " + r.data.total + ")";
    const table = document.createElement("table");
    table.className = "grid";
    const head = table.createTHead().insertRow();
    ["index"].concat(r.data.columns).forEach((c) => { const th = document.createElement("th"); th.textContent = c; head.append(th); });
    const tbody = table.createTBody();
    r.data.items.forEach((item, i) => {
      const row = tbody.insertRow();
      const cells = [r.data.offset + i].concat(typeof item === "object" && item !== null ? r.data.columns.map((c) => item[c]) : [item]);
      cells.forEach((c) => { row.insertCell().textContent = c === null ? "null" : String(c); });
    });
    box.append(title);
    if (r.data.offset > 0) box.append(pager("← 前へ", api, Math.max(0, r.data.offset - r.data.limit)));
    if (r.data.offset + r.data.limit < r.data.total) box.append(pager("次へ →", api, r.data.offset + r.data.limit));
    box.append(table);
  }
  function pager(label, api, offset) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "link"; b.textContent = " " + label + " ";
    b.addEventListener("click", () => showValues(api, offset));
    return b;
  }

  // -- explicit actions (delegated: the live part of the run page is replaced) ---------------
  function initActions() {
    document.addEventListener("click", async (ev) => {
      const t = ev.target;
      const flash = document.getElementById("flash");
      if (t.classList.contains("show-values")) { showValues(t.dataset.api, 0); }
      if (t.id === "cancel-run" && confirm("この Run をキャンセルしますか?")) {
        const r = await call("POST", t.dataset.api);
        show(flash, r.ok ? "キャンセルしました。" : "キャンセルできませんでした: " + r.data.message, !r.ok);
      }
      if (t.id === "delete-service" && confirm("このサービスを削除しますか? (プロセスを止めて、記録も消します)")) {
        const r = await call("DELETE", t.dataset.api);
        if (r.ok) { location.href = t.dataset.back; } else { show(flash, "削除できませんでした: " + r.data.message, true); }
      }
    });
    const score = document.getElementById("score-form");
    if (score) {
      score.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const out = document.getElementById("score-result");
        show(out, "送信中…", false);
        const r = await call("POST", score.dataset.api, score.elements.body.value);
        if (!r.ok) { show(out, "送れませんでした: " + r.data.message, true); return; }
        const answer = r.data.json !== null ? JSON.stringify(r.data.json, null, 2) : r.data.body;
        show(out, "HTTP " + r.data.status + " (" + r.data.elapsed_ms + " ms)\n" + answer, r.data.status !== 200);
        out.dataset.status = String(r.data.status);
      });
    }
  }

  // -- zoom: drag across a series chart to redraw that range on the server ---------------------
  function initZoom() {
    let drag = null;
    const index = (box, clientX) => {
      const svg = box.querySelector("svg");
      const [x0, x1] = svg.dataset.x.split(" ").map(Number);
      const [p0, p1] = svg.dataset.px.split(" ").map(Number);
      const rect = svg.getBoundingClientRect();
      const px = (clientX - rect.left) * (svg.viewBox.baseVal.width / rect.width);
      return x0 + (px - p0) / (p1 - p0) * (x1 - x0);
    };
    const load = async (box, query) => {
      const r = await call("GET", box.dataset.chart + query);
      if (r.ok && r.data.svg) box.innerHTML = r.data.svg;  // the server's escaped SVG
    };
    document.addEventListener("mousedown", (ev) => {
      const box = ev.target.closest && ev.target.closest(".zoomable");
      if (box && box.querySelector("svg[data-x]")) {
        drag = { box, from: index(box, ev.clientX), x: ev.clientX };
        ev.preventDefault();
      }
    });
    document.addEventListener("mouseup", (ev) => {
      if (!drag) return;
      const { box, from, x } = drag;
      drag = null;
      if (Math.abs(ev.clientX - x) < 6) return;  // a click (or a double click), not a drag
      const to = index(box, ev.clientX);
      const start = Math.max(0, Math.floor(Math.min(from, to)) - 1);
      const end = Math.ceil(Math.max(from, to));
      if (end - start >= 2) load(box, "?start=" + start + "&end=" + end);
    });
    document.addEventListener("dblclick", (ev) => {
      const box = ev.target.closest && ev.target.closest(".zoomable");
      if (box) load(box, "");
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    initCreate(); initCompare(); initLive(); initActions(); initZoom();
  });
})();
