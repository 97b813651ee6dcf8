#pragma once
// What every benchmark program shares: the real corpus and its TF-IDF matrix (bench_data.cpp,
// loaded once per process) and the skip-with-reason helpers (STYLE.md §6-7: a benchmark that
// cannot run says why, it never reports a time).
#include <benchmark/benchmark.h>

#include <string>

#include "tmine/context.hpp"
#include "tmine/corpus.hpp"
#include "tmine/error.hpp"
#include "tmine/vectorize.hpp"

namespace tmine_bench {

/// The Reddit corpus (TMINE_DATA, capped at TMINE_BENCH_DOCS documents).
const tmine::Corpus& corpus();
/// compare_sklearn.py's TfidfVectorizer settings.
tmine::VectorizeOptions vectorize_options();
/// The corpus's TF-IDF matrix, vectorized once on the CPU.
const tmine::Vectorized& matrix();

/// The corpus, or nullptr after SkipWithError when it cannot be loaded.
inline const tmine::Corpus* corpus_or_skip(benchmark::State& state) {
    try {
        return &corpus();
    } catch (const tmine::Error& e) {
        state.SkipWithError(e.what());
        return nullptr;
    }
}

/// The matrix, or nullptr after SkipWithError.
inline const tmine::CsrMatrix* matrix_or_skip(benchmark::State& state) {
    try {
        return &matrix().X;
    } catch (const tmine::Error& e) {
        state.SkipWithError(e.what());
        return nullptr;
    }
}

/// A context for `device`, or false after SkipWithError when the device cannot be used.
inline bool make_context(benchmark::State& state, tmine::Device device, tmine::Context& ctx) {
    if (device == tmine::Device::Cpu) {
        ctx = tmine::Context::cpu();
        return true;
    }
    try {
        ctx = tmine::Context::create(device, 0, /*quiet=*/true);
        return true;
    } catch (const tmine::DeviceError& e) {
        state.SkipWithError((std::string("no CUDA device: ") + e.what()).c_str());
        return false;
    }
}

}  // namespace tmine_bench
