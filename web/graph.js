// graph.js — the Graph page (/graph): the customer–product graph of the wholesale book as an
// interactive SVG (force layout, zoom, pan, node drag, filters by segment and relationship
// manager) and the segment chart, from GET /api/graph and GET /api/segments.
// Plain DOM (helpers and the API call in common.js): values only ever become text nodes or SVG
// attributes, never markup.
//
// Layout: a small force simulation written here (no library) — every pair of nodes repels
// (inverse square), every edge is a spring of rest length LINK, a weak pull keeps the graph
// centred, velocities decay, and the temperature (alpha) cools until the layout stops. A dragged
// node is pinned where the pointer is and reheats the layout a little.
'use strict';

(function () {
  const { $, el, svg, clear, setStatus, api } = window.prospect; // common.js
  const num = new Intl.NumberFormat('en-US');
  const money = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  // segment colours (1 = largest segment); customers without a segment are grey
  const SEG = ['#2563a8', '#c2410c', '#15803d', '#7c3aed', '#b45309', '#0e7490', '#be185d',
    '#4d7c0f', '#9f1239', '#1e40af'];
  const PRODUCT = ['#64748b', '#8b7355', '#5b7f95', '#7a6f9b', '#6b8e6b', '#9a6b6b'];
  const LINK = 90, REPEL = 5200, SPRING = 0.035, CENTER = 0.01, DECAY = 0.55;

  const state = { graph: null, nodes: [], edges: [], view: { k: 1, x: 0, y: 0 },
    alpha: 0, running: false, drag: null, pan: null, selected: null, productTypes: [],
    facetsLoaded: false, seq: 0 };

  function segColour(s) {
    return s === null || s === undefined ? '#9aa5b1' : SEG[(s - 1) % SEG.length];
  }
  function productColour(type) {
    let i = state.productTypes.indexOf(type);
    if (i < 0) i = state.productTypes.push(type) - 1;
    return PRODUCT[i % PRODUCT.length];
  }
  function edgeText(e) {
    return (e.type || 'Transactions') + ' · ' + num.format(e.count) + ' transaction' +
      (e.count === 1 ? '' : 's') + ' · ' + money.format(e.amount);
  }

  // ---- the graph ----
  async function load() {
    const q = new URLSearchParams();
    const cust = $('g-customer').value.trim();
    if (cust) {
      q.set('customer', cust);
    } else {
      if ($('g-segment').value) q.set('segment', $('g-segment').value);
      if ($('g-rm').value) q.set('rm', $('g-rm').value);
    }
    q.set('limit', $('g-limit').value);
    const seq = ++state.seq;
    setStatus('Loading the graph…', 'busy');
    try {
      const g = await api('/api/graph?' + q.toString());
      if (seq !== state.seq) return;
      if (!state.facetsLoaded) fillFacets(g.facets);
      draw(g);
      const nc = g.nodes.filter((n) => n.kind === 'customer').length;
      setStatus(nc ? '' : 'No customers match these filters.', nc ? null : 'warn');
      $('g-meta').textContent = num.format(nc) + ' customers, ' +
        num.format(g.nodes.length - nc) + ' products, ' + num.format(g.edges.length) +
        ' links' + (cust ? ' around ' + cust : ' — largest customers by volume') +
        (g.truncated ? ' (cut to stay readable)' : '') + (g.model ? ' · recommender ' + g.model : '');
    } catch (e) {
      if (seq !== state.seq) return;
      setStatus(e.message, 'error');
    }
  }

  function fillFacets(f) {
    state.facetsLoaded = true;
    for (const s of (f && f.segments) || []) {
      $('g-segment').append(el('option', { value: String(s), text: 'Segment ' + s }));
    }
    for (const rm of (f && f.relationship_managers) || []) {
      $('g-rm').append(el('option', { value: rm, text: rm }));
    }
  }

  function draw(g) {
    stop();
    state.graph = g;
    state.selected = null;
    const box = $('g-svg').getBoundingClientRect();
    const w = box.width || 900, h = box.height || 600;
    const maxVol = Math.max(1, ...g.nodes.map((n) => n.volume || 0));
    const deg = new Array(g.nodes.length).fill(0);
    for (const e of g.edges) {
      deg[e.source]++;
      deg[e.target]++;
    }
    const maxDeg = Math.max(1, ...deg);
    // deterministic start: customers on an inner circle, products on an outer one
    const nc = g.nodes.filter((n) => n.kind === 'customer').length;
    const np = g.nodes.length - nc;
    let ic = 0, ip = 0;
    state.nodes = g.nodes.map((n, i) => {
      const isC = n.kind === 'customer';
      const a = isC ? (2 * Math.PI * ic++) / Math.max(1, nc) : (2 * Math.PI * ip++) / Math.max(1, np) + 0.3;
      const rad = isC ? Math.min(w, h) * 0.18 : Math.min(w, h) * 0.36;
      return {
        i, d: n, x: w / 2 + rad * Math.cos(a), y: h / 2 + rad * Math.sin(a), vx: 0, vy: 0,
        r: isC ? 6 + 9 * Math.sqrt((n.volume || 0) / maxVol) : 4 + 6 * Math.sqrt(deg[i] / maxDeg),
        fixed: false, deg: deg[i],
      };
    });
    state.edges = g.edges.map((e) => ({ d: e, s: state.nodes[e.source], t: state.nodes[e.target] }));
    const maxCount = Math.max(1, ...g.edges.map((e) => e.count));
    const rankByVolume = new Map(state.nodes.filter((n) => n.d.kind === 'customer')
      .sort((a, b) => (b.d.volume || 0) - (a.d.volume || 0)).map((n, r) => [n.i, r]));

    const gE = $('g-edges'), gN = $('g-nodes');
    clear(gE);
    clear(gN);
    for (const e of state.edges) {
      e.line = svg('line', { class: 'g-edge', 'stroke-width': (1 + 3 * Math.sqrt(e.d.count / maxCount)).toFixed(2) });
      e.line.append(svg('title', {}, edgeText(e.d)));
      e.line.addEventListener('pointerenter', (ev) => showTip(ev, [edgeText(e.d),
        e.s.d.label + ' → ' + e.t.d.label]));
      e.line.addEventListener('pointermove', moveTip);
      e.line.addEventListener('pointerleave', hideTip);
      gE.append(e.line);
    }
    for (const n of state.nodes) {
      const isC = n.d.kind === 'customer';
      const node = svg('g', { class: 'g-node ' + (isC ? 'cust' : 'prod'), tabindex: '0',
        'data-id': n.d.id, 'data-kind': n.d.kind });
      node.append(svg('title', {}, n.d.label));
      if (isC) {
        node.append(svg('circle', { r: n.r.toFixed(1), fill: segColour(n.d.segment) }));
      } else {
        const s = n.r * 1.7;
        node.append(svg('rect', { x: (-s / 2).toFixed(1), y: (-s / 2).toFixed(1), width: s.toFixed(1),
          height: s.toFixed(1), rx: 2.5, fill: productColour(n.d.type) }));
      }
      n.label = svg('text', { class: 'g-label', y: (n.r + 11).toFixed(1) }, n.d.id);
      node.append(n.label);
      if (isC && rankByVolume.get(n.i) < 12) node.classList.add('big');
      node.addEventListener('pointerdown', (ev) => startDrag(ev, n));
      node.addEventListener('pointerenter', (ev) => {
        highlight(n);
        showTip(ev, tipLines(n));
      });
      node.addEventListener('pointermove', moveTip);
      node.addEventListener('pointerleave', () => {
        highlight(state.selected);
        hideTip();
      });
      node.addEventListener('click', () => select(n));
      node.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          select(n);
        }
      });
      n.el = node;
      gN.append(node);
    }
    drawLegend(g);
    drawSelected(null);
    // settle most of the layout before the first paint, then animate the rest
    state.alpha = 1;
    for (let t = 0; t < 160; t++) tick();
    render();
    fit(false);
    start();
  }

  function tipLines(n) {
    const d = n.d, out = [d.label];
    if (d.kind === 'customer') {
      const bits = [];
      if (d.rm) bits.push('RM ' + d.rm);
      if (d.segment !== null && d.segment !== undefined) bits.push('segment ' + d.segment);
      bits.push(n.deg + ' product' + (n.deg === 1 ? '' : 's'));
      out.push(bits.join(' · '));
    } else {
      out.push(n.deg + ' customer' + (n.deg === 1 ? '' : 's') + ' in view');
    }
    return out;
  }

  // ---- force layout ----
  function tick() {
    const ns = state.nodes, a = state.alpha;
    const box = $('g-svg').getBoundingClientRect();
    const cx = (box.width || 900) / 2, cy = (box.height || 600) / 2;
    for (let i = 0; i < ns.length; i++) {
      const p = ns[i];
      for (let j = i + 1; j < ns.length; j++) {
        const q = ns[j];
        let dx = p.x - q.x, dy = p.y - q.y;
        let d2 = dx * dx + dy * dy;
        if (d2 < 1) {
          dx = (i % 7) - 3 + 0.5;
          dy = (j % 5) - 2 + 0.5;
          d2 = dx * dx + dy * dy;
        }
        if (d2 > 250000) continue; // beyond 500 px repulsion is negligible
        const f = (REPEL * a) / d2, d = Math.sqrt(d2);
        p.vx += (dx / d) * f;
        p.vy += (dy / d) * f;
        q.vx -= (dx / d) * f;
        q.vy -= (dy / d) * f;
      }
    }
    for (const e of state.edges) {
      const dx = e.t.x - e.s.x, dy = e.t.y - e.s.y;
      const d = Math.sqrt(dx * dx + dy * dy) || 1;
      const f = ((d - LINK) / d) * SPRING * a;
      e.s.vx += dx * f;
      e.s.vy += dy * f;
      e.t.vx -= dx * f;
      e.t.vy -= dy * f;
    }
    for (const p of ns) {
      if (p.fixed) {
        p.vx = p.vy = 0;
        continue;
      }
      p.vx = (p.vx + (cx - p.x) * CENTER * a) * DECAY;
      p.vy = (p.vy + (cy - p.y) * CENTER * a) * DECAY;
      p.x += Math.max(-40, Math.min(40, p.vx));
      p.y += Math.max(-40, Math.min(40, p.vy));
    }
    state.alpha *= 0.985;
  }
  function render() {
    for (const e of state.edges) {
      e.line.setAttribute('x1', e.s.x.toFixed(1));
      e.line.setAttribute('y1', e.s.y.toFixed(1));
      e.line.setAttribute('x2', e.t.x.toFixed(1));
      e.line.setAttribute('y2', e.t.y.toFixed(1));
    }
    for (const n of state.nodes) {
      n.el.setAttribute('transform', 'translate(' + n.x.toFixed(1) + ',' + n.y.toFixed(1) + ')');
    }
  }
  function frame() {
    if (!state.running) return;
    for (let t = 0; t < 3; t++) tick();
    render();
    if (state.alpha < 0.02 && !state.drag) {
      state.running = false;
      document.body.dataset.layout = 'done';
      return;
    }
    requestAnimationFrame(frame);
  }
  function start() {
    document.body.dataset.layout = 'running';
    if (!state.running) {
      state.running = true;
      requestAnimationFrame(frame);
    }
  }
  function stop() {
    state.running = false;
  }

  // ---- zoom, pan, drag ----
  function applyView() {
    const v = state.view;
    $('g-view').setAttribute('transform', 'translate(' + v.x.toFixed(2) + ',' + v.y.toFixed(2) +
      ') scale(' + v.k.toFixed(4) + ')');
    $('g-view').setAttribute('font-size', (11 / v.k).toFixed(2)); // labels keep their size on screen
    for (const n of state.nodes) n.label.setAttribute('y', (n.r + 12 / v.k).toFixed(1));
    $('g-svg').classList.toggle('zoomed', v.k >= 2.2);
  }
  function zoomAt(px, py, factor) {
    const v = state.view;
    const k = Math.max(0.2, Math.min(6, v.k * factor));
    v.x = px - ((px - v.x) * k) / v.k;
    v.y = py - ((py - v.y) * k) / v.k;
    v.k = k;
    applyView();
  }
  function fit(animate) {
    const ns = state.nodes;
    const box = $('g-svg').getBoundingClientRect();
    if (!ns.length || !box.width) {
      state.view = { k: 1, x: 0, y: 0 };
      applyView();
      return;
    }
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of ns) {
      x0 = Math.min(x0, n.x - n.r);
      y0 = Math.min(y0, n.y - n.r);
      x1 = Math.max(x1, n.x + n.r);
      y1 = Math.max(y1, n.y + n.r + 14);
    }
    const pad = 28, below = $('g-legend').offsetHeight + 16; // keep clear of the legend
    const hh = box.height - pad - below;
    const k = Math.max(0.2, Math.min(2, Math.min((box.width - 2 * pad) / (x1 - x0 || 1), hh / (y1 - y0 || 1))));
    state.view = { k, x: box.width / 2 - (k * (x0 + x1)) / 2, y: pad + hh / 2 - (k * (y0 + y1)) / 2 };
    applyView();
    void animate;
  }
  function toWorld(ev) {
    const box = $('g-svg').getBoundingClientRect(), v = state.view;
    return { x: (ev.clientX - box.left - v.x) / v.k, y: (ev.clientY - box.top - v.y) / v.k };
  }
  function onWheel(ev) {
    ev.preventDefault();
    const box = $('g-svg').getBoundingClientRect();
    zoomAt(ev.clientX - box.left, ev.clientY - box.top, Math.exp(-ev.deltaY * 0.0015));
  }
  function startDrag(ev, n) {
    ev.stopPropagation();
    n.el.setPointerCapture(ev.pointerId);
    const w = toWorld(ev);
    state.drag = { n, dx: n.x - w.x, dy: n.y - w.y, moved: false };
    n.fixed = true;
    n.el.addEventListener('pointermove', onDragMove);
    n.el.addEventListener('pointerup', endDrag, { once: true });
    n.el.addEventListener('pointercancel', endDrag, { once: true });
  }
  function onDragMove(ev) {
    const d = state.drag;
    if (!d) return;
    const w = toWorld(ev);
    d.n.x = w.x + d.dx;
    d.n.y = w.y + d.dy;
    d.moved = true;
    state.alpha = Math.max(state.alpha, 0.25);
    render();
    start();
  }
  function endDrag() {
    const d = state.drag;
    if (!d) return;
    d.n.el.removeEventListener('pointermove', onDragMove);
    d.n.fixed = false;
    state.drag = null;
  }
  function onBgDown(ev) {
    if (ev.button !== 0) return;
    state.pan = { x: ev.clientX, y: ev.clientY, vx: state.view.x, vy: state.view.y };
    $('g-svg').setPointerCapture(ev.pointerId);
    $('g-svg').classList.add('panning');
  }
  function onBgMove(ev) {
    const p = state.pan;
    if (!p) return;
    state.view.x = p.vx + ev.clientX - p.x;
    state.view.y = p.vy + ev.clientY - p.y;
    applyView();
  }
  function onBgUp() {
    state.pan = null;
    $('g-svg').classList.remove('panning');
  }

  // ---- tooltip, highlight, selection ----
  function showTip(ev, lines) {
    const tip = $('g-tip');
    clear(tip);
    lines.forEach((l, i) => tip.append(el('div', { class: i ? 'g-tip-sub' : 'g-tip-main', text: l })));
    tip.hidden = false;
    moveTip(ev);
  }
  function moveTip(ev) {
    const tip = $('g-tip');
    const box = tip.parentElement.getBoundingClientRect();
    let x = ev.clientX - box.left + 14, y = ev.clientY - box.top + 14;
    if (x + tip.offsetWidth > box.width - 8) x = ev.clientX - box.left - tip.offsetWidth - 14;
    if (y + tip.offsetHeight > box.height - 8) y = ev.clientY - box.top - tip.offsetHeight - 14;
    tip.style.left = Math.max(4, x) + 'px';
    tip.style.top = Math.max(4, y) + 'px';
  }
  function hideTip() {
    $('g-tip').hidden = true;
  }
  function highlight(n) {
    const on = new Set();
    if (n) {
      on.add(n.i);
      for (const e of state.edges) {
        if (e.s === n || e.t === n) {
          on.add(e.s.i);
          on.add(e.t.i);
        }
      }
    }
    $('g-svg').classList.toggle('focus', !!n);
    for (const m of state.nodes) m.el.classList.toggle('on', on.has(m.i));
    for (const e of state.edges) e.line.classList.toggle('on', !!n && (e.s === n || e.t === n));
  }
  function select(n) {
    if (state.drag && state.drag.moved) return;
    state.selected = state.selected === n ? null : n;
    highlight(state.selected);
    drawSelected(state.selected);
  }
  function drawSelected(n) {
    const box = $('g-selected');
    clear(box);
    if (!n) {
      box.className = 'note';
      box.append('Click a node to see its links.');
      return;
    }
    box.className = 'g-sel';
    const d = n.d;
    box.append(el('div', { class: 'g-sel-title', text: d.label }));
    const dl = el('dl', { class: 'g-sel-fields' });
    const add = (k, v) => {
      if (v !== null && v !== undefined && v !== '') dl.append(el('dt', { text: k }), el('dd', { text: String(v) }));
    };
    if (d.kind === 'customer') {
      add('Type', d.type);
      add('Industry', d.industry);
      add('Relationship manager', d.rm);
      add('Segment', d.segment);
      add('Volume', money.format(d.volume || 0));
    } else {
      add('Type', d.type);
      add('Category', d.category);
    }
    box.append(dl);
    const links = state.edges.filter((e) => e.s === n || e.t === n);
    const ul = el('ul', { class: 'g-sel-links' });
    for (const e of links.slice(0, 12)) {
      const other = e.s === n ? e.t : e.s;
      ul.append(el('li', {}, el('span', { class: 'g-sel-id', text: other.d.id }), ' ' + edgeText(e.d)));
    }
    if (links.length > 12) ul.append(el('li', { class: 'note', text: '… ' + (links.length - 12) + ' more' }));
    box.append(ul);
    if (d.kind === 'customer') {
      box.append(el('button', { type: 'button', class: 'primary wide', text: 'Show this customer’s neighbourhood',
        onclick: () => {
          $('g-customer').value = d.id;
          load();
        } }));
    }
  }

  function drawLegend(g) {
    const box = $('g-legend');
    clear(box);
    const segs = [...new Set(g.nodes.filter((n) => n.kind === 'customer').map((n) => n.segment))]
      .sort((a, b) => (a === null) - (b === null) || a - b);
    box.append(el('div', { class: 'g-leg-h', text: 'Customers · colour = segment, size = volume' }));
    const row = el('div', { class: 'g-leg-row' });
    for (const s of segs) {
      const sw = svg('svg', { width: 12, height: 12, 'aria-hidden': 'true' });
      sw.append(svg('circle', { cx: 6, cy: 6, r: 5, fill: segColour(s) }));
      row.append(el('span', { class: 'g-leg-item' }, sw, s === null ? 'no segment' : 'Segment ' + s));
    }
    box.append(row);
    box.append(el('div', { class: 'g-leg-h', text: 'Products · colour = product type' }));
    const row2 = el('div', { class: 'g-leg-row' });
    const types = [...new Set(g.nodes.filter((n) => n.kind === 'product').map((n) => n.type))].sort();
    for (const t of types) {
      const sw = svg('svg', { width: 12, height: 12, 'aria-hidden': 'true' });
      sw.append(svg('rect', { x: 1, y: 1, width: 10, height: 10, rx: 2, fill: productColour(t) }));
      row2.append(el('span', { class: 'g-leg-item' }, sw, t || 'product'));
    }
    box.append(row2);
    box.append(el('div', { class: 'g-leg-h', text: 'Links · a customer holds a product; width = transactions; hover for the type' }));
  }

  // ---- segment chart ----
  async function loadSegments() {
    const box = $('g-segchart');
    clear(box);
    try {
      const s = await api('/api/segments');
      drawSegments(s);
    } catch (e) {
      const none = $('g-seg-none');
      none.textContent = e.status === 404 ? 'No segments yet: run prospect segment on this book.' : e.message;
      none.hidden = false;
    }
  }
  function drawSegments(s) {
    const box = $('g-segchart');
    clear(box);
    const max = Math.max(1, ...s.segments.map((x) => x.size));
    box.append(el('p', { class: 'note g-seg-total', text: num.format(s.customers - s.unassigned) +
      ' customers in ' + s.segments.length + ' segments' }));
    for (const seg of s.segments) {
      const row = el('button', { type: 'button', class: 'g-seg', 'data-segment': String(seg.segment),
        title: 'Show segment ' + seg.segment + ' in the graph' });
      const head = el('div', { class: 'g-seg-head' },
        el('span', { class: 'g-seg-name', text: 'Segment ' + seg.segment }),
        el('span', { class: 'g-seg-n', text: num.format(seg.size) + ' · ' + Math.round(seg.share * 100) + '%' }));
      const bar = svg('svg', { class: 'g-seg-bar', viewBox: '0 0 300 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
      bar.append(svg('rect', { x: 0, y: 0, width: 300, height: 10, rx: 5, class: 'g-seg-track' }));
      bar.append(svg('rect', { x: 0, y: 0, width: Math.max(4, (300 * seg.size) / max).toFixed(1), height: 10, rx: 5,
        fill: segColour(seg.segment) }));
      const ul = el('ul', { class: 'g-seg-traits' });
      for (const t of seg.traits) ul.append(el('li', { text: t.text }));
      row.append(head, bar, ul);
      row.addEventListener('click', () => {
        $('g-customer').value = '';
        $('g-segment').value = String(seg.segment);
        load();
      });
      box.append(row);
    }
  }

  async function start0() {
    $('g-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      load();
    });
    for (const id of ['g-segment', 'g-rm', 'g-limit']) {
      $(id).addEventListener('change', () => {
        if (id !== 'g-limit') $('g-customer').value = '';
        load();
      });
    }
    const s = $('g-svg');
    s.addEventListener('wheel', onWheel, { passive: false });
    $('g-bg').addEventListener('pointerdown', onBgDown);
    s.addEventListener('pointermove', onBgMove);
    s.addEventListener('pointerup', onBgUp);
    s.addEventListener('pointercancel', onBgUp);
    const centre = (f) => {
      const b = s.getBoundingClientRect();
      zoomAt(b.width / 2, b.height / 2, f);
    };
    $('g-zoom-in').addEventListener('click', () => centre(1.3));
    $('g-zoom-out').addEventListener('click', () => centre(1 / 1.3));
    $('g-fit').addEventListener('click', () => fit(true));
    const c = new URL(location.href).searchParams.get('customer');
    if (c) $('g-customer').value = c;
    try {
      const h = await api('/health');
      if (!h.graph) {
        setStatus('This server has no wholesale book: start it with prospect serve --wholesale DIR.', 'warn');
        loadSegments();
        return;
      }
    } catch (e) {
      setStatus('Cannot reach the server: ' + e.message, 'error');
      return;
    }
    loadSegments();
    load();
  }
  document.addEventListener('DOMContentLoaded', start0);
})();
