// NMF benchmarks on the TF-IDF matrix of the real Reddit corpus (bench_data.cpp), CPU and CUDA
// with identical parameters: k topics (the argument, default 50), 10 multiplicative-update
// iterations, tol 0 (never stops early), random init with seed 0.
//
//   TMINE_BENCH_DOCS=100000 build/bench/nmf_bench
//
// nmf/<device>/<k>     the whole public call nmf(): random init, X^T, 10 iterations.
// nmf_iters/<device>/<solver>/<k> only the iterations (mu or hals, Frobenius loss):
//                      time(nmf, 1 + 10 iterations) - time(nmf, 1 iteration), public API only,
//                      so s_per_iter is the per-iteration cost. Its counters floor_bytes and
//                      design_bytes are the memory traffic of one iteration (see iteration_bytes);
//                      bench/floors.py divides them by the measured HBM bandwidth.
// spmm/<device>/<k>    the iteration's two sparse products, X H^T (n x k) and X^T W (m x k),
//                      per pair: the CPU building blocks (host/src/sparse_cpu.hpp, X^T given,
//                      as the NMF has it) and on the GPU the NMF's own cuSPARSE call timed with
//                      CUDA events after a warm-up (spmm_cuda.cu). Counters floor_bytes, flops.
// nmf_init_nndsvda/<device>/<k> the NNDSVDA initialisation the CLI uses by default (its
//                      randomized SVD's range finder runs on the device; the rest on the host).
//                      Counters floor_bytes, flops: the SVD's sparse products alone (a lower bound).
// nmf/<device>/<k> carries the iterations' floor_bytes and flops; its s_per_iter includes a
//                      tenth of the set-up, so its ratio to the floor is the whole call's.
// Every iteration also computes the relative error (cheap: it reuses X^T W).
// Times are wall clock (UseRealTime / manual) of synchronous calls returning host memory; for CUDA
// they include the host<->device copies. One warm-up call precedes each timed loop.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "tmine/context.hpp"
#include "tmine/error.hpp"
#include "tmine/nmf.hpp"
#include "tmine/vectorize.hpp"

#include "bench_common.hpp"
#include "sparse_cpu.hpp"
#ifdef TMINE_BENCH_CUDA
#include "spmm_cuda.hpp"
#endif

using tmine_bench::corpus_or_skip;
using tmine_bench::make_context;
using tmine_bench::matrix_or_skip;

namespace {

constexpr int kIters = 10;

tmine::NmfOptions options(int k, tmine::NmfInit init) {
    tmine::NmfOptions o;
    o.k = k;
    o.max_iter = kIters;
    o.tol = 0;
    o.seed = 0;
    o.init = init;
    return o;
}

/// Bytes one Frobenius iteration must move, for the memory floor (docs/benchmarks.md, "Floors"),
/// with n x m X of nnz non-zeros (CSR and its transpose, float values, int32 indices and
/// offsets), W n x k and H^T m x k in float32:
///  - floor: X and X^T read once each, W and H^T each read and written once, and the two
///    sparse products (X H^T, n x k, and X^T W, m x k) each written and read once: what any
///    implementation built on a sparse-times-dense product moves.
///  - design: the passes of the implementation in kernels/nmf_cuda.cu, each array counted once
///    per kernel that touches it (its gathers assumed cached, so a lower bound of its own).
///    MU, per factor F (rows x k): the product written (1), F G read and written as den (2), the
///    update reading F, num, den and writing F (4), the Gram matrix reading F (1), and the other
///    product reading F (1); the H side adds the loss's <X^T W, H^T> (2). HALS replaces the
///    den pass and the four-array update by one sweep reading F and num and writing F (3).
void iteration_bytes(const tmine::CsrMatrix& X, int k, tmine::NmfSolver solver, double& floor,
                     double& design) {
    const double nk = 4.0 * double(X.rows) * k, mk = 4.0 * double(X.cols) * k;
    const double x = 2.0 * (8.0 * double(X.nnz()) + 4.0 * double(X.rows + X.cols + 2));
    floor = x + 4 * nk + 4 * mk;
    const bool mu = solver == tmine::NmfSolver::Mu;
    design = x + (mu ? 9 : 6) * nk + (mu ? 11 : 8) * mk;
}

/// Floating-point operations of one Frobenius iteration, for the compute floor (floors.py
/// divides by the measured FP32 rate): the two sparse products (2 nnz k each), the two Gram
/// matrices as symmetric rank-k updates (n k^2 and m k^2, half of a GEMM), and the two dense
/// products with a Gram matrix (MU: F G, 2 rows k^2; HALS: the same dot products row by row).
double iteration_flops(const tmine::CsrMatrix& X, int k) {
    const double kk = double(k) * k, rows = double(X.rows) + double(X.cols);
    return 4.0 * double(X.nnz()) * k + 3.0 * rows * kk;
}

void set_counters(benchmark::State& state, const tmine::CsrMatrix& X, const tmine::Context& ctx,
                  double relative_error) {
    // Seconds per NMF iteration: total time / (benchmark iterations x kIters).
    state.counters["s_per_iter"] = benchmark::Counter(
        static_cast<double>(state.iterations()) * kIters,
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["rel_err"] = relative_error;
    state.counters["docs"] = static_cast<double>(X.rows);
    state.counters["terms"] = static_cast<double>(X.cols);
    state.counters["nnz"] = static_cast<double>(X.nnz());
    state.SetLabel(ctx.description());
}

void BM_Nmf(benchmark::State& state, tmine::Device device) {
    const tmine::CsrMatrix* X = matrix_or_skip(state);
    if (!X) return;
    tmine::Context ctx = tmine::Context::cpu();
    if (!make_context(state, device, ctx)) return;
    const tmine::NmfOptions opts = options(static_cast<int>(state.range(0)), tmine::NmfInit::Random);
    tmine::NmfModel model = tmine::nmf(ctx, *X, opts);  // warm-up
    for (auto _ : state) {
        model = tmine::nmf(ctx, *X, opts);
        benchmark::DoNotOptimize(model.W.data());
    }
    set_counters(state, *X, ctx, model.relative_error);
    // The iterations' floor alone (MU): s_per_iter here also carries a tenth of the set-up
    // (start, X^T, copies), so its ratio to the floor is the whole call's overhead too.
    double floor = 0, design = 0;
    iteration_bytes(*X, opts.k, opts.solver, floor, design);
    state.counters["floor_bytes"] = floor;
    state.counters["flops"] = iteration_flops(*X, opts.k);
}

/// The iterations alone, through the public API only: each sample times nmf() with
/// 1 + kIters iterations and with 1 iteration from the same (seeded) start and reports the
/// difference, which cancels init, X^T and the initial error.
void BM_NmfIters(benchmark::State& state, tmine::Device device, tmine::NmfSolver solver) {
    const tmine::CsrMatrix* X = matrix_or_skip(state);
    if (!X) return;
    tmine::Context ctx = tmine::Context::cpu();
    if (!make_context(state, device, ctx)) return;
    const int k = static_cast<int>(state.range(0));
    tmine::NmfOptions one = options(k, tmine::NmfInit::Random);
    one.solver = solver;
    tmine::NmfOptions many = one;
    one.max_iter = 1;
    many.max_iter = 1 + kIters;
    using Clock = std::chrono::steady_clock;
    auto timed = [&](const tmine::NmfOptions& o, tmine::NmfModel& model) {
        auto t0 = Clock::now();
        model = tmine::nmf(ctx, *X, o);
        benchmark::DoNotOptimize(model.W.data());
        return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    tmine::NmfModel model;
    timed(one, model);  // warm-up
    for (auto _ : state) {
        double t1 = timed(one, model);
        double tn = timed(many, model);
        state.SetIterationTime(std::max(tn - t1, 1e-9));
    }
    set_counters(state, *X, ctx, model.relative_error);
    double floor = 0, design = 0;
    iteration_bytes(*X, k, solver, floor, design);
    state.counters["floor_bytes"] = floor;
    state.counters["design_bytes"] = design;
    state.counters["flops"] = iteration_flops(*X, k);
}

/// X H^T and X^T W once each per sample (see the header comment).
void BM_Spmm(benchmark::State& state, tmine::Device device) {
    const tmine::CsrMatrix* X = matrix_or_skip(state);
    if (!X) return;
    tmine::Context ctx = tmine::Context::cpu();
    if (!make_context(state, device, ctx)) return;
    const int k = static_cast<int>(state.range(0));
    const tmine::CsrMatrix Xt = tmine::transpose(ctx, *X);
    const int64_t n = X->rows, m = X->cols;
    if (device == tmine::Device::Cpu) {
        std::vector<float> W(size_t(n) * k, 1.0f / k), Ht(size_t(m) * k, 1.0f / k);
        std::vector<float> Y(size_t(n) * k), Z(size_t(m) * k);
        const int T = ctx.cpu_threads();
        tmine::cpu_impl::spmm(*X, Ht.data(), k, Y.data(), T);  // warm-up
        tmine::cpu_impl::spmm(Xt, W.data(), k, Z.data(), T);
        for (auto _ : state) {
            tmine::cpu_impl::spmm(*X, Ht.data(), k, Y.data(), T);
            tmine::cpu_impl::spmm(Xt, W.data(), k, Z.data(), T);
            benchmark::DoNotOptimize(Z.data());
        }
    } else {
#ifdef TMINE_BENCH_CUDA
        for (auto _ : state) state.SetIterationTime(tmine_bench::cuda_spmm_pair_seconds(ctx, *X, Xt, k, 20));
#else
        state.SkipWithError("built without CUDA");
        return;
#endif
    }
    // Each matrix read once (values and indices, 8 bytes a non-zero, and its offsets), the dense
    // operand read and the product written once.
    const double x = 2.0 * 8.0 * double(X->nnz()) + 8.0 * double(n + m + 2);
    state.counters["floor_bytes"] = x + 2.0 * 4.0 * double(n + m) * k;
    state.counters["flops"] = 4.0 * double(X->nnz()) * k;
    state.counters["docs"] = static_cast<double>(n);
    state.counters["nnz"] = static_cast<double>(X->nnz());
    state.counters["threads"] = ctx.cpu_threads();
    state.SetLabel(ctx.description());
}

void BM_NmfInitNndsvda(benchmark::State& state, tmine::Device device) {
    const tmine::CsrMatrix* X = matrix_or_skip(state);
    if (!X) return;
    tmine::Context ctx = tmine::Context::cpu();
    if (!make_context(state, device, ctx)) return;
    const tmine::NmfOptions opts = options(static_cast<int>(state.range(0)), tmine::NmfInit::Nndsvda);
    std::vector<float> W, H;
    tmine::nmf_init(ctx, *X, opts, W, H);  // warm-up
    for (auto _ : state) {
        tmine::nmf_init(ctx, *X, opts, W, H);
        benchmark::DoNotOptimize(W.data());
    }
    state.counters["docs"] = static_cast<double>(X->rows);
    state.counters["terms"] = static_cast<double>(X->cols);
    // A lower bound: the randomized SVD's sparse products alone (host/src/nmf_init.cpp): l =
    // k + 10 columns in float64, X Omega, then per power iteration X^T Q and X P, then X^T Q:
    // 2 q + 2 products, each reading X (or X^T) and its dense operand and writing its result
    // once, 2 nnz l flops each. The QR steps, the small SVD and the NNDSVD are not counted.
    const int64_t n = X->rows, m = X->cols;
    const double l = double(std::min<int64_t>(opts.k + 10, std::min(n, m)));
    const int q = (opts.k < 0.1 * double(std::min(n, m))) ? 7 : 4;
    const double x = 8.0 * double(X->nnz()) + 8.0 * double(n + m + 2) / 2;
    state.counters["floor_bytes"] = (2.0 * q + 2) * (x + 8.0 * double(n + m) * l);
    state.counters["flops"] = (2.0 * q + 2) * 2.0 * double(X->nnz()) * l;
    state.SetLabel(ctx.description());
}

}  // namespace

BENCHMARK_CAPTURE(BM_Nmf, cpu, tmine::Device::Cpu)
    ->Name("nmf/cpu")->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Nmf, cuda, tmine::Device::Cuda)
    ->Name("nmf/cuda")->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_NmfIters, cpu_mu, tmine::Device::Cpu, tmine::NmfSolver::Mu)
    ->Name("nmf_iters/cpu/mu")->Arg(50)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_NmfIters, cuda_mu, tmine::Device::Cuda, tmine::NmfSolver::Mu)
    ->Name("nmf_iters/cuda/mu")->Arg(50)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_NmfIters, cpu_hals, tmine::Device::Cpu, tmine::NmfSolver::Hals)
    ->Name("nmf_iters/cpu/hals")->Arg(50)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_NmfIters, cuda_hals, tmine::Device::Cuda, tmine::NmfSolver::Hals)
    ->Name("nmf_iters/cuda/hals")->Arg(50)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_Spmm, cpu, tmine::Device::Cpu)
    ->Name("spmm/cpu")->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Spmm, cuda, tmine::Device::Cuda)
    ->Name("spmm/cuda")->Arg(50)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK_CAPTURE(BM_NmfInitNndsvda, cpu, tmine::Device::Cpu)
    ->Name("nmf_init_nndsvda/cpu")->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_NmfInitNndsvda, cuda, tmine::Device::Cuda)
    ->Name("nmf_init_nndsvda/cuda")->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
