// CUDA twin of host/src/nmf_cpu.cpp: the same updates in the same order, for MU (Frobenius
// and KL) and HALS, with the same regularisation. Sparse products with cuSPARSE SpMM (X and
// X^T as CSR, dense factors row-major), k x k Gram matrices and denominators with cuBLAS
// SGEMM, fused elementwise kernels, and the loss accumulated on the device: the host reads
// losses only when the driver asks (every 10 iterations), so the loop never waits on the GPU.
#include <algorithm>
#include <cmath>
#include <limits>

#include "cuda_resources.cuh"
#include "process_sums.cuh"
#include "sparse_cuda.cuh"
#include "tmine/distributed.hpp"
#include "tmine/nmf.hpp"

namespace tmine::cuda_impl {
namespace {

constexpr int kBlock = 256;
constexpr float kEps = std::numeric_limits<float>::epsilon();

constexpr int64_t kMaxGrid = 8192;   // blocks of a grid-stride launch (and of a reduction's partials)
constexpr int kColumnBlocks = 1024;  // blocks of a column-sum reduction

inline unsigned grid_for(int64_t n) {
    return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((n + kBlock - 1) / kBlock, kMaxGrid)));
}
#define TMINE_GRID_STRIDE(i, n) \
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

/// F = (F * num) / den', den' = den (or den_row[j]) + l1 + l2 * F; zero -> eps; a result below
/// zero_below -> 0 (as the CPU).
__global__ void mu_update(float* __restrict__ F, const float* __restrict__ num,
                          const float* __restrict__ den, const float* __restrict__ den_row,
                          int64_t len, int k, float l1, float l2, float zero_below) {
    TMINE_GRID_STRIDE(x, len) {
        float d = den_row ? den_row[x % k] : den[x];
        if (l1 > 0) d += l1;
        if (l2 > 0) d += l2 * F[x];
        if (d == 0.0f) d = kEps;
        const float f = (F[x] * num[x]) / d;
        F[x] = f < zero_below ? 0.0f : f;
    }
}

/// One HALS sweep, one thread per row (rows are independent; coordinates in order 0..k-1).
__global__ void hals_update(float* __restrict__ F, const float* __restrict__ G,
                            const float* __restrict__ N, int64_t rows, int k, float l1, float l2) {
    TMINE_GRID_STRIDE(i, rows) {
        float* f = F + i * k;
        for (int t = 0; t < k; ++t) {
            const float* g = G + int64_t(t) * k;
            float grad = -(N[i * k + t] - l1);
            for (int r = 0; r < k; ++r) grad += g[r] * f[r];
            grad += l2 * f[t];
            const float hess = g[t] + l2;
            if (hess != 0.0f) f[t] = fmaxf(f[t] - grad / hess, 0.0f);
        }
    }
}

/// out[p] = <W[row[p]], Ht[col[p]]> for every non-zero p.
__global__ void sddmm(const int32_t* __restrict__ row, const int32_t* __restrict__ col,
                      const float* __restrict__ W, const float* __restrict__ Ht, int64_t nnz, int k,
                      float* __restrict__ out) {
    TMINE_GRID_STRIDE(p, nnz) {
        const float* w = W + int64_t(row[p]) * k;
        const float* h = Ht + int64_t(col[p]) * k;
        float s = 0.0f;
        for (int j = 0; j < k; ++j) s += w[j] * h[j];
        out[p] = s;
    }
}

__global__ void kl_ratio(const float* __restrict__ x, const float* __restrict__ wh, int64_t nnz,
                         float* __restrict__ ratio) {
    TMINE_GRID_STRIDE(p, nnz) ratio[p] = x[p] / (wh[p] == 0.0f ? kEps : wh[p]);
}

__global__ void permute(const float* __restrict__ in, const int32_t* __restrict__ order, int64_t n,
                        float* __restrict__ out) {
    TMINE_GRID_STRIDE(q, n) out[q] = in[order[q]];
}

/// Guided topics (NmfProblem): add = true saves then raises num at the seed entries by `pull`
/// and the guided diagonal of gram by `lambda`; add = false puts the saved values back.
__global__ void seed_pull(float* __restrict__ num, float* __restrict__ gram,
                          const int64_t* __restrict__ entries, int n_entries,
                          const int32_t* __restrict__ topics, int n_topics, int k, float pull,
                          float lambda, float* __restrict__ saved, bool add) {
    TMINE_GRID_STRIDE(i, int64_t(n_entries) + n_topics) {
        float* x = i < n_entries ? num + entries[i] : gram + int64_t(topics[i - n_entries]) * (k + 1);
        if (add) {
            saved[i] = *x;
            *x += i < n_entries ? pull : lambda;
        } else {
            *x = saved[i];
        }
    }
}

__global__ void zero_to_one(float* v, int k) {
    for (int j = threadIdx.x; j < k; j += blockDim.x)
        if (v[j] == 0.0f) v[j] = 1.0f;
}

/// The sum of s over the block, in thread 0 (a fixed order: deterministic for a fixed launch).
/// For blocks of exactly kBlock threads (its callers are __launch_bounds__(kBlock) and launched
/// so): every warp full, and warp 0 sees every warp's sum.
static_assert(kBlock % 32 == 0 && kBlock / 32 <= 32, "block_sum needs full warps, at most 32 of them");
__device__ double block_sum(double s) {
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    __shared__ double warp_sums[kBlock / 32];
    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = s;
    __syncthreads();
    s = 0.0;
    if (threadIdx.x < 32) {
        s = threadIdx.x < kBlock / 32 ? warp_sums[threadIdx.x] : 0.0;
        for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    }
    return s;
}

/// Reductions are two launches: each block's sum into partial[blockIdx.x], then one block adds
/// the partials in order (add_partials). No atomics, so a loss is the same bits on every run.
__global__ void __launch_bounds__(kBlock) dot_kernel(const float* __restrict__ a, const float* __restrict__ b, int64_t len,
                           double* __restrict__ partial) {
    double s = 0.0;
    TMINE_GRID_STRIDE(i, len) s += double(a[i]) * double(b[i]);
    s = block_sum(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

/// sum over x > eps of x * log(x / wh) (a zero wh counts as eps), per block as dot_kernel.
__global__ void __launch_bounds__(kBlock) kl_terms(const float* __restrict__ x, const float* __restrict__ wh, int64_t nnz,
                         double* __restrict__ partial) {
    double s = 0.0;
    TMINE_GRID_STRIDE(p, nnz) {
        if (!(x[p] > kEps)) continue;
        const double v = wh[p] == 0.0f ? double(kEps) : double(wh[p]);
        s += double(x[p]) * log(double(x[p]) / v);
    }
    s = block_sum(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

/// *out = the sum of partial[0..count), one block of kBlock threads.
__global__ void __launch_bounds__(kBlock) add_partials(const double* __restrict__ partial, int count, double* __restrict__ out) {
    double s = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
    s = block_sum(s);
    if (threadIdx.x == 0) *out = s;
}

/// Column sums of F (rows x k, row-major) in double, as the CPU's column_sums: each block sums
/// its range of rows (rows_per_block) into partial[blockIdx.x * k + j]...
__global__ void column_partials(const float* __restrict__ F, int64_t rows, int k, int64_t rows_per_block,
                                double* __restrict__ partial) {
    const int64_t r0 = int64_t(blockIdx.x) * rows_per_block;
    const int64_t r1 = r0 + rows_per_block < rows ? r0 + rows_per_block : rows;
    for (int j = threadIdx.x; j < k; j += blockDim.x) {
        double s = 0.0;
        for (int64_t i = r0; i < r1; ++i) s += double(F[i * k + j]);
        partial[int64_t(blockIdx.x) * k + j] = s;
    }
}

/// ... then out[j] = the blocks' partials added in order, rounded to float once.
__global__ void column_totals(const double* __restrict__ partial, int blocks, int k, float* __restrict__ out) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < k; j += gridDim.x * blockDim.x) {
        double s = 0.0;
        for (int b = 0; b < blocks; ++b) s += partial[int64_t(b) * k + j];
        out[j] = float(s);
    }
}

/// Frobenius: loss = sqrt(max(xx - 2 d[0] + d[1], 0) / xx).
__global__ void finish_frobenius(const double* __restrict__ d, double xx, double* __restrict__ loss) {
    *loss = sqrt(fmax(xx - 2.0 * d[0] + d[1], 0.0) / xx);
}
/// KL: loss = sqrt(2 max(d[0] + <wsum, hsum> - x_sum, 0)).
__global__ void finish_kl(const double* __restrict__ d, const float* __restrict__ wsum,
                          const float* __restrict__ hsum, int k, double x_sum,
                          double* __restrict__ loss) {
    double sum_wh = 0;
    for (int j = 0; j < k; ++j) sum_wh += double(wsum[j]) * double(hsum[j]);
    *loss = sqrt(2.0 * fmax(d[0] + sum_wh - x_sum, 0.0));
}

using DnMat = DenseMat<float>;

/// The iterations' device arrays: W, H^T, two n-or-m x k work arrays (4 floats per row and
/// column and topic), X and X^T's values (2 floats per non-zero; KL: 5 more, WH at X's
/// non-zeros, the ratios and their transpose) and both patterns' indices and offsets.
void check_nmf_memory_free(int64_t n, int64_t m, int64_t nnz, int k, NmfLoss loss) {
    const size_t floats = size_t(n + m) * k * 4 + size_t(nnz) * (loss == NmfLoss::KullbackLeibler ? 7 : 2);
    // 5% and 32 MiB kept for what the count leaves out: cuSPARSE's SpMM workspaces, cuBLAS's,
    // the per-block partial sums, the pool's rounding.
    const size_t need = (floats * sizeof(float) + size_t(nnz + n + m) * 8) / 20 * 21 + (size_t(32) << 20);
    const size_t free_b = size_t(free_device_bytes());
    if (need > free_b)
        throw DeviceCapacityError("topics: the problem needs about " + std::to_string(need >> 20) +
                                  " MiB of GPU memory but only " + std::to_string(free_b >> 20) +
                                  " MiB are free; lower -k or use --device cpu");
}

class CudaIterations final : public detail::NmfIterations {
public:
    CudaIterations(const Context& ctx, const detail::NmfProblem& p, const NmfOptions& opts,
                   const std::vector<float>& W, const std::vector<float>& H)
        : r_(ctx.cuda()), s_(r_.stream), p_(p), opts_(opts), n_(p.X.rows), m_(p.X.cols), k_(p.k),
          nnz_(p.X.nnz()) {
        if (nnz_ > std::numeric_limits<int32_t>::max())
            throw DeviceCapacityError("topics: more than 2^31 non-zeros is not supported on the GPU yet");
        // The SpMMs run with 32-bit CSR indices; cuSPARSE does not document 64-bit offsets
        // into the dense operands then, so W and H^T stay under 2^31 elements (7.7 M posts
        // allow k up to 278; distributed processes hold only their rows of W).
        if (std::max(n_, m_) * int64_t(k_) > std::numeric_limits<int32_t>::max())
            throw DeviceCapacityError("topics: " + std::to_string(std::max(n_, m_)) + " rows x k = " +
                                      std::to_string(k_) + " is more than 2^31 factor entries, which the GPU "
                                      "path does not support yet; lower -k, split the rows over MPI processes, "
                                      "or use --device cpu");
        check_memory();
        std::vector<float> Ht(m_ * k_);
        for (int j = 0; j < k_; ++j)
            for (int64_t c = 0; c < m_; ++c) Ht[c * k_ + j] = H[j * m_ + c];
        for (float v : p.X.data) {
            xx_ += double(v) * v;
            x_sum_ += v;
        }
        if (p.distributed) {  // this process's rows: the sums are over all of them
            double t[2] = {xx_, x_sum_};
            processes::sum(t, 2);
            xx_ = t[0];
            x_sum_ = t[1];
            // collective: every process's fit makes the first one at the same point
            if (!r_.process_sums) r_.process_sums = std::make_shared<ProcessSums>(r_, opts.progress);
            sums_over_ = r_.process_sums.get();
        }
        X_ = std::make_unique<DevicePattern>(p.X, s_);
        Xt_ = std::make_unique<DevicePattern>(p.Xt, s_);
        x_ = DeviceBuffer<float>(p.X.data.data(), nnz_, s_);
        xt_ = DeviceBuffer<float>(p.Xt.data.data(), nnz_, s_);
        W_ = DeviceBuffer<float>(W.data(), n_ * k_, s_);
        Ht_ = DeviceBuffer<float>(Ht.data(), m_ * k_, s_);
        num_ = DeviceBuffer<float>(std::max(n_, m_) * k_, s_);
        num_.zero();  // the SpMM output
        den_ = DeviceBuffer<float>(std::max(n_, m_) * k_, s_);
        WtW_ = DeviceBuffer<float>(k_ * k_, s_);
        HHt_ = DeviceBuffer<float>(k_ * k_, s_);
        const int slots = opts.max_iter + 2;
        dots_ = DeviceBuffer<double>(2 * slots, s_);
        losses_ = DeviceBuffer<double>(slots, s_);
        TMINE_CUDA_CHECK(cudaMemsetAsync(dots_.data(), 0, 2 * slots * sizeof(double), s_));
        partials_ = DeviceBuffer<double>(std::max<int64_t>(kMaxGrid, int64_t(kColumnBlocks) * k_), s_);
        mX_ = std::make_unique<SpMat>(*X_, x_.data());
        mXt_ = std::make_unique<SpMat>(*Xt_, xt_.data());
        dW_ = std::make_unique<DnMat>(n_, k_, W_.data());
        dHt_ = std::make_unique<DnMat>(m_, k_, Ht_.data());
        dNumN_ = std::make_unique<DnMat>(n_, k_, num_.data());
        dNumM_ = std::make_unique<DnMat>(m_, k_, num_.data());
        if (kl()) {
            std::vector<int32_t> row(nnz_), order(nnz_);
            for (int64_t i = 0; i < n_; ++i)
                for (int64_t q = p.X.indptr[i]; q < p.X.indptr[i + 1]; ++q) row[q] = int32_t(i);
            for (int64_t q = 0; q < nnz_; ++q) order[q] = int32_t(p.xt_order[q]);
            row_ = DeviceBuffer<int32_t>(row.data(), nnz_, s_);
            order_ = DeviceBuffer<int32_t>(order.data(), nnz_, s_);
            wh_ = DeviceBuffer<float>(nnz_, s_);
            ratio_ = DeviceBuffer<float>(nnz_, s_);
            ratio_t_ = DeviceBuffer<float>(nnz_, s_);
            sums_ = DeviceBuffer<float>(k_, s_);
            wsum_ = DeviceBuffer<float>(k_, s_);
            hsum_ = DeviceBuffer<float>(k_, s_);
            mR_ = std::make_unique<SpMat>(*X_, ratio_.data());
            mRt_ = std::make_unique<SpMat>(*Xt_, ratio_t_.data());
            TMINE_CUDA_CHECK(cudaStreamSynchronize(s_));  // host vectors leave scope
            sddmm_into(wh_.data());
        } else {
            gram(Ht_.data(), m_, HHt_.data());
            gram(W_.data(), n_, WtW_.data());
            all_processes(WtW_.data(), int64_t(k_) * k_);
            if (p.update_H) {
                mXt_->spmm(r_, *dW_, *dNumM_);  // num_ holds X^T W for the first loss
                all_processes(num_.data(), m_ * k_);
            } else
                mX_->spmm(r_, *dHt_, *dNumN_);  // H is fixed: X H^T once
        }
        if (p.guided()) {
            seed_entries_ = DeviceBuffer<int64_t>(p.seed_entries.data(), p.seed_entries.size(), s_);
            seed_topics_ = DeviceBuffer<int32_t>(p.seed_topics.data(), p.seed_topics.size(), s_);
            seed_saved_ = DeviceBuffer<float>(p.seed_entries.size() + p.seed_topics.size(), s_);
        }
        loss_into(0);
        TMINE_CUDA_CHECK(cudaStreamSynchronize(s_));  // Ht (pageable host memory) leaves scope
        // TF32 for this fit's GEMMs only, switched on last (nothing after it can throw, so the
        // destructor always puts the handle's mode back).
        TMINE_CUDA_CHECK(cublasGetMathMode(r_.cublas, &math_mode_));
        if (opts.tf32) TMINE_CUDA_CHECK(cublasSetMathMode(r_.cublas, CUBLAS_TF32_TENSOR_OP_MATH));
    }

    ~CudaIterations() override {
        if (opts_.tf32) TMINE_CUDA_CHECK_NOTHROW(cublasSetMathMode(r_.cublas, math_mode_));
    }

    void step(int it) override {
        if (kl())
            step_kl();
        else
            step_frobenius();
        loss_into(it);
    }

    void losses(int upto, std::vector<double>& out) override {
        out.resize(upto + 1);
        TMINE_CUDA_CHECK(cudaMemcpyAsync(out.data(), losses_.data(), (upto + 1) * sizeof(double),
                                         cudaMemcpyDeviceToHost, s_));
        TMINE_CUDA_CHECK(cudaStreamSynchronize(s_));
    }

    void factors(std::vector<float>& W, std::vector<float>& H) override {
        std::vector<float> Ht(m_ * k_);
        W.resize(n_ * k_);
        W_.to_host(W.data());
        Ht_.to_host(Ht.data());
        TMINE_CUDA_CHECK(cudaStreamSynchronize(s_));
        H.resize(int64_t(k_) * m_);
        for (int j = 0; j < k_; ++j)
            for (int64_t c = 0; c < m_; ++c) H[int64_t(j) * m_ + c] = Ht[c * k_ + j];
    }

    int read_every() const override { return 10; }

private:
    bool kl() const { return opts_.loss == NmfLoss::KullbackLeibler; }
    bool hals() const { return opts_.solver == NmfSolver::Hals; }

    void check_memory() { check_nmf_memory_free(n_, m_, nnz_, k_, opts_.loss); }

    /// C (k x k) = A^T A for row-major A (rows x k): column-major Ac Ac^T.
    void gram(const float* A, int64_t rows, float* C) {
        const float one = 1.0f, zero = 0.0f;
        TMINE_CUDA_CHECK(cublasSgemm(r_.cublas, CUBLAS_OP_N, CUBLAS_OP_T, k_, k_, int(rows), &one, A,
                                     k_, A, k_, &zero, C, k_));
    }
    /// D (rows x k) = F (rows x k) * G (k x k, symmetric).
    void times_gram(const float* F, int64_t rows, const float* G, float* D) {
        const float one = 1.0f, zero = 0.0f;
        TMINE_CUDA_CHECK(cublasSgemm(r_.cublas, CUBLAS_OP_N, CUBLAS_OP_N, k_, int(rows), k_, &one, G,
                                     k_, F, k_, &zero, D, k_));
    }
    /// out (k) = column sums of F (rows x k): F^T 1, accumulated in double.
    void column_sums(const float* F, int64_t rows, float* out) {
        const int64_t per_block = std::max<int64_t>(64, (rows + kColumnBlocks - 1) / kColumnBlocks);
        const int blocks = int(std::max<int64_t>(1, (rows + per_block - 1) / per_block));
        TMINE_LAUNCH(column_partials, blocks, kBlock, s_)(F, rows, k_, per_block, partials_.data());
        TMINE_CUDA_LAUNCH_CHECK();
        TMINE_LAUNCH(column_totals, (k_ + kBlock - 1) / kBlock, kBlock, s_)(partials_.data(), blocks, k_, out);
        TMINE_CUDA_LAUNCH_CHECK();
    }
    void update(float* F, const float* num, const float* den, const float* den_row, int64_t rows,
                double l1, double l2, float zero_below = 0.0f) {
        TMINE_LAUNCH(mu_update, grid_for(rows * k_), kBlock, s_)(F, num, den, den_row, rows * k_, k_,
                                                          float(l1), float(l2), zero_below);
        TMINE_CUDA_LAUNCH_CHECK();
    }
    void hals(float* F, const float* G, const float* N, int64_t rows, double l1, double l2) {
        TMINE_LAUNCH(hals_update, grid_for(rows), kBlock, s_)(F, G, N, rows, k_, float(l1), float(l2));
        TMINE_CUDA_LAUNCH_CHECK();
    }
    void sddmm_into(float* out) {
        TMINE_LAUNCH(sddmm, grid_for(nnz_), kBlock, s_)(row_.data(), X_->indices.data(), W_.data(),
                                                 Ht_.data(), nnz_, k_, out);
        TMINE_CUDA_LAUNCH_CHECK();
    }
    void ratio_into(float* out) {
        TMINE_LAUNCH(kl_ratio, grid_for(nnz_), kBlock, s_)(x_.data(), wh_.data(), nnz_, out);
        TMINE_CUDA_LAUNCH_CHECK();
    }

    void step_frobenius() {
        const auto& r = p_.reg;
        if (p_.update_H) mX_->spmm(r_, *dHt_, *dNumN_);  // X H^T (fixed H: computed once)
        if (hals()) {
            hals(W_.data(), HHt_.data(), num_.data(), n_, r.l1_W, r.l2_W);
        } else {
            times_gram(W_.data(), n_, HHt_.data(), den_.data());
            update(W_.data(), num_.data(), den_.data(), nullptr, n_, r.l1_W, r.l2_W);
        }
        gram(W_.data(), n_, WtW_.data());
        if (!p_.update_H) return;
        mXt_->spmm(r_, *dW_, *dNumM_);  // X^T W
        all_processes(WtW_.data(), int64_t(k_) * k_);
        all_processes(num_.data(), m_ * k_);
        if (p_.guided()) pull(true);
        if (hals()) {
            hals(Ht_.data(), WtW_.data(), num_.data(), m_, r.l1_H, r.l2_H);
        } else {
            times_gram(Ht_.data(), m_, WtW_.data(), den_.data());
            update(Ht_.data(), num_.data(), den_.data(), nullptr, m_, r.l1_H, r.l2_H);
        }
        if (p_.guided()) pull(false);
        gram(Ht_.data(), m_, HHt_.data());
    }

    void pull(bool add) {
        const int64_t count = int64_t(p_.seed_entries.size()) + int64_t(p_.seed_topics.size());
        TMINE_LAUNCH(seed_pull, grid_for(count), kBlock, s_)(
            num_.data(), WtW_.data(), seed_entries_.data(), int(p_.seed_entries.size()),
            seed_topics_.data(), int(p_.seed_topics.size()), k_, p_.seed_pull, p_.seed_lambda,
            seed_saved_.data(), add);
        TMINE_CUDA_LAUNCH_CHECK();
    }

    void step_kl() {
        const auto& r = p_.reg;
        ratio_into(ratio_.data());
        mR_->spmm(r_, *dHt_, *dNumN_);
        column_sums(Ht_.data(), m_, sums_.data());
        update(W_.data(), num_.data(), nullptr, sums_.data(), n_, r.l1_W, r.l2_W);
        if (p_.update_H) {
            sddmm_into(wh_.data());
            ratio_into(ratio_.data());
            TMINE_LAUNCH(permute, grid_for(nnz_), kBlock, s_)(ratio_.data(), order_.data(), nnz_,
                                                       ratio_t_.data());
            TMINE_CUDA_LAUNCH_CHECK();
            mRt_->spmm(r_, *dW_, *dNumM_);
            column_sums(W_.data(), n_, sums_.data());
            all_processes(num_.data(), m_ * k_);
            all_processes(sums_.data(), k_);
            TMINE_LAUNCH(zero_to_one, 1, 64, s_)(sums_.data(), k_);
            TMINE_CUDA_LAUNCH_CHECK();
            // scikit-learn's floor for H after a KL update (float64's epsilon, 2^-52).
            update(Ht_.data(), num_.data(), nullptr, sums_.data(), m_, r.l1_H, r.l2_H,
                   detail::kKlHFloor);
        }
        sddmm_into(wh_.data());
    }

    /// A distributed fit: the sum of the device values x[0, n) over the processes, in place.
    template <class T>
    void all_processes(T* x, int64_t n) {
        if (sums_over_) sums_over_->sum(x, n);
    }

    void dot(const float* a, const float* b, int64_t len, double* out) {
        const unsigned blocks = grid_for(len);
        TMINE_LAUNCH(dot_kernel, blocks, kBlock, s_)(a, b, len, partials_.data());
        TMINE_CUDA_LAUNCH_CHECK();
        TMINE_LAUNCH(add_partials, 1, kBlock, s_)(partials_.data(), int(blocks), out);
        TMINE_CUDA_LAUNCH_CHECK();
    }

    /// The loss of the current factors into slot `slot` (no host wait).
    void loss_into(int slot) {
        double* d = dots_.data() + 2 * slot;
        if (kl()) {
            TMINE_LAUNCH(kl_terms, grid_for(nnz_), kBlock, s_)(x_.data(), wh_.data(), nnz_, partials_.data());
            TMINE_CUDA_LAUNCH_CHECK();
            TMINE_LAUNCH(add_partials, 1, kBlock, s_)(partials_.data(), int(grid_for(nnz_)), d);
            TMINE_CUDA_LAUNCH_CHECK();
            column_sums(W_.data(), n_, wsum_.data());
            column_sums(Ht_.data(), m_, hsum_.data());
            all_processes(d, 1);
            all_processes(wsum_.data(), k_);
            TMINE_LAUNCH(finish_kl, 1, 1, s_)(d, wsum_.data(), hsum_.data(), k_, x_sum_,
                                       losses_.data() + slot);
        } else {
            // <X, WH>: <X^T W, H^T> (num_ holds X^T W) after an H update, else <W, X H^T>.
            if (p_.update_H)
                dot(num_.data(), Ht_.data(), m_ * k_, d);
            else
                dot(W_.data(), num_.data(), n_ * k_, d);
            dot(WtW_.data(), HHt_.data(), int64_t(k_) * k_, d + 1);
            TMINE_LAUNCH(finish_frobenius, 1, 1, s_)(d, xx_, losses_.data() + slot);
        }
        TMINE_CUDA_LAUNCH_CHECK();
    }

    Resources& r_;
    cublasMath_t math_mode_ = CUBLAS_DEFAULT_MATH;
    cudaStream_t s_;
    const detail::NmfProblem& p_;
    NmfOptions opts_;
    int64_t n_, m_;
    int k_;
    int64_t nnz_;
    double xx_ = 0, x_sum_ = 0;
    std::unique_ptr<DevicePattern> X_, Xt_;
    DeviceBuffer<float> x_, xt_, W_, Ht_, num_, den_, WtW_, HHt_;
    DeviceBuffer<float> wh_, ratio_, ratio_t_, sums_, wsum_, hsum_;
    DeviceBuffer<int32_t> row_, order_, seed_topics_;
    DeviceBuffer<int64_t> seed_entries_;
    DeviceBuffer<float> seed_saved_;
    DeviceBuffer<double> dots_, losses_, partials_;  // partials_: reductions' per-block sums
    std::unique_ptr<SpMat> mX_, mXt_, mR_, mRt_;
    std::unique_ptr<DnMat> dW_, dHt_, dNumN_, dNumM_;
    ProcessSums* sums_over_ = nullptr;  // a distributed fit's sums over the processes (r_'s)
};

}  // namespace

std::unique_ptr<detail::NmfIterations> nmf_iterations(const Context& ctx,
                                                       const detail::NmfProblem& p,
                                                       const NmfOptions& opts,
                                                       std::vector<float> W,
                                                       const std::vector<float>& H) {
    return std::make_unique<CudaIterations>(ctx, p, opts, W, H);  // W copied to the device, then freed
}

void check_nmf_memory(const Context& ctx, int64_t n, int64_t m, int64_t nnz, int k, NmfLoss loss) {
    TMINE_CUDA_CHECK(cudaSetDevice(ctx.cuda().device));  // free_device_bytes() reads the current device
    check_nmf_memory_free(n, m, nnz, k, loss);
}

}  // namespace tmine::cuda_impl
