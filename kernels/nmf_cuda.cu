// CUDA twin of cpu_impl::nmf_mu (host/src/nmf_cpu.cpp): the same multiplicative updates in
// the same order. Sparse products with cuSPARSE SpMM (X and X^T as CSR, dense factors
// row-major), k x k Gram matrices and the denominators with cuBLAS SGEMM, fused elementwise
// updates, and the relative error accumulated on the device. The host reads the errors
// back only every 10 iterations, where the tolerance is checked (as on the CPU).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>

#include "cuda_resources.cuh"
#include "tmine/nmf.hpp"

namespace tmine::cuda_impl {
namespace {

constexpr int kBlock = 256;
inline unsigned grid_for(int64_t n) {
    return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((n + kBlock - 1) / kBlock, 4096)));
}

__global__ void mu_update(float* __restrict__ F, const float* __restrict__ num,
                          const float* __restrict__ den, int64_t len, float eps) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < len;
         i += int64_t(gridDim.x) * blockDim.x) {
        float d = den[i];  // same operation order as the CPU (see nmf_cpu.cpp)
        F[i] = (F[i] * num[i]) / (d == 0.0f ? eps : d);
    }
}

/// out[0] += sum a[i] * b[i] in double.
__global__ void dot_kernel(const float* __restrict__ a, const float* __restrict__ b, int64_t len,
                           double* __restrict__ out) {
    double s = 0.0;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < len;
         i += int64_t(gridDim.x) * blockDim.x)
        s += double(a[i]) * double(b[i]);
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    __shared__ double warp_sums[kBlock / 32];
    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x < 32) {
        s = threadIdx.x < kBlock / 32 ? warp_sums[threadIdx.x] : 0.0;
        for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if (threadIdx.x == 0) atomicAdd(out, s);
    }
}

/// err = sqrt(max(xx - 2 cross + gram, 0) / xx); dots = {cross, gram}.
__global__ void finish_error(const double* __restrict__ dots, double xx, double* __restrict__ err) {
    double e2 = xx - 2.0 * dots[0] + dots[1];
    *err = sqrt(fmax(e2, 0.0) / xx);
}

/// Dense row-major matrix descriptor for cuSPARSE.
struct DnMat {
    cusparseDnMatDescr_t d = nullptr;
    DnMat(int64_t rows, int64_t cols, float* p) {
        TMINE_CUDA_CHECK(cusparseCreateDnMat(&d, rows, cols, cols, p, CUDA_R_32F, CUSPARSE_ORDER_ROW));
    }
    ~DnMat() { TMINE_CUDA_CHECK_NOTHROW(cusparseDestroyDnMat(d)); }
};

/// A CSR matrix on the device with 32-bit offsets, plus its SpMM workspace.
struct DeviceCsr {
    DeviceBuffer<int32_t> indptr, indices;
    DeviceBuffer<float> data;
    cusparseSpMatDescr_t d = nullptr;
    DeviceBuffer<char> work;
    DeviceCsr(const CsrMatrix& A, cudaStream_t s) {
        std::vector<int32_t> p32(A.indptr.begin(), A.indptr.end());
        indptr = DeviceBuffer<int32_t>(p32.data(), p32.size(), s);
        indices = DeviceBuffer<int32_t>(A.indices.data(), A.indices.size(), s);
        data = DeviceBuffer<float>(A.data.data(), A.data.size(), s);
        TMINE_CUDA_CHECK(cudaStreamSynchronize(s));  // p32 leaves scope
        TMINE_CUDA_CHECK(cusparseCreateCsr(&d, A.rows, A.cols, A.nnz(), indptr.data(),
                                           indices.data(), data.data(), CUSPARSE_INDEX_32I,
                                           CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F));
    }
    ~DeviceCsr() { TMINE_CUDA_CHECK_NOTHROW(cusparseDestroySpMat(d)); }
    /// Y = A * B. CSR_ALG2 (deterministic, row-major dense operands) when the library offers
    /// it for these operands, else the default algorithm.
    void spmm(Resources& r, const DnMat& B, const DnMat& Y) {
        const float one = 1.0f, zero = 0.0f;
        const auto op = CUSPARSE_OPERATION_NON_TRANSPOSE;
        if (!work.data()) {
            size_t bytes = 0;
            if (cusparseSpMM_bufferSize(r.cusparse, op, op, &one, d, B.d, &zero, Y.d, CUDA_R_32F,
                                        alg, &bytes) != CUSPARSE_STATUS_SUCCESS) {
                alg = CUSPARSE_SPMM_ALG_DEFAULT;
                TMINE_CUDA_CHECK(cusparseSpMM_bufferSize(r.cusparse, op, op, &one, d, B.d, &zero,
                                                         Y.d, CUDA_R_32F, alg, &bytes));
            }
            work = DeviceBuffer<char>(std::max<size_t>(bytes, 1), r.stream);
        }
        TMINE_CUDA_CHECK(cusparseSpMM(r.cusparse, op, op, &one, d, B.d, &zero, Y.d, CUDA_R_32F,
                                      alg, work.data()));
    }
    cusparseSpMMAlg_t alg = CUSPARSE_SPMM_CSR_ALG2;
};

/// C (k x k) = A^T A for row-major A (rows x k): in column-major terms Ac Ac^T.
void gram(Resources& r, const float* A, int64_t rows, int k, float* C) {
    const float one = 1.0f, zero = 0.0f;
    TMINE_CUDA_CHECK(cublasSgemm(r.cublas, CUBLAS_OP_N, CUBLAS_OP_T, k, k, int(rows), &one, A, k, A,
                                 k, &zero, C, k));
}
/// D (rows x k, row-major) = F (rows x k) * G (k x k, symmetric).
void times_gram(Resources& r, const float* F, int64_t rows, int k, const float* G, float* D) {
    const float one = 1.0f, zero = 0.0f;
    TMINE_CUDA_CHECK(cublasSgemm(r.cublas, CUBLAS_OP_N, CUBLAS_OP_N, k, int(rows), k, &one, G, k, F,
                                 k, &zero, D, k));
}
void dot(Resources& r, const float* a, const float* b, int64_t len, double* out) {
    dot_kernel<<<grid_for(len), kBlock, 0, r.stream>>>(a, b, len, out);
    TMINE_CUDA_LAUNCH_CHECK();
}

}  // namespace

void nmf_mu(const Context& ctx, const CsrMatrix& X, const CsrMatrix& Xt, int k,
            const NmfOptions& opts, std::vector<float>& W, std::vector<float>& H, NmfModel& out) {
    Resources& r = ctx.cuda();
    cudaStream_t s = r.stream;
    const int64_t n = X.rows, m = X.cols;
    if (X.nnz() > std::numeric_limits<int32_t>::max())
        throw DeviceError("topics: more than 2^31 non-zeros is not supported on the GPU yet");
    // Memory check before starting: factors, products, X and X^T.
    size_t need = sizeof(float) * size_t((n + m) * k * 3) + size_t(X.nnz()) * 16 + size_t(n + m) * 8;
    size_t free_b = 0, total_b = 0;
    TMINE_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    if (need > free_b)
        throw DeviceError("topics: the problem needs about " + std::to_string(need >> 20) +
                          " MiB of GPU memory but only " + std::to_string(free_b >> 20) +
                          " MiB are free; lower -k or use --device cpu");
    const float eps = std::numeric_limits<float>::epsilon();
    std::vector<float> Ht_h(m * k);
    for (int j = 0; j < k; ++j)
        for (int64_t c = 0; c < m; ++c) Ht_h[c * k + j] = H[j * m + c];
    double xx = 0;
    for (float v : X.data) xx += double(v) * v;

    DeviceCsr dX(X, s), dXt(Xt, s);
    DeviceBuffer<float> dW(W.data(), n * k, s), dHt(Ht_h.data(), m * k, s);
    DeviceBuffer<float> XHt(n * k, s), den_w(n * k, s), XtW(m * k, s), den_h(m * k, s);
    DeviceBuffer<float> WtW(k * k, s), HHt(k * k, s);
    const int slots = opts.max_iter + 1;
    DeviceBuffer<double> dots(2 * slots, s), errs(slots, s);
    TMINE_CUDA_CHECK(cudaMemsetAsync(dots.data(), 0, 2 * slots * sizeof(double), s));
    DnMat mW(n, k, dW.data()), mHt(m, k, dHt.data()), mXHt(n, k, XHt.data()), mXtW(m, k, XtW.data());

    auto error_into = [&](int slot) {  // uses XtW, Ht, WtW, HHt
        dot(r, XtW.data(), dHt.data(), m * k, dots.data() + 2 * slot);
        dot(r, WtW.data(), HHt.data(), int64_t(k) * k, dots.data() + 2 * slot + 1);
        finish_error<<<1, 1, 0, s>>>(dots.data() + 2 * slot, xx, errs.data() + slot);
        TMINE_CUDA_LAUNCH_CHECK();
    };
    auto t0 = std::chrono::steady_clock::now();
    gram(r, dHt.data(), m, k, HHt.data());
    gram(r, dW.data(), n, k, WtW.data());
    dXt.spmm(r, mW, mXtW);
    error_into(0);
    std::vector<double> host_errs(slots, 0.0);
    auto fetch = [&](int upto) {
        TMINE_CUDA_CHECK(cudaMemcpyAsync(host_errs.data(), errs.data(), (upto + 1) * sizeof(double),
                                         cudaMemcpyDeviceToHost, s));
        TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    };
    fetch(0);
    const double err0 = host_errs[0];
    double prev = err0;
    int it = 0, done = 0;
    for (it = 1; it <= opts.max_iter; ++it) {
        dX.spmm(r, mHt, mXHt);
        times_gram(r, dW.data(), n, k, HHt.data(), den_w.data());
        mu_update<<<grid_for(n * k), kBlock, 0, s>>>(dW.data(), XHt.data(), den_w.data(), n * k, eps);
        TMINE_CUDA_LAUNCH_CHECK();
        gram(r, dW.data(), n, k, WtW.data());
        dXt.spmm(r, mW, mXtW);
        times_gram(r, dHt.data(), m, k, WtW.data(), den_h.data());
        mu_update<<<grid_for(m * k), kBlock, 0, s>>>(dHt.data(), XtW.data(), den_h.data(), m * k, eps);
        TMINE_CUDA_LAUNCH_CHECK();
        gram(r, dHt.data(), m, k, HHt.data());
        error_into(it);
        done = it;
        if (it % 10 == 0 || it == opts.max_iter) {
            fetch(it);
            if (opts.progress)
                std::fprintf(stderr, "topics: iteration %d/%d relative error %.6f (%.2f s, cuda)\n",
                             it, opts.max_iter, host_errs[it],
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            if (opts.tol > 0 && it % 10 == 0) {
                if ((prev - host_errs[it]) / err0 < opts.tol) break;
                prev = host_errs[it];
            }
        }
    }
    fetch(done);
    out.iterations = done;
    out.errors.assign(host_errs.begin() + 1, host_errs.begin() + done + 1);
    out.relative_error = done ? host_errs[done] : err0;
    dW.to_host(W.data());
    dHt.to_host(Ht_h.data());
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    for (int j = 0; j < k; ++j)
        for (int64_t c = 0; c < m; ++c) H[j * m + c] = Ht_h[c * k + j];
}

}  // namespace tmine::cuda_impl
