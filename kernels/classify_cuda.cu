// Classifiers, CUDA twin of host/src/classify_cpu.cpp: the logistic-regression objective and
// gradient (cuSPARSE SpMM through X and Xᵀ, per-row softmax/sigmoid kernel, cuBLAS reductions),
// naive Bayes class feature sums, and linear scoring. Float64 throughout, like the CPU reference;
// L-BFGS itself runs on the host (liblbfgs) and calls evaluate() once per function evaluation.
#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include "cuda_resources.cuh"
#include "sparse_cuda.cuh"
#include "tmine/classify.hpp"

namespace tmine::cuda_impl {
namespace {

constexpr int kThreads = 256;

/// At least one block: a launch of zero blocks is an error even when there is nothing to do.
inline unsigned blocks_for(int64_t n) {
    return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((n + kThreads - 1) / kThreads, 65535 * 16)));
}

__device__ inline double log1pexp(double z) {
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}
__device__ inline double sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    const double e = exp(z);
    return e / (1.0 + e);
}

/// Per row: loss L[i] = s_i * loss_i (>= 0) and residual R[i,:] = s_i * (p_i - onehot(y_i)).
__global__ void logreg_rows(const double* __restrict__ Z, const double* __restrict__ b,
                            const int32_t* __restrict__ y, const double* __restrict__ sw,
                            int64_t n, int K, double* __restrict__ R, double* __restrict__ L) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const double s = sw[i];
        if (K == 1) {
            const double zi = Z[i] + b[0], yi = y[i];
            L[i] = s * (log1pexp(zi) - yi * zi);
            R[i] = s * (sigmoid(zi) - yi);
        } else {
            const double* z = Z + i * K;
            double* r = R + i * K;
            double mx = -INFINITY;
            for (int k = 0; k < K; ++k) mx = fmax(mx, z[k] + b[k]);
            double sum = 0;
            for (int k = 0; k < K; ++k) sum += exp(z[k] + b[k] - mx);
            const double lse = mx + log(sum);
            const int yi = y[i];
            L[i] = s * (lse - (z[yi] + b[yi]));
            for (int k = 0; k < K; ++k) r[k] = s * exp(z[k] + b[k] - lse);
            r[yi] -= s;
        }
    }
}

/// Z[i,:] += b.
__global__ void add_bias(double* __restrict__ Z, const double* __restrict__ b, int64_t n, int K) {
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < n * K;
         q += int64_t(gridDim.x) * blockDim.x)
        Z[q] += b[q % K];
}

/// Y[i, y_i] = s_i (other entries zero beforehand).
__global__ void scatter_weights(const int32_t* __restrict__ y, const double* __restrict__ sw,
                                int64_t n, int K, double* __restrict__ Y) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        Y[i * K + y[i]] = sw[i];
}

__global__ void fill(double* __restrict__ p, int64_t n, double v) {
    for (int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; q < n;
         q += int64_t(gridDim.x) * blockDim.x)
        p[q] = v;
}

class CudaLogReg final : public detail::LogRegObjective {
public:
    CudaLogReg(const Context& ctx, const detail::LogRegProblem& p)
        : r_(ctx.cuda()), s_(r_.stream), n_(p.X->rows), m_(p.X->cols), K_(p.outputs), l2_(p.l2) {
        X_ = std::make_unique<CsrF64>(*p.X, s_);
        Xt_ = std::make_unique<CsrF64>(transpose(*p.X), s_);
        y_ = DeviceBuffer<int32_t>(p.y->data(), p.y->size(), s_);
        sw_ = DeviceBuffer<double>(p.sample_weight.data(), p.sample_weight.size(), s_);
        x_ = DeviceBuffer<double>(static_cast<size_t>((m_ + 1) * K_), s_);
        g_ = DeviceBuffer<double>(static_cast<size_t>(m_ * K_), s_);
        gb_ = DeviceBuffer<double>(static_cast<size_t>(K_), s_);
        Z_ = DeviceBuffer<double>(static_cast<size_t>(n_ * K_), s_);
        Z_.zero();  // SpMM outputs, as g_
        g_.zero();
        R_ = DeviceBuffer<double>(static_cast<size_t>(n_ * K_), s_);
        L_ = DeviceBuffer<double>(static_cast<size_t>(n_), s_);
        ones_ = DeviceBuffer<double>(static_cast<size_t>(std::max<int64_t>(n_, 1)), s_);
        TMINE_LAUNCH(fill, blocks_for(n_), kThreads, s_)(ones_.data(), n_, 1.0);
        TMINE_CUDA_LAUNCH_CHECK();
    }

    double evaluate(const double* x, double* g) override {
        const int64_t nw = m_ * K_;
        TMINE_CUDA_CHECK(cudaMemcpyAsync(x_.data(), x, sizeof(double) * (nw + K_),
                                         cudaMemcpyHostToDevice, s_));
        double* W = x_.data();
        double* b = x_.data() + nw;
        X_->spmm(r_, W, Z_.data(), K_);
        TMINE_LAUNCH(logreg_rows, blocks_for(n_), kThreads, s_)(Z_.data(), b, y_.data(), sw_.data(), n_,
                                                         K_, R_.data(), L_.data());
        TMINE_CUDA_LAUNCH_CHECK();
        Xt_->spmm(r_, R_.data(), g_.data(), K_);
        // g_W += l2 W; g_b = column sums of R; loss = sum L (every entry >= 0) + l2/2 |W|^2
        TMINE_CUDA_CHECK(cublasDaxpy(r_.cublas, static_cast<int>(nw), &l2_, W, 1, g_.data(), 1));
        const double one = 1.0, zero = 0.0;
        TMINE_CUDA_CHECK(cublasDgemv(r_.cublas, CUBLAS_OP_N, K_, static_cast<int>(n_), &one,
                                     R_.data(), K_, ones_.data(), 1, &zero, gb_.data(), 1));
        double loss = 0, wsq = 0;
        TMINE_CUDA_CHECK(cublasDasum(r_.cublas, static_cast<int>(n_), L_.data(), 1, &loss));
        TMINE_CUDA_CHECK(cublasDdot(r_.cublas, static_cast<int>(nw), W, 1, W, 1, &wsq));
        TMINE_CUDA_CHECK(cudaMemcpyAsync(g, g_.data(), sizeof(double) * nw, cudaMemcpyDeviceToHost, s_));
        TMINE_CUDA_CHECK(cudaMemcpyAsync(g + nw, gb_.data(), sizeof(double) * K_,
                                         cudaMemcpyDeviceToHost, s_));
        TMINE_CUDA_CHECK(cudaStreamSynchronize(s_));
        return loss + 0.5 * l2_ * wsq;
    }

private:
    Resources& r_;
    cudaStream_t s_;
    int64_t n_, m_;
    int K_;
    double l2_;
    std::unique_ptr<CsrF64> X_, Xt_;
    DeviceBuffer<int32_t> y_;
    DeviceBuffer<double> sw_, x_, g_, gb_, Z_, R_, L_, ones_;
};

void check_int_sizes(int64_t n, int64_t m, int K) {
    if (n > std::numeric_limits<int32_t>::max() || m * K > std::numeric_limits<int32_t>::max() ||
        n * K > std::numeric_limits<int32_t>::max())
        throw DeviceCapacityError("classify: matrix too large for the GPU path (32-bit cuBLAS sizes)");
}

}  // namespace

std::unique_ptr<detail::LogRegObjective> logreg_objective(const Context& ctx,
                                                          const detail::LogRegProblem& p) {
    check_int_sizes(p.X->rows, p.X->cols, p.outputs);
    return std::make_unique<CudaLogReg>(ctx, p);
}

std::vector<double> class_feature_sums(const Context& ctx, const CsrMatrix& X,
                                       const std::vector<int32_t>& y,
                                       const std::vector<double>& sample_weight, int K) {
    Resources& r = ctx.cuda();
    cudaStream_t s = r.stream;
    const int64_t n = X.rows, m = X.cols;
    check_int_sizes(n, m, K);
    CsrF64 Xt(transpose(X), s);
    DeviceBuffer<int32_t> dy(y.data(), y.size(), s);
    DeviceBuffer<double> dw(sample_weight.data(), sample_weight.size(), s);
    DeviceBuffer<double> Y(static_cast<size_t>(n * K), s), F(static_cast<size_t>(m * K), s);
    if (n * K) TMINE_CUDA_CHECK(cudaMemsetAsync(Y.data(), 0, sizeof(double) * n * K, s));
    TMINE_LAUNCH(scatter_weights, blocks_for(n), kThreads, s)(dy.data(), dw.data(), n, K, Y.data());
    TMINE_CUDA_LAUNCH_CHECK();
    F.zero();  // the SpMM output
    Xt.spmm(r, Y.data(), F.data(), K);  // m x K
    std::vector<double> f(static_cast<size_t>(m * K));
    F.to_host(f.data());
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    std::vector<double> out(f.size());
    for (int64_t j = 0; j < m; ++j)
        for (int k = 0; k < K; ++k) out[static_cast<size_t>(k) * m + j] = f[static_cast<size_t>(j) * K + k];
    return out;
}

std::vector<double> linear_scores(const Context& ctx, const CsrMatrix& X, const double* W,
                                  const double* b, int outputs) {
    Resources& r = ctx.cuda();
    cudaStream_t s = r.stream;
    const int64_t n = X.rows, m = X.cols;
    check_int_sizes(n, m, outputs);
    if (n == 0 || outputs == 0) return {};  // nothing to score (the CPU twin's empty result)
    CsrF64 dX(X, s);
    DeviceBuffer<double> dW(W, static_cast<size_t>(m * outputs), s), db(b, outputs, s),
        Z(static_cast<size_t>(n * outputs), s);
    Z.zero();  // the SpMM output
    dX.spmm(r, dW.data(), Z.data(), outputs);
    TMINE_LAUNCH(add_bias, blocks_for(n * outputs), kThreads, s)(Z.data(), db.data(), n, outputs);
    TMINE_CUDA_LAUNCH_CHECK();
    std::vector<double> out(static_cast<size_t>(n * outputs));
    Z.to_host(out.data());
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    return out;
}

}  // namespace tmine::cuda_impl
