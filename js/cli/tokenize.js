// tokenize.js - the `tokenize` command: a tokenizer.json (or a model's) run on each line, with
// ids, tokens and UTF-16 offsets out.

import { WembedError } from '../errors.js';
import { parseArgs, UsageError, intArg } from './args.js';
import { jsonLines, Lines, out } from './io.js';
import { MODEL_SPEC, sourceOptions } from './model.js';

export async function tokenizeCommand(argv) {
  const args = parseArgs(argv, { ...MODEL_SPEC, special: 'boolean', 'max-length': 'string', 'batch-size': 'string' });
  if (!args.model) throw new UsageError('--model is required');
  const { Tokenizer } = await import('../tokenizer.js');
  const tok = await Tokenizer.load(args.model, sourceOptions(args));
  const topts = { addSpecialTokens: args.special !== false, maxLength: intArg(args, 'max-length', 0, 0) };
  const lines = new Lines();
  try {
    for await (const l of jsonLines(process.stdin)) {
      if (l.error) { await lines.fail(l.n, l.error); continue; }
      if (typeof l.value.text !== 'string') { await lines.fail(l.n, 'expected {"text": string}'); continue; }
      try {
        const enc = tok.encode(l.value.text, topts);
        await out(JSON.stringify({ ids: enc.ids, tokens: enc.tokens, offsets: enc.offsets }));
      } catch (e) {
        if (!(e instanceof WembedError)) throw e;
        await lines.fail(l.n, e.message);
      }
      lines.tick(1);
    }
  } finally {
    tok.dispose();
  }
  return lines.finish();
}

