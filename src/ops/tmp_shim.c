// TEMPORARY until the ops branch lands (act_apply with gelu_tanh).
#include <math.h>
#include <string.h>
#include "ops.h"
void we_act_apply(wembed_pool *pool, float *y, const float *x, size_t n, we_act act) {
    switch (act) {
    case WE_ACT_NONE: if (y != x) memmove(y, x, n * sizeof(float)); return;
    case WE_ACT_GELU: we_gelu(pool, y, x, n); return;
    case WE_ACT_GELU_QUICK: we_gelu_quick(pool, y, x, n); return;
    case WE_ACT_SILU: we_silu(pool, y, x, n); return;
    default: for (size_t i = 0; i < n; i++) { double v = x[i]; y[i] = (float)(0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))); } return;
    }
}
