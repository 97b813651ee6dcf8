// The benchmark input: the real Reddit corpus (../shared/data), ingested once per process,
// capped at TMINE_BENCH_DOCS documents, and its TF-IDF matrix (CPU reference, built once).
// Declared in each benchmark program under namespace tmine_bench.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "tmine/context.hpp"
#include "tmine/corpus.hpp"
#include "tmine/error.hpp"
#include "tmine/ingest.hpp"
#include "tmine/vectorize.hpp"

namespace tmine_bench {

namespace {

constexpr const char* kCorpusFile = "reddit-comments-2020-08_2022-07.jsonl.gz";
constexpr size_t kDefaultDocs = 480000;

std::string data_path() {
    const char* env = std::getenv("TMINE_DATA");
    std::string dir = env && *env ? env : TMINE_SOURCE_DIR "/../shared/data";
    // TMINE_DATA may name the folder (as for the tests) or the file itself.
    if (std::filesystem::is_regular_file(dir)) return dir;
    return (std::filesystem::path(dir) / kCorpusFile).string();
}

size_t doc_cap() {
    const char* env = std::getenv("TMINE_BENCH_DOCS");
    if (!env || !*env) return kDefaultDocs;
    char* end = nullptr;
    unsigned long long v = std::strtoull(env, &end, 10);
    if (*end != '\0' || v == 0)
        throw tmine::InputError(std::string("TMINE_BENCH_DOCS: expected a positive count, got '") +
                                env + "'");
    return static_cast<size_t>(v);
}

tmine::Corpus load() {
    const std::string path = data_path();
    if (!std::filesystem::exists(path))
        throw tmine::IoError(path + ": benchmark corpus not found (set TMINE_DATA)");
    tmine::IngestOptions opts;
    opts.text_field = "body";
    tmine::Corpus all;
    tmine::ingest({path}, opts, all);
    const size_t cap = doc_cap();
    if (all.size() <= cap) return all;
    tmine::Corpus c;
    for (size_t i = 0; i < cap; ++i)
        c.add(all.text[i], all.time[i], all.ids[i], all.authors[i], all.source[i]);
    c.sources = all.sources;
    return c;
}

}  // namespace

tmine::VectorizeOptions vectorize_options() {
    tmine::VectorizeOptions o;  // the settings of compare_sklearn.py
    o.tokenizer = tmine::TokenizerOptions::sklearn();
    o.min_df = tmine::DfBound{false, 5};
    o.max_df = tmine::DfBound{true, 0.5};
    o.stop_words = tmine::load_stop_words("english");
    return o;
}

const tmine::Corpus& corpus() {
    static const tmine::Corpus c = [] {
        tmine::Corpus c = load();
        std::fprintf(stderr, "bench: %zu documents, %.1f MB of text from %s\n", c.size(),
                     c.text.arena.size() / 1e6, data_path().c_str());
        return c;
    }();
    return c;
}

const tmine::Vectorized& matrix() {
    static const tmine::Vectorized v = [] {
        tmine::Vectorized v = tmine::vectorize(tmine::Context::cpu(), corpus(), vectorize_options());
        std::fprintf(stderr, "bench: TF-IDF %lld x %lld, %lld non-zeros\n", (long long)v.X.rows,
                     (long long)v.X.cols, (long long)v.X.nnz());
        return v;
    }();
    return v;
}

}  // namespace tmine_bench
