// app.js - the demo page: controls, progress, results. All the work happens in worker.js (the
// wembed engine in a Web Worker); this file only sends requests and draws what comes back.

import { queryTerms } from './chunk.js';

const $ = (id) => /** @type {any} */ (document.getElementById(id));

// -----------------------------------------------------------------------------------------
// The models on offer. Bundled ones ship in the repository (random weights, real tokenizers:
// deterministic but not meaningful rankings) and work offline; hub ones download once and are
// then cached by the browser (Cache API).

const MODELS = {
  text: [
    { key: 'tiny-bert', label: 'Tiny BERT · bundled, offline', source: '../tests/data/e2e/', bundled: true, size: '2.7 MB',
      note: 'A 2-layer BERT with random weights and the real bert-base-uncased tokenizer: works offline, rankings are deterministic but not meaningful.' },
    { key: 'minilm', label: 'all-MiniLM-L6-v2 · 384 dims', source: 'sentence-transformers/all-MiniLM-L6-v2', registryId: 'sentence-transformers/all-MiniLM-L6-v2', size: '91 MB',
      note: 'Fast general-purpose English sentence embeddings (downloads 91 MB once).' },
    { key: 'bge-small', label: 'bge-small-en-v1.5 · 384 dims', source: 'BAAI/bge-small-en-v1.5', registryId: 'BAAI/bge-small-en-v1.5', size: '134 MB',
      note: 'Strong small retrieval model; queries get its search instruction (downloads 134 MB once).' },
    { key: 'nomic', label: 'nomic-embed-text-v1.5 · 768 dims, Matryoshka', source: 'nomic-ai/nomic-embed-text-v1.5', registryId: 'nomic-ai/nomic-embed-text-v1.5', size: '547 MB',
      note: 'Long context (8192 tokens) and Matryoshka dims 768 → 64 (downloads 547 MB once).' },
  ],
  image: [
    { key: 'tiny-clip', label: 'Tiny CLIP · bundled, offline', source: './models/tiny-clip/', bundled: true, size: '5.7 MB',
      note: 'A 2-layer CLIP with random weights and the real CLIP tokenizer and image pipeline: works offline, rankings are deterministic but not meaningful.' },
    { key: 'clip-b32', label: 'clip-vit-base-patch32 · 512 dims', source: 'openai/clip-vit-base-patch32', registryId: 'openai/clip-vit-base-patch32', size: '605 MB',
      note: 'OpenAI CLIP ViT-B/32: search images by text or by example (downloads 605 MB once).' },
    // A pair of towers sharing one space: text queries run nomic-embed-text-v1.5 (task 'query'), images nomic-embed-vision-v1.5.
    { key: 'tiny-nomic', label: 'Tiny nomic text + vision pair · bundled, offline', bundled: true, size: '2.5 MB',
      source: { text: './models/tiny-nomic/text/', vision: './models/tiny-nomic/vision/' },
      registryId: { text: 'nomic-ai/nomic-embed-text-v1.5', vision: 'nomic-ai/nomic-embed-vision-v1.5' },
      note: 'A 2-layer nomic-embed-text + nomic-embed-vision pair with random weights, the real tokenizer and image pipeline: works offline, rankings are deterministic but not meaningful.' },
    { key: 'nomic-pair', label: 'nomic-embed-vision-v1.5 + text-v1.5 · 768 dims',
      source: { text: 'nomic-ai/nomic-embed-text-v1.5', vision: 'nomic-ai/nomic-embed-vision-v1.5' },
      registryId: { text: 'nomic-ai/nomic-embed-text-v1.5', vision: 'nomic-ai/nomic-embed-vision-v1.5' }, size: '920 MB',
      note: 'Nomic\'s vision tower in the space of nomic-embed-text-v1.5: images and long documents in one index; queries get search_query: (downloads 920 MB once).' },
  ],
};
const modelByKey = (slot, key) => MODELS[slot].find((m) => m.key === key);

// Cross-encoders for the rerank switch: they read the query and each passage together, so they
// order the vector search's best passages better than the vectors can (and cost a model pass per passage).
const RERANKERS = [
  { key: 'tiny-reranker', label: 'Tiny cross-encoder · bundled, offline', source: './models/tiny-reranker/', bundled: true, size: '1.2 MB',
    note: 'A 2-layer BERT cross-encoder with random weights and the real bert-base-uncased tokenizer: works offline, its order is deterministic but not meaningful.' },
  { key: 'ms-marco-minilm', label: 'ms-marco-MiniLM-L6-v2 · English', source: 'cross-encoder/ms-marco-MiniLM-L6-v2', size: '91 MB',
    note: 'The classic passage reranker, trained on MS MARCO; scores are raw logits (downloads 91 MB once).' },
  { key: 'bge-reranker-base', label: 'bge-reranker-base · English + Chinese', source: 'BAAI/bge-reranker-base', size: '1.1 GB',
    note: 'BAAI\'s XLM-RoBERTa cross-encoder (downloads 1.1 GB once: slow on a phone).' },
];

// -----------------------------------------------------------------------------------------
// The worker and its calls

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map();
worker.addEventListener('message', (ev) => {
  const { id, result, error, progress } = ev.data;
  const p = pending.get(id);
  if (!p) return;
  if (progress) { p.onProgress?.(progress); return; }
  pending.delete(id);
  if (error) p.reject(Object.assign(new Error(error.message), { code: error.code }));
  else p.resolve(result);
});
worker.addEventListener('error', (ev) => { console.error('worker error', ev.message); showFatal(ev.message || 'the worker failed to start'); });

function call(method, args = [], onProgress) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, method, args });
  });
}

// -----------------------------------------------------------------------------------------
// Formatting

const fmtBytes = (b) => (b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} KB` : `${b} B`);
const fmtMs = (ms) => (ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(0)} µs`);
const fmtInt = (n) => n.toLocaleString('en-US');
const esc = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function setProgress(el, frac, label) {
  el.hidden = false;
  el.querySelector('.bar').style.width = `${Math.max(0, Math.min(1, frac)) * 100}%`;
  el.querySelector('.label').textContent = label;
}

function setStatus(el, text, kind = '') {
  el.textContent = text;
  el.className = `status ${kind}`;
}

function showFatal(msg) {
  for (const slot of ['text', 'image']) setStatus($(`${slot}-index-status`), msg, 'err');
}

// -----------------------------------------------------------------------------------------
// State per slot (text, image)

const state = {
  text: { model: null, info: null, count: 0, pendingDocs: [], dims: 0, seq: 0, busy: false, reranker: null, rerankerLoading: false },
  image: { model: null, info: null, count: 0, seq: 0, busy: false, images: [], thumbURLs: new Map(), example: null },
};

/** The engine's memory: what models and indexes hold, once there are any (the few bytes the
 * engine itself keeps before that would read as a bug), and the wasm heap reserved for them. */
function showMemory(m) {
  const used = state.text.info || state.image.info || state.text.count || state.image.count;
  $('env-memory').textContent = used ? `${fmtBytes(m.liveBytes)} in use` : 'nothing loaded';
  $('env-memory').title = `wasm heap ${fmtBytes(m.heapBytes)}${used ? '' : ' (reserved; models and indexes go there)'}`;
}

async function refreshMemory() {
  try {
    showMemory(await call('memory'));
  } catch { /* not ready */ }
}

// -----------------------------------------------------------------------------------------
// Models

function fillModelSelect(slot) {
  const sel = $(`${slot}-model`);
  const online = navigator.onLine;
  sel.innerHTML = '';
  const groups = [['Bundled (offline)', MODELS[slot].filter((m) => m.bundled)], [online ? 'Hugging Face hub' : 'Hugging Face hub (offline now)', MODELS[slot].filter((m) => !m.bundled)]];
  for (const [label, models] of groups) {
    const g = document.createElement('optgroup');
    g.label = label;
    for (const m of models) {
      const o = document.createElement('option');
      o.value = m.key;
      o.textContent = `${m.label}${m.bundled ? '' : ` (${m.size})`}`;
      g.append(o);
    }
    sel.append(g);
  }
  const note = () => { $(`${slot}-model-note`).textContent = modelByKey(slot, sel.value).note; $(`${slot}-model-note`).className = 'hint'; };
  sel.addEventListener('change', note);
  note();
}

/** A model folder the user picked: its files by their names inside it (the folder's own name dropped). */
function folderModel(slot, fileList) {
  const files = {};
  let top = '';
  for (const f of fileList) {
    const [first, ...rest] = (f.webkitRelativePath || f.name).split('/');
    top ||= first;
    if (rest.length) files[rest.join('/')] = f;
  }
  // A copy of a model on offer (its folder named as the hub repository) keeps its prompts.
  const registryId = MODELS[slot].find((m) => m.registryId?.split('/')[1] === top)?.registryId;
  return { key: `folder:${top}`, label: `${top} (folder)`, files, registryId };
}

async function loadModel(slot, key, picked = null) {
  const st = state[slot];
  const model = picked ?? modelByKey(slot, key);
  if (!picked) $(`${slot}-model`).value = key;
  const prog = $(`${slot}-model-progress`);
  const btn = $(`${slot}-load`);
  btn.disabled = true;
  $(`${slot}-model-facts`).innerHTML = '';
  setProgress(prog, 0, `Loading ${model.label}…`);
  const files = new Map();
  try {
    const r = await call('loadModel', [slot, model], (e) => {
      if (e.status === 'ready' || e.status === 'debug') return;
      files.set(e.file, e);
      let loaded = 0;
      let total = 0;
      for (const f of files.values()) { loaded += f.loaded; total += Math.max(f.total, f.loaded); }
      const verb = e.status === 'download' ? 'Downloading' : 'Loading';
      setProgress(prog, total ? loaded / total : 0, `${verb} ${e.file} · ${fmtBytes(loaded)}${total ? ` / ${fmtBytes(total)}` : ''}`);
    });
    st.model = model;
    st.info = r.info;
    prog.hidden = true;
    const i = r.info;
    const facts = [
      ['Loaded in', fmtMs(r.loadMs)],
      ['Dimensions', String(i.dims)],
      ['Parameters', `${(i.parameters / 1e6).toFixed(i.parameters < 1e7 ? 2 : 1)} M · ${i.dtype}`],
      ['Weights', fmtBytes(i.weightBytes)],
      ['Max tokens', fmtInt(i.maxSeqLength > 0 ? Math.min(i.maxSeqLength, i.maxTokens) : i.maxTokens)],
      ['Threads', `${i.engine.threads} (${i.engine.variant === 'mt' ? 'wasm threads' : 'single thread'})`],
    ];
    $(`${slot}-model-facts`).innerHTML = facts.map(([k, v]) => `<dt>${k}</dt><dd>${esc(v)}</dd>`).join('');
    $(`${slot}-model-facts`).dataset.ready = key;
    applySummary(slot, r.summary);
    if (slot === 'text' && $('text-query').value.trim()) searchText();   // a query kept across a reload
    fillDims(slot);
    refreshMemory();
    updateButtons(slot);
  } catch (e) {
    prog.hidden = true;
    // Offline, a hub model fails after its retries: say what can be done instead.
    const offline = !model.bundled && (e.code === 'network' || !navigator.onLine);
    $(`${slot}-model-note`).textContent = offline
      ? `${model.label} cannot be downloaded: the Hugging Face hub is out of reach (offline?). Use the bundled model, which works offline, ` +
        'load a copy of the model from a folder (Folder…), or load this one again once online (a model downloaded once is kept by the browser and then loads offline).'
      : `Could not load ${model.label}: ${e.message}`;
    $(`${slot}-model-note`).className = 'hint err';
  } finally {
    btn.disabled = false;
  }
}

// -----------------------------------------------------------------------------------------
// Rerank: a cross-encoder over the text search's best passages

function fillRerankers() {
  const sel = $('text-reranker');
  sel.innerHTML = RERANKERS.map((m) => `<option value="${m.key}">${esc(m.label)}${m.bundled ? '' : ` (${m.size})`}</option>`).join('');
  const note = () => { $('text-reranker-note').textContent = RERANKERS.find((m) => m.key === sel.value).note; $('text-reranker-note').className = 'hint'; };
  sel.addEventListener('change', () => { note(); if ($('text-rerank').checked) loadReranker(sel.value); });
  note();
}

async function loadReranker(key) {
  const st = state.text;
  const model = RERANKERS.find((m) => m.key === key);
  const prog = $('text-reranker-progress');
  st.rerankerLoading = true;
  delete $('text-reranker-facts').dataset.ready;
  $('text-reranker-facts').innerHTML = '';
  setProgress(prog, 0, `Loading ${model.label}…`);
  const files = new Map();
  try {
    const r = await call('loadReranker', [model], (e) => {
      if (e.status === 'ready' || e.status === 'debug') return;
      files.set(e.file, e);
      let loaded = 0;
      let total = 0;
      for (const f of files.values()) { loaded += f.loaded; total += Math.max(f.total, f.loaded); }
      setProgress(prog, total ? loaded / total : 0, `${e.status === 'download' ? 'Downloading' : 'Loading'} ${e.file} · ${fmtBytes(loaded)}${total ? ` / ${fmtBytes(total)}` : ''}`);
    });
    if ($('text-reranker').value !== key) return;   // another one was picked meanwhile
    st.reranker = key;
    prog.hidden = true;
    const i = r.info;
    $('text-reranker-facts').innerHTML = [
      ['Loaded in', fmtMs(r.loadMs)],
      ['Parameters', `${(i.parameters / 1e6).toFixed(i.parameters < 1e7 ? 2 : 1)} M · ${i.dtype}`],
      ['Score', i.sigmoid ? 'sigmoid of the logit' : 'raw logit'],
    ].map(([k, v]) => `<dt>${k}</dt><dd>${esc(v)}</dd>`).join('');
    $('text-reranker-facts').dataset.ready = key;
    showMemory(r.memory);
    searchText();
  } catch (e) {
    prog.hidden = true;
    const offline = !model.bundled && (e.code === 'network' || !navigator.onLine);
    $('text-reranker-note').textContent = offline
      ? `${model.label} cannot be downloaded: the Hugging Face hub is out of reach (offline?). The bundled cross-encoder works offline.`
      : `Could not load ${model.label}: ${e.message}`;
    $('text-reranker-note').className = 'hint err';
    $('text-rerank').checked = false;
  } finally {
    st.rerankerLoading = false;
  }
}

function toggleRerank() {
  const st = state.text;
  const key = $('text-reranker').value;
  if ($('text-rerank').checked && st.reranker !== key) loadReranker(key);
  else searchText();
}

/** The previous rank → the new one, for a reranked hit. */
function moved(h, i) {
  const was = h.retrievalRank + 1;
  const now = i + 1;
  const kind = was > now ? 'up' : was < now ? 'down' : 'same';
  return `<span class="moved ${kind}" data-testid="moved" title="vector search rank ${was} → reranked ${now}">${was} → ${now}</span>`;
}

function fillDims(slot) {
  if (slot !== 'text') return;
  const st = state.text;
  const sel = $('text-dims');
  const D = st.info?.dims ?? 0;
  const mat = st.info?.matryoshkaDims;
  const opts = mat ?? (() => { const out = []; for (let d = D; d >= Math.max(8, D / 8) && d >= 1; d = Math.floor(d / 2)) out.push(d); return out; })();
  sel.innerHTML = opts.map((d, i) => `<option value="${i === 0 ? 0 : d}">${d}${i === 0 ? ' (full)' : ''}${mat || i === 0 ? '' : ' · truncated'}</option>`).join('');
  sel.value = String(st.dims && opts.includes(st.dims) ? st.dims : 0);
  sel.title = mat ? 'Matryoshka dimensions the model was trained for' : 'This model was not trained for truncation: fewer dims lose more quality';
}

function updateButtons(slot) {
  const st = state[slot];
  const ready = !!st.info && !st.busy;
  if (slot === 'text') {
    $('text-index').disabled = !ready || (st.pendingDocs.length === 0 && !$('text-paste').value.trim());
    $('text-dims').disabled = !ready;
  }
  $(`${slot}-binary`).disabled = !ready || st.count === 0;
  $(`${slot}-clear`).disabled = st.busy || st.count === 0;
  $(`${slot}-query`).disabled = !ready || st.count === 0;
}

// -----------------------------------------------------------------------------------------
// Index summaries and what the compact settings buy

function applySummary(slot, s) {
  const st = state[slot];
  if (!s) return;
  st.count = s.count;
  // The index changed: results on screen (and searches still on their way) are of the old one.
  st.seq++;
  if (slot === 'text') {
    $('text-results').innerHTML = '';
    delete $('text-results').dataset.query;
  } else delete $('image-grid').dataset.query;
  const status = $(`${slot}-index-status`);
  status.dataset.count = String(s.count);
  if (s.count) {
    const what = slot === 'text' ? `${fmtInt(s.count)} ${s.chunking === 'document' ? 'documents' : 'passages'} from ${s.docs.length} document${s.docs.length === 1 ? '' : 's'}` : `${fmtInt(s.count)} images`;
    setStatus(status, `${what} · ${s.dims} dims · ${s.binary ? 'binary' : 'float32'} · ${fmtBytes(s.bytes)}`, 'ok');
  } else setStatus(status, 'The index is empty.');
  $(`${slot}-binary`).checked = s.binary;
  if (slot === 'text') {
    state.text.dims = s.dimsSetting ?? 0;
    if (s.chunking) $('text-chunking').value = s.chunking;
    if (st.info) $('text-dims').value = String(state.text.dims);
  }
  if (slot === 'image') {
    st.images = s.images ?? [];
    drawGrid(null);
  }
  showEmpty(slot);
  updateButtons(slot);
}

/** The results column's placeholder: what to do next, whenever no results are shown. */
function showEmpty(slot) {
  const st = state[slot];
  const el = $(`${slot}-empty`);
  if (slot === 'image') { el.hidden = st.count > 0; return; }
  const shown = $('text-results').children.length > 0;
  el.hidden = shown;
  if (shown) return;
  el.innerHTML = st.count
    ? `<p><strong>${fmtInt(st.count)} ${st.count === 1 ? 'passage is' : 'passages are'} indexed${st.info ? '' : ' (its model is loading)'}.</strong></p><p>Type a query above to search them.</p>`
    : '<p><strong>Load a model, add documents, index them, then search.</strong></p><p>The bundled model works offline; the hub models download once and are cached by the browser.</p>';
}

async function showBuys(slot) {
  const el = $(`${slot}-buys`);
  const m = await call('measure', [slot]).catch(() => null);
  if (!m) { el.innerHTML = ''; return; }
  const size = m.baseBytes / Math.max(1, m.bytes);
  const speed = m.baseMs / Math.max(1e-9, m.ms);
  const same = m.storage !== 'binary' && m.dims === m.fullDims;
  const row = (name, what, bytes, ms, id) => `<tr><td><strong>${name}</strong><br><small>${what}</small></td>
    <td class="num"${id ? ` data-testid="${slot}-bytes"` : ''}>${fmtBytes(bytes)}</td><td class="num">${fmtMs(ms)}</td></tr>`;
  el.innerHTML = `<table>
    <tr><th>${fmtInt(m.count)} vectors</th><th class="num">size</th><th class="num">scan</th></tr>
    ${same ? '' : row('Baseline', `float32 · ${m.fullDims} dims`, m.baseBytes, m.baseMs)}
    ${row('This index', `${m.storage === 'binary' ? 'binary + int8 rescoring' : 'float32'} · ${m.dims} dims`, m.bytes, m.ms, true)}
    ${same ? '' : `<tr class="gain"><td>Gain</td><td class="num" data-testid="${slot}-size-gain">${size.toFixed(1)}× smaller</td><td class="num">${speed >= 1 ? `${speed.toFixed(1)}× faster` : `${(1 / speed).toFixed(1)}× slower`}</td></tr>`}
  </table>${same ? `<p class="hint">Turn on binary codes${slot === 'text' ? ' or pick fewer dimensions' : ''} to see what they save. Scan time is per query, measured here.</p>` : `<p class="hint">Scan time per query, measured here on the same number of vectors.${m.count < 20000 ? ' With this few vectors fixed costs dominate; the scan gains show from tens of thousands (bench/index.mjs).' : ''}</p>`}`;
}

async function setOptions(slot, opts) {
  const st = state[slot];
  st.busy = true;
  updateButtons(slot);
  const prog = $(`${slot}-index-progress`);
  try {
    const s = await call('setOptions', [slot, opts], (p) => setProgress(prog, p.done / p.total, `Re-embedding ${p.done} / ${p.total}`));
    prog.hidden = true;
    applySummary(slot, s);
    await showBuys(slot);
    rerunQuery(slot);
  } catch (e) {
    prog.hidden = true;
    setStatus($(`${slot}-index-status`), e.message, 'err');
  } finally {
    st.busy = false;
    updateButtons(slot);
    refreshMemory();
  }
}

// -----------------------------------------------------------------------------------------
// Text: documents, indexing, search

/** Text documents of dropped or chosen files ({name, file}): .txt, .md and text/* only. */
async function readTextFiles(entries) {
  const docs = [];
  for (const { name, file } of entries) {
    if (!/\.(txt|md|markdown)$/i.test(name) && !file.type.startsWith('text/')) continue;
    docs.push({ name, text: await file.text() });
  }
  return docs;
}

function addPending(docs, what = 'document') {
  state.text.pendingDocs.push(...docs);
  const n = state.text.pendingDocs.length;
  const added = docs.length === n ? `${n} ${what}${n === 1 ? '' : 's'}` : `${docs.length} ${what}${docs.length === 1 ? '' : 's'} added: ${n} documents`;
  setStatus($('text-index-status'), `${added} ready to index${state.text.info ? ': press Index' : ': load a model, then press Index'} (${state.text.pendingDocs.map((d) => d.name).join(', ')})`);
  $('text-index-status').dataset.pending = String(n);
  updateButtons('text');
}

async function indexTexts() {
  const st = state.text;
  const docs = [...st.pendingDocs];
  const pasted = $('text-paste').value.trim();
  if (pasted) docs.push({ name: `Pasted text ${new Date().toLocaleTimeString()}`, text: pasted });
  if (!docs.length) return;
  st.busy = true;
  updateButtons('text');
  const prog = $('text-index-progress');
  setProgress(prog, 0, 'Chunking…');
  try {
    const r = await call('indexTexts', [docs, { chunking: $('text-chunking').value }], (p) => setProgress(prog, p.done / p.total, `Embedding ${p.done} / ${p.total} chunks`));
    st.pendingDocs = [];
    $('text-paste').value = '';
    prog.hidden = true;
    applySummary('text', r);
    const status = $('text-index-status');
    status.textContent += ` · added ${r.added} in ${fmtMs(r.embedMs)}`;
    await showBuys('text');
    rerunQuery('text');
  } catch (e) {
    prog.hidden = true;
    setStatus($('text-index-status'), e.message, 'err');
  } finally {
    st.busy = false;
    updateButtons('text');
    refreshMemory();
  }
}

function highlight(text, terms) {
  let html = esc(text);
  if (!terms.length) return html;
  const re = new RegExp(`(${terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'giu');
  html = html.replace(re, '<b>$1</b>');
  return html;
}

async function searchText() {
  const st = state.text;
  const q = $('text-query').value.trim();
  const seq = ++st.seq;
  if (!q) { $('text-results').innerHTML = ''; $('text-timing').textContent = ''; showEmpty('text'); return; }
  const rerank = $('text-rerank').checked && st.reranker !== null && st.reranker === $('text-reranker').value;
  try {
    const r = await call('search', ['text', { text: q }, { k: 10, rerank }]);
    if (seq !== st.seq) return;   // a newer query is on its way
    const terms = queryTerms(q);
    const rr = r.reranked;
    const timing = $('text-timing');
    timing.textContent = `embed ${fmtMs(r.embedMs)} · search ${fmtMs(r.searchMs)}${rr ? ` · rerank +${fmtMs(rr.ms)} (top ${rr.candidates})` : ''}`;
    if (rr) timing.dataset.rerankMs = String(rr.ms);
    else delete timing.dataset.rerankMs;
    $('text-results').innerHTML = r.hits.map((h, i) => `
      <li data-id="${h.id}" data-score="${h.score}"${rr ? ` data-retrieval-rank="${h.retrievalRank}" data-retrieval-score="${h.retrievalScore}"` : ''}>
        <span class="rank">${i + 1}</span>
        <div class="head"><span class="doc">${esc(h.doc)}</span>
          ${rr ? `${moved(h, i)}<span class="score" title="cross-encoder score (vector search: cosine ${h.retrievalScore.toFixed(4)})">${h.score.toFixed(4)}</span>`
    : `<span class="score" title="cosine similarity">${h.score.toFixed(4)} <i><b style="width:${Math.max(0, h.score) * 100}%"></b></i></span>`}</div>
        <p class="snippet">${h.before ? `<span class="ctx">…${esc(h.before.slice(-120))}</span> ` : ''}<mark>${highlight(h.chunk, terms)}</mark>${h.after ? ` <span class="ctx">${esc(h.after.slice(0, 120))}…</span>` : ''}</p>
      </li>`).join('');
    $('text-results').dataset.query = q;
    if (rr) $('text-results').dataset.reranked = rr.model;
    else delete $('text-results').dataset.reranked;
    showEmpty('text');
  } catch (e) {
    if (seq !== st.seq) return;
    $('text-timing').textContent = e.message;
  }
}

// -----------------------------------------------------------------------------------------
// Images: files and folders, indexing, the grid, search by text or example

async function filesFromDrop(dt) {
  const out = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const f = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ name: prefix + f.name, file: f });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
      }
    }
  };
  const entries = [...dt.items].map((it) => it.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length) for (const e of entries) await walk(e, '');
  else for (const f of dt.files) out.push({ name: f.name, file: f });
  return out;
}

async function indexImages(files) {
  const st = state.image;
  const images = files.filter((f) => /^image\//.test(f.file.type) || /\.(png|jpe?g|webp|gif|bmp|avif)$/i.test(f.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (!images.length) { setStatus($('image-index-status'), 'No images there (PNG, JPEG, WebP, GIF).', 'err'); return; }
  if (!st.info) { setStatus($('image-index-status'), 'Load an image model first.', 'err'); return; }
  st.busy = true;
  updateButtons('image');
  const prog = $('image-index-progress');
  setProgress(prog, 0, `Embedding 0 / ${images.length} images`);
  try {
    const r = await call('indexImages', [images], (p) => setProgress(prog, p.done / p.total, `Embedding ${p.done} / ${p.total} images`));
    prog.hidden = true;
    applySummary('image', r);
    $('image-index-status').textContent += ` · added ${r.added} in ${fmtMs(r.embedMs)}`;
    await showBuys('image');
    rerunQuery('image');
  } catch (e) {
    prog.hidden = true;
    setStatus($('image-index-status'), e.message, 'err');
  } finally {
    st.busy = false;
    updateButtons('image');
    refreshMemory();
  }
}

function thumbURL(img) {
  const st = state.image;
  if (!st.thumbURLs.has(img.id)) st.thumbURLs.set(img.id, URL.createObjectURL(img.thumb));
  return st.thumbURLs.get(img.id);
}

function drawGrid(hits) {
  const st = state.image;
  const list = hits ?? st.images.map((im) => ({ ...im, score: null }));
  $('image-grid').innerHTML = list.map((h, i) => {
    const im = st.images.find((x) => x.id === h.id) ?? h;
    return `<li data-id="${h.id}" data-name="${esc(im.name)}"${h.score !== null ? ` data-score="${h.score}"` : ''} title="Click: find similar images">
      ${h.score !== null ? `<span class="badge">${i + 1}</span>` : ''}
      <img src="${thumbURL(im)}" alt="${esc(im.name)}" loading="lazy">
      <div class="cap"><span class="name">${esc(im.name)}</span>${h.score !== null ? `<span class="score">${h.score.toFixed(3)}</span>` : ''}</div>
    </li>`;
  }).join('');
}

async function searchImages(query) {
  const st = state.image;
  const seq = ++st.seq;
  if (!query) { $('image-timing').textContent = ''; drawGrid(null); delete $('image-grid').dataset.query; return; }
  try {
    const r = await call('search', ['image', query, { k: 24 }]);
    if (seq !== st.seq) return;
    $('image-timing').textContent = `${query.text !== undefined ? `embed ${fmtMs(r.embedMs)} · ` : ''}search ${fmtMs(r.searchMs)}`;
    drawGrid(r.hits);
    $('image-grid').dataset.query = query.text ?? `similar:${query.similarTo ?? 'image'}`;
  } catch (e) {
    $('image-timing').textContent = e.message;
  }
}

function currentImageQuery() {
  const st = state.image;
  if (st.example) return st.example.query;
  const t = $('image-query').value.trim();
  return t ? { text: t } : null;
}

function setExample(example) {
  const st = state.image;
  st.example = example;
  const bar = $('image-example');
  bar.hidden = !example;
  if (example) {
    bar.querySelector('img').src = example.url;
    bar.querySelector('span').textContent = `Images like ${example.name}`;
    $('image-query').value = '';
  }
}

function rerunQuery(slot) {
  if (slot === 'text') searchText();
  else searchImages(currentImageQuery());
}

// -----------------------------------------------------------------------------------------
// Wiring

function debounce(fn, ms) {
  let t = 0;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

function dropZone(el, onFiles) {
  el.addEventListener('dragover', (e) => { e.preventDefault(); el.classList.add('over'); });
  el.addEventListener('dragleave', () => el.classList.remove('over'));
  el.addEventListener('drop', async (e) => {
    e.preventDefault();
    el.classList.remove('over');
    onFiles(await filesFromDrop(e.dataTransfer));
  });
}

function wire() {
  for (const b of document.querySelectorAll('.tabs button')) {
    b.addEventListener('click', () => {
      for (const x of document.querySelectorAll('.tabs button')) x.setAttribute('aria-selected', String(x === b));
      $('panel-text').hidden = b.dataset.tab !== 'text';
      $('panel-image').hidden = b.dataset.tab !== 'image';
    });
  }
  for (const slot of ['text', 'image']) {
    fillModelSelect(slot);
    $(`${slot}-load`).addEventListener('click', () => loadModel(slot, $(`${slot}-model`).value));
    const folder = $(`${slot}-model-folder`);
    $(slot === 'text' ? 'text-folder-btn' : 'image-folder-model-btn').addEventListener('click', () => folder.click());
    folder.addEventListener('change', () => {
      const m = folderModel(slot, [...folder.files]);
      folder.value = '';
      loadModel(slot, m.key, m);
    });
    $(`${slot}-binary`).addEventListener('change', (e) => setOptions(slot, { binary: e.target.checked }));
    $(`${slot}-clear`).addEventListener('click', async () => {
      applySummary(slot, await call('clear', [slot]));
      $(`${slot}-buys`).innerHTML = '';
      if (slot === 'text') $('text-results').innerHTML = '';
      setStatus($(`${slot}-index-status`), 'Cleared: the index and its IndexedDB copy are gone.');
      refreshMemory();
    });
  }
  // text
  $('text-files').addEventListener('change', async (e) => { addPending(await readTextFiles([...e.target.files].map((f) => ({ name: f.name, file: f })))); e.target.value = ''; });
  dropZone($('text-drop'), async (files) => addPending(await readTextFiles(files)));
  $('text-paste').addEventListener('input', () => updateButtons('text'));
  $('text-samples').addEventListener('click', async () => {
    const names = await (await fetch('samples/docs/index.json')).json();
    addPending(await Promise.all(names.map(async (n) => ({ name: n, text: await (await fetch(`samples/docs/${n}`)).text() }))), 'sample document');
  });
  $('text-index').addEventListener('click', indexTexts);
  $('text-dims').addEventListener('change', (e) => setOptions('text', { dims: Number(e.target.value) }));
  $('text-query').addEventListener('input', debounce(searchText, 120));
  fillRerankers();
  $('text-rerank').addEventListener('change', toggleRerank);
  // images
  $('image-files').addEventListener('change', (e) => { indexImages([...e.target.files].map((f) => ({ name: f.name, file: f }))); e.target.value = ''; });
  $('image-folder').addEventListener('change', (e) => { indexImages([...e.target.files].map((f) => ({ name: f.webkitRelativePath || f.name, file: f }))); e.target.value = ''; });
  $('image-folder-btn').addEventListener('click', () => $('image-folder').click());
  dropZone($('image-drop'), indexImages);
  $('image-samples').addEventListener('click', async () => {
    const names = await (await fetch('samples/images/index.json')).json();
    indexImages(await Promise.all(names.map(async (n) => {
      const blob = await (await fetch(`samples/images/${n}`)).blob();
      return { name: n, file: new File([blob], n, { type: 'image/png' }) };
    })));
  });
  $('image-query').addEventListener('input', debounce(() => { setExample(null); searchImages(currentImageQuery()); }, 150));
  const box = $('image-searchbox');
  box.addEventListener('dragover', (e) => { e.preventDefault(); box.classList.add('over'); });
  box.addEventListener('dragleave', () => box.classList.remove('over'));
  box.addEventListener('drop', async (e) => {
    e.preventDefault();
    box.classList.remove('over');
    const [f] = await filesFromDrop(e.dataTransfer);
    if (!f) return;
    setExample({ name: f.name, url: URL.createObjectURL(f.file), query: { image: f.file } });
    searchImages(currentImageQuery());
  });
  $('image-example-clear').addEventListener('click', () => { setExample(null); searchImages(currentImageQuery()); });
  $('image-grid').addEventListener('click', (e) => {
    const li = e.target.closest('li');
    if (!li) return;
    const id = Number(li.dataset.id);
    const im = state.image.images.find((x) => x.id === id);
    setExample({ name: im.name, url: thumbURL(im), query: { similarTo: id } });
    searchImages(currentImageQuery());
  });
}

async function start() {
  wire();
  try {
    const env = await call('init');
    $('env-isolated').textContent = env.isolated ? 'yes' : 'no';
    $('env-isolated').className = `v ${env.isolated ? 'yes' : 'no'}`;
    $('env-isolated').title = env.isolated ? 'SharedArrayBuffer is available: the threaded wasm module runs' : 'Serve with COOP/COEP headers (npm start) for threads';
    $('env-threads').textContent = `${env.threads}${env.variant === 'mt' ? ' · wasm threads' : ' · single'}`;
    $('env-threads').dataset.threads = String(env.threads);
    $('env-threads').dataset.variant = env.variant;
    $('env-engine').textContent = `${env.version} · ${env.systemInfo.replace(' wasm32', '')}`;
    showMemory(env.memory);
    document.body.dataset.ready = 'true';
    for (const slot of ['text', 'image']) {
      const r = env.restored[slot];
      if (!r) continue;
      applySummary(slot, r);
      setStatus($(`${slot}-index-status`), `Restored from IndexedDB: ${$(`${slot}-index-status`).textContent}`, 'ok');
      $(`${slot}-index-status`).dataset.restored = 'true';
      const m = r.model && modelByKey(slot, r.model.key);
      if (m && (m.bundled || navigator.onLine)) loadModel(slot, m.key).then(() => showBuys(slot));
    }
    refreshMemory();
  } catch (e) {
    showFatal(`The engine did not start: ${e.message}`);
  }
}

start();
