// ops.h - the compute kernels of the engine: f32 and int8 GEMM with fused bias+activation,
// softmax, layer norm, RMSNorm, GELU (erf and tanh forms), quick GELU, SiLU, and a GEMM
// benchmark.
//
// Internal header (names `we_*`). Kernels in three layers (STYLE.md item 6):
//   - src/ops/ref.c          scalar `*_ref` versions: the definition of right;
//   - src/ops/arch/wasm/     the optimized versions, WebAssembly SIMD128 intrinsics (natively
//                            the same source through SIMDe, see simd.h);
//   - src/ops/arch-fallback.h  without WEMBED_SIMD, maps each optimized name to its `_ref`.
// Every optimized op has exactly the signature of its `_ref`, so tests call both alike.
//
// Conventions (torch.nn.Linear): y (T, N) = act(x (T, K) @ W^T + b), W (N, K) row-major,
// b (N) or NULL. ldx/ldy are row strides in floats (>= K and >= N), so callers can read
// and write slices of wider buffers. Matrices are never aliased (y must not overlap x or W).
//
// Threads: every op takes a wembed_pool (NULL = the calling thread only) and splits its
// output over the pool's threads. Results are bit-identical whatever the thread count: an
// element is always computed by the same instructions in the same order.
//
// What these kernels are not: they do not check their arguments (callers validated the
// shapes when loading the model; dims are >= 0 and buffers large enough), they never
// allocate (the int8 GEMM takes caller-provided scratch), and they do not handle
// non-finite inputs specially beyond not crashing: NaN and Inf propagate as IEEE
// arithmetic makes them (see each op).
#ifndef WE_OPS_H
#define WE_OPS_H

#include "../core/common.h"
#include "../core/pool.h"

// -----------------------------------------------------------------------------------------
// Activations, applied elementwise and as the fused epilogue of the GEMMs.

typedef enum we_act {
    WE_ACT_NONE = 0,
    WE_ACT_GELU,          // x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), torch's default gelu
    WE_ACT_GELU_QUICK,    // x * sigmoid(1.702 x)   (CLIP's quick_gelu)
    WE_ACT_SILU,          // x * sigmoid(x)
    WE_ACT_GELU_TANH,     // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (gelu_pytorch_tanh)
} we_act;

// "none", "gelu", "gelu_quick", "silu", "gelu_tanh". Static string.
const char *we_act_name(we_act act);

// Which kernels this build runs: "simd128", "simd128 via SIMDe" or "scalar". Static string.
const char *we_ops_impl(void);

// -----------------------------------------------------------------------------------------
// f32 GEMM. The optimized kernel reads W in a packed layout (panels of WE_GEMM_NR output
// channels, k-major inside a panel); pack once at load time.
//
//   float *Wp = we_calloc(we_gemm_f32_packed_floats(N, K), sizeof(float));
//   we_gemm_f32_pack(Wp, W, N, K);             // or, streaming the weights in:
//   Wp[we_gemm_f32_packed_index(n, k, N, K)] = W_nk;
//   we_gemm_f32(pool, y, N, x, K, Wp, b, T, K, N, WE_ACT_GELU);
//
// The packed buffer has padding (the last panel is rounded up to WE_GEMM_NR channels).
// Padding never reaches a result, but the kernel reads it: zero it (we_calloc), so that
// memory checkers stay quiet.

#if defined(WEMBED_SIMD)
#define WE_GEMM_NR 8     // output channels per packed panel (the micro-kernel's width)
#else
#define WE_GEMM_NR 1     // scalar build: the packed layout is W itself
#endif

size_t we_gemm_f32_packed_floats(int N, int K);

// Where W[n][k] lives in the packed buffer.
static inline size_t we_gemm_f32_packed_index(int n, int k, int N, int K) {
    (void)N;
    return ((size_t)(n / WE_GEMM_NR) * (size_t)K + (size_t)k) * WE_GEMM_NR + (size_t)(n % WE_GEMM_NR);
}

// dst (we_gemm_f32_packed_floats(N, K)) <- W (N, K), padding zeroed.
void we_gemm_f32_pack(float *dst, const float *W, int N, int K);

// Which f32 micro-kernel runs, chosen once per process: natively the fastest native kernel the
// CPU has (src/ops/arch/native_gemm.h: on x86-64 the widest of AVX-512 and AVX2 + FMA, on
// arm64 NEON), else SIMD128. All read the same packed layout. The native kernels fuse
// multiply and add (one rounding per FMA), so their results differ from the reference by
// rounding (tests/test-kernels.c bounds it); SIMD128 rounds as the reference does.
// On x86-64 the choice also picks the row kernels of the same instruction set (activations,
// GEMM epilogues, int8 activation quantization, layer norm, attention's row loops:
// native_gemm.h we_native_vec), bit-identical to the SIMD128 ones but for the order of sums
// across a row; SIMD128 and NEON run the SIMD128 row code.
typedef enum we_f32_kernel {
    WE_F32_KERNEL_SIMD128 = 0,   // SIMD128 mul + add (wasm; natively through SIMDe)
    WE_F32_KERNEL_AVX2,          // x86-64 AVX2 + FMA, 256-bit
    WE_F32_KERNEL_AVX512,        // x86-64 AVX-512 (F, BW, VL), 512-bit
    WE_F32_KERNEL_NEON,          // arm64 NEON fmla, 128-bit
} we_f32_kernel;
we_f32_kernel we_gemm_f32_kernel(void);
// Switches kernel (tests, benchmarks); false, and no change, where this build or CPU lacks it.
bool we_gemm_f32_use_kernel(we_f32_kernel k);
// "simd128", "avx2-fma", "avx512", "neon". Static string.
const char *we_gemm_f32_kernel_name(we_f32_kernel k);

// y (T, N; row stride ldy) = act(x (T, K; ldx) @ W^T + b). Wp packed as above.
void we_gemm_f32(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                 const float *Wp, const float *b, int T, int K, int N, we_act act);
// The same with W unpacked (N, K). Sums over k in order, in float, one rounding per
// multiply and per add; the optimized kernel does exactly that too, so for
// act = WE_ACT_NONE the two agree bit for bit.
void we_gemm_f32_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                     const float *W, const float *b, int T, int K, int N, we_act act);
// y (T, N; ldy) += x (T, K; ldx) @ W^T: each element's k-ordered sum, then added to y (the
// accumulation of attention's P V). Wp packed; the _ref takes W (N, K). Bit-identical.
void we_gemm_f32_add(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                     const float *Wp, int T, int K, int N);
void we_gemm_f32_add_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                         const float *W, int T, int K, int N);

// -----------------------------------------------------------------------------------------
// int8 quantization, symmetric per row: x[k] ~= q[k] * s with s = max_k |x[k]| / 127 and
// q[k] = round-to-nearest-even(x[k] * (127 / max|x|)), so |q| <= 127.
// A row whose largest magnitude is below 1e-30 gets s = 0 and q = 0; a row holding a NaN
// or an Inf gets s = NaN and q = 0 (so everything computed from it is NaN).

// q (rows, K) int8 and s (rows) from x (rows, K), all contiguous.
void we_quantize_rows_q8(int8_t *q, float *s, const float *x, int rows, int K);

// -----------------------------------------------------------------------------------------
// int8 GEMM: y (T, N) = act(dequant(x) @ dequant(W)^T + b), with W[n][k] ~= Wq[n][k] * ws[n]
// (per output channel scales, from we_quantize_rows_q8) and x quantized per row on the fly
// with the same rule. Integer dot products, exact; then
//     y[t][n] = act((float)sum_k qx[t][k] * Wq[n][k] * (sx[t] * ws[n]) + b[n]).
// Weights are packed like the f32 ones (we_gemm_q8_packed_index); the caller passes
// scratch of we_gemm_q8_scratch_bytes(T, K) bytes (any alignment of malloc), so nothing
// is allocated in the hot path.

// Which int8 micro-kernel runs, chosen once per process: relaxed SIMD's byte dot product
// where the module has it and the host computes it exactly (src/ops/arch/wasm/gemm_q8_dot.h),
// else i32x4.dot_i16x8. Each has its own packed layout, so weights are packed for the kernel
// of the moment: after we_gemm_q8_use_kernel, pack again. Every kernel computes the same
// exact integer sums, so results are bit-identical whichever runs.
typedef enum we_q8_kernel {
    WE_Q8_KERNEL_I16 = 0,     // SIMD128: int8 weights widened to int16, i32x4.dot_i16x8_s
    WE_Q8_KERNEL_DOT_U8,      // relaxed dot, a host reading its second operand as unsigned (x86)
    WE_Q8_KERNEL_DOT_S8,      // relaxed dot, a host reading it as signed (Arm)
    // Native x86-64 (src/ops/arch/x86/gemm_x86.c), on the dot kernels' layout; natively the
    // fastest native kernel the CPU has is the default (src/ops/arch/native_gemm.h).
    WE_Q8_KERNEL_AVX2,        // vpmaddubsw on |w| and x * sign(w), signed activations
    WE_Q8_KERNEL_AVX_VNNI,    // vpdpbusd ymm, activations unsigned (x + 128) and corrected
    WE_Q8_KERNEL_AVX512_VNNI, // vpdpbusd zmm, the same
    // Native arm64 (src/ops/arch/arm64/gemm_arm64.c), on the dot layout, signed activations.
    WE_Q8_KERNEL_NEON_SDOT,   // ARMv8.2 sdot, where the CPU has it (HWCAP_ASIMDDP)
    WE_Q8_KERNEL_NEON_SMULL,  // smull + sadalp, every arm64 CPU
} we_q8_kernel;

// The kernel in use (probed on the first call). Scalar builds: WE_Q8_KERNEL_I16, meaning none.
we_q8_kernel we_gemm_q8_kernel(void);
// Switches kernel (tests, benchmarks); false, and no change, when this module or host cannot
// run it exactly.
bool we_gemm_q8_use_kernel(we_q8_kernel k);
// "i16", "relaxed-dot-u8", "relaxed-dot-s8", "avx2-maddubs", "avx-vnni", "avx512-vnni",
// "neon-sdot", "neon-smull". Static string.
const char *we_gemm_q8_kernel_name(we_q8_kernel k);

size_t we_gemm_q8_packed_bytes(int N, int K);
static inline size_t we_gemm_q8_packed_index(int n, int k, int N, int K) {
#if defined(WEMBED_SIMD)
    (void)N;
    if (we_gemm_q8_kernel() != WE_Q8_KERNEL_I16) {
        // Panels of 8 channels; inside, for each group of 4 k, 32 bytes: channels 0-3 then
        // 4-7, each as its 4 consecutive k - one v128 load per 4 channels for the dot kernel.
        size_t kq = (size_t)(K + 3) / 4;
        return ((size_t)(n / 8) * kq + (size_t)(k / 4)) * 32 + (size_t)((n % 8) / 4) * 16 +
               (size_t)(n % 4) * 4 + (size_t)(k & 3);
    }
    // Panels of 8 channels; inside, for each pair of k, 16 bytes: channels 0-3 then 4-7,
    // each as (k, k+1) - what one i16x8 load + i32x4.dot_i16x8 per 4 channels wants.
    size_t kp = (size_t)(K + (K & 1)) / 2;    // pairs of k, K rounded up to even
    return ((size_t)(n / 8) * kp + (size_t)(k / 2)) * 16 + (size_t)((n % 8) / 4) * 8 +
           (size_t)(n % 4) * 2 + (size_t)(k & 1);
#else
    (void)N;
    return (size_t)n * (size_t)K + (size_t)k;
#endif
}
// The dot kernels' layout ends with one int32 per channel (N rounded up to 8), at this byte
// offset: 128 * sum_k Wq[n][k], the correction of activations given as unsigned bytes
// (gemm_q8_dot.h), written by we_gemm_q8_pack_row with the row. Other layouts: the size of
// the weights, nothing after.
size_t we_gemm_q8_sums_offset(int N, int K);
// Row n (K) of Wq into its places in a packed buffer dst (we_gemm_q8_packed_bytes(N, K)).
void we_gemm_q8_pack_row(int8_t *dst, int n, const int8_t *wq_row, int N, int K);
// The byte offset in a packed buffer from which the padding lies: zero from there on (the
// kernel reads padding; its values never reach a result). 0: padding is spread throughout.
size_t we_gemm_q8_padding_start(int N, int K);
// dst (we_gemm_q8_packed_bytes(N, K)) <- Wq (N, K), padding zeroed.
void we_gemm_q8_pack(int8_t *dst, const int8_t *Wq, int N, int K);
size_t we_gemm_q8_scratch_bytes(int T, int K);

void we_gemm_q8(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                const int8_t *Wp, const float *ws, const float *b, int T, int K, int N,
                we_act act, void *scratch);
// The same with Wq unpacked (N, K). Bit-identical to we_gemm_q8 for act = WE_ACT_NONE.
void we_gemm_q8_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                    const int8_t *Wq, const float *ws, const float *b, int T, int K, int N,
                    we_act act, void *scratch);

// -----------------------------------------------------------------------------------------
// 4-bit GEMM: weights in blocks of WE_Q4_BLOCK consecutive k, each block 4-bit integers
// q in [-8, 7] with one float scale d: W[n][k] ~= q * d (GGUF's Q4_0 rule, so that a Q4_0
// file's blocks come back exactly). Activations are quantized per row and per block, int8
// with its own scale (GGUF's Q8_0 idea: a block's scale follows its own range, which matters
// for the outlier features of decoder models). Exact integer dot products per block, then
//     acc[t][n] = sum over blocks b, in order, of (float)isum_b * (sx[t][b] * d[n][b])
//     y[t][n]   = act(acc + b[n])
// A K that is not a multiple of the block is padded with zero weights (and zero activations).
//
// Weight storage, in nibbles holding q + 8 (0..15), the same for every kernel:
//   rows layout (the reference; scalar builds): per row, per block, 16 bytes, byte j holding
//     k = j in its low nibble and k = j + 16 in its high one (GGUF's Q4_0 order), and the
//     scales (N, n_blocks) row-major;
//   packed (SIMD builds): panels of 8 channels; per panel, per group of 4 k, 16 bytes: byte
//     4 c + i holds channel c's k = 4 g + i in its low nibble (channels 0-3) and channel
//     4 + c's in its high one (4-7); scales per panel per block, 8 floats (one per channel).
// we_gemm_q4_nibble / we_gemm_q4_scale_index say where each lives, for both layouts.

#define WE_Q4_BLOCK 32

static inline int we_q4_blocks(int K) { return (K + WE_Q4_BLOCK - 1) / WE_Q4_BLOCK; }

// Quantizes x (K) into q (K rounded up to the block; values -8..7) and d (we_q4_blocks(K)):
// per block, m = the element of largest magnitude (the first of equals), d = m / -8,
// q = clamp(round-to-nearest-even(x / d), -8, 7). A block of zeros (or below 1e-30 in
// magnitude) gets d = 0, q = 0; a block holding a NaN or an Inf gets d = NaN, q = 0.
void we_quantize_row_q4(int8_t *q, float *d, const float *x, int K);

// Bytes of the nibbles and floats of the scales, in the packed layout (`packed`, SIMD builds
// only) or the rows layout. The packed one pads N to whole panels: zero its padding.
size_t we_gemm_q4_data_bytes(int N, int K, bool packed);
size_t we_gemm_q4_scale_floats(int N, int K, bool packed);
// Where weight (n, k) lives: byte index, and whether in the high nibble.
size_t we_gemm_q4_nibble(int n, int k, int N, int K, bool packed, bool *high);
size_t we_gemm_q4_scale_index(int n, int blk, int N, int K, bool packed);
// Row n: q (K, values -8..7) and d (blocks) into a buffer of either layout (the other
// rows' nibbles in shared bytes are kept).
void we_gemm_q4_store_row(uint8_t *dst, float *dscale, int n, const int8_t *q, const float *d,
                          int N, int K, bool packed);
size_t we_gemm_q4_scratch_bytes(int T, int K);

// y (T, N) as above, W in the packed layout (in scalar builds: the rows layout, as _ref).
void we_gemm_q4(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                const uint8_t *Wp, const float *ws, const float *b, int T, int K, int N,
                we_act act, void *scratch);
// The same from the rows layout. Bit-identical to we_gemm_q4 for act = WE_ACT_NONE.
void we_gemm_q4_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                    const uint8_t *W4, const float *ws, const float *b, int T, int K, int N,
                    we_act act, void *scratch);
// Whether the 4-bit GEMM uses a byte dot product, else i16 dots (probed once): in wasm relaxed
// SIMD's, where the module has it and the host computes it exactly for the 0..15 operands it is
// given; natively the CPU's own where it has one (arm64 sdot; x86: none, the i16 kernel).
bool we_gemm_q4_uses_dot(void);
// Tests: force the i16 kernel (false) or allow the dot one again (true, where it can run).
void we_gemm_q4_allow_dot(bool allow);

// -----------------------------------------------------------------------------------------
// Row ops. In place allowed (y == x with ldy == ldx).

// x (T, N; ldx) <- softmax over each row, max subtracted first. A row holding a NaN, or
// +Inf, or only -Inf, comes out all NaN (as in torch); -Inf entries otherwise give 0.
void we_softmax(wembed_pool *pool, float *x, int ldx, int T, int N);
void we_softmax_ref(wembed_pool *pool, float *x, int ldx, int T, int N);

// y (T, N; ldy) = (x - mean) / sqrt(var + eps) * gamma + beta over each row (biased
// variance, as torch.nn.LayerNorm). gamma and beta (N) may be NULL: no scale / no shift.
void we_layer_norm(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                   const float *gamma, const float *beta, int T, int N, float eps);
void we_layer_norm_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                       const float *gamma, const float *beta, int T, int N, float eps);

// y (T, N; ldy) = x / sqrt(mean(x^2) + eps) * (offset + gamma) over each row: RMSNorm with
// the weight as stored (offset 0: Llama, Qwen) or Gemma's (1 + w) (offset 1). gamma (N) may be
// NULL: no scale (offset ignored).
void we_rms_norm(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                 const float *gamma, float offset, int T, int N, float eps);
void we_rms_norm_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                     const float *gamma, float offset, int T, int N, float eps);

// -----------------------------------------------------------------------------------------
// Elementwise activations: y (n) = act(x (n)); y == x allowed. The `_ref` versions compute
// in double and round once; the optimized ones use vector approximations whose measured
// errors are stated in src/ops/arch/wasm/vmath.h.

void we_gelu(wembed_pool *pool, float *y, const float *x, size_t n);
void we_gelu_quick(wembed_pool *pool, float *y, const float *x, size_t n);
void we_silu(wembed_pool *pool, float *y, const float *x, size_t n);
void we_gelu_tanh(wembed_pool *pool, float *y, const float *x, size_t n);
void we_gelu_ref(wembed_pool *pool, float *y, const float *x, size_t n);
void we_gelu_quick_ref(wembed_pool *pool, float *y, const float *x, size_t n);
void we_silu_ref(wembed_pool *pool, float *y, const float *x, size_t n);
void we_gelu_tanh_ref(wembed_pool *pool, float *y, const float *x, size_t n);
// y (n) = act(x (n)) for any we_act (NONE copies).
void we_act_apply(wembed_pool *pool, float *y, const float *x, size_t n, we_act act);

// -----------------------------------------------------------------------------------------
// GEMM benchmark (src/ops/bench.c), also reached from JS (`wembed bench gemm`).

typedef struct we_gemm_bench_result {
    double gflops;      // 2*T*K*N / the median time of one call, in 1e9/s (GOP/s for int8)
    double gflops_mean; // the same from the mean time (total work / total time)
    double seconds;     // total time of the timed calls
    int64_t iters;      // timed calls
    double nmse;        // output vs the op's `_ref` on the first (up to 16) rows: 0 expected
} we_gemm_bench_result;

typedef enum we_bench_dtype {
    WE_BENCH_F32 = 0,
    WE_BENCH_Q8,          // the int8 GEMM, weights quantized per row
    WE_BENCH_Q4,          // the 4-bit GEMM, weights quantized per block of 32
} we_bench_dtype;

// Random x, W, b; quantizes and packs once; warms up; then calls the kernel repeatedly for at
// least min_seconds. No activation. INVALID_ARGUMENT for a dtype not above.
wembed_status we_bench_gemm(wembed_pool *pool, we_bench_dtype dtype, int T, int K, int N,
                            double min_seconds, we_gemm_bench_result *out);

#include "arch-fallback.h"

#endif // WE_OPS_H
