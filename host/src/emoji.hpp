// The code points that join several into one emoji, kept by both the tokenizer's normalisation
// (tokenize.cpp) and clean's (clean_normalize.cpp), which drop every other format character.
#pragma once

#include <cstdint>

namespace tmine {

/// U+200D ZERO WIDTH JOINER: 🤷 + ♂ as 🤷‍♂️, ❤ + 🔥 as ❤️‍🔥.
constexpr int32_t kZeroWidthJoiner = 0x200D;
/// U+1F3F4 WAVING BLACK FLAG, which tag characters follow in the flags of England, Scotland
/// and Wales.
constexpr int32_t kBlackFlag = 0x1F3F4;
/// The tag characters U+E0020..E007F (a flag's region code and its end).
constexpr bool is_tag_character(int32_t cp) { return cp >= 0xE0020 && cp <= 0xE007F; }

}  // namespace tmine
