// common.js — what the four pages (/, /models, /graph, /docs) share, loaded by each before its own
// script (both `defer`, so they run in that order): DOM helpers that never parse HTML, the status
// line, and the JSON API call with the API key (a Bearer from sessionStorage; a 401 asks for a key
// and retries). It defines one global, `prospect`; each page takes what it needs from it.
//
// Markup: the header stays in each page's HTML. It differs from page to page (title, links, the
// page's own notes), it must show before any script runs, and no build step may stitch pages
// together, so a few repeated static lines are the price of plain files. The API-key form is
// built here instead: it belongs to the 401 flow below, it is the same on every page that calls
// the API, and a page only needs it when the server asks for a key.
'use strict';

(function () {
  const KEY_STORE = 'prospect.apiKey'; // one key for every page of this browser tab
  const SVG = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);

  // An HTML element: attrs 'class', 'text' (textContent), 'on<event>' (a listener), anything else
  // an attribute (true: present, null/undefined/false: left out); children are nodes or text.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  // An SVG element with attributes and, optionally, its text.
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
  }
  // The page's status line (#status): kind is '', 'busy', 'warn' or 'error'.
  function setStatus(text, kind) {
    const s = $('status');
    s.textContent = text || '';
    s.className = 'status' + (kind ? ' ' + kind : '');
  }

  // ---- the API key, kept for this browser tab ----
  function savedKey() {
    return sessionStorage.getItem(KEY_STORE);
  }
  function saveKey(key) {
    if (key) sessionStorage.setItem(KEY_STORE, key);
    else sessionStorage.removeItem(KEY_STORE);
  }

  // The API-key form (#auth), built the first time a key is asked for.
  const waiting = []; // the askKey() calls in flight: all go on once a key is entered
  function keyForm() {
    let box = $('auth');
    if (box) return box;
    const input = el('input', { id: 'auth-key', type: 'password', autocomplete: 'off', required: true });
    const form = el('form', {
      id: 'auth-form', class: 'modal-box', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'auth-title',
      onsubmit: (ev) => {
        ev.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        saveKey(key);
        box.hidden = true;
        for (const go of waiting.splice(0)) go();
      },
    },
    el('h2', { id: 'auth-title', text: 'API key needed' }),
    el('p', { text: 'This server asks for an API key. It is kept for this browser tab only.' }),
    el('label', { for: 'auth-key', text: 'API key' }),
    input,
    el('div', { class: 'modal-actions' }, el('button', { type: 'submit', class: 'primary', text: 'Continue' })));
    box = el('div', { id: 'auth', class: 'modal', hidden: true }, form);
    document.body.append(box);
    return box;
  }
  function askKey(message) {
    return new Promise((resolve) => {
      const box = keyForm();
      if (message) box.querySelector('p').textContent = message;
      box.hidden = false;
      $('auth-key').value = '';
      $('auth-key').focus();
      waiting.push(resolve);
    });
  }
  // Whether the API-key form is showing (pages keep their shortcuts off while it is).
  function askingKey() {
    const box = $('auth');
    return !!box && !box.hidden;
  }

  // ---- API: GET path as JSON with the Bearer key; a 401 asks for a key and retries ----
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }
  async function api(path) {
    const headers = { Accept: 'application/json' };
    const key = savedKey();
    if (key) headers.Authorization = 'Bearer ' + key;
    const r = await fetch(path, { headers, credentials: 'same-origin' });
    let body = null;
    try {
      body = await r.json();
    } catch (e) {
      body = null;
    }
    if (r.status === 401) {
      saveKey(null);
      await askKey(key ? 'That key was not accepted. Try another one.' : null);
      return api(path);
    }
    if (!r.ok) {
      const msg = body && body.error && body.error.message ? body.error.message : 'HTTP ' + r.status;
      throw new ApiError(r.status, msg);
    }
    return body;
  }

  window.prospect = Object.freeze({ $, el, svg, clear, setStatus, savedKey, saveKey, askingKey, api });
})();
