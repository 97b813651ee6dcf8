// Tokenisers (CPU): scikit-learn's default token rule, and tmine's tokenizer for social posts
// (docs/tokenizer.md); both Unicode-aware through utf8proc. Then stop words, Snowball stemming
// (libstemmer) and word n-grams, and the per-thread vocabularies merged into one sorted one.
#include <libstemmer.h>
#include <omp.h>
#include <parallel/algorithm>
#include <utf8proc.h>
// xxHash header-only: XXH3 inlines into the token loop (short keys, called per token).
#define XXH_INLINE_ALL
#include <xxhash.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <exception>
#include <memory>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "unicode_chars.hpp"
#include "tmine/huge_vector.hpp"
#include "tmine/parallel.hpp"
#include "tmine/error.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {
namespace {

/// ASCII word characters, per Python's \w: [A-Za-z0-9_], and ASCII lower-casing. Indexed by any
/// byte: bytes >= 0x80 (parts of multi-byte UTF-8 sequences) are not ASCII word characters and
/// lower-case to themselves, so a scan can run over them and stop.
struct AsciiTable {
    bool word[256];
    bool letter[256];
    uint8_t alnum[256];  // 1: a letter, 2: a digit, 0: anything else (bytes >= 0x80 too)
    char lower[256];
    AsciiTable() {
        for (int c = 0; c < 256; ++c) {
            letter[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            word[c] = letter[c] || (c >= '0' && c <= '9') || c == '_';
            alnum[c] = letter[c] ? 1 : (c >= '0' && c <= '9') ? 2 : 0;
            lower[c] = (c >= 'A' && c <= 'Z') ? char(c + 32) : char(c);
        }
    }
};
const AsciiTable kAscii;

/// Classifies the 16 bytes at p: bit i of the result is set when byte i is an ASCII word
/// character, of `capitals` when it is in [A-Z], of `high` when it is >= 0x80 (part of a
/// multi-byte character). SSE2 (every x86-64) where available, the tables otherwise; both give
/// the same bits. Lets the ASCII fast path find where a run ends without a branch per byte.
inline uint32_t classify16(const unsigned char* p, uint32_t& capitals, uint32_t& high) {
#if defined(__SSE2__)
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed byte compares: bytes >= 0x80 are negative, so they fall in none of the ranges.
    auto in = [](__m128i x, char lo, char hi) {
        return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(char(lo - 1))),
                             _mm_cmplt_epi8(x, _mm_set1_epi8(char(hi + 1))));
    };
    const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));  // A-Z -> a-z
    const __m128i word = _mm_or_si128(_mm_or_si128(in(folded, 'a', 'z'), in(v, '0', '9')),
                                      _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
    capitals = static_cast<uint32_t>(_mm_movemask_epi8(in(v, 'A', 'Z')));
    high = static_cast<uint32_t>(_mm_movemask_epi8(v));
    return static_cast<uint32_t>(_mm_movemask_epi8(word));
#else
    uint32_t word = 0;
    capitals = high = 0;
    for (int i = 0; i < 16; ++i) {
        word |= uint32_t(kAscii.word[p[i]]) << i;
        capitals |= uint32_t(p[i] - 'A' < 26u) << i;
        high |= uint32_t(p[i] >= 0x80) << i;
    }
    return word;
#endif
}

/// The ASCII letters and digits among the 16 bytes at p: bit i of the result is set when
/// byte i is in [A-Za-z0-9], of `digits` when it is in [0-9]. SSE2 where available, the table
/// otherwise (the same bits).
inline uint32_t alnum16(const unsigned char* p, uint32_t& digits) {
#if defined(__SSE2__)
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    auto in = [](__m128i x, char lo, char hi) {  // signed: bytes >= 0x80 are in no range
        return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(char(lo - 1))),
                             _mm_cmplt_epi8(x, _mm_set1_epi8(char(hi + 1))));
    };
    const __m128i d = in(v, '0', '9');
    const __m128i a = _mm_or_si128(in(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z'), d);
    digits = static_cast<uint32_t>(_mm_movemask_epi8(d));
    return static_cast<uint32_t>(_mm_movemask_epi8(a));
#else
    uint32_t a = 0;
    digits = 0;
    for (int i = 0; i < 16; ++i) {
        a |= uint32_t(kAscii.alnum[p[i]] != 0) << i;
        digits |= uint32_t(kAscii.alnum[p[i]] == 2) << i;
    }
    return a;
#endif
}

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
        if (b < 0x80 && buf.empty()) {
            // Fast path, taken when no token is pending: ASCII separators are skipped, and a
            // run of ASCII word bytes is a whole token when an ASCII byte (or the end) follows
            // it. ASCII lower-casing maps each byte to one byte and one code point, so the
            // token is the run itself when it has no capital, with no copy. A run followed by
            // a non-ASCII byte may continue with a Unicode letter: it goes to `buf` and the
            // general path below carries on from there, exactly as if it had read the run.
            // Skip ASCII separators up to a word byte or a non-ASCII one.
            if (!kAscii.word[b]) {
                prev_cased = false;
                ++p;
                while (end - p >= 16) {
                    uint32_t capitals, high;
                    const uint32_t next = classify16(p, capitals, high) | high;
                    if (next) {
                        p += __builtin_ctz(next);
                        break;
                    }
                    p += 16;
                }
                continue;
            }
            // The run of ASCII word bytes [p, q).
            const unsigned char* q = p;
            bool capital = false;
            for (;;) {
                if (end - q < 16) {
                    while (q < end && kAscii.word[*q]) {
                        capital |= static_cast<unsigned char>(*q - 'A') < 26;
                        ++q;
                    }
                    break;
                }
                uint32_t capitals, high;
                const uint32_t stop = ~classify16(q, capitals, high) & 0xFFFFu;
                if (stop) {
                    const int k = __builtin_ctz(stop);
                    capital |= (capitals & ((1u << k) - 1)) != 0;
                    q += k;
                    break;
                }
                capital |= capitals != 0;
                q += 16;
            }
            prev_cased = kAscii.letter[q[-1]];
            if (q == end || *q < 0x80) {
                if (q - p >= 2) {
                    if (!capital) {
                        emit(std::string_view(reinterpret_cast<const char*>(p), size_t(q - p)));
                    } else {
                        for (const auto* r = p; r < q; ++r) buf.push_back(kAscii.lower[*r]);
                        emit(std::string_view(buf));
                        buf.clear();
                    }
                }
            } else {
                for (const auto* r = p; r < q; ++r) buf.push_back(kAscii.lower[*r]);
                cps = size_t(q - p);
            }
            p = q;
            continue;
        }
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

/// French words written with an apostrophe that is no elision (aujourd'hui, quelqu'un): one
/// token, spelt with the ASCII apostrophe whichever one the text has; nullptr for other words.
/// `a` and `b` are the parts before and after the apostrophe (case-folded, accents possibly
/// stripped: both spellings are listed).
inline const char* french_apostrophe_word(std::string_view a, std::string_view b) {
    struct Word {
        const char *a, *b, *whole;
    };
    static const Word kWords[] = {
        {"aujourd", "hui", "aujourd'hui"},     {"quelqu", "un", "quelqu'un"},
        {"quelqu", "une", "quelqu'une"},       {"presqu", "\u00eele", "presqu'\u00eele"},
        {"presqu", "\u00eeles", "presqu'\u00eeles"}, {"presqu", "ile", "presqu'ile"},
        {"presqu", "iles", "presqu'iles"},     {"prud", "homme", "prud'homme"},
        {"prud", "hommes", "prud'hommes"},     {"prud", "homal", "prud'homal"},
        {"prud", "homale", "prud'homale"},     {"prud", "homales", "prud'homales"},
        {"prud", "homaux", "prud'homaux"},
    };
    if (a.size() < 4 || a.size() > 7) return nullptr;  // every listed first part
    for (const Word& w : kWords)
        if (a == w.a && b == w.b) return w.whole;
    return nullptr;
}

inline bool is_clitic(std::string_view w) {
    return w == "t" || w == "s" || w == "ll" || w == "ve" || w == "re" || w == "d" || w == "m";
}

/// The byte index of the first byte >= 0x80 in [i, n), or n. Eight bytes at a time.
inline size_t next_high(const unsigned char* p, size_t i, size_t n) {
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        if (const uint64_t h = w & 0x8080808080808080ull) return i + (__builtin_ctzll(h) >> 3);
    }
    for (; i < n; ++i)
        if (p[i] >= 0x80) return i;
    return n;
}

/// Decodes the code point at p[i] (i < n) into cp and returns its length, or 0 if invalid.
inline size_t decode_at(const unsigned char* p, size_t i, size_t n, utf8proc_int32_t& cp) {
    const utf8proc_ssize_t m =
        utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(n - i), &cp);
    return m > 0 ? static_cast<size_t>(m) : 0;
}

/// An Extended_Pictographic code point that NFKC and case folding leave as it is (🤷, ♂, ❤, 🏴;
/// not ™, which becomes "tm"): an emoji sequence joined through it survives the normalisation.
inline bool stable_pictograph(utf8proc_int32_t cp) {
    const utf8proc_property_t* q = utf8proc_get_property(cp);
    return q->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC &&
           q->decomp_seqindex == UINT16_MAX && q->casefold_seqindex == UINT16_MAX;
}

/// The default ignorables that the normalisation keeps because they make one emoji of several
/// code points (UAX #29 GB11, Unicode's emoji sequences): a zero-width joiner between two
/// stable pictographs (the first maybe followed by Extend code points that map to themselves: a
/// skin tone, the presentation selector), as in 🤷‍♂️ and ❤️‍🔥; and the tag characters (U+E0020..E007F)
/// right after 🏴, as in the flags of England, Scotland and Wales. Their byte ranges within
/// [from, to) of p, in order, go to `kept` (as [begin, end) pairs); false when there are none.
/// Every other ignorable (a ZWJ elsewhere, the variation selectors, soft hyphens) is removed
/// as UTF8PROC_IGNORE removes it.
bool kept_ignorables(const unsigned char* p, size_t from, size_t to,
                     std::vector<std::pair<size_t, size_t>>& kept) {
    kept.clear();
    // Cheap test first: a ZWJ is E2 80 8D, a tag character F3 A0 80/81 xx.
    bool any = false;
    for (size_t i = from; i + 2 < to && !any; ++i)
        any = (p[i] == 0xE2 && p[i + 1] == 0x80 && p[i + 2] == 0x8D) ||
              (p[i] == 0xF3 && p[i + 1] == 0xA0 && (p[i + 2] == 0x80 || p[i + 2] == 0x81));
    if (!any) return false;
    utf8proc_int32_t base = -1;  // the last stable pictograph, while only Extend follow it
    for (size_t i = from; i < to;) {
        utf8proc_int32_t cp;
        const size_t m = decode_at(p, i, to, cp);
        if (m == 0) return false;  // invalid UTF-8: the caller's fallback handles the text
        if (cp == kZeroWidthJoiner && base >= 0) {
            utf8proc_int32_t next;
            if (i + m < to && decode_at(p, i + m, to, next) && stable_pictograph(next))
                kept.emplace_back(i, i + m);
            base = -1;
        } else if (cp == kBlackFlag) {
            size_t j = i + m;
            utf8proc_int32_t tag;
            size_t t;
            while (j < to && (t = decode_at(p, j, to, tag)) && is_tag_character(tag)) j += t;
            if (j > i + m) {
                kept.emplace_back(i + m, j);
                i = j;
                base = -1;
                continue;
            }
            base = cp;
        } else if (stable_pictograph(cp)) {
            base = cp;
        } else {
            // an Extend code point keeps the pictograph joinable if it maps to itself (a skin
            // tone, U+FE0F, most marks), not if it maps to a letter (U+0345 case-folds to ι)
            const utf8proc_property_t* q = utf8proc_get_property(cp);
            if (q->boundclass != UTF8PROC_BOUNDCLASS_EXTEND || q->decomp_seqindex != UINT16_MAX ||
                q->casefold_seqindex != UINT16_MAX)
                base = -1;
        }
        i += m;
    }
    return !kept.empty();
}

/// NFKC + case folding (+ accent stripping) through utf8proc, equal to mapping the whole text
/// at once (tested against that on the Reddit corpus and random strings of combining marks,
/// Hangul jamo and ignorables) but only the non-ASCII runs go through utf8proc; ASCII is only
/// lower-cased (it is already in NFKC, and case folds to lower case). The one difference: the
/// joiners and tags of emoji sequences are kept (kept_ignorables()).
///
/// Why a run can be mapped alone: it is cut just before an ASCII character (or the text's
/// end) and starts one character early, at the ASCII character before it. Every ASCII character
/// is a starter (combining class 0) that is never the second half of a composition, so
/// canonical reordering, which moves only non-starters, cannot cross the cut, and nothing
/// before the cut composes with anything after it; case folding and compatibility mappings
/// are per code point. The ASCII character before a run goes with it because it may compose
/// with the run's first combining mark (e + U+0301 -> é), also across ignorables that
/// UTF8PROC_IGNORE removes. Invalid UTF-8 anywhere (ingest validates, so rare) maps the whole
/// text as before: ASCII lower-cased, every other byte a space.
/// A kept joiner or tag run cuts its run the same way: what follows it is a stable pictograph
/// (a starter that composes with nothing and maps to itself) or, after tags, whatever followed
/// 🏴, which composes with nothing before it; the pieces are mapped alone and the kept bytes
/// copied between them, so the text around an emoji sequence maps as it did.
void normalize_social(std::string_view text, bool strip_accents, std::string& out) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    out.clear();
    out.reserve(n);
    // ASCII only: A-Z -> a-z eight bytes at a time. With every byte below 0x80, adding 0x3F
    // (0x25) sets a byte's high bit exactly when it is >= 'A' (> 'Z'), with no carry out.
    auto lower_ascii = [&](size_t from, size_t to) {
        const size_t at = out.size();
        out.resize(at + (to - from));
        char* w = out.data() + at;
        size_t k = from;
        for (; k + 8 <= to; k += 8, w += 8) {
            uint64_t x;
            std::memcpy(&x, p + k, 8);
            const uint64_t upper = (x + 0x3F3F3F3F3F3F3F3Full) & ~(x + 0x2525252525252525ull) &
                                   0x8080808080808080ull;
            x |= upper >> 2;
            std::memcpy(w, &x, 8);
        }
        for (; k < to; ++k) *w++ = kAscii.lower[p[k]];
    };
    int options = UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
                  UTF8PROC_IGNORE;
    if (strip_accents) options |= UTF8PROC_STRIPMARK;
    const auto opt = static_cast<utf8proc_option_t>(options);
    thread_local std::vector<utf8proc_int32_t> cps(256);
    thread_local std::vector<std::pair<size_t, size_t>> kept;
    // Maps p[from, to) through utf8proc onto out; false on invalid UTF-8.
    auto map_piece = [&](size_t from, size_t to) {
        if (from == to) return true;
        const auto* seg = p + from;
        const auto len = static_cast<utf8proc_ssize_t>(to - from);
        // reencode writes m code points' UTF-8 and a NUL in place: room for m + 1 of them.
        auto room = static_cast<utf8proc_ssize_t>(cps.size()) - 1;
        utf8proc_ssize_t m = utf8proc_decompose(seg, len, cps.data(), room, opt);
        if (m > room) {
            cps.resize(static_cast<size_t>(m) + 1);
            m = utf8proc_decompose(seg, len, cps.data(), m, opt);
        }
        if (m >= 0) m = utf8proc_reencode(cps.data(), m, opt);  // composes; UTF-8 in place
        if (m < 0) return false;
        out.append(reinterpret_cast<const char*>(cps.data()), static_cast<size_t>(m));
        return true;
    };
    size_t i = 0;
    while (i < n) {
        const size_t j = next_high(p, i, n);
        if (j == n) {
            lower_ascii(i, n);
            break;
        }
        const size_t s = j > i ? j - 1 : j;  // i < j unless the text starts with the run
        lower_ascii(i, s);
        size_t e = j;
        while (e < n && p[e] >= 0x80) ++e;
        bool ok = true;
        if (kept_ignorables(p, j, e, kept)) {
            size_t at = s;
            for (const auto& [b, f] : kept) {
                ok = ok && map_piece(at, b);
                out.append(text.data() + b, f - b);
                at = f;
            }
            ok = ok && map_piece(at, e);
        } else {
            ok = map_piece(s, e);
        }
        if (!ok) {
            out.clear();
            for (unsigned char c : text) out.push_back(c < 0x80 ? kAscii.lower[c] : ' ');
            return;
        }
        i = e;
    }
}

/// The social tokenizer reads up to this many bytes past the end of its text, which must be
/// there and hold no ASCII letter or digit (normalize_social() leaves them in its output).
constexpr size_t kPad = 16;

/// tmine's social tokenizer over normalised text: emit(token, kind) for each token and
/// boundary() at sentence punctuation (n-grams do not cross it). Needs kPad bytes after t.
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
    std::vector<std::pair<size_t, size_t>> parts;  // a word's apostrophe-separated parts
    while (i < len) {
        if (base[i] == ' ') {  // the most common byte that is no token: what the end does
            prev_word = false;
            ++i;
            continue;
        }
        utf8proc_int32_t cp;
        size_t n = cp_at(i, cp);
        // URLs
        if (!prev_word && (cp == 'h' || cp == 'w') &&
            (t.compare(i, 7, "http://") == 0 || t.compare(i, 8, "https://") == 0 ||
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
            // on after the URL itself: the punctuation trimmed off its end ("see x.org. Then")
            // is read as such, so a full stop there ends the sentence for n-grams
            i += std::max<size_t>(url.size(), 1);
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
        if (cp < 0x80 && kAscii.alnum[cp]) {
            // Fast path: an ASCII word that ends at an ASCII byte that joins nothing (not an
            // apostrophe, not a hyphen) is one part with no elision or contraction; the
            // general path below gives it the same token.
            // 16 bytes at a time: t is followed by kPad readable bytes that are no letters.
            size_t j = i;
            bool letters = false;
            for (;;) {
                uint32_t digits;
                const uint32_t an = alnum16(base + j, digits);
                const uint32_t stop = ~an & 0xFFFFu;
                const uint32_t before = stop ? (1u << __builtin_ctz(stop)) - 1 : 0xFFFFu;
                letters |= (an & ~digits & before) != 0;
                if (stop) {
                    j += __builtin_ctz(stop);
                    break;
                }
                j += 16;
            }
            if (j == len || (base[j] < 0x80 && base[j] != '\'' && base[j] != '-')) {
                const std::string_view w = t.substr(i, j - i);
                if (!letters) {
                    if (o.numbers) emit(w, Kind::Number);
                } else if (w.size() >= 2) {
                    emit(w, Kind::Word);
                }
                i = j;
                prev_word = true;
                continue;
            }
        }
        if (word_cp(cp)) {
            // A word: word characters joined by an apostrophe or (when kept) a hyphen that is
            // followed by another word character.
            size_t start = i, j = i;
            parts.clear();  // reused: no allocation per word
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
            // aujourd'hui, prud'homme: one word, also after an elision (d'aujourd'hui)
            const char* whole = nullptr;
            if (o.elisions && parts.size() == 2) whole = french_apostrophe_word(part(0), part(1));
            if (o.elisions && parts.size() == 3 && is_elision(part(0)))
                whole = french_apostrophe_word(part(1), part(2));
            if (whole) {
                emit(std::string_view(whole), Kind::Word);  // a static string, like "will" below
                first = last;
            } else if (o.elisions && parts.size() > 1 && is_elision(part(0))) {
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
        } else if (o.emoji && cp >= 0x80 && utf8proc_category(cp) == UTF8PROC_CATEGORY_SO) {
            // no ASCII character is a symbol "So". An emoji token is the symbol and what its
            // grapheme cluster (UAX #29) joins to it: a flag's second regional indicator, a
            // skin tone, a variation selector, the rest of a ZWJ sequence. No separator of the
            // chunked tokenizer (ASCII) falls inside one.
            utf8proc_int32_t state = 0, prev = cp;
            size_t j = i + n;
            while (j < len) {
                utf8proc_int32_t c2;
                const size_t m = cp_at(j, c2);
                if (m == 0 || c2 < 0 || utf8proc_grapheme_break_stateful(prev, c2, &state)) break;
                prev = c2;
                j += m;
            }
            emit(t.substr(i, j - i), Kind::Emoji);
            i = j;
            continue;
        }
        i += n;
    }
}

/// True when the n bytes at a and b are equal. Tokens are short, so an inline loop over 8-byte
/// words beats a call to memcmp.
inline bool same_bytes(const char* a, const char* b, size_t n) {
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        uint64_t x, y;
        std::memcpy(&x, a, 8);
        std::memcpy(&y, b, 8);
        if (x != y) return false;
    }
    for (; n; ++a, ++b, --n)
        if (*a != *b) return false;
    return true;
}

/// The first 8 bytes of s as a big-endian number, zero-padded: comparing two of these orders
/// strings bytewise up to their first 8 bytes (a shorter string pads with zeros, which sort
/// before every byte), so only equal keys need the full comparison.
inline uint64_t prefix_key(std::string_view s) {
    // v: the first min(n, 8) bytes as a little-endian number, zero above, read without a loop
    // and without reading outside s (two overlapping loads; equal bytes OR to themselves).
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    uint64_t v = 0;
    if (n >= 8) {
        std::memcpy(&v, p, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + n - 4, 4);
        v = a | (uint64_t(b) << (8 * (n - 4)));
    } else if (n > 0) {
        v = p[0] | (uint64_t(p[n / 2]) << (8 * (n / 2))) | (uint64_t(p[n - 1]) << (8 * (n - 1)));
    }
    return __builtin_bswap64(v);
}

/// splitmix64's finaliser: a well-mixed 64-bit hash of z.
inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// Open-addressing map from strings to int32 values; keys live in one arena, numbered 0, 1,
/// 2... in order of first sight. A lookup per token is the tokenizer's hot path and its cost
/// is cache misses, so a slot holds the key's length, its first 8 bytes (prefix_key()) and the
/// value: looking up a key of up to 8 bytes (most words) reads one slot and nothing else, and
/// the frequent ones hit a small direct-mapped cache of such slots first. A longer key also
/// compares its tail in the arena, at an offset kept in a second array indexed like the slots.
class TermTable {
public:
    TermTable() { rehash(1 << 14); }
    /// A key of up to 8 bytes is its prefix_key() and length: those are mixed (splitmix64's
    /// finaliser) instead of hashing the bytes again; longer keys go through XXH3.
    static uint64_t hash(std::string_view s) { return hash(s, prefix_key(s)); }
    static inline __attribute__((always_inline)) uint64_t hash(std::string_view s, uint64_t head) {
        if (s.size() > 8) return XXH3_64bits(s.data(), s.size());
        return mix64(head + (uint64_t(s.size()) + 1) * 0x9E3779B97F4A7C15ull);
    }
    /// The number of s, added when new (a set of terms: each one's value is its number).
    int32_t intern(std::string_view s) {
        return find_or_add(s, [](int32_t id) { return id; });
    }
    /// The value of s. A new s is added with value make(its number); make may use other
    /// tables, not this one.
    template <class Make>
    inline __attribute__((always_inline)) int32_t find_or_add(std::string_view s, Make&& make) {
        const uint64_t head = prefix_key(s);
        const uint64_t h = hash(s, head);
        const auto len = static_cast<uint32_t>(s.size());
        // Keys of up to 8 bytes are equal when their heads and lengths are: those go through
        // a small direct-mapped cache first, which keeps the frequent words in a few cache
        // lines (in the table they would be spread over all of it).
        Slot* cached = nullptr;
        if (len <= 8) {
            cached = &cache_[(h >> 40) & (kCacheSize - 1)];
            if (cached->head == head && cached->len == len) return cached->value;
        }
        const size_t mask = slots_.size() - 1;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
            const Slot& sl = slots_[i];
            if (sl.len == kEmpty) {
                const int32_t value = make(static_cast<int32_t>(entries_.size()));
                if (cached) *cached = {head, len, value};
                entries_.push_back({arena_.size(), h, head, value});
                slots_[i] = {head, len, value};
                offs_[i] = arena_.size();
                arena_.insert(arena_.end(), s.begin(), s.end());
                if (entries_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
                return value;
            }
            if (sl.head == head && sl.len == len &&
                (len <= 8 || same_bytes(arena_.data() + offs_[i] + 8, s.data() + 8, len - 8))) {
                if (cached) *cached = sl;
                return sl.value;
            }
        }
    }
    size_t size() const { return entries_.size(); }
    std::string_view term(int32_t id) const {
        const uint64_t end = size_t(id) + 1 < entries_.size() ? entries_[id + 1].off : arena_.size();
        return std::string_view(arena_.data() + entries_[id].off, end - entries_[id].off);
    }
    uint64_t term_hash(int32_t id) const { return entries_[id].hash; }
    /// False for a dead entry (value -1: a stop word in a TermMapper's table), which is no term.
    bool live(int32_t id) const { return entries_[id].value >= 0; }
    /// prefix_key() of term(id): its sort key up to the first 8 bytes.
    uint64_t term_key(int32_t id) const { return entries_[id].head; }

private:
    static constexpr uint32_t kEmpty = 0xFFFFFFFFu;  // the length of an empty slot
    struct Slot {
        uint64_t head;
        uint32_t len;
        int32_t value;
    };
    struct Entry {
        uint64_t off;  // in arena_; the term ends where the next one starts
        uint64_t hash;
        uint64_t head;
        int32_t value;
    };
    void rehash(size_t n) {
        slots_.assign(n, Slot{0, kEmpty, 0});
        offs_.assign(n, 0);
        for (size_t id = 0; id < entries_.size(); ++id) {
            const Entry& e = entries_[id];
            size_t i = e.hash & (n - 1);
            while (slots_[i].len != kEmpty) i = (i + 1) & (n - 1);
            slots_[i] = {e.head, static_cast<uint32_t>(term(int32_t(id)).size()), e.value};
            offs_[i] = e.off;
        }
    }
    static constexpr size_t kCacheSize = 16384;
    std::vector<Slot> cache_ = std::vector<Slot>(kCacheSize, Slot{0, kEmpty, 0});
    // Probed at random: on huge pages (tmine/huge_vector.hpp).
    HugeVector<Slot> slots_;
    HugeVector<uint64_t> offs_;  // arena offset of the key in the slot of the same index
    HugeVector<Entry> entries_;
    HugeVector<char> arena_;
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
    const size_t n = norm.size();
    norm.append(kPad, '\0');  // for the 16-byte scans
    for_each_social_token(std::string_view(norm.data(), n), o, emit, boundary);
}

}  // namespace

TokenizerOptions::Urls TokenizerOptions::parse_urls(std::string_view s) {
    if (s == "domain") return Urls::Domain;
    if (s == "drop") return Urls::Drop;
    if (s == "keep") return Urls::Keep;
    throw InputError("--urls: expected domain, drop or keep, got '" + std::string(s) + "'");
}

std::string normalize_text(std::string_view text, bool strip_accents) {
    std::string out;
    normalize_social(text, strip_accents, out);
    return out;
}

void tokenize(std::string_view text, std::vector<std::string>& out) {
    tokenize(text, out, TokenizerOptions::sklearn());
}

void tokenize(std::string_view text, std::vector<std::string>& out, const TokenizerOptions& opts) {
    std::string buf, norm;
    for_each_token_of(
        text, opts, buf, norm, [&](std::string_view t, Kind) { out.emplace_back(t); }, [] {});
}

namespace {

/// Maps text to term ids the way tokenize_corpus does, for one thread: each distinct raw
/// token is mapped once, at first sight, to its term (stop word -> dropped, word -> stemmed)
/// in `table`, which also holds the n-grams. With a stemmer, a raw table keeps that term as
/// the token's value. Without one a token is its own term, so `table` itself is the raw table:
/// a stop word is an entry of it whose value is -1 (a dead entry, which is no term), every
/// other entry's value is its own number. (A stop word is entered only when a token equals it,
/// and no token holds a space, so no n-gram ever meets a dead entry.)
class TermMapper {
public:
    TermMapper(const VectorizeOptions& opts, const std::unordered_set<std::string_view>& stop,
               TermTable& table)
        : opts_(opts), stop_(stop), table_(table), stemmer_(opts.stem) {
        if (stemmer_.active()) {
            raw_ = std::make_unique<TermTable>();
            raw_other_ = std::make_unique<TermTable>();
        }
    }
    /// term(id) for each kept token of `text`, boundary() at each sentence end.
    template <class Term, class Boundary>
    void run(std::string_view text, Term&& term, Boundary&& boundary) {
        for_each_token_of(
            text, opts_.tokenizer, buf_, norm_,
            [&](std::string_view tok, Kind kind) {
                int32_t t;
                if (!raw_) {
                    t = table_.find_or_add(tok, [&](int32_t id) {
                        return stop_.count(tok) ? -1 : id;
                    });
                } else {
                    // words are stemmed, other tokens (a URL's host "running") are not: one raw
                    // table each, so a text's first kind does not decide for the other
                    TermTable& raw = kind == Kind::Word ? *raw_ : *raw_other_;
                    t = raw.find_or_add(tok, [&](int32_t) {
                        if (stop_.count(tok)) return -1;
                        return table_.intern(kind == Kind::Word ? stemmer_.stem(tok) : tok);
                    });
                }
                if (t >= 0) term(t);
            },
            boundary);
    }
    /// A whole document's terms and each one's sentence index (appended; the index counts on
    /// from `seg`).
    void run_document(std::string_view text, std::vector<int32_t>& uni, std::vector<uint32_t>& segment,
                      uint32_t seg = 0) {
        run(
            text,
            [&](int32_t t) {
                uni.push_back(t);
                segment.push_back(seg);
            },
            [&] { ++seg; });
    }

private:
    const VectorizeOptions& opts_;
    const std::unordered_set<std::string_view>& stop_;
    TermTable& table_;
    std::unique_ptr<TermTable> raw_, raw_other_;  // with a stemmer only: words, other tokens
    Stemmer stemmer_;
    std::string buf_, norm_;
};

/// Term ids that name their table, for the chunked tokenizer, whose distinct chunks are
/// mapped by several threads, each into its own table, and whose n-grams are built in parts,
/// each into its own gram table: table t's id i is (t << shift) | i, with as few table bits as
/// the tables need (2 tables: 2^30 terms each), so table 0's ids are themselves.
constexpr int kMaxTables = 32;
/// With n-grams: at most this many mapper tables and as many n-gram tables (16 tables in all
/// leave 2^27 terms to each).
constexpr int kMaxGramTables = 8;
constexpr int kMixedTables = -1;
/// The CPU tokenizer's n-gram ids: a part's terms are its thread's unigrams (ids of its string
/// table) and n-grams (ids of its gram table, with this bit set).
constexpr int32_t kGramBit = int32_t(1) << 30;
/// A table of the chunked tokenizer has no id left (TermCode's bits); that tokenizer then
/// hands the corpus to the CPU one, whose tables have 2^30 ids or more.
class TableFull : public InputError {
public:
    using InputError::InputError;
};
struct TermCode {
    int shift = 31;
    explicit TermCode(int tables) {
        int bits = 0;
        while ((1 << bits) < tables) ++bits;
        shift = 31 - bits;
    }
    int32_t mask() const { return int32_t((uint32_t(1) << shift) - 1); }
    int32_t encode(int table, int32_t id) const {
        if (id > mask())
            throw TableFull("vectorize: more than " + std::to_string(int64_t(mask()) + 1) +
                            " distinct terms in one tokenizer thread's table");
        return int32_t(uint32_t(table) << shift) | id;
    }
    int table(int32_t t) const { return static_cast<int>(uint32_t(t) >> shift); }
    int32_t id(int32_t t) const { return t & mask(); }
};

/// One thread's n-grams, as chains of ids rather than text: a gram of n words is the pair
/// (the gram of its first n - 1 words, or the first word when n = 2; its last word), words
/// being unigram ids that name their table (TermCode). Finding a gram is one probe of an
/// integer hash map: no text is built per occurrence, and the vocabulary orders the grams by
/// their words' ranks (order_grams()), building each distinct gram's text once.
class GramTable {
public:
    GramTable() { rehash(1 << 14); }
    /// The id of the gram (level words) made of gram or word `prefix` and word `last`.
    int32_t find_or_add(int level, int32_t prefix, int32_t last) {
        const uint64_t key = key_of(prefix, last);
        const uint64_t h = hash(key, level);
        const size_t mask = slots_.size() - 1;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
            Slot& sl = slots_[i];
            if (sl.id < 0) {
                if (entries_.size() >= size_t(std::numeric_limits<int32_t>::max()))
                    throw InputError("vectorize: more than 2^31 distinct n-grams in one tokenizer thread");
                const int32_t id = static_cast<int32_t>(entries_.size());
                sl = {key, id, level};
                entries_.push_back({prefix, last, level});
                if (entries_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
                return id;
            }
            if (sl.key == key && sl.level == level) return sl.id;
        }
    }
    size_t size() const { return entries_.size(); }
    int level(int32_t id) const { return entries_[id].level; }
    int32_t prefix(int32_t id) const { return entries_[id].prefix; }
    int32_t last(int32_t id) const { return entries_[id].last; }

private:
    struct Slot {
        uint64_t key;
        int32_t id;  // -1: empty
        int32_t level;
    };
    struct Entry {
        int32_t prefix, last, level;
    };
    static uint64_t key_of(int32_t prefix, int32_t last) {
        return (uint64_t(uint32_t(prefix)) << 32) | uint32_t(last);
    }
    static uint64_t hash(uint64_t key, int level) { return mix64(key + uint64_t(level) * 0x9E3779B97F4A7C15ull); }
    void rehash(size_t n) {
        slots_.assign(n, Slot{0, -1, 0});
        for (size_t id = 0; id < entries_.size(); ++id) {
            const Entry& e = entries_[id];
            const uint64_t key = key_of(e.prefix, e.last);
            size_t i = hash(key, e.level) & (n - 1);
            while (slots_[i].id >= 0) i = (i + 1) & (n - 1);
            slots_[i] = {key, static_cast<int32_t>(id), e.level};
        }
    }
    HugeVector<Slot> slots_;  // probed at random: on huge pages
    std::vector<Entry> entries_;
};

/// Appends a document's terms to `toks`: its unigrams `uni` when ngram_min is 1, then its
/// n-grams of each length in turn, which never join terms of different sentences (segment[i]
/// is term i's sentence): ids of `grams` as table `gram_table` of `code`, or, without a code,
/// with kGramBit set. chain[i] holds the id of the current length's gram at i (-1: it crosses).
void append_gram_terms(const std::vector<int32_t>& uni, const std::vector<uint32_t>& segment,
                       const VectorizeOptions& opts, GramTable* grams, const TermCode* code,
                       int gram_table, std::vector<int32_t>& chain, HugeVector<int32_t>& toks) {
    if (opts.ngram_min <= 1) toks.insert(toks.end(), uni.begin(), uni.end());
    if (opts.ngram_max < 2) return;
    const size_t n = uni.size();
    chain.assign(uni.begin(), uni.end());
    for (int g = 2; g <= opts.ngram_max; ++g)
        for (size_t i = 0; i + g <= n; ++i) {
            if (chain[i] < 0 || segment[i] != segment[i + g - 1]) {  // crosses punctuation
                chain[i] = -1;
                continue;
            }
            chain[i] = grams->find_or_add(g, chain[i], uni[i + g - 1]);
            if (g < opts.ngram_min) continue;
            if (code) {
                toks.push_back(code->encode(gram_table, chain[i]));
            } else {
                if (chain[i] >= kGramBit)
                    throw InputError("vectorize: more than 2^30 distinct n-grams in one tokenizer thread");
                toks.push_back(chain[i] | kGramBit);
            }
        }
}

void check_options(const VectorizeOptions& opts) {
    if (opts.ngram_min < 1 || opts.ngram_max < opts.ngram_min)
        throw InputError("--ngram: expected MIN:MAX with 1 <= MIN <= MAX, got " +
                         std::to_string(opts.ngram_min) + ":" + std::to_string(opts.ngram_max));
    Stemmer check(opts.stem);  // an unknown language fails here, on the calling thread
}

/// Puts the n-grams of `grams` (tables S.., after the S string tables, in `code`) into the
/// sorted vocabulary of unigrams `vocab`, whose ranks remap[t][id] holds for string table t's
/// live ids: returns the texts of both, sorted bytewise (taking vocab's), and leaves in
/// remap[t] the final ids of the string tables' live terms and in remap[S + k] those of gram
/// table k's grams of ngram_min words or more.
/// A gram is the sequence of its words' ranks; sequences compare word by word, a sequence
/// before its extensions. That is the bytewise order of the texts joined by spaces whenever no
/// word holds a byte below the space (which sorts before every other byte of a word). When one
/// does (`--urls keep` lets a URL hold a control byte), the joined texts are compared byte by
/// byte instead, without being built. Equal sequences from different tables are one term.
TermTexts order_grams(const std::vector<TermTable>& terms, const std::vector<GramTable>& grams,
                      const TermCode& code, bool paired, int ngram_min, int ngram_max, int T,
                      std::vector<std::string>& vocab, std::vector<std::vector<int32_t>>& remap) {
    const int S = static_cast<int>(terms.size()), K = static_cast<int>(grams.size());
    const int L = ngram_max;
    const int64_t U = static_cast<int64_t>(vocab.size());
    // Words are ids of string table k when `paired` (gram table k serves string table k's
    // thread: the CPU tokenizer), else ids that name their table (`code`).
    auto rank_in = [&](int k, int32_t w) {
        return paired ? remap[k][w] : remap[code.table(w)][code.id(w)];
    };
    // A gram's words as ranks + 1 into L slots (0 after its last word), along its prefix chain.
    auto words_of = [&](int k, int32_t id, uint32_t* w) {
        const GramTable& g = grams[k];
        const int level = g.level(id);
        std::fill(w + level, w + L, 0u);
        for (int j = level - 1; j >= 1; --j) {
            w[j] = uint32_t(rank_in(k, g.last(id))) + 1;
            if (j > 1) id = g.prefix(id);
        }
        w[0] = uint32_t(rank_in(k, g.prefix(id))) + 1;
    };
    bool low_byte = false;  // a word with a byte below the space: compare the joined texts
#pragma omp parallel for num_threads(T) reduction(|| : low_byte)
    for (int64_t r = 0; r < U; ++r)
        for (unsigned char c : vocab[r]) low_byte = low_byte || c < 0x20;
    // Compares the texts of word sequences a and b (na, nb words) joined by spaces, bytewise.
    auto compare_joined = [&](const uint32_t* a, int na, const uint32_t* b, int nb) {
        int ia = 0, ib = 0;
        size_t pa = 0, pb = 0;
        // The next byte of a sequence's text (-1 at its end): a word's bytes, then a space.
        auto next = [&](const uint32_t* w, int n, int& i, size_t& p) -> int {
            if (i >= n) return -1;
            const std::string& t = vocab[w[i] - 1];
            if (p < t.size()) return static_cast<unsigned char>(t[p++]);
            ++i;
            p = 0;
            return i < n ? ' ' : -1;
        };
        for (;;) {
            const int ca = next(a, na, ia, pa), cb = next(b, nb, ib, pb);
            if (ca != cb) return ca < cb ? -1 : 1;
            if (ca < 0) return 0;
        }
    };
    auto length = [&](const uint32_t* w) {
        int n = 0;
        while (n < L && w[n]) ++n;
        return n;
    };

    // The grams that are terms (ngram_min words or more), with their sort keys.
    struct Ref {
        uint64_t key;  // the words packed, when they fit in 64 bits
        int32_t table, id;
    };
    std::vector<int64_t> start(K + 1, 0);
    for (int k = 0; k < K; ++k) {
        int64_t c = 0;
        for (int32_t id = 0; id < static_cast<int32_t>(grams[k].size()); ++id) c += grams[k].level(id) >= ngram_min;
        start[k + 1] = start[k] + c;
    }
    const int64_t R = start[K];
    const int bits = 64 / L;
    const bool packed = !low_byte && (bits >= 32 || (uint64_t(U) + 1) < (uint64_t(1) << bits));
    std::vector<Ref> refs(R);
    std::vector<uint32_t> ref_words;  // unpacked: each ref's words, L slots
    if (!packed) ref_words.resize(R * L);
    ParallelErrors errors;
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int k = 0; k < K; ++k) {
        errors.run([&] {
            int64_t o = start[k];
            std::vector<uint32_t> w(L);
            for (int32_t id = 0; id < static_cast<int32_t>(grams[k].size()); ++id) {
                if (grams[k].level(id) < ngram_min) continue;
                uint64_t key = 0;
                if (packed) {
                    words_of(k, id, w.data());
                    for (int j = 0; j < L; ++j) key = (key << bits) | w[j];
                    if (bits * L < 64) key <<= 64 - bits * L;
                } else {
                    words_of(k, id, ref_words.data() + o * L);
                }
                refs[o++] = {key, k, id};
            }
        });
    }
    errors.rethrow();
    // Sort (the refs themselves by their packed keys, else an index), then equal sequences
    // become one term.
    std::vector<int64_t> order;
    if (!packed) {
        order.resize(R);
        for (int64_t i = 0; i < R; ++i) order[i] = i;
    }
    auto at = [&](int64_t i) { return packed ? i : order[i]; };  // the i-th ref in order
    auto sort = [&](auto first, auto last, auto less) {
        if (T > 1)
            __gnu_parallel::sort(first, last, less, __gnu_parallel::parallel_tag(T));
        else
            std::sort(first, last, less);
    };
    if (packed) {
        sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) { return a.key < b.key; });
    } else {
        sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
            const uint32_t* wa = ref_words.data() + a * L;
            const uint32_t* wb = ref_words.data() + b * L;
            if (low_byte) return compare_joined(wa, length(wa), wb, length(wb)) < 0;
            return std::lexicographical_compare(wa, wa + L, wb, wb + L);
        });
    }
    auto same = [&](int64_t a, int64_t b) {  // refs a and b in order
        if (packed) return refs[a].key == refs[b].key;
        return std::equal(ref_words.data() + a * L, ref_words.data() + (a + 1) * L, ref_words.data() + b * L);
    };
    std::vector<int32_t> distinct_of(R);  // position in order -> distinct gram
    std::vector<int64_t> first_of;        // distinct gram -> its first position in order
    for (int64_t i = 0; i < R; ++i) {
        if (i == 0 || !same(at(i - 1), at(i))) first_of.push_back(i);
        distinct_of[i] = static_cast<int32_t>(first_of.size()) - 1;
    }
    const int64_t D = static_cast<int64_t>(first_of.size());
    if (U + D > std::numeric_limits<int32_t>::max())
        throw InputError("vectorize: more than 2^31 distinct terms");
    // The distinct grams' words, kept for their texts (TermTexts).
    std::vector<uint32_t> words(D * L);
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t j = 0; j < D; ++j) {
        const int64_t i = at(first_of[j]);
        if (packed)
            words_of(refs[i].table, refs[i].id, words.data() + j * L);
        else
            std::copy_n(ref_words.data() + i * L, L, words.data() + j * L);
    }
    ref_words = std::vector<uint32_t>();
    // Merge with the unigrams: unigram r goes before a gram whose first word's rank is r or
    // more (or, with a low byte, whose joined text is not smaller).
    std::vector<int32_t> pos_u(U), pos_g(D);
    {
        int64_t j = 0, next = 0;
        for (int64_t r = 0; r < U; ++r) {
            const uint32_t uni = uint32_t(r) + 1;
            for (; j < D; ++j) {
                const uint32_t* w = words.data() + j * L;
                const bool gram_first = low_byte ? compare_joined(w, length(w), &uni, 1) < 0 : w[0] < uni;
                if (!gram_first) break;
                pos_g[j] = static_cast<int32_t>(next++);
            }
            pos_u[r] = static_cast<int32_t>(next++);
        }
        for (; j < D; ++j) pos_g[j] = static_cast<int32_t>(next++);
    }
    // Each term's source: its unigram, or its distinct gram (TermTexts).
    std::vector<int64_t> source(U + D);
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t j = 0; j < D; ++j) source[pos_g[j]] = -1 - j;
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t r = 0; r < U; ++r) source[pos_u[r]] = r;
    // Final ids: the string tables' live terms, then every gram that is a term.
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int t = 0; t < S; ++t)
        for (int32_t i = 0; i < static_cast<int32_t>(terms[t].size()); ++i)
            if (terms[t].live(i)) remap[t][i] = pos_u[remap[t][i]];
    remap.resize(S + K);
    for (int k = 0; k < K; ++k) remap[S + k].assign(grams[k].size(), -1);
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t i = 0; i < R; ++i) {
        const Ref& r = refs[at(i)];
        remap[S + r.table][r.id] = pos_g[distinct_of[i]];
    }
    return TermTexts(std::move(vocab), L, std::move(words), std::move(source));
}

/// The sorted vocabulary of every table's terms and the documents' tokens renumbered into it.
/// Part p holds documents [bounds[p], bounds[p + 1]): local_len[p] tokens each, ids into
/// terms[table_of[p]] (a table serves one thread, which may map several parts), or, where
/// table_of[p] is kMixedTables, ids that name their table themselves (`code`).
void assemble(const std::vector<TermTable>& terms, const std::vector<GramTable>& grams,
              const std::vector<int>& table_of, const std::vector<HugeVector<int32_t>>& local_tokens,
              const std::vector<std::vector<int64_t>>& local_len, const std::vector<int64_t>& bounds,
              int T, Tokenized& out, const TermCode& code = TermCode(1), int ngram_min = 1,
              int ngram_max = 1) {
    // Gram tables paired with string tables: parts name their string table (table_of[p]) and
    // their grams carry kGramBit; else every id names its table (kMixedTables).
    const bool paired = !grams.empty() && table_of[0] != kMixedTables;
    const int tables = static_cast<int>(terms.size());
    const int parts = static_cast<int>(local_tokens.size());
    const int64_t n = bounds.back();
    // Global vocabulary, sorted bytewise, and every part's local -> global id map (remap).
    // The terms of all parts are split into key ranges (shards) at splitters sampled from the
    // terms, so each shard is deduplicated and sorted on its own, in parallel, and the sorted
    // shards concatenate into the vocabulary. Terms compare by prefix_key() first, then whole.
    struct Key {
        uint64_t head;
        std::string_view term;
        bool operator<(const Key& o) const { return head != o.head ? head < o.head : term < o.term; }
    };
    auto key = [&](int p, int32_t id) { return Key{terms[p].term_key(id), terms[p].term(id)}; };
    std::vector<Key> splitters;
    {
        std::vector<Key> sample;
        for (int p = 0; p < tables; ++p) {
            const size_t m = terms[p].size(), step = std::max<size_t>(1, m / 256);
            for (size_t i = 0; i < m; i += step) sample.push_back(key(p, static_cast<int32_t>(i)));
        }
        std::sort(sample.begin(), sample.end());
        const int wanted = T * 4;
        for (int k = 1; k < wanted && !sample.empty(); ++k) {
            const Key& sp = sample[sample.size() * k / wanted];
            if (splitters.empty() || splitters.back() < sp) splitters.push_back(sp);
        }
    }
    const int shards = static_cast<int>(splitters.size()) + 1;
    // members[p][s]: table p's term ids that fall in shard s (a term t is in shard s when
    // exactly s splitters are <= t).
    std::vector<std::vector<std::vector<int32_t>>> members(tables);
    std::vector<std::vector<int32_t>> remap(tables);
    ParallelErrors errors;
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int p = 0; p < tables; ++p) {
        errors.run([&] {
            members[p].resize(shards);
            remap[p].resize(terms[p].size());
            for (int32_t i = 0; i < static_cast<int32_t>(terms[p].size()); ++i) {
                if (!terms[p].live(i)) continue;  // a stop word: no token refers to it
                const Key k = key(p, i);
                const auto s = std::upper_bound(splitters.begin(), splitters.end(), k) - splitters.begin();
                members[p][s].push_back(i);
            }
        });
    }
    errors.rethrow();
    struct Ref {
        int32_t part, id;
    };
    std::vector<std::vector<Ref>> shard_terms(shards);  // each shard's distinct terms, sorted
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int s = 0; s < shards; ++s) {
        errors.run([&] {
            // Deduplicate: an open-addressing set of the shard's distinct terms (by their hash);
            // remap temporarily holds each table term's index in `distinct`.
            size_t count = 0;
            for (int p = 0; p < tables; ++p) count += members[p][s].size();
            size_t cap = 16;
            while (cap < 2 * count) cap *= 2;
            std::vector<int32_t> set(cap, -1);
            std::vector<Ref> distinct;
            std::vector<uint64_t> distinct_hash;
            for (int p = 0; p < tables; ++p)
                for (int32_t i : members[p][s]) {
                    const uint64_t h = terms[p].term_hash(i);
                    const std::string_view t = terms[p].term(i);
                    size_t j = h & (cap - 1);
                    for (; set[j] >= 0; j = (j + 1) & (cap - 1)) {
                        const Ref& u = distinct[set[j]];
                        if (distinct_hash[set[j]] == h && terms[u.part].term(u.id) == t) break;
                    }
                    if (set[j] < 0) {
                        set[j] = static_cast<int32_t>(distinct.size());
                        distinct.push_back({p, i});
                        distinct_hash.push_back(h);
                    }
                    remap[p][i] = set[j];
                }
            // Sort, then turn indices in `distinct` into ranks within the shard.
            std::vector<int32_t> order(distinct.size()), rank(distinct.size());
            for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
            std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
                return key(distinct[a].part, distinct[a].id) < key(distinct[b].part, distinct[b].id);
            });
            auto& sorted = shard_terms[s];
            sorted.resize(order.size());
            for (size_t r = 0; r < order.size(); ++r) {
                rank[order[r]] = static_cast<int32_t>(r);
                sorted[r] = distinct[order[r]];
            }
            for (int p = 0; p < tables; ++p)
                for (int32_t i : members[p][s]) remap[p][i] = rank[remap[p][i]];
        });
    }
    errors.rethrow();
    std::vector<int32_t> shard_start(shards + 1, 0);
    for (int s = 0; s < shards; ++s)
        shard_start[s + 1] = shard_start[s] + static_cast<int32_t>(shard_terms[s].size());
    out.vocab.resize(shard_start[shards]);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int s = 0; s < shards; ++s) {
        errors.run([&] {
            for (size_t r = 0; r < shard_terms[s].size(); ++r) {
                const Ref& u = shard_terms[s][r];
                out.vocab[shard_start[s] + r] = std::string(terms[u.part].term(u.id));
            }
            for (int p = 0; p < tables; ++p)
                for (int32_t i : members[p][s]) remap[p][i] += shard_start[s];
        });
    }
    errors.rethrow();
    if (!grams.empty()) {
        out.texts = order_grams(terms, grams, code, paired, ngram_min, ngram_max, T, out.vocab, remap);
        out.vocab.clear();  // its texts are out.texts
    }

    // Concatenate in document order.
    out.doc_ptr.assign(n + 1, 0);
    std::vector<int64_t> part_start(parts + 1, 0);
    for (int p = 0; p < parts; ++p) part_start[p + 1] = part_start[p] + int64_t(local_tokens[p].size());
    out.tokens.resize(part_start[parts]);
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int p = 0; p < parts; ++p) {
        int64_t w = part_start[p], r = 0;
        const int32_t* in = local_tokens[p].data();
        if (table_of[p] == kMixedTables) {
            for (int64_t d = bounds[p]; d < bounds[p + 1]; ++d) {
                const int64_t len = local_len[p][d - bounds[p]];
                for (int64_t j = 0; j < len; ++j) {
                    const int32_t t = in[r + j];
                    out.tokens[w++] = remap[t >> code.shift][t & code.mask()];
                }
                r += len;
                out.doc_ptr[d + 1] = w;
            }
            continue;
        }
        const std::vector<int32_t>& map = remap[table_of[p]];
        if (paired) {
            const std::vector<int32_t>& gmap = remap[tables + table_of[p]];
            for (int64_t d = bounds[p]; d < bounds[p + 1]; ++d) {
                const int64_t len = local_len[p][d - bounds[p]];
                for (int64_t j = 0; j < len; ++j) {
                    const int32_t t = in[r + j];
                    out.tokens[w++] = t & kGramBit ? gmap[t & ~kGramBit] : map[t];
                }
                r += len;
                out.doc_ptr[d + 1] = w;
            }
            continue;
        }
        for (int64_t d = bounds[p]; d < bounds[p + 1]; ++d) {
            int64_t len = local_len[p][d - bounds[p]];
            for (int64_t j = 0; j < len; ++j) out.tokens[w++] = map[in[r + j]];
            r += len;
            out.doc_ptr[d + 1] = w;
        }
    }
}

}  // namespace

std::string TermTexts::text(int64_t id) const {
    const int64_t s = source_[id];
    if (s >= 0) return unigrams_[s];
    const uint32_t* w = words_.data() + (-1 - s) * max_words_;
    std::string t;
    for (int j = 0; j < max_words_ && w[j]; ++j) {
        if (j) t.push_back(' ');
        t.append(unigrams_[w[j] - 1]);
    }
    return t;
}

std::vector<std::string> TermTexts::take_all(int threads) {
    const int64_t n = size();
    std::vector<std::string> out(n);
    // The n-grams first (they read the unigrams), then the unigrams, moved.
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(dynamic, 4096)
    for (int64_t i = 0; i < n; ++i)
        if (source_[i] < 0) out[i] = text(i);
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(dynamic, 4096)
    for (int64_t i = 0; i < n; ++i)
        if (source_[i] >= 0) out[i] = std::move(unigrams_[source_[i]]);
    *this = TermTexts();
    return out;
}

namespace {
/// A Tokenized whose texts are on demand gets them all in `vocab`.
void take_texts(Tokenized& t, int threads) {
    if (t.texts.size() > 0) t.vocab = t.texts.take_all(threads);
}
}  // namespace

namespace chunking {

// Why these bytes separate chunks: at each of them the tokenizer keeps no state from the text
// before (no token is pending, and what comes next starts as after white space), and for the
// social tokenizer the NFKC + case folding of the whole text equals that of the pieces joined
// (the separators are starters that no character composes with; '<', '>' and '=' are not
// separators because they compose with U+0338).
// - scikit-learn's rule: every ASCII byte but [A-Za-z0-9_] ends a token and resets the case
//   context of a final sigma (no ASCII separator is cased).
// - the social tokenizer: white space, '"', '(', ')', '[', ']' end URLs, words, mentions and
//   hashtags alike and leave "no word before"; a line break also ends a sentence, so it is a
//   chunk of its own (the host maps it to a boundary).
Plan plan(const TokenizerOptions& o) {
    Plan p{};
    for (int b = 0; b < 256; ++b) p.cls[b] = kInside;
    if (o.sklearn_compatible) {
        for (int b = 0; b < 0x80; ++b)
            if (!kAscii.word[b]) p.cls[b] = kSeparator;
        return p;
    }
    for (unsigned char b : {' ', '\t', '"', '(', ')', '[', ']'}) p.cls[b] = kSeparator;
    p.cls[static_cast<unsigned char>('\n')] = kAlone;
    p.cls[static_cast<unsigned char>('\r')] = kAlone;
    return p;
}

}  // namespace chunking

namespace {

Tokenized tokenize_terms_on(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts);

/// Cut points 0 = cut[0] <= ... <= cut[P] = n splitting items [0, n), whose running sizes are
/// off[0..n], into P ranges of about equal size.
template <class Offset>
std::vector<int64_t> balanced_cuts(const std::vector<Offset>& off, int P) {
    const int64_t n = static_cast<int64_t>(off.size()) - 1;
    std::vector<int64_t> cut(P + 1, n);
    cut[0] = 0;
    for (int q = 1; q < P; ++q)
        cut[q] = std::lower_bound(off.begin(), off.end() - 1, Offset(off.back() / P * q)) - off.begin();
    for (int q = 1; q <= P; ++q) cut[q] = std::max(cut[q], cut[q - 1]);
    return cut;
}

/// tokenize_corpus through chunks: the chunking and expansion on the GPU (`device`) or its CPU
/// twin, the distinct chunks tokenised here (one TermMapper and table per thread), documents
/// with a chunk that cannot be tokenised alone tokenised whole, n-grams in parallel parts (one
/// table per thread), then the sorted vocabulary.
Tokenized tokenize_chunked_once(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts,
                                bool device, int64_t batch_bytes) {
    const int64_t n = static_cast<int64_t>(corpus.size());
    const int T = std::max(1, ctx.cpu_threads());
    check_options(opts);
    const std::unordered_set<std::string_view> stop(opts.stop_words.begin(), opts.stop_words.end());
    const chunking::Plan plan = chunking::plan(opts.tokenizer);
    const bool ngrams = opts.ngram_max > 1;
    const bool social = !opts.tokenizer.sklearn_compatible;

    // Parts of documents in order (bounds), each with its tokens, whose ids name their table
    // (TermCode). The distinct chunks of a batch are mapped by up to M threads, each into its
    // own table (tables 0..M-1); table 0's ids are themselves, so a document tokenised whole by
    // mapper 0 fits in. With n-grams, or a document tokenised whole, a batch is cut into parts
    // that build their documents' terms in parallel, each part's n-grams in its thread's own
    // gram table (tables M..M+G-1 of the code, grams[0..G-1]).
    const int M = std::min(T, ngrams ? kMaxGramTables : kMaxTables);
    const int G = ngrams ? std::min(T, kMaxGramTables) : 0;
    const TermCode code(M + G);
    std::vector<TermTable> terms(M);
    std::vector<GramTable> grams(G);
    std::vector<std::unique_ptr<TermMapper>> mappers(M);
    for (int t = 0; t < M; ++t) mappers[t] = std::make_unique<TermMapper>(opts, stop, terms[t]);
    TermMapper& mapper = *mappers[0];
    std::vector<HugeVector<int32_t>> local_tokens;
    std::vector<std::vector<int64_t>> local_len;
    std::vector<int64_t> bounds{0};
    bool fallback = false;  // some distinct chunk of this batch cannot be tokenised alone
    auto map_range = [&](const std::string& bytes, const std::vector<int64_t>& offsets, size_t lo,
                         size_t hi, int t, chunking::Items& out, bool& fell_back) {
        for (size_t i = lo; i < hi; ++i) {
            const std::string_view c(bytes.data() + offsets[i], size_t(offsets[i + 1] - offsets[i]));
            if (social && utf8_error_at(c) != std::string_view::npos) {  // utf8proc cannot read it
                out.items.push_back(chunking::kFallback);
                fell_back = true;
            } else {
                mappers[t]->run(
                    c, [&](int32_t id) { out.items.push_back(M + G > 1 ? code.encode(t, id) : id); },
                    [&] {
                        if (ngrams) out.items.push_back(chunking::kBoundary);
                    });
            }
            out.ptr.push_back(static_cast<int64_t>(out.items.size()));
        }
    };
    // Where the time goes, for the progress line: the device half (or its CPU twin), the
    // mapping of distinct chunks, the documents' terms, the vocabulary.
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
    double t_halves = 0, t_map = 0, t_terms = 0;
    int64_t mapped_chunks = 0;
    auto map_chunks = [&](const std::string& bytes, const std::vector<int64_t>& offsets,
                          chunking::Items& out) {
        const size_t chunks = offsets.size() - 1;
        const int P = static_cast<int>(std::min<size_t>(M, chunks / 1024 + 1));
        if (P == 1) {
            map_range(bytes, offsets, 0, chunks, 0, out, fallback);
            return;
        }
        // Contiguous ranges of about equal bytes, one per mapper, joined in order.
        const std::vector<int64_t> cut = balanced_cuts(offsets, P);
        std::vector<chunking::Items> part(P);
        std::vector<char> fell(P, 0);
        ParallelErrors errors;  // no exception may leave the parallel region
#pragma omp parallel for num_threads(P) schedule(static, 1)
        for (int q = 0; q < P; ++q) {
            errors.run([&] {
                bool f = false;
                part[q].ptr.clear();
                map_range(bytes, offsets, cut[q], cut[q + 1], q, part[q], f);
                fell[q] = f;
            });
        }
        errors.rethrow();
        for (int q = 0; q < P; ++q) {
            const int64_t base = static_cast<int64_t>(out.items.size());
            out.items.insert(out.items.end(), part[q].items.begin(), part[q].items.end());
            for (int64_t e : part[q].ptr) out.ptr.push_back(base + e);
            fallback = fallback || fell[q];
        }
    };
    const chunking::Mapper map = [&](const std::string& bytes, const std::vector<int64_t>& offsets,
                                     chunking::Items& out) {
        const auto t0 = Clock::now();
        map_chunks(bytes, offsets, out);
        t_map += since(t0);
        mapped_chunks += static_cast<int64_t>(offsets.size()) - 1;
    };

    // Documents in batches of bounded text bytes (the device's memory), in order.
    if (batch_bytes <= 0)
        batch_bytes = device ? cuda_impl::tokenize_batch_bytes(ctx) : std::numeric_limits<int64_t>::max();
    const auto& off = corpus.text.offsets;
    std::vector<int64_t> doc_ptr;
    std::vector<int32_t> items;
    for (int64_t first = 0; first < n;) {
        int64_t last = first + 1;  // at least one document, however long
        while (last < n && int64_t(off[last + 1] - off[first]) <= batch_bytes) ++last;
        fallback = false;
        const bool oversized = last == first + 1 && int64_t(off[last] - off[first]) > batch_bytes;
        if (device && !oversized && off[last] - off[first] > uint64_t(std::numeric_limits<int32_t>::max())) {
            // A batch of 2 GiB or more (only with a batch size set that large): the device
            // half counts chunks in 32 bits. A single document over the batch size is
            // tokenised on the host below, whatever its size, the rest staying on the device.
            if (opts.progress)
                std::fprintf(stderr, "vectorize: the batch from document %lld is 2 GiB or more; tokenising on the CPU\n",
                             static_cast<long long>(first));
            return tokenize_terms_on(Context::cpu(ctx.cpu_threads()), corpus, opts);
        }
        auto t0 = Clock::now();
        if (oversized) {
            // One document larger than a batch: tokenised whole on the host, below, like a
            // document with a chunk that cannot be tokenised alone (the device's memory is
            // sized for batches, not for it).
            doc_ptr.assign({0, 1});
            items.assign(1, chunking::kFallback);
            fallback = true;
        } else if (!(device ? cuda_impl::tokenize_chunks(ctx, corpus, first, last, plan, map, doc_ptr, items)
                            : cpu_impl::tokenize_chunks(ctx, corpus, first, last, plan, map, doc_ptr, items))) {
            if (opts.progress)
                std::fprintf(stderr, "vectorize: two chunks hashed alike; tokenising on the CPU\n");
            return tokenize_terms_on(Context::cpu(ctx.cpu_threads()), corpus, opts);
        }
        t_halves += since(t0);
        t0 = Clock::now();
        if (!ngrams && !fallback) {
            // Unigrams and no document to tokenise whole: a document's terms are its items, as
            // they are. The batch is cut into parts of about equal item counts, copied in
            // parallel (nothing is interned, so the one table is only read).
            const int64_t docs = last - first;
            const int P = static_cast<int>(std::min<int64_t>(T, docs));
            const size_t base = local_tokens.size();
            local_tokens.resize(base + P);
            local_len.resize(base + P);
            const std::vector<int64_t> cut = balanced_cuts(doc_ptr, P);  // from the batch's start
#pragma omp parallel for num_threads(T) schedule(static)
            for (int q = 0; q < P; ++q) {
                const int64_t a = cut[q], b = cut[q + 1];
                local_tokens[base + q].assign(items.begin() + doc_ptr[a], items.begin() + doc_ptr[b]);
                auto& l = local_len[base + q];
                l.resize(b - a);
                for (int64_t d = a; d < b; ++d) l[d - a] = doc_ptr[d + 1] - doc_ptr[d];
            }
            for (int q = 1; q <= P; ++q) bounds.push_back(first + cut[q]);
            first = last;
            t_terms += since(t0);
            continue;
        }
        // n-grams, or a document to tokenise whole. Those documents first, on this thread:
        // their terms go into table 0, which the parts below only read.
        const int64_t docs = last - first;
        std::vector<int32_t> whole_of;  // index into `whole` of each document tokenised whole
        std::vector<std::pair<std::vector<int32_t>, std::vector<uint32_t>>> whole;
        if (fallback) {
            whole_of.assign(docs, -1);
            for (int64_t d = 0; d < docs; ++d) {
                const int32_t* it = items.data() + doc_ptr[d];
                const int32_t* end = items.data() + doc_ptr[d + 1];
                if (std::find(it, end, chunking::kFallback) == end) continue;
                whole_of[d] = static_cast<int32_t>(whole.size());
                whole.emplace_back();
                mapper.run_document(corpus.text[first + d], whole.back().first, whole.back().second);
                for (int32_t& u : whole.back().first) u = code.encode(0, u);  // table 0: unchanged
            }
        }
        // Parts of about equal items, one per thread (and n-gram table), in parallel.
        const int P = static_cast<int>(std::min<int64_t>(ngrams ? G : T, docs));
        const size_t base = local_tokens.size();
        local_tokens.resize(base + P);
        local_len.resize(base + P);
        const std::vector<int64_t> cut = balanced_cuts(doc_ptr, P);
        ParallelErrors errors;  // no exception may leave the parallel region
#pragma omp parallel for num_threads(P) schedule(static, 1)
        for (int q = 0; q < P; ++q) {
            errors.run([&] {
                std::vector<int32_t> uni, chain;
                std::vector<uint32_t> segment;
                auto& toks = local_tokens[base + q];
                auto& lens = local_len[base + q];
                lens.reserve(cut[q + 1] - cut[q]);
                for (int64_t d = cut[q]; d < cut[q + 1]; ++d) {
                    const std::vector<int32_t>* u = &uni;
                    const std::vector<uint32_t>* sg = &segment;
                    if (fallback && whole_of[d] >= 0) {
                        u = &whole[whole_of[d]].first;
                        sg = &whole[whole_of[d]].second;
                    } else {
                        uni.clear();
                        segment.clear();
                        uint32_t seg = 0;
                        for (int64_t k = doc_ptr[d]; k < doc_ptr[d + 1]; ++k) {
                            if (items[k] == chunking::kBoundary) {
                                ++seg;
                            } else {
                                uni.push_back(items[k]);
                                segment.push_back(seg);
                            }
                        }
                    }
                    const size_t before = toks.size();
                    append_gram_terms(*u, *sg, opts, ngrams ? &grams[q] : nullptr, &code, M + q, chain, toks);
                    lens.push_back(static_cast<int64_t>(toks.size() - before));
                }
            });
        }
        errors.rethrow();
        for (int q = 1; q <= P; ++q) bounds.push_back(first + cut[q]);
        first = last;
        t_terms += since(t0);
    }
    Tokenized out;
    out.text_bytes = corpus.text.arena.size();
    if (local_tokens.empty()) {  // no documents
        local_tokens.emplace_back();
        local_len.emplace_back();
        bounds.push_back(n);
    }
    const auto t_vocab = Clock::now();
    assemble(terms, grams, std::vector<int>(local_tokens.size(), M + G > 1 ? kMixedTables : 0), local_tokens,
             local_len, bounds, T, out, code, opts.ngram_min, opts.ngram_max);
    if (opts.progress)
        std::fprintf(stderr,
                     "vectorize: tokenised %lld documents (%s, chunked), %zu tokens, %zu distinct terms; "
                     "chunks cut and expanded %.3f s, %lld distinct chunks mapped %.3f s, terms %.3f s, "
                     "vocabulary %.3f s\n",
                     static_cast<long long>(n), device ? "GPU" : "CPU", out.tokens.size(), static_cast<size_t>(out.vocab_size()),
                     t_halves - t_map, static_cast<long long>(mapped_chunks), t_map, t_terms, since(t_vocab));
    return out;
}

/// tokenize_chunked_once(), or the CPU tokenizer when one of its tables fills up.
Tokenized tokenize_chunked(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts,
                           bool device, int64_t batch_bytes) {
    try {
        return tokenize_chunked_once(ctx, corpus, opts, device, batch_bytes);
    } catch (const TableFull& e) {
        if (opts.progress)
            std::fprintf(stderr, "vectorize: %s; tokenising on the CPU\n", e.what());
        return tokenize_terms_on(Context::cpu(ctx.cpu_threads()), corpus, opts);
    }
}

}  // namespace

namespace cpu_impl {

Tokenized tokenize_chunked(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts,
                           int64_t batch_bytes) {
    Tokenized out = tmine::tokenize_chunked(ctx, corpus, opts, false, batch_bytes);
    take_texts(out, ctx.cpu_threads());
    return out;
}

bool tokenize_chunks(const Context&, const Corpus& corpus, int64_t first, int64_t last,
                     const chunking::Plan& plan, const chunking::Mapper& map,
                     std::vector<int64_t>& doc_ptr, std::vector<int32_t>& items) {
    // Chunks of each document, in order, as ids of distinct chunks (first sight numbers them).
    const auto* text = reinterpret_cast<const unsigned char*>(corpus.text.arena.data());
    const auto& off = corpus.text.offsets;
    std::unordered_map<std::string_view, int32_t> ids;
    std::string bytes;
    std::vector<int64_t> offsets{0};
    std::vector<int32_t> occurrences;
    std::vector<int64_t> doc_chunks{0};
    for (int64_t d = first; d < last; ++d) {
        const uint64_t e = off[d + 1];
        for (uint64_t i = off[d]; i < e;) {
            const uint8_t c = plan.cls[text[i]];
            if (c == chunking::kSeparator) {
                ++i;
                continue;
            }
            uint64_t j = i + 1;
            if (c == chunking::kInside)
                while (j < e && plan.cls[text[j]] == chunking::kInside) ++j;
            const std::string_view chunk(corpus.text.arena.data() + i, j - i);
            auto [pos, fresh] = ids.emplace(chunk, static_cast<int32_t>(ids.size()));
            if (fresh) {
                bytes.append(chunk);
                offsets.push_back(static_cast<int64_t>(bytes.size()));
            }
            occurrences.push_back(pos->second);
            i = j;
        }
        doc_chunks.push_back(static_cast<int64_t>(occurrences.size()));
    }
    chunking::Items mapped;
    map(bytes, offsets, mapped);
    doc_ptr.assign(1, 0);
    items.clear();
    for (int64_t d = 0; d < last - first; ++d) {
        for (int64_t k = doc_chunks[d]; k < doc_chunks[d + 1]; ++k) {
            const int32_t id = occurrences[k];
            items.insert(items.end(), mapped.items.begin() + mapped.ptr[id],
                         mapped.items.begin() + mapped.ptr[id + 1]);
        }
        doc_ptr.push_back(static_cast<int64_t>(items.size()));
    }
    return true;
}

}  // namespace cpu_impl

namespace {

/// tokenize_corpus() with the n-grams' texts left on demand (Tokenized::texts).
Tokenized tokenize_terms_on(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts) {
    if (ctx.is_cuda()) return tokenize_chunked(ctx, corpus, opts, true, 0);
    const int64_t n = static_cast<int64_t>(corpus.size());
    const int T = std::max(1, ctx.cpu_threads());
    check_options(opts);
    Tokenized out;
    out.text_bytes = corpus.text.arena.size();

    // Contiguous document ranges of roughly equal text bytes, a few per thread.
    const int parts = static_cast<int>(std::min<int64_t>(std::max<int64_t>(n, 1), T * 4));
    const std::vector<int64_t> bounds = balanced_cuts(corpus.text.offsets, parts);
    const std::unordered_set<std::string_view> stop(opts.stop_words.begin(), opts.stop_words.end());

    // One term table per thread, kept across the parts it maps (a thread learns its vocabulary
    // once), and one token array per part, reserved from the part's text bytes (a token and
    // its separator take about 12 bytes of a Reddit comment; 4 leaves room, and only the pages
    // written are ever touched) so that it seldom grows by copying.
    std::vector<TermTable> terms(T);
    const bool ngrams = opts.ngram_max > 1;
    std::vector<GramTable> grams(ngrams ? T : 0);  // each thread's n-grams (kGramBit ids)
    std::vector<int> table_of(parts, 0);
    std::vector<HugeVector<int32_t>> local_tokens(parts);
    std::vector<std::vector<int64_t>> local_len(parts);
    const auto& off = corpus.text.offsets;
    const int lengths = opts.ngram_max - std::max(2, opts.ngram_min) + 1 + (opts.ngram_min <= 1);
    ParallelErrors errors;  // a thread's exception (bad_alloc, too many n-grams) rethrown after
    // Progress: a line every few seconds as parts finish (a 1 GB corpus takes tens of seconds).
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    std::atomic<int64_t> bytes_done{0};
    std::atomic<int64_t> next_report_ms{3000};
#pragma omp parallel num_threads(T)
    {
        const int th = omp_get_thread_num();
        std::optional<TermMapper> mapper;
        errors.run([&] { mapper.emplace(opts, stop, terms[th]); });
        std::vector<int32_t> uni, chain;  // the document's unigram terms
        std::vector<uint32_t> segment;    // their sentence index
#pragma omp for schedule(dynamic, 1)
        for (int p = 0; p < parts; ++p) {
            errors.run([&] {
                table_of[p] = th;
                auto& toks = local_tokens[p];
                auto& lens = local_len[p];
                lens.reserve(bounds[p + 1] - bounds[p]);
                toks.reserve((off[bounds[p + 1]] - off[bounds[p]]) / 4 * std::max(1, lengths) + 16);
                for (int64_t d = bounds[p]; d < bounds[p + 1]; ++d) {
                    uni.clear();
                    segment.clear();
                    mapper->run_document(corpus.text[d], uni, segment);
                    const size_t before = toks.size();
                    append_gram_terms(uni, segment, opts, ngrams ? &grams[th] : nullptr, nullptr, 0, chain, toks);
                    lens.push_back(static_cast<int64_t>(toks.size() - before));
                }
            });
            const int64_t done = bytes_done += static_cast<int64_t>(off[bounds[p + 1]] - off[bounds[p]]);
            if (opts.progress && !errors.failed()) {
                const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
                int64_t due = next_report_ms.load();
                if (ms >= due && next_report_ms.compare_exchange_strong(due, ms + 3000))
                    std::fprintf(stderr, "vectorize: tokenising, %.0f of %.0f MB of text (%.0f%%)\n", done / 1e6,
                                 out.text_bytes / 1e6, 100.0 * done / std::max<double>(1.0, out.text_bytes));
            }
        }
    }
    errors.rethrow();
    if (ngrams)
        for (const TermTable& t : terms)
            if (t.size() >= size_t(kGramBit))
                throw InputError("vectorize: more than 2^30 distinct terms in one tokenizer thread");
    assemble(terms, grams, table_of, local_tokens, local_len, bounds, T, out, TermCode(1), opts.ngram_min,
             opts.ngram_max);
    if (opts.progress)
        std::fprintf(stderr, "vectorize: tokenised %lld documents, %zu tokens, %zu distinct terms\n",
                     static_cast<long long>(n), out.tokens.size(), static_cast<size_t>(out.vocab_size()));
    return out;
}

}  // namespace

Tokenized tokenize_corpus(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts) {
    Tokenized out = tokenize_terms_on(ctx, corpus, opts);
    take_texts(out, ctx.cpu_threads());
    return out;
}

Tokenized detail::tokenize_terms(const Context& ctx, const Corpus& corpus, const VectorizeOptions& opts) {
    return tokenize_terms_on(ctx, corpus, opts);
}

}  // namespace tmine
