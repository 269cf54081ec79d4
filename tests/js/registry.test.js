// registry.test.js - js/registry.js is generated from models/registry.json and must agree with
// it (`npm run registry` regenerates it); every entry has what the Embedder reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { ROOT } from './helpers.js';

const JSON_FILE = path.join(ROOT, 'models/registry.json');
const JS_FILE = path.join(ROOT, 'js/registry.js');

test('js/registry.js agrees with models/registry.json', async () => {
  const reg = JSON.parse(fs.readFileSync(JSON_FILE, 'utf8'));
  if (process.env.WEMBED_UPDATE_REGISTRY) {
    const src = fs.readFileSync(JS_FILE, 'utf8');
    const start = src.indexOf('export const REGISTRY = ');
    const end = src.indexOf('};\n', start) + 3;
    fs.writeFileSync(JS_FILE, src.slice(0, start) + `export const REGISTRY = ${JSON.stringify({ models: reg.models }, null, 2)};\n` + src.slice(end));
  }
  const { REGISTRY, lookupModel } = await import(`../../js/registry.js?${Date.now()}`);
  assert.deepEqual(REGISTRY, { models: reg.models }, 'run `npm run registry`');
  for (const id of ['sentence-transformers/all-MiniLM-L6-v2', 'BAAI/bge-small-en-v1.5', 'BAAI/bge-base-en-v1.5', 'intfloat/e5-small-v2', 'nomic-ai/nomic-embed-text-v1.5', 'openai/clip-vit-base-patch32', 'jinaai/jina-embeddings-v2-small-en', 'jinaai/jina-embeddings-v2-base-code']) {
    const e = lookupModel(id);
    assert.ok(e, id);
    assert.ok(['bert', 'nomic_bert', 'clip', 'jina_bert_v2'].includes(e.architecture));
    assert.ok(e.dims > 0 && e.maxTokens > 0 && typeof e.prefixes === 'object');
  }
  assert.deepEqual(lookupModel('intfloat/e5-small-v2').prefixes, { query: 'query: ', document: 'passage: ', passage: 'passage: ' });
  assert.deepEqual(lookupModel('nomic-ai/nomic-embed-text-v1.5').matryoshkaDims, [768, 512, 256, 128, 64]);
  assert.equal(lookupModel('nomic-ai/nomic-embed-text-v1.5').prefixes.query, 'search_query: ');
  assert.deepEqual(lookupModel('nomic-ai/modernbert-embed-base').matryoshkaDims, [768, 256]);
  assert.deepEqual(lookupModel('modernbert-embed-base').prefixes, { query: 'search_query: ', document: 'search_document: ' });
  assert.equal(lookupModel('Alibaba-NLP/gte-modernbert-base').pooling, 'cls');
  assert.equal(lookupModel('gte-modernbert-base').architecture, 'modernbert');
  assert.equal(lookupModel('/models/e5-small-v2').id, 'intfloat/e5-small-v2');
  for (const id of ['Alibaba-NLP/gte-base-en-v1.5', 'Alibaba-NLP/gte-large-en-v1.5', 'Alibaba-NLP/gte-multilingual-base', 'Snowflake/snowflake-arctic-embed-m-v2.0']) {
    assert.equal(lookupModel(id).architecture, 'gte', id);
    assert.equal(lookupModel(id).pooling, 'cls', id);
  }
  assert.deepEqual(lookupModel('gte-base-en-v1.5').prefixes, {});
  assert.deepEqual(lookupModel('snowflake-arctic-embed-m-v2.0').prefixes, { query: 'query: ', document: '' });
  assert.equal(lookupModel('/models/jina-embeddings-v2-base-zh').id, 'jinaai/jina-embeddings-v2-base-zh');
  const qwen = lookupModel('Qwen3-Embedding-0.6B');
  assert.equal(qwen.id, 'Qwen/Qwen3-Embedding-0.6B');
  assert.equal(qwen.architecture, 'qwen3');
  assert.equal(qwen.pooling, 'last');
  assert.deepEqual(qwen.prefixes, { query: 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:', document: '' });
  const gemma = lookupModel('embeddinggemma-300m');
  assert.equal(gemma.architecture, 'gemma3');
  assert.equal(gemma.pooling, 'mean');
  assert.deepEqual(gemma.matryoshkaDims, [768, 512, 256, 128]);
  assert.equal(gemma.prefixes.query, 'task: search result | query: ');
  assert.equal(gemma.prefixes.document, 'title: none | text: ');
  for (const id of ['cross-encoder/ms-marco-MiniLM-L6-v2', 'ms-marco-MiniLM-L12-v2', 'BAAI/bge-reranker-base', 'bge-reranker-v2-m3', 'gte-reranker-modernbert-base']) {
    assert.equal(lookupModel(id).reranker, true, id);
    assert.equal(lookupModel(id).dims, 1, id);
  }
  assert.equal(lookupModel('BAAI/bge-reranker-v2-m3').maxTokens, 8192);
  for (const id of ['mixedbread-ai/mxbai-rerank-xsmall-v1', 'mxbai-rerank-base-v1']) {
    assert.equal(lookupModel(id).architecture, 'deberta_v2', id);
    assert.equal(lookupModel(id).reranker, true, id);
  }
  for (const id of ['google/siglip-base-patch16-224', 'siglip-so400m-patch14-384', 'google/siglip2-base-patch16-256']) {
    const e = lookupModel(id);
    assert.equal(e.architecture, 'siglip', id);
    assert.equal(e.pooling, 'last', id);
    assert.equal(e.maxTokens, 64, id);
    assert.ok(e.image && e.template.includes('{}'), id);
  }
  assert.equal(lookupModel('siglip-so400m-patch14-384').dims, 1152);
  assert.equal(lookupModel('some/unknown-model'), undefined);
});
