// docs.js — the API page (GET /docs): reads /openapi.json and draws one card per operation with
// its parameters and a "try it" form that sends the request to this server and shows the status
// and the answer (pretty-printed when it is JSON). Plain JavaScript, no build step; everything
// from the server reaches the page through textContent, never parsed as HTML. The key field
// shares the tab's API key with the other pages (common.js).
'use strict';

(function () {
  const EXAMPLES = {
    q: 'customers with credit score over 750 interested in investment products',
    top: '5',
  };
  const BODY_EXAMPLE = JSON.stringify({
    inputs: { query: ['affluent customers nearing retirement', 'young professionals with good credit'] },
    params: { top_n: 3 },
  }, null, 2);

  const { $, el, savedKey, saveKey } = window.prospect; // common.js

  function headers(json) {
    const h = { Accept: 'application/json' };
    if (json) h['Content-Type'] = 'application/json';
    const key = $('key').value.trim();
    if (key) h.Authorization = 'Bearer ' + key;
    return h;
  }

  // The URL for path with {id} and query parameters filled from the form's inputs.
  function buildUrl(path, inputs) {
    let url = path;
    const query = new URLSearchParams();
    for (const inp of inputs) {
      const v = inp.value;
      if (inp.dataset.in === 'path') url = url.replace('{' + inp.name + '}', encodeURIComponent(v));
      else if (v !== '') query.set(inp.name, v);
    }
    const qs = query.toString();
    return qs ? url + '?' + qs : url;
  }

  function shellQuote(s) {
    return "'" + s.replace(/'/g, "'\\''") + "'";
  }

  function operation(path, method, op) {
    const id = (method + path).replace(/[^a-z0-9]+/gi, '-');
    const params = op.parameters || [];
    const inputs = [];
    const form = el('form', { class: 'op-body', 'aria-label': method.toUpperCase() + ' ' + path });
    if (params.length) {
      const grid = el('div', { class: 'params' });
      for (const p of params) {
        const inputId = id + '-' + p.name;
        const inp = el('input', {
          id: inputId, name: p.name, 'data-in': p.in, required: p.required,
          type: p.schema && p.schema.type === 'integer' ? 'number' : 'text',
          min: p.schema && p.schema.type === 'integer' ? '1' : null,
          value: EXAMPLES[p.name] || '',
          placeholder: p.in === 'path' ? 'a customer id, e.g. from a search result' : '',
        });
        inputs.push(inp);
        grid.append(el('label', { for: inputId },
          p.name, p.required ? el('span', { class: 'req', title: 'required', text: ' *' }) : null,
          el('span', { class: 'none', text: ' (' + p.in + ', ' + ((p.schema && p.schema.type) || 'string') + ')' })), inp);
      }
      form.append(grid);
    } else {
      form.append(el('div', { class: 'none', text: 'No parameters.' }));
    }
    let body = null;
    if (op.requestBody) {
      body = el('textarea', { 'aria-label': 'Request body (JSON)', spellcheck: 'false', rows: '8' });
      body.value = BODY_EXAMPLE;
      form.append(el('div', { class: 'reply-head', text: 'Request body (application/json)' }), body);
    }
    const curl = el('div', { class: 'curl', 'aria-label': 'The same request with curl' });
    const drawCurl = () => {
      let c = 'curl -s' + (method === 'post' ? ' -H ' + shellQuote('Content-Type: application/json') +
        ' -d ' + shellQuote(body ? body.value.replace(/\s*\n\s*/g, ' ') : '{}') : '') +
        ' ' + shellQuote(location.origin + buildUrl(path, inputs));
      if ($('key').value.trim()) c += ' -H ' + shellQuote('Authorization: Bearer $PROSPECT_API_KEY');
      curl.textContent = c;
    };
    form.addEventListener('input', drawCurl);
    $('key').addEventListener('input', drawCurl);
    drawCurl();
    const send = el('button', { type: 'submit', class: 'primary', text: 'Send' });
    const head = el('div', { class: 'reply-head', 'aria-live': 'polite' });
    const reply = el('pre', { class: 'reply', tabindex: '0', hidden: true });
    form.append(curl, el('div', {}, send), head, reply);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const url = buildUrl(path, inputs);
      head.textContent = 'Sending…';
      const t0 = performance.now();
      try {
        const r = await fetch(url, {
          method: method.toUpperCase(), headers: headers(method === 'post'),
          body: method === 'post' && body ? body.value : undefined, credentials: 'same-origin',
        });
        const text = await r.text();
        const ms = performance.now() - t0;
        let shown = text;
        try {
          shown = JSON.stringify(JSON.parse(text), null, 2);
        } catch (e) {
          // not JSON (e.g. /metrics): shown as it is
        }
        head.textContent = '';
        head.append(el('span', { class: 'code ' + (r.ok ? 'ok' : 'bad'), text: r.status + ' ' + r.statusText }),
          ' · ' + (r.headers.get('Content-Type') || '') + ' · ' + ms.toFixed(0) + ' ms · ' + text.length + ' bytes');
        if (r.status === 401) head.append(' — enter an API key above');
        reply.textContent = shown;
        reply.hidden = false;
      } catch (e) {
        head.textContent = 'Request failed: ' + e.message;
      }
    });
    const card = el('details', { class: 'op', id },
      el('summary', {}, el('span', { class: 'method ' + method, text: method.toUpperCase() }),
        el('span', { class: 'path', text: path }), el('span', { class: 'op-summary', text: op.summary || '' })),
      form);
    return card;
  }

  async function start() {
    $('key').value = savedKey() || '';
    $('key').addEventListener('change', () => saveKey($('key').value.trim()));
    const ops = $('ops');
    try {
      const r = await fetch('/openapi.json', { headers: headers(false), credentials: 'same-origin' });
      if (!r.ok) throw new Error('HTTP ' + r.status + (r.status === 401 ? ' — enter an API key and reload' : ''));
      const spec = await r.json();
      $('version').textContent = (spec.info && spec.info.title) + ' ' + (spec.info && spec.info.version);
      for (const [path, item] of Object.entries(spec.paths || {})) {
        for (const method of ['get', 'post', 'put', 'delete']) {
          if (item[method]) ops.append(operation(path, method, item[method]));
        }
      }
      const first = ops.querySelector('#get-api-search');
      if (first) first.open = true;
    } catch (e) {
      ops.append(el('p', { class: 'error', text: 'Cannot read /openapi.json: ' + e.message }));
    }
  }
  document.addEventListener('DOMContentLoaded', start);
})();
