// dw's debate page: happiness per candidate per bin, with its band (or the share of posts the
// classifier calls negative or positive, with theirs), the volume, the debates
// shaded, the standout tweets of a bin, and time travel over the evening. No library: SVG by
// hand. Tweet text is untrusted: it only ever reaches the page through textContent, and the
// characters that reorder or hide text are shown as their code points.
'use strict';
(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777',
    '#65a30d', '#4f46e5', '#b45309', '#0f766e', '#be123c', '#7c3aed', '#0369a1', '#a16207',
    '#15803d', '#c2410c', '#6d28d9'];
  const BIN_CHOICES = [10, 15, 30, 60, 120, 300, 600, 900];
  const SHOWN_BY_DEFAULT = 6;
  const Z95 = 1.959964;
  // Bidi controls, zero-width characters, the BOM: shown as code points, never applied.
  const HIDDEN = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;

  const $ = (id) => document.getElementById(id);
  const state = {
    info: null,
    windows: new Map(), // `start|member` -> window (merged ones have no member)
    etags: new Map(), // object key -> ETag, when the page reads a results prefix itself
    warnings: [],
    lastChange: null, // ms, server clock
    skew: 0, // server clock - this clock, ms
    base: 60, // the windows' length, s
    bin: 60,
    tz: 'America/New_York',
    view: null, // [from, to] ms; null: the whole evening
    live: true,
    selected: null, // bin start, ms
    measure: 'happiness', // or 'negative', 'positive': the classifier's share of the posts
    chosen: null, // Set of candidate keys once the viewer toggled one
    connection: 'connecting',
    openedAt: Date.now(),
    renders: 0,
    bluesky: false, // an evening of Bluesky posts (their ids are AT URIs), not tweets
  };

  // What the evening's posts are called: Bluesky's are posts, Twitter's tweets.
  function noun(plural) {
    return (state.bluesky ? 'post' : 'tweet') + (plural ? 's' : '');
  }

  // ---- data ----------------------------------------------------------------------------------

  function upsert(list) {
    for (const w of list) {
      const start = Date.parse(w.start);
      if (!Number.isFinite(start) || w.debate !== state.info.evening.date) continue;
      const key = `${start}|${w.member || ''}`;
      const had = state.windows.get(key);
      // The latest revision wins; of equal ones the last read (a closed window after its
      // partial copies).
      if (!had || (w.revision || 0) >= (had.revision || 0)) state.windows.set(key, w);
      for (const c of Object.values(w.candidates || {})) {
        for (const t of [c.most_positive, c.most_negative]) {
          if (t && typeof t.id === 'string' && t.id.startsWith('at://')) state.bluesky = true;
        }
      }
    }
    let base = null;
    for (const w of state.windows.values()) base = base === null ? w.length_secs : Math.min(base, w.length_secs);
    if (base && base !== state.base) {
      state.base = base;
      if (state.bin % base !== 0 || state.bin < base) state.bin = Math.max(base, 60 - (60 % base) || base);
      fillBinChoices();
    }
  }

  // How many distinct windows (parts of one minute by several scorers count once).
  function starts() {
    return new Set([...state.windows.values()].map((w) => w.start)).size;
  }

  function replaceAll(snapshot) {
    state.windows = new Map();
    upsert(snapshot.windows || []);
    state.warnings = snapshot.warnings || [];
    state.lastChange = snapshot.last_change ? Date.parse(snapshot.last_change) : null;
  }

  function candidates() {
    const names = new Map();
    for (const d of state.info.evening.debates) {
      for (const c of d.candidates) if (!names.has(c.key)) names.set(c.key, c.name || c.key);
    }
    const tweets = new Map();
    for (const w of state.windows.values()) {
      for (const [k, c] of Object.entries(w.candidates || {})) {
        if (!names.has(k)) names.set(k, k);
        tweets.set(k, (tweets.get(k) || 0) + (c.tweets || 0));
      }
    }
    const list = [...names.entries()].map(([key, name], i) => ({
      key, name, color: COLORS[i % COLORS.length], tweets: tweets.get(key) || 0,
    }));
    list.sort((a, b) => b.tweets - a.tweets || a.name.localeCompare(b.name));
    return list;
  }

  function shownKeys(list) {
    if (state.chosen) return state.chosen;
    return new Set(list.filter((c) => c.tweets > 0).slice(0, SHOWN_BY_DEFAULT).map((c) => c.key));
  }

  function better(a, b, max) {
    if (!a) return b;
    if (!b) return a;
    if (b.score !== a.score) return (max ? b.score > a.score : b.score < a.score) ? b : a;
    // Equal scores: the lower id, numeric ids by length first (as dw-score picks).
    if (b.id.length !== a.id.length) return b.id.length < a.id.length ? b : a;
    return b.id < a.id ? b : a;
  }

  // The windows summed into bins of `bin` seconds: every sum adds exactly, so any bin of whole
  // windows has its mean and band.
  function binned() {
    const size = state.bin * 1000;
    const bins = new Map();
    for (const w of state.windows.values()) {
      const start = Date.parse(w.start);
      const at = Math.floor(start / size) * size;
      let b = bins.get(at);
      if (!b) {
        b = { start: at, end: at + size, tweets: 0, partial: false, c: new Map() };
        bins.set(at, b);
      }
      b.tweets += w.tweets || 0;
      if (w.partial) b.partial = true;
      for (const [k, c] of Object.entries(w.candidates || {})) {
        let s = b.c.get(k);
        if (!s) {
          s = { tweets: 0, scored: 0, words: 0, sum: 0, sq: 0, sw: 0, w2: 0, banded: true, pos: null, neg: null, classes: null };
          b.c.set(k, s);
        }
        s.tweets += c.tweets || 0;
        s.scored += c.scored_tweets || 0;
        s.words += c.scored_words || 0;
        s.sum += c.happiness_sum || 0;
        s.sq += c.sum_squares || 0;
        s.sw += c.sum_by_words || 0;
        s.w2 += c.words_squared || 0;
        if ((c.scored_tweets || 0) > 0 && !(c.words_squared > 0)) s.banded = false; // an older window
        if (c.classes) {
          s.classes = s.classes || { negative: 0, neutral: 0, positive: 0 };
          for (const k of ['negative', 'neutral', 'positive']) s.classes[k] += c.classes[k] || 0;
        }
        s.pos = better(s.pos, c.most_positive, true);
        s.neg = better(s.neg, c.most_negative, false);
      }
    }
    for (const b of bins.values()) {
      for (const s of b.c.values()) {
        s.mean = s.words > 0 ? s.sum / s.words : null;
        s.half = null;
        if (s.mean !== null && s.banded && s.scored >= 2) {
          const n = s.scored;
          const residual = Math.max(0, s.sq - 2 * s.mean * s.sw + s.mean * s.mean * s.w2);
          s.half = Z95 * Math.sqrt(residual / (n * (n - 1))) / (s.words / n);
        }
        s.posts = s.classes ? s.classes.negative + s.classes.neutral + s.classes.positive : 0;
        s.negative = s.posts ? wilson(s.classes.negative, s.posts) : null;
        s.positive = s.posts ? wilson(s.classes.positive, s.posts) : null;
      }
    }
    return [...bins.values()].sort((a, b) => a.start - b.start);
  }

  // A share k/n and its 95% Wilson interval (inside 0..1, sensible for few posts).
  function wilson(k, n) {
    const p = k / n;
    const z2 = Z95 * Z95;
    const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const half = (Z95 * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n);
    return { share: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
  }

  // What the main chart shows: happiness (LabMT mean and its band), or the share of posts the
  // classifier calls negative or positive (and its Wilson band). A bin counts with at least
  // min_scored scored (or classified) posts.
  const MEASURES = {
    happiness: {
      caption: 'Mean happiness per bin (LabMT, 1–9), with its 95% confidence band',
      label: 'happiness per candidate',
      ok: (s, min) => s.mean !== null && s.scored >= min,
      value: (s) => s.mean,
      low: (s) => (s.half !== null ? s.mean - s.half : null),
      high: (s) => (s.half !== null ? s.mean + s.half : null),
      axis: (v) => v.toFixed(2),
      empty: [5, 6.5], limits: [1, 9], quantum: 0.25,
    },
    negative: {
      caption: 'Share of posts the classifier calls negative, per bin, with its 95% confidence band',
      label: 'share negative per candidate',
      ok: (s, min) => s.negative !== null && s.posts >= min,
      value: (s) => s.negative.share,
      low: (s) => s.negative.low,
      high: (s) => s.negative.high,
      axis: (v) => `${Math.round(v * 100)}%`,
      empty: [0, 1], limits: [0, 1], quantum: 0.1,
    },
  };
  MEASURES.positive = Object.assign({}, MEASURES.negative, {
    caption: 'Share of posts the classifier calls positive, per bin, with its 95% confidence band',
    label: 'share positive per candidate',
    ok: (s, min) => s.positive !== null && s.posts >= min,
    value: (s) => s.positive.share,
    low: (s) => s.positive.low,
    high: (s) => s.positive.high,
  });

  function span(bins) {
    const ds = state.info.evening.debates;
    let from = Math.min(...ds.map((d) => Date.parse(d.start))) - 30 * 60000;
    let to = Math.max(...ds.map((d) => Date.parse(d.end))) + 30 * 60000;
    if (bins.length) {
      from = Math.min(from, bins[0].start);
      to = Math.max(to, bins[bins.length - 1].end);
    }
    return [from, to];
  }

  // ---- text ----------------------------------------------------------------------------------

  function clock(ms, seconds) {
    const opts = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: state.tz };
    if (seconds) opts.second = '2-digit';
    return new Intl.DateTimeFormat('en-US', opts).format(new Date(ms));
  }

  function zoneLabel() {
    return state.tz === 'UTC' ? 'UTC' : 'ET';
  }

  function day(ms) {
    return new Intl.DateTimeFormat('en-US', { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric', timeZone: state.tz }).format(new Date(ms));
  }

  // Untrusted text as nodes: plain text, and a visible marker for each hidden character.
  function literal(text) {
    const out = document.createElement('span');
    out.className = 'tweet';
    let last = 0;
    String(text).replace(HIDDEN, (ch, at) => {
      if (at > last) out.appendChild(document.createTextNode(text.slice(last, at)));
      const mark = document.createElement('span');
      mark.className = 'ctl';
      mark.textContent = 'U+' + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
      out.appendChild(mark);
      last = at + ch.length;
      return ch;
    });
    if (last < text.length) out.appendChild(document.createTextNode(text.slice(last)));
    return out;
  }

  // ---- drawing -------------------------------------------------------------------------------

  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function frame(svg) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const w = svg.clientWidth || 800;
    const h = svg.clientHeight || 200;
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    return { w, h, l: 48, r: 12, t: 10, b: 22 };
  }

  function timeTicks(from, to, px) {
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 240, 480].map((m) => m * 60000);
    const step = steps.find((s) => (to - from) / s <= px / 80) || steps[steps.length - 1];
    const ticks = [];
    for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
    return ticks;
  }

  function xAxis(g, f, x, from, to) {
    const zone = el('text', { x: f.l - 6, y: f.h - 6, 'text-anchor': 'end', class: 'zone' }, g);
    zone.textContent = zoneLabel();
    // A tick's label must fit between the zone label (left of the plot) and the chart's right
    // edge, and clear the label before it: one that would overlap is left out (its grid line
    // stays).
    let right = f.l - 2;
    for (const t of timeTicks(from, to, f.w - f.l - f.r)) {
      el('line', { class: 'grid', x1: x(t), x2: x(t), y1: f.t, y2: f.h - f.b }, g);
      const label = el('text', { x: x(t), y: f.h - 6, 'text-anchor': 'middle', class: 'tick' }, g);
      label.textContent = clock(t);
      const half = (label.getComputedTextLength ? label.getComputedTextLength() : 30) / 2;
      if (x(t) - half < right + 4 || x(t) + half > f.w - 1) {
        label.remove();
        continue;
      }
      right = x(t) + half;
    }
  }

  function shadeDebates(g, f, x, from, to, labels) {
    for (const d of state.info.evening.debates) {
      const s = Math.max(from, Date.parse(d.start));
      const e = Math.min(to, Date.parse(d.end));
      if (e <= s) continue;
      const tier = String(d.tier).toLowerCase() === 'main' ? 'main' : 'undercard';
      el('rect', { class: `debate ${tier}`, x: x(s), y: f.t, width: Math.max(1, x(e) - x(s)), height: f.h - f.t - f.b }, g);
      if (labels) {
        const t = el('text', { class: 'debate-label', x: x(s) + 4, y: f.t + 12 }, g);
        t.textContent = `${d.party} #${d.number} ${tier}`;
      }
    }
  }

  function drawHappiness(bins, list, shown, from, to) {
    const svg = $('happiness');
    const m = MEASURES[state.measure];
    svg.setAttribute('aria-label', m.label);
    svg.dataset.measure = state.measure;
    $('main-caption').textContent = m.caption;
    const f = frame(svg);
    const x = (t) => f.l + ((t - from) / (to - from)) * (f.w - f.l - f.r);
    const visible = bins.filter((b) => b.end > from && b.start < to);
    const minScored = state.info.min_scored;
    let lo = Infinity;
    let hi = -Infinity;
    for (const b of visible) {
      for (const k of shown) {
        const s = b.c.get(k);
        if (!s || !m.ok(s, minScored)) continue;
        lo = Math.min(lo, m.low(s) ?? m.value(s));
        hi = Math.max(hi, m.high(s) ?? m.value(s));
      }
    }
    if (!Number.isFinite(lo)) { [lo, hi] = m.empty; }
    const q = m.quantum;
    lo = Math.max(m.limits[0], Math.floor((lo - q / 5) / q) * q);
    hi = Math.min(m.limits[1], Math.ceil((hi + q / 5) / q) * q);
    if (hi - lo < 2 * q) { hi = Math.min(m.limits[1], lo + 2 * q); lo = Math.min(lo, hi - 2 * q); }
    const y = (v) => f.t + (1 - (v - lo) / (hi - lo)) * (f.h - f.t - f.b);
    const g = el('g', {}, svg);
    shadeDebates(g, f, x, from, to, true);
    const step = (hi - lo) > 8 * q ? 2 * q : q;
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) {
      el('line', { class: 'grid', x1: f.l, x2: f.w - f.r, y1: y(v), y2: y(v) }, g);
      const t = el('text', { x: f.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'value' }, g);
      t.textContent = m.axis(v);
    }
    xAxis(g, f, x, from, to);
    if (state.selected !== null) {
      const b = bins.find((b) => b.start === state.selected);
      if (b) el('rect', { class: 'selected-bin', x: x(b.start), y: f.t, width: Math.max(2, x(b.end) - x(b.start)), height: f.h - f.t - f.b }, g);
    }
    for (const c of list) {
      if (!shown.has(c.key)) continue;
      // Runs of bins with enough posts; a thin bin or a missing one breaks the line.
      const runs = [];
      let run = [];
      let prev = null;
      for (const b of visible) {
        const s = b.c.get(c.key);
        const ok = s && m.ok(s, minScored);
        if (!ok || (prev !== null && b.start !== prev)) {
          if (run.length) runs.push(run);
          run = [];
        }
        if (ok) run.push({ b, s });
        prev = b.end;
      }
      if (run.length) runs.push(run);
      for (const r of runs) {
        const mid = (p) => x((p.b.start + p.b.end) / 2);
        const banded = r.filter((p) => m.low(p.s) !== null);
        if (banded.length > 1) {
          const top = banded.map((p) => `${mid(p)},${y(m.high(p.s))}`);
          const bottom = banded.slice().reverse().map((p) => `${mid(p)},${y(m.low(p.s))}`);
          el('polygon', { class: 'band', fill: c.color, points: top.concat(bottom).join(' '), 'data-key': c.key }, g);
        }
        const closed = r.filter((p) => !p.b.partial);
        if (closed.length > 1) {
          el('path', { class: 'line', stroke: c.color, 'data-key': c.key, d: 'M' + closed.map((p) => `${mid(p)},${y(m.value(p.s))}`).join('L') }, g);
        }
        const open = r.filter((p, i) => p.b.partial || (i + 1 < r.length && r[i + 1].b.partial));
        if (open.length > 1) {
          el('path', { class: 'line partial', stroke: c.color, 'data-key': c.key, d: 'M' + open.map((p) => `${mid(p)},${y(m.value(p.s))}`).join('L') }, g);
        }
        for (const p of r) {
          if (r.length === 1 || p.b.partial) {
            el('circle', { cx: mid(p), cy: y(m.value(p.s)), r: 3, fill: p.b.partial ? 'white' : c.color, stroke: c.color, class: p.b.partial ? 'point partial' : 'point', 'data-key': c.key }, g);
          }
        }
      }
    }
    // Click targets, one per bin.
    for (const b of visible) {
      const hit = el('rect', { class: 'hit', x: x(b.start), y: f.t, width: Math.max(2, x(b.end) - x(b.start)), height: f.h - f.t - f.b, 'data-start': new Date(b.start).toISOString() }, g);
      hit.addEventListener('click', () => select(b.start));
      const tip = el('title', {}, hit);
      tip.textContent = `${clock(b.start)}–${clock(b.end)} ${zoneLabel()} · ${b.tweets} ${noun(true)}${b.partial ? ' · still open' : ''}`;
    }
  }

  function drawVolume(bins, list, shown, from, to) {
    const svg = $('volume');
    const f = frame(svg);
    const x = (t) => f.l + ((t - from) / (to - from)) * (f.w - f.l - f.r);
    const visible = bins.filter((b) => b.end > from && b.start < to);
    let hi = 1;
    for (const b of visible) for (const k of shown) hi = Math.max(hi, (b.c.get(k) || {}).tweets || 0);
    const y = (v) => f.t + (1 - v / hi) * (f.h - f.t - f.b);
    const g = el('g', {}, svg);
    shadeDebates(g, f, x, from, to, false);
    const unit = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000].find((u) => hi / u <= 4) || 20000;
    hi = Math.max(unit, Math.ceil(hi / unit) * unit);
    for (let v = 0; v <= hi; v += unit) {
      el('line', { class: 'grid', x1: f.l, x2: f.w - f.r, y1: y(v), y2: y(v) }, g);
      const t = el('text', { x: f.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, g);
      t.textContent = v.toLocaleString('en-US');
    }
    xAxis(g, f, x, from, to);
    for (const c of list) {
      if (!shown.has(c.key) || !visible.length) continue;
      const pts = [];
      for (const b of visible) {
        const n = (b.c.get(c.key) || {}).tweets || 0;
        pts.push(`${x(b.start)},${y(n)}`, `${x(b.end)},${y(n)}`);
      }
      el('path', { class: 'line volume', stroke: c.color, 'data-key': c.key, d: 'M' + pts.join('L') }, g);
    }
    for (const b of visible) {
      const hit = el('rect', { class: 'hit', x: x(b.start), y: f.t, width: Math.max(2, x(b.end) - x(b.start)), height: f.h - f.t - f.b }, g);
      hit.addEventListener('click', () => select(b.start));
    }
  }

  function drawOverview(bins, whole, from, to) {
    const svg = $('overview');
    const f = frame(svg);
    f.t = 4;
    f.b = 18;
    const [a, z] = whole;
    const x = (t) => f.l + ((t - a) / (z - a)) * (f.w - f.l - f.r);
    const g = el('g', {}, svg);
    shadeDebates(g, f, x, a, z, false);
    xAxis(g, f, x, a, z);
    const hi = Math.max(1, ...bins.map((b) => b.tweets));
    const y = (v) => f.t + (1 - v / hi) * (f.h - f.t - f.b);
    if (bins.length) {
      const pts = bins.map((b) => `${x(b.start)},${y(b.tweets)} ${x(b.end)},${y(b.tweets)}`);
      el('polyline', { class: 'line', stroke: '#94a3b8', points: pts.join(' ') }, g);
    }
    el('rect', { class: 'brush', x: x(from), y: f.t, width: Math.max(2, x(to) - x(from)), height: f.h - f.t - f.b }, g);
    svg.dataset.from = String(a);
    svg.dataset.to = String(z);
    svg.dataset.left = String(f.l);
    svg.dataset.right = String(f.w - f.r);
  }

  // ---- the rest of the page --------------------------------------------------------------------

  function drawCandidates(list, shown) {
    const box = $('candidates');
    box.textContent = '';
    for (const c of list) {
      const label = document.createElement('label');
      const box2 = document.createElement('input');
      box2.type = 'checkbox';
      box2.checked = shown.has(c.key);
      box2.dataset.key = c.key;
      box2.addEventListener('change', () => {
        const now = new Set(shown);
        if (box2.checked) now.add(c.key); else now.delete(c.key);
        state.chosen = now;
        render();
      });
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = c.color;
      const name = document.createElement('span');
      name.textContent = c.name;
      const count = document.createElement('span');
      count.className = 'count';
      count.textContent = c.tweets.toLocaleString('en-US');
      label.append(box2, sw, name, count);
      box.appendChild(label);
    }
  }

  function drawDetail(bins, list, shown) {
    const box = $('detail');
    box.textContent = '';
    const b = bins.find((b) => b.start === state.selected);
    if (!b) {
      const p = document.createElement('p');
      p.className = 'muted';
      p.textContent = `Click a bin to see its most positive and most negative ${noun(false)} per candidate.`;
      box.appendChild(p);
      return;
    }
    const h = document.createElement('h2');
    h.textContent = `${clock(b.start, true)}–${clock(b.end, true)} ${zoneLabel()} · ${b.tweets.toLocaleString('en-US')} ${noun(true)}${b.partial ? ' · still open' : ''}`;
    box.appendChild(h);
    const table = document.createElement('table');
    const head = table.insertRow();
    for (const t of ['candidate', 'mean (95% band)', 'scored', 'negative', 'positive', 'most positive', 'most negative']) {
      const th = document.createElement('th');
      th.textContent = t;
      head.appendChild(th);
    }
    for (const c of list) {
      const s = b.c.get(c.key);
      if (!shown.has(c.key) || !s || !s.tweets) continue;
      const row = table.insertRow();
      row.dataset.key = c.key;
      row.insertCell().textContent = c.name;
      row.insertCell().textContent = s.mean === null ? '—'
        : s.mean.toFixed(3) + (s.half !== null ? ` ± ${s.half.toFixed(3)}` : '') + (s.scored < state.info.min_scored ? ' (too few)' : '');
      row.insertCell().textContent = `${s.scored} of ${s.tweets}`;
      for (const cls of ['negative', 'positive']) {
        const share = s[cls];
        const cell = row.insertCell();
        cell.className = `share share-${cls}`;
        cell.textContent = share === null ? '—'
          : `${Math.round(share.share * 100)}% (${Math.round(share.low * 100)}–${Math.round(share.high * 100)})`;
      }
      for (const [cls, t] of [['positive', s.pos], ['negative', s.neg]]) {
        const cell = row.insertCell();
        cell.className = cls;
        if (!t) { cell.textContent = '—'; continue; }
        const score = document.createElement('div');
        score.className = 'score';
        score.textContent = `${Number(t.score).toFixed(2)} · ${author(t.user)}`;
        cell.appendChild(score);
        cell.appendChild(literal(t.text));
        const link = original(t.id);
        if (link) {
          const a = document.createElement('a');
          a.href = link.href;
          a.rel = 'noopener noreferrer';
          a.target = '_blank';
          a.textContent = link.label;
          cell.appendChild(a);
        }
      }
    }
    box.appendChild(table);
  }

  // An author as the source names them: a Bluesky DID as it is, a handle after '@'.
  function author(user) {
    return user.startsWith('did:') ? user : '@' + user;
  }

  // The post on the web, from its id: a tweet's number, or a Bluesky post's AT URI (whose DID
  // and record key are checked to be of their own characters, so nothing else reaches the link).
  function original(id) {
    if (/^[0-9]{1,25}$/.test(id)) {
      return { href: 'https://twitter.com/i/web/status/' + id, label: ' tweet ↗' };
    }
    const m = /^at:\/\/(did:[a-z]+:[A-Za-z0-9._:%-]+)\/app\.bsky\.feed\.post\/([A-Za-z0-9._:~-]{1,512})$/.exec(id);
    if (m) {
      return { href: `https://bsky.app/profile/${m[1]}/post/${m[2]}`, label: ' post ↗' };
    }
    return null;
  }

  function drawStatus() {
    const s = $('status');
    const n = starts();
    const serverNow = Date.now() + state.skew;
    const evening = state.info ? state.info.evening : null;
    s.className = 'status';
    if (state.info && state.info.mode === 'static' && !state.info.results) {
      s.textContent = `published copy · ${n} windows`;
      return;
    }
    if (state.connection !== 'open') {
      s.textContent = state.connection === 'connecting' ? 'connecting…' : 'reconnecting…';
      return;
    }
    const since = state.lastChange !== null ? serverNow - state.lastChange : Date.now() - state.openedAt;
    const stale = since > state.info.stale_after_secs * 1000;
    if (stale) {
      s.className = 'status stale';
      s.textContent = state.lastChange !== null
        ? `stale: no new window for ${Math.round(since / 1000)} s`
        : `stale: no window yet after ${Math.round(since / 1000)} s`;
    } else {
      s.className = 'status live';
      s.textContent = `live · ${n} windows · last change ${Math.max(0, Math.round(since / 1000))} s ago`;
    }
    s.dataset.stale = String(stale);
    void evening;
  }

  function drawWarnings() {
    const box = $('warnings');
    box.textContent = '';
    box.hidden = state.warnings.length === 0;
    for (const w of state.warnings.slice(-10)) {
      const line = document.createElement('div');
      line.className = 'warning';
      line.textContent = '⚠ ' + w;
      box.appendChild(line);
    }
  }

  let pending = false;
  function render() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  }

  function draw() {
    if (!state.info) return;
    const bins = binned();
    const list = candidates();
    const shown = shownKeys(list);
    const whole = span(bins);
    let [from, to] = state.view || whole;
    if (state.live && bins.length) {
      const width = to - from;
      to = Math.max(bins[bins.length - 1].end, state.view ? 0 : whole[1]);
      from = state.view ? to - width : whole[0];
    }
    const posts = noun(true);
    $('volume-caption').textContent = posts[0].toUpperCase() + posts.slice(1) + ' per bin';
    $('volume').setAttribute('aria-label', posts + ' per candidate');
    drawCandidates(list, shown);
    drawHappiness(bins, list, shown, from, to);
    drawVolume(bins, list, shown, from, to);
    drawOverview(bins, whole, from, to);
    drawDetail(bins, list, shown);
    drawWarnings();
    drawStatus();
    // A span past midnight names both days.
    const until = day(to) === day(from) ? clock(to) : `${day(to)} ${clock(to)}`;
    $('range').textContent = `${day(from)} · ${clock(from)}–${until} ${zoneLabel()}`;
    $('live').classList.toggle('on', state.live);
    $('tz').textContent = zoneLabel();
    state.renders += 1;
    document.body.dataset.windows = String(starts());
    document.body.dataset.renders = String(state.renders);
    document.body.dataset.ready = 'true';
  }

  function select(start) {
    state.selected = state.selected === start ? null : start;
    render();
  }

  function fillBinChoices() {
    const sel = $('bin');
    sel.textContent = '';
    for (const b of BIN_CHOICES.filter((b) => b >= state.base && b % state.base === 0)) {
      const o = document.createElement('option');
      o.value = String(b);
      o.textContent = b < 60 ? `${b} s` : `${b / 60} min`;
      o.selected = b === state.bin;
      sel.appendChild(o);
    }
  }

  function brush() {
    const svg = $('overview');
    let startX = null;
    const at = (clientX) => {
      const r = svg.getBoundingClientRect();
      const px = ((clientX - r.left) / r.width) * (svg.viewBox.baseVal.width || r.width);
      const l = Number(svg.dataset.left);
      const rr = Number(svg.dataset.right);
      const a = Number(svg.dataset.from);
      const z = Number(svg.dataset.to);
      return a + Math.min(1, Math.max(0, (px - l) / (rr - l))) * (z - a);
    };
    svg.addEventListener('mousedown', (e) => { startX = e.clientX; e.preventDefault(); });
    window.addEventListener('mouseup', (e) => {
      if (startX === null) return;
      const [a, b] = [at(startX), at(e.clientX)].sort((p, q) => p - q);
      startX = null;
      if (b - a < state.bin * 1000) return;
      state.view = [a, b];
      state.live = false;
      render();
    });
    svg.addEventListener('dblclick', () => { state.view = null; render(); });
  }

  function controls() {
    $('bin').addEventListener('change', (e) => { state.bin = Number(e.target.value); state.selected = null; render(); });
    $('measure').addEventListener('change', (e) => { state.measure = e.target.value; render(); });
    $('tz').addEventListener('click', () => { state.tz = state.tz === 'UTC' ? 'America/New_York' : 'UTC'; render(); });
    $('live').addEventListener('click', () => { state.live = !state.live; render(); });
    $('whole').addEventListener('click', () => { state.view = null; render(); });
    window.addEventListener('resize', render);
    brush();
  }

  async function getJSON(path) {
    const r = await fetch(path, { cache: 'no-store' });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  }

  // Lists the results prefix (S3's ListObjectsV2, public read) and fetches the window objects
  // that are new or changed (their ETag), as `dw watch`'s S3 reader does.
  async function readResults(results) {
    let token = null;
    const changed = [];
    do {
      let url = `${results.url}/?list-type=2&prefix=${encodeURIComponent(results.prefix)}`;
      if (token) url += `&continuation-token=${encodeURIComponent(token)}`;
      const r = await fetch(url, { cache: 'no-store' });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const xml = new DOMParser().parseFromString(await r.text(), 'application/xml');
      for (const c of xml.getElementsByTagName('Contents')) {
        const key = c.getElementsByTagName('Key')[0]?.textContent || '';
        const etag = c.getElementsByTagName('ETag')[0]?.textContent || '';
        if (key.endsWith('.json') && state.etags.get(key) !== etag) changed.push([key, etag]);
      }
      const truncated = xml.getElementsByTagName('IsTruncated')[0]?.textContent === 'true';
      token = truncated ? xml.getElementsByTagName('NextContinuationToken')[0]?.textContent : null;
    } while (token);
    let fresh = false;
    for (const [key, etag] of changed) {
      const path = key.split('/').map(encodeURIComponent).join('/');
      try {
        const w = await getJSON(`${results.url}/${path}`);
        upsert([w]);
        fresh = true;
      } catch (err) {
        const warning = `${key}: not a window, skipped (${err.message})`;
        if (!state.warnings.includes(warning)) state.warnings.push(warning);
      }
      state.etags.set(key, etag);
    }
    if (fresh) state.lastChange = Date.now();
  }

  function listen() {
    const events = new EventSource('api/events');
    events.addEventListener('open', () => { state.connection = 'open'; drawStatus(); });
    events.addEventListener('error', () => { state.connection = 'lost'; drawStatus(); });
    events.addEventListener('snapshot', (e) => { state.connection = 'open'; replaceAll(JSON.parse(e.data)); render(); });
    events.addEventListener('windows', (e) => { upsert(JSON.parse(e.data)); state.lastChange = Date.now() + state.skew; render(); });
    events.addEventListener('warning', (e) => { if (!state.warnings.includes(e.data)) state.warnings.push(e.data); render(); });
    events.addEventListener('status', (e) => {
      const s = JSON.parse(e.data);
      state.skew = Date.parse(s.now) - Date.now();
      state.lastChange = s.last_change ? Date.parse(s.last_change) : null;
      // Only the status line: redrawing the charts every few seconds would swallow clicks.
      drawStatus();
    });
  }

  async function main() {
    controls();
    try {
      state.info = await getJSON('api/info');
    } catch (err) {
      $('status').textContent = `cannot load the debate: ${err.message}`;
      return;
    }
    const ds = state.info.evening.debates;
    $('title').textContent = `${state.info.evening.date} · ` + ds.map((d) => `${d.party} #${d.number} (${d.tier})`).join(' + ');
    document.title = `dw · ${state.info.evening.date}`;
    $('source').textContent = state.info.source;
    fillBinChoices();
    if (state.info.mode === 'static') {
      state.live = Boolean(state.info.results);
      try { replaceAll(await getJSON('api/windows')); } catch (err) { state.warnings = [String(err.message)]; }
      render();
      if (state.info.results) {
        // Published while the scorers still write: read their results prefix directly, from
        // what the copy already holds.
        state.etags = new Map(Object.entries(state.info.results.known || {}));
        const poll = async () => {
          try {
            await readResults(state.info.results);
            state.connection = 'open';
          } catch (err) {
            state.connection = 'lost';
            const w = `reading ${state.info.results.url}: ${err.message}`;
            if (!state.warnings.includes(w)) state.warnings.push(w);
          }
          render();
        };
        await poll();
        setInterval(poll, state.info.results.every_secs * 1000);
      }
    } else {
      replaceAll(await getJSON('api/windows'));
      render();
      listen();
      setInterval(drawStatus, 1000);
    }
  }

  main();
})();
