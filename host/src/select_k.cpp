// Choosing k: one fit per k of a range, scored by relative error and coherence
// (host/include/tmine/interpret.hpp, docs/report.md "Choosing k").
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "tmine/distributed.hpp"
#include "tmine/error.hpp"
#include "tmine/interpret.hpp"

namespace tmine {

namespace {
int parse_int(std::string_view s, const char* flag, std::string_view whole) {
    int v = 0;
    size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9' && v < 100000000; ++i) v = v * 10 + (s[i] - '0');
    if (s.empty() || i != s.size())
        throw InputError(std::string(flag) + " '" + std::string(whole) +
                         "': expected K or FROM:TO[:STEP] with positive integers");
    return v;
}
std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}
}  // namespace

std::vector<int> parse_k_list(std::string_view s, const char* flag) {
    std::vector<std::string_view> parts;
    for (size_t p = 0;;) {
        size_t q = s.find(':', p);
        parts.push_back(s.substr(p, q == std::string_view::npos ? std::string_view::npos : q - p));
        if (q == std::string_view::npos) break;
        p = q + 1;
    }
    if (parts.size() > 3)
        throw InputError(std::string(flag) + " '" + std::string(s) +
                         "': expected K or FROM:TO[:STEP]");
    const int from = parse_int(parts[0], flag, s);
    const int to = parts.size() > 1 ? parse_int(parts[1], flag, s) : from;
    const int step = parts.size() > 2 ? parse_int(parts[2], flag, s) : 1;
    if (from < 1) throw InputError(std::string(flag) + " '" + std::string(s) + "': k must be at least 1");
    if (to < from)
        throw InputError(std::string(flag) + " '" + std::string(s) + "': TO must be >= FROM");
    if (step < 1) throw InputError(std::string(flag) + " '" + std::string(s) + "': STEP must be >= 1");
    const int64_t count = (int64_t(to) - from) / step + 1;
    if (count > 200)
        throw InputError(std::string(flag) + " '" + std::string(s) + "': " + std::to_string(count) +
                         " values of k (at most 200; use a larger STEP)");
    std::vector<int> ks;
    for (int k = from; k <= to; k += step) ks.push_back(k);
    return ks;
}

KSelection select_k(const Context& ctx, const CsrMatrix& X_in, const std::vector<int>& ks,
                    const NmfOptions& opts, NmfModel& best, const KSelectionOptions& ko,
                    const RowSplit* split_in) {
    using Clock = std::chrono::steady_clock;
    const FitRows fit_rows(X_in, split_in);  // a distributed fit given the whole matrix: its rows
    const CsrMatrix& X = fit_rows.X();
    const RowSplit* split = fit_rows.split();
    if (ks.empty()) throw InputError("-k: no value of k to fit");
    if (!std::is_sorted(ks.begin(), ks.end()) || std::adjacent_find(ks.begin(), ks.end()) != ks.end())
        throw InputError("-k: the values of k must be ascending and distinct");
    if (ko.coherence.top_n < 2) throw InputError("--k-coherence-top must be at least 2");
    check_k(X, ks.back(), split);
    if (int(opts.seed_terms.size()) > ks.front())
        throw InputError("--seed-terms: " + std::to_string(opts.seed_terms.size()) +
                         " guided topics but the smallest k is " + std::to_string(ks.front()));
    if (opts.checkpoint_every > 0)
        throw InputError("-k FROM:TO cannot be combined with --checkpoint-every (checkpoint one fit)");
    NmfOptions o = opts;
    o.k = ks.back();
    validate(o);
    if (ctx.is_cuda())  // the largest k's fit, before the shared SVD
        cuda_impl::check_nmf_memory(ctx, X.rows, X.cols, X.nnz(), ks.back(), opts.loss);
    const int64_t n = split ? split->rows() : X.rows;

    KSelection sel;
    sel.coherence_top = ko.coherence.top_n;
    sel.svd_k = opts.init != NmfInit::Random ? ks.back() : 0;
    TruncatedSvd svd;
    const bool share_svd = opts.init != NmfInit::Random;
    if (share_svd) {  // a distributed fit: every process, on its rows
        auto t0 = Clock::now();
        if (ko.progress)  // seconds on a large matrix: say what the wait is for
            std::fprintf(stderr, "topics: truncated SVD (k=%d) of the %lld x %lld matrix, shared by %zu fits...\n",
                         ks.back(), static_cast<long long>(n), static_cast<long long>(X.cols), ks.size());
        svd = truncated_svd(ctx, X, ks.back(), opts.seed, split);
        if (ko.progress)
            std::fprintf(stderr, "topics: truncated SVD (k=%d) for %zu fits in %.2f s\n", ks.back(),
                         ks.size(), std::chrono::duration<double>(Clock::now() - t0).count());
    }
    int best_index = -1;
    for (int k : ks) {
        auto t0 = Clock::now();
        o.k = k;
        NmfModel m = nmf(ctx, X, o, share_svd ? &svd : nullptr, split);
        // Every process of a distributed fit has the same H: each counts on its rows, and the
        // counts are summed.
        const Coherence c = coherence(ctx, X, top_term_ids(m.H, k, m.m, ko.coherence.top_n), split);
        KCandidate cand;
        cand.k = k;
        cand.iterations = m.iterations;
        cand.stop_reason = m.stop_reason;
        cand.relative_error = m.relative_error;
        cand.npmi = c.npmi_mean;
        cand.umass = c.umass_mean;
        cand.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        if (ko.progress)
            std::fprintf(stderr,
                         "topics: k=%d: %d iterations, relative error %.5f, NPMI %.4f, UMass %.4f "
                         "(%.1f s)\n",
                         k, cand.iterations, cand.relative_error, cand.npmi, cand.umass, cand.seconds);
        sel.candidates.push_back(cand);
        if (best_index < 0 || cand.npmi > sel.candidates[best_index].npmi) {
            best_index = int(sel.candidates.size()) - 1;
            best = std::move(m);
        }
    }
    const KCandidate& b = sel.candidates[best_index];
    sel.recommended = b.k;
    sel.reason = "k=" + std::to_string(b.k) + " has the highest mean NPMI coherence (" +
                 fmt("%.4f", b.npmi) + ", top " + std::to_string(sel.coherence_top) +
                 " terms) of the " + std::to_string(sel.candidates.size()) + " values tried";
    int second = -1;
    for (int i = 0; i < int(sel.candidates.size()); ++i)
        if (i != best_index && (second < 0 || sel.candidates[i].npmi > sel.candidates[second].npmi))
            second = i;
    if (second >= 0)
        sel.reason += "; next best k=" + std::to_string(sel.candidates[second].k) + " (" +
                      fmt("%.4f", sel.candidates[second].npmi) + ")";
    sel.reason += "; its relative error is " + fmt("%.4f", b.relative_error);
    if (sel.candidates.size() > 2 && (b.k == ks.front() || b.k == ks.back()))
        sel.reason += std::string("; it is the ") + (b.k == ks.front() ? "smallest" : "largest") +
                      " k tried, so coherence may keep " +
                      (b.k == ks.front() ? "rising below it: on short, generic posts the broadest "
                                           "topics score best, so also read the curve"
                                         : "rising above it: try a larger range");
    if (sel.candidates.size() > 1)
        sel.reason += " (k=" + std::to_string(sel.candidates.front().k) + ": " +
                      fmt("%.4f", sel.candidates.front().relative_error) + ", k=" +
                      std::to_string(sel.candidates.back().k) + ": " +
                      fmt("%.4f", sel.candidates.back().relative_error) + ")";
    return sel;
}

}  // namespace tmine
