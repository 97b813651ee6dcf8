// clean: the driver (steps in order, removal bookkeeping, report), spam/bot rules, relevance
// mask. Normalisation, language and duplicates live in clean_normalize.cpp,
// clean_language.cpp, clean_dedup.cpp / clean_minhash.cpp. Rules: docs/cleaning.md.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <utf8proc.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "clean_steps.hpp"
#include "tmine/io.hpp"
#include "tmine/clean.hpp"
#include "tmine/error.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {

const char* clean_step_name(CleanStep s) {
    switch (s) {
        case CleanStep::Normalize: return "normalize";
        case CleanStep::Language: return "language";
        case CleanStep::Dedup: return "dedup";
        case CleanStep::Spam: return "spam";
        case CleanStep::Relevance: return "relevance";
    }
    return "?";
}

namespace {
/// The comma-separated items of a flag's value, spaces around each trimmed (empty items kept).
std::vector<std::string_view> comma_items(std::string_view list) {
    std::vector<std::string_view> out;
    for (size_t start = 0; start <= list.size();) {
        size_t end = list.find(',', start);
        if (end == std::string_view::npos) end = list.size();
        std::string_view item = list.substr(start, end - start);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        out.push_back(item);
        start = end + 1;
    }
    return out;
}
}  // namespace

std::vector<std::string> parse_language_list(std::string_view list) {
    std::vector<std::string> out;
    for (std::string_view code : comma_items(list))
        if (!code.empty()) out.emplace_back(code);
    // "" keeps every language; a list of nothing but commas and spaces is a slip, not "all"
    if (out.empty() && list.find_first_not_of(" \t") != std::string_view::npos)
        throw InputError("--lang: no language code in '" + std::string(list) +
                         "' (expected codes such as fr,en, or nothing to keep every language)");
    return out;
}

std::vector<CleanStep> parse_clean_steps(std::string_view list) {
    const CleanStep all[] = {CleanStep::Normalize, CleanStep::Language, CleanStep::Dedup,
                             CleanStep::Spam, CleanStep::Relevance};
    std::vector<bool> on(5, false);
    for (std::string_view name : comma_items(list)) {
        bool found = name == "all";
        if (found) std::fill(on.begin(), on.end(), true);
        for (int i = 0; i < 5; ++i)
            if (name == clean_step_name(all[i]) || (name == "normalise" && i == 0)) {
                on[size_t(i)] = true;
                found = true;
            }
        if (!found)
            throw InputError("--steps: unknown step '" + std::string(name) +
                             "' (expected normalize, language, dedup, spam, relevance or all)");
    }
    std::vector<CleanStep> out;
    for (int i = 0; i < 5; ++i)
        if (on[size_t(i)]) out.push_back(all[i]);
    return out;
}

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Cuts to at most `max` bytes at a UTF-8 boundary.
std::string excerpt(std::string_view s, size_t max = 300) {
    if (s.size() <= max) return std::string(s);
    size_t e = max;
    while (e > 0 && (static_cast<unsigned char>(s[e]) & 0xC0) == 0x80) --e;
    return std::string(s.substr(0, e)) + "...";
}

/// A measured value for people: integers as such, ratios with 4 significant digits.
std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

/// The corpus being cleaned plus, per current row, its row in the input corpus.
struct Work {
    Corpus& c;
    std::vector<size_t> input_row;
    CleanReport& report;
    std::vector<RemovedRow>* removed;
    size_t max_examples;
    bool progress;

    std::string_view original(size_t i) const { return c.has_original() ? c.original[i] : c.text[i]; }

    /// Records the step's decisions and drops the removed rows. `reason[i]` nullptr = kept;
    /// `dup_of` (optional) rows of the current corpus; `detail(i)` (optional) what the rule
    /// measured on removed row i, asked only for the rows listed or quoted.
    void apply(CleanStep step, StepReport& rep, const std::vector<const char*>& reason,
               const std::vector<int64_t>* dup_of = nullptr,
               const std::vector<double>* sim = nullptr,
               const std::function<std::string(size_t)>& detail = {}) {
        const size_t n = c.size();
        rep.step = clean_step_name(step);
        rep.rows_in = n;
        std::vector<size_t> keep;
        keep.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            if (!reason[i]) {
                keep.push_back(i);
                continue;
            }
            ReasonReport& rr = rep.reasons[reason[i]];
            ++rr.count;
            const int64_t d = dup_of && (*dup_of)[i] >= 0 ? int64_t(input_row[size_t((*dup_of)[i])]) : -1;
            if (rr.examples.size() < max_examples) {
                CleanExample ex;
                ex.row = input_row[i];
                ex.id = std::string(c.ids[i]);
                ex.text = excerpt(original(i));
                ex.duplicate_of = d;
                ex.similarity = sim ? (*sim)[i] : 0.0;
                if (detail) ex.detail = detail(i);
                rr.examples.push_back(std::move(ex));
            }
            if (removed) removed->push_back(RemovedRow{input_row[i], step, reason[i], d, detail ? detail(i) : ""});
        }
        rep.kept = keep.size();
        rep.removed = n - keep.size();
        if (keep.size() != n) {
            Corpus next = select_rows(c, keep);
            c = std::move(next);
            std::vector<size_t> rows;
            rows.reserve(keep.size());
            for (size_t i : keep) rows.push_back(input_row[i]);
            input_row.swap(rows);
        }
    }
};

// ---- normalize ----
void step_normalize(const Context& ctx, Work& w, const NormalizeOptions& o, StepReport& rep) {
    Corpus& c = w.c;
    const size_t n = c.size();
    std::vector<std::string> out(n);
#pragma omp parallel for schedule(dynamic, 1024) num_threads(ctx.cpu_threads())
    for (int64_t i = 0; i < int64_t(n); ++i) out[size_t(i)] = normalize_text(c.text[size_t(i)], o);
    if (!c.has_original()) c.original = c.text;  // a second pass keeps the first original
    StringColumn text;
    size_t bytes = 0;
    for (const std::string& s : out) bytes += s.size();
    text.arena.reserve(bytes);
    text.offsets.reserve(n + 1);
    std::vector<const char*> reason(n, nullptr);
    for (size_t i = 0; i < n; ++i) {
        text.push_back(out[i]);
        if (o.drop_empty && out[i].empty()) reason[i] = "empty_after_normalize";
    }
    rep.stats["bytes_in"] = double(c.text.arena.size());
    rep.stats["bytes_out"] = double(bytes);
    c.text = std::move(text);
    w.apply(CleanStep::Normalize, rep, reason);
}

// ---- language ----
void step_language(const Context& ctx, Work& w, const LanguageOptions& o, StepReport& rep) {
    Corpus& c = w.c;
    const size_t n = c.size();
    std::vector<std::string> lang(n);
#pragma omp parallel for schedule(dynamic, 512) num_threads(ctx.cpu_threads())
    for (int64_t i = 0; i < int64_t(n); ++i) lang[size_t(i)] = detect_language(c.text[size_t(i)], o);
    c.language.clear();
    std::vector<const char*> reason(n, nullptr);
    std::unordered_set<std::string> keep(o.keep.begin(), o.keep.end());
    for (size_t i = 0; i < n; ++i) {
        c.language.push_back(lang[i]);
        ++rep.languages[lang[i]];
        if (keep.empty()) continue;
        if (lang[i] == "und") {
            if (o.drop_undetermined) reason[i] = "undetermined_language";
        } else if (!keep.count(lang[i])) {
            reason[i] = "other_language";
        }
    }
    w.apply(CleanStep::Language, rep, reason, nullptr, nullptr, [&](size_t i) { return lang[i]; });
}

// ---- dedup ----
void step_dedup(const Context& ctx, Work& w, const DedupOptions& o, StepReport& rep) {
    detail::DedupResult d = detail::find_duplicates(ctx, w.c, o, w.progress, rep.stats);
    w.c.dup_count = d.group_size;
    // The largest groups, by their kept post.
    std::vector<size_t> kept;
    for (size_t i = 0; i < w.c.size(); ++i)
        if (!d.reason[i] && d.group_size[i] > 1) kept.push_back(i);
    std::sort(kept.begin(), kept.end(), [&](size_t a, size_t b) {
        return d.group_size[a] != d.group_size[b] ? d.group_size[a] > d.group_size[b] : a < b;
    });
    w.report.largest_groups.clear();
    for (size_t k = 0; k < std::min<size_t>(10, kept.size()); ++k) {
        DuplicateGroup g;
        g.kept.row = w.input_row[kept[k]];
        g.kept.id = std::string(w.c.ids[kept[k]]);
        g.kept.text = excerpt(w.original(kept[k]));
        g.size = d.group_size[kept[k]];
        w.report.largest_groups.push_back(std::move(g));
    }
    uint64_t groups = 0;
    for (size_t i = 0; i < w.c.size(); ++i) groups += !d.reason[i] && d.group_size[i] > 1;
    rep.stats["groups"] = double(groups);
    w.apply(CleanStep::Dedup, rep, d.reason, &d.duplicate_of, &d.similarity,
            [&](size_t i) { return number(d.similarity[i]); });
}

// ---- spam ----
struct SpamSignals {
    size_t links = 0, words = 0, hashtags = 0, max_run = 0, top_word = 0;
};

SpamSignals spam_signals(std::string_view original, std::string_view text) {
    SpamSignals s;
    std::vector<std::pair<size_t, size_t>> spans;
    s.links = detail::find_urls(original, &spans);
    std::string buf;
    thread_local std::vector<uint64_t> hashes;  // the words' hashes, to find the most frequent
    hashes.clear();
    detail::for_each_word(text, buf, [&](std::string_view w, int) {
        hashes.push_back(XXH3_64bits(w.data(), w.size()));
    });
    const size_t all_words = hashes.size();
    thread_local std::vector<uint64_t> url_hashes;  // the words the links left, to leave out
    url_hashes.clear();
    auto url_word = [&](std::string_view w, int) { url_hashes.push_back(XXH3_64bits(w.data(), w.size())); };
    // URLs are not words: subtract what the links left in `text`. URLs still in the text (text
    // not normalised, --urls keep, however decoding changed them) are found in the text itself;
    // the domains that replaced the other links (--urls domain) are space-separated tokens of
    // the text equal to one of those links' domains, one per link; nothing is left by --urls drop
    // or by a link that was only in an HTML attribute. Read from the text, so a corpus normalised
    // in an earlier run with other --urls counts right. One pass over the text: linear.
    size_t url_words = 0;
    if (!spans.empty()) {
        std::vector<std::pair<size_t, size_t>> in_text;
        const size_t kept_links = detail::find_urls(text, &in_text);
        for (auto [b, e] : in_text) detail::for_each_word(text.substr(b, e - b), buf, url_word);
        if (spans.size() > kept_links) {
            size_t budget = spans.size() - kept_links;  // links that left a domain at most
            std::unordered_map<std::string, size_t> domains;
            for (auto [b, e] : spans) ++domains[detail::url_domain(original.substr(b, e - b))];
            size_t at = 0;
            while (budget > 0 && at < text.size()) {
                const size_t sp = text.find(' ', at);
                const size_t end = sp == std::string_view::npos ? text.size() : sp;
                const std::string token(text.substr(at, end - at));
                auto it = domains.find(token);
                if (!token.empty() && it != domains.end() && it->second > 0) {
                    --it->second;
                    --budget;
                    detail::for_each_word(token, buf, url_word);
                }
                at = end + 1;
            }
        }
    }
    // The post's own words: all of them less those the links left (a multiset difference), so
    // that the most frequent word is one of them too, not a domain repeated by its links.
    std::sort(hashes.begin(), hashes.end());
    std::sort(url_hashes.begin(), url_hashes.end());
    thread_local std::vector<uint64_t> own;
    own.clear();
    std::set_difference(hashes.begin(), hashes.end(), url_hashes.begin(), url_hashes.end(),
                        std::back_inserter(own));
    url_words = all_words - own.size();
    for (size_t a = 0; a < own.size();) {
        size_t e = a + 1;
        while (e < own.size() && own[e] == own[a]) ++e;
        s.top_word = std::max(s.top_word, e - a);
        a = e;
    }
    s.words = all_words > url_words ? all_words - url_words : 0;
    // hashtags: '#' at a word start followed by a word character (a letter, a digit, a mark or
    // '_'; not an emoji or punctuation), in the original
    for (size_t i = 0; i + 1 < original.size(); ++i) {
        if (original[i] != '#' || (i > 0 && !std::isspace(static_cast<unsigned char>(original[i - 1])) &&
                                   original[i - 1] != '(' ))
            continue;
        const unsigned char nx = static_cast<unsigned char>(original[i + 1]);
        if (nx < 0x80) {
            s.hashtags += std::isalnum(nx) || nx == '_';
            continue;
        }
        utf8proc_int32_t cp;
        if (utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(original.data()) + i + 1,
                             utf8proc_ssize_t(original.size() - i - 1), &cp) <= 0)
            continue;
        const utf8proc_category_t cat = utf8proc_category(cp);
        s.hashtags += cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO;  // L*, M*, N*
    }
    // longest run of one code point (white space excluded), in the text
    size_t run = 0;
    std::string_view prev;
    for (size_t i = 0; i < text.size();) {
        size_t len = 1;
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0xF0) len = 4; else if (c >= 0xE0) len = 3; else if (c >= 0xC0) len = 2;
        len = std::min(len, text.size() - i);
        std::string_view cp = text.substr(i, len);
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') run = 0;
        else if (cp == prev) ++run;
        else run = 1;
        prev = cp;
        s.max_run = std::max(s.max_run, run);
        i += len;
    }
    return s;
}

/// The spam thresholds' ranges (each flag's "off" value included).
void check_spam_options(const SpamOptions& o) {
    if (!(o.max_link_ratio >= 0) || !(o.max_token_share > 0) || !(o.author_factor >= 0) ||
        !std::isfinite(o.author_factor))
        throw InputError("spam thresholds must be positive numbers (--max-link-ratio, --max-token-share, "
                         "--author-factor)");
    if (o.max_token_share > 1)
        throw InputError("--max-token-share is a share of a post's words: at most 1, got " +
                         std::to_string(o.max_token_share));
    if (o.max_char_run < 0) throw InputError("--max-char-run must be >= 0 (0 = off)");
    if (o.max_hashtags < -1) throw InputError("--max-hashtags must be >= -1 (-1 = off)");
    if (o.min_words < 0) throw InputError("--min-words must be >= 0");
    if (o.token_share_min_words < 0) throw InputError("--token-share-min-words must be >= 0");
    if (o.author_min_posts < 0) throw InputError("--author-min-posts must be >= 0");
}

void step_spam(const Context& ctx, Work& w, const SpamOptions& o, StepReport& rep) {
    Corpus& c = w.c;
    const size_t n = c.size();
    std::vector<const char*> reason(n, nullptr);
    std::vector<double> value(n, 0.0);  // what the rule that fired measured
#pragma omp parallel for schedule(dynamic, 1024) num_threads(ctx.cpu_threads())
    for (int64_t ii = 0; ii < int64_t(n); ++ii) {
        const size_t i = size_t(ii);
        const SpamSignals s = spam_signals(w.original(i), c.text[i]);
        const double link_ratio = s.words + s.links > 0 ? double(s.links) / double(s.words + s.links) : 0.0;
        const double top_share = s.words > 0 ? double(s.top_word) / double(s.words) : 0.0;
        // the rules in order: the first that fires names the removal, with what it measured
        const struct {
            const char* why;
            bool fires;
            double measured;
        } rules[] = {
            {"link_ratio", link_ratio > o.max_link_ratio, link_ratio},
            {"too_short", int(s.words) < o.min_words, double(s.words)},
            {"hashtag_stuffing", o.max_hashtags >= 0 && int(s.hashtags) > o.max_hashtags, double(s.hashtags)},
            {"repeated_chars", o.max_char_run > 0 && int(s.max_run) > o.max_char_run, double(s.max_run)},
            {"repeated_tokens", int(s.words) >= o.token_share_min_words && top_share > o.max_token_share,
             top_share},
        };
        for (const auto& r : rules)
            if (r.fires) {
                reason[i] = r.why;
                value[i] = r.measured;
                break;
            }
    }
    // authors posting far above the norm (median posts per author)
    if (o.author_factor > 0) {
        std::unordered_map<std::string_view, uint64_t> posts;
        for (size_t i = 0; i < n; ++i)
            if (!c.authors[i].empty()) ++posts[c.authors[i]];
        if (!posts.empty()) {
            std::vector<uint64_t> counts;
            for (auto& [a, k] : posts) counts.push_back(k);
            // the median: the middle count, or the mean of the two middle ones
            const size_t mid = counts.size() / 2;
            std::nth_element(counts.begin(), counts.begin() + mid, counts.end());
            double median = double(counts[mid]);
            if (counts.size() % 2 == 0)
                median = (median + double(*std::max_element(counts.begin(), counts.begin() + mid))) / 2;
            const double limit = std::max(o.author_factor * median, double(o.author_min_posts));
            rep.stats["author_median_posts"] = median;
            rep.stats["author_limit"] = limit;
            uint64_t flagged = 0;
            for (auto& [a, k] : posts)
                if (double(k) > limit) {
                    ++flagged;
                    rep.prolific_authors.emplace_back(std::string(a), k);
                }
            rep.stats["prolific_authors"] = double(flagged);
            // Named in the report, so that a planner sees whom the rule took (a brand's own
            // account, or a community when the author field holds one).
            std::sort(rep.prolific_authors.begin(), rep.prolific_authors.end(),
                      [](const auto& x, const auto& y) { return x.second != y.second ? x.second > y.second : x.first < y.first; });
            for (size_t i = 0; i < n; ++i)
                if (!reason[i] && !c.authors[i].empty() && double(posts[c.authors[i]]) > limit) {
                    reason[i] = "prolific_author";
                    value[i] = double(posts[c.authors[i]]);
                }
        }
    }
    w.apply(CleanStep::Spam, rep, reason, nullptr, nullptr, [&](size_t i) { return number(value[i]); });
}

// ---- relevance ----
/// The file's lines, without white space around them when `trimmed` (0/1 masks; an id list
/// keeps its lines as written: PostIds::resolve() tries them without it).
std::vector<std::string> read_lines(const std::string& path, bool trimmed) {
    std::ifstream in = open_input(path, path + ": cannot read the relevance file");
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        if (trimmed) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
                line.pop_back();
            line.erase(0, line.find_first_not_of(" \t"));  // white space around the value
        }
        lines.push_back(line);
    }
    auto blank = [](const std::string& l) { return l.find_first_not_of(" \t\r") == std::string::npos; };
    while (!lines.empty() && blank(lines.back())) lines.pop_back();
    return lines;
}

/// Per input row, whether the relevance file keeps it: --keep-mask's 0/1 lines, or the rows
/// whose id --keep-ids lists. Read before any step runs, so a bad file costs no work. An id the
/// corpus does not have is an error naming the file and line, as in classify's label files.
std::vector<uint8_t> read_relevance(const Corpus& c, const RelevanceOptions& o, uint64_t& ids_in_file) {
    const size_t n = c.size();
    std::vector<uint8_t> keep(n, 0);
    if (!o.keep_mask.empty()) {
        const std::vector<std::string> lines = read_lines(o.keep_mask, true);
        if (lines.size() != n)
            throw InputError(o.keep_mask + ": " + std::to_string(lines.size()) +
                             " lines, but the input corpus has " + std::to_string(n) +
                             " rows (one 0 or 1 per input row expected)");
        for (size_t l = 0; l < lines.size(); ++l) {
            if (lines[l] != "0" && lines[l] != "1")
                throw InputError(o.keep_mask + ":" + std::to_string(l + 1) + ": expected 0 or 1, got '" +
                                 excerpt(lines[l], 40) + "'");
            keep[l] = lines[l] == "1";
        }
        return keep;
    }
    const std::vector<std::string> lines = read_lines(o.keep_ids, false);
    const PostIds corpus_ids(&c, int64_t(n));
    if (!corpus_ids.by_ids() && n > 0)
        throw InputError(o.keep_ids + ": --keep-ids needs post ids, but the corpus has none "
                         "(ingest with --id-field)");
    std::unordered_set<std::string_view> ids;  // every row with a listed id is kept
    for (size_t l = 0; l < lines.size(); ++l) {
        const std::string& line = lines[l];
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = o.keep_ids + ":" + std::to_string(l + 1);
        const size_t bad = utf8_error_at(line);
        if (bad != std::string::npos)
            throw InputError(where + ": invalid UTF-8 in the id (byte " + std::to_string(bad + 1) + ")");
        const std::string_view id = corpus_ids.resolve(line);
        if (id.empty())
            throw InputError(where + ": unknown id '" + excerpt(line, 80) + "' (not an id of the corpus)");
        ids.insert(id);
    }
    ids_in_file = ids.size();
    for (size_t i = 0; i < n; ++i) keep[i] = ids.count(c.ids[i]) > 0;
    return keep;
}

/// Removes the rows the relevance file does not keep (`keep` per input row).
void step_relevance(Work& w, const RelevanceOptions& o, const std::vector<uint8_t>& keep,
                    uint64_t ids_in_file, StepReport& rep) {
    const size_t n = w.c.size();
    std::vector<const char*> reason(n, nullptr);
    uint64_t matched = 0;
    for (size_t i = 0; i < n; ++i) {
        if (keep[w.input_row[i]]) ++matched;
        else reason[i] = "not_relevant";
    }
    if (!o.keep_ids.empty()) {
        rep.stats["ids_in_file"] = double(ids_in_file);
        rep.stats["rows_matched"] = double(matched);
    }
    w.apply(CleanStep::Relevance, rep, reason);
}

void write_example(rapidjson::PrettyWriter<rapidjson::StringBuffer>& j, const CleanExample& e) {
    j.StartObject();
    j.Key("row");
    j.Uint64(e.row);
    j.Key("id");
    j.String(e.id.c_str(), rapidjson::SizeType(e.id.size()));
    if (e.duplicate_of >= 0) {
        j.Key("duplicate_of");
        j.Int64(e.duplicate_of);
        j.Key("similarity");
        j.Double(e.similarity);
    }
    if (!e.detail.empty()) {
        j.Key("detail");
        j.String(e.detail.c_str(), rapidjson::SizeType(e.detail.size()));
    }
    j.Key("text");
    j.String(e.text.c_str(), rapidjson::SizeType(e.text.size()));
    j.EndObject();
}

}  // namespace

std::string CleanReport::to_json(const std::string& input) const {
    rapidjson::StringBuffer sb;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> j(sb);
    j.SetIndent(' ', 2);
    j.StartObject();
    j.Key("schema_version");
    j.Int(1);
    j.Key("input");
    j.String(input.c_str(), rapidjson::SizeType(input.size()));
    j.Key("device");
    j.String(device.c_str(), rapidjson::SizeType(device.size()));
    j.Key("rows_in");
    j.Uint64(rows_in);
    j.Key("rows_out");
    j.Uint64(rows_out);
    j.Key("steps");
    j.StartArray();
    for (const StepReport& s : steps) {
        j.StartObject();
        j.Key("step");
        j.String(s.step.c_str());
        j.Key("rows_in");
        j.Uint64(s.rows_in);
        j.Key("kept");
        j.Uint64(s.kept);
        j.Key("removed");
        j.Uint64(s.removed);
        j.Key("seconds");
        j.Double(s.seconds);
        j.Key("reasons");
        j.StartObject();
        for (const auto& [name, r] : s.reasons) {
            j.Key(name.c_str());
            j.StartObject();
            j.Key("count");
            j.Uint64(r.count);
            j.Key("examples");
            j.StartArray();
            for (const CleanExample& e : r.examples) write_example(j, e);
            j.EndArray();
            j.EndObject();
        }
        j.EndObject();
        if (!s.languages.empty()) {
            j.Key("languages");
            j.StartObject();
            for (const auto& [lang, k] : s.languages) {
                j.Key(lang.c_str());
                j.Uint64(k);
            }
            j.EndObject();
        }
        if (!s.prolific_authors.empty()) {
            j.Key("prolific_authors");
            j.StartArray();
            for (const auto& [a, k] : s.prolific_authors) {
                j.StartObject();
                j.Key("author");
                j.String(a.c_str(), rapidjson::SizeType(a.size()));
                j.Key("posts");
                j.Uint64(k);
                j.EndObject();
            }
            j.EndArray();
        }
        if (!s.stats.empty()) {
            j.Key("stats");
            j.StartObject();
            for (const auto& [k, v] : s.stats) {
                j.Key(k.c_str());
                j.Double(v);
            }
            j.EndObject();
        }
        j.EndObject();
    }
    j.EndArray();
    j.Key("largest_duplicate_groups");
    j.StartArray();
    for (const DuplicateGroup& g : largest_groups) {
        j.StartObject();
        j.Key("size");
        j.Uint64(g.size);
        j.Key("kept");
        write_example(j, g.kept);
        j.EndObject();
    }
    j.EndArray();
    j.EndObject();
    return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

void check_clean_options(const CleanOptions& opts) {
    auto on = [&](CleanStep s) {
        return std::find(opts.steps.begin(), opts.steps.end(), s) != opts.steps.end();
    };
    if (on(CleanStep::Relevance) && opts.relevance.keep_mask.empty() == opts.relevance.keep_ids.empty())
        throw InputError("the relevance step needs exactly one of --keep-mask FILE or --keep-ids FILE");
    // a filter given for a step that does not run would be silently ignored
    if (!on(CleanStep::Relevance) && (!opts.relevance.keep_mask.empty() || !opts.relevance.keep_ids.empty()))
        throw InputError(std::string(opts.relevance.keep_mask.empty() ? "--keep-ids" : "--keep-mask") +
                         " is read by the relevance step, which the steps (--steps; run's --clean) leave out: add relevance to them");
    if (!on(CleanStep::Language) && !opts.language.keep.empty())
        throw InputError("--lang is applied by the language step, which the steps (--steps; run's --clean) leave out: add language to them");
    if (on(CleanStep::Language)) {
        check_language_codes(opts.language.keep);
        if (opts.language.min_letters < 0) throw InputError("--min-letters must be >= 0");
    }
    if (on(CleanStep::Dedup)) {
        const DedupOptions& d = opts.dedup;
        if (!(d.near_dup >= 0 && d.near_dup < 1))
            throw InputError("--near-dup must be in [0, 1) (0 = exact duplicates only), got " +
                             std::to_string(d.near_dup));
        if (d.shingle < 1) throw InputError("--shingle must be >= 1");
        if (d.num_hashes < 1 || d.num_hashes > 1024) throw InputError("--num-hashes must be in 1..1024");
        if (d.bands < 0 || d.bands > d.num_hashes) throw InputError("--bands must be in 0..--num-hashes");
    }
    if (on(CleanStep::Spam)) check_spam_options(opts.spam);
    if (on(CleanStep::Relevance)) {  // a missing file found before the steps (and run's ingest)
        const std::string& f = opts.relevance.keep_mask.empty() ? opts.relevance.keep_ids : opts.relevance.keep_mask;
        (void)open_input(f, f + ": cannot read the relevance file");
    }
}

CleanReport clean(const Context& ctx, Corpus& corpus, const CleanOptions& opts,
                  std::vector<RemovedRow>* removed) {
    CleanReport report;
    report.rows_in = corpus.size();
    report.device = ctx.description();
    Work w{corpus, {}, report, removed, opts.max_examples, opts.progress};
    w.input_row.resize(corpus.size());
    for (size_t i = 0; i < corpus.size(); ++i) w.input_row[i] = i;
    auto on = [&](CleanStep s) {
        return std::find(opts.steps.begin(), opts.steps.end(), s) != opts.steps.end();
    };
    check_clean_options(opts);  // before any work
    std::vector<uint8_t> relevance_keep;  // the relevance file, read before any step runs
    uint64_t ids_in_file = 0;
    if (on(CleanStep::Relevance)) relevance_keep = read_relevance(corpus, opts.relevance, ids_in_file);
    const CleanStep order[] = {CleanStep::Normalize, CleanStep::Language, CleanStep::Dedup,
                               CleanStep::Spam, CleanStep::Relevance};
    for (CleanStep s : order) {
        if (!on(s)) continue;
        StepReport rep;
        auto t0 = Clock::now();
        switch (s) {
            case CleanStep::Normalize: step_normalize(ctx, w, opts.normalize, rep); break;
            case CleanStep::Language: step_language(ctx, w, opts.language, rep); break;
            case CleanStep::Dedup: step_dedup(ctx, w, opts.dedup, rep); break;
            case CleanStep::Spam: step_spam(ctx, w, opts.spam, rep); break;
            case CleanStep::Relevance:
                step_relevance(w, opts.relevance, relevance_keep, ids_in_file, rep);
                break;
        }
        rep.seconds = since(t0);
        if (opts.progress)
            std::fprintf(stderr, "clean: %s: kept %llu of %llu posts (%.2f s)\n", rep.step.c_str(),
                         (unsigned long long)rep.kept, (unsigned long long)rep.rows_in, rep.seconds);
        report.steps.push_back(std::move(rep));
    }
    report.rows_out = corpus.size();
    return report;
}

}  // namespace tmine
