// Vectorize benchmarks on the real Reddit corpus (bench_data.cpp): each stage alone (count_terms,
// prune_idf, tfidf, from the corpus tokenised once), tokenisation, and the full TF-IDF pipeline,
// on a CPU context and on a CUDA context with identical options (min_df 5, max_df 0.5, English
// stop words: the settings of compare_sklearn.py).
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

/// The corpus's tokens, tokenised once on the CPU (the input of the stages below).
const tmine::Tokenized* tokens_or_skip(benchmark::State& state) {
    const tmine::Corpus* c = corpus_or_skip(state);
    if (!c) return nullptr;
    static const tmine::Tokenized tok =
        tmine::tokenize_corpus(tmine::Context::cpu(), *c, tmine_bench::vectorize_options());
    return &tok;
}

/// count_terms: the term-count matrix, document frequencies and totals from the token ids
/// (the CUDA variant sorts (document, term) keys and reduces them on the device).
void BM_CountTerms(benchmark::State& state, tmine::Device device) {
    const tmine::Tokenized* tok = tokens_or_skip(state);
    if (!tok) return;
    tmine::Context ctx = tmine::Context::cpu();
    if (!make_context(state, device, ctx)) return;
    auto count = [&] {
        return device == tmine::Device::Cpu ? tmine::cpu_impl::count_terms(ctx, *tok)
                                            : tmine::cuda_impl::count_terms(ctx, *tok);
    };
    tmine::TermCounts tc = count();  // warm-up
    for (auto _ : state) {
        tc = count();
        benchmark::DoNotOptimize(tc.counts.data.data());
    }
    const double T = static_cast<double>(tok->tokens.size());
    state.counters["tokens_per_s"] =
        benchmark::Counter(T * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["nnz"] = static_cast<double>(tc.counts.nnz());
    // PCIe: the token ids and document offsets up; the counts (8 bytes a non-zero, offsets),
    // df and totals down.
    state.counters["h2d_bytes"] = 4.0 * T + 8.0 * static_cast<double>(tok->doc_ptr.size());
    state.counters["d2h_bytes"] = 8.0 * tc.counts.nnz() + 8.0 * (tc.counts.rows + 1) + 12.0 * tc.df.size();
    state.counters["threads"] = ctx.cpu_threads();
    state.SetLabel(ctx.description());
}

/// prune_terms + smooth_idf: the vocabulary by min_df / max_df and its idf, from the document
/// frequencies (host code on both paths: one variant).
void BM_PruneIdf(benchmark::State& state) {
    const tmine::Tokenized* tok = tokens_or_skip(state);
    if (!tok) return;
    static const tmine::TermCounts tc = tmine::cpu_impl::count_terms(tmine::Context::cpu(), *tok);
    const tmine::VectorizeOptions opts = tmine_bench::vectorize_options();
    const int64_t n = tc.counts.rows;
    int32_t kept = 0;
    for (auto _ : state) {
        std::vector<int32_t> keep = tmine::prune_terms(tc.df, tc.total, n, opts, kept);
        std::vector<double> idf = tmine::smooth_idf(tc.df, n);
        benchmark::DoNotOptimize(keep.data());
        benchmark::DoNotOptimize(idf.data());
    }
    state.counters["terms"] = static_cast<double>(tc.df.size());
    state.counters["kept"] = static_cast<double>(kept);
}

/// tfidf: pruned columns renumbered, tf x idf, rows l2-normalised, from the count matrix.
void BM_Tfidf(benchmark::State& state, tmine::Device device) {
    const tmine::Tokenized* tok = tokens_or_skip(state);
    if (!tok) return;
    tmine::Context ctx = tmine::Context::cpu();
    if (!make_context(state, device, ctx)) return;
    static const tmine::TermCounts tc = tmine::cpu_impl::count_terms(tmine::Context::cpu(), *tok);
    const tmine::VectorizeOptions opts = tmine_bench::vectorize_options();
    int32_t kept = 0;
    const std::vector<int32_t> keep = tmine::prune_terms(tc.df, tc.total, tc.counts.rows, opts, kept);
    std::vector<double> idf_all = tmine::smooth_idf(tc.df, tc.counts.rows), idf(kept);
    for (size_t t = 0; t < keep.size(); ++t)
        if (keep[t] >= 0) idf[keep[t]] = idf_all[t];
    auto weigh = [&] {
        return device == tmine::Device::Cpu
                   ? tmine::cpu_impl::tfidf(ctx, tc.counts, keep, kept, idf, opts.sublinear_tf)
                   : tmine::cuda_impl::tfidf(ctx, tc.counts, keep, kept, idf, opts.sublinear_tf);
    };
    tmine::CsrMatrix X = weigh();  // warm-up
    for (auto _ : state) {
        X = weigh();
        benchmark::DoNotOptimize(X.data.data());
    }
    state.counters["nnz_in"] = static_cast<double>(tc.counts.nnz());
    state.counters["nnz"] = static_cast<double>(X.nnz());
    state.counters["h2d_bytes"] = 8.0 * tc.counts.nnz() + 8.0 * (tc.counts.rows + 1) + 12.0 * keep.size();
    state.counters["d2h_bytes"] = 8.0 * X.nnz() + 8.0 * (X.rows + 1);
    state.counters["threads"] = ctx.cpu_threads();
    state.SetLabel(ctx.description());
}

}  // namespace

BENCHMARK_CAPTURE(BM_CountTerms, cpu, tmine::Device::Cpu)
    ->Name("count_terms/cpu")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_CountTerms, cuda, tmine::Device::Cuda)
    ->Name("count_terms/cuda")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PruneIdf)->Name("prune_idf/cpu")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Tfidf, cpu, tmine::Device::Cpu)
    ->Name("tfidf/cpu")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Tfidf, cuda, tmine::Device::Cuda)
    ->Name("tfidf/cuda")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
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
