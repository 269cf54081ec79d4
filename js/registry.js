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
 * @property {string} [template]  zero-shot classification template (CLIP, SigLIP)
 * @property {string} [note]  where the defaults come from, and what is particular to the model
 * @property {boolean} [reranker]  a cross-encoder (load it with Reranker); dims is then its scores per pair
 * @property {string} [pairedWith]  the other tower of a pair sharing one embedding space (load both with
 *   Embedder.load({ text, vision }))
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
      },
      "pairedWith": "nomic-ai/nomic-embed-vision-v1.5"
    },
    "nomic-ai/nomic-embed-vision-v1.5": {
      "aliases": [
        "nomic-embed-vision-v1.5"
      ],
      "architecture": "nomic_vision",
      "dims": 768,
      "maxTokens": 0,
      "pooling": "cls",
      "normalize": true,
      "image": true,
      "imageSize": 224,
      "prefixes": {},
      "pairedWith": "nomic-ai/nomic-embed-text-v1.5",
      "note": "NomicVisionModel (remote code nomic-ai/contrastors modeling_hf_nomic_bert.py; config model_type nomic_bert): an EVA02-style ViT-B/16 with 2-D RoPE whose embedding, normalize(last_hidden_state[:, 0]), lies in nomic-embed-text-v1.5's space. Vision only (maxTokens 0: no text). Load both as a pair, Embedder.load({ text: 'nomic-ai/nomic-embed-text-v1.5', vision: 'nomic-ai/nomic-embed-vision-v1.5' }), and embed text that searches images with task 'query' (search_query: )."
    },
    "sentence-transformers/all-mpnet-base-v2": {
      "aliases": [
        "all-mpnet-base-v2"
      ],
      "architecture": "mpnet",
      "dims": 768,
      "maxTokens": 384,
      "pooling": "mean",
      "normalize": true,
      "prefixes": {}
    },
    "sentence-transformers/multi-qa-mpnet-base-cos-v1": {
      "aliases": [
        "multi-qa-mpnet-base-cos-v1"
      ],
      "architecture": "mpnet",
      "dims": 768,
      "maxTokens": 512,
      "pooling": "mean",
      "normalize": true,
      "prefixes": {}
    },
    "sentence-transformers/multi-qa-mpnet-base-dot-v1": {
      "aliases": [
        "multi-qa-mpnet-base-dot-v1"
      ],
      "architecture": "mpnet",
      "dims": 768,
      "maxTokens": 512,
      "pooling": "cls",
      "normalize": false,
      "prefixes": {}
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
    },
    "google/siglip-base-patch16-224": {
      "aliases": [
        "siglip-base-patch16-224"
      ],
      "architecture": "siglip",
      "dims": 768,
      "maxTokens": 64,
      "pooling": "last",
      "normalize": true,
      "image": true,
      "imageSize": 224,
      "prefixes": {},
      "template": "This is a photo of {}.",
      "note": "SiglipModel (model_type siglip): text padded to 64 tokens with the pad token and no mask (the engine does it: padding is attended), vector = head(last position); image = the attention-pooling head; zero-shot scores are sigmoids of exp(logit_scale) * cos + logit_bias, not a softmax. The repository ships spiece.model (SiglipTokenizer, slow only), not tokenizer.json: the vision tower loads by hub id as is; text needs a tokenizer.json given with the files. The template is the model card's."
    },
    "google/siglip-base-patch16-256": {
      "aliases": [
        "siglip-base-patch16-256"
      ],
      "architecture": "siglip",
      "dims": 768,
      "maxTokens": 64,
      "pooling": "last",
      "normalize": true,
      "image": true,
      "imageSize": 256,
      "prefixes": {},
      "template": "This is a photo of {}.",
      "note": "SiglipModel (model_type siglip): text padded to 64 tokens with the pad token and no mask (the engine does it: padding is attended), vector = head(last position); image = the attention-pooling head; zero-shot scores are sigmoids of exp(logit_scale) * cos + logit_bias, not a softmax. The repository ships spiece.model (SiglipTokenizer, slow only), not tokenizer.json: the vision tower loads by hub id as is; text needs a tokenizer.json given with the files. The template is the model card's."
    },
    "google/siglip-base-patch16-384": {
      "aliases": [
        "siglip-base-patch16-384"
      ],
      "architecture": "siglip",
      "dims": 768,
      "maxTokens": 64,
      "pooling": "last",
      "normalize": true,
      "image": true,
      "imageSize": 384,
      "prefixes": {},
      "template": "This is a photo of {}.",
      "note": "SiglipModel (model_type siglip): text padded to 64 tokens with the pad token and no mask (the engine does it: padding is attended), vector = head(last position); image = the attention-pooling head; zero-shot scores are sigmoids of exp(logit_scale) * cos + logit_bias, not a softmax. The repository ships spiece.model (SiglipTokenizer, slow only), not tokenizer.json: the vision tower loads by hub id as is; text needs a tokenizer.json given with the files. The template is the model card's."
    },
    "google/siglip-so400m-patch14-384": {
      "aliases": [
        "siglip-so400m-patch14-384"
      ],
      "architecture": "siglip",
      "dims": 1152,
      "maxTokens": 64,
      "pooling": "last",
      "normalize": true,
      "image": true,
      "imageSize": 384,
      "prefixes": {},
      "template": "This is a photo of {}.",
      "note": "SiglipModel (model_type siglip): text padded to 64 tokens with the pad token and no mask (the engine does it: padding is attended), vector = head(last position); image = the attention-pooling head; zero-shot scores are sigmoids of exp(logit_scale) * cos + logit_bias, not a softmax. The repository ships spiece.model (SiglipTokenizer, slow only), not tokenizer.json: the vision tower loads by hub id as is; text needs a tokenizer.json given with the files. The template is the model card's."
    },
    "google/siglip2-base-patch16-224": {
      "aliases": [
        "siglip2-base-patch16-224"
      ],
      "architecture": "siglip",
      "dims": 768,
      "maxTokens": 64,
      "pooling": "last",
      "normalize": true,
      "image": true,
      "imageSize": 224,
      "prefixes": {},
      "template": "This is a photo of {}.",
      "note": "SigLIP 2 fixed resolution: the SigLIP architecture (model_type siglip) with the Gemma tokenizer (tokenizer.json); text padded to 64 with text_config.pad_token_id and no mask, zero-shot scores are sigmoids. The card's processor pads with padding=\"max_length\", max_length=64."
    },
    "google/siglip2-base-patch16-256": {
      "aliases": [
        "siglip2-base-patch16-256"
      ],
      "architecture": "siglip",
      "dims": 768,
      "maxTokens": 64,
      "pooling": "last",
      "normalize": true,
      "image": true,
      "imageSize": 256,
      "prefixes": {},
      "template": "This is a photo of {}.",
      "note": "SigLIP 2 fixed resolution: the SigLIP architecture (model_type siglip) with the Gemma tokenizer (tokenizer.json); text padded to 64 with text_config.pad_token_id and no mask, zero-shot scores are sigmoids. The card's processor pads with padding=\"max_length\", max_length=64."
    },
    "google/siglip2-base-patch16-384": {
      "aliases": [
        "siglip2-base-patch16-384"
      ],
      "architecture": "siglip",
      "dims": 768,
      "maxTokens": 64,
      "pooling": "last",
      "normalize": true,
      "image": true,
      "imageSize": 384,
      "prefixes": {},
      "template": "This is a photo of {}.",
      "note": "SigLIP 2 fixed resolution: the SigLIP architecture (model_type siglip) with the Gemma tokenizer (tokenizer.json); text padded to 64 with text_config.pad_token_id and no mask, zero-shot scores are sigmoids. The card's processor pads with padding=\"max_length\", max_length=64."
    },
    "google/siglip2-so400m-patch14-384": {
      "aliases": [
        "siglip2-so400m-patch14-384"
      ],
      "architecture": "siglip",
      "dims": 1152,
      "maxTokens": 64,
      "pooling": "last",
      "normalize": true,
      "image": true,
      "imageSize": 384,
      "prefixes": {},
      "template": "This is a photo of {}.",
      "note": "SigLIP 2 fixed resolution: the SigLIP architecture (model_type siglip) with the Gemma tokenizer (tokenizer.json); text padded to 64 with text_config.pad_token_id and no mask, zero-shot scores are sigmoids. The card's processor pads with padding=\"max_length\", max_length=64."
    },
    "Alibaba-NLP/gte-base-en-v1.5": {
      "aliases": [
        "gte-base-en-v1.5"
      ],
      "architecture": "gte",
      "dims": 768,
      "maxTokens": 8192,
      "pooling": "cls",
      "normalize": true,
      "prefixes": {},
      "note": "NewModel (remote code Alibaba-NLP/new-impl), rope_scaling ntk factor 2: fixed NTK frequencies at every length. sentence-transformers: Transformer -> Pooling(cls), no prompts; the card L2-normalizes for cosine similarity."
    },
    "Alibaba-NLP/gte-large-en-v1.5": {
      "aliases": [
        "gte-large-en-v1.5"
      ],
      "architecture": "gte",
      "dims": 1024,
      "maxTokens": 8192,
      "pooling": "cls",
      "normalize": true,
      "prefixes": {},
      "note": "NewModel (remote code Alibaba-NLP/new-impl), as gte-base-en-v1.5: CLS pooling, no prompts, normalized for cosine similarity."
    },
    "Alibaba-NLP/gte-multilingual-base": {
      "aliases": [
        "gte-multilingual-base"
      ],
      "architecture": "gte",
      "dims": 768,
      "maxTokens": 8192,
      "pooling": "cls",
      "normalize": true,
      "prefixes": {},
      "note": "NewModel with the XLM-R vocabulary (250k) and a token type table; the checkpoint is a NewForTokenClassification (names prefixed new.; its sparse-weight classifier head is not used). CLS pooling, no prompts; the card's elastic dimensions (128 to 768) keep the first dims, then normalize."
    },
    "Snowflake/snowflake-arctic-embed-m-v2.0": {
      "aliases": [
        "snowflake-arctic-embed-m-v2.0"
      ],
      "architecture": "gte",
      "dims": 768,
      "matryoshkaDims": [
        768,
        256
      ],
      "maxTokens": 8192,
      "pooling": "cls",
      "normalize": true,
      "prefixes": {
        "query": "query: ",
        "document": ""
      },
      "note": "model_type gte: Snowflake's copy of the NewModel code (plain RoPE), XLM-R vocabulary. sentence-transformers: Pooling(cls) -> Normalize; queries take the prompt 'query: ' (config_sentence_transformers.json prompts), documents none; Matryoshka 256 keeps the first 256 dims, then normalizes."
    },
    "Qwen/Qwen3-Embedding-0.6B": {
      "aliases": [
        "Qwen3-Embedding-0.6B"
      ],
      "architecture": "qwen3",
      "dims": 1024,
      "matryoshkaDims": [
        1024,
        512,
        256,
        128,
        64,
        32
      ],
      "maxTokens": 32768,
      "pooling": "last",
      "normalize": true,
      "prefixes": {
        "query": "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:",
        "document": ""
      },
      "note": "Qwen3 decoder (model_type qwen3: causal, GQA 16 / 8 heads, head_dim 128). sentence-transformers: Transformer -> Pooling(lasttoken) -> Normalize; queries take the model card's default instruction 'Instruct: {task}\\nQuery:' (config_sentence_transformers.json prompts; no space before the text), documents nothing; the card allows any Matryoshka size from 32 to 1024 (truncate, then normalize): matryoshkaDims lists a few. The tokenizer appends <|endoftext|> (its post-processor), the token the last-token pooling takes."
    },
    "google/embeddinggemma-300m": {
      "aliases": [
        "embeddinggemma-300m"
      ],
      "architecture": "gemma3",
      "dims": 768,
      "matryoshkaDims": [
        768,
        512,
        256,
        128
      ],
      "maxTokens": 2048,
      "pooling": "mean",
      "normalize": true,
      "prefixes": {
        "query": "task: search result | query: ",
        "document": "title: none | text: ",
        "classification": "task: classification | query: ",
        "clustering": "task: clustering | query: "
      },
      "note": "Gemma3TextModel with use_bidirectional_attention (model_type gemma3_text). sentence-transformers: Transformer -> Pooling(mean) -> 2_Dense (768 -> 3072) -> 3_Dense (3072 -> 768) -> Normalize, the Dense modules loaded from their folders; prompts from config_sentence_transformers.json and the model card (query 'task: search result | query: ', document 'title: none | text: ', or 'title: {title} | text: ' with a title); Matryoshka 512 / 256 / 128 truncate the 768-d output, then normalize. The card warns against float16 activations: wembed computes in float32."
    },
    "jinaai/jina-embeddings-v2-small-en": {
      "aliases": [
        "jina-embeddings-v2-small-en"
      ],
      "architecture": "jina_bert_v2",
      "dims": 512,
      "maxTokens": 8192,
      "pooling": "mean",
      "normalize": false,
      "prefixes": {}
    },
    "jinaai/jina-embeddings-v2-base-en": {
      "aliases": [
        "jina-embeddings-v2-base-en"
      ],
      "architecture": "jina_bert_v2",
      "dims": 768,
      "maxTokens": 8192,
      "pooling": "mean",
      "normalize": false,
      "prefixes": {}
    },
    "jinaai/jina-embeddings-v2-base-code": {
      "aliases": [
        "jina-embeddings-v2-base-code"
      ],
      "architecture": "jina_bert_v2",
      "dims": 768,
      "maxTokens": 8192,
      "pooling": "mean",
      "normalize": false,
      "prefixes": {}
    },
    "jinaai/jina-embeddings-v2-base-de": {
      "aliases": [
        "jina-embeddings-v2-base-de"
      ],
      "architecture": "jina_bert_v2",
      "dims": 768,
      "maxTokens": 8192,
      "pooling": "mean",
      "normalize": false,
      "prefixes": {}
    },
    "jinaai/jina-embeddings-v2-base-es": {
      "aliases": [
        "jina-embeddings-v2-base-es"
      ],
      "architecture": "jina_bert_v2",
      "dims": 768,
      "maxTokens": 8192,
      "pooling": "mean",
      "normalize": false,
      "prefixes": {}
    },
    "jinaai/jina-embeddings-v2-base-zh": {
      "aliases": [
        "jina-embeddings-v2-base-zh"
      ],
      "architecture": "jina_bert_v2",
      "dims": 768,
      "maxTokens": 8192,
      "pooling": "mean",
      "normalize": false,
      "prefixes": {}
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
    "Alibaba-NLP/gte-reranker-modernbert-base": {
      "aliases": [
        "gte-reranker-modernbert-base"
      ],
      "architecture": "modernbert",
      "reranker": true,
      "dims": 1,
      "maxTokens": 8192,
      "pooling": "mean",
      "normalize": false,
      "prefixes": {},
      "note": "ModernBertForSequenceClassification reranker (load it with Reranker): score = classifier(norm(act(dense(p)))), p pooled from the last hidden state (after final_norm) as config.json's classifier_pooling says, act its classifier_activation (both read at load), one label, raw logit (sentence-transformers' CrossEncoder applies a sigmoid to a one-label head by default: activation 'sigmoid'). Pairs: [CLS] query [SEP] passage [SEP]. dims: scores per pair."
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
    "intfloat/multilingual-e5-small": {
      "aliases": [
        "multilingual-e5-small"
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
      },
      "note": "XLMRobertaModel (model_type xlm-roberta: positions from pad_token_id + 1), SentencePiece Unigram tokenizer.json (Precompiled normalizer, Metaspace)."
    },
    "intfloat/multilingual-e5-base": {
      "aliases": [
        "multilingual-e5-base"
      ],
      "architecture": "bert",
      "dims": 768,
      "maxTokens": 512,
      "pooling": "mean",
      "normalize": true,
      "prefixes": {
        "query": "query: ",
        "document": "passage: ",
        "passage": "passage: "
      },
      "note": "XLMRobertaModel, as multilingual-e5-small."
    },
    "intfloat/multilingual-e5-large": {
      "aliases": [
        "multilingual-e5-large"
      ],
      "architecture": "bert",
      "dims": 1024,
      "maxTokens": 512,
      "pooling": "mean",
      "normalize": true,
      "prefixes": {
        "query": "query: ",
        "document": "passage: ",
        "passage": "passage: "
      },
      "note": "XLMRobertaModel, as multilingual-e5-small."
    },
    "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2": {
      "aliases": [
        "paraphrase-multilingual-MiniLM-L12-v2"
      ],
      "architecture": "bert",
      "dims": 384,
      "maxTokens": 128,
      "pooling": "mean",
      "normalize": false,
      "prefixes": {},
      "note": "XLMRobertaModel; sentence-transformers: Pooling(mean), no Normalize module."
    },
    "BAAI/bge-m3": {
      "aliases": [
        "bge-m3"
      ],
      "architecture": "bert",
      "dims": 1024,
      "maxTokens": 8192,
      "pooling": "cls",
      "normalize": true,
      "prefixes": {},
      "note": "XLMRobertaModel with 8194 positions; the dense output (CLS, normalized). The sparse and ColBERT heads of bge-m3 are not computed."
    },
    "cross-encoder/ms-marco-MiniLM-L6-v2": {
      "aliases": [
        "ms-marco-MiniLM-L6-v2",
        "cross-encoder/ms-marco-MiniLM-L-6-v2"
      ],
      "architecture": "bert",
      "reranker": true,
      "dims": 1,
      "maxTokens": 512,
      "pooling": "cls",
      "normalize": false,
      "prefixes": {},
      "note": "BertForSequenceClassification cross-encoder (load it with Reranker): score = classifier(tanh(pooler.dense(h[CLS]))), one label; config.json sbert_ce_default_activation_function is Identity, so scores are raw logits (activation 'sigmoid' on request). Pairs: [CLS] query [SEP] passage [SEP], token type 1 on the passage. dims: scores per pair."
    },
    "cross-encoder/ms-marco-MiniLM-L12-v2": {
      "aliases": [
        "ms-marco-MiniLM-L12-v2",
        "cross-encoder/ms-marco-MiniLM-L-12-v2"
      ],
      "architecture": "bert",
      "reranker": true,
      "dims": 1,
      "maxTokens": 512,
      "pooling": "cls",
      "normalize": false,
      "prefixes": {},
      "note": "BertForSequenceClassification cross-encoder (load it with Reranker): score = classifier(tanh(pooler.dense(h[CLS]))), one label; config.json sbert_ce_default_activation_function is Identity, so scores are raw logits (activation 'sigmoid' on request). Pairs: [CLS] query [SEP] passage [SEP], token type 1 on the passage. dims: scores per pair."
    },
    "BAAI/bge-reranker-base": {
      "aliases": [
        "bge-reranker-base"
      ],
      "architecture": "bert",
      "reranker": true,
      "dims": 1,
      "maxTokens": 512,
      "pooling": "cls",
      "normalize": false,
      "prefixes": {},
      "note": "XLMRobertaForSequenceClassification reranker (load it with Reranker): score = out_proj(tanh(dense(h[<s>]))), no pooler, one label, raw logit as FlagEmbedding's compute_score (its normalize=True is activation 'sigmoid' here). The config names no activation; sentence-transformers' CrossEncoder applies a sigmoid to a one-label head by default. Pairs: <s> query </s></s> passage </s>. dims: scores per pair."
    },
    "BAAI/bge-reranker-v2-m3": {
      "aliases": [
        "bge-reranker-v2-m3"
      ],
      "architecture": "bert",
      "reranker": true,
      "dims": 1,
      "maxTokens": 8192,
      "pooling": "cls",
      "normalize": false,
      "prefixes": {},
      "note": "XLMRobertaForSequenceClassification reranker (load it with Reranker): score = out_proj(tanh(dense(h[<s>]))), no pooler, one label, raw logit as FlagEmbedding's compute_score (its normalize=True is activation 'sigmoid' here). The config names no activation; sentence-transformers' CrossEncoder applies a sigmoid to a one-label head by default. Pairs: <s> query </s></s> passage </s>. dims: scores per pair. 8194 positions (8192 tokens)."
    },
    "mixedbread-ai/mxbai-rerank-xsmall-v1": {
      "aliases": [
        "mxbai-rerank-xsmall-v1"
      ],
      "architecture": "deberta_v2",
      "reranker": true,
      "dims": 1,
      "maxTokens": 512,
      "pooling": "cls",
      "normalize": false,
      "prefixes": {},
      "note": "DebertaV2ForSequenceClassification reranker (DeBERTa-v3 xsmall: hidden 384, 12 layers; load it with Reranker): disentangled attention over log-bucketed relative positions (position_buckets 256, no absolute positions), score = classifier(gelu(pooler.dense(h[CLS]))) (ContextPooler), one label, raw logit. The config names no activation; sentence-transformers' CrossEncoder (the model card's usage) applies a sigmoid to a one-label head by default: activation 'sigmoid'. Pairs: [CLS] query [SEP] passage [SEP] (type ids unused: type_vocab_size 0). dims: scores per pair."
    },
    "mixedbread-ai/mxbai-rerank-base-v1": {
      "aliases": [
        "mxbai-rerank-base-v1"
      ],
      "architecture": "deberta_v2",
      "reranker": true,
      "dims": 1,
      "maxTokens": 512,
      "pooling": "cls",
      "normalize": false,
      "prefixes": {},
      "note": "DebertaV2ForSequenceClassification reranker (DeBERTa-v3 base: hidden 768, 12 layers; load it with Reranker): disentangled attention over log-bucketed relative positions (position_buckets 256, no absolute positions), score = classifier(gelu(pooler.dense(h[CLS]))) (ContextPooler), one label, raw logit. The config names no activation; sentence-transformers' CrossEncoder (the model card's usage) applies a sigmoid to a one-label head by default: activation 'sigmoid'. Pairs: [CLS] query [SEP] passage [SEP] (type ids unused: type_vocab_size 0). dims: scores per pair."
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
