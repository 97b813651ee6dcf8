#pragma once
/// The columnar corpus: what `tmine ingest` writes and every later stage reads.
/// File format (.tmc, little endian, versioned) is described in docs/formats.md.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tmine {

/// Timestamp value meaning "the post carried no time".
constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

/// A column of strings stored as one byte arena plus offsets (n+1 of them).
struct StringColumn {
    std::vector<uint64_t> offsets{0};
    std::string arena;

    size_t size() const { return offsets.size() - 1; }
    std::string_view operator[](size_t i) const {
        return std::string_view(arena).substr(offsets[i], offsets[i + 1] - offsets[i]);
    }
    void push_back(std::string_view s) {
        arena.append(s.data(), s.size());
        offsets.push_back(arena.size());
    }
    void clear() {
        offsets.assign(1, 0);
        arena.clear();
    }
};

/// One row per kept post. All columns have size() rows.
struct Corpus {
    StringColumn text;             ///< UTF-8 post text (validated at ingest)
    StringColumn ids;              ///< post id ("" when not mapped)
    StringColumn authors;          ///< author ("" when not mapped)
    std::vector<int64_t> time;     ///< UTC seconds since epoch, kNoTime when absent
    std::vector<uint32_t> source;  ///< index into `sources`
    std::vector<std::string> sources;  ///< input file names, in the order given

    // Columns filled by `tmine clean` (format version 2). Each is empty (no rows: the step did
    // not run) or has size() rows.
    StringColumn original;           ///< text as ingested, when `text` was normalised
    StringColumn language;           ///< ISO 639-1 code from CLD2, "und" when undetermined
    std::vector<uint32_t> dup_count; ///< posts in this post's duplicate group (1 = unique)

    size_t size() const { return time.size(); }
    bool has_original() const { return original.size() != 0; }
    bool has_language() const { return language.size() != 0; }
    bool has_dup_count() const { return !dup_count.empty(); }

    /// Appends a row to the ingest columns (the clean columns must be empty).
    void add(std::string_view text_, int64_t t, std::string_view id, std::string_view author,
             uint32_t src) {
        text.push_back(text_);
        ids.push_back(id);
        authors.push_back(author);
        time.push_back(t);
        source.push_back(src);
    }
};

/// A 64-bit hash (XXH3) of the posts' texts and ids, row by row, never 0. Matrices and models
/// keep the fingerprint of the corpus they were made from, so that a command given a corpus
/// "of the model" (export --corpus, classify --corpus) refuses another one of the same size
/// instead of pairing topics with the wrong posts.
uint64_t corpus_fingerprint(const Corpus& c);

/// The rows `rows` (ascending or not) of `c`, every column carried.
Corpus select_rows(const Corpus& c, const std::vector<size_t>& rows);

/// Writes atomically (temp file + rename), format version 2. Throws IoError naming the path.
void write_corpus(const Corpus& corpus, const std::string& path);

/// Reads a corpus file (version 1 or 2; version 1 has no clean columns). Throws InputError if
/// the file is not a tmine corpus, is truncated, or has a newer version.
Corpus read_corpus(const std::string& path);

/// How label files and id lists name a corpus's posts: by the corpus's ids when it has any,
/// else (and without a corpus) by 0-based row numbers. By ids, a post whose id is empty or
/// shared with other rows has no name: a label could not say which post it is. read_labels()
/// and clean --keep-ids resolve ids this way; query --labels, classify pick and classify
/// predict write them this way.
class PostIds {
public:
    /// `corpus` (may be null) must outlive this; `rows`: the matrix's rows.
    PostIds(const Corpus* corpus, int64_t rows);
    bool by_ids() const { return by_ids_; }
    int64_t rows() const { return rows_; }
    /// By ids: the first row with `id` and how many rows have it (0: none).
    struct Match {
        int64_t row = -1, rows = 0;
    };
    Match find(std::string_view id) const;
    /// The corpus id a cell of a label file or id list names, by ids: the cell as it is; else
    /// without the apostrophe a spreadsheet guard puts before an id such as 007; else without
    /// the white space around it (a hand-edited file, CRLF line ends), then also without such
    /// an apostrophe. Empty: no id of the corpus.
    std::string_view resolve(std::string_view cell) const;
    /// Whether row r has a name (always, by row numbers): by ids, an id of its own that
    /// resolve() gives back as it is written, with or without the spreadsheet's apostrophe
    /// (so not when "'" + id is another post's id).
    bool named(int64_t r) const;
    /// Row r's name: its id, or its row number (by ids, a row without a name gets its row
    /// number too: callers that write labels to be read back leave such rows out).
    std::string name(int64_t r) const;

private:
    const Corpus* corpus_ = nullptr;
    int64_t rows_ = 0;
    bool by_ids_ = false;
    std::unordered_map<std::string_view, Match> by_id_;
};

}  // namespace tmine
