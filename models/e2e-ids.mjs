// e2e-ids.mjs - step 1 of the end-to-end fixture (models/gen_e2e_fixture.py runs it): the
// token ids of the test texts from the reference Rust tokenizer (npm @anush008/tokenizers),
// with truncation to 512 as a sentence-transformers model applies it.
//   node models/e2e-ids.mjs <tokenizer.json> <texts.json>   > ids.json
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');
const [tokPath, textsPath] = process.argv.slice(2);
const texts = JSON.parse(readFileSync(textsPath, 'utf8'));
const tok = Tokenizer.fromFile(tokPath);
tok.disablePadding();
tok.setTruncation(512);
const encs = await tok.encodeBatch(texts, { addSpecialTokens: true });
process.stdout.write(JSON.stringify(encs.map((e) => ({ ids: e.getIds(), type_ids: e.getTypeIds() }))) + '\n');
