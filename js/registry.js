// registry.js - GENERATED from models/registry.json by `npm run registry` (tests/js/registry.test.js
// checks that the two agree): per-model defaults, task prefixes and Matryoshka sizes. A JS module
// rather than a JSON import so that every bundler and Node 20 take it without flags or warnings.

/**
 * @typedef {object} RegistryEntry
 * @property {string[]} [aliases]
 * @property {string} architecture
 * @property {number} dims
 * @property {number[]} [matryoshkaDims]
 * @property {number} maxTokens
 * @property {string} pooling
 * @property {boolean} normalize
 * @property {Record<string, string>} prefixes  what each `task` prepends
 * @property {boolean} [image]
 * @property {number} [imageSize]
 * @property {string} [template]  zero-shot classification template (CLIP)
 */

/** @type {{models: Record<string, RegistryEntry>}} */
export const REGISTRY = {
  "models": {
    "sentence-transformers/all-MiniLM-L6-v2": {
      "aliases": [
        "all-MiniLM-L6-v2"
      ],
      "architecture": "bert",
      "dims": 384,
      "maxTokens": 256,
      "pooling": "mean",
      "normalize": true,
      "prefixes": {}
    },
    "BAAI/bge-small-en-v1.5": {
      "aliases": [
        "bge-small-en-v1.5"
      ],
      "architecture": "bert",
      "dims": 384,
      "maxTokens": 512,
      "pooling": "cls",
      "normalize": true,
      "prefixes": {
        "query": "Represent this sentence for searching relevant passages: ",
        "document": ""
      }
    },
    "BAAI/bge-base-en-v1.5": {
      "aliases": [
        "bge-base-en-v1.5"
      ],
      "architecture": "bert",
      "dims": 768,
      "maxTokens": 512,
      "pooling": "cls",
      "normalize": true,
      "prefixes": {
        "query": "Represent this sentence for searching relevant passages: ",
        "document": ""
      }
    },
    "intfloat/e5-small-v2": {
      "aliases": [
        "e5-small-v2"
      ],
      "architecture": "bert",
      "dims": 384,
      "maxTokens": 512,
      "pooling": "mean",
      "normalize": true,
      "prefixes": {
        "query": "query: ",
        "document": "passage: ",
        "passage": "passage: "
      }
    },
    "nomic-ai/nomic-embed-text-v1.5": {
      "aliases": [
        "nomic-embed-text-v1.5"
      ],
      "architecture": "nomic_bert",
      "dims": 768,
      "matryoshkaDims": [
        768,
        512,
        256,
        128,
        64
      ],
      "maxTokens": 8192,
      "pooling": "mean",
      "normalize": true,
      "prefixes": {
        "query": "search_query: ",
        "document": "search_document: ",
        "classification": "classification: ",
        "clustering": "clustering: "
      }
    },
    "Alibaba-NLP/gte-modernbert-base": {
      "aliases": [
        "gte-modernbert-base"
      ],
      "architecture": "modernbert",
      "dims": 768,
      "maxTokens": 8192,
      "pooling": "cls",
      "normalize": true,
      "prefixes": {}
    },
    "nomic-ai/modernbert-embed-base": {
      "aliases": [
        "modernbert-embed-base"
      ],
      "architecture": "modernbert",
      "dims": 768,
      "matryoshkaDims": [
        768,
        256
      ],
      "maxTokens": 8192,
      "pooling": "mean",
      "normalize": true,
      "prefixes": {
        "query": "search_query: ",
        "document": "search_document: "
      }
    },
    "openai/clip-vit-base-patch32": {
      "aliases": [
        "clip-vit-base-patch32"
      ],
      "architecture": "clip",
      "dims": 512,
      "maxTokens": 77,
      "pooling": "eos",
      "normalize": true,
      "image": true,
      "imageSize": 224,
      "prefixes": {},
      "template": "a photo of a {}"
    }
  }
};

/**
 * The entry for a hub id, an alias, or a URL / path ending in one; undefined if none.
 * @param {string | undefined} id
 * @returns {(RegistryEntry & {id: string}) | undefined}
 */
export function lookupModel(id) {
  if (!id) return undefined;
  const s = String(id).replace(/\/+$/, "");
  for (const [key, e] of Object.entries(REGISTRY.models)) {
    const names = [key, ...(e.aliases ?? [])];
    if (names.some((n) => s === n || s.endsWith("/" + n))) return { id: key, ...e };
  }
  return undefined;
}
