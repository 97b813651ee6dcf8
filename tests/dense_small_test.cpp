// The NMF's k x k dense products on the CPU (host/src/dense_small_cpu.cpp) against a float64
// reference, over widths that do and do not fill a vector and row counts that do and do not
// fill a tile; results independent of the thread count. Every instruction set this CPU runs
// is checked (set_small_kernel_level), not only the one a fit picks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "kernel_levels.hpp"
#include "sparse_cpu.hpp"

namespace {

using tmine::test::for_each_level;

std::vector<float> random_matrix(int64_t rows, int cols, uint32_t seed, double zeros = 0.3) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> a(size_t(rows) * cols);
    for (auto& x : a) x = u(rng) < zeros ? 0.0f : u(rng);
    return a;
}

/// Runs f on a new thread: the kernels' per-thread scratch is then allocated for this call
/// alone, at its exact size, so the ASan build catches a read past it (a thread that ran a
/// wider k before would hide it in spare capacity).
template <class F>
void on_fresh_thread(F f) {
    std::thread t(f);
    t.join();
}

const int kWidths[] = {1, 3, 4, 8, 15, 16, 17, 50, 64, 100, 257};
const int64_t kRows[] = {0, 1, 7, 8, 9, 1031};

TEST(DenseSmall, TimesSmallMatchesFloat64) {
    for_each_level([&] {
        for (int k : kWidths)
            on_fresh_thread([&] {
                for (int64_t rows : kRows) {
                    const auto F = random_matrix(rows, k, uint32_t(k * 7919 + rows));
                    const auto G = random_matrix(k, k, uint32_t(k + 17), 0.0);
                    std::vector<float> D(size_t(rows) * k, -1.0f);
                    tmine::cpu_impl::times_small(F.data(), rows, k, G.data(), D.data());
                    for (int64_t i = 0; i < rows; ++i)
                        for (int j = 0; j < k; ++j) {
                            double want = 0;
                            for (int t = 0; t < k; ++t) want += double(F[i * k + t]) * G[t * k + j];
                            ASSERT_NEAR(D[i * k + j], want, 1e-5 * (1 + std::fabs(want)))
                                << "k=" << k << " rows=" << rows << " at (" << i << "," << j << ")";
                        }
                }
            });
    });
}

TEST(DenseSmall, GramAddUpdatesTheUpperTriangleOnly) {
    for_each_level([&] {
        for (int k : kWidths)
            on_fresh_thread([&] {
                for (int64_t rows : kRows) {
                    const auto A = random_matrix(rows, k, uint32_t(k * 31 + rows));
                    std::vector<float> C(size_t(k) * k);
                    for (int i = 0; i < k; ++i)
                        for (int j = 0; j < k; ++j) C[i * k + j] = float(i * k + j);  // existing values
                    tmine::cpu_impl::gram_add(A.data(), rows, k, C.data());
                    for (int i = 0; i < k; ++i)
                        for (int j = 0; j < k; ++j) {
                            if (j < i) {
                                ASSERT_EQ(C[i * k + j], float(i * k + j)) << "lower triangle changed";
                                continue;
                            }
                            double want = i * k + j;
                            for (int64_t r = 0; r < rows; ++r) want += double(A[r * k + i]) * A[r * k + j];
                            ASSERT_NEAR(C[i * k + j], want, 1e-5 * (1 + std::fabs(want)))
                                << "k=" << k << " rows=" << rows << " at (" << i << "," << j << ")";
                        }
                }
            });
    });
}

TEST(DenseSmall, ParallelVersionsDoNotDependOnThreads) {
    for_each_level([&] {
        const int k = 50;
        const int64_t rows = 40000;  // three blocks of the Gram's partial sums, 40 of times_small
        const auto A = random_matrix(rows, k, 5);
        const auto G = random_matrix(k, k, 6, 0.0);
        std::vector<float> C1(k * k), C3(k * k), D1(size_t(rows) * k), D3(size_t(rows) * k);
        tmine::cpu_impl::gram(A.data(), rows, k, C1.data(), 1);
        tmine::cpu_impl::gram(A.data(), rows, k, C3.data(), 3);
        EXPECT_EQ(C1, C3);
        for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j) ASSERT_EQ(C1[i * k + j], C1[j * k + i]) << "not symmetric";
        double want = 0;
        for (int64_t r = 0; r < rows; ++r) want += double(A[r * k + 3]) * A[r * k + 41];
        EXPECT_NEAR(C1[3 * k + 41], want, 1e-4 * want);
        tmine::cpu_impl::times_small(A.data(), rows, k, G.data(), D1.data(), 1);
        tmine::cpu_impl::times_small(A.data(), rows, k, G.data(), D3.data(), 3);
        EXPECT_EQ(D1, D3);
        std::vector<float> D(size_t(rows) * k);
        tmine::cpu_impl::times_small(A.data(), rows, k, G.data(), D.data());  // one call, one thread
        EXPECT_EQ(D1, D);
    });
}

TEST(DenseSmall, DoubleGramAndInPlaceProductMatchFloat64Loops) {
    for_each_level([&] {
        // The initialisation's Cholesky QR: C = AᵀA over more rows than one piece of the kernel,
        // then A = A R in place.
        for (int k : {3, 8, 60}) {
            on_fresh_thread([&] {
                const int64_t rows = 5003;  // a last block of 907 rows: 7 rows past the 8-row tiles
                const auto f = random_matrix(rows, k, uint32_t(k));
                std::vector<double> A(f.begin(), f.end()), C(size_t(k) * k);
                tmine::cpu_impl::gram(A.data(), rows, k, C.data(), 2);
                for (int i = 0; i < k; ++i)
                    for (int j = 0; j < k; ++j) {
                        double want = 0;
                        for (int64_t r = 0; r < rows; ++r) want += A[r * k + i] * A[r * k + j];
                        ASSERT_NEAR(C[i * k + j], want, 1e-12 * want) << "k=" << k << " (" << i << "," << j << ")";
                    }
                std::vector<double> R(size_t(k) * k, 0.0);
                for (int i = 0; i < k; ++i)
                    for (int j = i; j < k; ++j) R[i * k + j] = 1.0 / (1 + i + j);
                std::vector<double> B = A;
                tmine::cpu_impl::times_small_in_place(B.data(), rows, k, R.data(), 2);
                for (int64_t r = 0; r < rows; r += 97)
                    for (int j = 0; j < k; ++j) {
                        double want = 0;
                        for (int t = 0; t < k; ++t) want += A[r * k + t] * R[t * k + j];
                        ASSERT_NEAR(B[r * k + j], want, 1e-13 * (1 + std::fabs(want))) << "row " << r;
                    }
            });
        }
    });
}

TEST(DenseSmall, Avx512AndAvx2GiveTheSameBits) {
    // Both fuse multiply-adds and sum every output in the same order (t ascending, rows in
    // order), so a fit gives the same bits on an AVX2 machine as on an AVX-512 one.
    if (tmine::cpu_impl::best_small_kernel_level() < 3)
        GTEST_SKIP() << "this CPU has no AVX-512: only one of the two kernels runs here";
    const int before = tmine::cpu_impl::small_kernel_level();
    for (int k : {5, 17, 50, 100}) {
        const int64_t rows = 20011;  // two blocks of the Gram's partial sums, a ragged last tile
        const auto A = random_matrix(rows, k, uint32_t(3 * k));
        const auto G = random_matrix(k, k, uint32_t(k), 0.0);
        const std::vector<double> Ad(A.begin(), A.end());
        std::vector<float> C[2], D[2];
        std::vector<double> Cd[2];
        for (int v = 0; v < 2; ++v) {
            tmine::cpu_impl::set_small_kernel_level(3 - v);
            C[v].resize(size_t(k) * k), D[v].resize(size_t(rows) * k), Cd[v].resize(size_t(k) * k);
            tmine::cpu_impl::gram(A.data(), rows, k, C[v].data(), 2);
            tmine::cpu_impl::times_small(A.data(), rows, k, G.data(), D[v].data(), 2);
            tmine::cpu_impl::gram(Ad.data(), rows, k, Cd[v].data(), 2);
        }
        EXPECT_EQ(C[0], C[1]) << "k=" << k;
        EXPECT_EQ(D[0], D[1]) << "k=" << k;
        EXPECT_EQ(Cd[0], Cd[1]) << "k=" << k;
    }
    tmine::cpu_impl::set_small_kernel_level(before);
}

TEST(DenseSmall, LevelIsLoweredToWhatTheCpuRuns) {
    const int before = tmine::cpu_impl::small_kernel_level();
    const int best = tmine::cpu_impl::best_small_kernel_level();
    EXPECT_EQ(tmine::cpu_impl::set_small_kernel_level(99), best);
    EXPECT_EQ(tmine::cpu_impl::small_kernel_level(), best);
    EXPECT_EQ(tmine::cpu_impl::set_small_kernel_level(0), 1);
    EXPECT_STREQ(tmine::cpu_impl::small_kernel_name(1), "baseline");
    tmine::cpu_impl::set_small_kernel_level(before);
}

}  // namespace
