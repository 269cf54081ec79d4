// rerank.js - the `rerank` command: cross-encoder scores of (query, document) pairs. Each line is
// {"query", "document"} (one pair -> {"score"}), {"query", "documents": [...]} (-> {"scores"},
// in the documents' order), or {"input_ids", "token_type_ids"?, "attention_mask"?} (a pair already
// encoded -> {"score"}). Scores are raw logits unless --activation sigmoid (or the model's config
// asks for a sigmoid); a head with several labels gives each score as the array of its logits.
// A document cut to fit the model (only_second: never the query) is reported on stderr.
// Lines are read in batches; a failed batch is retried line by line so only bad lines fail.

import { parseArgs, UsageError, intArg, choice } from './args.js';
import { jsonLines, batches, Lines, runBatch, out, f32, vecJSON } from './io.js';
import { MODEL_SPEC, loadReranker } from './model.js';

const isIntArray = (a) => Array.isArray(a) && a.every((x) => Number.isInteger(x));

/** Parses one line into an item for runBatch; kind 'bad' carries the error. */
function parseLine(l) {
  if (l.error) return { n: l.n, kind: 'bad', error: l.error };
  const v = l.value;
  if (typeof v.query === 'string' && typeof v.document === 'string') return { n: l.n, kind: 'text', input: { pairs: [[v.query, v.document]], one: true } };
  if (typeof v.query === 'string' && Array.isArray(v.documents)) {
    if (!v.documents.every((d) => typeof d === 'string')) return { n: l.n, kind: 'bad', error: '"documents" must be an array of strings' };
    return { n: l.n, kind: 'text', input: { pairs: v.documents.map((d) => [v.query, d]), one: false } };
  }
  if ('input_ids' in v) {
    if (!isIntArray(v.input_ids) || v.input_ids.length === 0) return { n: l.n, kind: 'bad', error: '"input_ids" must be a non-empty array of integers' };
    for (const k of ['token_type_ids', 'attention_mask']) {
      if (k in v && (!isIntArray(v[k]) || v[k].length !== v.input_ids.length)) {
        return { n: l.n, kind: 'bad', error: `"${k}" must be an array of integers as long as "input_ids"` };
      }
    }
    return { n: l.n, kind: 'ids', input: v };
  }
  return { n: l.n, kind: 'bad', error: 'expected {"query", "document"}, {"query", "documents": [...]} or {"input_ids": [...], "token_type_ids": [...]}' };
}

export async function rerankCommand(argv) {
  const args = parseArgs(argv, { ...MODEL_SPEC, activation: 'string', 'batch-size': 'string' });
  if (args._.length) throw new UsageError(`rerank reads JSON Lines on stdin; unexpected argument ${args._[0]}`);
  if (!args.model) throw new UsageError('--model is required');
  const activation = /** @type {'none'|'sigmoid'|undefined} */ (choice(args, 'activation', ['none', 'sigmoid']));
  const batchSize = intArg(args, 'batch-size', 32);
  const r = await loadReranker(args);
  const labels = r.info().labels;
  const scoreJSON = (s) => (labels === 1 ? f32(s[0]) : vecJSON(s));
  const lines = new Lines();
  try {
    for await (const batch of batches(jsonLines(process.stdin), batchSize)) {
      const items = batch.map(parseLine);
      const texts = items.filter((x) => x.kind === 'text');
      const ids = items.filter((x) => x.kind === 'ids');
      // All pairs of the text lines in one call (batchSize pairs per engine call), split back per line.
      const tr = await runBatch(texts, async (xs) => {
        const { scores, truncated } = await r.score(xs.flatMap((x) => x.pairs), { activation, batchSize });
        let k = 0;
        return xs.map((x) => {
          const res = { scores: scores.slice(k, k + x.pairs.length), cut: truncated.slice(k, k + x.pairs.length), one: x.one };
          k += x.pairs.length;
          return res;
        });
      });
      const ir = await runBatch(ids, async (xs) => {
        const withTypes = xs.some((x) => x.token_type_ids);
        const withMask = xs.some((x) => x.attention_mask);
        return r.scoreIds(xs.map((x) => x.input_ids), {
          activation,
          batchSize,
          ...(withTypes ? { tokenTypeIds: xs.map((x) => x.token_type_ids ?? new Array(x.input_ids.length).fill(0)) } : {}),
          ...(withMask ? { attentionMask: xs.map((x) => x.attention_mask ?? new Array(x.input_ids.length).fill(1)) } : {}),
        });
      });
      let ti = 0;
      let ii = 0;
      for (const it of items) {
        if (it.kind === 'bad') { await lines.fail(it.n, it.error); continue; }
        const [res, k] = it.kind === 'text' ? [tr, ti++] : [ir, ii++];
        if (res.failed.has(it.n)) { await lines.fail(it.n, res.failed.get(it.n)); continue; }
        const v = res.results[k];
        if (it.kind === 'ids') { await out(`{"score":${scoreJSON(v)}}`); continue; }
        const cut = v.cut.flatMap((c, j) => (c ? [j] : []));
        if (cut.length) {
          process.stderr.write(`wembed: line ${it.n}: ${v.one ? 'the document was' : `documents ${cut.join(', ')} were`} truncated to fit the model (the query is kept whole)\n`);
        }
        await out(v.one ? `{"score":${scoreJSON(v.scores[0])}}` : `{"scores":[${v.scores.map(scoreJSON).join(',')}]}`);
      }
      lines.tick(batch.length);
    }
  } finally {
    r.dispose();
  }
  return lines.finish();
}
