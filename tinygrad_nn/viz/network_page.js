// The live network page: the forward pass computed here from the embedded weights, in doubles as numpy
// computes it, so the numbers shown are the Python model's. Written by tinygrad_nn.viz.network_page.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";  // a namespace name, not an address: nothing is fetched
  const D = JSON.parse(document.getElementById("page-data").textContent);
  const nan = (a) => (Array.isArray(a) ? a.map(nan) : (a === null ? NaN : a));  // JSON has no NaN: null
  for (const f of D.frames.concat(D.handset ? [D.handset] : [])) {
    for (const key of Object.keys(f)) if (key !== "step" && key !== "cost") f[key] = nan(f[key]);
  }
  const state = { image: D.image.slice(), frame: D.frames.length - 1, source: "trained" };

  const sigmoid = (z) => 1 / (1 + Math.exp(-z));
  const dot = (w, x) => { let s = 0; for (let i = 0; i < w.length; i++) s += w[i] * x[i]; return s; };
  const absMax = (arrays) => arrays.flat(Infinity).reduce((m, v) => (Math.abs(v) > m ? Math.abs(v) : m), 0) || 1;
  const fmt = (v) => (Number.isFinite(v) ? v.toPrecision(8) : String(v));  // 8 significant digits
  // An activation: 8 digits to read, and every digit of the double in data-value (String gives the shortest
  // text that reads back as the same double, as Python's repr does).
  const show = (e, v) => { e.textContent = fmt(v); e.setAttribute("data-value", String(v)); };

  // -- the forward passes ------------------------------------------------------------------------------
  function forwardMLP(frame, x) {
    const acts = [];
    let a = x;
    for (const layer of frame.layers) {
      const inp = a;
      a = layer.weight.map((row, j) => sigmoid(dot(row, inp) + layer.bias[j]));
      acts.push(a);
    }
    return { hidden: acts[0], out: acts[acts.length - 1] };
  }

  function forwardCNN(frame, x) {
    const R = D.rows, C = D.cols, p = D.pool;
    const maps = frame.filters.map((F, c) => {
      const kh = F.length, kw = F[0].length, m = [];
      for (let i = 0; i + kh <= R; i++) {
        const row = [];
        for (let j = 0; j + kw <= C; j++) {
          let s = 0;  // cross-correlation, as Conv2d computes it
          for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) s += F[u][v] * x[(i + u) * C + (j + v)];
          row.push(sigmoid(s + frame.filter_bias[c]));
        }
        m.push(row);
      }
      return m;
    });
    const pooled = maps.map((m) => {
      const out = [];
      for (let i = 0; i + p <= m.length; i += p) {
        const row = [];
        for (let j = 0; j + p <= m[0].length; j += p) {
          let best = -Infinity;
          for (let u = 0; u < p; u++) for (let v = 0; v < p; v++) best = Math.max(best, m[i + u][j + v]);
          row.push(best);
        }
        out.push(row);
      }
      return out;
    });
    const flat = pooled.flat(2);  // channel, row, column: Flatten's order
    const out = frame.weight.map((row, k) => sigmoid(dot(row, flat) + frame.bias[k]));
    return { maps, pooled, out };
  }

  // -- small DOM helpers -------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v; else if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const c of children || []) e.appendChild(c);
    return e;
  }
  const POS = "200, 40, 40", NEG = "40, 90, 200";  // the page's --pos and --neg
  function weightColour(w, scale, alpha) {
    if (!Number.isFinite(w)) return "#ff0";
    const t = alpha === undefined ? Math.min(1, Math.abs(w) / scale) : alpha;
    return `rgba(${w >= 0 ? POS : NEG}, ${t.toFixed(3)})`;
  }
  function inkColour(a) {
    const g = Math.round(255 * (1 - Math.min(1, Math.max(0, a))));
    return Number.isFinite(a) ? `rgb(${g}, ${g}, ${g})` : "#ff0";
  }
  function grid(rows, cols, cls) {
    const g = el("div", { class: "grid" });
    g.style.gridTemplateColumns = `repeat(${cols}, max-content)`;
    const cells = [];
    for (let i = 0; i < rows * cols; i++) { const c = el("div", { class: cls }); g.appendChild(c); cells.push(c); }
    return { g, cells };
  }
  function activationLine(attr, j) {
    const value = el("span", { class: "num", [attr]: String(j) });
    const fill = el("div", { class: "fill" });
    const box = el("div", {}, [el("span", { text: "a = " }), value, el("div", { class: "bar" }, [fill])]);
    return { box, value, fill };
  }

  // -- the page ----------------------------------------------------------------------------------------
  const pixels = document.getElementById("pixels");
  pixels.style.gridTemplateColumns = `repeat(${D.cols}, max-content)`;
  const pixelButtons = D.image.map((_, i) => {
    const r = Math.floor(i / D.cols), c = i % D.cols;
    const b = el("button", { type: "button", class: "pixel", "data-pixel": String(i), "aria-pressed": "false",
                             "aria-label": `pixel row ${r + 1} column ${c + 1}` });
    b.addEventListener("click", () => { state.image[i] = state.image[i] ? 0 : 1; update(); });
    pixels.appendChild(b);
    return b;
  });
  document.getElementById("reset").addEventListener("click", () => { state.image = D.image.slice(); update(); });
  document.getElementById("clear").addEventListener("click", () => { state.image.fill(0); update(); });

  const units = document.getElementById("units");
  const outputs = document.getElementById("outputs");
  const verdict = document.getElementById("verdict");
  const view = { units: [], sources: [] };

  if (D.kind === "mlp") {
    const nHidden = D.frames[0].layers[0].weight.length;
    for (let j = 0; j < nHidden; j++) {
      const title = el("h3");
      const map = grid(D.rows, D.cols, "cell");
      const bias = el("div", { class: "num legend" });
      const act = activationLine("data-hidden", j);
      const card = el("div", { class: "card unit" }, [map.g, el("div", {}, [title, bias, act.box])]);
      units.appendChild(card);
      view.units.push({ title, map, bias, act, card });
      view.sources.push(card);
    }
  } else {
    const nFilters = D.frames[0].filters.length;
    for (let c = 0; c < nFilters; c++) {
      const k = D.frames[0].filters[c].length, kw = D.frames[0].filters[c][0].length;
      const mh = D.rows - k + 1, mw = D.cols - kw + 1;
      const filter = grid(k, kw, "cell"), fmap = grid(mh, mw, "cell small"), pmap = grid(mh / D.pool, mw / D.pool, "cell");
      const title = el("h3", { text: `filter ${c + 1}` });
      const bias = el("div", { class: "num legend" });
      const card = el("div", { class: "card unit" }, [
        el("div", {}, [title, filter.g, bias]), el("span", { class: "arrow", text: "\u2192" }), fmap.g,
        el("span", { class: "arrow", text: "\u2192" }), pmap.g]);
      units.appendChild(card);
      view.units.push({ filter, fmap, pmap, bias, card });
      view.sources.push(...pmap.cells);
    }
  }
  const outs = D.classes.map((name, k) => {
    const act = activationLine("data-output", k);
    const card = el("div", { class: "card out" }, [el("h3", { text: `output "${name}"` }), act.box]);
    outputs.insertBefore(card, verdict);
    return { act, card };
  });

  // Colour scales fixed over the whole run, so that the demons visibly form as the slider moves.
  const scales = {};
  function scaleOf(frames) {
    if (D.kind === "mlp") return { first: absMax(frames.map((f) => f.layers[0].weight)), last: absMax(frames.map((f) => f.layers[1].weight)) };
    return { first: absMax(frames.map((f) => f.filters)), last: absMax(frames.map((f) => f.weight)) };
  }
  scales.trained = scaleOf(D.frames);
  if (D.handset) scales.handset = scaleOf([D.handset]);
  else document.getElementById("handset-choice").style.display = "none";

  // -- the cost curve ----------------------------------------------------------------------------------
  const chart = document.getElementById("cost-chart");
  const slider = document.getElementById("frame");
  const frameLabel = document.getElementById("frame-label");
  slider.max = String(D.frames.length - 1);
  slider.value = String(state.frame);
  slider.addEventListener("input", () => { state.frame = Number(slider.value); update(); });
  for (const radio of document.querySelectorAll('input[name="source"]')) {
    radio.addEventListener("change", () => { state.source = radio.value; update(); });
  }
  const marker = document.createElementNS(SVG, "circle");
  const chartXY = (() => {
    // [step, C_T] pairs: the run's curve (thinned to a few thousand points), else the frames' own costs
    const curve = (D.costs || D.frames.map((f) => [f.step, f.cost])).filter(([, c]) => Number.isFinite(c) && c > 0);
    if (!curve.length) return null;
    const lo = Math.log10(Math.min(...curve.map(([, c]) => c))), hi = Math.log10(Math.max(...curve.map(([, c]) => c)));
    const last = Math.max(1, D.frames[D.frames.length - 1].step);
    const x = (step) => 8 + 304 * (step / last);
    const y = (c) => 8 + 94 * (hi === lo ? 0.5 : (hi - Math.log10(c)) / (hi - lo));
    const pts = curve.map(([s, c]) => `${x(s).toFixed(1)},${y(c).toFixed(1)}`).join(" ");
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", pts);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#1f77b4");
    line.setAttribute("stroke-width", "1.5");
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", "312"); label.setAttribute("y", "20"); label.setAttribute("text-anchor", "end");
    label.setAttribute("font-size", "11"); label.textContent = "C_T (log scale) by step";
    marker.setAttribute("r", "4"); marker.setAttribute("fill", "#d62728");
    const tick = (x, y, text, anchor) => {
      const t = document.createElementNS(SVG, "text");
      t.setAttribute("x", x); t.setAttribute("y", y); t.setAttribute("font-size", "9");
      t.setAttribute("fill", "#666"); t.setAttribute("text-anchor", anchor); t.textContent = text;
      return t;
    };
    chart.append(line, label, marker, tick(10, 17, (10 ** hi).toPrecision(3), "start"),
                 tick(10, 104, (10 ** lo).toPrecision(3), "start"), tick(312, 104, `step ${last}`, "end"));
    return { x, y };
  })();

  // -- the wires from the last hidden values to the outputs -------------------------------------------
  const wires = document.getElementById("wires");
  function drawWires(weight, scale) {
    while (wires.firstChild) wires.removeChild(wires.firstChild);
    const box = wires.getBoundingClientRect();
    const mid = (e, side) => {
      const r = e.getBoundingClientRect();
      return [side === "right" ? 0 : box.width, r.top + r.height / 2 - box.top];
    };
    outs.forEach((o, k) => {
      const [x2, y2] = mid(o.card, "left");
      view.sources.forEach((src, j) => {
        const [x1, y1] = mid(src, "right");
        const w = weight[k][j];
        const line = document.createElementNS(SVG, "line");
        line.setAttribute("x1", x1); line.setAttribute("y1", y1); line.setAttribute("x2", x2); line.setAttribute("y2", y2);
        line.setAttribute("stroke", weightColour(w, scale, 0.85));
        line.setAttribute("stroke-width", (0.5 + 7 * Math.min(1, Math.abs(w) / scale)).toFixed(2));
        const tip = document.createElementNS(SVG, "title");
        tip.textContent = `weight ${j + 1} -> output "${D.classes[k]}": ${fmt(w)}`;
        line.appendChild(tip);
        wires.appendChild(line);
      });
    });
  }

  // -- one update draws everything from the state -----------------------------------------------------
  function currentFrame() { return state.source === "handset" ? D.handset : D.frames[state.frame]; }

  function update() {
    const frame = currentFrame(), scale = scales[state.source], x = state.image;
    pixelButtons.forEach((b, i) => b.setAttribute("aria-pressed", x[i] ? "true" : "false"));
    slider.disabled = state.source === "handset";
    if (state.source === "handset") {
      frameLabel.textContent = "set by hand as the book explains the demons, not trained";
    } else {
      const f = D.frames[state.frame];
      const last = state.frame === D.frames.length - 1 ? " (the final, saved weights)" : "";
      frameLabel.textContent = `after ${f.step} steps: C_T = ${f.cost === null ? "?" : f.cost.toPrecision(6)}${last}`;
      if (chartXY && Number.isFinite(f.cost) && f.cost > 0) {
        marker.setAttribute("cx", chartXY.x(f.step).toFixed(1));
        marker.setAttribute("cy", chartXY.y(f.cost).toFixed(1));
      }
    }
    marker.style.display = state.source === "handset" ? "none" : "";

    let out, lastWeight;
    if (D.kind === "mlp") {
      const r = forwardMLP(frame, x);
      out = r.out;
      const W = frame.layers[0].weight, b = frame.layers[0].bias;
      view.units.forEach((u, j) => {
        u.title.textContent = state.source === "handset" ? `demon ${"ABCDEFGHIJ"[j] || j + 1}` : `hidden unit ${j + 1}`;
        u.map.cells.forEach((c, i) => {
          c.style.background = weightColour(W[j][i], scale.first);
          c.textContent = Number.isFinite(W[j][i]) ? W[j][i].toFixed(1) : "NaN";
          c.title = `weight from pixel ${i + 1}: ${fmt(W[j][i])}`;
        });
        u.bias.textContent = `bias ${fmt(b[j])}`;
        show(u.act.value, r.hidden[j]);
        u.act.fill.style.width = `${(100 * Math.min(1, Math.max(0, r.hidden[j]))) || 0}%`;
        u.card.style.borderColor = inkColour(r.hidden[j]);
      });
      lastWeight = frame.layers[frame.layers.length - 1].weight;
    } else {
      const r = forwardCNN(frame, x);
      out = r.out;
      view.units.forEach((u, c) => {
        const F = frame.filters[c].flat();
        u.filter.cells.forEach((cell, i) => {
          cell.style.background = weightColour(F[i], scale.first);
          cell.textContent = Number.isFinite(F[i]) ? F[i].toFixed(1) : "NaN";
          cell.title = `filter weight: ${fmt(F[i])}`;
        });
        u.bias.textContent = `bias ${fmt(frame.filter_bias[c])}`;
        r.maps[c].flat().forEach((a, i) => { u.fmap.cells[i].style.background = inkColour(a); u.fmap.cells[i].title = fmt(a); });
        r.pooled[c].flat().forEach((a, i) => {
          const cell = u.pmap.cells[i];
          cell.style.background = inkColour(a);
          cell.style.color = a > 0.5 ? "#fff" : "#333";
          cell.style.fontSize = "8px";
          cell.textContent = Number.isFinite(a) ? a.toFixed(2) : "NaN";
          cell.title = fmt(a);
        });
      });
      lastWeight = frame.weight;
    }
    let best = 0;
    outs.forEach((o, k) => {
      show(o.act.value, out[k]);
      o.act.fill.style.width = `${(100 * Math.min(1, Math.max(0, out[k]))) || 0}%`;
      if (out[k] > out[best]) best = k;
    });
    outs.forEach((o, k) => o.card.classList.toggle("winner", k === best));
    verdict.textContent = "";
    verdict.append("it reads a ", el("b", { text: D.classes[best] }));
    verdict.setAttribute("data-verdict", D.classes[best]);
    drawWires(lastWeight, scale.last);
  }

  document.getElementById("credit").textContent = `The network${D.handset ? ", its demons" : ""} and its training images are those of ` +
    `${D.credit}. Page written by tinygrad_nn.`;
  window.addEventListener("resize", update);
  update();
})();
