// The NMF's k x k dense products on the CPU (see sparse_cpu.hpp): times_small, gram,
// gram_add. Compiled with FMA contraction (CMakeLists.txt), unlike the rest of the host
// library: these were OpenBLAS calls, whose kernels fuse multiply-adds too, and no CUDA twin
// reproduces them bit for bit (cuBLAS computes the GPU's).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "sparse_cpu.hpp"

namespace tmine::cpu_impl {
static_assert(sizeof(float) == 4, "the small kernels count 4 bytes a float");
namespace {

// The k x k products of the NMF (W HHᵀ, Ht WᵀW and the Gram matrices WᵀW, HHᵀ): tall, thin
// operands with k of 10 to a few hundred, called on blocks of 1024 rows from every thread.
// They were OpenBLAS calls; on a CPU model OpenBLAS 0.3.21 does not know (the 2-core Intel
// Xeon, family 6 model 207, of docs/benchmarks.md) its runtime dispatch falls back to SSE3
// kernels at 12 GFLOP/s, a third of an MU iteration. These kernels are the hot path, written
// once for a vector of L floats and compiled for AVX-512 (L = 16), AVX2 + FMA (L = 8) and the
// baseline (L = 4); a CPU check at first use picks one. Every output is summed in the same
// order on every ISA (t ascending; rows in order), so AVX-512 and AVX2 (both with FMA) give
// the same bits; the baseline, without FMA, rounds each product.

template <int L>
struct Vec {
    typedef float type __attribute__((vector_size(L * 4), aligned(4)));  // unaligned loads
};

/// Columns [c, c + L) of rows [0, R) of D = F G, G zero-padded to kp columns: R
/// accumulators of L lanes held in registers over the k terms.
template <int L, int R>
inline __attribute__((always_inline)) void times_tile(const float* F, int k, const float* Gp,
                                                      int kp, float* D, int c) {
    typedef typename Vec<L>::type V;
    V acc[R];
    for (int r = 0; r < R; ++r) acc[r] = V{};
    for (int t = 0; t < k; ++t) {
        const V g = *reinterpret_cast<const V*>(Gp + int64_t(t) * kp + c);
        for (int r = 0; r < R; ++r) acc[r] += F[int64_t(r) * k + t] * g;
    }
    if (c + L <= k) {
        for (int r = 0; r < R; ++r) *reinterpret_cast<V*>(D + int64_t(r) * k + c) = acc[r];
    } else {
        for (int r = 0; r < R; ++r)
            for (int l = 0; l < k - c; ++l) D[int64_t(r) * k + c + l] = acc[r][l];
    }
}
template <int L>
inline __attribute__((always_inline)) void times_rows(const float* F, int64_t rows, int k,
                                                      const float* Gp, int kp, float* D) {
    constexpr int R = 8;
    int64_t i = 0;
    for (; i + R <= rows; i += R)
        for (int c = 0; c < k; c += L) times_tile<L, R>(F + i * k, k, Gp, kp, D + i * k, c);
    for (; i < rows; ++i)
        for (int c = 0; c < k; c += L) times_tile<L, 1>(F + i * k, k, Gp, kp, D + i * k, c);
}

/// The upper block triangle of C (k x kp) += F^T F for F (rows x k): for each tile of 8 rows
/// t of C and each column block c to the right of its start, 8 accumulators of L lanes in
/// registers over all the rows of F (one vector load and 8 broadcast multiply-adds a row),
/// then added to C. A row's last column block reads past its end into the next row (lanes
/// that are never stored); the last rows, whose reads would leave F, go through P (kp
/// floats, zero-padded).
template <int L>
inline __attribute__((always_inline)) void gram_rows(const float* F, int64_t rows, int k,
                                                     float* C, int kp, float* P) {
    typedef typename Vec<L>::type V;
    constexpr int TR = 8;
    for (int t0 = 0; t0 < k; t0 += TR) {
        int off[TR];  // the rows of the tile; past k they repeat k - 1 and are not stored
        for (int i = 0; i < TR; ++i) off[i] = std::min(t0 + i, k - 1);
        for (int c = (t0 / L) * L; c < k; c += L) {
            V acc[TR];
            for (int i = 0; i < TR; ++i) acc[i] = V{};
            // Rows whose load of [c, c + L) stays inside F.
            const int64_t room = rows * k - c - L;  // row r's load stays inside for r * k <= room
            const int64_t direct = room < 0 ? 0 : std::min(rows, room / k + 1);
            for (int64_t r = 0; r < direct; ++r) {
                const float* a = F + r * k;
                const V v = *reinterpret_cast<const V*>(a + c);
                for (int i = 0; i < TR; ++i) acc[i] += a[off[i]] * v;
            }
            for (int64_t r = direct; r < rows; ++r) {
                for (int j = 0; j < k; ++j) P[j] = F[r * k + j];
                for (int j = k; j < kp; ++j) P[j] = 0.0f;
                const V v = *reinterpret_cast<const V*>(P + c);
                for (int i = 0; i < TR; ++i) acc[i] += P[off[i]] * v;
            }
            for (int i = 0; i < TR && t0 + i < k; ++i) {
                V* out = reinterpret_cast<V*>(C + int64_t(t0 + i) * kp + c);
                *out += acc[i];
            }
        }
    }
}

using TimesFn = void (*)(const float*, int64_t, int, const float*, int, float*);
using GramFn = void (*)(const float*, int64_t, int, float*, int, float*);

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("arch=x86-64-v4"))) void times_v4(const float* F, int64_t rows, int k,
                                                        const float* Gp, int kp, float* D) {
    times_rows<16>(F, rows, k, Gp, kp, D);
}
__attribute__((target("arch=x86-64-v3"))) void times_v3(const float* F, int64_t rows, int k,
                                                        const float* Gp, int kp, float* D) {
    times_rows<8>(F, rows, k, Gp, kp, D);
}
__attribute__((target("arch=x86-64-v4"))) void gram_v4(const float* F, int64_t rows, int k,
                                                       float* C, int kp, float* P) {
    gram_rows<16>(F, rows, k, C, kp, P);
}
__attribute__((target("arch=x86-64-v3"))) void gram_v3(const float* F, int64_t rows, int k,
                                                       float* C, int kp, float* P) {
    gram_rows<8>(F, rows, k, C, kp, P);
}
#endif
void times_v1(const float* F, int64_t rows, int k, const float* Gp, int kp, float* D) {
    times_rows<4>(F, rows, k, Gp, kp, D);
}
void gram_v1(const float* F, int64_t rows, int k, float* C, int kp, float* P) {
    gram_rows<4>(F, rows, k, C, kp, P);
}

/// The kernels this CPU runs and their vector width.
struct SmallKernels {
    TimesFn times = times_v1;
    GramFn gram = gram_v1;
    int lanes = 4;
    SmallKernels() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("x86-64-v4")) {
            times = times_v4, gram = gram_v4, lanes = 16;
        } else if (__builtin_cpu_supports("x86-64-v3")) {
            times = times_v3, gram = gram_v3, lanes = 8;
        }
#endif
    }
};
const SmallKernels& small_kernels() {
    static const SmallKernels kernels;
    return kernels;
}
int padded(int k, int lanes) { return (k + lanes - 1) / lanes * lanes; }

/// Scratch of the calling thread (a padded k x kp matrix and a padded row), kept between
/// calls: the fit calls these once per block of rows.
struct SmallScratch {
    std::vector<float> square, panel;
};
SmallScratch& scratch() {
    static thread_local SmallScratch s;
    return s;
}

}  // namespace

void gram_add(const float* A, int64_t rows, int k, float* C) {
    const SmallKernels& K = small_kernels();
    const int kp = padded(k, K.lanes);
    SmallScratch& s = scratch();
    s.square.assign(size_t(k) * kp, 0.0f);
    s.panel.resize(size_t(kp));
    for (int t = 0; t < k; ++t)
        for (int j = t; j < k; ++j) s.square[size_t(t) * kp + j] = C[t * k + j];
    K.gram(A, rows, k, s.square.data(), kp, s.panel.data());
    for (int t = 0; t < k; ++t)
        for (int j = t; j < k; ++j) C[t * k + j] = s.square[size_t(t) * kp + j];
}

void gram(const float* A, int64_t rows, int k, float* C, int threads) {
    // Partial sums over fixed blocks of rows, added in block order: the result does not
    // depend on the thread count.
    constexpr int64_t kBlock = 16384;
    const int64_t blocks = std::max<int64_t>(1, (rows + kBlock - 1) / kBlock);
    std::vector<float> part(size_t(blocks) * k * k, 0.0f);
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t lo = b * kBlock, hi = std::min(rows, lo + kBlock);
        if (hi > lo) gram_add(A + lo * k, hi - lo, k, part.data() + size_t(b) * k * k);
    }
    for (int x = 0; x < k * k; ++x) {
        float v = 0.0f;
        for (int64_t b = 0; b < blocks; ++b) v += part[size_t(b) * k * k + x];
        C[x] = v;
    }
    mirror_upper(C, k);
}

void mirror_upper(float* C, int k) {
    for (int i = 0; i < k; ++i)
        for (int j = 0; j < i; ++j) C[i * k + j] = C[j * k + i];
}

void times_small(const float* F, int64_t rows, int k, const float* G, float* D) {
    const SmallKernels& K = small_kernels();
    const int kp = padded(k, K.lanes);
    SmallScratch& s = scratch();
    s.square.assign(size_t(k) * kp, 0.0f);
    for (int t = 0; t < k; ++t)
        for (int j = 0; j < k; ++j) s.square[size_t(t) * kp + j] = G[t * k + j];
    K.times(F, rows, k, s.square.data(), kp, D);
}

void times_small(const float* F, int64_t rows, int k, const float* G, float* D, int threads) {
    constexpr int64_t kBlock = 1024;
    const int64_t blocks = (rows + kBlock - 1) / kBlock;
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t lo = b * kBlock, hi = std::min(rows, lo + kBlock);
        times_small(F + lo * k, hi - lo, k, G, D + lo * k);
    }
}

}  // namespace tmine::cpu_impl
