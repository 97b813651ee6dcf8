#pragma once
// Stop-word lists compiled into tmine (internal header).
#include <string>
#include <vector>

namespace tmine::detail {
/// scikit-learn's English list (318 words); see scripts/gen_stopwords.py.
const std::vector<std::string>& english_stop_words();
/// French function words (articles, pronouns, prepositions, conjunctions, auxiliaries),
/// host/src/stopwords_french.cpp.
const std::vector<std::string>& french_stop_words();
}  // namespace tmine::detail
