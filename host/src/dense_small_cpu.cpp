// The NMF's k x k dense products on the CPU (see sparse_cpu.hpp): times_small, gram,
// gram_add. Compiled with FMA contraction (CMakeLists.txt), unlike the rest of the host
// library: these were OpenBLAS calls, whose kernels fuse multiply-adds too, and no CUDA twin
// reproduces them bit for bit (cuBLAS computes the GPU's).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "sparse_cpu.hpp"
#include "tmine/context.hpp"
#include "tmine/error.hpp"

namespace tmine::cpu_impl {
namespace {

// The k x k products of the NMF (W HHᵀ, Ht WᵀW and the Gram matrices WᵀW, HHᵀ): tall, thin
// operands with k of 10 to a few hundred, called on blocks of 1024 rows from every thread.
// They were OpenBLAS calls; on a CPU model OpenBLAS 0.3.21 does not know (the 2-core Intel
// Xeon, family 6 model 207, of docs/benchmarks.md) its runtime dispatch falls back to SSE3
// kernels at 12 GFLOP/s, a third of an MU iteration. These kernels are the hot path, written
// once for a vector of L elements and compiled for AVX-512 (L = 16 floats, 8 doubles), AVX2 +
// FMA (8, 4) and the baseline (4, 2); a CPU check at first use picks one. Every output is summed in the same
// order on every ISA (t ascending; rows in order), so AVX-512 and AVX2 (both with FMA) give
// the same bits; the baseline, without FMA, rounds each product.

template <class T, int L>
struct Vec {
    typedef T type __attribute__((vector_size(L * sizeof(T)), aligned(sizeof(T))));  // unaligned loads
};

/// Columns [c, c + C L) of rows [0, R) of D = F G, G zero-padded to kp columns: R x C
/// accumulators of L lanes held in registers over the k terms (each row's element of F
/// broadcast once for C vectors of G).
template <class T, int L, int R, int C>
inline __attribute__((always_inline)) void times_tile(const T* F, int k, const T* Gp, int kp,
                                                      T* D, int c) {
    typedef typename Vec<T, L>::type V;
    V acc[R][C];
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < C; ++v) acc[r][v] = V{};
    for (int t = 0; t < k; ++t) {
        V g[C];
        for (int v = 0; v < C; ++v) g[v] = *reinterpret_cast<const V*>(Gp + int64_t(t) * kp + c + v * L);
        for (int r = 0; r < R; ++r) {
            const T f = F[int64_t(r) * k + t];
            for (int v = 0; v < C; ++v) acc[r][v] += f * g[v];
        }
    }
    for (int v = 0; v < C; ++v) {
        const int cv = c + v * L;
        if (cv + L <= k) {
            for (int r = 0; r < R; ++r) *reinterpret_cast<V*>(D + int64_t(r) * k + cv) = acc[r][v];
        } else {
            for (int r = 0; r < R; ++r)
                for (int l = 0; l < k - cv; ++l) D[int64_t(r) * k + cv + l] = acc[r][v][l];
        }
    }
}
/// Rows of D = F G in tiles of 6 rows by 2 vectors (12 accumulators and 2 vectors of G: within
/// the 16 registers of AVX2), then the rows and columns left.
template <class T, int L, int R>
inline __attribute__((always_inline)) void times_row_block(const T* F, int k, const T* Gp, int kp,
                                                           T* D) {
    int c = 0;
    for (; c + L < k; c += 2 * L) times_tile<T, L, R, 2>(F, k, Gp, kp, D, c);
    if (c < k) times_tile<T, L, R, 1>(F, k, Gp, kp, D, c);
}
template <class T, int L>
inline __attribute__((always_inline)) void times_rows(const T* F, int64_t rows, int k,
                                                      const T* Gp, int kp, T* D) {
    constexpr int R = 6;
    int64_t i = 0;
    for (; i + R <= rows; i += R) times_row_block<T, L, R>(F + i * k, k, Gp, kp, D + i * k);
    for (; i < rows; ++i) times_row_block<T, L, 1>(F + i * k, k, Gp, kp, D + i * k);
}

/// Rows [t0, t0 + TR) and columns [c, c + CV L) of C (k x kp) += F^T F for F (rows x k): TR x CV
/// accumulators of L lanes in registers over all the rows of F (CV vector loads and TR
/// broadcast elements a row, each used for CV vectors), then added to C. A row's last columns
/// read past its end into the next row (lanes that are never stored); the last rows, whose
/// reads would leave F, go through P (kp elements, zero-padded).
template <class T, int L, int TR, int CV>
inline __attribute__((always_inline)) void gram_tile(const T* F, int64_t rows, int k, T* C,
                                                     int kp, T* P, int t0, int c) {
    typedef typename Vec<T, L>::type V;
    int off[TR];  // the rows of the tile; past k they repeat k - 1 and are not stored
    for (int i = 0; i < TR; ++i) off[i] = std::min(t0 + i, k - 1);
    V acc[TR][CV];
    for (int i = 0; i < TR; ++i)
        for (int v = 0; v < CV; ++v) acc[i][v] = V{};
    // Rows whose load of [c, c + CV L) stays inside F.
    const int64_t room = rows * k - c - CV * L;  // row r's load stays inside for r * k <= room
    const int64_t direct = room < 0 ? 0 : std::min(rows, room / k + 1);
    for (int64_t r = 0; r < direct; ++r) {
        const T* a = F + r * k;
        V x[CV];
        for (int v = 0; v < CV; ++v) x[v] = *reinterpret_cast<const V*>(a + c + v * L);
        for (int i = 0; i < TR; ++i) {
            const T e = a[off[i]];
            for (int v = 0; v < CV; ++v) acc[i][v] += e * x[v];
        }
    }
    for (int64_t r = direct; r < rows; ++r) {
        for (int j = 0; j < k; ++j) P[j] = F[r * k + j];
        for (int j = k; j < kp; ++j) P[j] = T(0);
        V x[CV];
        for (int v = 0; v < CV; ++v) x[v] = *reinterpret_cast<const V*>(P + c + v * L);
        for (int i = 0; i < TR; ++i) {
            const T e = P[off[i]];
            for (int v = 0; v < CV; ++v) acc[i][v] += e * x[v];
        }
    }
    for (int i = 0; i < TR && t0 + i < k; ++i)
        for (int v = 0; v < CV; ++v) {
            V* out = reinterpret_cast<V*>(C + int64_t(t0 + i) * kp + c + v * L);
            *out += acc[i][v];
        }
}

/// The upper block triangle of C (k x kp) += F^T F for F (rows x k), in tiles of 8 rows of C
/// by one or (with 32 vector registers, AVX-512) two column vectors, each to the right of the
/// tile's start. Every element of C is summed over the rows in order, whatever the tiling.
template <class T, int L>
inline __attribute__((always_inline)) void gram_rows(const T* F, int64_t rows, int k, T* C,
                                                     int kp, T* P) {
    constexpr int TR = 8;
    constexpr int CV = L * sizeof(T) == 64 ? 2 : 1;  // 16 accumulators only where 32 registers
    for (int t0 = 0; t0 < k; t0 += TR) {
        int c = (t0 / L) * L;
        if (CV == 2)
            for (; c + L < k; c += 2 * L) gram_tile<T, L, TR, CV>(F, rows, k, C, kp, P, t0, c);
        for (; c < k; c += L) gram_tile<T, L, TR, 1>(F, rows, k, C, kp, P, t0, c);
    }
}

template <class T>
using TimesFn = void (*)(const T*, int64_t, int, const T*, int, T*);
template <class T>
using GramFn = void (*)(const T*, int64_t, int, T*, int, T*);

// One function per ISA and element type; LF and LD are a vector's width in floats, doubles.
#define TMINE_SMALL_KERNELS(ATTR, SUFFIX, LF, LD)                                               \
    ATTR void times_##SUFFIX(const float* F, int64_t rows, int k, const float* Gp, int kp,     \
                             float* D) {                                                        \
        times_rows<float, LF>(F, rows, k, Gp, kp, D);                                          \
    }                                                                                           \
    ATTR void times_##SUFFIX(const double* F, int64_t rows, int k, const double* Gp, int kp,   \
                             double* D) {                                                       \
        times_rows<double, LD>(F, rows, k, Gp, kp, D);                                         \
    }                                                                                           \
    ATTR void gram_##SUFFIX(const float* F, int64_t rows, int k, float* C, int kp, float* P) { \
        gram_rows<float, LF>(F, rows, k, C, kp, P);                                            \
    }                                                                                           \
    ATTR void gram_##SUFFIX(const double* F, int64_t rows, int k, double* C, int kp,           \
                            double* P) {                                                        \
        gram_rows<double, LD>(F, rows, k, C, kp, P);                                           \
    }
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
TMINE_SMALL_KERNELS(__attribute__((target("arch=x86-64-v4"))), v4, 16, 8)
TMINE_SMALL_KERNELS(__attribute__((target("arch=x86-64-v3"))), v3, 8, 4)
#endif
TMINE_SMALL_KERNELS(, v1, 4, 2)
#undef TMINE_SMALL_KERNELS

const char* const kLevelNames[] = {"", "baseline", "avx2", "avx512"};

/// The level at first use: the CPU's best, or TMINE_CPU_KERNELS (avx512, avx2, baseline) when
/// it names one the CPU runs. A value that is not one of those, or names a level above the
/// CPU's, is reported on stderr and the CPU's best is used (a misspelt tuning variable does
/// not stop a fit).
int initial_level() {
    const int best = cpu_vector_level();
    const char* want = std::getenv("TMINE_CPU_KERNELS");
    if (!want || !*want) return best;
    for (int level = 1; level <= 3; ++level)
        if (std::strcmp(want, kLevelNames[level]) == 0) {
            if (level <= best) return level;
            std::fprintf(stderr, "tmine: TMINE_CPU_KERNELS=%s: this CPU does not run those; using %s\n",
                         want, kLevelNames[best]);
            return best;
        }
    std::fprintf(stderr,
                 "tmine: TMINE_CPU_KERNELS=%s is not one of avx512, avx2, baseline; using %s\n",
                 want, kLevelNames[best]);
    return best;
}

std::atomic<int>& level_in_use() {
    static std::atomic<int> level{initial_level()};
    return level;
}

/// The kernels at the level in use for elements of type T, and their vector width.
template <class T>
struct SmallKernels {
    TimesFn<T> times = times_v1;
    GramFn<T> gram = gram_v1;
    int lanes = 16 / int(sizeof(T));
};
template <class T>
SmallKernels<T> small_kernels() {
    SmallKernels<T> K;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    const int level = level_in_use().load(std::memory_order_relaxed);
    if (level == 3) {
        K.times = times_v4, K.gram = gram_v4, K.lanes = 64 / int(sizeof(T));
    } else if (level == 2) {
        K.times = times_v3, K.gram = gram_v3, K.lanes = 32 / int(sizeof(T));
    }
#endif
    return K;
}
int padded(int k, int lanes) { return (k + lanes - 1) / lanes * lanes; }

/// Scratch of the calling thread (a padded k x kp matrix, a padded row, a block of results),
/// kept between calls: the fit calls these once per block of rows.
template <class T>
struct SmallScratch {
    std::vector<T> square, panel, block;
};
template <class T>
SmallScratch<T>& scratch() {
    static thread_local SmallScratch<T> s;
    return s;
}

template <class T>
void gram_add_impl(const T* A, int64_t rows, int k, T* C) {
    const SmallKernels<T> K = small_kernels<T>();
    const int kp = padded(k, K.lanes);
    SmallScratch<T>& s = scratch<T>();
    s.square.assign(size_t(k) * kp, T(0));
    s.panel.resize(size_t(kp));
    for (int t = 0; t < k; ++t)
        for (int j = t; j < k; ++j) s.square[size_t(t) * kp + j] = C[t * k + j];
    // The kernel passes over its rows once per tile of C: rows in pieces of about 128 KiB,
    // which stay in L2 between passes.
    const int64_t piece = std::max<int64_t>(8, (int64_t(128) << 10) / (int64_t(k) * int64_t(sizeof(T))));
    for (int64_t lo = 0; lo < rows; lo += piece)
        K.gram(A + lo * k, std::min(piece, rows - lo), k, s.square.data(), kp, s.panel.data());
    for (int t = 0; t < k; ++t)
        for (int j = t; j < k; ++j) C[t * k + j] = s.square[size_t(t) * kp + j];
}

/// Copies the upper triangle of C (k x k, row-major) into the lower one.
template <class T>
void mirror_upper_impl(T* C, int k) {
    for (int i = 0; i < k; ++i)
        for (int j = 0; j < i; ++j) C[i * k + j] = C[j * k + i];
}

template <class T>
void gram_impl(const T* A, int64_t rows, int k, T* C, int threads) {
    // Partial sums over fixed blocks of rows, added in block order: the result does not
    // depend on the thread count.
    constexpr int64_t kBlock = 16384;
    const int64_t blocks = std::max<int64_t>(1, (rows + kBlock - 1) / kBlock);
    std::vector<T> part(size_t(blocks) * k * k, T(0));
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t lo = b * kBlock, hi = std::min(rows, lo + kBlock);
        if (hi > lo) gram_add_impl(A + lo * k, hi - lo, k, part.data() + size_t(b) * k * k);
    }
    for (int x = 0; x < k * k; ++x) {
        T v = T(0);
        for (int64_t b = 0; b < blocks; ++b) v += part[size_t(b) * k * k + x];
        C[x] = v;
    }
    mirror_upper_impl(C, k);
}

template <class T>
void times_small_impl(const T* F, int64_t rows, int k, const T* G, T* D) {
    const SmallKernels<T> K = small_kernels<T>();
    const int kp = padded(k, K.lanes);
    SmallScratch<T>& s = scratch<T>();
    s.square.assign(size_t(k) * kp, T(0));
    for (int t = 0; t < k; ++t)
        for (int j = 0; j < k; ++j) s.square[size_t(t) * kp + j] = G[t * k + j];
    K.times(F, rows, k, s.square.data(), kp, D);
}

constexpr int64_t kTimesBlock = 1024;

/// D = F G over blocks of rows on `threads` threads; in place (through a block of scratch)
/// when D is F.
template <class T>
void times_small_parallel(const T* F, int64_t rows, int k, const T* G, T* D, int threads) {
    const int64_t blocks = (rows + kTimesBlock - 1) / kTimesBlock;
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t lo = b * kTimesBlock, hi = std::min(rows, lo + kTimesBlock);
        if (D != F) {
            times_small_impl<T>(F + lo * k, hi - lo, k, G, D + lo * k);
        } else {
            std::vector<T>& out = scratch<T>().block;
            out.resize(size_t(hi - lo) * k);
            times_small_impl<T>(F + lo * k, hi - lo, k, G, out.data());
            std::copy(out.begin(), out.end(), D + lo * k);
        }
    }
}

}  // namespace

int small_kernel_level() { return level_in_use().load(); }
int best_small_kernel_level() {
    static const int best = cpu_vector_level();
    return best;
}
int set_small_kernel_level(int level) {
    const int applied = std::max(1, std::min(level, best_small_kernel_level()));
    level_in_use().store(applied);
    return applied;
}
const char* small_kernel_name(int level) { return kLevelNames[std::max(1, std::min(level, 3))]; }

void gram_add(const float* A, int64_t rows, int k, float* C) { gram_add_impl(A, rows, k, C); }
void gram(const float* A, int64_t rows, int k, float* C, int threads) {
    gram_impl(A, rows, k, C, threads);
}
void gram(const double* A, int64_t rows, int k, double* C, int threads) {
    gram_impl(A, rows, k, C, threads);
}

void mirror_upper(float* C, int k) { mirror_upper_impl(C, k); }

void times_small(const float* F, int64_t rows, int k, const float* G, float* D) {
    times_small_impl(F, rows, k, G, D);
}
void times_small(const float* F, int64_t rows, int k, const float* G, float* D, int threads) {
    TMINE_ASSERT(D != nullptr, "times_small: no output (the in-place form is times_small_in_place)");
    times_small_parallel(F, rows, k, G, D, threads);
}
void times_small_in_place(double* F, int64_t rows, int k, const double* G, int threads) {
    times_small_parallel<double>(F, rows, k, G, F, threads);
}

}  // namespace tmine::cpu_impl

namespace tmine {

int cpu_vector_level() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return 3;
    if (__builtin_cpu_supports("x86-64-v3")) return 2;
#endif
    return 1;
}

bool cpu_is_intel() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    __builtin_cpu_init();
    return __builtin_cpu_is("intel");
#else
    return false;
#endif
}

}  // namespace tmine
