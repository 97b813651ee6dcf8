// Tokeniser (CPU): scikit-learn's default token rule, Unicode-aware through utf8proc.
#include <omp.h>
#include <utf8proc.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "tmine/vectorize.hpp"

namespace tmine {
namespace {

/// ASCII word characters, per Python's \w: [A-Za-z0-9_].
struct AsciiTable {
    bool word[128];
    char lower[128];
    AsciiTable() {
        for (int c = 0; c < 128; ++c) {
            word[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_';
            lower[c] = (c >= 'A' && c <= 'Z') ? char(c + 32) : char(c);
        }
    }
};
const AsciiTable kAscii;

/// Python's str.isalnum() for one code point (letters and numbers); '_' handled by callers.
inline bool unicode_word(utf8proc_int32_t cp) {
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
            return true;
        default:
            return false;
    }
}

inline bool cased(utf8proc_int32_t cp) {
    auto c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT;
}

/// Calls emit(token) for each token of `text` (lower-cased UTF-8, >= 2 code points).
/// `buf` is scratch reused across calls. Lower-casing follows Python's str.lower() (what
/// scikit-learn applies): utf8proc's simple mapping plus the two language-independent special
/// cases, U+0130 -> "i" + U+0307 (a combining mark, so it ends the token) and a final capital
/// sigma -> U+03C2.
template <class Emit>
inline void for_each_token(std::string_view text, std::string& buf, Emit&& emit) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    buf.clear();
    size_t cps = 0;
    bool prev_cased = false;
    auto flush = [&] {
        if (cps >= 2) emit(std::string_view(buf));
        buf.clear();
        cps = 0;
    };
    auto append = [&](utf8proc_int32_t cp) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t m = utf8proc_encode_char(cp, enc);
        buf.append(reinterpret_cast<const char*>(enc), m);
        ++cps;
    };
    while (p < end) {
        unsigned char b = *p;
        if (b < 0x80) {
            if (kAscii.word[b]) {
                buf.push_back(kAscii.lower[b]);
                ++cps;
            } else if (cps || !buf.empty()) {
                flush();
            }
            prev_cased = (b | 0x20) >= 'a' && (b | 0x20) <= 'z';
            ++p;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, end - p, &cp);
        if (n <= 0) {  // invalid byte: a separator (ingest validates UTF-8, so this is rare)
            flush();
            prev_cased = false;
            ++p;
            continue;
        }
        p += n;
        const bool was_cased = prev_cased;
        prev_cased = cased(cp);
        if (cp == 0x0130) {  // capital I with dot above -> "i" + combining dot above
            append('i');
            flush();
            continue;
        }
        utf8proc_int32_t lc = utf8proc_tolower(cp);
        if (cp == 0x03A3 && was_cased) {  // final sigma: no cased letter follows
            utf8proc_int32_t next = -1;
            if (p < end && utf8proc_iterate(p, end - p, &next) <= 0) next = -1;
            if (next < 0 || !cased(next)) lc = 0x03C2;
        }
        if (unicode_word(lc))
            append(lc);
        else
            flush();
    }
    flush();
}

/// Open-addressing string -> id table; keys live in one arena.
class TermTable {
public:
    TermTable() { rehash(1 << 14); }
    int32_t intern(std::string_view s) {
        uint64_t h = XXH3_64bits(s.data(), s.size());
        size_t mask = slots_.size() - 1;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
            int32_t id = slots_[i];
            if (id < 0) {
                id = static_cast<int32_t>(off_.size());
                off_.push_back(arena_.size());
                len_.push_back(static_cast<uint32_t>(s.size()));
                hash_.push_back(h);
                arena_.append(s.data(), s.size());
                slots_[i] = id;
                if (off_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
                return id;
            }
            if (hash_[id] == h && len_[id] == s.size() &&
                std::memcmp(arena_.data() + off_[id], s.data(), s.size()) == 0)
                return id;
        }
    }
    size_t size() const { return off_.size(); }
    std::string_view term(int32_t id) const {
        return std::string_view(arena_).substr(off_[id], len_[id]);
    }

private:
    void rehash(size_t n) {
        slots_.assign(n, -1);
        for (size_t id = 0; id < off_.size(); ++id) {
            size_t i = hash_[id] & (n - 1);
            while (slots_[i] >= 0) i = (i + 1) & (n - 1);
            slots_[i] = static_cast<int32_t>(id);
        }
    }
    std::vector<int32_t> slots_;
    std::vector<uint64_t> off_, hash_;
    std::vector<uint32_t> len_;
    std::string arena_;
};

}  // namespace

void tokenize(std::string_view text, std::vector<std::string>& out) {
    std::string buf;
    for_each_token(text, buf, [&](std::string_view t) { out.emplace_back(t); });
}

Tokenized tokenize_corpus(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts) {
    const int64_t n = static_cast<int64_t>(corpus.size());
    const int T = std::max(1, ctx.cpu_threads());
    Tokenized out;
    out.text_bytes = corpus.text.arena.size();

    // Contiguous document ranges of roughly equal text bytes, a few per thread.
    const int parts = static_cast<int>(std::min<int64_t>(std::max<int64_t>(n, 1), T * 4));
    std::vector<int64_t> bounds(parts + 1, n);
    bounds[0] = 0;
    {
        const auto& off = corpus.text.offsets;
        for (int p = 1; p < parts; ++p) {
            uint64_t target = off.back() / parts * p;
            bounds[p] = std::lower_bound(off.begin(), off.end() - 1, target) - off.begin();
        }
        for (int p = 1; p <= parts; ++p) bounds[p] = std::max(bounds[p], bounds[p - 1]);
    }

    std::vector<TermTable> tables(parts);
    std::vector<std::vector<int32_t>> local_tokens(parts);
    std::vector<std::vector<int64_t>> local_len(parts);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int p = 0; p < parts; ++p) {
        std::string buf;
        auto& table = tables[p];
        auto& toks = local_tokens[p];
        auto& lens = local_len[p];
        lens.reserve(bounds[p + 1] - bounds[p]);
        for (int64_t d = bounds[p]; d < bounds[p + 1]; ++d) {
            size_t before = toks.size();
            for_each_token(corpus.text[d], buf,
                           [&](std::string_view t) { toks.push_back(table.intern(t)); });
            lens.push_back(static_cast<int64_t>(toks.size() - before));
        }
    }

    // Global vocabulary: sorted union of the local tables, minus stop words.
    std::unordered_set<std::string_view> stop(opts.stop_words.begin(), opts.stop_words.end());
    std::vector<std::string_view> all;
    for (auto& t : tables)
        for (size_t i = 0; i < t.size(); ++i) all.push_back(t.term(static_cast<int32_t>(i)));
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    out.vocab.reserve(all.size());
    for (auto s : all)
        if (!stop.count(s)) out.vocab.emplace_back(s);

    std::vector<std::vector<int32_t>> remap(parts);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int p = 0; p < parts; ++p) {
        auto& r = remap[p];
        r.resize(tables[p].size());
        for (size_t i = 0; i < r.size(); ++i) {
            auto t = tables[p].term(static_cast<int32_t>(i));
            auto it = std::lower_bound(out.vocab.begin(), out.vocab.end(), t,
                                       [](const std::string& a, std::string_view b) { return a < b; });
            r[i] = (it != out.vocab.end() && *it == t) ? int32_t(it - out.vocab.begin()) : -1;
        }
    }

    // Concatenate, dropping stop words.
    out.doc_ptr.assign(n + 1, 0);
    std::vector<int64_t> part_start(parts + 1, 0);
    for (int p = 0; p < parts; ++p) {
        int64_t kept = 0;
        for (int32_t id : local_tokens[p]) kept += remap[p][id] >= 0;
        part_start[p + 1] = part_start[p] + kept;
    }
    out.tokens.resize(part_start[parts]);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int p = 0; p < parts; ++p) {
        int64_t w = part_start[p], r = 0;
        for (int64_t d = bounds[p]; d < bounds[p + 1]; ++d) {
            int64_t len = local_len[p][d - bounds[p]];
            for (int64_t j = 0; j < len; ++j) {
                int32_t g = remap[p][local_tokens[p][r + j]];
                if (g >= 0) out.tokens[w++] = g;
            }
            r += len;
            out.doc_ptr[d + 1] = w;
        }
    }
    if (opts.progress)
        std::fprintf(stderr, "vectorize: tokenised %lld documents, %zu tokens, %zu distinct terms\n",
                     static_cast<long long>(n), out.tokens.size(), out.vocab.size());
    return out;
}

}  // namespace tmine
