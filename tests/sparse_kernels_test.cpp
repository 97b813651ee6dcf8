// The float sparse kernels of the NMF iteration (host/src/sparse_cpu.cpp): X H^T gathered and
// X^T W scattered with the row in registers. On every instruction set this CPU runs they must
// give the bits of the plain loop (non-zeros in order, an unfused product then a sum), for
// widths that do and do not fill a vector or a chunk of 8 vectors, empty rows, a range of rows
// not starting at 0, and B's last row (which the gather must not read past: B is allocated to
// its exact size, so the ASan build catches a read beyond it).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernel_levels.hpp"
#include "sparse_cpu.hpp"
#include "tmine/vectorize.hpp"

namespace {

using tmine::test::for_each_level;

using tmine::CsrMatrix;

/// rows x cols, 0 to 20 non-zeros a row (columns ascending), the last column in every third
/// row.
CsrMatrix random_csr(int64_t rows, int64_t cols, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.01f, 1.0f);
    CsrMatrix X;
    X.rows = rows, X.cols = cols;
    for (int64_t i = 0; i < rows; ++i) {
        std::vector<bool> on(size_t(cols), false);
        const int n = int(rng() % 21);
        for (int t = 0; t < n; ++t) on[rng() % cols] = true;
        if (i % 3 == 0) on[size_t(cols - 1)] = true;
        if (i % 7 == 5) std::fill(on.begin(), on.end(), false);  // an empty row
        for (int64_t c = 0; c < cols; ++c)
            if (on[size_t(c)]) {
                X.indices.push_back(int32_t(c));
                X.data.push_back(u(rng));
            }
        X.indptr.push_back(int64_t(X.indices.size()));
    }
    return X;
}

/// rows x k values drawn uniformly from [low, 1).
template <class T = float>
std::vector<T> random_dense(int64_t rows, int k, uint32_t seed, T low = T(0)) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<T> u(low, T(1));
    std::vector<T> a(size_t(rows) * k);
    for (auto& x : a) x = u(rng);
    return a;
}

/// y = y + a * b with the product rounded on its own, whatever the compiler's contraction.
template <class T>
inline T add_product(T y, T a, T b) {
    volatile T p = a * b;
    return y + p;
}

const int kWidths[] = {1, 3, 8, 9, 16, 17, 50, 63, 64, 65, 100, 129, 257};

TEST(SparseKernels, GatherGivesThePlainLoopsBits) {
    const CsrMatrix X = random_csr(203, 37, 1);
    for_each_level([&] {
        for (int k : kWidths) {
            const auto B = random_dense(X.cols, k, uint32_t(k));  // exactly cols x k floats
            const int64_t lo = 11, hi = 190;
            std::vector<float> Y(size_t(hi - lo) * k, -1.0f);
            tmine::cpu_impl::spmm_block(X, B.data(), k, Y.data(), lo, hi);
            for (int64_t i = lo; i < hi; ++i)
                for (int j = 0; j < k; ++j) {
                    float want = 0.0f;
                    for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p)
                        want = add_product(want, X.data[p], B[size_t(X.indices[p]) * k + j]);
                    ASSERT_EQ(Y[size_t(i - lo) * k + j], want) << "k=" << k << " row " << i << " col " << j;
                }
        }
    });
}

TEST(SparseKernels, ParallelGatherWithOtherValuesMatchesTheBlocks) {
    // spmm (row blocks on threads, values other than X's: the KL iteration's ratios).
    const CsrMatrix X = random_csr(1500, 61, 2);
    std::vector<float> ratio(X.data.size());
    for (size_t q = 0; q < ratio.size(); ++q) ratio[q] = 0.5f + float(q % 13) / 7.0f;
    CsrMatrix R = X;
    R.data = ratio;
    for_each_level([&] {
        for (int k : {7, 50}) {
            const auto B = random_dense(X.cols, k, 9);
            std::vector<float> Y(size_t(X.rows) * k), Z(size_t(X.rows) * k);
            tmine::cpu_impl::spmm(X, B.data(), k, Y.data(), 2, ratio.data());
            tmine::cpu_impl::spmm_block(R, B.data(), k, Z.data(), 0, X.rows);
            ASSERT_EQ(Y, Z) << "k=" << k;
        }
    });
}

TEST(SparseKernels, ScatterGivesThePlainLoopsBits) {
    // acc's rows k apart, and scatter_stride(k) apart (whole vectors stored over the padding,
    // which must keep its values).
    const CsrMatrix X = random_csr(203, 37, 3);
    for_each_level([&] {
        for (int k : kWidths)
            for (int ld : {k, tmine::cpu_impl::scatter_stride(k)}) {
                ASSERT_EQ(ld % 16 == 0 || ld == k, true);
                const auto W = random_dense(X.rows, k, uint32_t(k + 1));
                const auto start = random_dense(X.cols, ld, uint32_t(k + 2));  // acc's values before
                std::vector<float> acc = start, want = start;
                const int64_t lo = 5, hi = 200;
                tmine::cpu_impl::scatter_block(X, W.data(), k, acc.data(), ld, lo, hi);
                for (int64_t i = lo; i < hi; ++i)
                    for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p)
                        for (int j = 0; j < k; ++j) {
                            float& y = want[size_t(X.indices[p]) * ld + j];
                            y = add_product(y, X.data[p], W[size_t(i) * k + j]);
                        }
                ASSERT_EQ(acc, want) << "k=" << k << " ld=" << ld;
            }
    });
}

}  // namespace

namespace {

/// The same bits (a -0.0 where +0.0 is due, or another NaN, fails too).
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// The double kernels of the initialisation's SVD, X B and Xᵀ Y, give the plain loop's bits
// (Xᵀ Y on one thread: its rows summed into the thread's copy in order, then 0.0 + that copy);
// on two threads X B is the same (rows are independent; blocks of 256 rows start past 0) and
// Xᵀ Y the same up to the order in which the threads' copies are added.
TEST(SparseKernels, DoubleProductsGiveThePlainLoopsBits) {
    const CsrMatrix X = random_csr(700, 37, 4);
    for_each_level([&] {
        for (int l : kWidths) {
            const auto B = random_dense<double>(X.cols, l, uint32_t(l + 3), -1.0);  // exactly cols x l
            std::vector<double> Y(size_t(X.rows) * l, -1.0), Y2(size_t(X.rows) * l, -2.0);
            tmine::cpu_impl::spmm(X, B.data(), l, Y.data(), 1);
            tmine::cpu_impl::spmm(X, B.data(), l, Y2.data(), 2);
            std::vector<double> want(size_t(X.rows) * l);
            for (int64_t i = 0; i < X.rows; ++i)
                for (int j = 0; j < l; ++j) {
                    double w = 0.0;
                    for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p)
                        w = add_product<double>(w, X.data[p], B[size_t(X.indices[p]) * l + j]);
                    want[size_t(i) * l + j] = w;
                }
            ASSERT_TRUE(same_bits(Y, want)) << "X B, l=" << l;
            ASSERT_TRUE(same_bits(Y2, want)) << "X B on two threads, l=" << l;
            const auto Q = random_dense<double>(X.rows, l, uint32_t(l + 5), -1.0);
            std::vector<double> Z(size_t(X.cols) * l, -1.0), Z2(size_t(X.cols) * l, -2.0);
            std::vector<double> zt(size_t(X.cols) * l, 0.0);
            tmine::HugeVector<double> acc;
            tmine::cpu_impl::spmm_transposed(X, Q.data(), l, Z.data(), 1, acc);
            tmine::cpu_impl::spmm_transposed(X, Q.data(), l, Z2.data(), 2, acc);
            for (int64_t i = 0; i < X.rows; ++i)
                for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p)
                    for (int j = 0; j < l; ++j) {
                        double& z = zt[size_t(X.indices[p]) * l + j];
                        z = add_product<double>(z, X.data[p], Q[size_t(i) * l + j]);
                    }
            for (double& z : zt) z = 0.0 + z;  // the copies' sum starts at +0.0
            ASSERT_TRUE(same_bits(Z, zt)) << "Xt Y, l=" << l;
            for (size_t x = 0; x < zt.size(); ++x)
                ASSERT_NEAR(Z2[x], zt[x], 1e-12 * (1.0 + std::abs(zt[x]))) << "Xt Y on two threads, l=" << l;
        }
    });
}

}  // namespace
