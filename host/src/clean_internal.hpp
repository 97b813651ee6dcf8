#pragma once
// Helpers shared by the clean steps (host/src/clean*.cpp); not a public header.
#include <utf8proc.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tmine::detail {

/// URLs in a text (http://, https://, www. at a word start, up to white space; trailing
/// punctuation and an unbalanced ')' excluded). Returns the count; spans [begin, end) if asked.
size_t find_urls(std::string_view s, std::vector<std::pair<size_t, size_t>>* spans);

/// The host of a URL, lower-cased, without "www.", port or user.
std::string url_domain(std::string_view url);

/// Appends the sorted unique word shingles of `text` to `out` (see tmine::word_shingles);
/// `words` and `buf` are scratch. Returns how many were appended.
size_t append_word_shingles(std::string_view text, int k, std::vector<uint64_t>& words,
                            std::string& buf, std::vector<uint64_t>& out);

inline bool word_codepoint(utf8proc_int32_t cp) {
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
            return true;
        default:
            return cp == '_';
    }
}

/// Calls emit(lowercased word, code points) for every maximal run of word characters
/// (letters, marks, numbers, '_'); lower-casing by utf8proc's simple mapping. `buf` is scratch.
template <class Emit>
inline void for_each_word(std::string_view text, std::string& buf, Emit&& emit) {
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    const utf8proc_ssize_t n = utf8proc_ssize_t(text.size());
    buf.clear();
    int cps = 0;
    for (utf8proc_ssize_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            const bool w = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
            if (w || (c >= 'A' && c <= 'Z')) {
                buf.push_back(char(w ? c : c + 32));
                ++cps;
            } else if (cps) {
                emit(std::string_view(buf), cps);
                buf.clear();
                cps = 0;
            }
            ++i;
            continue;
        }
        utf8proc_int32_t cp;
        const auto len = utf8proc_iterate(p + i, n - i, &cp);
        if (len <= 0) {
            ++i;
            continue;
        }
        if (word_codepoint(cp)) {
            utf8proc_uint8_t enc[4];
            const auto m = utf8proc_encode_char(utf8proc_tolower(cp), enc);
            buf.append(reinterpret_cast<const char*>(enc), size_t(m));
            ++cps;
        } else if (cps) {
            emit(std::string_view(buf), cps);
            buf.clear();
            cps = 0;
        }
        i += len;
    }
    if (cps) emit(std::string_view(buf), cps);
}

}  // namespace tmine::detail
