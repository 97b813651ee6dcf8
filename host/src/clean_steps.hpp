#pragma once
// The steps of host/src/clean.cpp that live in their own files; not a public header.
#include <map>
#include <string>
#include <vector>

#include "clean_internal.hpp"
#include "tmine/clean.hpp"

namespace tmine::detail {

/// Per row of the step's input: why it is removed (nullptr = kept), and for duplicates the
/// row (of the same input) it duplicates and the Jaccard similarity.
struct DedupResult {
    std::vector<const char*> reason;
    std::vector<int64_t> duplicate_of;
    std::vector<double> similarity;
    std::vector<uint32_t> group_size;  ///< for kept rows: posts in their group
};

/// Rows sorted by (time, row), posts without a time last: "earliest" for every step.
std::vector<size_t> earliest_first(const Corpus& c);

DedupResult find_duplicates(const Context& ctx, const Corpus& c, const DedupOptions& o,
                            bool progress, std::map<std::string, double>& stats);

}  // namespace tmine::detail
