// saved.js — the relationship manager's day on the search page (issue 15): save the current
// query with its chips, columns, order and feedback; the saved searches listed; "3 new
// customers match '…'" alerts with those customers; "export all N matches" (the server's
// streamed CSV, not the rows shown); thumbs up / down per result and in the customer panel,
// which re-rank the current candidates (GET /api/search up= / down=) and show a removable
// "feedback" chip. Hooks into app.js through window.prospectPage; every value from the API
// reaches the page as text nodes only (CSP: no inline script).
'use strict';

(function () {
  const { $, el, clear, setStatus, savedKey } = window.prospect; // common.js
  const page = window.prospectPage; // app.js
  const state = page.state;
  const SEEN_STORE = 'prospect.alertsSeen';

  // A request with the tab's key: JSON in and out (or text when asText).
  async function send(method, path, body, asText) {
    const headers = { Accept: asText ? 'text/csv' : 'application/json' };
    const key = savedKey();
    if (key) headers.Authorization = 'Bearer ' + key;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) {
      let msg = 'HTTP ' + r.status;
      try {
        const j = await r.json();
        if (j && j.error && j.error.message) msg = j.error.message;
      } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    return asText ? r.text() : r.json();
  }

  // ---- feedback: thumbs up / down, a removable chip ----
  function mark(id, dir) {
    const fb = state.feedback;
    const other = dir === 'up' ? 'down' : 'up';
    fb[other] = fb[other].filter((x) => x !== id);
    fb[dir] = fb[dir].includes(id) ? fb[dir].filter((x) => x !== id) : [...fb[dir], id].slice(-50);
    if (state.answer && state.mode === 'search') page.search(state.answer.query, true);
  }
  function thumbs(tr, r) {
    const up = state.feedback.up.includes(r.customer_id);
    const down = state.feedback.down.includes(r.customer_id);
    tr.append(el('td', { class: 'fb-col' },
      el('button', {
        type: 'button', class: 'fb-up' + (up ? ' on' : ''), 'aria-pressed': up ? 'true' : 'false',
        'aria-label': 'More like ' + r.customer_id, title: 'More like this one', text: '+ more',
        onclick: () => mark(r.customer_id, 'up'),
      }),
      el('button', {
        type: 'button', class: 'fb-down' + (down ? ' on' : ''), 'aria-pressed': down ? 'true' : 'false',
        'aria-label': 'Fewer like ' + r.customer_id, title: 'Fewer like this one', text: '− fewer',
        onclick: () => mark(r.customer_id, 'down'),
      })));
  }
  function drawFeedback(answer) {
    const fb = answer.feedback;
    const box = $('feedback');
    clear(box);
    $('feedback-row').hidden = !fb;
    if (!fb) return;
    const label = 'more like ' + fb.up.length + ' · fewer like ' + fb.down.length +
      (fb.space === 'vectors' ? ' (meaning)' : ' (features)');
    box.append(el('span', { class: 'chip feedback', 'data-kind': 'feedback', title: [...fb.up.map((x) => '+' + x), ...fb.down.map((x) => '−' + x)].join(' ') },
      el('span', { class: 'chip-text', text: label }),
      el('button', {
        type: 'button', class: 'chip-x', 'aria-label': 'Remove the feedback and search again',
        title: 'Remove the feedback and search again', text: '✕',
        onclick: () => {
          state.feedback = { up: [], down: [] };
          page.search(state.answer.query, true);
        },
      })));
  }

  // ---- saved searches ----
  let saved = [];
  function chipsOf(answer) {
    const items = (k) => (answer[k] || []).map((i) => ({ column: i.column, op: i.op, text: i.text || null }));
    return { applied: [...items('filters'), ...items('boosts')], removed: [] };
  }
  async function saveCurrent(ev) {
    ev.preventDefault();
    const a = state.answer;
    const name = $('save-name').value.trim();
    if (!a || state.mode !== 'search') return setStatus('Search first, then save the search.', 'warn');
    if (!name) {
      $('save-name').focus();
      return setStatus('Give the search a name to save it.', 'warn');
    }
    try {
      const r = await send('POST', '/api/saved', {
        name, query: a.query, chips: chipsOf(a), columns: state.chosen || [],
        sort: state.sort ? state.sort.column + ':' + state.sort.dir : '',
        feedback: state.feedback,
      });
      $('save-name').value = '';
      setStatus('Saved “' + r.saved.name + '”: ' + r.saved.matches + ' customers match now; new ones will show here.', '');
      loadSaved();
    } catch (e) {
      setStatus('Not saved: ' + e.message, 'error');
    }
  }
  function runSaved(s) {
    state.chosen = s.columns && s.columns.length ? s.columns : null;
    const [column, dir] = s.sort ? s.sort.split(':') : [];
    state.sort = column ? { column, dir } : null;
    state.feedback = { up: (s.feedback && s.feedback.up) || [], down: (s.feedback && s.feedback.down) || [] };
    page.search(s.query, true);
  }
  function drawSaved() {
    const list = $('saved-list');
    clear(list);
    $('saved').hidden = !saved.length;
    for (const s of saved) {
      list.append(el('li', { class: 'saved-item', 'data-id': String(s.id) },
        el('button', { type: 'button', class: 'link saved-run', text: s.name, title: s.query, onclick: () => runSaved(s) }),
        el('span', { class: 'note', text: ' ' + s.matches + ' matches ' }),
        el('button', {
          type: 'button', class: 'icon saved-del', 'aria-label': 'Delete saved search ' + s.name, text: '✕',
          onclick: async () => {
            try {
              await send('DELETE', '/api/saved/' + s.id);
              loadSaved();
            } catch (e) {
              setStatus(e.message, 'error');
            }
          },
        })));
    }
  }
  async function loadSaved() {
    try {
      saved = (await send('GET', '/api/saved')).saved || [];
      drawSaved();
      loadAlerts();
    } catch (e) {
      /* no database behind the server: the saved-search tools stay hidden */
      $('save-form').hidden = true;
    }
  }

  // ---- alerts: "3 new customers match '…'" ----
  async function loadAlerts() {
    const box = $('alerts');
    const seen = Number(localStorage.getItem(SEEN_STORE) || '0');
    let alerts = [];
    try {
      alerts = ((await send('GET', '/api/alerts?after=' + seen)).alerts || []).filter((a) => a.new > 0);
    } catch (e) {
      alerts = [];
    }
    clear(box);
    box.hidden = !alerts.length;
    for (const a of alerts) {
      const ids = el('span', { class: 'alert-ids' });
      for (const cid of (a.new_ids || []).slice(0, 20)) {
        ids.append(el('button', { type: 'button', class: 'link', text: cid, onclick: () => page.openDetail(cid) }), ' ');
      }
      if ((a.new_ids || []).length > 20) ids.append('…');
      box.append(el('div', { class: 'alert', role: 'status', 'data-alert': String(a.id) },
        el('span', { class: 'alert-text', text: a.new + ' new customer' + (a.new === 1 ? '' : 's') + ' match “' + a.name + '”' }),
        ' ', ids));
    }
    if (alerts.length) {
      box.append(el('button', {
        type: 'button', class: 'link', text: 'Dismiss',
        onclick: () => {
          localStorage.setItem(SEEN_STORE, String(Math.max(...alerts.map((a) => a.id))));
          box.hidden = true;
        },
      }));
    }
  }

  // ---- export all matches (the server's CSV, not the rows shown) ----
  async function exportAll() {
    const a = state.answer;
    if (!a) return;
    setStatus('Exporting all ' + a.candidates + ' matches…', 'busy');
    try {
      const text = await send('GET', '/api/export?q=' + encodeURIComponent(a.query), undefined, true);
      const blob = new Blob([text], { type: 'text/csv;charset=utf-8' });
      const link = el('a', { href: URL.createObjectURL(blob), download: 'prospect-all-' + new Date().toISOString().slice(0, 10) + '.csv' });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      const m = /# matches: (\d+)/.exec(text);
      setStatus('Exported ' + (m ? m[1] : 'all') + ' matches.', '');
    } catch (e) {
      setStatus('Export failed: ' + e.message, 'error');
    }
  }
  function onAnswer(answer) {
    drawFeedback(answer);
    const b = $('export-all');
    b.hidden = false;
    b.textContent = 'Export all ' + answer.candidates + ' matches';
  }

  function start() {
    page.hooks.row.push(thumbs);
    page.hooks.answer.push(onAnswer);
    $('save-form').addEventListener('submit', saveCurrent);
    $('export-all').addEventListener('click', exportAll);
    $('detail-up').addEventListener('click', () => { if (state.detailId) mark(state.detailId, 'up'); });
    $('detail-down').addEventListener('click', () => { if (state.detailId) mark(state.detailId, 'down'); });
    loadSaved();
  }
  document.addEventListener('DOMContentLoaded', start);
})();
