// Near-duplicate detection benchmarks on the real Reddit corpus (bench_data.cpp), CPU and CUDA
// with identical parameters: 3-word shingles, 128 hashes, seed 0 (tmine clean's defaults).
//
//   TMINE_BENCH_DOCS=100000 build/bench/minhash_bench
//
// word_shingles/cpu          shingle sets of every post (CPU on every context).
// minhash_signatures/<dev>   n x 128 MinHash signatures from the shingle sets (the CUDA twin
//                            includes the host<->device copies).
// dedup/<dev>                the whole dedup step of tmine clean (exact + near duplicates at
//                            Jaccard 0.8: shingles, signatures, LSH buckets, verified pairs).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench_common.hpp"
#include "tmine/clean.hpp"

namespace {

/// The shingle sets of the corpus (built once).
const tmine::ShingleSets& shingle_sets(const tmine::Corpus& c) {
    static const tmine::ShingleSets s = [&] {
        tmine::ShingleSets s;
        for (size_t d = 0; d < c.size(); ++d) {
            std::vector<uint64_t> sh = tmine::word_shingles(c.text[d], 3);
            s.shingles.insert(s.shingles.end(), sh.begin(), sh.end());
            s.offsets.push_back(s.shingles.size());
        }
        return s;
    }();
    return s;
}

void BM_WordShingles(benchmark::State& state) {
    const tmine::Corpus* c = tmine_bench::corpus_or_skip(state);
    if (!c) return;
    size_t total = 0;
    for (auto _ : state) {
        total = 0;
        for (size_t d = 0; d < c->size(); ++d) total += tmine::word_shingles(c->text[d], 3).size();
        benchmark::DoNotOptimize(total);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(c->text.arena.size()));
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(c->size()));
    state.counters["shingles"] = double(total);
}

void BM_MinHashSignatures(benchmark::State& state, tmine::Device device) {
    const tmine::Corpus* c = tmine_bench::corpus_or_skip(state);
    if (!c) return;
    tmine::Context ctx;
    if (!tmine_bench::make_context(state, device, ctx)) return;
    const tmine::ShingleSets& sets = shingle_sets(*c);
    const tmine::MinHashFamily fam = tmine::MinHashFamily::make(128, 0);
    std::vector<uint32_t> sig = tmine::minhash_signatures(ctx, sets, fam);  // warm-up
    for (auto _ : state) {
        sig = tmine::minhash_signatures(ctx, sets, fam);
        benchmark::DoNotOptimize(sig.data());
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(sets.size()));  // posts/s
    state.counters["shingles"] = double(sets.shingles.size());
    // PCIe floor (bench/floors.py): the shingle hashes and offsets up, the signatures down.
    state.counters["h2d_bytes"] = 8.0 * double(sets.shingles.size() + sets.offsets.size());
    state.counters["d2h_bytes"] = 4.0 * double(sig.size());
    // hash evaluations per second: one per shingle and hash function
    state.counters["hashes_per_s"] = benchmark::Counter(
        double(state.iterations()) * double(sets.shingles.size()) * fam.size(),
        benchmark::Counter::kIsRate);
}

void BM_Dedup(benchmark::State& state, tmine::Device device) {
    const tmine::Corpus* c = tmine_bench::corpus_or_skip(state);
    if (!c) return;
    tmine::Context ctx;
    if (!tmine_bench::make_context(state, device, ctx)) return;
    tmine::CleanOptions o;
    o.steps = {tmine::CleanStep::Dedup};
    uint64_t kept = 0;
    {
        tmine::Corpus copy = *c;  // warm-up
        kept = tmine::clean(ctx, copy, o).rows_out;
    }
    for (auto _ : state) {
        state.PauseTiming();
        tmine::Corpus copy = *c;
        state.ResumeTiming();
        tmine::CleanReport r = tmine::clean(ctx, copy, o);
        kept = r.rows_out;
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(c->size()));
    state.counters["kept"] = double(kept);
    state.counters["docs"] = double(c->size());
}

}  // namespace

BENCHMARK(BM_WordShingles)->Name("word_shingles/cpu")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_MinHashSignatures, cpu, tmine::Device::Cpu)
    ->Name("minhash_signatures/cpu")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_MinHashSignatures, cuda, tmine::Device::Cuda)
    ->Name("minhash_signatures/cuda")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Dedup, cpu, tmine::Device::Cpu)
    ->Name("dedup/cpu")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK_CAPTURE(BM_Dedup, cuda, tmine::Device::Cuda)
    ->Name("dedup/cuda")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

BENCHMARK_MAIN();
