// app.js — the relationship managers' search page (GET /), plain JavaScript, no framework and no
// build step. It only talks to the JSON API of the same server (/api/search, /api/customers/ID,
// /api/customers/ID/similar, /api/schema, /health), through common.js (DOM helpers, the API call
// with its key). Sorting by a column is client side over the answer (the header again: descending,
// again: the ranking; the # column: the ranking). Saved searches, alerts, feedback and "export
// all" live in saved.js, which hooks in through window.prospectPage (hooks.row decorates each
// result row, hooks.answer sees each search answer; state.feedback's ids go with the search).
//
// Rules: every value that comes from the API is hostile; it reaches the page only through
// textContent / DOM nodes, never parsed as HTML (the server's Content-Security-Policy also forbids
// inline script). Query spans in the plan are UTF-8 byte offsets; they are cut from the UTF-8
// bytes of the query (TextEncoder / TextDecoder), never from the UTF-16 JavaScript string.
'use strict';

(function () {
  const SAMPLES = [
    'Find high-income professionals nearing retirement who might be interested in wealth management services',
    'Young professionals with good credit scores who might qualify for premium credit cards',
    'Customers with credit score over 750 interested in investment products',
    'affluent customers with children in college who might need education loans',
    'customers under 35 with income over $100k',
  ];
  const COLS_STORE = 'prospect.columns';
  const MAX_DEFAULT_COLS = 5;

  const { $, el, clear, setStatus, askingKey, api } = window.prospect; // common.js
  const state = {
    schema: null,      // {rows, dense, columns: [{name, label, type, id, values?}]}
    byName: new Map(), // column name -> schema column
    answer: null,      // the last /api/search or /similar answer
    mode: 'search',    // 'search' | 'similar'
    similarOf: null,   // customer id the similar list is about
    columns: [],       // column names shown in the table
    chosen: null,      // columns the user picked (null: automatic)
    detailId: null,    // customer shown in the panel
    lastRow: 0,        // row index that had focus
    seq: 0,            // request sequence: only the latest answer is drawn
    feedback: { up: [], down: [] }, // customers marked more / fewer like these (saved.js)
    sort: null,        // {column, dir: 'asc' | 'desc'}: the table's order; null: the ranking
  };
  // What web/saved.js (saved searches, alerts, feedback, export all) hooks into.
  const hooks = { row: [], answer: [] };

  // ---- formatting by column type ----
  const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
  const num = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  function fmt(col, v) {
    if (v === null || v === undefined) return '—';
    const type = col ? col.type : typeof v;
    if (typeof v === 'boolean') return v ? 'Yes' : 'No';
    if (typeof v === 'number') {
      if (type === 'currency') return money.format(v);
      if (type === 'percent') return num.format(v) + '%';
      if (type === 'integer' && col && /year|since|date/i.test(col.name)) return String(v);
      return num.format(v);
    }
    if (type === 'list') return String(v).split(/\s*;\s*/).filter(Boolean).join(', ');
    return String(v);
  }
  function fmtValue(col, v) { // a plan value (number, [lo, hi], list, bool)
    if (Array.isArray(v)) return v.map((x) => fmt(col, x)).join(' – ');
    return fmt(col, v);
  }
  const OPS = {
    lt: '<', le: '≤', gt: '>', ge: '≥', eq: '=', ne: '≠', between: 'between', in: 'in',
    not_in: 'not in', contains: 'has', not_contains: 'has no', is_true: 'is', is_false: 'is not',
  };

  // ---- UTF-8 byte spans ----
  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8', { fatal: false });
  // The query with the byte span [start, start + len) removed and spaces tidied.
  function cutSpan(query, span) {
    const bytes = enc.encode(query);
    const start = Math.max(0, Math.min(bytes.length, span[0]));
    const end = Math.max(start, Math.min(bytes.length, span[0] + span[1]));
    const out = new Uint8Array(bytes.length - (end - start));
    out.set(bytes.subarray(0, start), 0);
    out.set(bytes.subarray(end), start);
    let q = dec.decode(out).replace(/\s+([,.;:!?])/g, '$1').replace(/\s{2,}/g, ' ');
    // words left dangling at either end ("… under 35 with") go too
    for (let prev = null; prev !== q;) {
      prev = q;
      q = q.replace(/^[\s,;]+|[\s,;]+$/g, '').replace(DANGLING_END, '').replace(DANGLING_START, '');
    }
    return q;
  }
  const DANGLING_END = /\s+(with|and|or|who|that|which|in|of|for|having|but|plus)$/i;
  const DANGLING_START = /^(and|or|but|plus)\s+/i;

  // ---- columns shown in the table ----
  function planColumns(answer) {
    const seen = [];
    for (const item of [...(answer.filters || []), ...(answer.boosts || [])]) {
      if (item.column && !seen.includes(item.column)) seen.push(item.column);
    }
    return seen;
  }
  // Columns for the table: the user's pick, or the columns the query's filters and boosts
  // touched, then a spread of the rest (a number, the most varied categories, an amount).
  function pickColumns(answer) {
    if (state.chosen) return state.chosen.filter((n) => state.byName.has(n));
    const touched = planColumns(answer).filter((n) => state.byName.has(n) && !state.byName.get(n).id);
    const all = state.schema.columns.filter((c) => !c.id);
    const cats = all.filter((c) => c.type === 'category' && (c.values || []).length > 2)
      .sort((a, b) => (b.values || []).length - (a.values || []).length);
    const first = (type) => all.find((c) => c.type === type);
    const wanted = [first('integer'), cats[0], first('currency'), cats[1],
      ...all.filter((c) => ['integer', 'real', 'currency', 'percent'].includes(c.type) ||
        (c.type === 'category' && (c.values || []).length > 2))];
    const rest = [];
    for (const c of wanted) {
      if (touched.length + rest.length >= MAX_DEFAULT_COLS) break;
      if (c && !touched.includes(c.name) && !rest.includes(c.name)) rest.push(c.name);
    }
    const order = (n) => all.findIndex((c) => c.name === n);
    return [...touched, ...rest.sort((a, b) => order(a) - order(b))];
  }
  function drawPicker() {
    const list = $('columns-list');
    clear(list);
    for (const c of state.schema.columns) {
      if (c.id) continue;
      const box = el('input', { type: 'checkbox', value: c.name, checked: state.columns.includes(c.name) });
      box.addEventListener('change', () => {
        const picked = [...list.querySelectorAll('input:checked')].map((i) => i.value);
        state.chosen = picked;
        localStorage.setItem(COLS_STORE, JSON.stringify(picked));
        drawTable();
      });
      list.append(el('label', {}, box, ' ' + c.label));
    }
    list.append(el('button', {
      type: 'button', class: 'link', text: 'Automatic',
      onclick: () => {
        state.chosen = null;
        localStorage.removeItem(COLS_STORE);
        drawTable();
        drawPicker();
      },
    }));
  }

  // ---- search ----
  async function search(q, keep) {
    q = q.trim();
    // a new query starts without the last one's feedback (saved.js passes keep)
    if (!keep && state.answer && state.answer.query !== q) state.feedback = { up: [], down: [] };
    $('q').value = q;
    if (!q) {
      $('q').focus();
      return;
    }
    const top = $('top').value;
    const url = new URL(location.href);
    url.searchParams.set('q', q);
    history.replaceState(null, '', url.pathname + url.search);
    const seq = ++state.seq;
    setStatus('Searching…', 'busy');
    try {
      let path = '/api/search?q=' + encodeURIComponent(q) + '&top=' + encodeURIComponent(top);
      if (state.feedback.up.length) path += '&up=' + encodeURIComponent(state.feedback.up.join(','));
      if (state.feedback.down.length) path += '&down=' + encodeURIComponent(state.feedback.down.join(','));
      const answer = await api(path);
      if (seq !== state.seq) return;
      state.answer = answer;
      state.mode = 'search';
      state.similarOf = null;
      drawPlan(answer);
      drawResults();
      for (const f of hooks.answer) f(answer);
    } catch (e) {
      if (seq !== state.seq) return;
      setStatus(e.message, 'error');
    }
  }
  async function findSimilar(id) {
    const seq = ++state.seq;
    setStatus('Finding customers like ' + id + '…', 'busy');
    try {
      const answer = await api('/api/customers/' + encodeURIComponent(id) + '/similar?top=' +
        encodeURIComponent($('top').value));
      if (seq !== state.seq) return;
      state.answer = answer;
      state.mode = 'similar';
      state.similarOf = id;
      $('plan').hidden = true;
      drawResults();
      $('results').focus();
    } catch (e) {
      if (seq !== state.seq) return;
      setStatus(e.message, 'error');
    }
  }

  function chip(kind, item) {
    const col = state.byName.get(item.column);
    const label = (item.label || item.column) + ' ' + (OPS[item.op] || item.op) +
      (item.op === 'is_true' || item.op === 'is_false' ? '' : ' ' + fmtValue(col, item.value));
    const words = item.text ? '“' + item.text + '”' : '';
    const remove = el('button', {
      type: 'button', class: 'chip-x',
      'aria-label': 'Remove ' + kind + ': ' + label + ' and search again',
      title: 'Remove and search again',
      text: '✕',
      onclick: () => {
        const q = state.answer && item.span ? cutSpan(state.answer.query, item.span) : '';
        search(q);
      },
    });
    return el('span', { class: 'chip ' + kind, 'data-kind': kind, title: words },
      el('span', { class: 'chip-text', text: label }), remove);
  }
  function drawPlan(a) {
    const f = $('filters');
    const b = $('boosts');
    clear(f);
    clear(b);
    for (const item of a.filters || []) f.append(chip('filter', item));
    for (const item of a.boosts || []) b.append(chip('boost', item));
    if (!(a.filters || []).length) f.append(el('span', { class: 'none', text: 'none' }));
    if (!(a.boosts || []).length) b.append(el('span', { class: 'none', text: 'none' }));
    $('semantic').textContent = a.semantic_text ? '“' + a.semantic_text + '”' : 'none';
    $('semantic').className = a.semantic_text ? 'semantic' : 'none';
    drawUnderstanding(a);
    $('plan').hidden = false;
  }
  // The plan's readings (how a span was read when the words alone did not settle it) and the
  // spans it did not understand, with did-you-mean suggestions; text nodes only.
  function drawUnderstanding(a) {
    const r = $('readings');
    const u = $('unknown');
    clear(r);
    clear(u);
    for (const item of a.readings || []) {
      const alt = item.alternative ? ' (not ' + (item.alternative.label || item.alternative.column) + ')' : '';
      r.append(el('span', { class: 'reading', title: item.reason || '' },
        '“' + (item.text || '') + '” → ' + (item.label || item.column) + alt + ': ' + (item.reason || '')));
    }
    for (const item of a.not_understood || []) {
      const sugg = (item.suggestions || []).length ? ' — did you mean ' + item.suggestions.join(', ') + '?' : '';
      u.append(el('span', { class: 'unknown-item', title: item.reason || '' },
        '“' + (item.text || '') + '” — ' + (item.reason || 'not understood') + sugg));
    }
    $('readings-row').hidden = !(a.readings || []).length;
    $('unknown-row').hidden = !(a.not_understood || []).length;
  }

  function drawResults() {
    const a = state.answer;
    const n = (a.results || []).length;
    $('empty').hidden = true;
    $('results').hidden = false;
    const title = $('results-title');
    clear(title);
    if (state.mode === 'similar') {
      title.append('Customers like ' + state.similarOf + ' ');
      title.append(el('button', {
        type: 'button', class: 'link', text: '← back to search',
        onclick: () => search($('q').value),
      }));
    } else {
      title.append('Results');
    }
    let msg;
    if (state.mode === 'similar') {
      msg = n + ' most similar customer' + (n === 1 ? '' : 's') + '.';
    } else {
      msg = a.candidates + ' of ' + (state.schema ? state.schema.rows : '?') +
        ' customers pass the filters; showing the top ' + n + '.';
    }
    if (a.conflicts && a.conflicts.length) msg += ' ' + a.conflicts.map((c) => c.message).join('; ') + '.';
    setStatus(msg, n ? '' : 'warn');
    drawOrderNote(a);
    drawTable();
    drawPicker();
  }

  // ---- sort by any column (the ranking one click away) ----
  function sortedResults(results) {
    if (!state.sort) return results;
    const { column, dir } = state.sort;
    const key = (r) => (r.row ? r.row[column] : null);
    const sign = dir === 'desc' ? -1 : 1;
    return results.map((r, i) => [r, i]).sort(([x, i], [y, j]) => {
      const a = key(x), b = key(y);
      if (a === null || a === undefined) return b === null || b === undefined ? i - j : 1;
      if (b === null || b === undefined) return -1;
      const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
      return c ? sign * c : i - j;
    }).map(([r]) => r);
  }
  function sortBy(column) {
    if (!column) state.sort = null;
    else if (state.sort && state.sort.column === column) {
      state.sort = state.sort.dir === 'asc' ? { column, dir: 'desc' } : null;
    } else state.sort = { column, dir: 'asc' };
    drawTable();
  }
  function sortHeader(th, column) {
    const on = column ? state.sort && state.sort.column === column : !state.sort;
    th.setAttribute('aria-sort', on ? (column ? (state.sort.dir === 'asc' ? 'ascending' : 'descending') : 'descending') : 'none');
    th.classList.add('sortable');
    th.title = column ? 'Sort by this column (again: descending, again: the ranking)' : 'Back to the ranking';
    th.tabIndex = 0;
    th.addEventListener('click', () => sortBy(column));
    th.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') sortBy(column); });
    if (on && column) th.append(state.sort.dir === 'asc' ? ' ▲' : ' ▼');
    return th;
  }

  // Ranked or not (the answer's "ranked" / "order"): id order is not presented as a ranking.
  function drawOrderNote(a) {
    const note = $('order-note');
    note.classList.toggle('unranked', a.ranked === false);
    if (a.ranked === false) {
      note.textContent = 'unranked — ' + a.candidates + ' customer' + (a.candidates === 1 ? '' : 's') +
        ' match the filters, in import order';
    } else {
      note.textContent = a.order ? 'Ranked by ' + a.order + '.' : '';
    }
  }

  // A result's reasons as short texts: "why" (search) or "shared" (similar).
  function reasons(r) {
    if (Array.isArray(r.shared)) return r.shared.slice();
    return (r.why || []).map((w) => w.text);
  }

  function drawTable() {
    const a = state.answer;
    if (!a) return;
    state.columns = pickColumns(a);
    const idCol = state.schema.columns.find((c) => c.id);
    const thead = $('thead');
    const tbody = $('tbody');
    clear(thead);
    clear(tbody);
    const hr = el('tr', {}, sortHeader(el('th', { scope: 'col', class: 'rank', text: '#' }), null),
      sortHeader(el('th', { scope: 'col', text: idCol ? idCol.label : 'Customer' }), idCol ? idCol.name : null));
    for (const name of state.columns) {
      const c = state.byName.get(name);
      const hot = state.mode === 'search' && planColumns(a).includes(name);
      const th = el('th', { scope: 'col', class: (isNum(c) ? 'num' : '') + (hot ? ' hot' : ''), text: c.label,
        'data-column': name });
      sortHeader(th, name);
      if (hot) th.title = 'used by the query; ' + th.title;
      hr.append(th);
    }
    hr.append(sortHeader(el('th', { scope: 'col', class: 'score-col', text: 'Score' }), null));
    if (hooks.row.length) hr.append(el('th', { scope: 'col', class: 'fb-col', text: 'More / fewer like' }));
    thead.append(hr);
    const ranked = a.results || [];
    const rankOf = new Map(ranked.map((r, i) => [r.customer_id, i + 1]));
    const results = sortedResults(ranked);
    const max = results.reduce((m, r) => Math.max(m, r.score || 0), 0);
    results.forEach((r, i) => {
      const tr = el('tr', {
        tabindex: i === 0 ? '0' : '-1', 'data-id': r.customer_id,
        'aria-label': 'Customer ' + r.customer_id + ', rank ' + (i + 1) + '. Press Enter for details.',
      });
      tr.append(el('td', { class: 'rank', text: String(rankOf.get(r.customer_id) || i + 1) }));
      tr.append(el('td', { class: 'id', text: r.customer_id }));
      for (const name of state.columns) {
        const c = state.byName.get(name);
        tr.append(el('td', { class: isNum(c) ? 'num' : '', text: fmt(c, r.row ? r.row[name] : null) }));
      }
      const frac = max > 0 ? Math.max(0.02, (r.score || 0) / max) : 0;
      const bar = max > 0 ? el('span', { class: 'bar', 'aria-hidden': 'true' }, el('span', { class: 'fill' }))
        : el('span', { class: 'none', text: 'passes filters' });
      if (max > 0) bar.firstChild.style.width = (frac * 100).toFixed(1) + '%';
      const parts = ['score ' + num.format(r.score || 0)];
      if (typeof r.similarity === 'number') parts.push('similarity ' + r.similarity.toFixed(3));
      if (r.lexical) parts.push('keywords ' + num.format(r.lexical));
      if (r.boost) parts.push('boosts ' + num.format(r.boost));
      tr.append(el('td', { class: 'score-col', title: parts.join(' · ') }, bar,
        el('span', { class: 'score-num', text: max > 0 ? (frac * 100).toFixed(0) : '' })));
      for (const f of hooks.row) f(tr, r);
      tr.addEventListener('click', (ev) => { if (!ev.target.closest('button')) openDetail(r.customer_id, tr); });
      tr.addEventListener('focus', () => { state.lastRow = i; });
      tbody.append(tr);
      const why = reasons(r);
      if (why.length) {
        const label = Array.isArray(r.shared) ? 'Shares: ' : 'Why: ';
        tr.setAttribute('aria-label', 'Customer ' + r.customer_id + ', rank ' + (i + 1) + '. ' + label +
          why.join('; ') + '. Press Enter for details.');
        tbody.append(el('tr', { class: 'why-row', 'aria-hidden': 'true' },
          el('td', { colspan: String(state.columns.length + 3 + (hooks.row.length ? 1 : 0)), class: 'why' },
            el('span', { class: 'why-label', text: label }), why.join(' · '))));
      }
    });
    if (!results.length) {
      tbody.append(el('tr', {}, el('td', {
        colspan: String(state.columns.length + 3 + (hooks.row.length ? 1 : 0)), class: 'none',
        text: 'No customer matches. Remove a filter to widen the search.',
      })));
    }
    markSelected();
  }
  function isNum(c) {
    return c && ['integer', 'real', 'currency', 'percent'].includes(c.type);
  }
  function markSelected() {
    for (const tr of $('tbody').querySelectorAll('tr[data-id]')) {
      tr.classList.toggle('selected', tr.dataset.id === state.detailId);
      if (tr.dataset.id === state.detailId) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    }
  }

  // ---- keyboard: / focuses search, arrows move through rows, Enter opens, Escape closes ----
  function rows() {
    return [...$('tbody').querySelectorAll('tr[data-id]')];
  }
  function focusRow(i) {
    const rs = rows();
    if (!rs.length) return;
    i = Math.max(0, Math.min(rs.length - 1, i));
    rs.forEach((r, k) => r.setAttribute('tabindex', k === i ? '0' : '-1'));
    rs[i].focus();
    state.lastRow = i;
  }
  function onTableKey(ev) {
    const tr = ev.target.closest('tr[data-id]');
    if (!tr) return;
    const i = rows().indexOf(tr);
    if (ev.key === 'ArrowDown') { focusRow(i + 1); ev.preventDefault(); }
    else if (ev.key === 'ArrowUp') { focusRow(i - 1); ev.preventDefault(); }
    else if (ev.key === 'Home') { focusRow(0); ev.preventDefault(); }
    else if (ev.key === 'End') { focusRow(rows().length - 1); ev.preventDefault(); }
    else if (ev.key === 'Enter' || ev.key === ' ') { openDetail(tr.dataset.id, tr); ev.preventDefault(); }
  }
  function onGlobalKey(ev) {
    const t = ev.target;
    const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
    if (ev.key === '/' && !typing && !askingKey()) {
      ev.preventDefault();
      $('q').focus();
      $('q').select();
    } else if (ev.key === 'Escape') {
      if (!$('detail').hidden) {
        closeDetail();
        ev.preventDefault();
      } else if ($('columns-picker').open) {
        $('columns-picker').open = false;
      }
    } else if (ev.key === 'ArrowDown' && t === $('q') && rows().length) {
      ev.preventDefault();
      focusRow(0);
    }
  }

  // ---- customer panel ----
  async function openDetail(id) {
    state.detailId = id;
    markSelected();
    const panel = $('detail');
    $('detail-title').textContent = id;
    const dl = $('detail-fields');
    clear(dl);
    dl.append(el('div', { class: 'none', text: 'Loading…' }));
    panel.hidden = false;
    document.body.classList.add('with-detail');
    panel.focus();
    try {
      const c = await api('/api/customers/' + encodeURIComponent(id));
      if (state.detailId !== id) return;
      clear(dl);
      const touched = state.mode === 'search' && state.answer ? planColumns(state.answer) : [];
      drawDetailWhy(id);
      for (const col of state.schema.columns) {
        if (col.id) continue;
        const v = c.row ? c.row[col.name] : null;
        const row = el('div', { class: 'field' + (touched.includes(col.name) ? ' touched' : '') },
          el('dt', { text: col.label }), el('dd', { text: fmt(col, v) }));
        dl.append(row);
      }
    } catch (e) {
      clear(dl);
      dl.append(el('div', { class: 'error', text: e.message }));
    }
    drawRecommendations(id);
  }
  // The customer panel's "Why it matched" / "Shared with": the result's reasons, one per line.
  function drawDetailWhy(id) {
    const box = $('detail-why');
    const list = $('detail-why-list');
    clear(list);
    const r = state.answer && (state.answer.results || []).find((x) => x.customer_id === id);
    const why = r ? reasons(r) : [];
    box.hidden = !why.length;
    $('detail-why-title').textContent = state.mode === 'similar'
      ? 'Shared with ' + state.similarOf : 'Why it matched';
    for (const t of why) list.append(el('li', { text: t }));
  }

  // "Recommended products": only when the server has a recommender (GET /health "recommender").
  async function drawRecommendations(id) {
    const box = $('recs'), list = $('recs-list');
    clear(list);
    box.hidden = !state.recommender;
    if (!state.recommender) return;
    $('recs-model').textContent = state.recommender;
    list.append(el('li', { class: 'none', text: 'Loading…' }));
    try {
      const r = await api('/api/customers/' + encodeURIComponent(id) + '/recommendations?top=5');
      if (state.detailId !== id) return;
      clear(list);
      for (const item of r.recommendations) {
        list.append(el('li', { 'data-product': item.product_id },
          el('span', { class: 'rec-id', text: item.product_id }), ' ',
          el('span', { class: 'rec-label', text: item.product }), ' ',
          el('span', { class: 'rec-score', text: item.score.toFixed(2) })));
      }
      if (!r.recommendations.length) list.append(el('li', { class: 'none', text: 'Holds every product already.' }));
    } catch (e) {
      if (state.detailId !== id) return;
      clear(list);
      list.append(el('li', { class: 'none', text: e.status === 404 ? 'Not in the recommender (retrain to include new customers).' : e.message }));
    }
  }
  function closeDetail() {
    $('detail').hidden = true;
    document.body.classList.remove('with-detail');
    const id = state.detailId;
    state.detailId = null;
    markSelected();
    const back = rows().find((r) => r.dataset.id === id);
    if (back) focusRow(rows().indexOf(back));
    else $('q').focus();
  }

  // ---- CSV export (client side) ----
  // A cell that a spreadsheet would read as a formula (= + - @, tab, CR) gets a leading quote.
  function csvCell(v) {
    let s = v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? 'Yes' : 'No') : String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\r\n]/.test(s) || s !== s.trim() ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function exportCsv() {
    const a = state.answer;
    if (!a || !a.results) return;
    const cols = state.schema.columns.filter((c) => !c.id);
    const idCol = state.schema.columns.find((c) => c.id);
    const head = ['rank', idCol ? idCol.name : 'customer_id', 'score', ...cols.map((c) => c.name)];
    const lines = [head.map(csvCell).join(',')];
    a.results.forEach((r, i) => {
      const cells = [i + 1, r.customer_id, r.score, ...cols.map((c) => (r.row ? r.row[c.name] : null))];
      lines.push(cells.map(csvCell).join(','));
    });
    const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const link = el('a', {
      href: URL.createObjectURL(blob),
      download: 'prospect-' + (state.mode === 'similar' ? 'similar-' : '') +
        new Date().toISOString().slice(0, 10) + '.csv',
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  // ---- start ----
  function drawSamples() {
    const box = $('samples');
    for (const q of SAMPLES) {
      box.append(el('button', {
        type: 'button', class: 'sample', text: q, title: 'Search: ' + q,
        onclick: () => search(q),
      }));
    }
  }
  async function start() {
    drawSamples();
    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      search($('q').value);
    });
    $('tbody').addEventListener('keydown', onTableKey);
    document.addEventListener('keydown', onGlobalKey);
    $('detail-close').addEventListener('click', closeDetail);
    $('similar').addEventListener('click', () => { if (state.detailId) findSimilar(state.detailId); });
    $('export').addEventListener('click', exportCsv);
    try {
      state.chosen = JSON.parse(localStorage.getItem(COLS_STORE) || 'null');
      if (!Array.isArray(state.chosen) || !state.chosen.length) state.chosen = null;
    } catch (e) {
      state.chosen = null;
    }
    try {
      state.schema = await api('/api/schema');
      for (const c of state.schema.columns) state.byName.set(c.name, c);
      $('book-size').textContent = num.format(state.schema.rows) + ' customers';
      const health = await api('/health');
      state.recommender = health && health.recommender ? health.recommender : null;
      if (health && health.dense === false) {
        const note = $('dense-note');
        note.textContent = 'Keyword + filter search';
        note.title = health.dense_status || 'semantic search is off';
        note.setAttribute('aria-label', note.title);
        note.hidden = false;
      }
    } catch (e) {
      setStatus('Cannot reach the server: ' + e.message, 'error');
      return;
    }
    document.body.classList.add('ready');
    const q = new URL(location.href).searchParams.get('q');
    if (q) search(q);
    else $('q').focus();
  }
  window.prospectPage = Object.freeze({ state, hooks, search, drawTable, openDetail, fmt });
  document.addEventListener('DOMContentLoaded', start);
})();
