// Classifiers, CPU reference: the logistic-regression objective and gradient, naive Bayes
// feature sums and linear scoring (OpenMP; row-parallel gathers through X and Xᵀ).
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "sparse_cpu.hpp"
#include "tmine/classify.hpp"
#include "tmine/error.hpp"

namespace tmine {

CsrMatrix take_rows(const CsrMatrix& X, const std::vector<int64_t>& rows) {
    CsrMatrix out;
    out.rows = static_cast<int64_t>(rows.size());
    out.cols = X.cols;
    out.indptr.assign(rows.size() + 1, 0);
    for (size_t i = 0; i < rows.size(); ++i) {
        TMINE_ASSERT(rows[i] >= 0 && rows[i] < X.rows, "row out of range");
        out.indptr[i + 1] = out.indptr[i] + (X.indptr[rows[i] + 1] - X.indptr[rows[i]]);
    }
    out.indices.resize(static_cast<size_t>(out.indptr.back()));
    out.data.resize(out.indices.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        int64_t b = X.indptr[rows[i]], e = X.indptr[rows[i] + 1];
        std::copy(X.indices.begin() + b, X.indices.begin() + e, out.indices.begin() + out.indptr[i]);
        std::copy(X.data.begin() + b, X.data.begin() + e, out.data.begin() + out.indptr[i]);
    }
    return out;
}

CsrMatrix transpose(const CsrMatrix& X) {
    CsrMatrix T;
    T.rows = X.cols;
    T.cols = X.rows;
    T.indptr.assign(static_cast<size_t>(X.cols) + 1, 0);
    for (int32_t c : X.indices) ++T.indptr[static_cast<size_t>(c) + 1];
    for (int64_t j = 0; j < X.cols; ++j) T.indptr[j + 1] += T.indptr[j];
    T.indices.resize(X.indices.size());
    T.data.resize(X.data.size());
    std::vector<int64_t> next(T.indptr.begin(), T.indptr.end() - 1);
    for (int64_t i = 0; i < X.rows; ++i)
        for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p) {
            int64_t q = next[X.indices[p]]++;
            T.indices[q] = static_cast<int32_t>(i);  // rows ascending: indices sorted
            T.data[q] = X.data[p];
        }
    return T;
}

namespace cpu_impl {
namespace {

/// log(1 + exp(z)) without overflow.
inline double log1pexp(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }
inline double sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
    double e = std::exp(z);
    return e / (1.0 + e);
}

class CpuLogReg final : public detail::LogRegObjective {
public:
    CpuLogReg(const Context& ctx, const detail::LogRegProblem& p)
        : p_(p), Xt_(transpose(*p.X)), threads_(ctx.cpu_threads()),
          Z_(static_cast<size_t>(p.X->rows) * p.outputs), R_(Z_.size()) {}

    double evaluate(const double* x, double* g) override {
        const CsrMatrix& X = *p_.X;
        const int K = p_.outputs;
        const int64_t n = X.rows, m = X.cols;
        const double* W = x;
        const double* b = x + m * K;
        spmm(X, W, K, Z_.data(), threads_);
        const int32_t* y = p_.y->data();
        const double* sw = p_.sample_weight.data();
        double loss = 0;
        std::vector<double> gb(static_cast<size_t>(K), 0.0);
#pragma omp parallel num_threads(threads_)
        {
            std::vector<double> gb_local(static_cast<size_t>(K), 0.0);
#pragma omp for schedule(static) reduction(+ : loss)
            for (int64_t i = 0; i < n; ++i) {
                double* z = &Z_[static_cast<size_t>(i) * K];
                double* r = &R_[static_cast<size_t>(i) * K];
                if (K == 1) {
                    double zi = z[0] + b[0], yi = y[i];
                    loss += sw[i] * (log1pexp(zi) - yi * zi);
                    r[0] = sw[i] * (sigmoid(zi) - yi);
                } else {
                    double mx = -INFINITY;
                    for (int k = 0; k < K; ++k) mx = std::max(mx, z[k] += b[k]);
                    double s = 0;
                    for (int k = 0; k < K; ++k) s += std::exp(z[k] - mx);
                    double lse = mx + std::log(s);
                    loss += sw[i] * (lse - z[y[i]]);
                    for (int k = 0; k < K; ++k) r[k] = sw[i] * std::exp(z[k] - lse);
                    r[y[i]] -= sw[i];
                }
                for (int k = 0; k < K; ++k) gb_local[k] += r[k];
            }
#pragma omp critical
            for (int k = 0; k < K; ++k) gb[k] += gb_local[k];
        }
        spmm(Xt_, R_.data(), K, g, threads_);
        double wsq = 0;
        const int64_t nw = m * K;
        const double l2 = p_.l2;
#pragma omp parallel for num_threads(threads_) reduction(+ : wsq) schedule(static)
        for (int64_t j = 0; j < nw; ++j) {
            wsq += W[j] * W[j];
            g[j] += l2 * W[j];
        }
        for (int k = 0; k < K; ++k) g[nw + k] = gb[k];
        return loss + 0.5 * l2 * wsq;
    }

private:
    detail::LogRegProblem p_;
    CsrMatrix Xt_;
    int threads_;
    std::vector<double> Z_, R_;
};

}  // namespace

std::unique_ptr<detail::LogRegObjective> logreg_objective(const Context& ctx,
                                                          const detail::LogRegProblem& p) {
    return std::make_unique<CpuLogReg>(ctx, p);
}

std::vector<double> class_feature_sums(const Context& ctx, const CsrMatrix& X,
                                       const std::vector<int32_t>& y,
                                       const std::vector<double>& sample_weight, int K) {
    const CsrMatrix Xt = transpose(X);
    const int64_t m = X.cols;
    std::vector<double> out(static_cast<size_t>(K) * m, 0.0);
#pragma omp parallel for num_threads(ctx.cpu_threads()) schedule(dynamic, 512)
    for (int64_t j = 0; j < m; ++j)
        for (int64_t p = Xt.indptr[j]; p < Xt.indptr[j + 1]; ++p) {
            int32_t i = Xt.indices[p];
            out[static_cast<size_t>(y[i]) * m + j] += sample_weight[i] * Xt.data[p];
        }
    return out;
}

std::vector<double> linear_scores(const Context& ctx, const CsrMatrix& X, const double* W,
                                  const double* b, int outputs) {
    const int64_t n = X.rows;
    std::vector<double> Z(static_cast<size_t>(n) * outputs);
    if (outputs == 1) {  // binary: one sparse dot product per row, bias fused
        const int64_t* ip = X.indptr.data();
        const int32_t* ix = X.indices.data();
        const float* xv = X.data.data();
#pragma omp parallel for num_threads(ctx.cpu_threads()) schedule(static)
        for (int64_t i = 0; i < n; ++i) {
            double z = 0;
            for (int64_t p = ip[i]; p < ip[i + 1]; ++p) z += double(xv[p]) * W[ix[p]];
            Z[static_cast<size_t>(i)] = z + b[0];
        }
        return Z;
    }
    spmm(X, W, outputs, Z.data(), ctx.cpu_threads());
#pragma omp parallel for num_threads(ctx.cpu_threads()) schedule(static)
    for (int64_t i = 0; i < n; ++i)
        for (int k = 0; k < outputs; ++k) Z[static_cast<size_t>(i) * outputs + k] += b[k];
    return Z;
}

}  // namespace cpu_impl
}  // namespace tmine
