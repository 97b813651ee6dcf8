// CPU-only build (TMINE_CUDA=OFF): the CUDA entry points exist and say why they cannot run.
#include "cuda_api.hpp"
#include "tmine/clean.hpp"
#include "tmine/classify.hpp"
#include "tmine/error.hpp"
#include "tmine/interpret.hpp"
#include "tmine/nmf.hpp"
#include "tmine/vectorize.hpp"

namespace tmine::cuda_impl {

struct Resources {};

namespace {
[[noreturn]] void no_cuda() {
    throw DeviceError("this tmine was built without CUDA (configure with -DTMINE_CUDA=ON)");
}
}  // namespace

bool compiled_in() { return false; }

std::shared_ptr<Resources> create_resources(std::string& why, std::string& description, int) {
    why = "this tmine was built without CUDA";
    description.clear();
    return nullptr;
}

TermCounts count_terms(const Context&, const Tokenized&) { no_cuda(); }
TermCounts count_terms(const Context&, const TokenSpan&) { no_cuda(); }
int64_t count_chunk_tokens(const Context&) { no_cuda(); }
CsrMatrix count_and_weigh(const Context&, const TokenSpan&, const WeightChoice&, bool) { no_cuda(); }
bool tokenize_chunks(const Context&, const Corpus&, int64_t, int64_t, const chunking::Plan&,
                     const chunking::Mapper&, std::vector<int64_t>&, std::vector<int32_t>&) {
    no_cuda();
}
int64_t tokenize_batch_bytes(const Context&) { no_cuda(); }
CsrMatrix tfidf(const Context&, const CsrMatrix&, const std::vector<int32_t>&, int32_t,
                const std::vector<double>&, bool) {
    no_cuda();
}
std::unique_ptr<detail::NmfIterations> nmf_iterations(const Context&, const detail::NmfProblem&,
                                                       const NmfOptions&, std::vector<float>,
                                                       const std::vector<float>&) {
    no_cuda();
}
void check_nmf_memory(const Context&, int64_t, int64_t, int64_t, int, NmfLoss) { no_cuda(); }
bool randomized_range(const Context&, const CsrMatrix&, const CsrMatrix&, const std::vector<double>&,
                      int, int, const std::function<bool(std::vector<double>&, int)>&,
                      double*, double*) {
    no_cuda();
}
Cooccurrence cooccurrence(const Context&, const CsrMatrix&, const std::vector<int32_t>&) { no_cuda(); }

std::unique_ptr<detail::LogRegObjective> logreg_objective(const Context&,
                                                          const detail::LogRegProblem&) {
    no_cuda();
}
std::vector<double> class_feature_sums(const Context&, const CsrMatrix&, const std::vector<int32_t>&,
                                       const std::vector<double>&, int) {
    no_cuda();
}
std::vector<double> linear_scores(const Context&, const CsrMatrix&, const double*, const double*,
                                  int) {
    no_cuda();
}

std::vector<uint32_t> minhash_signatures(const Context&, const ShingleSets&, const MinHashFamily&, int64_t) {
    no_cuda();
}

}  // namespace tmine::cuda_impl
