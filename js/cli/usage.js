// usage.js - the CLI's usage text. The values of named options come from the engine's table
// (engine.consts, src/wembed.h) and the index's (js/vector-index.js), so the text lists exactly
// what the commands accept.

import { flagName, valueNames } from '../names.js';
import { INDEX_NAMES } from '../vector-index.js';

/**
 * The usage text.
 * @param {Record<string, Record<string, number>>} consts engine.consts
 * @returns {string}
 */
export function usage(consts) {
  /** `--flag a|b|c` for a named option of the engine's table. @param {string} option */
  const opt = (option) => `${flagName(option)} ${valueNames(consts, option).join('|')}`;
  /** `--flag a|b|c` for a named option of the index. @param {'storage'|'rescore'|'metric'} option */
  const ix = (option) => `--${option} ${INDEX_NAMES[option].join('|')}`;
  return `usage: wembed <command> [options]   (JSON Lines on stdin, JSON Lines on stdout)

commands:
  tokenize     --model M [--no-special] [--max-length N]
               < {"text": ...}   > {"ids": [...], "tokens": [...], "offsets": [[s,e],...]} (UTF-16 units)
  embed        --model M [${opt('pooling')}]
               [--no-normalize] [--dims N] [${opt('dtype')}] [--threads N] [--batch-size N]
               [--prefix S | --task T] [--max-tokens N] [${opt('truncate')}] [--chunk-overlap N]
               [${opt('rope_scaling')}[:FACTOR]] [${opt('ntk_length')}]
               [--attention-temperature T] [--self-extend GROUP,WINDOW] [${opt('quantize')}]
               < {"text": ...} | {"input_ids": [...], "token_type_ids": [...], "attention_mask": [...]}
               > {"embedding": [...]}  or, with --pooling none, {"hidden": [[...],...]}
  embed-image  --model M [--no-normalize] [--pooling none] [--dims N] [${opt('quantize')}]
               [--preprocess-only] [--batch-size N] [--max-pixels N] [PATH...]
               < {"path": ...} | {"rgb": base64, "width": W, "height": H} | {"pixel_values": [...]}
               > {"embedding": [...]} | {"hidden": [[...],...]} | {"pixel_values": [...]}
               PATH arguments (image files or folders of them) are embedded instead of stdin,
               each output with its "path". An image of more than --max-pixels pixels
               (default 50000000; 0: no limit) is refused from its header, before decoding.
  rerank       --model M [--activation none|sigmoid] [--batch-size N] [${opt('dtype')}] [--threads N]
               < {"query": ..., "document": ...} | {"query": ..., "documents": [...]}
                 | {"input_ids": [...], "token_type_ids": [...]}
               > {"score": x} | {"scores": [...]}  (raw logits unless --activation sigmoid or the
               model's config asks for it; a document cut to fit the model is said on stderr)
  info         --model M [--dtype ...]   > architecture, dims, parameters, dtype, max tokens, memory
  search build --index FILE [--model M] [${ix('storage')}] [${ix('rescore')}]
               [--candidates N] [${ix('metric')}] [--append] [embed options: --dims, --task, ...]
               < {"id": ..., "text": ... | "embedding": [...], "meta": {...}}   > {"id": ..., "added": true}
  search query --index FILE [--model M] [--k N] [--filter JSON] [--candidates N] [--task T | --prefix S]
               < {"text": ...} | {"embedding": [...]} (optional "k", "filter")
               > {"results": [{"id": ..., "score": ..., "meta": ...}, ...]}
  search remove --index FILE   < {"id": ...}   > {"id": ..., "removed": true|false}
  search info  --index FILE    > size, dims, storage, bytes, the model and embed options it was built with
  bench gemm   [--dtype f32|q8|q4|all] [--threads N[,M...]] [--tokens 128,512] [--shapes KxN,...]
               [--min-seconds S] [--variant auto|mt|st] [--peak G] [--json]
               (--peak: this CPU's one-thread peak in GFLOP/s, e.g. from build/bench-peak;
               runs on the bench build of the engine, made by scripts/build.sh bench in a checkout)
  bench embed  --model M [--batch-size N] [--count N] [--words N] [--threads N] [--dtype ...]

model options (every model command):
  --model M          a folder, an http(s) URL, or a hub id org/name (tokenize: also a tokenizer.json)
  --model-id ID      the registry entry of a local copy (--task prefixes, Matryoshka dims), e.g.
                     --model ./bge --model-id BAAI/bge-small-en-v1.5
  --revision R       hub revision (default main)      --hub-base URL   hub or mirror
  --token T          access token (default: $HF_TOKEN) --file F        weights file (e.g. a .gguf)
  --cache-dir D      download cache (default: $XDG_CACHE_HOME/wembed or ~/.cache/wembed)
  --no-cache         do not cache downloads            --variant auto|mt|st
  --refresh          fetch every file again and rewrite the cache (cached files older than a day
                     are revalidated anyway, with a conditional request)
options:
  --version          the package and engine versions
  --help             this text
`;
}
