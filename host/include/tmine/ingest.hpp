#pragma once
/// Stage 1, ingest: stream JSON Lines / JSON arrays / CSV (plain or .gz) into a Corpus.
/// Bad lines are skipped, counted and located (file:line: reason); they never stop the run.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tmine/corpus.hpp"

namespace tmine {

enum class InputFormat { Auto, Jsonl, Json, Csv };

/// Parses "auto|jsonl|json|csv"; throws InputError otherwise.
InputFormat parse_input_format(std::string_view s);

struct IngestOptions {
    InputFormat format = InputFormat::Auto;
    std::string text_field = "text";  ///< required; JSON fields may be dotted paths ("user.name")
    std::string time_field;           ///< optional: empty = not mapped
    std::string id_field;
    std::string author_field;
    /// optional: the post's source (site, platform, forum), interned into Corpus::sources;
    /// posts without it (and every post when not mapped) have their input file as source
    std::string source_field;
    std::optional<int64_t> since;  ///< keep posts with time >= since (UTC seconds)
    std::optional<int64_t> until;  ///< keep posts with time <  until
    /// Posts dated after this (UTC seconds) are misread values and skipped; unset: a day after
    /// the ingest starts; INT64_MAX: keep every date (data whose clock runs ahead).
    std::optional<int64_t> latest;
    /// Posts dated before this are misread values (a missing time written as 0, seconds read
    /// as days) and skipped; unset: kEarliestTime, or `since` when that is earlier;
    /// INT64_MIN: keep every date (an archive older than online conversation).
    std::optional<int64_t> earliest;
    size_t max_examples = 20;      ///< how many skipped lines are kept with their reason
    bool progress = false;         ///< progress lines on stderr
};

/// 1980-01-01T00:00:00Z: before the first public online conversations (Usenet, 1980) that a
/// crawl can hold; an earlier time is almost always a missing one written as 0 or a misread.
constexpr int64_t kEarliestTime = 315532800;

struct SkippedLine {
    std::string file;
    uint64_t line = 0;  ///< 1-based line where the record starts
    std::string reason;
};

struct IngestReport {
    uint64_t records = 0;        ///< records seen (kept + skipped + out_of_window)
    uint64_t kept = 0;
    uint64_t skipped = 0;        ///< malformed / missing field / bad timestamp / bad UTF-8
    uint64_t out_of_window = 0;  ///< valid but outside [since, until)
    uint64_t bytes = 0;          ///< uncompressed bytes read
    std::vector<SkippedLine> examples;  ///< first max_examples skipped lines
    std::vector<std::string> warnings;  ///< e.g. a mapped field that no record held

    /// "file:line: reason" lines followed by a total; what the CLI prints.
    std::string summary() const;
};

/// Appends the records of every input to `out`. Throws IoError if a file cannot be opened;
/// everything else is a skipped record.
IngestReport ingest(const std::vector<std::string>& inputs, const IngestOptions& opts,
                    Corpus& out);

/// Parses a timestamp: epoch seconds or milliseconds (number or digit string; values above
/// 1e11 are milliseconds), ISO-8601 ("2021-03-04", "2021-03-04T05:06:07Z", "+02:00" offsets,
/// fractional seconds, ' ' instead of 'T'; the basic form "20210304" or "20210304050607" for
/// years 1900..2199), Twitter's "Tue Oct 31 22:10:47 +0000 2017".
/// Returns UTC seconds, or nullopt if the text is none of these.
std::optional<int64_t> parse_timestamp(std::string_view s);

/// UTC seconds as ISO-8601 ("2021-03-04T05:06:07Z"); "" for kNoTime.
std::string format_timestamp(int64_t t);

}  // namespace tmine
