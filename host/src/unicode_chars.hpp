// Code points that several stages treat alike: those that join several into one emoji, kept by
// both the tokenizer's normalisation (tokenize.cpp) and clean's (clean_normalize.cpp), which drop
// every other format character; and the spaces beyond ASCII (clean, query).
#pragma once

#include <utf8proc.h>

#include <cstdint>

namespace tmine {

/// U+200D ZERO WIDTH JOINER: 🤷 + ♂ as 🤷‍♂️, ❤ + 🔥 as ❤️‍🔥.
constexpr int32_t kZeroWidthJoiner = 0x200D;
/// U+1F3F4 WAVING BLACK FLAG, which tag characters follow in the flags of England, Scotland
/// and Wales.
constexpr int32_t kBlackFlag = 0x1F3F4;
/// The tag characters U+E0020..E007F (a flag's region code and its end).
constexpr bool is_tag_character(int32_t cp) { return cp >= 0xE0020 && cp <= 0xE007F; }

/// A space separator, a line or paragraph separator, or U+0085 NEXT LINE: U+00A0 NO-BREAK
/// SPACE, U+2009, U+3000, U+2028 ... (ASCII white space is the callers' own test).
inline bool is_unicode_space(int32_t cp) {
    const utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP ||
           cp == 0x85;
}

}  // namespace tmine
