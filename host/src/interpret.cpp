// Interpretation of a fitted model: coherence, representative posts, topic clusters, topics
// over time, emerging topics, NMI. The CPU reference; see host/include/tmine/interpret.hpp.
#include "tmine/interpret.hpp"

#include <omp.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <unordered_set>

#include "tmine/distributed.hpp"
#include "tmine/error.hpp"

namespace tmine {

// ---------------------------------------------------------------- coherence

namespace {
// The counts are a dense t x t table (per CPU thread): bounded so that it stays small.
constexpr size_t kMaxCoherenceTerms = 8192;

void check_terms(const CsrMatrix& X, const std::vector<int32_t>& terms,
                 std::vector<int32_t>& slot) {
    if (terms.size() > kMaxCoherenceTerms)
        throw InputError("coherence: " + std::to_string(terms.size()) +
                         " distinct terms over all topics (at most " +
                         std::to_string(kMaxCoherenceTerms) + "); use fewer top terms per topic");
    slot.assign(size_t(X.cols), -1);
    for (size_t i = 0; i < terms.size(); ++i) {
        if (terms[i] < 0 || terms[i] >= X.cols)
            throw InputError("coherence: term id " + std::to_string(terms[i]) +
                             " is not a column of the matrix (" + std::to_string(X.cols) +
                             " columns)");
        if (slot[terms[i]] >= 0)
            throw InputError("coherence: term id " + std::to_string(terms[i]) + " listed twice");
        slot[terms[i]] = int32_t(i);
    }
}
}  // namespace

namespace cpu_impl {
Cooccurrence cooccurrence(const Context& ctx, const CsrMatrix& X,
                          const std::vector<int32_t>& terms) {
    std::vector<int32_t> slot;
    check_terms(X, terms, slot);
    const size_t t = terms.size();
    Cooccurrence c;
    c.documents = X.rows;
    c.terms = terms;
    c.df.assign(t, 0);
    c.joint.assign(t * t, 0);
    const int T = std::max(1, ctx.cpu_threads());
    std::vector<std::vector<int64_t>> local(T);
#pragma omp parallel num_threads(T)
    {
        auto& J = local[omp_get_thread_num()];
        J.assign(t * t, 0);
        std::vector<int32_t> present;
#pragma omp for schedule(dynamic, 4096)
        for (int64_t d = 0; d < X.rows; ++d) {
            present.clear();
            for (int64_t e = X.indptr[d]; e < X.indptr[d + 1]; ++e)
                if (X.data[e] != 0.0f && slot[X.indices[e]] >= 0)
                    present.push_back(slot[X.indices[e]]);
            for (size_t a = 0; a < present.size(); ++a)
                for (size_t b = a; b < present.size(); ++b) {
                    int32_t i = std::min(present[a], present[b]),
                            j = std::max(present[a], present[b]);
                    ++J[size_t(i) * t + j];
                }
        }
    }
    for (const auto& J : local)
        for (size_t i = 0; i < t * t; ++i) c.joint[i] += J[i];
    for (size_t i = 0; i < t; ++i) {
        c.df[i] = c.joint[i * t + i];
        for (size_t j = i + 1; j < t; ++j) c.joint[j * t + i] = c.joint[i * t + j];
    }
    return c;
}
}  // namespace cpu_impl

Cooccurrence cooccurrence(const Context& ctx, const CsrMatrix& X,
                          const std::vector<int32_t>& terms) {
    if (ctx.is_cuda()) {
        std::vector<int32_t> slot;
        check_terms(X, terms, slot);
        // Names Context::cuda() here so that a static link pulls context.cpp out of tmine_core
        // before libtmine_kernels (whose coherence twin needs it) is scanned.
        (void)&ctx.cuda();
        return cuda_impl::cooccurrence(ctx, X, terms);
    }
    return cpu_impl::cooccurrence(ctx, X, terms);
}

Coherence coherence(const Context& ctx, const CsrMatrix& X,
                    const std::vector<std::vector<int32_t>>& topics, const RowSplit* split) {
    // The distinct terms of every topic, counted once.
    std::vector<int32_t> terms;
    std::map<int32_t, int> index;
    for (const auto& tp : topics)
        for (int32_t id : tp)
            if (index.emplace(id, int(terms.size())).second) terms.push_back(id);
    Cooccurrence c = cooccurrence(ctx, X, terms);
    if (split) {  // this process's rows: the whole matrix's counts are the sums (exact in double below 2^53)
        std::vector<double> counts;
        counts.reserve(c.joint.size() + c.df.size() + 1);
        counts.push_back(double(c.documents));
        for (int64_t v : c.df) counts.push_back(double(v));
        for (int64_t v : c.joint) counts.push_back(double(v));
        processes::sum(counts.data(), int64_t(counts.size()));
        size_t at = 0;
        c.documents = int64_t(counts[at++]);
        for (auto& v : c.df) v = int64_t(counts[at++]);
        for (auto& v : c.joint) v = int64_t(counts[at++]);
    }
    constexpr double kEps = 1e-12;  // gensim.topic_coherence.direct_confirmation_measure.EPSILON
    const double N = double(c.documents);
    Coherence out;
    out.top_n = 0;
    for (const auto& tp : topics) out.top_n = std::max(out.top_n, int(tp.size()));
    for (const auto& tp : topics) {
        double npmi = 0, umass = 0;
        int64_t n_npmi = 0, n_umass = 0;
        for (size_t i = 0; i < tp.size(); ++i)
            for (size_t j = 0; j < tp.size(); ++j) {
                if (i == j) continue;
                const int a = index[tp[i]], b = index[tp[j]];
                const double da = double(c.df[a]), db = double(c.df[b]);
                const double co = double(c.both(a, b));
                if (da == 0 || db == 0) continue;  // a term in no document: no evidence
                // c_npmi, segmentation s_one_one (every ordered pair)
                const double numerator = co / N + kEps;
                const double lr = std::log(numerator / ((da / N) * (db / N)));
                npmi += lr / -std::log(co / N + kEps);
                ++n_npmi;
                // u_mass, segmentation s_one_pre: (w_i, w_j) with j < i, conditioned on w_j
                if (j < i) {
                    umass += std::log((co / N + kEps) / (db / N));
                    ++n_umass;
                }
            }
        out.npmi.push_back(n_npmi ? npmi / double(n_npmi) : 0.0);
        out.umass.push_back(n_umass ? umass / double(n_umass) : 0.0);
        out.scored.push_back(n_npmi > 0);
    }
    // the means of the scored topics (a topic of fewer than two terms has no pair to score)
    auto mean = [&](const std::vector<double>& v) {
        double s = 0;
        int64_t count = 0;
        for (size_t t = 0; t < v.size(); ++t)
            if (out.scored[t]) s += v[t], ++count;
        return count ? s / double(count) : 0.0;
    };
    out.npmi_mean = mean(out.npmi);
    out.umass_mean = mean(out.umass);
    return out;
}

std::vector<std::vector<int32_t>> top_term_ids(const TopicModel& model, int top_n) {
    return top_term_ids(model.nmf.H, model.nmf.k, model.nmf.m, top_n);
}

std::vector<std::vector<int32_t>> top_term_ids(const std::vector<float>& H, int k, int64_t m,
                                               int top_n) {
    TMINE_ASSERT(H.size() == size_t(k) * size_t(m), "top_term_ids: H is not k x m");
    std::vector<std::vector<int32_t>> out(k);
    for (int j = 0; j < k; ++j) out[j] = best_terms(H.data() + int64_t(j) * m, m, top_n);
    return out;
}

Coherence coherence(const Context& ctx, const CsrMatrix& X, const TopicModel& model,
                    const CoherenceOptions& opts) {
    if (X.cols != model.nmf.m)
        throw InputError("coherence: the matrix has " + std::to_string(X.cols) +
                         " terms but the model " + std::to_string(model.nmf.m));
    if (opts.top_n < 2) throw InputError("--coherence-top: the top terms must be at least 2");
    Coherence c = coherence(ctx, X, top_term_ids(model, opts.top_n));
    c.top_n = opts.top_n;
    return c;
}

// ---------------------------------------------------------------- representative posts

uint64_t near_duplicate_key(std::string_view text) { return near_duplicate_key(text, nullptr); }

uint64_t near_duplicate_key(std::string_view text, size_t* words) {
    // URLs out, then the tokenizer's lower-cased word runs joined by one space.
    std::string cleaned;
    cleaned.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        auto starts = [&](const char* p) { return text.compare(i, std::strlen(p), p) == 0; };
        if (starts("http://") || starts("https://") || starts("www.")) {
            while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) &&
                   text[i] != ')' && text[i] != ']')
                ++i;
            cleaned.push_back(' ');
            continue;
        }
        cleaned.push_back(text[i++]);
    }
    std::vector<std::string> toks;
    tokenize(cleaned, toks);
    if (words) *words = toks.size();
    if (toks.empty()) return 0;
    std::string norm;
    for (auto& t : toks) {
        if (!norm.empty()) norm.push_back(' ');
        norm += t;
    }
    uint64_t h = XXH64(norm.data(), norm.size(), 0);
    return h ? h : 1;
}

namespace {
std::string excerpt(std::string_view s, size_t max_chars) {
    if (s.size() <= max_chars) return std::string(s);
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return std::string(s.substr(0, cut)) + "\u2026";
}
}  // namespace

std::vector<std::vector<RepresentativePost>> representative_posts(
    const TopicModel& model, const TopicSummary& summary, const Corpus& corpus,
    const RepresentativeOptions& opts) {
    const int k = model.nmf.k;
    const int64_t n = model.nmf.n;
    if (int64_t(corpus.size()) != n)
        throw InputError("representative posts: the corpus has " + std::to_string(corpus.size()) +
                         " documents but the model " + std::to_string(n));
    std::vector<std::vector<int64_t>> rows(k);
    for (int64_t d = 0; d < n; ++d)
        if (summary.dominant[d] >= 0) rows[summary.dominant[d]].push_back(d);
    std::vector<std::vector<RepresentativePost>> out(k);
    std::unordered_set<uint64_t> seen;
    for (int j = 0; j < k; ++j) {
        auto& r = rows[j];
        auto w = [&](int64_t d) { return model.nmf.W[size_t(d) * k + j]; };
        std::stable_sort(r.begin(), r.end(), [&](int64_t a, int64_t b) { return w(a) > w(b); });
        // Posts of min_words words or more first, by weight: a post of one or two words that
        // are the topic's top terms has the largest weight and says the least ("just be
        // saucy"); shorter posts only when the longer ones run out.
        std::vector<std::pair<int64_t, uint64_t>> shorter;  // row, near-duplicate key
        auto take = [&](int64_t d) {
            RepresentativePost p;
            p.row = d;
            p.weight = w(d);
            p.id = std::string(corpus.ids[d]);
            p.author = std::string(corpus.authors[d]);
            p.source =
                corpus.source[d] < corpus.sources.size() ? corpus.sources[corpus.source[d]] : "";
            p.time = corpus.time[d];
            p.text = excerpt(corpus.text[d], opts.max_chars);
            out[j].push_back(std::move(p));
        };
        // The preference looks at the heaviest 5,000 posts (a topic of short posts does not
        // make every post of it tokenised); past them, any post, by weight, as before.
        std::unordered_set<uint64_t> short_keys;
        size_t pos = 0;
        const size_t preferred = std::min<size_t>(r.size(), 5000);
        for (; pos < preferred && int(out[j].size()) < opts.per_topic; ++pos) {
            const int64_t d = r[pos];
            size_t words = 0;
            const uint64_t key = near_duplicate_key(corpus.text[d], &words);
            if (key == 0 || seen.count(key)) continue;
            if (words < opts.min_words) {
                if (int(shorter.size()) < opts.per_topic && short_keys.insert(key).second) shorter.push_back({d, key});
                continue;
            }
            seen.insert(key);
            take(d);
        }
        for (const auto& [d, key] : shorter) {
            if (int(out[j].size()) >= opts.per_topic) break;
            if (!seen.insert(key).second) continue;
            take(d);
        }
        for (; pos < r.size() && int(out[j].size()) < opts.per_topic; ++pos) {
            const uint64_t key = near_duplicate_key(corpus.text[r[pos]]);
            if (key == 0 || !seen.insert(key).second) continue;
            take(r[pos]);
        }
    }
    return out;
}

// ---------------------------------------------------------------- topic clusters

TopicClusters cluster_topics(const TopicModel& model, const TopicSummary& summary, int groups) {
    const int k = model.nmf.k;
    const int64_t m = model.nmf.m;
    const float* H = model.nmf.H.data();
    std::vector<double> norm(k, 0.0);
    for (int i = 0; i < k; ++i) {
        for (int64_t c = 0; c < m; ++c) norm[i] += double(H[i * m + c]) * H[i * m + c];
        norm[i] = std::sqrt(norm[i]);
    }
    // Cosine distances between topics; a zero row is at distance 1 from everything.
    std::vector<double> D(size_t(k) * k, 0.0);
    for (int i = 0; i < k; ++i)
        for (int j = i + 1; j < k; ++j) {
            double dot = 0;
            for (int64_t c = 0; c < m; ++c) dot += double(H[i * m + c]) * H[j * m + c];
            double cs = norm[i] > 0 && norm[j] > 0 ? dot / (norm[i] * norm[j]) : 0.0;
            D[i * k + j] = D[j * k + i] = std::max(0.0, 1.0 - cs);
        }
    // Average linkage with the Lance-Williams update; node ids as scipy's linkage.
    TopicClusters out;
    std::vector<int> node(k), size(k, 1);
    std::vector<bool> alive(k, true);
    std::iota(node.begin(), node.end(), 0);
    for (int step = 0; step + 1 < k; ++step) {
        int bi = -1, bj = -1;
        double best = 0;
        for (int i = 0; i < k; ++i)
            for (int j = i + 1; j < k; ++j)
                if (alive[i] && alive[j] && (bi < 0 || D[i * k + j] < best)) {
                    best = D[i * k + j];
                    bi = i;
                    bj = j;
                }
        ClusterMerge mg;
        mg.a = std::min(node[bi], node[bj]);
        mg.b = std::max(node[bi], node[bj]);
        mg.distance = best;
        mg.size = size[bi] + size[bj];
        out.merges.push_back(mg);
        for (int c = 0; c < k; ++c)
            if (alive[c] && c != bi && c != bj)
                D[bi * k + c] = D[c * k + bi] =
                    (size[bi] * D[bi * k + c] + size[bj] * D[bj * k + c]) /
                    double(size[bi] + size[bj]);
        alive[bj] = false;
        size[bi] += size[bj];
        node[bi] = k + step;
    }
    // Cut: apply the first k - g merges.
    int g = groups > 0 ? groups : int(std::lround(std::sqrt(double(k))));
    g = std::clamp(g, 1, k);
    std::vector<int> parent(2 * k);
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) {
        return parent[x] == x ? x : parent[x] = find(parent[x]);
    };
    for (int s = 0; s < k - g; ++s) {
        parent[find(out.merges[s].a)] = k + s;
        parent[find(out.merges[s].b)] = k + s;
    }
    std::map<int, std::vector<int>> comps;
    for (int i = 0; i < k; ++i) comps[find(i)].push_back(i);
    for (auto& [root, members] : comps) {
        TopicGroup grp;
        grp.topics = members;
        std::vector<double> sum(m, 0.0);
        for (int t : members) {
            grp.size += summary.topics[t].size;
            if (norm[t] > 0)
                for (int64_t c = 0; c < m; ++c) sum[c] += H[t * m + c] / norm[t];
        }
        // the best terms of weight above 0, as a topic's label (an empty topic's group:
        // "(empty topic)")
        std::vector<int64_t> order;
        for (int64_t c = 0; c < m; ++c)
            if (sum[c] > 0) order.push_back(c);
        const int64_t top = std::min<int64_t>(12, int64_t(order.size()));
        std::partial_sort(
            order.begin(), order.begin() + top, order.end(),
            [&](int64_t a, int64_t b) { return sum[a] != sum[b] ? sum[a] > sum[b] : a < b; });
        std::vector<std::string> ranked;
        for (int64_t r = 0; r < top; ++r) ranked.push_back(model.vocabulary[order[r]]);
        grp.label = label_of_terms(ranked);
        out.groups.push_back(std::move(grp));
    }
    std::stable_sort(out.groups.begin(), out.groups.end(),
                     [](const TopicGroup& a, const TopicGroup& b) {
                         return a.size != b.size ? a.size > b.size : a.topics[0] < b.topics[0];
                     });
    for (size_t i = 0; i < out.groups.size(); ++i) out.groups[i].id = int(i);
    return out;
}

// ---------------------------------------------------------------- topics over time

TimeBin parse_time_bin(std::string_view s, const char* flag) {
    if (s == "day") return TimeBin::Day;
    if (s == "week") return TimeBin::Week;
    if (s == "month") return TimeBin::Month;
    throw InputError(std::string(flag) + ": expected day, week or month, got '" + std::string(s) +
                     "'");
}
const char* time_bin_name(TimeBin b) {
    return b == TimeBin::Day ? "day" : b == TimeBin::Week ? "week" : "month";
}

namespace {
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
// Howard Hinnant's civil-calendar algorithms (proleptic Gregorian, UTC).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = floor_div(y, 400);
    const unsigned yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + int64_t(doe) - 719468;
}
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const int64_t era = floor_div(z, 146097);
    const unsigned doe = unsigned(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = int64_t(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}
/// Bin index of a time: days since epoch, Monday of the week, or months since year 0.
int64_t bin_of(int64_t t, TimeBin by) {
    const int64_t day = floor_div(t, 86400);
    if (by == TimeBin::Day) return day;
    if (by == TimeBin::Week) return day - ((day % 7 + 7 + 3) % 7);  // 1970-01-01 was a Thursday
    int64_t y;
    unsigned m, d;
    civil_from_days(day, y, m, d);
    return y * 12 + (m - 1);
}
int64_t bin_start(int64_t b, TimeBin by) {
    if (by != TimeBin::Month) return b * 86400;
    return days_from_civil(floor_div(b, 12), unsigned(b - floor_div(b, 12) * 12) + 1, 1) * 86400;
}
int64_t next_bin(int64_t b, TimeBin by) { return b + (by == TimeBin::Week ? 7 : 1); }
std::string bin_label(int64_t b, TimeBin by) {
    char buf[80];
    int64_t y;
    unsigned m, d;
    if (by == TimeBin::Month) {
        std::snprintf(buf, sizeof buf, "%04lld-%02lld", (long long)floor_div(b, 12),
                      (long long)(b - floor_div(b, 12) * 12 + 1));
    } else if (by == TimeBin::Day) {
        civil_from_days(b, y, m, d);
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", (long long)y, m, d);
    } else {  // ISO week: the year of its Thursday
        civil_from_days(b + 3, y, m, d);
        const int64_t doy = b + 3 - days_from_civil(y, 1, 1);
        std::snprintf(buf, sizeof buf, "%04lld-W%02lld", (long long)y, (long long)(doy / 7 + 1));
    }
    return buf;
}
}  // namespace

namespace {
/// The series of the posts `in(d)` on the bins [lo, hi] of the corpus's dates (no bins when
/// lo > hi: no post has a date).
TimeSeries series_of(const TopicSummary& summary, TimeBin by, const std::vector<int64_t>& bins,
                     int64_t lo, int64_t hi, const std::function<bool(size_t)>& in) {
    TimeSeries ts;
    ts.by = by;
    ts.k = int(summary.topics.size());
    const size_t n = summary.dominant.size();
    for (size_t d = 0; d < n; ++d)
        if (bins[d] == INT64_MIN && in(d)) ++ts.untimed;
    if (lo > hi) return ts;
    for (int64_t b = lo; b <= hi; b = next_bin(b, by)) {
        ts.start.push_back(bin_start(b, by));
        ts.label.push_back(bin_label(b, by));
    }
    ts.posts.assign(ts.start.size(), 0);
    ts.unassigned.assign(ts.start.size(), 0);
    ts.volume.assign(ts.start.size() * ts.k, 0);
    for (size_t d = 0; d < n; ++d) {
        if (bins[d] == INT64_MIN || !in(d)) continue;
        // bins are contiguous and equally spaced in their own index (day, Monday, month)
        const size_t i = size_t((bins[d] - lo) / (by == TimeBin::Week ? 7 : 1));
        ++ts.posts[i];
        if (summary.dominant[d] >= 0)
            ++ts.volume[i * ts.k + summary.dominant[d]];
        else
            ++ts.unassigned[i];
    }
    return ts;
}

/// Empty when the bins [lo, hi] are at most kMaxTimeBins, else what is wrong.
std::string too_many_bins(int64_t lo, int64_t hi, TimeBin by) {
    if (lo > hi) return "";
    const int64_t count = (hi - lo) / (by == TimeBin::Week ? 7 : 1) + 1;
    if (count <= kMaxTimeBins) return "";
    return std::to_string(count) + " " + time_bin_name(by) + "s from the first post (" +
           bin_label(lo, by) + ") to the last (" + bin_label(hi, by) + "), more than " +
           std::to_string(kMaxTimeBins) +
           (by == TimeBin::Month ? "; a date that far off is a misread value (ingest skips them unless "
                                   "--keep-future-times or --keep-old-times)"
                                 : "; use a coarser --by");
}

/// Each post's bin (INT64_MIN without a date) and the range of bins, however long.
void fill_bins(const TopicSummary& summary, const Corpus& corpus, TimeBin by,
               std::vector<int64_t>& bins, int64_t& lo, int64_t& hi) {
    const size_t n = summary.dominant.size();
    if (corpus.size() != n)
        throw InputError("topics over time: the corpus has " + std::to_string(corpus.size()) +
                         " documents but the model " + std::to_string(n));
    lo = INT64_MAX;
    hi = INT64_MIN;
    bins.assign(n, INT64_MIN);
    for (size_t d = 0; d < n; ++d) {
        if (corpus.time[d] == kNoTime) continue;
        bins[d] = bin_of(corpus.time[d], by);
        lo = std::min(lo, bins[d]);
        hi = std::max(hi, bins[d]);
    }
}

/// fill_bins(), and an InputError when the range has more than kMaxTimeBins bins.
void bins_of(const TopicSummary& summary, const Corpus& corpus, TimeBin by,
             std::vector<int64_t>& bins, int64_t& lo, int64_t& hi) {
    fill_bins(summary, corpus, by, bins, lo, hi);
    const std::string why = too_many_bins(lo, hi, by);
    if (!why.empty()) throw InputError("topics over time: " + why);
}
}  // namespace

TimeSeries topics_over_time(const TopicSummary& summary, const Corpus& corpus, TimeBin by) {
    std::vector<int64_t> bins;
    int64_t lo, hi;
    bins_of(summary, corpus, by, bins, lo, hi);
    return series_of(summary, by, bins, lo, hi, [](size_t) { return true; });
}

SeriesSplit parse_series_split(std::string_view s, const char* flag) {
    if (s == "none" || s.empty()) return SeriesSplit::None;
    if (s == "source") return SeriesSplit::Source;
    if (s == "language") return SeriesSplit::Language;
    throw InputError(std::string(flag) + ": expected none, source or language, got '" +
                     std::string(s) + "'");
}
const char* series_split_name(SeriesSplit s) {
    return s == SeriesSplit::Source ? "source" : s == SeriesSplit::Language ? "language" : "none";
}

GroupedSeries topics_over_time_by(const TopicSummary& summary, const Corpus& corpus, TimeBin by,
                                  SeriesSplit split, int max_groups) {
    GroupedSeries g;
    g.by = split;
    if (split == SeriesSplit::None) return g;
    if (max_groups < 1) throw InputError("--split-groups must be at least 1");
    if (split == SeriesSplit::Language && !corpus.has_language())
        throw InputError("--split language: the corpus has no language column (clean it with "
                         "the language step: tmine clean --steps language, or tmine run --clean language)");
    std::vector<int64_t> bins;
    int64_t lo, hi;
    bins_of(summary, corpus, by, bins, lo, hi);
    // Each post's group key, then groups ranked by posts (ties: name).
    const size_t n = summary.dominant.size();
    std::vector<std::string> names;
    std::map<std::string, int> index;
    std::vector<int> key(n);
    for (size_t d = 0; d < n; ++d) {
        if (split == SeriesSplit::Source && corpus.source[d] >= corpus.sources.size())
            throw InputError("--split source: post " + std::to_string(d) +
                             " names a source the corpus does not list");
        std::string name = split == SeriesSplit::Source ? corpus.sources[corpus.source[d]]
                                                        : std::string(corpus.language[d]);
        auto it = index.emplace(name, int(names.size())).first;
        if (it->second == int(names.size())) names.push_back(name);
        key[d] = it->second;
    }
    std::vector<int64_t> count(names.size(), 0);
    for (int k : key) ++count[k];
    std::vector<int> order(names.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return count[a] != count[b] ? count[a] > count[b] : names[a] < names[b];
    });
    const bool merge = int(order.size()) > max_groups;
    const int kept = merge ? max_groups - 1 : int(order.size());
    std::vector<int> slot(names.size(), kept);  // merged groups share the last slot
    for (int r = 0; r < kept; ++r) {
        slot[order[r]] = r;
        g.names.push_back(names[order[r]]);
        g.total.push_back(count[order[r]]);
    }
    if (merge) {
        g.names.push_back("(other)");
        int64_t rest = 0;
        for (size_t r = kept; r < order.size(); ++r) rest += count[order[r]];
        g.total.push_back(rest);
    }
    for (int s = 0; s < int(g.names.size()); ++s)
        g.series.push_back(
            series_of(summary, by, bins, lo, hi, [&](size_t d) { return slot[key[d]] == s; }));
    return g;
}

std::vector<EmergingTopic> emerging_topics(const TimeSeries& ts, const EmergingOptions& opts,
                                           EmergingWindow* window) {
    if (opts.recent_bins < 1 || opts.trailing_bins < 1)
        throw InputError("emerging topics: recent and trailing windows must be >= 1 bin");
    std::vector<size_t> nonempty;
    for (size_t b = 0; b < ts.posts.size(); ++b)
        if (ts.posts[b] > 0) nonempty.push_back(b);
    std::vector<EmergingTopic> out;
    if (nonempty.size() < size_t(opts.recent_bins) + 1) return out;
    // The recent window: the last recent_bins bins holding posts, and more until it holds
    // min_recent_posts, one bin at least left to the trailing window.
    size_t r0 = nonempty.size() - opts.recent_bins;
    double Nr = 0, Nt = 0;
    for (size_t i = r0; i < nonempty.size(); ++i) Nr += double(ts.posts[nonempty[i]]);
    while (Nr < double(opts.min_recent_posts) && r0 > 1) Nr += double(ts.posts[nonempty[--r0]]);
    const size_t t0 = r0 >= size_t(opts.trailing_bins) ? r0 - opts.trailing_bins : 0;
    for (size_t i = t0; i < r0; ++i) Nt += double(ts.posts[nonempty[i]]);
    if (window) {
        window->recent_first = nonempty[r0];
        window->recent_end = nonempty.back() + 1;
        window->trailing_first = nonempty[t0];
        window->recent_posts = int64_t(Nr);
        window->trailing_posts = int64_t(Nt);
        window->few_posts = Nr < double(opts.min_recent_posts);
    }
    const double eps = 1.0 / (Nr + Nt);
    for (int j = 0; j < ts.k; ++j) {
        double vr = 0, vt = 0;
        for (size_t i = r0; i < nonempty.size(); ++i) vr += double(ts.volume_at(nonempty[i], j));
        for (size_t i = t0; i < r0; ++i) vt += double(ts.volume_at(nonempty[i], j));
        EmergingTopic e;
        e.topic = j;
        e.recent_share = vr / Nr;
        e.trailing_share = vt / Nt;
        e.lift = (e.recent_share + eps) / (e.trailing_share + eps);
        // Pooled: the standard error under "no change", so that a share of 0 or 1 in a small
        // window does not make the error vanish (the unpooled one gave a topic holding the one
        // post of a last day a score of 14).
        const double p = (vr + vt) / (Nr + Nt);
        const double var = p * (1 - p) * (1 / Nr + 1 / Nt);
        const double diff = e.recent_share - e.trailing_share;
        e.score = var > 0 ? diff / std::sqrt(var) : 0.0;
        out.push_back(e);
    }
    std::stable_sort(out.begin(), out.end(), [](const EmergingTopic& a, const EmergingTopic& b) {
        return a.score > b.score;
    });
    return out;
}

// ---------------------------------------------------------------- audiences

Audiences audiences(const TopicModel& model, const Corpus& corpus, const AudienceOptions& opts) {
    const int k = model.nmf.k;
    const int64_t n = model.nmf.n;
    if (int64_t(corpus.size()) != n)
        throw InputError("audiences: the corpus has " + std::to_string(corpus.size()) +
                         " documents but the model " + std::to_string(n));
    if (opts.min_posts < 1 || opts.segments < 1)
        throw InputError(opts.min_posts < 1 ? "--min-author-posts must be at least 1"
                                            : "--segments must be at least 1");
    // Profiles, in double, per author name.
    std::map<std::string_view, size_t> index;
    std::vector<std::vector<double>> sum;
    std::vector<int64_t> count;
    std::vector<std::string_view> names;
    for (int64_t d = 0; d < n; ++d) {
        const std::string_view a = corpus.authors[d];
        if (a.empty()) continue;
        const float* w = model.nmf.W.data() + size_t(d) * k;
        double tot = 0;
        for (int j = 0; j < k; ++j) tot += w[j];
        if (tot <= 0) continue;
        auto [it, fresh] = index.emplace(a, names.size());
        if (fresh) {
            names.push_back(a);
            sum.emplace_back(k, 0.0);
            count.push_back(0);
        }
        for (int j = 0; j < k; ++j) sum[it->second][j] += w[j] / tot;
        ++count[it->second];
    }
    Audiences out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (count[i] < opts.min_posts) continue;
        AuthorProfile p;
        p.author = std::string(names[i]);
        p.posts = count[i];
        for (int j = 0; j < k; ++j) p.mixture.push_back(float(sum[i][j] / double(count[i])));
        out.authors.push_back(std::move(p));
    }
    std::sort(out.authors.begin(), out.authors.end(),
              [](const AuthorProfile& a, const AuthorProfile& b) {
                  return a.posts != b.posts ? a.posts > b.posts : a.author < b.author;
              });
    const size_t A = out.authors.size();
    if (A == 0) return out;
    const int S = int(std::min<size_t>(size_t(opts.segments), A));
    auto dist = [&](const std::vector<float>& x, const std::vector<double>& c) {
        double s2 = 0;
        for (int j = 0; j < k; ++j) s2 += (double(x[j]) - c[j]) * (double(x[j]) - c[j]);
        return s2;
    };
    // k-means++ seeding (deterministic for a seed), then Lloyd's iterations.
    std::mt19937_64 rng(opts.seed);
    std::vector<std::vector<double>> C;
    auto as_centre = [&](size_t a) {
        return std::vector<double>(out.authors[a].mixture.begin(), out.authors[a].mixture.end());
    };
    C.push_back(as_centre(std::uniform_int_distribution<size_t>(0, A - 1)(rng)));
    std::vector<double> d2(A);
    while (int(C.size()) < S) {
        double tot = 0;
        for (size_t a = 0; a < A; ++a) {
            d2[a] = dist(out.authors[a].mixture, C[0]);
            for (size_t c = 1; c < C.size(); ++c)
                d2[a] = std::min(d2[a], dist(out.authors[a].mixture, C[c]));
            tot += d2[a];
        }
        if (tot <= 0) break;  // fewer distinct profiles than segments
        double r = std::uniform_real_distribution<double>(0, tot)(rng);
        size_t pick = A - 1;
        for (size_t a = 0; a < A; ++a) {
            r -= d2[a];
            if (r < 0) {
                pick = a;
                break;
            }
        }
        C.push_back(as_centre(pick));
    }
    std::vector<int> seg(A, -1);
    for (int it = 0; it < opts.max_iter; ++it) {
        bool changed = false;
        for (size_t a = 0; a < A; ++a) {
            int best = 0;
            double bd = dist(out.authors[a].mixture, C[0]);
            for (size_t c = 1; c < C.size(); ++c) {
                double dd = dist(out.authors[a].mixture, C[c]);
                if (dd < bd) {
                    bd = dd;
                    best = int(c);
                }
            }
            changed |= seg[a] != best;
            seg[a] = best;
        }
        if (!changed) break;
        std::vector<std::vector<double>> nc(C.size(), std::vector<double>(k, 0.0));
        std::vector<int64_t> nn(C.size(), 0);
        for (size_t a = 0; a < A; ++a) {
            for (int j = 0; j < k; ++j) nc[seg[a]][j] += out.authors[a].mixture[j];
            ++nn[seg[a]];
        }
        for (size_t c = 0; c < C.size(); ++c)
            if (nn[c] > 0) {  // an emptied segment keeps its centre
                for (int j = 0; j < k; ++j) nc[c][j] /= double(nn[c]);
                C[c] = nc[c];
            }
    }
    // Segments: renumbered largest first (authors, then posts).
    std::vector<AuthorSegment> segs(C.size());
    for (size_t a = 0; a < A; ++a) {
        auto& g = segs[seg[a]];
        ++g.authors;
        g.posts += out.authors[a].posts;
        if (g.top_authors.size() < 5) g.top_authors.push_back(out.authors[a].author);
        out.inertia += dist(out.authors[a].mixture, C[seg[a]]);
    }
    std::vector<int> order(C.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return segs[a].authors != segs[b].authors ? segs[a].authors > segs[b].authors
                                                  : segs[a].posts > segs[b].posts;
    });
    std::vector<int> renumber(C.size());
    for (size_t i = 0; i < order.size(); ++i) {
        AuthorSegment g = segs[order[i]];
        if (g.authors == 0) continue;
        renumber[order[i]] = int(out.segments.size());
        g.id = int(out.segments.size());
        g.centroid.assign(C[order[i]].begin(), C[order[i]].end());
        std::vector<int> top(k);
        std::iota(top.begin(), top.end(), 0);
        std::stable_sort(top.begin(), top.end(),
                         [&](int a, int b) { return g.centroid[a] > g.centroid[b]; });
        const auto summary_label = [&](int j) { return topic_label(model, j); };
        for (int r = 0; r < std::min(3, k); ++r) {
            char pct[32];
            std::snprintf(pct, sizeof pct, " (%.0f%%)", 100.0 * g.centroid[top[r]]);
            g.label +=
                (r ? " + " : "") + std::to_string(top[r]) + " " + summary_label(top[r]) + pct;
        }
        out.segments.push_back(std::move(g));
    }
    for (size_t a = 0; a < A; ++a) out.authors[a].segment = renumber[seg[a]];
    return out;
}

// ---------------------------------------------------------------- agreement

double normalized_mutual_info(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    if (a.size() != b.size()) throw InputError("NMI: labelings of different lengths");
    const double n = double(a.size());
    if (a.empty()) return 1.0;
    std::map<int32_t, double> ca, cb;
    std::map<std::pair<int32_t, int32_t>, double> cab;
    for (size_t i = 0; i < a.size(); ++i) {
        ca[a[i]] += 1;
        cb[b[i]] += 1;
        cab[{a[i], b[i]}] += 1;
    }
    // scikit-learn: a single cluster on both sides is a perfect match
    if (ca.size() == 1 && cb.size() == 1) return 1.0;
    if (ca.size() == 1 || cb.size() == 1) return 0.0;
    auto entropy = [&](const std::map<int32_t, double>& c) {
        double h = 0;
        for (auto& [_, v] : c) h -= v / n * std::log(v / n);
        return h;
    };
    double mi = 0;
    for (auto& [p, v] : cab) mi += v / n * std::log(v * n / (ca[p.first] * cb[p.second]));
    mi = std::max(0.0, mi);
    const double denom = (entropy(ca) + entropy(cb)) / 2;
    return denom > 0 ? mi / denom : 0.0;
}

// ---------------------------------------------------------------- everything

Interpretation interpret(const Context& ctx, const TopicModel& model, const TopicSummary& summary,
                         const Corpus* corpus, const CsrMatrix* X, const InterpretOptions& opts) {
    Interpretation it;
    it.clusters = cluster_topics(model, summary, opts.groups);
    if (corpus) {
        it.corpus_posts = int64_t(corpus->size());
        it.posts = representative_posts(model, summary, *corpus, opts.posts);
        // A span too long for its bins (a far date kept at ingest) leaves the series out and
        // says why; the rest is interpreted.
        std::vector<int64_t> bins;
        int64_t lo, hi;
        fill_bins(summary, *corpus, opts.by, bins, lo, hi);
        it.series_left_out = too_many_bins(lo, hi, opts.by);
        if (it.series_left_out.empty()) {
            it.series = topics_over_time(summary, *corpus, opts.by);
            it.grouped = topics_over_time_by(summary, *corpus, opts.by, opts.split, opts.split_groups);
        }
        it.has_series = !it.series.start.empty();
        if (it.has_series) it.emerging = emerging_topics(it.series, opts.emerging, &it.emerging_window);
        it.audiences = audiences(model, *corpus, opts.audiences);
    }
    if (X) it.coherence = coherence(ctx, *X, model, opts.coherence);
    return it;
}

}  // namespace tmine
