#!/usr/bin/env node
// longdoc.mjs - long documents: LongEmbed's two synthetic retrieval tasks (passkey, needle) on any
// model folder, accuracy per document length and per long-input method; and one very long
// document timed, in Node or in Chromium (bench/README.md, "Long documents").
//
//   node bench/longdoc.mjs --model DIR [--tasks passkey,needle]
//        [--lengths 256,512,...,32768] [--methods none,plain,ntk,extend,tempscale,chunk]
//        [--docs 100] [--queries 50] [--tau 0.9] [--dtype f32|q8] [--threads N] [--json FILE]
//   node bench/longdoc.mjs --model DIR --one 32768 [--self-extend G,W | --truncate extend]
//        [--dtype q8] [--threads 2] [--browser [--timeout S]] [--json FILE]
//
// The tasks, as LongEmbed (Zhu et al. 2024, dwzhu/LongEmbed "passkey" and "needle") builds them:
// per length, `docs` candidate documents and `queries` queries (LongEmbed: 100 and 50), each query
// relevant to exactly one document; the score is top-1 accuracy (LongEmbed's nDCG@1 with one
// relevant document). Documents are filled up to the length in the model's own tokens (special
// tokens included), the answer at depths spread evenly over 0..1 across the documents.
//   passkey  intfloat's personalized passkey retrieval, which LongEmbed adopts: the document is
//            "There is an important info hidden inside a lot of irrelevant text. Find it and memorize
//            them. I will quiz you about the important information there." then the filler "The
//            grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
//            repeated, with "<name>'s pass key is <N>. Remember it. <N> is the pass key for <name>."
//            at the depth; the query "what is the pass key for <name>?". Names and 5-digit keys
//            differ between documents.
//   needle   a fact inserted into a long unrelated text, the query a question only that fact
//            answers. LongEmbed's haystack is Paul Graham's essays, which are not in this repo: here
//            it is a fixed set of plain sentences in a seeded order, and the facts come from three
//            templates over 40 cities (the same shape: one factual sentence, a natural question).
// Methods (each a set of embed options; one the model refuses shows as "n/a"):
//   none       truncate to the trained length (info().trainedTokens)
//   plain      the whole document, no extension (RoPE and ALiBi extrapolate as they are)
//   ntk        the whole document, fixed NTK with factor length / trained (when > 1)
//   extend     truncate 'extend': the model's own method (SelfExtend on RoPE families)
//   tempscale  'extend' with TempScale (attention logits / tau, --tau)
//   chunk      windows of the trained length, averaged
// With real weights this gives LongEmbed's kind of table; with the random bench weights
// (gen/bench_models.py, gen/nomic_shaped.py) it only checks that every path runs: the numbers
// mean nothing there.
// This file is also the browser worker's (longdoc-worker.js): Node modules are imported in the
// command-line functions only.

// -----------------------------------------------------------------------------------------
// Deterministic choices

/** mulberry32: a small seeded PRNG, so that a run is repeatable. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(xs, rand) {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const FIRST = ['Alice', 'Bruno', 'Chen', 'Dalia', 'Emeka', 'Farah', 'Gustav', 'Hana', 'Ivan', 'Jamila', 'Kenji', 'Lucia',
  'Mateo', 'Nadia', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Viktor', 'Wen', 'Yara', 'Zofia'];
const LAST = ['Abbott', 'Becker', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Kowalski',
  'Larsen', 'Moreau', 'Novak', 'Okafor', 'Petrov', 'Quinn', 'Rossi', 'Sato', 'Tanaka'];
const CITIES = ['Lisbon', 'Nairobi', 'Osaka', 'Quito', 'Tallinn', 'Hobart', 'Bergen', 'Cusco', 'Da Nang', 'Essaouira', 'Fez',
  'Ghent', 'Hue', 'Ischia', 'Jaipur', 'Kyoto', 'Lyon', 'Mendoza', 'Nantes', 'Oaxaca', 'Porto', 'Queenstown', 'Riga',
  'Split', 'Tbilisi', 'Utrecht', 'Valparaiso', 'Windhoek', 'Xi\'an', 'Yerevan', 'Zanzibar', 'Aarhus', 'Bologna', 'Cork',
  'Dakar', 'Evora', 'Florence', 'Granada', 'Hanoi', 'Izmir'];
const NEEDLES = [
  { fact: (c, v) => `The best thing to do in ${c} is to ${v}.`, question: (c) => `What is the best thing to do in ${c}?`,
    values: ['eat a sandwich in the park on a sunny day', 'rent a bicycle and ride along the river', 'watch the sunset from the old harbour',
      'take the night train to the mountains', 'visit the covered market early in the morning'] },
  { fact: (c, v) => `The favourite dish of the people of ${c} is ${v}.`, question: (c) => `What is the favourite dish of the people of ${c}?`,
    values: ['grilled sardines with bread', 'lentil soup with lemon', 'rice with black beans', 'dumplings filled with cabbage', 'roasted pumpkin pie'] },
  { fact: (c, v) => `The oldest building in ${c} is ${v}.`, question: (c) => `What is the oldest building in ${c}?`,
    values: ['a stone mill by the river', 'the lighthouse on the northern cape', 'a small chapel near the square', 'the customs house at the port', 'a watchtower on the hill'] },
];
const HAYSTACK = [
  'Most of the work in a new field is figuring out which questions are worth asking.',
  'People tend to underestimate how much can change in ten years and overestimate how much can change in one.',
  'A good tool disappears in the hand and leaves only the task.',
  'The first version of anything is usually embarrassing, and that is fine.',
  'Writing forces you to notice what you do not understand yet.',
  'Small teams move quickly because they spend less time agreeing.',
  'It is easier to improve something that exists than to perfect something that does not.',
  'Curiosity compounds over years in ways that are hard to see from the inside.',
  'Most plans survive contact with reality only in a heavily edited form.',
  'The best ideas often look like toys at first.',
  'Habits are decisions that you no longer have to make.',
  'A library is a machine for meeting the dead and arguing with them.',
  'Cities grow where roads cross and rivers bend.',
  'Every map leaves out more than it shows, and that is what makes it useful.',
  'Teaching something is the fastest way to find the holes in what you know.',
  'Patience looks like doing nothing from the outside.',
];
export const PASSKEY_PREAMBLE = 'There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. ' +
  'I will quiz you about the important information there.';
export const PASSKEY_FILLER = 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.';

// -----------------------------------------------------------------------------------------
// Documents of a given length in the model's tokens

/**
 * A document of at most `target` tokens (as close as whole filler units allow): head, then the
 * units with `needle` after the first round(depth * k) of them.
 * @param {(s: string) => Promise<number>} count tokens of a text (special tokens included)
 * @param {(i: number) => string} unit the i-th filler unit
 */
export async function fillTo(count, target, head, needle, unit, depth) {
  const build = (k) => {
    const at = Math.round(depth * k);
    const parts = head ? [head] : [];
    for (let i = 0; i < k; i++) {
      if (i === at) parts.push(needle);
      parts.push(unit(i));
    }
    if (at >= k) parts.push(needle);
    return parts.join(' ');
  };
  const base = await count(build(0));
  const per = Math.max(1, ((await count(build(8))) - base) / 8);
  let k = Math.max(0, Math.floor((target - base) / per));
  for (let n = await count(build(k)); k > 0 && n > target; n = await count(build(k))) k = Math.max(0, k - Math.max(1, Math.floor((n - target) / per)));
  while ((await count(build(k + 1))) <= target) k++;
  return build(k);
}

/**
 * One length of one task: docs documents and the first `queries` of their queries.
 * @returns {{docs: string[], queries: string[], target: number[]}} query i is relevant to docs[target[i]]
 */
export async function makeTask(task, count, length, nDocs, nQueries, seed) {
  const rand = rng(seed + length);
  const docs = [];
  const queries = [];
  if (task === 'passkey') {
    const names = shuffled(FIRST.flatMap((f) => LAST.map((l) => `${f} ${l}`)), rand).slice(0, nDocs);
    if (names.length < nDocs) throw new Error(`passkey: at most ${FIRST.length * LAST.length} documents`);
    for (const [i, name] of names.entries()) {
      const key = String(10000 + Math.floor(rand() * 90000));
      const needle = `${name}'s pass key is ${key}. Remember it. ${key} is the pass key for ${name}.`;
      docs.push(await fillTo(count, length, PASSKEY_PREAMBLE, needle, () => PASSKEY_FILLER, nDocs > 1 ? i / (nDocs - 1) : 0.5));
      queries.push(`what is the pass key for ${name}?`);
    }
  } else if (task === 'needle') {
    const slots = shuffled(NEEDLES.flatMap((n) => CITIES.map((c) => ({ n, c }))), rand).slice(0, nDocs);
    if (slots.length < nDocs) throw new Error(`needle: at most ${NEEDLES.length * CITIES.length} documents`);
    for (const [i, { n, c }] of slots.entries()) {
      const order = shuffled(HAYSTACK.map((_, j) => j), rand);
      const needle = n.fact(c, n.values[Math.floor(rand() * n.values.length)]);
      docs.push(await fillTo(count, length, '', needle, (j) => HAYSTACK[order[j % order.length]], nDocs > 1 ? i / (nDocs - 1) : 0.5));
      queries.push(n.question(c));
    }
  } else {
    throw new Error(`unknown task ${task} (passkey, needle)`);
  }
  // The queries: nQueries of the documents, spread over all depths.
  const target = [];
  for (let q = 0; q < Math.min(nQueries, nDocs); q++) target.push(Math.floor((q * nDocs) / Math.min(nQueries, nDocs)));
  return { docs, queries: target.map((t) => queries[t]), target };
}

// -----------------------------------------------------------------------------------------
// Methods

/** The embed options of a method for documents of `length` tokens, on a model described by info. */
export function methodOptions(method, length, info, tau) {
  const trained = info.trainedTokens || info.maxTokens;
  const whole = { maxTokens: Math.max(length, 1), truncate: 'truncate' };
  switch (method) {
    case 'none': return { maxTokens: Math.min(trained, info.maxTokens), truncate: 'truncate' };
    case 'plain': return whole;
    case 'ntk': return { ...whole, ropeScaling: 'ntk', ropeFactor: Math.max(1, length / trained) };
    case 'extend': return { maxTokens: Math.max(length, 1), truncate: 'extend' };
    case 'tempscale': return { maxTokens: Math.max(length, 1), truncate: 'extend', attentionTemperature: tau };
    case 'chunk': return { maxTokens: Math.min(trained, info.maxTokens), truncate: 'chunk' };
    default: throw new Error(`unknown method ${method} (none, plain, ntk, extend, tempscale, chunk)`);
  }
}

export const METHODS = ['none', 'plain', 'ntk', 'extend', 'tempscale', 'chunk'];

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Accuracy of every (task, length, method): { [task]: { [length]: { [method]: accuracy | null } } }
 * (null: the model refuses the method). e: a loaded Embedder.
 */
export async function runTasks(e, { tasks = ['passkey', 'needle'], lengths, methods = METHODS, docs = 100, queries = 50,
  tau = 0.9, seed = 2404, batchSize = 4, log = () => {} }) {
  const info = e.info();
  const count = async (s) => (await e.tokenize(s)).ids.length;
  const prefix = (t) => (info.tasks.includes(t) ? { task: t } : {});
  const out = {};
  for (const task of tasks) {
    out[task] = {};
    for (const length of lengths) {
      const t = await makeTask(task, count, length, docs, queries, seed);
      let got = 0;
      for (const d of t.docs) got = Math.max(got, await count(d));
      out[task][length] = { tokens: got };
      for (const method of methods) {
        const o = methodOptions(method, length, info, tau);
        const t0 = Date.now();
        try {
          const dv = [];
          for (let i = 0; i < t.docs.length; i += batchSize) dv.push(...await e.embed(t.docs.slice(i, i + batchSize), { ...o, ...prefix('document') }));
          const qv = await e.embed(t.queries, { ...o, ...prefix('query') });
          let hit = 0;
          qv.forEach((q, i) => {
            let best = -1, arg = -1;
            dv.forEach((d, j) => { const s = dot(q, d); if (s > best) { best = s; arg = j; } });
            if (arg === t.target[i]) hit++;
          });
          out[task][length][method] = hit / qv.length;
        } catch (err) {
          if (!(err && err.code)) throw err;
          out[task][length][method] = null;          // the engine refused the method (err.code says why)
          out[task][length][`${method}Error`] = err.message;
        }
        log(`${task} ${length} ${method}: ${out[task][length][method] ?? 'n/a'} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }
  }
  return out;
}

/** The accuracy tables as text. */
export function formatTables(result, methods, info) {
  const lines = [];
  for (const [task, rows] of Object.entries(result)) {
    lines.push(`${task}: ${info.architecture}, trained ${info.trainedTokens} tokens, extend = ${info.extension}; top-1 accuracy`);
    lines.push(['length', 'tokens', ...methods].map((s) => String(s).padStart(9)).join(''));
    for (const [length, r] of Object.entries(rows)) {
      lines.push([length, r.tokens, ...methods.map((m) => (r[m] == null ? 'n/a' : r[m].toFixed(2)))].map((s) => String(s).padStart(9)).join(''));
    }
    lines.push('');
  }
  return lines.join('\n');
}

// -----------------------------------------------------------------------------------------
// One long document, timed

/** n token ids in [lo, hi) from a seeded PRNG. */
export function randomIds(n, lo, hi, seed = 32768) {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo)));
}

/** One document of `tokens` ids through e (embedIds), with opts: seconds, engine bytes, wasm bytes. */
export async function runOne(e, tokens, opts) {
  const m = e.engine.module;
  m._wembed__alloc_reset_peak();
  const before = m._wembed__alloc_bytes();
  const ids = randomIds(tokens, 5, Math.min(e.info().vocabSize, 30000));
  const t0 = Date.now();
  const [v] = await e.embedIds([ids], { maxTokens: tokens, truncate: 'error', ...opts });
  return {
    tokens, seconds: (Date.now() - t0) / 1000, ok: v.length > 0 && v.every(Number.isFinite),
    engineBytesBefore: before, enginePeakBytes: m._wembed__alloc_peak_bytes(), wasmBytes: e.engine.heapU8().buffer.byteLength,
  };
}

async function oneInChromium(root, job) {
  const { startServer } = await import('../scripts/serve.mjs');
  const { launchChromium } = await import('../tests/browser/chromium.js');
  const srv = await startServer({ root, isolated: true });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    let crashed = false;
    page.on('crash', () => { crashed = true; });
    await page.goto(`${srv.url}/bench/longdoc.html`);
    await page.waitForFunction(() => window.ready === true);
    await page.evaluate((j) => window.start(j), job);
    const t0 = Date.now();
    let shown = 0;
    for (;;) {
      if (crashed) return { ok: false, error: 'the page crashed (renderer killed, likely out of memory)' };
      const s = await page.evaluate(() => ({ done: window.done, row: window.row, error: window.error, mem: window.memBytes, at: window.startedAt }));
      if (s.done) return s.error ? { ok: false, error: s.error } : { ...s.row, wasmBytesWatched: s.mem };
      if (s.mem > shown) {
        shown = s.mem;
        process.stderr.write(`longdoc: wasm memory ${(s.mem / 2 ** 20).toFixed(0)} MiB at ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
      }
      if (job.timeout && Date.now() - t0 > job.timeout * 1000) {
        // Out of time: what the run reached (its activations are allocated when the pass starts).
        const elapsed = s.at ? (await page.evaluate(() => Date.now() - window.startedAt)) / 1000 : null;
        return { ok: false, timedOut: true, secondsSoFar: elapsed, wasmBytesWatched: s.mem, error: `not done after ${job.timeout} s` };
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await browser.close();
    await srv.close();
  }
}

// -----------------------------------------------------------------------------------------
// Command line

async function main(argv) {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    if (a === '--browser') args.browser = true;
    else args[a.slice(2)] = argv[++i];
  }
  if (!args.model) throw new Error('--model DIR is required (see the top of bench/longdoc.mjs)');
  const list = (k, d) => (args[k] ?? d).split(',').filter(Boolean);
  const threads = Number(args.threads ?? 1);
  const dtype = args.dtype ?? 'f32';
  let opts = {};
  if (args['self-extend']) {
    const [group, window] = args['self-extend'].split(',').map(Number);
    opts = { selfExtend: { group, window } };
  }
  if (args.truncate) opts.truncate = args.truncate;
  if (args.one) {
    const tokens = Number(args.one);
    let row;
    if (args.browser) {
      const rel = path.relative(root, path.resolve(args.model));
      if (rel.startsWith('..')) throw new Error('--browser: the model folder must be inside the repository (the page serves it)');
      row = await oneInChromium(root, { model: '/' + rel.split(path.sep).join('/') + '/', tokens, dtype, threads, opts,
        timeout: Number(args.timeout ?? 0) });
      row.env = 'chromium';
    } else {
      const { Embedder } = await import('../js/index.js');
      const e = await Embedder.load(path.resolve(args.model), { dtype, threads, variant: threads > 1 ? 'mt' : 'st', cache: false });
      try { row = { env: 'node', ...await runOne(e, tokens, opts) }; } finally { e.dispose(); }
    }
    Object.assign(row, { model: args.model, dtype, threads, options: opts });
    process.stdout.write(JSON.stringify(row) + '\n');
    if (args.json) fs.writeFileSync(args.json, JSON.stringify(row, null, 2) + '\n');
    return row.ok ? 0 : 1;
  }
  const { Embedder } = await import('../js/index.js');
  const loadOpts = { dtype, threads, variant: threads > 1 ? 'mt' : 'st', cache: false };
  const e = await Embedder.load(path.resolve(args.model), loadOpts);
  try {
    const methods = list('methods', METHODS.join(','));
    const result = await runTasks(e, {
      tasks: list('tasks', 'passkey,needle'), lengths: list('lengths', '256,512,1024,2048,4096,8192,16384,32768').map(Number),
      methods, docs: Number(args.docs ?? 100), queries: Number(args.queries ?? 50), tau: Number(args.tau ?? 0.9),
      log: (s) => process.stderr.write(`longdoc: ${s}\n`),
    });
    process.stdout.write(formatTables(result, methods, e.info()) + '\n');
    if (args.json) fs.writeFileSync(args.json, JSON.stringify({ model: args.model, info: e.info(), result }, null, 2) + '\n');
  } finally {
    e.dispose();
  }
  return 0;
}

if (typeof process !== 'undefined' && process.argv?.[1] &&
    import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((rc) => process.exit(rc), (err) => {
    process.stderr.write(`longdoc: ${err?.message ?? err}\n`);
    process.exit(2);
  });
}
