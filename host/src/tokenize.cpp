// Tokenisers (CPU): scikit-learn's default token rule, and tmine's tokenizer for social posts
// (docs/tokenizer.md); both Unicode-aware through utf8proc. Then stop words, Snowball stemming
// (libstemmer) and word n-grams, and the per-thread vocabularies merged into one sorted one.
#include <libstemmer.h>
#include <omp.h>
#include <utf8proc.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <queue>
#include <unordered_set>

#include "tmine/error.hpp"
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


/// What a token of the social tokenizer is (only words are stemmed).
enum class Kind : uint8_t { Word, Url, Mention, Hashtag, Number, Emoji };

inline bool word_cp(utf8proc_int32_t cp) {
    if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return true;
        default:
            return false;
    }
}
inline bool digit_cp(utf8proc_int32_t cp) {
    if (cp < 0x80) return cp >= '0' && cp <= '9';
    auto c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}
inline bool apostrophe(utf8proc_int32_t cp) { return cp == '\'' || cp == 0x2019; }
inline bool sentence_end(utf8proc_int32_t cp) {
    switch (cp) {
        case '.': case '!': case '?': case ';': case ':': case '\n': case '\r':
        case 0x2026: case 0x00A1: case 0x00BF: case 0x3002: case 0xFF01: case 0xFF1F:
            return true;
        default:
            return false;
    }
}
inline bool is_elision(std::string_view w) {
    static const char* const kElided[] = {"l", "d", "j", "n", "s", "c", "m", "t", "qu",
                                          "jusqu", "lorsqu", "puisqu", "quoiqu"};
    for (const char* e : kElided)
        if (w == e) return true;
    return false;
}

inline bool is_clitic(std::string_view w) {
    return w == "t" || w == "s" || w == "ll" || w == "ve" || w == "re" || w == "d" || w == "m";
}

/// NFKC + case folding (+ accent stripping) of a whole text through utf8proc. ASCII text is
/// only lower-cased (it is already in NFKC).
void normalize_social(std::string_view text, bool strip_accents, std::string& out) {
    bool ascii = true;
    for (unsigned char c : text)
        if (c >= 0x80) {
            ascii = false;
            break;
        }
    out.clear();
    if (ascii) {
        out.reserve(text.size());
        for (unsigned char c : text) out.push_back(kAscii.lower[c]);
        return;
    }
    utf8proc_uint8_t* mapped = nullptr;
    int options = UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
                  UTF8PROC_IGNORE;
    if (strip_accents) options |= UTF8PROC_STRIPMARK;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                      static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                                      static_cast<utf8proc_option_t>(options));
    if (n < 0) {  // invalid UTF-8 (ingest validates, so rare): lower-case ASCII, drop the rest
        for (unsigned char c : text) out.push_back(c < 0x80 ? kAscii.lower[c] : ' ');
        return;
    }
    out.assign(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n));
    std::free(mapped);
}

/// tmine's social tokenizer over normalised text: emit(token, kind) for each token and
/// boundary() at sentence punctuation (n-grams do not cross it).
template <class Emit, class Boundary>
void for_each_social_token(std::string_view t, const TokenizerOptions& o, Emit&& emit,
                           Boundary&& boundary) {
    const auto* base = reinterpret_cast<const utf8proc_uint8_t*>(t.data());
    const size_t len = t.size();
    auto cp_at = [&](size_t i, utf8proc_int32_t& cp) -> size_t {
        if (i >= len) {
            cp = -1;
            return 0;
        }
        if (base[i] < 0x80) {
            cp = base[i];
            return 1;
        }
        utf8proc_ssize_t n = utf8proc_iterate(base + i, len - i, &cp);
        if (n <= 0) {
            cp = 0xFFFD;
            return 1;
        }
        return static_cast<size_t>(n);
    };
    std::string piece;
    auto emit_word = [&](std::string_view w) {
        // w: word characters only (no connectors). Classify and length-check.
        size_t cps = 0;
        bool digits = true;
        for (size_t i = 0; i < w.size();) {
            utf8proc_int32_t cp;
            size_t n = cp_at(size_t(w.data() - t.data()) + i, cp);
            digits = digits && digit_cp(cp);
            ++cps;
            i += n;
        }
        if (digits) {
            if (o.numbers) emit(w, Kind::Number);
        } else if (cps >= 2) {
            emit(w, Kind::Word);
        }
    };
    size_t i = 0;
    bool prev_word = false;
    while (i < len) {
        utf8proc_int32_t cp;
        size_t n = cp_at(i, cp);
        // URLs
        if (!prev_word && (t.compare(i, 7, "http://") == 0 || t.compare(i, 8, "https://") == 0 ||
                           t.compare(i, 4, "www.") == 0)) {
            size_t end = i;
            while (end < len && !(base[end] == ' ' || base[end] == '\t' || base[end] == '\n' ||
                                  base[end] == '\r' || base[end] == '<' || base[end] == '>' ||
                                  base[end] == '"' || base[end] == '(' || base[end] == ')' ||
                                  base[end] == '[' || base[end] == ']'))
                ++end;
            std::string_view url = t.substr(i, end - i);
            while (!url.empty() && std::strchr(".,;:!?'", url.back())) url.remove_suffix(1);
            if (o.urls == TokenizerOptions::Urls::Keep) {
                emit(url, Kind::Url);
            } else if (o.urls == TokenizerOptions::Urls::Domain) {
                std::string_view host = url;
                if (auto p = host.find("://"); p != std::string_view::npos) host.remove_prefix(p + 3);
                if (auto p = host.find_first_of("/?#:"); p != std::string_view::npos) host = host.substr(0, p);
                if (host.rfind("www.", 0) == 0) host.remove_prefix(4);
                if (host.size() >= 2) emit(host, Kind::Url);
            }
            i = end;
            prev_word = false;
            continue;
        }
        // @mentions and #hashtags
        if ((cp == '@' || cp == '#') && !prev_word) {
            size_t j = i + 1;
            while (j < len) {
                utf8proc_int32_t c2;
                size_t m = cp_at(j, c2);
                if (!(word_cp(c2) || c2 == '_')) break;
                j += m;
            }
            if (j > i + 1) {
                if ((cp == '@' && o.mentions) || (cp == '#' && o.hashtags))
                    emit(t.substr(i, j - i), cp == '@' ? Kind::Mention : Kind::Hashtag);
                i = j;
                prev_word = true;
                continue;
            }
        }
        if (word_cp(cp)) {
            // A word: word characters joined by an apostrophe or (when kept) a hyphen that is
            // followed by another word character.
            size_t start = i, j = i;
            std::vector<std::pair<size_t, size_t>> parts;  // apostrophe-separated parts
            size_t part_start = i;
            while (j < len) {
                utf8proc_int32_t c2;
                size_t m = cp_at(j, c2);
                if (word_cp(c2)) {
                    j += m;
                    continue;
                }
                utf8proc_int32_t c3;
                size_t m3 = cp_at(j + m, c3);
                if (m3 && word_cp(c3) && (apostrophe(c2) || (c2 == '-' && o.hyphens))) {
                    if (apostrophe(c2)) {
                        parts.emplace_back(part_start, j);
                        part_start = j + m;
                    }
                    j += m;
                    continue;
                }
                break;
            }
            parts.emplace_back(part_start, j);
            size_t first = 0, last = parts.size();
            auto part = [&](size_t p) {
                return t.substr(parts[p].first, parts[p].second - parts[p].first);
            };
            std::string_view stem_of_nt;  // "didn't" -> "did"
            if (o.elisions && parts.size() > 1 && is_elision(part(0))) {
                first = 1;
            } else if (o.contractions && parts.size() == 2 && is_clitic(part(1))) {
                // English contractions: the clitic goes ('ll, 've, 're, 'd, 'm, 's); n't leaves
                // the verb ("don't" -> "do", "isn't" -> "is"; "can't" -> "can", "won't" -> "will").
                last = 1;
                std::string_view w0 = part(0);
                if (part(1) == "t" && w0.size() > 1 && w0.back() == 'n') {
                    if (w0 == "won") {
                        emit(std::string_view("will"), Kind::Word);  // not a substring of t
                        first = last;
                    } else if (w0 != "can") {
                        stem_of_nt = w0.substr(0, w0.size() - 1);  // a view into t
                    }
                }
            }
            for (size_t p = first; p < last; ++p) {
                std::string_view w = (p == 0 && !stem_of_nt.empty()) ? stem_of_nt : part(p);
                if (w.find('-') == std::string_view::npos) {
                    emit_word(w);
                } else {
                    // a hyphenated word: one token, unless all its pieces are numbers
                    size_t cps = 0;
                    bool has_letter = false;
                    for (size_t q = 0; q < w.size();) {
                        utf8proc_int32_t c4;
                        size_t m4 = cp_at(size_t(w.data() - t.data()) + q, c4);
                        has_letter = has_letter || (word_cp(c4) && !digit_cp(c4));
                        cps += c4 != '-';
                        q += m4;
                    }
                    if (has_letter && cps >= 2) emit(w, Kind::Word);
                    else if (!has_letter && o.numbers) emit(w, Kind::Number);
                }
            }
            (void)start;
            i = j;
            prev_word = true;
            continue;
        }
        prev_word = false;
        if (sentence_end(cp)) {
            boundary();
        } else if (o.emoji) {
            auto cat = utf8proc_category(cp);
            if (cat == UTF8PROC_CATEGORY_SO) emit(t.substr(i, n), Kind::Emoji);
        }
        i += n;
    }
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

namespace {

/// Snowball stemmer for one thread (libstemmer instances are not thread-safe).
class Stemmer {
public:
    explicit Stemmer(const std::string& language) {
        if (language.empty()) return;
        st_ = sb_stemmer_new(language.c_str(), "UTF_8");
        if (!st_) {
            std::string known;
            for (const char** l = sb_stemmer_list(); *l; ++l) known += std::string(known.empty() ? "" : ", ") + *l;
            throw InputError("--stem: no Snowball stemmer for '" + language + "' (known: " + known + ")");
        }
    }
    ~Stemmer() {
        if (st_) sb_stemmer_delete(st_);
    }
    Stemmer(const Stemmer&) = delete;
    Stemmer& operator=(const Stemmer&) = delete;
    bool active() const { return st_ != nullptr; }
    std::string_view stem(std::string_view w) {
        const sb_symbol* r = sb_stemmer_stem(st_, reinterpret_cast<const sb_symbol*>(w.data()),
                                             static_cast<int>(w.size()));
        if (!r) return w;
        return std::string_view(reinterpret_cast<const char*>(r), sb_stemmer_length(st_));
    }

private:
    sb_stemmer* st_ = nullptr;
};

/// Runs the chosen tokenizer over one text: emit(token, kind), boundary().
template <class Emit, class Boundary>
void for_each_token_of(std::string_view text, const TokenizerOptions& o, std::string& buf,
                       std::string& norm, Emit&& emit, Boundary&& boundary) {
    if (o.sklearn_compatible) {
        for_each_token(text, buf, [&](std::string_view t) { emit(t, Kind::Word); });
        return;
    }
    normalize_social(text, o.strip_accents, norm);
    for_each_social_token(norm, o, emit, boundary);
}

}  // namespace

TokenizerOptions::Urls TokenizerOptions::parse_urls(std::string_view s) {
    if (s == "domain") return Urls::Domain;
    if (s == "drop") return Urls::Drop;
    if (s == "keep") return Urls::Keep;
    throw InputError("--urls: expected domain, drop or keep, got '" + std::string(s) + "'");
}

void tokenize(std::string_view text, std::vector<std::string>& out) {
    tokenize(text, out, TokenizerOptions::sklearn());
}

void tokenize(std::string_view text, std::vector<std::string>& out, const TokenizerOptions& opts) {
    std::string buf, norm;
    for_each_token_of(
        text, opts, buf, norm, [&](std::string_view t, Kind) { out.emplace_back(t); }, [] {});
}

Tokenized tokenize_corpus(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts) {
    const int64_t n = static_cast<int64_t>(corpus.size());
    const int T = std::max(1, ctx.cpu_threads());
    if (opts.ngram_min < 1 || opts.ngram_max < opts.ngram_min)
        throw InputError("--ngram: expected MIN:MAX with 1 <= MIN <= MAX, got " +
                         std::to_string(opts.ngram_min) + ":" + std::to_string(opts.ngram_max));
    { Stemmer check(opts.stem); }  // an unknown language fails here, on the calling thread
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
    const std::unordered_set<std::string_view> stop(opts.stop_words.begin(), opts.stop_words.end());

    // Per part: raw tokens are interned once; each distinct raw token is mapped once to its
    // term (stop word -> dropped, word -> stemmed) in the part's term table, which also
    // holds the n-grams.
    std::vector<TermTable> terms(parts);
    std::vector<std::vector<int32_t>> local_tokens(parts);
    std::vector<std::vector<int64_t>> local_len(parts);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int p = 0; p < parts; ++p) {
        TermTable raw;
        std::vector<int32_t> raw_to_term;
        Stemmer stemmer(opts.stem);
        std::string buf, norm, gram;
        std::vector<int32_t> uni;       // the document's unigram terms
        std::vector<uint32_t> segment;  // their sentence index
        auto& table = terms[p];
        auto& toks = local_tokens[p];
        auto& lens = local_len[p];
        lens.reserve(bounds[p + 1] - bounds[p]);
        for (int64_t d = bounds[p]; d < bounds[p + 1]; ++d) {
            uni.clear();
            segment.clear();
            uint32_t seg = 0;
            for_each_token_of(
                corpus.text[d], opts.tokenizer, buf, norm,
                [&](std::string_view tok, Kind kind) {
                    int32_t r = raw.intern(tok);
                    if (r == static_cast<int32_t>(raw_to_term.size())) {  // first sight
                        int32_t term = -1;
                        if (!stop.count(tok))
                            term = table.intern(kind == Kind::Word && stemmer.active()
                                                    ? stemmer.stem(tok)
                                                    : tok);
                        raw_to_term.push_back(term);
                    }
                    if (raw_to_term[r] >= 0) {
                        uni.push_back(raw_to_term[r]);
                        segment.push_back(seg);
                    }
                },
                [&] { ++seg; });
            const size_t before = toks.size();
            if (opts.ngram_min <= 1) toks.insert(toks.end(), uni.begin(), uni.end());
            for (int g = std::max(2, opts.ngram_min); g <= opts.ngram_max; ++g)
                for (size_t i = 0; i + g <= uni.size(); ++i) {
                    if (segment[i] != segment[i + g - 1]) continue;  // crosses punctuation
                    gram.clear();
                    for (int j = 0; j < g; ++j) {
                        if (j) gram.push_back(' ');
                        gram.append(table.term(uni[i + j]));
                    }
                    toks.push_back(table.intern(gram));
                }
            lens.push_back(static_cast<int64_t>(toks.size() - before));
        }
    }

    // Global vocabulary: each part's distinct terms sorted (in parallel), then one k-way merge
    // that also yields every part's local -> global id map (no searches).
    std::vector<std::vector<int32_t>> order(parts), remap(parts);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int p = 0; p < parts; ++p) {
        auto& o = order[p];
        o.resize(terms[p].size());
        for (size_t i = 0; i < o.size(); ++i) o[i] = static_cast<int32_t>(i);
        const TermTable& t = terms[p];
        std::sort(o.begin(), o.end(), [&](int32_t a, int32_t b) { return t.term(a) < t.term(b); });
        remap[p].resize(o.size());
    }
    {
        using Head = std::pair<std::string_view, int>;  // (term, part)
        auto later = [](const Head& a, const Head& b) { return a.first > b.first || (a.first == b.first && a.second > b.second); };
        std::priority_queue<Head, std::vector<Head>, decltype(later)> heap(later);
        std::vector<size_t> pos(parts, 0);
        for (int p = 0; p < parts; ++p)
            if (!order[p].empty()) heap.emplace(terms[p].term(order[p][0]), p);
        while (!heap.empty()) {
            auto [term, p] = heap.top();
            heap.pop();
            if (out.vocab.empty() || out.vocab.back() != term) out.vocab.emplace_back(term);
            remap[p][order[p][pos[p]]] = static_cast<int32_t>(out.vocab.size() - 1);
            if (++pos[p] < order[p].size()) heap.emplace(terms[p].term(order[p][pos[p]]), p);
        }
    }

    // Concatenate in document order.
    out.doc_ptr.assign(n + 1, 0);
    std::vector<int64_t> part_start(parts + 1, 0);
    for (int p = 0; p < parts; ++p) part_start[p + 1] = part_start[p] + int64_t(local_tokens[p].size());
    out.tokens.resize(part_start[parts]);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int p = 0; p < parts; ++p) {
        int64_t w = part_start[p], r = 0;
        for (int64_t d = bounds[p]; d < bounds[p + 1]; ++d) {
            int64_t len = local_len[p][d - bounds[p]];
            for (int64_t j = 0; j < len; ++j) out.tokens[w++] = remap[p][local_tokens[p][r + j]];
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
