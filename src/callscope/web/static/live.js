// callscope live board: keeps /live current from the page's own server-sent events
// (/live/stream, narrowed to what the signed-in user may see) and ticks the durations each second.
"use strict";

(function () {
  const words = JSON.parse(document.getElementById("live-words").textContent);
  const locale = document.documentElement.dataset.locale || "en-GB";
  const status = document.getElementById("live-status");
  let received = Date.now();

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return fill(words.units.s, { n: s });
    if (s < 3600) return fill(words.units.min_s, { m: Math.floor(s / 60), s: String(s % 60).padStart(2, "0") });
    return fill(words.units.h_min, { h: Math.floor(s / 3600), m: String(Math.floor((s % 3600) / 60)).padStart(2, "0") });
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone: words.tz });
  }

  function detail(card) {
    const parts = [];
    if (card.state === "on_call" && card.with) parts.push(fill(words.with, { number: card.with }));
    else if (card.state === "ringing" && card.with) parts.push(fill(words.from, { number: card.with }));
    else if (card.state === "paused" && card.reason) parts.push(words.reasons[card.reason] || card.reason);
    else if (card.state === "offline" && card.since) parts.push(fill(words.since, { time: clock(card.since) }));
    if (card.queue && (card.state === "on_call" || card.state === "ringing")) {
      parts.push(fill(words.queue, { queue: card.queue }));
    }
    return parts.length ? parts.join(" · ") : "—";
  }

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function timed(seconds) {
    const td = cell(seconds === null || seconds === undefined ? "—" : duration(seconds), "num");
    td.dataset.for = seconds === null || seconds === undefined ? "" : seconds;
    return td;
  }

  function empty(columns, text) {
    const tr = document.createElement("tr");
    tr.className = "none";
    const td = cell(text, "empty");
    td.colSpan = columns;
    tr.appendChild(td);
    return tr;
  }

  function drawAgents(board) {
    const body = document.querySelector("#live-agents tbody");
    const before = {};
    body.querySelectorAll("tr[data-agent]").forEach(function (tr) { before[tr.dataset.agent] = tr.dataset.state; });
    const rows = board.agents.map(function (card) {
      const tr = document.createElement("tr");
      tr.dataset.agent = card.agent;
      tr.dataset.state = card.state;
      if (before[card.agent] !== undefined && before[card.agent] !== card.state) tr.className = "flash";
      tr.appendChild(cell(card.name));
      const state = document.createElement("td");
      const badge = document.createElement("span");
      badge.className = "state " + card.state;
      badge.textContent = words.states[card.state] || card.state;
      state.appendChild(badge);
      if (detail(card) !== "—") {
        const small = document.createElement("div");
        small.className = "phone-only";
        small.textContent = detail(card);
        state.appendChild(small);
      }
      tr.appendChild(state);
      tr.appendChild(cell(detail(card), "detail wide-only"));
      tr.appendChild(timed(card.for_s));
      return tr;
    });
    body.replaceChildren.apply(body, rows.length ? rows : [empty(4, words.nobody)]);
  }

  function drawQueues(board) {
    const body = document.querySelector("#live-queues tbody");
    const rows = board.queues.map(function (q) {
      const tr = document.createElement("tr");
      tr.dataset.queue = q.queue;
      tr.appendChild(cell(q.queue));
      tr.appendChild(cell(String(q.waiting), "num"));
      tr.appendChild(q.waiting ? timed(q.longest_wait_s) : cell("—", "num"));
      return tr;
    });
    body.replaceChildren.apply(body, rows.length ? rows : [empty(3, words.no_queue)]);
  }

  function drawCounts(board) {
    Object.keys(board.counts).forEach(function (state) {
      const box = document.querySelector('[data-count="' + state + '"] .value');
      if (box) box.textContent = board.counts[state];
    });
  }

  function tick() {
    const gone = (Date.now() - received) / 1000;
    document.querySelectorAll("td[data-for]").forEach(function (td) {
      if (td.dataset.for === "") return;
      td.textContent = duration(parseFloat(td.dataset.for) + gone);
    });
  }

  function connect() {
    if (status.dataset.state === "off" || typeof EventSource === "undefined") return;
    const stream = new EventSource("/live/stream");
    stream.addEventListener("open", function () {
      status.dataset.state = "live";
      status.textContent = words.live;
    });
    stream.addEventListener("board", function (event) {
      const board = JSON.parse(event.data);
      received = Date.now();
      drawCounts(board);
      drawAgents(board);
      drawQueues(board);
      document.body.dataset.boardVersion = board.version;
    });
    stream.addEventListener("error", function () {
      // EventSource reconnects by itself; say so until it does
      status.dataset.state = "lost";
      status.textContent = words.lost;
    });
  }

  connect();
  setInterval(tick, 1000);
})();
