#pragma once
// nmf_bench's device SpMM timing (spmm_cuda.cu, built with the CUDA twins only).
#include "tmine/context.hpp"
#include "tmine/vectorize.hpp"

namespace tmine_bench {
/// Seconds per pair of products X H^T and X^T W (k columns) on the context's GPU: CUDA events
/// around `reps` pairs, after one warm-up pair.
double cuda_spmm_pair_seconds(const tmine::Context& ctx, const tmine::CsrMatrix& X,
                              const tmine::CsrMatrix& Xt, int k, int reps);
}  // namespace tmine_bench
