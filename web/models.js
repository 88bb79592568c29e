// models.js — the Models page (/models): a propensity model's quality and explanations, drawn
// as SVG from the JSON API (GET /api/models, /api/models/{id}, /api/models/{id}/explain), its
// reliability plot when the run record has "calibration", and the CSV drop: a file dropped (or
// chosen) is POSTed as text/csv to /api/models/{id}/score (upload progress from XHR), and the
// answer shows the potential list (rows labelled negative scoring at or above the threshold,
// as `prospect score --potential`), each row's reason codes, and a download of the scored file
// built here from the answer (the server keeps nothing but the audit row). Picking another model
// clears every chart and the scored file first, so nothing of the last model stays on screen.
// Plain DOM (helpers and the API call in common.js): values only ever become text nodes or SVG
// attributes, never markup.
'use strict';

(function () {
  const { $, el, svg, clear, setStatus, savedKey, api } = window.prospect; // common.js
  const state = { id: null, run: null, explain: null, seq: 0, scored: null, file: null };
  const DROP_LIMIT = 4 << 20; // LIMIT_HTTP_SCORE_BODY: the server answers 413 past it
  const SHOWN_ROWS = 200;

  const pct = (v) => (v === null || v === undefined ? '–' : (100 * v).toFixed(1) + '%');
  const fix = (v, d) => (v === null || v === undefined ? '–' : Number(v).toFixed(d));

  // ---- charts ----
  function shapBars(global) {
    const rows = global.slice(0, 12);
    const W = 560, rowH = 24, left = 170, right = 60, top = 8;
    const H = top + rows.length * rowH + 24;
    const max = Math.max(...rows.map((r) => r.mean_abs_shap || 0), 1e-9);
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
      'aria-label': 'Mean absolute SHAP value per feature' });
    rows.forEach((r, i) => {
      const y = top + i * rowH;
      const w = ((W - left - right) * (r.mean_abs_shap || 0)) / max;
      s.append(svg('text', { x: left - 8, y: y + 16, 'text-anchor': 'end', class: 'lbl' }, r.feature));
      s.append(svg('rect', { x: left, y: y + 4, width: Math.max(w, 1), height: rowH - 8, rx: 3, class: 'shap-bar' }));
      s.append(svg('text', { x: left + w + 6, y: y + 16, class: 'val' }, fix(r.mean_abs_shap, 3)));
    });
    s.append(svg('line', { x1: left, x2: left, y1: top, y2: H - 20, class: 'axis' }));
    s.append(svg('text', { x: left, y: H - 4, class: 'note' }, 'mean |SHAP| (log-odds)'));
    return s;
  }

  function dependence(dep) {
    const pts = dep.points.filter((p) => p[0] !== null && p[1] !== null);
    const W = 560, H = 300, L = 56, R = 16, T = 12, B = 40;
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
      'aria-label': 'SHAP value against the value of ' + dep.feature });
    if (pts.length === 0) {
      s.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'note' }, 'no values'));
      return s;
    }
    let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
    let y0 = Math.min(...pts.map((p) => p[1]), 0), y1 = Math.max(...pts.map((p) => p[1]), 0);
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    if (y1 === y0) { y0 -= 1; y1 += 1; }
    const sx = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
    const sy = (v) => T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);
    for (let i = 0; i <= 4; i++) {
      const yv = y0 + ((y1 - y0) * i) / 4, xv = x0 + ((x1 - x0) * i) / 4;
      s.append(svg('line', { x1: L, x2: W - R, y1: sy(yv), y2: sy(yv), class: 'grid' }));
      s.append(svg('text', { x: L - 6, y: sy(yv) + 4, 'text-anchor': 'end', class: 'val' }, fix(yv, 2)));
      s.append(svg('text', { x: sx(xv), y: H - B + 16, 'text-anchor': 'middle', class: 'val' },
        Math.abs(xv) >= 100 ? xv.toFixed(0) : fix(xv, 2)));
    }
    s.append(svg('line', { x1: L, x2: W - R, y1: sy(0), y2: sy(0), class: 'axis' }));
    const g = svg('g', { class: 'dots' });
    for (const p of pts) {
      g.append(svg('circle', { cx: sx(p[0]).toFixed(1), cy: sy(p[1]).toFixed(1), r: 2.4,
        class: p[1] >= 0 ? 'dot up' : 'dot down' }));
    }
    s.append(g);
    s.append(svg('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle', class: 'note' }, dep.feature));
    s.append(svg('text', { x: 12, y: (T + H - B) / 2, 'text-anchor': 'middle', class: 'note',
      transform: `rotate(-90 12 ${(T + H - B) / 2})` }, 'SHAP value'));
    return s;
  }

  function confusion(m) {
    const c = m.confusion;
    const W = 300, H = 230, L = 90, T = 40, cw = 100, ch = 80;
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart cm', role: 'img',
      'aria-label': 'Confusion matrix on the test split' });
    const max = Math.max(c.tp, c.fp, c.tn, c.fn, 1);
    const cells = [
      [0, 0, c.tp, 'true positive', 'good'], [1, 0, c.fn, 'false negative', 'bad'],
      [0, 1, c.fp, 'false positive', 'bad'], [1, 1, c.tn, 'true negative', 'good'],
    ];
    s.append(svg('text', { x: L + cw, y: 14, 'text-anchor': 'middle', class: 'note' }, 'predicted'));
    s.append(svg('text', { x: L + cw / 2, y: T - 8, 'text-anchor': 'middle', class: 'lbl' }, 'positive'));
    s.append(svg('text', { x: L + cw * 1.5, y: T - 8, 'text-anchor': 'middle', class: 'lbl' }, 'negative'));
    s.append(svg('text', { x: L - 8, y: T + ch / 2 + 4, 'text-anchor': 'end', class: 'lbl' }, 'positive'));
    s.append(svg('text', { x: L - 8, y: T + ch * 1.5 + 4, 'text-anchor': 'end', class: 'lbl' }, 'negative'));
    s.append(svg('text', { x: 14, y: T + ch, 'text-anchor': 'middle', class: 'note',
      transform: `rotate(-90 14 ${T + ch})` }, 'actual'));
    for (const [col, row, v, name, kind] of cells) {
      const x = L + col * cw, y = T + row * ch;
      const a = 0.10 + 0.45 * (v / max);
      s.append(svg('rect', { x, y, width: cw - 4, height: ch - 4, rx: 4, class: 'cell ' + kind,
        'fill-opacity': a.toFixed(2) }));
      s.append(svg('text', { x: x + cw / 2 - 2, y: y + ch / 2, 'text-anchor': 'middle', class: 'big' }, v));
      s.append(svg('text', { x: x + cw / 2 - 2, y: y + ch / 2 + 18, 'text-anchor': 'middle', class: 'val' }, name));
    }
    return s;
  }

  function reliability(cal) {
    const pts = cal.reliability.filter((b) => b.n > 0 && b.mean_predicted !== null && b.observed !== null);
    const W = 420, H = 300, L = 50, R = 16, T = 12, B = 40;
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
      'aria-label': 'Reliability: observed rate against mean predicted probability' });
    const sx = (v) => L + v * (W - L - R);
    const sy = (v) => T + (1 - v) * (H - T - B);
    for (let i = 0; i <= 4; i++) {
      const v = i / 4;
      s.append(svg('line', { x1: L, x2: W - R, y1: sy(v), y2: sy(v), class: 'grid' }));
      s.append(svg('text', { x: L - 6, y: sy(v) + 4, 'text-anchor': 'end', class: 'val' }, v.toFixed(2)));
      s.append(svg('text', { x: sx(v), y: H - B + 16, 'text-anchor': 'middle', class: 'val' }, v.toFixed(2)));
    }
    s.append(svg('line', { x1: sx(0), y1: sy(0), x2: sx(1), y2: sy(1), class: 'rel-diag' }));
    const maxN = Math.max(...pts.map((b) => b.n), 1);
    const g = svg('g', { class: 'rel' });
    for (const b of pts) {
      g.append(svg('circle', { cx: sx(b.mean_predicted).toFixed(1), cy: sy(b.observed).toFixed(1),
        r: (2.5 + 5 * Math.sqrt(b.n / maxN)).toFixed(1), class: 'rel-point' }));
    }
    s.append(g);
    s.append(svg('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle', class: 'note' }, 'mean predicted probability'));
    s.append(svg('text', { x: 12, y: (T + H - B) / 2, 'text-anchor': 'middle', class: 'note',
      transform: `rotate(-90 12 ${(T + H - B) / 2})` }, 'observed rate'));
    return s;
  }

  // ---- drawing ----
  function card(label, value, hint) {
    return el('div', { class: 'stat' }, el('div', { class: 'stat-v', text: value }),
      el('div', { class: 'stat-l', text: label }), hint ? el('div', { class: 'stat-h', text: hint }) : null);
  }

  function drawRun(run) {
    const t = run.metrics.test, cv = run.metrics.cv;
    const box = $('m-stats');
    clear(box);
    box.append(card('Precision at threshold', pct(t.precision), 'test split'),
      card('Recall at threshold', pct(t.recall), 'target ' + pct(run.params.target_recall)),
      card('F1', fix(t.f1, 3), 'test split'),
      card('AUC-ROC', fix(t.auc_roc, 3), 'cross-validated ' + fix(cv.auc_roc, 3)),
      card('Threshold', fix(run.threshold, 4), 'probability cut'));
    $('m-title').textContent = run.name + ' · version ' + run.version;
    $('m-meta').textContent = 'Target “' + run.target.column + '” = ' + run.target.positive + ' · ' +
      run.data.rows + ' rows, ' + run.data.positives + ' positive · trained ' + run.created;
    const cm = $('m-cm');
    clear(cm);
    cm.append(confusion(t));
    const cal = run.calibration;
    const box2 = $('m-cal');
    clear(box2);
    $('m-calibration').hidden = !(cal && Array.isArray(cal.reliability) && cal.reliability.length > 0);
    if (!$('m-calibration').hidden) {
      $('m-cal-note').textContent = (cal.method || 'calibrated') + ' · Brier ' + fix(cal.brier_before, 4) +
        ' before, ' + fix(cal.brier_after, 4) + ' after';
      box2.append(reliability(cal));
    }
    $('m-drop-limit').textContent = 'Up to ' + (DROP_LIMIT >> 20) + ' MB; the columns ' +
      'the model reads must be there' + (run.target ? ' (with “' + run.target.column +
      '” the potential list is shown too)' : '') + '.';
  }

  // Empties what was drawn for the last model (charts, lists, a scored file).
  function resetModel() {
    for (const id of ['m-shap', 'm-dep', 'm-potential', 'm-cal', 'm-scores', 'm-drop-potential']) clear($(id));
    $('m-feature').textContent = '';
    $('m-potential-count').textContent = '';
    $('m-explain').hidden = true;
    $('m-nodata').hidden = true;
    $('m-calibration').hidden = true;
    $('m-scored').hidden = true;
    $('m-progress').hidden = true;
    $('m-drop-status').textContent = '';
    state.scored = null;
  }

  function drawExplain(ex) {
    const g = $('m-shap');
    clear(g);
    g.append(shapBars(ex.global));
    const sel = $('m-feature');
    if (sel.options.length === 0) {
      for (const f of ex.global) sel.append(el('option', { value: f.feature, text: f.feature }));
    }
    if (ex.dependence.length > 0) {
      sel.value = ex.dependence[0].feature;
      const d = $('m-dep');
      clear(d);
      d.append(dependence(ex.dependence[0]));
    }
    const tb = $('m-potential');
    clear(tb);
    for (const r of ex.potential) {
      tb.append(el('tr', null, el('td', { text: r.id }),
        el('td', { class: 'num' }, el('span', { class: 'pbar' }, el('span', { class: 'pfill', style: null }),
          document.createTextNode(pct(r.probability)))),
        el('td', { text: r.tipping_feature || '–' })));
    }
    // widths through the CSSOM (inline style attributes are blocked by the CSP)
    tb.querySelectorAll('.pfill').forEach((e, i) => { e.style.width = (100 * ex.potential[i].probability).toFixed(1) + '%'; });
    const total = ex.n_potential !== undefined ? ex.n_potential : ex.potential.length;
    $('m-potential-count').textContent = total === 0
      ? 'No customer below the target scores above the threshold.'
      : total + ' customers without the product score at or above the threshold (' +
        ex.n_rows + ' rows scored' + (total > ex.potential.length ? '; the top ' + ex.potential.length + ' shown' : '') + ').';
  }

  async function loadModel(id) {
    const seq = ++state.seq;
    state.id = id;
    setStatus('Loading ' + id + '…');
    try {
      const run = await api('/api/models/' + encodeURIComponent(id));
      if (seq !== state.seq) return;
      resetModel();
      state.run = run;
      drawRun(run);
      $('m-body').hidden = false;
      try {
        const ex = await api('/api/models/' + encodeURIComponent(id) + '/explain?top=25');
        if (seq !== state.seq) return;
        $('m-explain').hidden = false;
        drawExplain(ex);
      } catch (e) {
        if (seq !== state.seq) return;
        // this model has no data set to be explained on (404) or it does not fit (500): say so
        // where its charts would be; nothing of another model stays
        $('m-nodata').hidden = false;
        $('m-nodata').textContent = 'No explanations for ' + id + ': ' + e.message;
      }
      setStatus('');
    } catch (e) {
      setStatus(e.message, 'error');
    }
  }

  async function onFeature() {
    const f = $('m-feature').value;
    const seq = ++state.seq;
    try {
      const ex = await api('/api/models/' + encodeURIComponent(state.id) + '/explain?top=1&features=' +
        encodeURIComponent(f));
      if (seq !== state.seq) return;
      const d = $('m-dep');
      clear(d);
      d.append(dependence(ex.dependence[0]));
    } catch (e) {
      setStatus(e.message, 'error');
    }
  }

  // ---- the CSV drop ----
  function reasonList(r) {
    const ul = el('ul', { class: 'reasons' });
    for (const x of r.reasons || []) ul.append(el('li', { text: x.text }));
    return ul;
  }

  function csvField(v) {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  // The scored file, as `prospect score --format csv` writes it.
  function scoredCsv(ans) {
    const idh = (state.run && state.run.id_column) || 'row';
    const hasActual = ans.rows.some((r) => 'actual' in r);
    const lines = [[idh, 'line', 'probability', 'label'].concat(hasActual ? ['actual'] : [], ['to_threshold', 'reasons'])
      .map(csvField).join(',')];
    for (const r of ans.rows) {
      const f = [r.id !== null ? r.id : 'line ' + r.line, r.line, r.probability, r.label];
      if (hasActual) f.push(r.actual);
      f.push(r.to_threshold, (r.reasons || []).map((x) => x.text).join('; '));
      lines.push(f.map(csvField).join(','));
    }
    return lines.join('\n') + '\n';
  }

  function drawScored(ans) {
    const rows = ans.rows;
    const hasActual = rows.some((r) => 'actual' in r);
    const pot = hasActual ? rows.filter((r) => r.actual === 0 && r.label === 1)
      .sort((a, b) => b.probability - a.probability || a.row - b.row) : [];
    $('m-scored-count').textContent = rows.length + ' rows scored' +
      (ans.notes && ans.notes.length ? ' · ' + ans.notes.join('; ') : '') + '.';
    $('m-drop-potential-count').textContent = !hasActual
      ? 'the file has no “' + state.run.target.column + '” column: no potential list'
      : pot.length + ' labelled negative score at or above the threshold';
    const tp = $('m-drop-potential');
    clear(tp);
    for (const r of pot.slice(0, SHOWN_ROWS)) {
      tp.append(el('tr', null, el('td', { text: r.id !== null ? r.id : 'line ' + r.line }),
        el('td', { class: 'num', text: pct(r.probability) }), el('td', null, reasonList(r))));
    }
    const tb = $('m-scores');
    clear(tb);
    for (const r of rows.slice(0, SHOWN_ROWS)) {
      tb.append(el('tr', null, el('td', { text: r.id !== null ? r.id : 'line ' + r.line }),
        el('td', { class: 'num', text: pct(r.probability) }), el('td', { class: 'num', text: String(r.label) }),
        el('td', null, reasonList(r))));
    }
    $('m-scored').hidden = false;
  }

  function dropStatus(text, kind) {
    const p = $('m-drop-status');
    p.textContent = text;
    p.className = kind === 'error' ? 'note error' : 'note';
  }

  function scoreFile(file) {
    if (!file || !state.id) return;
    const id = state.id;
    $('m-scored').hidden = true;
    state.scored = null;
    if (file.size > DROP_LIMIT) {
      dropStatus(file.name + ' is ' + (file.size / 1048576).toFixed(1) + ' MB; at most ' +
        (DROP_LIMIT >> 20) + ' MB can be scored at once: split it.', 'error');
      return;
    }
    const bar = $('m-progress');
    bar.hidden = false;
    bar.value = 0;
    dropStatus('Uploading ' + file.name + '…');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/models/' + encodeURIComponent(id) + '/score?reasons=3');
    xhr.setRequestHeader('Content-Type', 'text/csv');
    xhr.setRequestHeader('Accept', 'application/json');
    const key = savedKey();
    if (key) xhr.setRequestHeader('Authorization', 'Bearer ' + key);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.value = Math.round((80 * e.loaded) / e.total);
    };
    xhr.upload.onload = () => { bar.value = 80; dropStatus('Scoring ' + file.name + '…'); };
    xhr.onprogress = () => { bar.value = Math.max(bar.value, 90); };
    xhr.onerror = () => { bar.hidden = true; dropStatus('The upload failed (network).', 'error'); };
    xhr.onload = () => {
      if (id !== state.id) return; // another model was picked meanwhile
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      bar.value = 100;
      if (xhr.status !== 200 || !body || !Array.isArray(body.rows)) {
        bar.hidden = true;
        const msg = body && body.error && body.error.message ? body.error.message : 'HTTP ' + xhr.status;
        dropStatus(file.name + ': ' + msg, 'error');
        return;
      }
      state.scored = { name: file.name, csv: scoredCsv(body) };
      drawScored(body);
      dropStatus(file.name + ' scored with ' + id + '.');
    };
    xhr.send(file);
  }

  function download() {
    if (!state.scored) return;
    const url = URL.createObjectURL(new Blob([state.scored.csv], { type: 'text/csv' }));
    const a = el('a', { href: url, download: state.scored.name.replace(/\.csv$/i, '') + '-scored.csv' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function wireDrop() {
    const zone = $('m-drop');
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      if (e.dataTransfer && e.dataTransfer.files.length > 0) scoreFile(e.dataTransfer.files[0]);
    });
    $('m-file').addEventListener('change', () => {
      scoreFile($('m-file').files[0]);
      $('m-file').value = '';
    });
    $('m-download').addEventListener('click', download);
  }

  async function start() {
    wireDrop();
    $('m-model').addEventListener('change', () => loadModel($('m-model').value));
    $('m-feature').addEventListener('change', onFeature);
    try {
      const list = await api('/api/models');
      const sel = $('m-model');
      for (const m of list.models) sel.append(el('option', { value: m.id, text: m.id }));
      if (list.models.length === 0) {
        setStatus('No models yet: train one with `prospect train --csv FILE --target COLUMN`.');
        return;
      }
      const latest = list.models[list.models.length - 1].id;
      sel.value = latest;
      await loadModel(latest);
    } catch (e) {
      setStatus(e.message, 'error');
    }
  }
  document.addEventListener('DOMContentLoaded', start);
})();
