// Vectorize benchmarks on the real Reddit corpus (bench_data.cpp): tokenisation alone, and the
// full TF-IDF pipeline on a CPU context and on a CUDA context with identical options
// (min_df 5, max_df 0.5, English stop words: the settings of compare_sklearn.py).
//
//   TMINE_BENCH_DOCS=100000 build/bench/vectorize_bench
//
// Times are wall clock (UseRealTime) of the public API call, which is synchronous and returns
// host memory: for CUDA this includes the host<->device copies. One warm-up call precedes the
// timed loop on every variant (CUDA context creation, pool, page faults).
#include <benchmark/benchmark.h>

#include <string>

#include "tmine/context.hpp"
#include "tmine/corpus.hpp"
#include "tmine/error.hpp"
#include "tmine/vectorize.hpp"

#include "bench_common.hpp"

using tmine_bench::corpus_or_skip;
using tmine_bench::make_context;
using tmine_bench::matrix_or_skip;

namespace {

void set_text_counters(benchmark::State& state, const tmine::Corpus& c) {
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(c.text.arena.size()));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(c.size()));  // documents/s
    state.counters["docs"] = static_cast<double>(c.size());
}

/// The least a call starting and ending in host memory moves over PCIe (bench/floors.py
/// divides by the measured host<->device bandwidths): the text and its offsets up, and `down`
/// bytes of result back.
void set_transfer_counters(benchmark::State& state, const tmine::Corpus& c, double down) {
    state.counters["h2d_bytes"] = static_cast<double>(c.text.arena.size()) + 8.0 * (c.size() + 1);
    state.counters["d2h_bytes"] = down;
}

/// tokenize_corpus: the Unicode tokeniser + vocabulary ids. The CUDA variant is the chunked
/// GPU tokenizer (chunks cut, deduplicated and expanded on the device, each distinct chunk
/// tokenised on the host; docs/tokenizer.md), from the host corpus to host token ids.
void BM_TokenizeCorpus(benchmark::State& state, tmine::Device device) {
    const tmine::Corpus* c = corpus_or_skip(state);
    if (!c) return;
    tmine::Context ctx = tmine::Context::cpu();
    if (!make_context(state, device, ctx)) return;
    const tmine::VectorizeOptions opts = tmine_bench::vectorize_options();
    tmine::Tokenized tok = tmine::tokenize_corpus(ctx, *c, opts);  // warm-up
    for (auto _ : state) {
        tok = tmine::tokenize_corpus(ctx, *c, opts);
        benchmark::DoNotOptimize(tok.tokens.data());
    }
    set_text_counters(state, *c);
    state.counters["tokens"] = static_cast<double>(tok.tokens.size());
    state.counters["distinct"] = static_cast<double>(tok.vocab.size());
    set_transfer_counters(state, *c, 4.0 * tok.tokens.size() + 8.0 * tok.doc_ptr.size());
    state.counters["threads"] = ctx.cpu_threads();
    state.SetLabel(ctx.description());
}

/// vectorize(): tokenise, count, prune by df, TF-IDF weight and l2-normalise.
void BM_Vectorize(benchmark::State& state, tmine::Device device) {
    const tmine::Corpus* c = corpus_or_skip(state);
    if (!c) return;
    tmine::Context ctx = tmine::Context::cpu();
    if (!make_context(state, device, ctx)) return;
    const tmine::VectorizeOptions opts = tmine_bench::vectorize_options();
    tmine::Vectorized v = tmine::vectorize(ctx, *c, opts);  // warm-up
    for (auto _ : state) {
        v = tmine::vectorize(ctx, *c, opts);
        benchmark::DoNotOptimize(v.X.data.data());
    }
    set_text_counters(state, *c);
    state.counters["terms"] = static_cast<double>(v.X.cols);
    state.counters["nnz"] = static_cast<double>(v.X.nnz());
    set_transfer_counters(state, *c, 8.0 * v.X.nnz() + 8.0 * (v.X.rows + 1));
    state.counters["threads"] = ctx.cpu_threads();
    state.SetLabel(ctx.description());
}

}  // namespace

BENCHMARK_CAPTURE(BM_TokenizeCorpus, cpu, tmine::Device::Cpu)
    ->Name("tokenize_corpus/cpu")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TokenizeCorpus, cuda, tmine::Device::Cuda)
    ->Name("tokenize_corpus/cuda")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Vectorize, cpu, tmine::Device::Cpu)
    ->Name("vectorize/cpu")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Vectorize, cuda, tmine::Device::Cuda)
    ->Name("vectorize/cuda")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
