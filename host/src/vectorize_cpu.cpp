// Vectorize: vocabulary pruning, TF-IDF (CPU reference) and the CPU/CUDA dispatcher.
#include <omp.h>

#include <algorithm>
#include <limits>
#include <exception>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <numeric>
#include <tuple>

#include <utf8proc.h>

#include "stopwords.hpp"
#include "tmine/error.hpp"
#include "tmine/io.hpp"
#include "tmine/parallel.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {

DfBound DfBound::parse(std::string_view s, const char* flag) {
    std::string str(s);
    char* end = nullptr;
    double v = std::strtod(str.c_str(), &end);
    if (str.empty() || end != str.c_str() + str.size() || !(v >= 0) || !std::isfinite(v) ||
        str.find_first_of("xXpP") != std::string::npos)
        throw InputError(std::string(flag) + ": expected a count (5) or a proportion (0.5), got '" +
                         str + "'");
    DfBound b;
    b.proportion = str.find_first_of(".eE") != std::string::npos;
    if (!b.proportion && v > 1e15)  // beyond any corpus, and where a count stops being exact
        throw InputError(std::string(flag) + ": a count of documents, got '" + str + "'");
    b.value = v;
    if (b.proportion && v > 1.0)
        throw InputError(std::string(flag) + ": a proportion must be in [0, 1], got '" + str + "'");
    return b;
}

int64_t DfBound::to_count(int64_t n_docs, bool lower) const {
    // scikit-learn compares integer df with p * n_docs: df >= x is df >= ceil(x) for a
    // lower bound, df <= x is df <= floor(x) for an upper one.
    if (!proportion) return static_cast<int64_t>(value);
    double x = value * static_cast<double>(n_docs);
    return static_cast<int64_t>(lower ? std::ceil(x) : std::floor(x));
}

size_t utf8_error_at(std::string_view s) {
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    size_t i = 0;
    while (i < s.size()) {
        if (p[i] < 0x80) {
            ++i;
            continue;
        }
        utf8proc_int32_t cp;
        const utf8proc_ssize_t n = utf8proc_iterate(p + i, utf8proc_ssize_t(s.size() - i), &cp);
        if (n <= 0) return i;
        i += size_t(n);
    }
    return std::string_view::npos;
}

std::vector<std::string> load_stop_words(std::string_view spec, const TokenizerOptions& tok) {
    std::vector<std::string> words;
    auto add = [&](std::string_view w) {
        std::vector<std::string> toks;  // the same normalisation as the documents
        tokenize(w, toks, tok);
        for (auto& t : toks) words.push_back(std::move(t));
    };
    size_t start = 0;
    while (start <= spec.size()) {
        size_t comma = spec.find(',', start);
        std::string_view item = spec.substr(start, comma == std::string_view::npos ? spec.npos : comma - start);
        start = comma == std::string_view::npos ? spec.size() + 1 : comma + 1;
        if (item.empty() || item == "none") continue;
        if (item == "english") {
            for (const auto& w : detail::english_stop_words()) add(w);
            continue;
        }
        if (item == "french") {
            for (const auto& w : detail::french_stop_words()) add(w);
            continue;
        }
        std::ifstream in = open_argument_file(
            std::string(item), "--stop-words: '" + std::string(item) + "' is neither english, french, none nor a readable file");
        std::string line;
        for (size_t number = 1; std::getline(in, line); ++number) {
            const size_t bad = utf8_error_at(line);
            if (bad != std::string::npos)
                throw InputError(std::string(item) + ":" + std::to_string(number) +
                                 ": invalid UTF-8 in the stop-word file (byte " +
                                 std::to_string(bad + 1) + " of the line)");
            if (number == 1) line.erase(0, bom_length(line));
            // A comment is '#' followed by a blank or the line's end, at its start or after a
            // blank: "# French extras", "merci  # thanks". '#' before a word is a hashtag
            // (#spam), which the social tokenizer keeps as a token, so it may be a stop word.
            for (size_t h = line.find('#'); h != std::string::npos; h = line.find('#', h + 1)) {
                const bool starts = h == 0 || line[h - 1] == ' ' || line[h - 1] == '\t';
                const bool blank_after = h + 1 == line.size() || line[h + 1] == ' ' ||
                                         line[h + 1] == '\t' || line[h + 1] == '\r';
                if (starts && blank_after) {
                    line.resize(h);
                    break;
                }
            }
            size_t a = line.find_first_not_of(" \t\r"), b = line.find_last_not_of(" \t\r");
            if (a == std::string::npos) continue;
            add(std::string_view(line).substr(a, b - a + 1));
        }
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    return words;
}

std::vector<int32_t> prune_terms(const std::vector<int32_t>& df, const std::vector<int64_t>& total,
                                 int64_t n_docs, const VectorizeOptions& opts, int32_t& n_kept) {
    const int64_t max_count = opts.max_df.to_count(n_docs, false);
    const int64_t min_count = opts.min_df.to_count(n_docs, true);
    if (min_count > n_docs)
        throw InputError("--min-df asks for terms in at least " + std::to_string(min_count) +
                         " documents, but the corpus has " + std::to_string(n_docs) + "; lower --min-df");
    if (max_count < min_count)
        throw InputError("--max-df corresponds to fewer documents (" + std::to_string(max_count) +
                         ") than --min-df (" + std::to_string(min_count) + ")");
    std::vector<int32_t> kept;
    for (size_t c = 0; c < df.size(); ++c)
        if (df[c] <= max_count && df[c] >= min_count) kept.push_back(static_cast<int32_t>(c));
    if (opts.max_features > 0 && static_cast<int64_t>(kept.size()) > opts.max_features) {
        // Most frequent terms over the corpus; ties by vocabulary order.
        std::stable_sort(kept.begin(), kept.end(),
                         [&](int32_t a, int32_t b) { return total[a] > total[b]; });
        kept.resize(opts.max_features);
        std::sort(kept.begin(), kept.end());
    }
    if (kept.empty())
        throw InputError("after pruning, no terms remain (" + std::to_string(df.size()) +
                         " distinct terms, min-df " + std::to_string(min_count) + ", max-df " +
                         std::to_string(max_count) + " documents of " + std::to_string(n_docs) +
                         "); lower --min-df or raise --max-df");
    std::vector<int32_t> keep(df.size(), -1);
    for (size_t i = 0; i < kept.size(); ++i) keep[kept[i]] = static_cast<int32_t>(i);
    n_kept = static_cast<int32_t>(kept.size());
    return keep;
}

std::vector<double> smooth_idf(const std::vector<int32_t>& df, int64_t n_docs) {
    std::vector<double> idf(df.size());
    for (size_t i = 0; i < df.size(); ++i)
        idf[i] = std::log((1.0 + double(n_docs)) / (1.0 + double(df[i]))) + 1.0;
    return idf;
}

TokenSpan TokenSpan::of(const Tokenized& t, int64_t first, int64_t last) {
    TMINE_ASSERT(first >= 0 && first <= last && last + 1 <= int64_t(t.doc_ptr.size()),
                 "TokenSpan: documents out of range");
    TokenSpan s;
    s.doc_ptr.resize(last - first + 1);
    for (int64_t d = first; d <= last; ++d) s.doc_ptr[d - first] = t.doc_ptr[d] - t.doc_ptr[first];
    s.tokens = t.tokens.data() + t.doc_ptr[first];
    s.vocab_size = t.vocab_size();
    return s;
}

namespace {

/// Counting in chunks of whole documents of at most `budget` tokens (a longer document is a
/// chunk of its own): df and totals summed over the chunks, each chunk's term-count rows kept.
/// Integer counts, so the sums equal one pass's.
struct ChunkedCounts {
    std::vector<int64_t> first;        ///< first document of each chunk (+ the end)
    std::vector<CsrMatrix> counts;     ///< each chunk's term-count rows
    std::vector<int32_t> df;
    std::vector<int64_t> total;
};
ChunkedCounts count_in_chunks(const Context& ctx, const Tokenized& tok, int64_t budget,
                              bool progress) {
    const int64_t n = static_cast<int64_t>(tok.doc_ptr.size()) - 1;
    ChunkedCounts out;
    out.first.push_back(0);
    while (out.first.back() < n) {
        const int64_t a = out.first.back();
        int64_t b = a + 1;
        while (b < n && tok.doc_ptr[b + 1] - tok.doc_ptr[a] <= budget) ++b;
        out.first.push_back(b);
    }
    const size_t chunks = out.first.size() - 1;
    if (progress && chunks > 1)
        std::fprintf(stderr, "vectorize: counting in %zu chunks of at most %lld tokens\n", chunks,
                     static_cast<long long>(budget));
    out.df.assign(tok.vocab_size(), 0);
    out.total.assign(tok.vocab_size(), 0);
    for (size_t c = 0; c < chunks; ++c) {
        const TokenSpan span = TokenSpan::of(tok, out.first[c], out.first[c + 1]);
        TermCounts tc = ctx.is_cuda() ? cuda_impl::count_terms(ctx, span)
                                      : cpu_impl::count_terms(ctx, span);
        for (size_t t = 0; t < out.df.size(); ++t) {
            out.df[t] += tc.df[t];
            out.total[t] += tc.total[t];
        }
        out.counts.push_back(std::move(tc.counts));
    }
    return out;
}

/// Each chunk's rows weighted on the context's device, stacked into one matrix.
CsrMatrix weigh_chunks(const Context& ctx, const ChunkedCounts& cc, const std::vector<int32_t>& keep,
                       int32_t n_kept, const std::vector<double>& idf, bool sublinear_tf) {
    CsrMatrix X;
    X.cols = n_kept;
    X.indptr.assign(1, 0);
    for (const CsrMatrix& counts : cc.counts) {
        CsrMatrix part = ctx.is_cuda() ? cuda_impl::tfidf(ctx, counts, keep, n_kept, idf, sublinear_tf)
                                       : cpu_impl::tfidf(ctx, counts, keep, n_kept, idf, sublinear_tf);
        const int64_t base = X.indptr.back();
        for (int64_t r = 1; r <= part.rows; ++r) X.indptr.push_back(base + part.indptr[r]);
        X.indices.insert(X.indices.end(), part.indices.begin(), part.indices.end());
        X.data.insert(X.data.end(), part.data.begin(), part.data.end());
        X.rows += part.rows;
    }
    return X;
}

/// Tokens per counting chunk for this context (0: one pass).
int64_t chunk_budget(const Context& ctx, const VectorizeOptions& opts, const Tokenized& tok) {
    if (opts.chunk_tokens < 0) throw InputError("--chunk-tokens must be >= 0");
    int64_t budget = opts.chunk_tokens;
    if (budget == 0 && ctx.is_cuda()) budget = cuda_impl::count_chunk_tokens(ctx);
    const int64_t total = static_cast<int64_t>(tok.tokens.size());
    return budget > 0 && budget < total ? budget : 0;
}

/// Document frequencies and totals of T threads' documents (integers: exact). Each thread
/// counts into its own vocabulary-sized arrays, summed after, when those are no bigger than the
/// tokens. Otherwise (n-grams on many threads: millions of terms, and 16 threads would zero
/// and sum 16 such arrays) each thread files every (term, count) of its documents' distinct
/// terms into one bucket per term range, and each range is then summed by one thread.
class DfCounter {
public:
    DfCounter(int threads, int64_t V, int64_t tokens)
        : T_(threads), V_(V), per_thread_(int64_t(threads) * V <= std::max<int64_t>(tokens, 1)) {
        if (per_thread_) {
            df_t_.assign(T_, std::vector<int32_t>());
            tot_t_.assign(T_, std::vector<int64_t>());
        } else {
            buckets_.resize(size_t(T_) * T_);
        }
    }
    /// On thread t, before its first add().
    void start(int t) {
        if (!per_thread_) return;
        df_t_[t].assign(V_, 0);
        tot_t_[t].assign(V_, 0);
    }
    bool per_thread() const { return per_thread_; }
    /// Thread t's own arrays (per_thread() only), for the hot loops.
    int32_t* df_of(int t) { return df_t_[t].data(); }
    int64_t* total_of(int t) { return tot_t_[t].data(); }
    /// From thread t: one document holds `count` of `term`.
    void add(int t, int32_t term, int64_t count) {
        if (per_thread_) {
            df_t_[t][term] += 1;
            tot_t_[t][term] += count;
        } else {
            if (count > std::numeric_limits<int32_t>::max())
                throw InputError("vectorize: a document holds one term more than 2^31 times");
            buckets_[size_t(t) * T_ + size_t(int64_t(term) * T_ / V_)].push_back({term, int32_t(count)});
        }
    }
    void finish(std::vector<int32_t>& df, std::vector<int64_t>& total) {
        df.assign(V_, 0);
        total.assign(V_, 0);
        if (per_thread_) {
            for (int t = 0; t < T_; ++t)
                for (int64_t c = 0; c < V_; ++c) {
                    df[c] += df_t_[t][c];
                    total[c] += tot_t_[t][c];
                }
            return;
        }
#pragma omp parallel for num_threads(T_) schedule(static, 1)
        for (int b = 0; b < T_; ++b)
            for (int t = 0; t < T_; ++t)
                for (const Entry& e : buckets_[size_t(t) * T_ + b]) {
                    df[e.term] += 1;
                    total[e.term] += e.count;
                }
    }

private:
    struct Entry {
        int32_t term, count;
    };
    int T_;
    int64_t V_;
    bool per_thread_;
    std::vector<std::vector<int32_t>> df_t_;
    std::vector<std::vector<int64_t>> tot_t_;
    std::vector<std::vector<Entry>> buckets_;  // [thread][term range]
};

/// TF-IDF rows, the one definition both CPU routes use: `terms(d, f)` calls f(term, count)
/// for each distinct term of document d, terms ascending. Columns with keep[term] >= 0 are
/// kept (renumbered; keep is monotone, so they stay ascending), weighted tf * idf in double
/// and l2-normalised.
template <class Terms>
CsrMatrix weigh_rows(const Context& ctx, int64_t n, const std::vector<int32_t>& keep,
                     int32_t n_kept, const std::vector<double>& idf, bool sublinear_tf,
                     Terms&& terms) {
    const int T = std::max(1, ctx.cpu_threads());
    CsrMatrix X;
    X.rows = n;
    X.cols = n_kept;
    std::vector<int64_t> row_nnz(n);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1024)
    for (int64_t d = 0; d < n; ++d) {
        int64_t c = 0;
        terms(d, [&](int32_t term, int64_t) { c += keep[term] >= 0; });
        row_nnz[d] = c;
    }
    X.indptr.assign(n + 1, 0);
    for (int64_t d = 0; d < n; ++d) X.indptr[d + 1] = X.indptr[d] + row_nnz[d];
    X.indices.resize(X.indptr[n]);
    X.data.resize(X.indptr[n]);
    ParallelErrors errors;  // a thread's bad_alloc rethrown after the region
#pragma omp parallel num_threads(T)
    {
        std::vector<double> w;
#pragma omp for schedule(dynamic, 1024)
        for (int64_t d = 0; d < n; ++d) {
            errors.run([&] {
                w.clear();
                const int64_t o = X.indptr[d];
                double sumsq = 0.0;
                terms(d, [&](int32_t term, int64_t count) {
                    const int32_t c = keep[term];
                    if (c < 0) return;
                    double tf = static_cast<float>(count);
                    if (sublinear_tf) tf = 1.0 + std::log(tf);
                    const double v = tf * idf[c];
                    sumsq += v * v;
                    X.indices[o + static_cast<int64_t>(w.size())] = c;
                    w.push_back(v);
                });
                const double norm = std::sqrt(sumsq);
                for (size_t i = 0; i < w.size(); ++i)
                    X.data[o + i] = static_cast<float>(norm > 0 ? w[i] / norm : w[i]);
            });
        }
    }
    errors.rethrow();
    return X;
}

}  // namespace

namespace cpu_impl {

TermCounts count_terms(const Context& ctx, const Tokenized& tok) {
    return count_terms(ctx, TokenSpan::of(tok, 0, static_cast<int64_t>(tok.doc_ptr.size()) - 1));
}

TermCounts count_terms(const Context& ctx, const TokenSpan& tok) {
    const int64_t n = tok.documents();
    const int64_t V = tok.vocab_size;
    const int T = std::max(1, ctx.cpu_threads());
    TermCounts out;
    auto& X = out.counts;
    X.rows = n;
    X.cols = V;
    // Pass 1: each document's tokens sorted (in a copy), and its distinct terms counted.
    std::vector<int32_t> sorted(tok.tokens, tok.tokens + tok.size());
    std::vector<int64_t> row_nnz(n, 0);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1024)
    for (int64_t d = 0; d < n; ++d) {
        auto b = sorted.begin() + tok.doc_ptr[d], e = sorted.begin() + tok.doc_ptr[d + 1];
        std::sort(b, e);
        int64_t distinct = 0;
        for (auto it = b; it != e; ++it) distinct += (it == b || *it != *(it - 1));
        row_nnz[d] = distinct;
    }
    X.indptr.assign(n + 1, 0);
    for (int64_t d = 0; d < n; ++d) X.indptr[d + 1] = X.indptr[d] + row_nnz[d];
    X.indices.resize(X.indptr[n]);
    X.data.resize(X.indptr[n]);
    // Pass 2: columns and counts, document frequencies and totals.
    DfCounter counter(T, V, tok.size());
    std::vector<std::exception_ptr> error(T);  // no exception may leave the parallel region
#pragma omp parallel num_threads(T)
    {
        const int t = omp_get_thread_num();
        counter.start(t);
#pragma omp for schedule(dynamic, 1024)
        for (int64_t d = 0; d < n; ++d) {
            const int32_t* s = sorted.data() + tok.doc_ptr[d];
            const int64_t len = tok.doc_ptr[d + 1] - tok.doc_ptr[d];
            int64_t w = X.indptr[d];
            for (int64_t i = 0; i < len;) {
                int64_t j = i;
                while (j < len && s[j] == s[i]) ++j;
                X.indices[w] = s[i];
                X.data[w] = static_cast<float>(j - i);
                try {
                    counter.add(t, s[i], j - i);
                } catch (...) {
                    error[t] = std::current_exception();
                }
                ++w;
                i = j;
            }
        }
    }
    for (const auto& e : error)
        if (e) std::rethrow_exception(e);
    counter.finish(out.df, out.total);
    return out;
}

CsrMatrix tfidf(const Context& ctx, const CsrMatrix& counts, const std::vector<int32_t>& keep,
                int32_t n_kept, const std::vector<double>& idf, bool sublinear_tf) {
    return weigh_rows(ctx, counts.rows, keep, n_kept, idf, sublinear_tf, [&](int64_t d, auto&& f) {
        for (int64_t p = counts.indptr[d]; p < counts.indptr[d + 1]; ++p)
            f(counts.indices[p], static_cast<int64_t>(counts.data[p]));
    });
}

void count_sorted(const Context& ctx, Tokenized& tok, std::vector<int32_t>& df,
                  std::vector<int64_t>& total) {
    const int64_t n = static_cast<int64_t>(tok.doc_ptr.size()) - 1;
    const int64_t V = tok.vocab_size();
    const int T = std::max(1, ctx.cpu_threads());
    DfCounter counter(T, V, static_cast<int64_t>(tok.tokens.size()));
    std::vector<std::exception_ptr> error(T);  // no exception may leave the parallel region
#pragma omp parallel num_threads(T)
    {
        const int t = omp_get_thread_num();
        counter.start(t);
        int32_t* dft = counter.per_thread() ? counter.df_of(t) : nullptr;
        int64_t* tot = counter.per_thread() ? counter.total_of(t) : nullptr;
#pragma omp for schedule(dynamic, 1024)
        for (int64_t d = 0; d < n; ++d) {
            int32_t* b = tok.tokens.data() + tok.doc_ptr[d];
            const int64_t len = tok.doc_ptr[d + 1] - tok.doc_ptr[d];
            std::sort(b, b + len);
            for (int64_t i = 0; i < len;) {
                int64_t j = i + 1;
                while (j < len && b[j] == b[i]) ++j;
                if (dft) {
                    dft[b[i]] += 1;
                    tot[b[i]] += j - i;
                } else {
                    try {
                        counter.add(t, b[i], j - i);
                    } catch (...) {
                        error[t] = std::current_exception();
                    }
                }
                i = j;
            }
        }
    }
    for (const auto& e : error)
        if (e) std::rethrow_exception(e);
    counter.finish(df, total);
}

CsrMatrix tfidf_sorted(const Context& ctx, const Tokenized& tok, const std::vector<int32_t>& keep,
                       int32_t n_kept, const std::vector<double>& idf, bool sublinear_tf) {
    const int32_t* tokens = tok.tokens.data();
    const int64_t n = static_cast<int64_t>(tok.doc_ptr.size()) - 1;
    return weigh_rows(ctx, n, keep, n_kept, idf, sublinear_tf, [&](int64_t d, auto&& f) {
        const int64_t end = tok.doc_ptr[d + 1];
        for (int64_t i = tok.doc_ptr[d]; i < end;) {  // runs of equal (sorted) tokens
            int64_t j = i + 1;
            while (j < end && tokens[j] == tokens[i]) ++j;
            f(tokens[i], j - i);
            i = j;
        }
    });
}

}  // namespace cpu_impl

Vectorized vectorize(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts) {
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    if (corpus.size() == 0) throw InputError("vectorize: the corpus is empty (0 documents)");
    // A device error (out of memory above all) says which part of vectorizing met it.
    const char* phase = "tokenising";
    try {
        Tokenized tok = detail::tokenize_terms(ctx, corpus, opts);
        auto t1 = clock::now();
        phase = "counting and weighting";
        // The CPU sorts each document's tokens in place and weights straight from them (the same
        // matrix, without the intermediate one), unless chunks are asked for. The GPU counts and
        // weights with the counts kept on the device when the tokens fit in one chunk, else into
        // term-count matrices, in chunks that fit its memory.
        const int64_t budget = chunk_budget(ctx, opts, tok);
        const bool direct = !ctx.is_cuda() && budget == 0;
        const bool on_device = ctx.is_cuda() && budget == 0;
        const int64_t n = static_cast<int64_t>(tok.doc_ptr.size()) - 1;
        Vectorized v;
        // Which columns survive and their idf, from every term's df and total.
        auto choose = [&](const std::vector<int32_t>& df, const std::vector<int64_t>& total,
                          std::vector<int32_t>& keep, int32_t& n_kept, std::vector<double>& idf) {
            keep = prune_terms(df, total, n, opts, n_kept);
            std::vector<int64_t> kept(n_kept);
            for (size_t c = 0; c < keep.size(); ++c)
                if (keep[c] >= 0) kept[keep[c]] = static_cast<int64_t>(c);
            v.vocabulary.resize(n_kept);
            v.df.resize(n_kept);
            // The kept terms' texts (n-grams' made now, on every thread).
            ParallelErrors errors;  // a thread's bad_alloc rethrown after the region
#pragma omp parallel for num_threads(std::max(1, ctx.cpu_threads())) schedule(dynamic, 1024)
            for (int32_t i = 0; i < n_kept; ++i) {
                errors.run([&] {
                    v.vocabulary[i] = tok.term(kept[i], /*take=*/true);
                    v.df[i] = df[kept[i]];
                });
            }
            errors.rethrow();
            v.idf = smooth_idf(v.df, n);
            idf = v.idf;
        };
        if (on_device) {
            v.X = cuda_impl::count_and_weigh(ctx, TokenSpan::of(tok, 0, n), choose, opts.sublinear_tf);
        } else {
            ChunkedCounts cc;
            if (direct)
                cpu_impl::count_sorted(ctx, tok, cc.df, cc.total);
            else
                cc = count_in_chunks(ctx, tok, budget > 0 ? budget : INT64_MAX, opts.progress);
            int32_t n_kept = 0;
            std::vector<int32_t> keep;
            std::vector<double> idf;
            choose(cc.df, cc.total, keep, n_kept, idf);
            v.X = direct ? cpu_impl::tfidf_sorted(ctx, tok, keep, n_kept, v.idf, opts.sublinear_tf)
                         : weigh_chunks(ctx, cc, keep, n_kept, v.idf, opts.sublinear_tf);
        }
        v.sublinear_tf = opts.sublinear_tf;
        v.pipeline = pipeline_string(opts);
        v.stop_words = opts.stop_words;
        v.device = device_name(ctx.device());
        auto t2 = clock::now();
        if (opts.progress) {
            auto s = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
            std::fprintf(stderr,
                         "vectorize: %lld x %d matrix, %lld non-zeros; tokenise %.2f s, count+weight "
                         "%.2f s on %s (%.1f MB/s of text)\n",
                         static_cast<long long>(n), static_cast<int>(v.X.cols), static_cast<long long>(v.X.nnz()), s(t0, t1),
                         s(t1, t2), v.device.c_str(), tok.text_bytes / 1e6 / std::max(1e-9, s(t0, t2)));
        }
        return v;
    } catch (const DeviceCapacityError& e) {
        throw DeviceCapacityError(std::string("vectorize (") + phase + " on the GPU): " + e.what());
    } catch (const DeviceError& e) {
        throw DeviceError(std::string("vectorize (") + phase + " on the GPU): " + e.what());
    }
}

Vectorized vectorize_fixed(const Context& ctx, const Corpus& corpus,
                           const std::vector<std::string>& vocabulary,
                           const std::vector<double>& idf, const VectorizeOptions& opts) {
    if (!idf.empty() && idf.size() != vocabulary.size())
        throw InputError("vectorize: the vocabulary has " + std::to_string(vocabulary.size()) +
                         " terms but " + std::to_string(idf.size()) + " idf values");
    if (vocabulary.empty()) throw InputError("vectorize: the fixed vocabulary is empty");
    if (!std::is_sorted(vocabulary.begin(), vocabulary.end()))
        throw InputError("vectorize: a fixed vocabulary must be sorted bytewise");
    Tokenized tok = detail::tokenize_terms(ctx, corpus, opts);
    const int64_t budget = chunk_budget(ctx, opts, tok);
    const ChunkedCounts cc = count_in_chunks(ctx, tok, budget > 0 ? budget : INT64_MAX, opts.progress);
    // Both vocabularies are sorted, so the mapping keeps columns ascending within rows.
    std::vector<int32_t> keep(tok.vocab_size(), -1);
    for (int64_t c = 0; c < tok.vocab_size(); ++c) {
        const std::string term = tok.term(c);
        auto it = std::lower_bound(vocabulary.begin(), vocabulary.end(), term);
        if (it != vocabulary.end() && *it == term) keep[c] = int32_t(it - vocabulary.begin());
    }
    const int32_t n_kept = static_cast<int32_t>(vocabulary.size());
    Vectorized v;
    v.vocabulary = vocabulary;
    v.idf = idf;
    if (v.idf.empty()) {  // no idf given: this corpus's own, as scikit-learn's vocabulary=
        std::vector<int32_t> df(vocabulary.size(), 0);
        for (size_t c = 0; c < keep.size(); ++c)
            if (keep[c] >= 0) df[keep[c]] = cc.df[c];
        v.idf = smooth_idf(df, static_cast<int64_t>(tok.doc_ptr.size()) - 1);
    }
    v.X = weigh_chunks(ctx, cc, keep, n_kept, v.idf, opts.sublinear_tf);
    v.sublinear_tf = opts.sublinear_tf;
    v.pipeline = pipeline_string(opts);
    v.stop_words = opts.stop_words;
    v.df.assign(vocabulary.size(), 0);
    for (int32_t c : v.X.indices) v.df[c]++;
    v.device = device_name(ctx.device());
    return v;
}

std::string pipeline_string(const VectorizeOptions& o) {
    const auto& t = o.tokenizer;
    auto b = [](bool v) { return v ? "1" : "0"; };
    const char* urls = t.urls == TokenizerOptions::Urls::Domain ? "domain"
                       : t.urls == TokenizerOptions::Urls::Drop ? "drop"
                                                                : "keep";
    return std::string("sklearn=") + b(t.sklearn_compatible) + " strip_accents=" + b(t.strip_accents) +
           " urls=" + urls + " mentions=" + b(t.mentions) + " hashtags=" + b(t.hashtags) +
           " numbers=" + b(t.numbers) + " emoji=" + b(t.emoji) + " hyphens=" + b(t.hyphens) +
           " elisions=" + b(t.elisions) + " contractions=" + b(t.contractions) + " ngram=" + std::to_string(o.ngram_min) + ":" +
           std::to_string(o.ngram_max) + " stem=" + (o.stem.empty() ? "-" : o.stem) +
           " sublinear=" + b(o.sublinear_tf);
}

void apply_pipeline_string(std::string_view line, VectorizeOptions& o) {
    auto& t = o.tokenizer;
    size_t p = 0;
    while (p < line.size()) {
        size_t e = line.find(' ', p);
        std::string_view kv = line.substr(p, e == std::string_view::npos ? e : e - p);
        p = e == std::string_view::npos ? line.size() : e + 1;
        if (kv.empty()) continue;
        size_t eq = kv.find('=');
        if (eq == std::string_view::npos)
            throw InputError("vectorize settings: '" + std::string(kv) + "' is not key=value");
        std::string_view k = kv.substr(0, eq), v = kv.substr(eq + 1);
        auto flag = [&](bool& dst) {
            if (v != "0" && v != "1")
                throw InputError("vectorize settings: " + std::string(k) + "=" + std::string(v));
            dst = v == "1";
        };
        if (k == "sklearn") flag(t.sklearn_compatible);
        else if (k == "strip_accents") flag(t.strip_accents);
        else if (k == "urls") t.urls = TokenizerOptions::parse_urls(v);
        else if (k == "mentions") flag(t.mentions);
        else if (k == "hashtags") flag(t.hashtags);
        else if (k == "numbers") flag(t.numbers);
        else if (k == "emoji") flag(t.emoji);
        else if (k == "hyphens") flag(t.hyphens);
        else if (k == "elisions") flag(t.elisions);
        else if (k == "contractions") flag(t.contractions);
        else if (k == "sublinear") flag(o.sublinear_tf);
        else if (k == "stem") o.stem = v == "-" ? "" : std::string(v);
        else if (k == "ngram") {
            int a = 0, b2 = 0;
            if (std::sscanf(std::string(v).c_str(), "%d:%d", &a, &b2) != 2 || a < 1 || b2 < a)
                throw InputError("vectorize settings: ngram=" + std::string(v));
            o.ngram_min = a;
            o.ngram_max = b2;
        } else {
            throw InputError("vectorize settings: unknown key '" + std::string(k) + "'");
        }
    }
}

void write_vocabulary_csv(const Vectorized& v, const std::string& path) {
    std::string out = "term,df,idf\n";
    char num[64];
    for (size_t c = 0; c < v.vocabulary.size(); ++c) {
        append_csv_field(out, v.vocabulary[c]);
        std::snprintf(num, sizeof num, ",%d,%.17g\n", v.df[c], v.idf[c]);
        out += num;
    }
    write_file_atomic(path, out);
}

void read_vocabulary_csv(const std::string& path, std::vector<std::string>& terms,
                         std::vector<double>& idf) {
    std::ifstream in = open_input(path, "cannot open the vocabulary " + path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    // A byte-order mark (spreadsheets write one) is not part of the first field.
    text.erase(0, bom_length(text));
    // RFC 4180 fields; the first row is a header when its first field is "term".
    std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
    std::vector<size_t> row_line(1, 1);
    size_t line = 1, quote_line = 0;  // quote_line: where the open quoted field starts
    bool quoted = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char ch = text[i];
        auto& field = rows.back().back();
        if (quoted) {
            if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field.push_back('"');
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                if (ch == '\n') ++line;
                field.push_back(ch);
            }
        } else if (ch == '"') {
            quoted = true;
            quote_line = line;
        } else if (ch == ',') {
            rows.back().emplace_back();
        } else if (ch == '\n' || ch == '\r') {
            if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            ++line;
            rows.emplace_back(1);
            row_line.push_back(line);
        } else {
            field.push_back(ch);
        }
    }
    if (quoted)
        throw InputError(path + ":" + std::to_string(quote_line) + ": unterminated quoted field");
    size_t first = (!rows.empty() && rows[0][0] == "term") ? 1 : 0;
    bool with_idf = first == 1 && rows[0].size() >= 3 && rows[0][2] == "idf";
    std::vector<std::tuple<std::string, size_t, double>> entries;  // term, line, idf
    for (size_t r = first; r < rows.size(); ++r) {
        if (rows[r].size() == 1 && rows[r][0].empty()) continue;  // blank line
        if (rows[r][0].empty())
            throw InputError(path + ":" + std::to_string(row_line[r]) + ": empty term");
        const size_t bad = utf8_error_at(rows[r][0]);
        if (bad != std::string::npos)
            throw InputError(path + ":" + std::to_string(row_line[r]) +
                             ": invalid UTF-8 in the term (byte " + std::to_string(bad + 1) + ")");
        double w = 0;
        if (with_idf) {
            char* end = nullptr;
            const std::string& f = rows[r].size() > 2 ? rows[r][2] : std::string();
            w = std::strtod(f.c_str(), &end);
            if (f.empty() || *end != '\0' || !(w > 0) || !std::isfinite(w))
                throw InputError(path + ":" + std::to_string(row_line[r]) + ": bad idf '" + f + "'");
        }
        entries.emplace_back(rows[r][0], row_line[r], w);
    }
    if (entries.empty()) throw InputError(path + ": no terms");
    std::sort(entries.begin(), entries.end());  // by term, then line
    for (size_t i = 1; i < entries.size(); ++i)
        if (std::get<0>(entries[i]) == std::get<0>(entries[i - 1]))
            throw InputError(path + ":" + std::to_string(std::get<1>(entries[i])) + ": term '" +
                             std::get<0>(entries[i]) + "' appears twice (first at line " +
                             std::to_string(std::get<1>(entries[i - 1])) + ")");
    terms.clear();
    idf.clear();
    for (auto& [t, l, w] : entries) {
        terms.push_back(t);
        if (with_idf) idf.push_back(w);
    }
}

}  // namespace tmine
