// clean, step 2: language identification with CLD2 (Debian libcld2-dev).
#include <cstdio>  // compact_lang_det.h uses FILE without including it

#include <cld2/public/compact_lang_det.h>

#include <climits>
#include <string>

#include "tmine/clean.hpp"
#include "tmine/error.hpp"

namespace tmine {

void check_language_codes(const std::vector<std::string>& codes) {
    for (const std::string& c : codes) {
        const CLD2::Language l = CLD2::GetLanguageFromName(c.c_str());
        const char* back = CLD2::LanguageCode(l);
        if (c == "und") continue;
        if (l == CLD2::UNKNOWN_LANGUAGE || !back || c != back)
            throw InputError("--lang: unknown language code '" + c +
                             "' (use the codes CLD2 reports, ISO 639-1 such as fr, en, de, zh)");
    }
}

std::string detect_language(std::string_view text, const LanguageOptions& o) {
    if (text.empty()) return "und";
    const int len = text.size() > size_t(INT_MAX) ? INT_MAX : int(text.size());
    CLD2::Language lang3[3];
    int percent3[3];
    double score3[3];
    int text_bytes = 0;
    bool reliable = false;
    int valid_prefix = 0;
    // Checked variant: never trust bytes to be valid UTF-8 (it says so at the first bad byte).
    // The language of the largest share of the text (lang3[0]), not CLD2's "summary" language:
    // that one prefers a non-English language present in >= ~25% of an English text (a French
    // signature under an English post reads as French).
    CLD2::ExtDetectLanguageSummaryCheckUTF8(
        text.data(), len, /*is_plain_text=*/true, nullptr, 0, lang3, percent3, score3, nullptr,
        &text_bytes, &reliable, &valid_prefix);
    const CLD2::Language lang = lang3[0];
    if (lang == CLD2::UNKNOWN_LANGUAGE || text_bytes < o.min_letters ||
        (o.require_reliable && !reliable))
        return "und";
    const char* code = CLD2::LanguageCode(lang);
    if (!code || !*code || std::string(code) == "un") return "und";
    return code;
}

}  // namespace tmine
