// ref-ids.mjs - the reference token ids of the fixture generators' texts (gen/e2e_fixture.py and
// gen/tiny_clip.py run it), from the Rust tokenizers library (npm @anush008/tokenizers), with
// truncation to 512 as a sentence-transformers model applies it. An item [query, passage] of
// texts.json is a pair (the tokenizer's pair template: gen/tiny_reranker.py).
//   node gen/ref-ids.mjs <tokenizer.json> <texts.json>   > ids.json
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');
const [tokPath, textsPath] = process.argv.slice(2);
const texts = JSON.parse(readFileSync(textsPath, 'utf8'));
const tok = Tokenizer.fromFile(tokPath);
tok.disablePadding();
tok.setTruncation(512);
const encs = texts.every((t) => typeof t === 'string')
  ? await tok.encodeBatch(texts, { addSpecialTokens: true })
  : await Promise.all(texts.map((t) => (Array.isArray(t) ? tok.encode(t[0], t[1], { addSpecialTokens: true }) : tok.encode(t, null, { addSpecialTokens: true }))));
process.stdout.write(JSON.stringify(encs.map((e) => ({ ids: e.getIds(), type_ids: e.getTypeIds() }))) + '\n');
