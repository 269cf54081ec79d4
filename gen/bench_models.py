#!/usr/bin/python3
"""Random-weight models at the real sizes and shapes, for the speed and memory benchmark.

    /usr/bin/python3 gen/bench_models.py [--out bench/models] [--preset full|small] [--only NAME,...] [--layers qwen3=4,gemma=6]

Debian's python3-torch (1.13), python3-onnx (1.12) and python3-numpy; no network. Each model
goes into one folder that both engines load from:

  config.json, model.safetensors, tokenizer.json, tokenizer_config.json   (HF layout: wembed)
  onnx/<file>.onnx, onnx/<file>_quantized.onnx                            (transformers.js)
  reference.json (+ reference.pixel_values.bin)                           (torch's own outputs)

  minilm  all-MiniLM-L6-v2 shaped: bert, hidden 384, 6 layers, 12 heads, ff 1536, vocab 30522
          (22.7M parameters); onnx/model.onnx: input_ids, attention_mask, token_type_ids ->
          last_hidden_state, as transformers.js's BertModel / feature-extraction pipeline loads it.
  nomic   nomic-embed-text-v1.5 shaped: nomic_bert, hidden 768, 12 layers, 12 heads, SwiGLU
          n_inner 3072, rotary base 1000 over the whole head, no biases, vocab 30528 (137M).
  clip    CLIP ViT-B/32 vision tower + visual projection: hidden 768, 12 layers, patch 32,
          image 224, projection 512 (88M); onnx/vision_model.onnx: pixel_values -> image_embeds,
          last_hidden_state, as transformers.js's CLIPVisionModelWithProjection loads it. The text
          tower is left out: transformers.js never loads it for images, and wembed loads either
          tower alone (config.json is the full CLIPConfig, as in openai/clip-vit-base-patch32).
  siglip  google/siglip-base-patch16-224's vision tower: hidden 768, 12 layers, patch 16 (196 tokens,
          no class token), tanh GELU 3072, post layernorm, the attention-pooling head (93M);
          onnx/vision_model.onnx: pixel_values -> last_hidden_state, pooler_output, as transformers.js's
          SiglipVisionModel loads it. config.json is the full SiglipConfig; no text weights (as clip).
  nomicvision  nomic-ai/nomic-embed-vision-v1.5 shaped: NomicVisionModel, hidden 768, 12 pre-LN
          layers, patch 16 + class token (197 tokens), 2-D RoPE, SwiGLU 2048 with inner LayerNorm,
          the selector head added to every token (93M); onnx/model.onnx: pixel_values ->
          last_hidden_state, which transformers.js's image-feature-extraction pipeline returns
          (AutoModel: model_type nomic_bert). Its vector is normalize(last_hidden_state[:, 0]).

  modernbert  gte-modernbert-base shaped: hidden 768, 22 layers, 12 heads, GeGLU 1152, global
          attention every 3rd layer (RoPE 160000), the others a 128-token window (RoPE 10000),
          vocab 50368 (149M); onnx/model.onnx: input_ids, attention_mask -> last_hidden_state.
  jina    jina-embeddings-v2-small-en shaped: JinaBERT, hidden 512, 4 layers, 8 heads, ALiBi,
          GeGLU 2048, vocab 30528 (33M); input_ids, attention_mask, token_type_ids -> last_hidden_state.
  rerank  cross-encoder/ms-marco-MiniLM-L6-v2 shaped: BertForSequenceClassification (MiniLM-L6
          + pooler + 1 label, bert.* names); input_ids, attention_mask, token_type_ids -> logits.
  qwen3   Qwen3-Embedding-0.6B shaped: hidden 1024, 16 heads over 8 kv heads of 128, SwiGLU
          3072, vocab 151669, 28 layers (--layers qwen3=N for fewer); the decoder graph
          transformers.js runs for model_type qwen3: input_ids, attention_mask, position_ids,
          past_key_values.{i}.key/value (fed empty) -> last_hidden_state, present.{i}.key/value.
  gemma   EmbeddingGemma-300m shaped: gemma3_text, bidirectional, hidden 768, 3 heads over 1 kv
          head of 256, GeGLU (tanh) 1152, vocab 262144, sliding window 512 on 5 layers of 6,
          24 layers (--layers gemma=N), and its sentence-transformers Dense 768 -> 3072 -> 768;
          input_ids, attention_mask -> last_hidden_state, sentence_embedding, as
          onnx-community/embeddinggemma-300m-ONNX.
  These five take bge-small-en-v1.5's tokenizer.json (BERT uncased: the real vocabulary of jina
  and ms-marco; for the others, whose tokenizers are not available offline, it stands in so that
  both engines get the same ids).

The ONNX graphs are traced from the nn.Modules below (written after HF's modeling_bert.py,
nomic's modeling_hf_nomic_bert.py, modeling_clip.py and modeling_siglip.py, with HF tensor names so that their
state dicts are the safetensors), opset 14 as optimum exports these models. The q8 files are the
graph transform of onnxruntime's quantize_dynamic as transformers.js's scripts/quantize.py calls it
(IntegerOps mode, per-tensor, no reduce_range, MatMulConstBOnly; weight type QInt8, or QUInt8
when the graph holds a Conv): each MatMul with a constant B becomes DynamicQuantizeLinear(A) ->
MatMulInteger -> Cast -> Mul(A_scale * W_scale); each Gather from a constant table becomes a
Gather from the int8 table -> DequantizeLinear; a Conv becomes ConvInteger likewise (its bias, if
any, added in float after the scales, as onnxruntime's ConvInteger.add_bias does). onnxruntime's
Python package is not installable here, so the transform is written with the onnx API.

Weights: seeded draws with HF's own initialization for each architecture (an untrained model,
see init_weights), small random biases and layer-norm parameters; the benchmark reports how
different inputs' embeddings differ next to how closely the engines agree.
reference.json holds token ids (or pixel values) and the model's pooled, normalized output
computed here in float32 by torch, the third opinion when the two engines disagree (siglip and
nomicvision: also that output's agreement with the float64 reference of gen/siglip_fixture.py /
gen/nomic_vision_fixture.py, float64_check).
"""
import argparse
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
TOK = os.path.join(ROOT, 'tests', 'data', 'tokenizers')
OPSET = 14

# -----------------------------------------------------------------------------------------
# Configs: the real models' config.json values (sizes replaced by the small preset's).

def minilm_config(small):
    E, L, H, Fi = (64, 2, 4, 128) if small else (384, 6, 12, 1536)
    return {
        'architectures': ['BertModel'], 'model_type': 'bert', 'hidden_size': E, 'num_hidden_layers': L,
        'num_attention_heads': H, 'intermediate_size': Fi, 'hidden_act': 'gelu', 'layer_norm_eps': 1e-12,
        'max_position_embeddings': 512, 'type_vocab_size': 2, 'vocab_size': 30522, 'pad_token_id': 0,
        'position_embedding_type': 'absolute', 'torch_dtype': 'float32', 'initializer_range': 0.02,
        'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1, 'gradient_checkpointing': False,
        'classifier_dropout': None, 'use_cache': True, 'transformers_version': '4.41.2',
    }


def nomic_config(small):
    # n_inner: nomic's GatedMLP rounds it up to a multiple of 256
    E, L, H, Fi = (64, 2, 4, 256) if small else (768, 12, 12, 3072)
    return {
        'activation_function': 'swiglu', 'architectures': ['NomicBertModel'], 'model_type': 'nomic_bert',
        'n_embd': E, 'n_head': H, 'n_inner': Fi, 'n_layer': L, 'n_positions': 8192, 'vocab_size': 30528,
        'pad_vocab_size_multiple': 64, 'type_vocab_size': 2, 'layer_norm_epsilon': 1e-12,
        'max_trained_positions': 2048, 'rotary_emb_base': 1000, 'rotary_emb_fraction': 1.0,
        'rotary_emb_interleaved': False, 'rotary_scaling_factor': None, 'rotary_emb_scale_base': None,
        'qkv_proj_bias': False, 'mlp_fc1_bias': False, 'mlp_fc2_bias': False, 'prenorm': False,
        'causal': False, 'use_rms_norm': False, 'parallel_block': False, 'parallel_block_tied_norm': False,
        'scale_attn_weights': True, 'initializer_range': 0.02, 'torch_dtype': 'float32',
        'transformers_version': '4.37.2', 'bos_token_id': None, 'eos_token_id': None,
    }


def clip_config(small):
    E, L, H, Fi, P = (64, 2, 4, 128, 64) if small else (768, 12, 12, 3072, 512)
    return {
        'architectures': ['CLIPModel'], 'model_type': 'clip', 'projection_dim': P,
        'logit_scale_init_value': 2.6592, 'initializer_factor': 1.0, 'torch_dtype': 'float32',
        'transformers_version': '4.41.2',
        'text_config': {
            'model_type': 'clip_text_model', 'hidden_size': 512, 'intermediate_size': 2048,
            'num_attention_heads': 8, 'num_hidden_layers': 12, 'max_position_embeddings': 77,
            'vocab_size': 49408, 'hidden_act': 'quick_gelu', 'layer_norm_eps': 1e-5, 'projection_dim': P,
            'bos_token_id': 49406, 'eos_token_id': 49407, 'pad_token_id': 1,
        },
        'vision_config': {
            'model_type': 'clip_vision_model', 'hidden_size': E, 'intermediate_size': Fi,
            'num_attention_heads': H, 'num_hidden_layers': L, 'image_size': 224, 'patch_size': 32,
            'num_channels': 3, 'hidden_act': 'quick_gelu', 'layer_norm_eps': 1e-5, 'projection_dim': P,
        },
    }


CLIP_PREPROCESSOR = {
    'crop_size': {'height': 224, 'width': 224}, 'do_center_crop': True, 'do_convert_rgb': True,
    'do_normalize': True, 'do_rescale': True, 'do_resize': True,
    'image_mean': [0.48145466, 0.4578275, 0.40821073], 'image_std': [0.26862954, 0.26130258, 0.27577711],
    'image_processor_type': 'CLIPImageProcessor', 'resample': 3, 'rescale_factor': 0.00392156862745098,
    'size': {'shortest_edge': 224},
}


def bert_tokenizer_config(max_len):
    return {
        'clean_up_tokenization_spaces': True, 'cls_token': '[CLS]', 'do_basic_tokenize': True,
        'do_lower_case': True, 'mask_token': '[MASK]', 'model_max_length': max_len, 'never_split': None,
        'pad_token': '[PAD]', 'sep_token': '[SEP]', 'strip_accents': None, 'tokenize_chinese_chars': True,
        'tokenizer_class': 'BertTokenizer', 'unk_token': '[UNK]',
    }


CLIP_TOKENIZER_CONFIG = {
    'bos_token': '<|startoftext|>', 'eos_token': '<|endoftext|>', 'pad_token': '<|endoftext|>',
    'unk_token': '<|endoftext|>', 'do_lower_case': True, 'errors': 'replace', 'model_max_length': 77,
    'tokenizer_class': 'CLIPTokenizer', 'clean_up_tokenization_spaces': True,
}

# -----------------------------------------------------------------------------------------
# The architectures. Names follow the HF checkpoints, so state_dict() is the safetensors.

def extended_mask(attention_mask):
    # (B, T) 1/0 -> (B, 1, 1, T) 0 / float32 min, added to the scores (HF get_extended_attention_mask)
    m = attention_mask[:, None, None, :].to(torch.float32)
    return (1.0 - m) * torch.finfo(torch.float32).min


def heads(x, H):
    # (B, T, E) -> (B, H, T, d)
    B, T, E = x.shape
    return x.view(B, T, H, E // H).transpose(1, 2)


def merge(x):
    # (B, H, T, d) -> (B, T, E)
    B, H, T, d = x.shape
    return x.transpose(1, 2).reshape(B, T, H * d)


class BertSelfAttention(nn.Module):
    def __init__(self, E, H):
        super().__init__()
        self.H = H
        self.query, self.key, self.value = nn.Linear(E, E), nn.Linear(E, E), nn.Linear(E, E)

    def forward(self, x, mask):
        q, k, v = heads(self.query(x), self.H), heads(self.key(x), self.H), heads(self.value(x), self.H)
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + mask
        return merge(torch.matmul(torch.softmax(s, dim=-1), v))


class BertOut(nn.Module):
    def __init__(self, n_in, E, eps):
        super().__init__()
        self.dense, self.LayerNorm = nn.Linear(n_in, E), nn.LayerNorm(E, eps=eps)


class BertAttention(nn.Module):
    def __init__(self, E, H, eps):
        super().__init__()
        self.self, self.output = BertSelfAttention(E, H), BertOut(E, E, eps)


class BertIntermediate(nn.Module):
    def __init__(self, E, Fi):
        super().__init__()
        self.dense = nn.Linear(E, Fi)


class BertLayer(nn.Module):
    def __init__(self, E, H, Fi, eps):
        super().__init__()
        self.attention, self.intermediate, self.output = BertAttention(E, H, eps), BertIntermediate(E, Fi), BertOut(Fi, E, eps)

    def forward(self, x, mask):
        a = self.attention.self(x, mask)
        x = self.attention.output.LayerNorm(self.attention.output.dense(a) + x)   # post-LN
        h = F.gelu(self.intermediate.dense(x))                                       # GELU (erf)
        return self.output.LayerNorm(self.output.dense(h) + x)


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        E = c['hidden_size']
        self.word_embeddings = nn.Embedding(c['vocab_size'], E)
        self.position_embeddings = nn.Embedding(c['max_position_embeddings'], E)
        self.token_type_embeddings = nn.Embedding(c['type_vocab_size'], E)
        self.LayerNorm = nn.LayerNorm(E, eps=c['layer_norm_eps'])


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c['hidden_size'], c['num_attention_heads'], c['intermediate_size'],
                                              c['layer_norm_eps']) for _ in range(c['num_hidden_layers'])])


class BertModel(nn.Module):
    """last_hidden_state (B, T, E) = BERT(input_ids, attention_mask, token_type_ids)."""

    def __init__(self, c):
        super().__init__()
        self.embeddings, self.encoder = BertEmbeddings(c), BertEncoder(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        e = self.embeddings
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)[None, :]          # (1, T)
        x = e.word_embeddings(input_ids) + e.token_type_embeddings(token_type_ids) + e.position_embeddings(pos)
        x = e.LayerNorm(x)
        mask = extended_mask(attention_mask)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x


class NomicAttn(nn.Module):
    def __init__(self, E, H, base):
        super().__init__()
        self.H, self.base = H, base
        self.Wqkv = nn.Linear(E, 3 * E, bias=False)
        self.out_proj = nn.Linear(E, E, bias=False)
        d = E // H
        self.register_buffer('inv_freq', 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float32) / d)), persistent=False)

    def rope(self, x, cos, sin):
        # x (B, H, T, d); non-interleaved: the halves rotate together (rotate_half)
        h = x.shape[-1] // 2
        x1, x2 = x[..., :h], x[..., h:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)

    def forward(self, x, mask):
        B, T, E = x.shape
        qkv = self.Wqkv(x).view(B, T, 3, self.H, E // self.H)
        q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))                       # (B, H, T, d)
        t = torch.arange(T, device=x.device, dtype=torch.float32)
        freqs = t[:, None] * self.inv_freq[None, :]                                         # (T, d/2)
        cos, sin = torch.cos(freqs), torch.sin(freqs)
        q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + mask
        return self.out_proj(merge(torch.matmul(torch.softmax(s, dim=-1), v)))


class NomicMlp(nn.Module):
    def __init__(self, E, Fi):
        super().__init__()
        self.fc11, self.fc12 = nn.Linear(E, Fi, bias=False), nn.Linear(E, Fi, bias=False)
        self.fc2 = nn.Linear(Fi, E, bias=False)

    def forward(self, x):
        return self.fc2(self.fc11(x) * F.silu(self.fc12(x)))                                # SwiGLU


class NomicBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        E = c['n_embd']
        self.attn = NomicAttn(E, c['n_head'], c['rotary_emb_base'])
        self.mlp = NomicMlp(E, c['n_inner'])
        self.norm1 = nn.LayerNorm(E, eps=c['layer_norm_epsilon'])
        self.norm2 = nn.LayerNorm(E, eps=c['layer_norm_epsilon'])

    def forward(self, x, mask):
        x = self.norm1(self.attn(x, mask) + x)                                              # post-LN
        return self.norm2(self.mlp(x) + x)


class NomicEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c['vocab_size'], c['n_embd'])
        self.token_type_embeddings = nn.Embedding(c['type_vocab_size'], c['n_embd'])


class NomicEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList([NomicBlock(c) for _ in range(c['n_layer'])])


class NomicBertModel(nn.Module):
    """last_hidden_state (B, T, E) = NomicBERT(input_ids, attention_mask, token_type_ids); no
    position embeddings (RoPE inside attention), no dynamic NTK (rotary_scaling_factor null)."""

    def __init__(self, c):
        super().__init__()
        self.embeddings, self.encoder = NomicEmbeddings(c), NomicEncoder(c)
        self.emb_ln = nn.LayerNorm(c['n_embd'], eps=c['layer_norm_epsilon'])

    def forward(self, input_ids, attention_mask, token_type_ids):
        e = self.embeddings
        x = self.emb_ln(e.word_embeddings(input_ids) + e.token_type_embeddings(token_type_ids))
        mask = extended_mask(attention_mask)
        for layer in self.encoder.layers:
            x = layer(x, mask)
        return x


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class ClipAttn(nn.Module):
    def __init__(self, E, H):
        super().__init__()
        self.H = H
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(E, E) for _ in range(4))

    def forward(self, x):
        d = x.shape[-1] // self.H
        q = heads(self.q_proj(x) * d ** -0.5, self.H)
        k, v = heads(self.k_proj(x), self.H), heads(self.v_proj(x), self.H)
        return self.out_proj(merge(torch.matmul(torch.softmax(torch.matmul(q, k.transpose(-1, -2)), dim=-1), v)))


class ClipMlp(nn.Module):
    def __init__(self, E, Fi):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(E, Fi), nn.Linear(Fi, E)


class ClipLayer(nn.Module):
    def __init__(self, E, H, Fi, eps):
        super().__init__()
        self.self_attn, self.mlp = ClipAttn(E, H), ClipMlp(E, Fi)
        self.layer_norm1, self.layer_norm2 = nn.LayerNorm(E, eps=eps), nn.LayerNorm(E, eps=eps)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))                                         # pre-LN
        return x + self.mlp.fc2(quick_gelu(self.mlp.fc1(self.layer_norm2(x))))


class ClipVisionEmbeddings(nn.Module):
    def __init__(self, v):
        super().__init__()
        E, P = v['hidden_size'], v['patch_size']
        self.class_embedding = nn.Parameter(torch.zeros(E))
        self.patch_embedding = nn.Conv2d(3, E, kernel_size=P, stride=P, bias=False)
        self.position_embedding = nn.Embedding((v['image_size'] // P) ** 2 + 1, E)


class ClipEncoder(nn.Module):
    def __init__(self, v):
        super().__init__()
        self.layers = nn.ModuleList([ClipLayer(v['hidden_size'], v['num_attention_heads'], v['intermediate_size'],
                                               v['layer_norm_eps']) for _ in range(v['num_hidden_layers'])])


class ClipVisionTransformer(nn.Module):
    def __init__(self, v):
        super().__init__()
        E = v['hidden_size']
        self.embeddings, self.encoder = ClipVisionEmbeddings(v), ClipEncoder(v)
        self.pre_layrnorm = nn.LayerNorm(E, eps=v['layer_norm_eps'])   # sic: HF's name
        self.post_layernorm = nn.LayerNorm(E, eps=v['layer_norm_eps'])


class ClipVisionModelWithProjection(nn.Module):
    """(image_embeds (B, P), last_hidden_state (B, 1 + patches, E)) = CLIP vision(pixel_values (B, 3, S, S))."""

    def __init__(self, c):
        super().__init__()
        v = c['vision_config']
        self.vision_model = ClipVisionTransformer(v)
        self.visual_projection = nn.Linear(v['hidden_size'], c['projection_dim'], bias=False)

    def forward(self, pixel_values):
        vm = self.vision_model
        e = vm.embeddings
        p = e.patch_embedding(pixel_values).flatten(2).transpose(1, 2)                     # (B, n_patch, E)
        cls = e.class_embedding[None, None, :].expand(p.shape[0], 1, p.shape[2])
        x = torch.cat([cls, p], dim=1) + e.position_embedding.weight[None, :, :]
        x = vm.pre_layrnorm(x)
        for layer in vm.encoder.layers:
            x = layer(x)
        return self.visual_projection(vm.post_layernorm(x[:, 0, :])), x


def init_weights(model, seed, clip=None):
    """HF's _init_weights for the architecture (BERT / NomicBERT: normal(0, initializer_range
    0.02) for every Linear and Embedding; CLIP: modeling_clip's fan-in and depth scaled stds),
    plus small random biases and layer-norm parameters instead of zeros and ones, so those
    paths are exercised by the agreement check too. (Wider draws, e.g. 1/sqrt(fan_in) in
    every Linear, made the 12-layer post-LN nomic amplify each engine's q8 rounding into
    a cosine of 0.98 between them: a property of such weights, not of trained models.)"""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda shape, std: torch.randn(shape, generator=g) * std
    std = {}
    if clip is not None:
        v = clip['vision_config']
        E, L = v['hidden_size'], v['num_hidden_layers']
        in_std, out_std, fc_std = E ** -0.5 * (2 * L) ** -0.5, E ** -0.5, (2 * E) ** -0.5
        for name, mod in model.named_modules():
            leaf = name.split('.')[-1]
            std[name] = {'q_proj': in_std, 'k_proj': in_std, 'v_proj': in_std, 'out_proj': out_std, 'fc1': fc_std,
                         'fc2': in_std, 'visual_projection': E ** -0.5}.get(leaf, 0.02)
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, (nn.Linear, nn.Conv2d, nn.Embedding)):
                mod.weight.copy_(rnd(mod.weight.shape, std.get(name, 0.02)))
                if getattr(mod, 'bias', None) is not None:
                    mod.bias.copy_(rnd(mod.bias.shape, 0.02))
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.copy_(1.0 + rnd(mod.weight.shape, 0.05))
                mod.bias.copy_(rnd(mod.bias.shape, 0.05))
            elif isinstance(mod, ClipVisionEmbeddings):
                mod.class_embedding.copy_(rnd(mod.class_embedding.shape, mod.class_embedding.shape[0] ** -0.5))


# -----------------------------------------------------------------------------------------
# The second-wave families: ModernBERT, JinaBERT v2, a BERT cross-encoder, Qwen3, EmbeddingGemma.
#
# Each is a functional forward over a dict of float32 tensors with the HF checkpoint's names
# (the dict is the safetensors), written after the official modeling code as the float64
# references of gen/modernbert_fixture.py, gen/jina_fixture.py and gen/decoder_fixtures.py do,
# here in float32 and with dense masks so that torch.onnx traces it into one graph for any
# sequence length (the local and sliding-window layers mask a full score matrix, as HF's eager
# and sdpa paths and their ONNX exports do).

class Weights(nn.Module):
    """An nn.Module over {HF name: tensor}; forward(*inputs) = fn(self, *inputs). Parameter names
    cannot hold dots, so they are stored under name.replace('.', '__'); state() gives the HF names."""

    def __init__(self, weights, fn, cfg):
        super().__init__()
        self.p = nn.ParameterDict({k.replace('.', '__'): nn.Parameter(v, requires_grad=False) for k, v in weights.items()})
        self.fn, self.cfg = fn, cfg

    def __getitem__(self, name):
        return self.p[name.replace('.', '__')]

    def state(self):
        return [(k.replace('__', '.'), v.detach().numpy()) for k, v in self.p.items()]

    def forward(self, *inputs):
        return self.fn(self, *inputs)


def seeded_weights(shapes, seed, norm_names=(), offset_norms=False):
    """Linear and embedding weights N(0, 0.02) (HF's initializer_range), biases N(0, 0.02), norm
    weights 1 + N(0, 0.05) (Gemma's stored offsets: N(0, 0.05)), LayerNorm biases N(0, 0.05)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in shapes.items():
        r = torch.randn(shape, generator=g)
        is_norm = any(s in name for s in norm_names)
        if is_norm and name.endswith('.weight'):
            out[name] = r * 0.05 + (0.0 if offset_norms else 1.0)
        elif is_norm:
            out[name] = r * 0.05
        else:
            out[name] = r * 0.02
    return out


def rope_cos_sin(pos, d, base):
    """(B, S) float positions -> cos, sin (B, 1, S, d) of cat(freqs, freqs), inv_freq in float32
    as every HF rotary embedding computes it."""
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    f = pos[:, :, None].float() * inv[None, None, :]
    emb = torch.cat((f, f), dim=-1)[:, None]
    return emb.cos(), emb.sin()


def rot_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def sdpa(q, k, v, allowed, scale):
    """q (B, H, S, d), k / v (B, KV, T, d) (query head h reads kv head h // (H / KV), repeat_kv),
    allowed (B, 1 or H, S, T) bool; masked scores get float32 min as HF's masks do."""
    B, KV, T, d = k.shape
    rep = q.shape[1] // KV
    if rep > 1:
        k = k[:, :, None].expand(B, KV, rep, T, d).reshape(B, KV * rep, T, d)
        v = v[:, :, None].expand(B, KV, rep, T, d).reshape(B, KV * rep, T, d)
    s = torch.matmul(q, k.transpose(-1, -2)) * scale
    s = s.masked_fill(~allowed, torch.finfo(torch.float32).min)
    return torch.matmul(torch.softmax(s, dim=-1), v)


def rms(x, w, eps, offset=0.0):
    # Qwen3RMSNorm (w) / Gemma3RMSNorm ((1 + w)), in float32
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (offset + w)


# ModernBERT (transformers' modeling_modernbert.py; Alibaba-NLP/gte-modernbert-base)

def modernbert_config(small):
    E, L, H, Fi = (64, 4, 4, 96) if small else (768, 22, 12, 1152)
    return {
        '_name_or_path': 'Alibaba-NLP/gte-modernbert-base', 'architectures': ['ModernBertModel'], 'attention_bias': False,
        'attention_dropout': 0.0, 'bos_token_id': 50281, 'classifier_activation': 'gelu', 'classifier_bias': False,
        'classifier_dropout': 0.0, 'classifier_pooling': 'mean', 'cls_token_id': 50281, 'decoder_bias': True,
        'deterministic_flash_attn': False, 'embedding_dropout': 0.0, 'eos_token_id': 50282, 'global_attn_every_n_layers': 3,
        'global_rope_theta': 160000.0, 'gradient_checkpointing': False, 'hidden_activation': 'gelu', 'hidden_size': E,
        'initializer_cutoff_factor': 2.0, 'initializer_range': 0.02, 'intermediate_size': Fi, 'layer_norm_eps': 1e-05,
        'local_attention': 128, 'local_rope_theta': 10000.0, 'max_position_embeddings': 8192, 'mlp_bias': False,
        'mlp_dropout': 0.0, 'model_type': 'modernbert', 'norm_bias': False, 'norm_eps': 1e-05, 'num_attention_heads': H,
        'num_hidden_layers': L, 'pad_token_id': 50283, 'position_embedding_type': 'absolute', 'reference_compile': False,
        'sep_token_id': 50282, 'sparse_pred_ignore_index': -100, 'sparse_prediction': False, 'torch_dtype': 'float32',
        'transformers_version': '4.48.0', 'vocab_size': 50368,
    }


def modernbert_shapes(c):
    E, Fi, V = c['hidden_size'], c['intermediate_size'], c['vocab_size']
    s = {'embeddings.tok_embeddings.weight': (V, E), 'embeddings.norm.weight': (E,)}
    for i in range(c['num_hidden_layers']):
        p = f'layers.{i}.'
        if i:   # layer 0's attn_norm is nn.Identity
            s[p + 'attn_norm.weight'] = (E,)
        s.update({p + 'attn.Wqkv.weight': (3 * E, E), p + 'attn.Wo.weight': (E, E), p + 'mlp_norm.weight': (E,),
                  p + 'mlp.Wi.weight': (2 * Fi, E), p + 'mlp.Wo.weight': (E, Fi)})
    s['final_norm.weight'] = (E,)
    return s


def modernbert_forward(m, input_ids, attention_mask):
    c = m.cfg
    E, H, eps = c['hidden_size'], c['num_attention_heads'], c['norm_eps']
    d = E // H
    B, S = input_ids.shape
    ln = lambda x, n: F.layer_norm(x, (E,), m[n], None, eps)                  # LayerNorm without bias
    pos = torch.arange(S)[None, :].expand(B, S)
    cos_g, sin_g = rope_cos_sin(pos, d, c['global_rope_theta'])
    cos_l, sin_l = rope_cos_sin(pos, d, c['local_rope_theta'])
    keys = attention_mask.bool()[:, None, None, :]
    ij = torch.arange(S)
    window = ((ij[:, None] - ij[None, :]).abs() <= c['local_attention'] // 2)[None, None]
    x = ln(F.embedding(input_ids, m['embeddings.tok_embeddings.weight']), 'embeddings.norm.weight')
    for i in range(c['num_hidden_layers']):
        p = f'layers.{i}.'
        a = x if i == 0 else ln(x, p + 'attn_norm.weight')
        qkv = F.linear(a, m[p + 'attn.Wqkv.weight']).view(B, S, 3, H, d)
        q, k, v = qkv[:, :, 0].transpose(1, 2), qkv[:, :, 1].transpose(1, 2), qkv[:, :, 2].transpose(1, 2)
        glob = i % c['global_attn_every_n_layers'] == 0
        cos, sin = (cos_g, sin_g) if glob else (cos_l, sin_l)
        q, k = q * cos + rot_half(q) * sin, k * cos + rot_half(k) * sin
        o = sdpa(q, k, v, keys if glob else keys & window, d ** -0.5).transpose(1, 2).reshape(B, S, E)
        x = x + F.linear(o, m[p + 'attn.Wo.weight'])
        inp, gate = F.linear(ln(x, p + 'mlp_norm.weight'), m[p + 'mlp.Wi.weight']).chunk(2, dim=-1)
        x = x + F.linear(F.gelu(inp) * gate, m[p + 'mlp.Wo.weight'])           # GeGLU: act on the first half
    return ln(x, 'final_norm.weight')


# JinaBERT v2 (jinaai/jina-bert-implementation; jinaai/jina-embeddings-v2-small-en)

def jina_config(small):
    E, L, H, Fi = (64, 2, 4, 128) if small else (512, 4, 8, 2048)
    return {
        '_name_or_path': 'jinaai/jina-bert-implementation', 'architectures': ['JinaBertForMaskedLM'],
        'attention_probs_dropout_prob': 0.0,
        'auto_map': {'AutoConfig': 'jinaai/jina-bert-implementation--configuration_bert.JinaBertConfig',
                     'AutoModel': 'jinaai/jina-bert-implementation--modeling_bert.JinaBertModel',
                     'AutoModelForMaskedLM': 'jinaai/jina-bert-implementation--modeling_bert.JinaBertForMaskedLM',
                     'AutoModelForSequenceClassification': 'jinaai/jina-bert-implementation--modeling_bert.JinaBertForSequenceClassification'},
        'classifier_dropout': None, 'emb_pooler': 'mean', 'feed_forward_type': 'geglu', 'gradient_checkpointing': False,
        'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'hidden_size': E, 'initializer_range': 0.02, 'intermediate_size': Fi,
        'layer_norm_eps': 1e-12, 'max_position_embeddings': 8192, 'model_max_length': 8192, 'model_type': 'bert',
        'num_attention_heads': H, 'num_hidden_layers': L, 'pad_token_id': 0, 'position_embedding_type': 'alibi',
        'torch_dtype': 'float32', 'transformers_version': '4.26.0', 'type_vocab_size': 2, 'use_cache': True, 'vocab_size': 30528,
    }


def jina_shapes(c):
    E, Fi = c['hidden_size'], c['intermediate_size']
    s = {'embeddings.word_embeddings.weight': (c['vocab_size'], E), 'embeddings.token_type_embeddings.weight': (2, E),
         'embeddings.LayerNorm.weight': (E,), 'embeddings.LayerNorm.bias': (E,)}
    for i in range(c['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        for n in ('query', 'key', 'value'):
            s[p + f'attention.self.{n}.weight'], s[p + f'attention.self.{n}.bias'] = (E, E), (E,)
        s.update({p + 'attention.output.dense.weight': (E, E), p + 'attention.output.dense.bias': (E,),
                  p + 'attention.output.LayerNorm.weight': (E,), p + 'attention.output.LayerNorm.bias': (E,),
                  p + 'mlp.gated_layers.weight': (2 * Fi, E), p + 'mlp.wo.weight': (E, Fi), p + 'mlp.wo.bias': (E,),
                  p + 'mlp.layernorm.weight': (E,), p + 'mlp.layernorm.bias': (E,)})
    s['pooler.dense.weight'], s['pooler.dense.bias'] = (E, E), (E,)
    return s


def alibi_slopes(n):
    # JinaBertEncoder._get_alibi_head_slopes
    def pow2(k):
        start = 2 ** (-(2 ** -(math.log2(k) - 3)))
        return [start * start ** i for i in range(k)]
    if math.log2(n).is_integer():
        return pow2(n)
    c = 2 ** math.floor(math.log2(n))
    return pow2(c) + alibi_slopes(2 * c)[0::2][:n - c]


def jina_forward(m, input_ids, attention_mask, token_type_ids):
    c = m.cfg
    E, H, Fi, eps = c['hidden_size'], c['num_attention_heads'], c['intermediate_size'], c['layer_norm_eps']
    d = E // H
    B, S = input_ids.shape
    ln = lambda x, n: F.layer_norm(x, (E,), m[n + '.weight'], m[n + '.bias'], eps)
    lin = lambda x, n, bias=True: F.linear(x, m[n + '.weight'], m[n + '.bias'] if bias else None)
    x = ln(F.embedding(input_ids, m['embeddings.word_embeddings.weight'])
           + F.embedding(token_type_ids, m['embeddings.token_type_embeddings.weight']), 'embeddings.LayerNorm')
    ij = torch.arange(S)
    rel = (ij[None, :] - ij[:, None]).abs().float()                              # |j - i|: symmetric for the encoder
    bias = -torch.tensor(alibi_slopes(H), dtype=torch.float32)[:, None, None] * rel[None]
    ext = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    heads = lambda y: y.view(B, S, H, d).transpose(1, 2)
    for i in range(c['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        q, k, v = (heads(lin(x, p + 'attention.self.' + n)) for n in ('query', 'key', 'value'))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + ext
        ctx = torch.matmul(torch.softmax(s + bias[None], dim=-1), v).transpose(1, 2).reshape(B, S, E)
        x = ln(lin(ctx, p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
        g = lin(x, p + 'mlp.gated_layers', bias=False)
        gated, non_gated = g[..., :Fi], g[..., Fi:]                               # GELU on the first half
        x = ln(lin(F.gelu(gated) * non_gated, p + 'mlp.wo') + x, p + 'mlp.layernorm')
    return x


# BertForSequenceClassification (cross-encoder/ms-marco-MiniLM-L6-v2)

def rerank_config(small):
    c = minilm_config(small)
    c.update({'_name_or_path': 'cross-encoder/ms-marco-MiniLM-L6-v2', 'architectures': ['BertForSequenceClassification'],
              'id2label': {'0': 'LABEL_0'}, 'label2id': {'LABEL_0': 0},
              'sbert_ce_default_activation_function': 'torch.nn.modules.linear.Identity'})
    return c


class BertForSequenceClassification(nn.Module):
    """logits (B, 1) = classifier(tanh(pooler.dense(BERT(...)[:, 0]))); tensor names as the checkpoint's (bert.*)."""

    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        self.bert.pooler = nn.Module()
        self.bert.pooler.dense = nn.Linear(c['hidden_size'], c['hidden_size'])
        self.classifier = nn.Linear(c['hidden_size'], len(c['id2label']))

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.bert(input_ids, attention_mask, token_type_ids)
        return self.classifier(torch.tanh(self.bert.pooler.dense(h[:, 0])))


# Qwen3 (transformers' modeling_qwen3.py; Qwen/Qwen3-Embedding-0.6B)

def qwen3_config(small, layers=None):
    E, L, H, KV, d, Fi = (64, 2, 4, 2, 16, 128) if small else (1024, 28, 16, 8, 128, 3072)
    return {
        'architectures': ['Qwen3ForCausalLM'], 'attention_bias': False, 'attention_dropout': 0.0, 'bos_token_id': 151643,
        'eos_token_id': 151643, 'head_dim': d, 'hidden_act': 'silu', 'hidden_size': E, 'initializer_range': 0.02,
        'intermediate_size': Fi, 'max_position_embeddings': 32768, 'max_window_layers': 28, 'model_type': 'qwen3',
        'num_attention_heads': H, 'num_hidden_layers': layers or L, 'num_key_value_heads': KV, 'rms_norm_eps': 1e-06,
        'rope_scaling': None, 'rope_theta': 1000000, 'sliding_window': None, 'tie_word_embeddings': True,
        'torch_dtype': 'float32', 'transformers_version': '4.51.3', 'use_cache': True, 'use_sliding_window': False,
        'vocab_size': 151669,
    }


def decoder_shapes(c, gemma):
    E, Fi, H, KV, d = c['hidden_size'], c['intermediate_size'], c['num_attention_heads'], c['num_key_value_heads'], c['head_dim']
    s = {'embed_tokens.weight': (c['vocab_size'], E)}
    for i in range(c['num_hidden_layers']):
        p = f'layers.{i}.'
        s.update({p + 'input_layernorm.weight': (E,), p + 'self_attn.q_proj.weight': (H * d, E),
                  p + 'self_attn.k_proj.weight': (KV * d, E), p + 'self_attn.v_proj.weight': (KV * d, E),
                  p + 'self_attn.o_proj.weight': (E, H * d), p + 'self_attn.q_norm.weight': (d,),
                  p + 'self_attn.k_norm.weight': (d,), p + 'post_attention_layernorm.weight': (E,)})
        if gemma:
            s[p + 'pre_feedforward_layernorm.weight'] = (E,)
            s[p + 'post_feedforward_layernorm.weight'] = (E,)
        s.update({p + 'mlp.gate_proj.weight': (Fi, E), p + 'mlp.up_proj.weight': (Fi, E), p + 'mlp.down_proj.weight': (E, Fi)})
    s['norm.weight'] = (E,)
    return s


def qwen3_forward(m, input_ids, attention_mask, position_ids, *past):
    """(last_hidden_state, present.0.key, present.0.value, ...): the decoder graph transformers.js
    runs for a Qwen3Model (inputs as its decoder_forward feeds them: position_ids from the mask,
    past_key_values.{i}.key / .value of length 0 for a fresh input)."""
    c = m.cfg
    E, H, KV, d, eps = c['hidden_size'], c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], c['rms_norm_eps']
    B, S = input_ids.shape
    cos, sin = rope_cos_sin(position_ids, d, c['rope_theta'])
    T = attention_mask.shape[1]                                                  # past + S
    qi = torch.arange(S)[:, None] + (T - S)
    causal = (torch.arange(T)[None, :] <= qi)[None, None]
    allowed = causal & attention_mask.bool()[:, None, None, :]
    x = F.embedding(input_ids, m['embed_tokens.weight'])
    presents = []
    for i in range(c['num_hidden_layers']):
        p = f'layers.{i}.'
        h = rms(x, m[p + 'input_layernorm.weight'], eps)
        q = rms(F.linear(h, m[p + 'self_attn.q_proj.weight']).view(B, S, H, d), m[p + 'self_attn.q_norm.weight'], eps).transpose(1, 2)
        k = rms(F.linear(h, m[p + 'self_attn.k_proj.weight']).view(B, S, KV, d), m[p + 'self_attn.k_norm.weight'], eps).transpose(1, 2)
        v = F.linear(h, m[p + 'self_attn.v_proj.weight']).view(B, S, KV, d).transpose(1, 2)
        q, k = q * cos + rot_half(q) * sin, k * cos + rot_half(k) * sin       # q/k norms before RoPE
        k = torch.cat([past[2 * i], k], dim=2)
        v = torch.cat([past[2 * i + 1], v], dim=2)
        presents += [k, v]
        a = sdpa(q, k, v, allowed, d ** -0.5).transpose(1, 2).reshape(B, S, H * d)
        x = x + F.linear(a, m[p + 'self_attn.o_proj.weight'])
        h = rms(x, m[p + 'post_attention_layernorm.weight'], eps)
        x = x + F.linear(F.silu(F.linear(h, m[p + 'mlp.gate_proj.weight'])) * F.linear(h, m[p + 'mlp.up_proj.weight']),
                         m[p + 'mlp.down_proj.weight'])
    return (rms(x, m['norm.weight'], eps), *presents)


# EmbeddingGemma (transformers' modeling_gemma3.py, Gemma3TextModel with bidirectional
# attention, + sentence-transformers Pooling(mean) -> Dense -> Dense -> Normalize; google/embeddinggemma-300m)

def gemma_config(small, layers=None):
    E, L, H, KV, d, Fi = (64, 6, 2, 1, 32, 96) if small else (768, 24, 3, 1, 256, 1152)
    L = layers or L
    return {
        '_sliding_window_pattern': 6, 'architectures': ['Gemma3TextModel'], 'attention_bias': False, 'attention_dropout': 0.0,
        'attn_logit_softcapping': None, 'bos_token_id': 2, 'dtype': 'float32', 'eos_token_id': 1,
        'final_logit_softcapping': None, 'head_dim': d, 'hidden_activation': 'gelu_pytorch_tanh', 'hidden_size': E,
        'initializer_range': 0.02, 'intermediate_size': Fi,
        'layer_types': ['sliding_attention' if (i + 1) % 6 else 'full_attention' for i in range(L)],
        'max_position_embeddings': 2048, 'model_type': 'gemma3_text', 'num_attention_heads': H, 'num_hidden_layers': L,
        'num_key_value_heads': KV, 'pad_token_id': 0, 'query_pre_attn_scalar': 256, 'rms_norm_eps': 1e-06,
        'rope_local_base_freq': 10000.0, 'rope_scaling': None, 'rope_theta': 1000000.0, 'sliding_window': 512,
        'transformers_version': '4.57.0.dev0', 'use_bidirectional_attention': True, 'use_cache': True, 'vocab_size': 262144,
    }


GEMMA_DENSE = 3072   # 2_Dense: hidden -> 3072, 3_Dense: 3072 -> hidden, no bias, Identity


def gemma_forward(m, input_ids, attention_mask):
    """(last_hidden_state, sentence_embedding): the two outputs of onnx-community's
    embeddinggemma-300m-ONNX (sentence_embedding = Normalize(Dense(Dense(mean pooling))))."""
    c = m.cfg
    E, H, KV, d, eps = c['hidden_size'], c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], c['rms_norm_eps']
    B, S = input_ids.shape
    pos = torch.arange(S)[None, :].expand(B, S)
    cos_g, sin_g = rope_cos_sin(pos, d, c['rope_theta'])
    cos_l, sin_l = rope_cos_sin(pos, d, c['rope_local_base_freq'])
    keys = attention_mask.bool()[:, None, None, :]
    ij = torch.arange(S)
    # Gemma3TextConfig: a bidirectional model's window is sliding_window // 2 + 1, exclusive: |i - j| < w
    window = ((ij[:, None] - ij[None, :]).abs() < c['sliding_window'] // 2 + 1)[None, None]
    x = F.embedding(input_ids, m['embed_tokens.weight']) * torch.tensor(E ** 0.5, dtype=torch.float32)
    for i in range(c['num_hidden_layers']):
        p = f'layers.{i}.'
        r = lambda y, n: rms(y, m[p + n + '.weight'], eps, 1.0)
        sliding = c['layer_types'][i] == 'sliding_attention'
        cos, sin = (cos_l, sin_l) if sliding else (cos_g, sin_g)
        h = r(x, 'input_layernorm')
        q = rms(F.linear(h, m[p + 'self_attn.q_proj.weight']).view(B, S, H, d), m[p + 'self_attn.q_norm.weight'], eps, 1.0).transpose(1, 2)
        k = rms(F.linear(h, m[p + 'self_attn.k_proj.weight']).view(B, S, KV, d), m[p + 'self_attn.k_norm.weight'], eps, 1.0).transpose(1, 2)
        v = F.linear(h, m[p + 'self_attn.v_proj.weight']).view(B, S, KV, d).transpose(1, 2)
        q, k = q * cos + rot_half(q) * sin, k * cos + rot_half(k) * sin
        a = sdpa(q, k, v, keys & window if sliding else keys, c['query_pre_attn_scalar'] ** -0.5)
        x = x + r(F.linear(a.transpose(1, 2).reshape(B, S, H * d), m[p + 'self_attn.o_proj.weight']), 'post_attention_layernorm')
        h = r(x, 'pre_feedforward_layernorm')
        h = F.linear(F.gelu(F.linear(h, m[p + 'mlp.gate_proj.weight']), approximate='tanh') * F.linear(h, m[p + 'mlp.up_proj.weight']),
                     m[p + 'mlp.down_proj.weight'])
        x = x + r(h, 'post_feedforward_layernorm')
    x = rms(x, m['norm.weight'], eps, 1.0)
    mk = attention_mask[:, :, None].float()
    pooled = (x * mk).sum(1) / mk.sum(1).clamp(min=1e-9)
    y = F.linear(F.linear(pooled, m['dense2.linear.weight']), m['dense3.linear.weight'])
    return x, y / y.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def bert_ids_rows(seed, lengths=(7, 33, 128), vocab=30522):
    g = np.random.default_rng(seed)
    return [[101] + [int(x) for x in g.integers(1000, vocab, T - 2)] + [102] for T in lengths]


def st_files(out, E, pooling, dense=None):
    """sentence-transformers' modules.json, 1_Pooling (and Dense folders), as the real repositories have them."""
    mods = [('', 'Transformer'), ('1_Pooling', 'Pooling')]
    if dense:
        mods += [('2_Dense', 'Dense'), ('3_Dense', 'Dense')]
    mods.append((f'{len(mods)}_Normalize', 'Normalize'))
    write_json(os.path.join(out, 'modules.json'), [{'idx': i, 'name': str(i), 'path': p, 'type': 'sentence_transformers.models.' + t}
                                                  for i, (p, t) in enumerate(mods)])
    os.makedirs(os.path.join(out, '1_Pooling'), exist_ok=True)
    write_json(os.path.join(out, '1_Pooling', 'config.json'), {
        'word_embedding_dimension': E, 'pooling_mode_cls_token': pooling == 'cls', 'pooling_mode_mean_tokens': pooling == 'mean',
        'pooling_mode_max_tokens': False, 'pooling_mode_mean_sqrt_len_tokens': False, 'pooling_mode_weightedmean_tokens': False,
        'pooling_mode_lasttoken': pooling == 'lasttoken', 'include_prompt': True})
    for k, (folder, w) in enumerate(dense or []):
        os.makedirs(os.path.join(out, folder), exist_ok=True)
        write_json(os.path.join(out, folder, 'config.json'), {'in_features': w.shape[1], 'out_features': w.shape[0], 'bias': False,
                                                             'activation_function': 'torch.nn.modules.linear.Identity'})
        write_safetensors(os.path.join(out, folder, 'model.safetensors'), [('linear.weight', w)])


def text_files(out, tokenizer_max, **extra):
    """The BERT-uncased tokenizer (bge-small-en-v1.5's tokenizer.json) for every model here: the
    real one for jina-v2-small and ms-marco-MiniLM; a stand-in for ModernBERT's, Qwen's and Gemma's
    (not available offline), which only has to give both engines the same ids."""
    shutil.copyfile(os.path.join(TOK, 'bge-small-en-v1.5', 'tokenizer.json'), os.path.join(out, 'tokenizer.json'))
    tc = bert_tokenizer_config(tokenizer_max)
    tc.update(extra)
    write_json(os.path.join(out, 'tokenizer_config.json'), tc)


def export_and_quantize(name, out, model, args, inputs, outputs, dyn, file='model', q4=False):
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    f32 = os.path.join(out, 'onnx', file + '.onnx')
    export_onnx(model, args, f32, inputs, outputs, dyn)
    wt, counts = quantize_dynamic(f32, os.path.join(out, 'onnx', file + '_quantized.onnx'))
    print(f'{name}: q8 weights {wt}, {counts}', flush=True)
    if q4:
        print(f'{name}: q4 {quantize_q4(f32, os.path.join(out, "onnx", file + "_q4.onnx"))}', flush=True)
    return wt, counts


BS = {0: 'batch_size', 1: 'sequence_length'}


def gen_family(name, out, small, layers):
    """The second-wave models; see the module docstring."""
    torch.manual_seed(0)
    ids_rows = bert_ids_rows(7)
    ref = {'kind': 'text', 'normalize': True, 'input_ids': ids_rows}
    ex_ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 2023, 2003, 1037, 3231, 102]])
    ex_mask = (ex_ids != 0).long()
    pooled = lambda h, how: h[0, 0] if how == 'cls' else h[0, -1] if how == 'last' else h[0].mean(0)
    if name == 'rerank':
        c = rerank_config(small)
        model = BertForSequenceClassification(c)
        init_weights(model, seed=1234 + len(name))
        # The head drawn wider than HF's init (pooler N(0, 0.05), classifier N(0, 1)): an untrained
        # head gives nearly the same logit to every pair (a spread of 1e-4, below q8's rounding),
        # and the agreement check would compare constants; a trained one spreads them over units.
        g = torch.Generator().manual_seed(77)
        with torch.no_grad():
            model.bert.pooler.dense.weight.copy_(torch.randn(model.bert.pooler.dense.weight.shape, generator=g) * 0.05)
            model.classifier.weight.copy_(torch.randn(model.classifier.weight.shape, generator=g))
        model.eval()
        write_json(os.path.join(out, 'config.json'), c)
        text_files(out, 512)
        write_safetensors(os.path.join(out, 'model.safetensors'), [(k, v.numpy()) for k, v in model.state_dict().items()])
        n_params = sum(p.numel() for p in model.parameters())
        wt, counts = export_and_quantize(name, out, model, (ex_ids, ex_mask, torch.zeros_like(ex_ids)),
                                         ['input_ids', 'attention_mask', 'token_type_ids'], ['logits'],
                                         {'input_ids': BS, 'attention_mask': BS, 'token_type_ids': BS, 'logits': {0: 'batch_size'}})
        # Pairs [CLS] q [SEP] p [SEP]: a 9-token query with passages of 20 to 190 tokens.
        g = np.random.default_rng(11)
        q = [int(x) for x in g.integers(1000, 30522, 9)]
        pairs, types, logits = [], [], []
        for n in (20, 45, 60, 90, 120, 150, 170, 190):
            p = [int(x) for x in g.integers(1000, 30522, n)]
            ids = [101] + q + [102] + p + [102]
            tt = [0] * (len(q) + 2) + [1] * (n + 1)
            t = torch.tensor([ids])
            with torch.no_grad():
                logits.append(float(model(t, torch.ones_like(t), torch.tensor([tt]))[0, 0]))
            pairs.append(ids)
            types.append(tt)
        ref = {'kind': 'rerank', 'input_ids': pairs, 'token_type_ids': types, 'logits': logits}
    else:
        if name == 'modernbert':
            c, fn, how, dense = modernbert_config(small), modernbert_forward, 'cls', None
            shapes, norms, off = modernbert_shapes(c), ('norm',), False
        elif name == 'jina':
            c, fn, how, dense = jina_config(small), jina_forward, 'mean', None
            shapes, norms, off = jina_shapes(c), ('LayerNorm', 'layernorm'), False
        elif name == 'qwen3':
            c, fn, how, dense = qwen3_config(small, layers), qwen3_forward, 'last', None
            shapes, norms, off = decoder_shapes(c, False), ('norm',), False
        elif name == 'gemma':
            c, fn, how = gemma_config(small, layers), gemma_forward, 'st'
            shapes, norms, off = decoder_shapes(c, True), ('norm',), True
            E = c['hidden_size']
            shapes.update({'dense2.linear.weight': (GEMMA_DENSE, E), 'dense3.linear.weight': (E, GEMMA_DENSE)})
        w = seeded_weights(shapes, 1234 + len(name), norms, off)
        model = Weights(w, fn, c)
        model.eval()
        E = c['hidden_size']
        n_params = sum(p.numel() for p in model.parameters())
        write_json(os.path.join(out, 'config.json'), c)
        state = model.state()
        main = [(k, v) for k, v in state if not k.startswith('dense')]
        write_safetensors(os.path.join(out, 'model.safetensors'), main)
        if name == 'modernbert':
            text_files(out, 8192)
            st_files(out, E, 'cls')
            wt, counts = export_and_quantize(name, out, model, (ex_ids, ex_mask), ['input_ids', 'attention_mask'], ['last_hidden_state'],
                                             {'input_ids': BS, 'attention_mask': BS, 'last_hidden_state': BS})
        elif name == 'jina':
            text_files(out, 8192)
            st_files(out, E, 'mean')
            wt, counts = export_and_quantize(name, out, model, (ex_ids, ex_mask, torch.zeros_like(ex_ids)),
                                             ['input_ids', 'attention_mask', 'token_type_ids'], ['last_hidden_state'],
                                             {'input_ids': BS, 'attention_mask': BS, 'token_type_ids': BS, 'last_hidden_state': BS})
        elif name == 'qwen3':
            text_files(out, 32768, padding_side='left')
            st_files(out, E, 'lasttoken')
            write_json(os.path.join(out, 'config_sentence_transformers.json'), {
                'prompts': {'query': 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:', 'document': ''},
                'default_prompt_name': None, 'similarity_fn_name': 'cosine'})
            L, KV, d = c['num_hidden_layers'], c['num_key_value_heads'], c['head_dim']
            past = [torch.zeros(2, KV, 0, d) for _ in range(2 * L)]
            names_in = ['input_ids', 'attention_mask', 'position_ids'] + [f'past_key_values.{i}.{kv}' for i in range(L) for kv in ('key', 'value')]
            names_out = ['last_hidden_state'] + [f'present.{i}.{kv}' for i in range(L) for kv in ('key', 'value')]
            dyn = {'input_ids': BS, 'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'}, 'position_ids': BS,
                   'last_hidden_state': BS}
            for n in names_in[3:]:
                dyn[n] = {0: 'batch_size', 2: 'past_sequence_length'}
            for n in names_out[1:]:
                dyn[n] = {0: 'batch_size', 2: 'total_sequence_length'}
            pos = (ex_mask.cumsum(-1) - 1).clamp(min=0)
            wt, counts = export_and_quantize(name, out, model, (ex_ids, ex_mask, pos, *past), names_in, names_out, dyn, q4=True)
        elif name == 'gemma':
            text_files(out, 2048)
            dw = dict(state)
            st_files(out, E, 'mean', dense=[('2_Dense', dw['dense2.linear.weight']), ('3_Dense', dw['dense3.linear.weight'])])
            write_json(os.path.join(out, 'config_sentence_transformers.json'), {
                'prompts': {'query': 'task: search result | query: ', 'document': 'title: none | text: '},
                'default_prompt_name': None, 'similarity_fn_name': 'cosine'})
            wt, counts = export_and_quantize(name, out, model, (ex_ids, ex_mask), ['input_ids', 'attention_mask'],
                                             ['last_hidden_state', 'sentence_embedding'],
                                             {'input_ids': BS, 'attention_mask': BS, 'last_hidden_state': BS,
                                              'sentence_embedding': {0: 'batch_size'}}, q4=True)
        embs = []
        for r in ids_rows:
            t = torch.tensor([r])
            with torch.no_grad():
                if name == 'qwen3':
                    h = model(t, torch.ones_like(t), torch.arange(len(r))[None], *[torch.zeros(1, KV, 0, d)] * (2 * L))[0]
                elif name == 'gemma':
                    embs.append(model(t, torch.ones_like(t))[1][0].tolist())
                    continue
                elif name == 'jina':
                    h = model(t, torch.ones_like(t), torch.zeros_like(t))
                else:
                    h = model(t, torch.ones_like(t))
            v = pooled(h, how)
            embs.append((v / v.norm()).tolist())
        ref.update({'pooling': how, 'embeddings': embs})
    print(f'{name}: {n_params / 1e6:.1f}M parameters', flush=True)
    ref.update({'parameters': n_params, 'q8_weight_type': wt, 'q8_ops': counts})
    write_json(os.path.join(out, 'reference.json'), ref)


# -----------------------------------------------------------------------------------------
# Files

def write_safetensors(path, tensors):
    """tensors: [(name, float32 ndarray)] -> an F32 safetensors file, written tensor by tensor."""
    header, off = {}, 0
    for name, a in tensors:
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + a.nbytes]}
        off += a.nbytes
    header['__metadata__'] = {'format': 'pt'}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h)
        for _, a in tensors:
            f.write(np.ascontiguousarray(a, dtype='<f4').tobytes())


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def export_onnx(model, args, path, input_names, output_names, dynamic_axes):
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)
    one_external_file(path)
    onnx.checker.check_model(path)


def one_external_file(path):
    """Over protobuf's 2 GB (Qwen3-0.6B in f32) torch writes every weight to a file of its own
    next to the graph; gathered into <name>.onnx_data, the one file transformers.js and
    onnxruntime expect beside an .onnx with external data."""
    folder = os.path.dirname(path)
    m = onnx.load(path, load_external_data=False)
    ext = {e.value for t in m.graph.initializer if t.data_location == TensorProto.EXTERNAL
           for e in t.external_data if e.key == 'location'}
    if not ext:
        return
    m = onnx.load(path)
    onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=os.path.basename(path) + '_data', size_threshold=1024)
    for f in ext:
        if f != os.path.basename(path) + '_data':
            os.remove(os.path.join(folder, f))


# -----------------------------------------------------------------------------------------
# Dynamic quantization (onnxruntime quantize_dynamic, IntegerOps mode, per tensor)

def quantize_weight(w, qtype):
    """Per-tensor quantization as onnxruntime's quant_utils.quantize_data: int8 symmetric in
    [-127, 127] (zero point 0); uint8 asymmetric over [min(w, 0), max(w, 0)] in [0, 255]."""
    w = w.astype(np.float32)
    rmin, rmax = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    if qtype == TensorProto.INT8:
        a = max(abs(rmin), abs(rmax))
        scale = (2 * a) / 254.0 if a > 0 else 1.0
        zp = 0
        q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    else:
        scale = (rmax - rmin) / 255.0 if rmax > rmin else 1.0
        zp = int(np.rint(0 - rmin / scale))
        zp = min(max(zp, 0), 255)
        q = np.clip(np.rint(w / scale) + zp, 0, 255).astype(np.uint8)
    return q, np.float32(scale), zp


def quantize_dynamic(src, dst):
    """Writes the q8 model of src to dst; returns (weight type name, counts of rewritten ops)."""
    m = onnx.load(src)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    ops = {n.op_type for n in g.node}
    qtype = TensorProto.UINT8 if 'Conv' in ops else TensorProto.INT8
    np_q = np.uint8 if qtype == TensorProto.UINT8 else np.int8
    new_nodes, new_inits, used_weights, dq_act = [], [], set(), {}
    counts = {'MatMulInteger': 0, 'ConvInteger': 0, 'Gather': 0}
    qweights = {}

    def qweight(name):
        if name not in qweights:
            q, scale, zp = quantize_weight(numpy_helper.to_array(inits[name]), qtype)
            new_inits.append(numpy_helper.from_array(q, name + '_quantized'))
            new_inits.append(numpy_helper.from_array(np.array(scale, np.float32), name + '_scale'))
            new_inits.append(numpy_helper.from_array(np.array(zp, np_q), name + '_zero_point'))
            qweights[name] = (name + '_quantized', name + '_scale', name + '_zero_point')
            used_weights.add(name)
        return qweights[name]

    def qact(name):
        # One DynamicQuantizeLinear per activation, shared by all its consumers (as onnxruntime does).
        if name not in dq_act:
            base = name.replace('/', '_').strip('_')
            outs = [base + '_quantized', base + '_scale', base + '_zero_point']
            new_nodes.append(helper.make_node('DynamicQuantizeLinear', [name], outs, name=base + '_QuantizeLinear'))
            dq_act[name] = outs
        return dq_act[name]

    def is_weight(name):
        t = inits.get(name)
        return t is not None and t.data_type == TensorProto.FLOAT

    for n in g.node:
        if n.op_type == 'MatMul' and is_weight(n.input[1]):
            a_q, a_s, a_zp = qact(n.input[0])
            w_q, w_s, w_zp = qweight(n.input[1])
            y = n.output[0]
            new_nodes += [
                helper.make_node('MatMulInteger', [a_q, w_q, a_zp, w_zp], [y + '_output_quantized'], name=n.name + '_quant'),
                helper.make_node('Cast', [y + '_output_quantized'], [y + '_output_quantized_cast'], to=TensorProto.FLOAT,
                                 name=n.name + '_quant_cast'),
                helper.make_node('Mul', [a_s, w_s], [y + '_scales_mul'], name=n.name + '_quant_scales_mul'),
                helper.make_node('Mul', [y + '_output_quantized_cast', y + '_scales_mul'], [y], name=n.name + '_quant_output_scale_mul'),
            ]
            counts['MatMulInteger'] += 1
        elif n.op_type == 'Conv' and is_weight(n.input[1]):
            a_q, a_s, a_zp = qact(n.input[0])
            w_q, w_s, w_zp = qweight(n.input[1])
            y = n.output[0]
            has_bias = len(n.input) == 3 and n.input[2] != ''
            scaled = y + '_scaled_output' if has_bias else y
            conv = helper.make_node('ConvInteger', [a_q, w_q, a_zp, w_zp], [y + '_output_quantized'], name=n.name + '_quant')
            conv.attribute.extend(n.attribute)
            new_nodes += [
                conv,
                helper.make_node('Cast', [y + '_output_quantized'], [y + '_cast_output'], to=TensorProto.FLOAT, name=n.name + '_cast'),
                helper.make_node('Mul', [a_s, w_s], [y + '_scales_mul'], name=n.name + '_scales_mul'),
                helper.make_node('Mul', [y + '_cast_output', y + '_scales_mul'], [scaled], name=n.name + '_output_scale_mul'),
            ]
            if has_bias:
                # The float bias, reshaped to (1, C, 1, ...) and added (onnxruntime's ConvInteger.add_bias).
                rank = len(inits[n.input[1]].dims)
                new_inits.append(numpy_helper.from_array(np.array([1, -1] + [1] * (rank - 2), np.int64), y + '_bias_reshape_shape'))
                new_nodes += [
                    helper.make_node('Reshape', [n.input[2], y + '_bias_reshape_shape'], [y + '_bias_reshape_output'], name=n.name + '_bias_reshape'),
                    helper.make_node('Add', [scaled, y + '_bias_reshape_output'], [y], name=y + '_bias_add'),
                ]
            counts['ConvInteger'] += 1
        elif n.op_type == 'Gather' and is_weight(n.input[0]):
            w_q, w_s, w_zp = qweight(n.input[0])
            y = n.output[0]
            gather = helper.make_node('Gather', [w_q, n.input[1]], [y + '_quantized'], name=n.name)
            gather.attribute.extend(n.attribute)
            new_nodes += [gather, helper.make_node('DequantizeLinear', [y + '_quantized', w_s, w_zp], [y],
                                                   name=y.replace('/', '_').strip('_') + '_DequantizeLinear')]
            counts['Gather'] += 1
        else:
            new_nodes.append(n)

    # A weight used by an op left in float (none in these graphs) keeps its float copy.
    still_float = {i for n in new_nodes for i in n.input if i in used_weights}
    keep = [t for t in g.initializer if t.name not in used_weights or t.name in still_float]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    del g.node[:]
    g.node.extend(topo_sort(new_nodes, {i.name for i in g.input} | {t.name for t in g.initializer}))
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return ('QUInt8' if qtype == TensorProto.UINT8 else 'QInt8'), counts


Q4_BLOCK = 32


def quantize_q4_weight(w):
    """w: (K, N) float32, the B of MatMul(A, B). Symmetric 4-bit blocks of Q4_BLOCK weights along K,
    as onnxruntime's MatMul4BitsQuantizer with is_symmetric=True: the block's value of largest
    magnitude maps to -8 (scale = that value / -8), q = clip(round(w / scale) + 8, 0, 15), zero
    point 8 (MatMulNBits' default when zero_points is absent). Returns B as MatMulNBits takes it,
    uint8 (N, K / Q4_BLOCK, Q4_BLOCK / 2) with element 2i in the low nibble and 2i + 1 in the high
    one, and the scales (N * K / Q4_BLOCK,) float32, block-major within each column n."""
    K, N = w.shape
    nb = K // Q4_BLOCK
    blocks = np.ascontiguousarray(w.T, dtype=np.float32).reshape(N, nb, Q4_BLOCK)
    idx = np.abs(blocks).argmax(axis=2)[..., None]
    scale = np.take_along_axis(blocks, idx, axis=2)[..., 0] / -8.0
    safe = np.where(scale == 0, 1.0, scale)[..., None]
    q = np.clip(np.rint(blocks / safe) + 8, 0, 15).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return packed, scale.astype(np.float32).reshape(-1)


def quantize_q4(src, dst):
    """Writes the q4 model of src to dst, as transformers.js's q4 files are made (its
    scripts/quantize.py runs MatMul4BitsQuantizer, block size 32, symmetric, no accuracy level):
    each MatMul with a constant (K, N) B, K a multiple of 32, becomes com.microsoft MatMulNBits
    (bits 4, block_size 32); each Gather from a constant table becomes the q8 rule's int8 table +
    DequantizeLinear (published q4 exports do not keep a float token table; the 4-bit quantizer
    leaves Gather alone). Returns the counts of rewritten ops."""
    m = onnx.load(src)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes, new_inits, used = [], [], set()
    counts = {'MatMulNBits': 0, 'Gather': 0}
    done = {}

    def is_weight(name):
        t = inits.get(name)
        return t is not None and t.data_type == TensorProto.FLOAT

    for n in g.node:
        if n.op_type == 'MatMul' and is_weight(n.input[1]) and len(inits[n.input[1]].dims) == 2 \
                and inits[n.input[1]].dims[0] % Q4_BLOCK == 0:
            name = n.input[1]
            K, N = inits[name].dims
            if name not in done:
                b, s = quantize_q4_weight(numpy_helper.to_array(inits[name]))
                new_inits += [numpy_helper.from_array(b, name + '_Q4'), numpy_helper.from_array(s, name + '_scales')]
                done[name] = (name + '_Q4', name + '_scales')
                used.add(name)
            new_nodes.append(helper.make_node('MatMulNBits', [n.input[0], *done[name]], [n.output[0]], name=n.name + '_Q4',
                                              domain='com.microsoft', K=K, N=N, bits=4, block_size=Q4_BLOCK))
            counts['MatMulNBits'] += 1
        elif n.op_type == 'Gather' and is_weight(n.input[0]):
            name = n.input[0]
            q, scale, zp = quantize_weight(numpy_helper.to_array(inits[name]), TensorProto.INT8)
            new_inits += [numpy_helper.from_array(q, name + '_quantized'), numpy_helper.from_array(np.array(scale, np.float32), name + '_scale'),
                          numpy_helper.from_array(np.array(zp, np.int8), name + '_zero_point')]
            used.add(name)
            y = n.output[0]
            gather = helper.make_node('Gather', [name + '_quantized', n.input[1]], [y + '_quantized'], name=n.name)
            gather.attribute.extend(n.attribute)
            new_nodes += [gather, helper.make_node('DequantizeLinear', [y + '_quantized', name + '_scale', name + '_zero_point'], [y],
                                                   name=y.replace('/', '_').strip('_') + '_DequantizeLinear')]
            counts['Gather'] += 1
        else:
            new_nodes.append(n)
    still_float = {i for n in new_nodes for i in n.input if i in used}
    keep = [t for t in g.initializer if t.name not in used or t.name in still_float]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    del g.node[:]
    g.node.extend(topo_sort(new_nodes, {i.name for i in g.input} | {t.name for t in g.initializer}))
    m.opset_import.append(helper.make_opsetid('com.microsoft', 1))
    onnx.save(m, dst)
    return counts


def topo_sort(nodes, available):
    avail, out, pending = set(available) | {''}, [], list(nodes)
    while pending:
        rest = []
        for n in pending:
            if all(i in avail for i in n.input):
                out.append(n)
                avail.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise RuntimeError('quantized graph has a cycle or a missing input: ' + rest[0].name)
        pending = rest
    return out


# -----------------------------------------------------------------------------------------

def text_reference(model, vocab, seed):
    """Token-id rows of 7, 33 and 128 tokens ([CLS] ... [SEP]) and their mean-pooled, normalized
    embeddings, each row run alone (no padding)."""
    g = np.random.default_rng(seed)
    rows, out = [], []
    for T in (7, 33, 128):
        ids = [101] + [int(x) for x in g.integers(1000, vocab, T - 2)] + [102]
        t = torch.tensor([ids])
        with torch.no_grad():
            h = model(t, torch.ones_like(t), torch.zeros_like(t))[0]
        v = h.mean(0)
        rows.append(ids)
        out.append((v / v.norm()).tolist())
    return {'kind': 'text', 'pooling': 'mean', 'normalize': True, 'input_ids': rows, 'embeddings': out}


def gen_text(name, out, small, cfg_fn, model_cls, vocab_for_ids, tokenizer_max):
    c = cfg_fn(small)
    model = model_cls(c)
    init_weights(model, seed=1234 + len(name))
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    print(f'{name}: {n_params / 1e6:.1f}M parameters', flush=True)
    write_json(os.path.join(out, 'config.json'), c)
    shutil.copyfile(os.path.join(TOK, 'bge-small-en-v1.5', 'tokenizer.json'), os.path.join(out, 'tokenizer.json'))
    write_json(os.path.join(out, 'tokenizer_config.json'), bert_tokenizer_config(tokenizer_max))
    write_safetensors(os.path.join(out, 'model.safetensors'),
                      [(k, v.numpy()) for k, v in model.state_dict().items()])
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 2023, 2003, 1037, 3231, 102]])
    mask = (ids != 0).long()
    f32 = os.path.join(out, 'onnx', 'model.onnx')
    export_onnx(model, (ids, mask, torch.zeros_like(ids)), f32,
                ['input_ids', 'attention_mask', 'token_type_ids'], ['last_hidden_state'],
                {'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'attention_mask': {0: 'batch_size', 1: 'sequence_length'},
                 'token_type_ids': {0: 'batch_size', 1: 'sequence_length'},
                 'last_hidden_state': {0: 'batch_size', 1: 'sequence_length'}})
    wt, counts = quantize_dynamic(f32, os.path.join(out, 'onnx', 'model_quantized.onnx'))
    print(f'{name}: q8 weights {wt}, {counts}', flush=True)
    ref = text_reference(model, vocab_for_ids, seed=7)
    ref.update({'parameters': n_params, 'q8_weight_type': wt, 'q8_ops': counts})
    write_json(os.path.join(out, 'reference.json'), ref)


def gen_clip(out, small):
    c = clip_config(small)
    model = ClipVisionModelWithProjection(c)
    init_weights(model, seed=4321, clip=c)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    print(f'clip: {n_params / 1e6:.1f}M parameters (vision tower + projection)', flush=True)
    write_json(os.path.join(out, 'config.json'), c)
    write_json(os.path.join(out, 'preprocessor_config.json'), CLIP_PREPROCESSOR)
    shutil.copyfile(os.path.join(TOK, 'clip-vit-base-patch32', 'tokenizer.json'), os.path.join(out, 'tokenizer.json'))
    write_json(os.path.join(out, 'tokenizer_config.json'), CLIP_TOKENIZER_CONFIG)
    write_safetensors(os.path.join(out, 'model.safetensors'), [(k, v.numpy()) for k, v in model.state_dict().items()])
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    f32 = os.path.join(out, 'onnx', 'vision_model.onnx')
    export_onnx(model, (torch.randn(2, 3, 224, 224),), f32, ['pixel_values'], ['image_embeds', 'last_hidden_state'],
                {'pixel_values': {0: 'batch_size'}, 'image_embeds': {0: 'batch_size'}, 'last_hidden_state': {0: 'batch_size'}})
    wt, counts = quantize_dynamic(f32, os.path.join(out, 'onnx', 'vision_model_quantized.onnx'))
    print(f'clip: q8 weights {wt}, {counts}', flush=True)
    g = torch.Generator().manual_seed(99)
    px = torch.randn(2, 3, 224, 224, generator=g)
    with torch.no_grad():
        emb, _ = model(px)
    emb = emb / emb.norm(dim=-1, keepdim=True)
    px.numpy().astype('<f4').tofile(os.path.join(out, 'reference.pixel_values.bin'))
    write_json(os.path.join(out, 'reference.json'), {
        'kind': 'image', 'normalize': True, 'pixel_values': {'file': 'reference.pixel_values.bin', 'shape': [2, 3, 224, 224]},
        'embeddings': emb.tolist(), 'parameters': n_params, 'q8_weight_type': wt, 'q8_ops': counts})


# -----------------------------------------------------------------------------------------
# SigLIP's vision tower and nomic-embed-vision: nn.Modules written after transformers'
# modeling_siglip.py (SiglipVisionEmbeddings, SiglipAttention, SiglipMLP, SiglipEncoderLayer,
# SiglipVisionTransformer, SiglipMultiheadAttentionPoolingHead) and nomic-ai/contrastors'
# modeling_hf_nomic_bert.py (NomicVisionPatchEmbeddings, NomicVisionRotaryEmbeddingCat with timm's
# build_rotary_pos_embed / apply_rot_embed_cat, NomicBertAttention's rope branch, NomicBertBlock,
# NomciBertGatedMLP, NomicMultiHeadAttentionPooling, NomicVisionModel), with the checkpoints'
# names, float32. gen_siglip / gen_nomic_vision also run the float64 references of
# gen/siglip_fixture.py and gen/nomic_vision_fixture.py (checked against the shared fixtures) on
# the generated weights and the reference pixels, and refuse to write a model that differs.

def siglip_config(small):
    # google/siglip-base-patch16-224's config.json (the text tower's sizes stay real: it has no weights here)
    E, L, H, Fi = (64, 2, 4, 128) if small else (768, 12, 12, 3072)
    return {
        'architectures': ['SiglipModel'], 'initializer_factor': 1.0, 'model_type': 'siglip', 'torch_dtype': 'float32',
        'transformers_version': '4.37.0.dev0',
        'text_config': {'hidden_size': 768, 'intermediate_size': 3072, 'model_type': 'siglip_text_model',
                        'num_attention_heads': 12, 'num_hidden_layers': 12, 'vocab_size': 32000},
        'vision_config': {'hidden_size': E, 'image_size': 224, 'intermediate_size': Fi, 'model_type': 'siglip_vision_model',
                          'num_attention_heads': H, 'num_hidden_layers': L, 'patch_size': 16},
    }


SIGLIP_PREPROCESSOR = {
    'do_normalize': True, 'do_rescale': True, 'do_resize': True, 'image_mean': [0.5, 0.5, 0.5],
    'image_processor_type': 'SiglipImageProcessor', 'image_std': [0.5, 0.5, 0.5], 'processor_class': 'SiglipProcessor',
    'resample': 3, 'rescale_factor': 0.00392156862745098, 'size': {'height': 224, 'width': 224},
}


def gelu_tanh(x):                      # ACT2FN['gelu_pytorch_tanh']
    return F.gelu(x, approximate='tanh')


class SiglipAttn(nn.Module):
    def __init__(self, E, H):
        super().__init__()
        self.H = H
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(E, E) for _ in range(4))

    def forward(self, x):
        q, k, v = heads(self.q_proj(x), self.H), heads(self.k_proj(x), self.H), heads(self.v_proj(x), self.H)
        w = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * q.shape[-1] ** -0.5, dim=-1)   # no mask
        return self.out_proj(merge(torch.matmul(w, v)))


class SiglipMlp(nn.Module):
    def __init__(self, E, Fi):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(E, Fi), nn.Linear(Fi, E)

    def forward(self, x):
        return self.fc2(gelu_tanh(self.fc1(x)))


class SiglipLayer(nn.Module):
    def __init__(self, E, H, Fi, eps):
        super().__init__()
        self.layer_norm1, self.self_attn = nn.LayerNorm(E, eps=eps), SiglipAttn(E, H)
        self.layer_norm2, self.mlp = nn.LayerNorm(E, eps=eps), SiglipMlp(E, Fi)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))                                         # pre-LN
        return x + self.mlp(self.layer_norm2(x))


class SiglipVisionEmbeddings(nn.Module):
    def __init__(self, v):
        super().__init__()
        E, P = v['hidden_size'], v['patch_size']
        self.patch_embedding = nn.Conv2d(3, E, kernel_size=P, stride=P)                    # with bias; no class token
        self.position_embedding = nn.Embedding((v['image_size'] // P) ** 2, E)

    def forward(self, pixel_values):
        p = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)                  # (B, patches, E)
        return p + self.position_embedding.weight[None, :, :]


class SiglipEncoder(nn.Module):
    def __init__(self, v, eps):
        super().__init__()
        self.layers = nn.ModuleList([SiglipLayer(v['hidden_size'], v['num_attention_heads'], v['intermediate_size'], eps)
                                     for _ in range(v['num_hidden_layers'])])


class SiglipHead(nn.Module):
    """SiglipMultiheadAttentionPoolingHead: the learned probe is the one query of an
    nn.MultiheadAttention over every token (its packed in_proj rows q, k, v, then out_proj), and
    h + mlp(layernorm(h)). Written out over nn.MultiheadAttention's own parameter names so that it
    traces into plain MatMuls; gen_siglip checks it against torch.nn.MultiheadAttention."""

    def __init__(self, v, eps):
        super().__init__()
        E = self.E = v['hidden_size']
        self.H = v['num_attention_heads']
        self.probe = nn.Parameter(torch.zeros(1, 1, E))
        self.attention = nn.MultiheadAttention(E, self.H, batch_first=True)
        self.layernorm, self.mlp = nn.LayerNorm(E, eps=eps), SiglipMlp(E, v['intermediate_size'])

    def forward(self, h):
        E = self.E   # a constant, so that the export folds the slices of in_proj_weight into weights
        W, b = self.attention.in_proj_weight, self.attention.in_proj_bias
        q = F.linear(self.probe, W[:E], b[:E]).expand(h.shape[0], 1, E)
        k, v = F.linear(h, W[E:2 * E], b[E:2 * E]), F.linear(h, W[2 * E:], b[2 * E:])
        q, k, v = heads(q, self.H), heads(k, self.H), heads(v, self.H)
        a = torch.matmul(torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * q.shape[-1] ** -0.5, dim=-1), v)
        a = self.attention.out_proj(merge(a))
        return (a + self.mlp(self.layernorm(a)))[:, 0]


class SiglipVisionTransformer(nn.Module):
    def __init__(self, v):
        super().__init__()
        eps = v.get('layer_norm_eps', 1e-6)                                               # SiglipVisionConfig default
        self.embeddings, self.encoder = SiglipVisionEmbeddings(v), SiglipEncoder(v, eps)
        self.post_layernorm, self.head = nn.LayerNorm(v['hidden_size'], eps=eps), SiglipHead(v, eps)


class SiglipVisionModel(nn.Module):
    """(last_hidden_state (B, patches, E) after post_layernorm, pooler_output (B, E) = the head) =
    SigLIP vision(pixel_values (B, 3, S, S)), as transformers.js's SiglipVisionModel runs vision_model.onnx."""

    def __init__(self, c):
        super().__init__()
        self.vision_model = SiglipVisionTransformer(c['vision_config'])

    def forward(self, pixel_values):
        vm = self.vision_model
        x = vm.embeddings(pixel_values)
        for layer in vm.encoder.layers:
            x = layer(x)
        h = vm.post_layernorm(x)
        return h, vm.head(h)


def init_siglip(model, seed):
    """SiglipPreTrainedModel._init_weights: positions normal(1/sqrt(E)); attention projections,
    MLP layers, the probe and in_proj_weight xavier_uniform; other Linears and the patch Conv
    lecun_normal; plus small random biases and layer-norm parameters (as init_weights)."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda shape, std: torch.randn(shape, generator=g) * std
    xavier = lambda shape, fan_in, fan_out: (torch.rand(shape, generator=g) * 2 - 1) * math.sqrt(6 / (fan_in + fan_out))
    with torch.no_grad():
        for name, mod in model.named_modules():
            leaf = name.split('.')[-1]
            if isinstance(mod, (nn.Linear, nn.Conv2d)):
                w = mod.weight
                if leaf in ('q_proj', 'k_proj', 'v_proj', 'fc1', 'fc2') or (leaf == 'out_proj' and 'self_attn' in name):
                    w.copy_(xavier(w.shape, w.shape[1], w.shape[0]))
                else:
                    w.copy_(rnd(w.shape, w[0].numel() ** -0.5))                            # lecun_normal (fan_in)
                mod.bias.copy_(rnd(mod.bias.shape, 0.02))
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.copy_(1.0 + rnd(mod.weight.shape, 0.05))
                mod.bias.copy_(rnd(mod.bias.shape, 0.05))
            elif isinstance(mod, SiglipVisionEmbeddings):
                E = mod.position_embedding.weight.shape[1]
                mod.position_embedding.weight.copy_(rnd(mod.position_embedding.weight.shape, E ** -0.5))
            elif isinstance(mod, SiglipHead):
                E = mod.probe.shape[-1]
                mod.probe.copy_(xavier(mod.probe.shape, E, E))
                mod.attention.in_proj_weight.copy_(xavier(mod.attention.in_proj_weight.shape, E, 3 * E))
                mod.attention.in_proj_bias.copy_(rnd(mod.attention.in_proj_bias.shape, 0.02))


def nomic_vision_config(small):
    # nomic-ai/nomic-embed-vision-v1.5's config.json key for key (as the shared fixture's); n_inner 2048.0
    # (EVA02-B's SwiGLU width 768 * 8 / 3) gives the checkpoint's 92.9M parameters (372 MB of float32)
    E, L, H, Fi = (64, 2, 4, 256.0) if small else (768, 12, 12, 2048.0)
    return {
        'activation_function': 'swiglu', 'architectures': ['NomicVisionModel'], 'attn_pdrop': 0.0,
        'auto_map': {'AutoConfig': 'configuration_hf_nomic_bert.NomicBertConfig', 'AutoModel': 'modeling_hf_nomic_bert.NomicVisionModel'},
        'bos_token_id': None, 'causal': False, 'dense_seq_output': True, 'drop_path_rate': 0.0, 'embd_pdrop': 0.0,
        'eos_token_id': None, 'eva_qkv_bias': False, 'fused_bias_fc': True, 'fused_dropout_add_ln': True, 'global_pool': None,
        'hidden_features_scaling_factor': 1.0, 'img_size': 224, 'initializer_range': 0.02, 'layer_norm_epsilon': 1e-06,
        'layer_scale': False, 'layer_scale_init': 1.0, 'learned_pos_embedding': False, 'mask_token': False,
        'max_trained_positions': 2048, 'mlp_fc1_bias': True, 'mlp_fc2_bias': True, 'model_type': 'nomic_bert', 'n_embd': E,
        'n_head': H, 'n_inner': Fi, 'n_layer': L, 'n_positions': 0, 'no_cls_token': False, 'no_embed_class': False,
        'no_last_ln': True, 'norm_mlp': True, 'num_channels': 3, 'pad_vocab_size_multiple': 1, 'parallel_block': False,
        'parallel_block_tied_norm': False, 'patch_dropout': 0, 'patch_embed_bias': True, 'patch_size': 16, 'prenorm': True,
        'prepre_layernom': False, 'qkv_proj_bias': True, 'ref_feat_shape': [14, 14], 'register_tokens': 0,
        'reorder_and_upcast_attn': False, 'resid_pdrop': 0.0, 'rotary_emb_base': 10000, 'rotary_emb_fraction': 0,
        'rotary_emb_interleaved': False, 'rotary_emb_scale_base': None, 'rotary_scaling_factor': None,
        'scale_attn_by_inverse_layer_idx': False, 'scale_attn_weights': True, 'sinusoidal_pos_embedding': False,
        'summary_activation': None, 'summary_first_dropout': 0.1, 'summary_proj_to_labels': True, 'summary_type': 'cls_index',
        'summary_use_proj': True, 'torch_dtype': 'float32', 'transformers_version': '4.40.2', 'type_vocab_size': 2,
        'use_cache': True, 'use_flash_attn': True, 'use_pos_embed': True, 'use_rms_norm': False, 'use_rotary_pos_emb': True,
        'use_xentropy': False, 'vocab_size': 0,
    }


NOMIC_VISION_PREPROCESSOR = {**CLIP_PREPROCESSOR}   # CLIPImageProcessor: shortest edge 224, center crop 224, CLIP mean / std


def nomic_ff_width(c):
    # NomciBertGatedMLP: n_inner (a float) rounded up to a multiple of 256
    return int((c['n_inner'] + 255) // 256 * 256)


class NomicGatedMlp(nn.Module):
    """fc2(norm(fc11(x) * silu(fc12(x)))); the blocks' MLP has the inner LayerNorm (norm_mlp,
    nn.LayerNorm's default eps 1e-5), the selector's has none."""

    def __init__(self, E, Fi, norm):
        super().__init__()
        self.fc11, self.fc12, self.fc2 = nn.Linear(E, Fi), nn.Linear(E, Fi), nn.Linear(Fi, E)
        self.norm = nn.LayerNorm(Fi) if norm else None

    def forward(self, x):
        y = self.fc11(x) * F.silu(self.fc12(x))
        return self.fc2(self.norm(y) if self.norm is not None else y)


class NomicVisionAttn(nn.Module):
    def __init__(self, E, H):
        super().__init__()
        self.H = H
        self.Wqkv, self.out_proj = nn.Linear(E, 3 * E), nn.Linear(E, E)


class NomicVisionBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        E, eps = c['n_embd'], c['layer_norm_epsilon']
        self.norm1, self.attn = nn.LayerNorm(E, eps=eps), NomicVisionAttn(E, c['n_head'])
        self.norm2, self.mlp = nn.LayerNorm(E, eps=eps), NomicGatedMlp(E, nomic_ff_width(c), c['norm_mlp'])

    def forward(self, x, sin, cos):
        h = self.norm1(x)                                                                  # prenorm
        B, T, E = h.shape
        H = self.attn.H
        qkv = self.attn.Wqkv(h).view(B, T, 3, H, E // H)
        q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))                        # (B, H, T, d)
        # 2-D RoPE on the patch tokens only (num_prefix_tokens = 1: the class token is not rotated)
        q = torch.cat([q[:, :, :1], q[:, :, 1:] * cos + rot_pairs(q[:, :, 1:]) * sin], dim=2)
        k = torch.cat([k[:, :, :1], k[:, :, 1:] * cos + rot_pairs(k[:, :, 1:]) * sin], dim=2)
        a = torch.matmul(torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1]), dim=-1), v)
        x = x + self.attn.out_proj(merge(a))
        return x + self.mlp(self.norm2(x))


def rot_pairs(x):
    # timm's rot(): interleaved pairs (x0, x1) -> (-x1, x0)
    return torch.stack([-x[..., 1::2], x[..., ::2]], -1).reshape(x.shape)


def nomic_rope_tables(grid, ref, head_dim, base=10000.0):
    """timm build_rotary_pos_embed(feat_shape=grid, dim=head_dim, in_pixels=False, ref_feat_shape=ref)
    as NomicVisionRotaryEmbeddingCat holds it, float32: head_dim / 4 bands per axis, t = index * ref / grid,
    rows on the first half of each head and columns on the second, each band repeated for its pair."""
    nb = head_dim // 4
    bands = 1.0 / (base ** (torch.arange(0, nb, 1, dtype=torch.int64).to(torch.float32) / nb))
    t = [torch.arange(s, dtype=torch.int64).to(torch.float32) / s * r for s, r in zip(grid, ref)]
    pos = torch.stack(torch.meshgrid(*t, indexing='ij'), dim=-1).unsqueeze(-1) * bands     # (gh, gw, 2, nb)
    sin = pos.sin().reshape(grid[0] * grid[1], -1).repeat_interleave(2, -1)
    cos = pos.cos().reshape(grid[0] * grid[1], -1).repeat_interleave(2, -1)
    return sin, cos


class NomicVisionEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        E, P, C = c['n_embd'], c['patch_size'], c['num_channels']
        self.P = P
        self.proj = nn.Linear(C * P * P, E)                                                # a Linear over (c, ky, kx), with bias
        self.cls_token = nn.Parameter(torch.zeros(1, 1, E))
        self.pos_embed = nn.Parameter(torch.zeros(1, (c['img_size'] // P) ** 2 + 1, E))

    def forward(self, pixel_values):
        B, C, S, _ = pixel_values.shape
        G, P = S // self.P, self.P
        # rearrange 'b c (h p1) (w p2) -> b (h w) (c p1 p2)'
        p = pixel_values.reshape(B, C, G, P, G, P).permute(0, 2, 4, 1, 3, 5).reshape(B, G * G, C * P * P)
        x = torch.cat([self.cls_token.expand(B, 1, self.cls_token.shape[-1]), self.proj(p)], dim=1)
        return x + self.pos_embed                                                          # positions on every token, class included


class NomicSelectorAttn(nn.Module):
    def __init__(self, E, H):
        super().__init__()
        self.H = H
        self.latent = nn.Parameter(torch.zeros(1, 1, E))
        self.Wq, self.Wkv, self.out_proj = nn.Linear(E, E), nn.Linear(E, 2 * E), nn.Linear(E, E)


class NomicSelector(nn.Module):
    """NomicMultiHeadAttentionPooling: the latent query attends over every token, out_proj, then
    mlp(norm1(.)) (SwiGLU, no inner norm); NomicVisionModel adds the result to every trunk token."""

    def __init__(self, c):
        super().__init__()
        E = c['n_embd']
        self.attn = NomicSelectorAttn(E, c['n_head'])
        self.norm1 = nn.LayerNorm(E, eps=c['layer_norm_epsilon'])
        self.mlp = NomicGatedMlp(E, nomic_ff_width(c), False)

    def forward(self, x):
        B, T, E = x.shape
        H, at = self.attn.H, self.attn
        q = heads(at.Wq(at.latent).expand(B, 1, E), H)
        kv = at.Wkv(x).view(B, T, 2, H, E // H)
        k, v = kv[:, :, 0].transpose(1, 2), kv[:, :, 1].transpose(1, 2)
        a = torch.matmul(torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1]), dim=-1), v)
        return self.mlp(self.norm1(at.out_proj(merge(a))))                                 # (B, 1, E)


class NomicVisionModel(nn.Module):
    """last_hidden_state (B, 1 + patches, E) = trunk + selector(trunk) (no final LayerNorm: no_last_ln);
    the embedding is normalize(last_hidden_state[:, 0]) (the model card)."""

    def __init__(self, c):
        super().__init__()
        self.embeddings = NomicVisionEmbeddings(c)
        self.layers = nn.ModuleList([NomicVisionBlock(c) for _ in range(c['n_layer'])])
        self.selector = NomicSelector(c)
        G = c['img_size'] // c['patch_size']
        sin, cos = nomic_rope_tables((G, G), c['ref_feat_shape'], c['n_embd'] // c['n_head'], c['rotary_emb_base'])
        self.register_buffer('rope_sin', sin, persistent=False)
        self.register_buffer('rope_cos', cos, persistent=False)

    def forward(self, pixel_values):
        x = self.embeddings(pixel_values)
        for layer in self.layers:
            x = layer(x, self.rope_sin, self.rope_cos)
        return x + self.selector(x)


def init_nomic_vision(model, seed):
    """contrastors / timm's ViT init: normal(0, initializer_range 0.02) for every Linear, the class
    token, positions and latent; plus small random biases and layer-norm parameters (as init_weights)."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda shape, std: torch.randn(shape, generator=g) * std
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('.bias'):
                p.copy_(rnd(p.shape, 0.05 if 'norm' in name else 0.02))
            elif 'norm' in name:
                p.copy_(1.0 + rnd(p.shape, 0.05))
            else:
                p.copy_(rnd(p.shape, 0.02))


def image_reference(out, emb, n_params, wt, counts, px, check):
    emb = emb / emb.norm(dim=-1, keepdim=True)
    px.numpy().astype('<f4').tofile(os.path.join(out, 'reference.pixel_values.bin'))
    write_json(os.path.join(out, 'reference.json'), {
        'kind': 'image', 'normalize': True, 'pixel_values': {'file': 'reference.pixel_values.bin', 'shape': list(px.shape)},
        'embeddings': emb.tolist(), 'parameters': n_params, 'q8_weight_type': wt, 'q8_ops': counts, 'float64_check': check})


def float64_check(name, got, want, tol):
    """The float32 module's embedding against the fixture generator's float64 reference (cosine)."""
    got, want = got.double(), want.double()
    cos = float((F.normalize(got, dim=-1) * F.normalize(want, dim=-1)).sum(-1).min())
    diff = float((got - want).abs().max())
    print(f'{name}: float32 module vs float64 reference: max |diff| {diff:.3g}, cosine min {cos:.8f}', flush=True)
    if not cos >= tol:
        sys.exit(f'{name}: the module disagrees with the float64 reference')
    return {'reference': 'float64', 'max_abs': diff, 'cosine_min': cos}


def gen_siglip(out, small):
    import siglip_fixture
    c = siglip_config(small)
    model = SiglipVisionModel(c)
    init_siglip(model, seed=4322)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    print(f'siglip: {n_params / 1e6:.1f}M parameters (vision tower)', flush=True)
    # The written-out head against torch.nn.MultiheadAttention itself.
    head, v = model.vision_model.head, c['vision_config']
    with torch.no_grad():
        h = torch.randn(3, 10, v['hidden_size'])
        a = head.attention(head.probe.repeat(3, 1, 1), h, h)[0]
        want = (a + head.mlp(head.layernorm(a)))[:, 0]
        d = float((head(h) - want).abs().max())
    print(f'siglip: pooling head vs torch.nn.MultiheadAttention: max |diff| {d:.3g}', flush=True)
    if d > 1e-5:
        sys.exit('siglip: the pooling head disagrees with torch.nn.MultiheadAttention')
    state = [(k, v.numpy()) for k, v in model.state_dict().items()]
    write_json(os.path.join(out, 'config.json'), c)
    write_json(os.path.join(out, 'preprocessor_config.json'), SIGLIP_PREPROCESSOR)
    write_safetensors(os.path.join(out, 'model.safetensors'), state)
    wt, counts = export_and_quantize('siglip', out, model, (torch.randn(2, 3, 224, 224),), ['pixel_values'],
                                     ['last_hidden_state', 'pooler_output'],
                                     {'pixel_values': {0: 'batch_size'}, 'last_hidden_state': {0: 'batch_size'}, 'pooler_output': {0: 'batch_size'}},
                                     file='vision_model')
    px = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(99))
    with torch.no_grad():
        _, emb = model(px)
    t64 = {k: torch.tensor(a, dtype=torch.float64) for k, a in state}
    _, ref64 = siglip_fixture.vision_forward(t64, c['vision_config'], px.double())
    image_reference(out, emb, n_params, wt, counts, px, float64_check('siglip', emb, ref64, 0.99999))


def gen_nomic_vision(out, small):
    import nomic_vision_fixture
    c = nomic_vision_config(small)
    model = NomicVisionModel(c)
    init_nomic_vision(model, seed=4323)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    print(f'nomicvision: {n_params / 1e6:.1f}M parameters', flush=True)
    state = [(k, v.numpy()) for k, v in model.state_dict().items()]
    write_json(os.path.join(out, 'config.json'), c)
    write_json(os.path.join(out, 'preprocessor_config.json'), NOMIC_VISION_PREPROCESSOR)
    write_safetensors(os.path.join(out, 'model.safetensors'), state)
    wt, counts = export_and_quantize('nomicvision', out, model, (torch.randn(2, 3, 224, 224),), ['pixel_values'], ['last_hidden_state'],
                                     {'pixel_values': {0: 'batch_size'}, 'last_hidden_state': {0: 'batch_size'}})
    px = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(99))
    with torch.no_grad():
        emb = model(px)[:, 0]
    _, _, last64 = nomic_vision_fixture.forward(c, dict(state), px.numpy())
    image_reference(out, emb, n_params, wt, counts, px,
                    float64_check('nomicvision', emb, torch.from_numpy(last64[:, 0]), 0.99999))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(ROOT, 'bench', 'models'))
    ap.add_argument('--preset', choices=['full', 'small'], default='full',
                    help='small: hidden 64, 2 layers (same vocabularies and file layout), to test the pipeline quickly')
    ap.add_argument('--only', default='minilm,nomic,clip')
    ap.add_argument('--layers', default='',
                    help='NAME=L,...: a model with L layers instead of the real count (full preset), e.g. qwen3=8 when time or memory is short')
    a = ap.parse_args()
    small = a.preset == 'small'
    layers = {k: int(v) for k, v in (x.split('=') for x in a.layers.split(',') if x)}
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    for name in a.only.split(','):
        out = os.path.join(a.out, name)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(out)
        if name == 'minilm':
            gen_text(name, out, small, minilm_config, BertModel, 30522, 512)
        elif name == 'nomic':
            gen_text(name, out, small, nomic_config, NomicBertModel, 30522, 8192)
        elif name == 'clip':
            gen_clip(out, small)
        elif name == 'siglip':
            gen_siglip(out, small)
        elif name == 'nomicvision':
            gen_nomic_vision(out, small)
        elif name in ('modernbert', 'jina', 'rerank', 'qwen3', 'gemma'):
            if name in layers and name not in ('qwen3', 'gemma'):
                sys.exit(f'--layers: only qwen3 and gemma take a layer count')
            gen_family(name, out, small, None if small else layers.get(name))
        else:
            sys.exit(f'unknown model {name}: minilm, nomic, clip, siglip, nomicvision, modernbert, jina, rerank, qwen3 or gemma')
        # The marker the benchmark checks: this generator, this preset, complete.
        write_json(os.path.join(out, 'generated.json'), {'generator': 'gen/bench_models.py', 'preset': a.preset, 'version': 1,
                                                          **({'layers': layers[name]} if name in layers and not small else {})})
        print(f'{name}: wrote {os.path.relpath(out)}', flush=True)


if __name__ == '__main__':
    main()
