#pragma once
/// Stage 2, clean: normalise, identify the language, remove exact and near duplicates, spam and
/// bots, and posts a relevance mask rejects. Each step counts what it removed and why, with a
/// few examples (the JSON report of `tmine clean`). Rules and defaults: docs/cleaning.md.
/// The MinHash signatures have a CUDA twin (kernels/minhash_cuda.cu) that gives identical
/// signatures for the same seed; everything else runs on the CPU (OpenMP).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tmine/context.hpp"
#include "tmine/corpus.hpp"

namespace tmine {

/// The steps, always run in this order (a step not selected is skipped).
enum class CleanStep { Normalize, Language, Dedup, Spam, Relevance };
const char* clean_step_name(CleanStep s);
/// Parses "normalize,language,dedup,spam,relevance" (any subset, any order; "all").
/// Throws InputError naming the unknown step.
std::vector<CleanStep> parse_clean_steps(std::string_view list);

/// Splits --lang's "fr,en" into codes, spaces around each trimmed and empty ones skipped (the
/// codes themselves are checked with the other options). "" is no list (every language kept);
/// a list of only commas and spaces is an InputError.
std::vector<std::string> parse_language_list(std::string_view list);

enum class UrlMode { Domain, Drop, Keep };
/// Parses "domain|drop|keep"; throws InputError otherwise.
UrlMode parse_url_mode(std::string_view s);

struct NormalizeOptions {
    bool strip_html = true;       ///< remove tags, <script>/<style> blocks; decode entities
    bool strip_markdown = true;   ///< emphasis, quotes '>', headers, lists, links [t](u) -> t
    UrlMode urls = UrlMode::Domain;  ///< a URL becomes its host ("youtube.com"), nothing, or stays
    bool nfkc = true;             ///< Unicode NFKC (utf8proc): ligatures, full-width forms, ...
    bool drop_empty = true;       ///< remove posts whose normalised text is empty
};

struct LanguageOptions {
    std::vector<std::string> keep;  ///< ISO 639-1 codes to keep ("fr", "en"); empty = keep all
    int min_letters = 15;     ///< fewer letters (CLD2 text bytes) -> "und" (undetermined)
    bool require_reliable = true;  ///< CLD2 says unreliable -> "und"
    bool drop_undetermined = false;  ///< with `keep`: also remove "und" posts (else kept)
};

struct DedupOptions {
    bool exact = true;         ///< identical normalised text (xxHash3 128-bit)
    double near_dup = 0.8;     ///< Jaccard threshold on word shingles; 0 = no near-dup step
    int shingle = 3;           ///< words per shingle
    int num_hashes = 128;      ///< MinHash signature length
    int bands = 0;             ///< LSH bands; 0 = chosen from the threshold (rows = hashes / bands)
    uint64_t seed = 1;         ///< seeds the hash family (same seed, same signatures on CPU/GPU)
};

struct SpamOptions {
    double max_link_ratio = 0.5;    ///< links / (words + links) above this -> "link_ratio"
    int max_char_run = 12;          ///< a code point repeated more times in a row -> "repeated_chars"
    double max_token_share = 0.5;   ///< one word above this share of the words... -> "repeated_tokens"
    int token_share_min_words = 8;  ///< ...counted only for posts with at least this many words
    int max_hashtags = 5;           ///< more #hashtags -> "hashtag_stuffing"
    int min_words = 3;              ///< fewer words (after normalisation) -> "too_short"
    double author_factor = 50;      ///< author with > factor x median posts per author ...
    int author_min_posts = 100;     ///< ... and at least this many posts -> "prolific_author"; 0 factor = off
};

struct RelevanceOptions {
    std::string keep_mask;  ///< file: one 0/1 per input row
    std::string keep_ids;   ///< file: ids of the posts to keep, one per line
};

struct CleanOptions {
    std::vector<CleanStep> steps{CleanStep::Normalize, CleanStep::Language, CleanStep::Dedup,
                                 CleanStep::Spam};
    NormalizeOptions normalize;
    LanguageOptions language;
    DedupOptions dedup;
    SpamOptions spam;
    RelevanceOptions relevance;
    size_t max_examples = 3;  ///< examples kept per removal reason
    bool progress = false;
};

/// One removed (or, for duplicate groups, kept) post quoted in the report.
struct CleanExample {
    uint64_t row = 0;  ///< row in the input corpus
    std::string id;
    std::string text;  ///< the original text, cut to 300 bytes
    int64_t duplicate_of = -1;  ///< input row of the kept post (duplicates)
    double similarity = 0;      ///< Jaccard with it (near duplicates)
    std::string detail;         ///< what the rule measured (RemovedRow::detail)
};

struct ReasonReport {
    uint64_t count = 0;
    std::vector<CleanExample> examples;
};

struct StepReport {
    std::string step;
    uint64_t rows_in = 0, kept = 0, removed = 0;
    double seconds = 0;
    std::map<std::string, ReasonReport> reasons;
    std::map<std::string, double> stats;  ///< step-specific figures (timings, candidates, ...)
    std::map<std::string, uint64_t> languages;  ///< language step: posts per detected language
    /// spam step: the authors `prolific_author` removed and their posts, most posts first
    std::vector<std::pair<std::string, uint64_t>> prolific_authors;
};

/// The largest duplicate groups: the kept post and its group size.
struct DuplicateGroup {
    CleanExample kept;
    uint64_t size = 0;
};

struct CleanReport {
    uint64_t rows_in = 0, rows_out = 0;
    std::vector<StepReport> steps;
    std::vector<DuplicateGroup> largest_groups;  ///< up to 10
    std::string device;
    /// JSON (schema in docs/cleaning.md): kept + removed = rows_in for every step.
    std::string to_json(const std::string& input = "") const;
};

/// One removed post, for `tmine clean --removed FILE`.
struct RemovedRow {
    uint64_t row;
    CleanStep step;
    std::string reason;
    int64_t duplicate_of;  ///< input row, or -1
    /// What the rule measured on this post (docs/cleaning.md): the Jaccard similarity with
    /// the kept post (duplicates; 1 for exact ones), the detected language, the link ratio, the
    /// word or hashtag count, the longest run of one character, the top word's share, the
    /// author's posts; empty for the relevance step.
    std::string detail;
};

/// Cleans `corpus` in place: removed rows are dropped; with normalisation the text column holds
/// the normalised text and `original` the text as ingested; `language` and `dup_count` are filled
/// by their steps. `removed` (optional) receives every removed row. Throws InputError for bad
/// options or a bad relevance file (naming the file and line).
/// The checks clean() makes of its options before any work (the steps, each running step's
/// thresholds, a --keep-mask/--keep-ids/--lang given to a step that does not run); callers with
/// a long stage before the cleaning (tmine run's ingest) make them first. Throws InputError.
void check_clean_options(const CleanOptions& opts);
CleanReport clean(const Context& ctx, Corpus& corpus, const CleanOptions& opts,
                  std::vector<RemovedRow>* removed = nullptr);

// ---- the steps' building blocks, public for tests and for other stages ----

/// Normalised text of one post (see NormalizeOptions). Output is valid UTF-8, single spaces.
std::string normalize_text(std::string_view text, const NormalizeOptions& opts);

/// Throws InputError naming a code CLD2 cannot report (e.g. "french" instead of "fr").
void check_language_codes(const std::vector<std::string>& codes);

/// CLD2 on one text: an ISO 639-1 code ("en", "fr", ...) or "und" under the rule above.
std::string detect_language(std::string_view text, const LanguageOptions& opts);

/// Word shingles of a text: lower-cased words (runs of letters, marks, digits, '_'; utf8proc), each
/// run of `k` consecutive words hashed to 64 bits; sorted, unique. A text with fewer than k
/// (but at least 1) words gives one shingle of all its words.
std::vector<uint64_t> word_shingles(std::string_view text, int k);

/// Shingle sets of many documents, CSR: doc d has shingles[offsets[d] .. offsets[d+1]).
struct ShingleSets {
    std::vector<uint64_t> offsets{0};
    std::vector<uint64_t> shingles;
    size_t size() const { return offsets.size() - 1; }
};

/// The hash family: h_i(x) = uint32((a_i * x + b_i) >> 32) (64-bit wrap-around), a_i odd,
/// a_i and b_i drawn from splitmix64(seed).
struct MinHashFamily {
    std::vector<uint64_t> a, b;
    static MinHashFamily make(int num_hashes, uint64_t seed);
    int size() const { return static_cast<int>(a.size()); }
};

/// MinHash signatures, row-major n x num_hashes: sig[d * K + i] = min over the shingles of doc d
/// of h_i; an empty set gives UINT32_MAX everywhere. Dispatches on the context's device.
std::vector<uint32_t> minhash_signatures(const Context& ctx, const ShingleSets& sets,
                                         const MinHashFamily& family);

/// Jaccard similarity of two sorted unique sets.
double jaccard(const uint64_t* a, size_t na, const uint64_t* b, size_t nb);

/// LSH banding for a threshold: the most rows per band r (bands = num_hashes / r) such that a
/// pair with Jaccard exactly `threshold` shares a band with probability >= 0.99.
void lsh_params(double threshold, int num_hashes, int& bands, int& rows);

namespace cpu_impl {
std::vector<uint32_t> minhash_signatures(const Context& ctx, const ShingleSets& sets,
                                         const MinHashFamily& family);
}
namespace cuda_impl {
/// Documents go to the device in batches of at most `batch_bytes` of shingles, offsets and
/// signatures (0: half the free device memory); the result does not depend on it.
std::vector<uint32_t> minhash_signatures(const Context& ctx, const ShingleSets& sets,
                                         const MinHashFamily& family, int64_t batch_bytes = 0);
}

}  // namespace tmine
