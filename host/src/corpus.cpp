// The .tmc corpus file: see docs/formats.md for the layout.
#include "tmine/corpus.hpp"

#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include <xxhash.h>

#include "tmine/error.hpp"
#include "tmine/io.hpp"

namespace tmine {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .tmc format is little endian and written with raw copies");

constexpr char kMagic[4] = {'T', 'M', 'C', '1'};
constexpr uint32_t kVersion = 3;  // 3 adds the checksum, 2 the clean columns; 1 and 2 are still read

void write_strings(AtomicFile& f, const StringColumn& c) {
    f.write_vector(c.offsets);
    f.write_pod<uint64_t>(c.arena.size());
    f.write(c.arena);
}

[[noreturn]] void bad(const std::string& path, const std::string& what) {
    throw InputError(path + ": not a valid tmine corpus: " + what);
}

StringColumn read_strings(BinaryReader& r, uint64_t rows, const char* offsets_what,
                          const char* arena_what) {
    StringColumn c;
    c.offsets = r.read_vector<uint64_t>(offsets_what, rows + 1);
    if (c.offsets.size() != rows + 1)
        bad(r.path(), std::string(offsets_what) + ": " + std::to_string(c.offsets.size()) +
                          " offsets for " + std::to_string(rows) + " rows");
    const uint64_t n = r.read_pod<uint64_t>(arena_what);
    if (n > r.remaining()) r.fail(arena_what);
    c.arena.resize(n);
    if (n) r.read(c.arena.data(), n, arena_what);
    if (c.offsets.front() != 0) bad(r.path(), std::string(offsets_what) + " do not start at 0");
    for (size_t i = 1; i < c.offsets.size(); ++i)
        if (c.offsets[i] < c.offsets[i - 1])
            bad(r.path(), std::string(offsets_what) + " decrease at row " + std::to_string(i - 1));
    if (c.offsets.back() != n)
        bad(r.path(), std::string(offsets_what) + " end at " + std::to_string(c.offsets.back()) +
                          " but the arena holds " + std::to_string(n) + " bytes");
    return c;
}

/// An optional string column: 0 rows (absent) or `rows` rows.
StringColumn read_optional_strings(BinaryReader& r, uint64_t rows, const char* offsets_what,
                                   const char* arena_what) {
    const uint64_t n = r.read_pod<uint64_t>(offsets_what);
    if (n != 1 && n != rows + 1)
        bad(r.path(), std::string(offsets_what) + ": " + std::to_string(n) + " offsets for " +
                          std::to_string(rows) + " rows (expected 1 or " +
                          std::to_string(rows + 1) + ")");
    StringColumn c;
    c.offsets.resize(n);
    if (n > r.remaining() / 8) r.fail(offsets_what);
    r.read(c.offsets.data(), n * 8, offsets_what);
    const uint64_t len = r.read_pod<uint64_t>(arena_what);
    if (len > r.remaining()) r.fail(arena_what);
    c.arena.resize(len);
    if (len) r.read(c.arena.data(), len, arena_what);
    if (c.offsets.front() != 0) bad(r.path(), std::string(offsets_what) + " do not start at 0");
    for (size_t i = 1; i < c.offsets.size(); ++i)
        if (c.offsets[i] < c.offsets[i - 1])
            bad(r.path(), std::string(offsets_what) + " decrease at row " + std::to_string(i - 1));
    if (c.offsets.back() != len)
        bad(r.path(), std::string(offsets_what) + " end at " + std::to_string(c.offsets.back()) +
                          " but the arena holds " + std::to_string(len) + " bytes");
    return c;
}

void copy_string(StringColumn& out, const StringColumn& in, size_t row) { out.push_back(in[row]); }

}  // namespace

Corpus select_rows(const Corpus& c, const std::vector<size_t>& rows) {
    Corpus o;
    o.sources = c.sources;
    o.time.reserve(rows.size());
    o.source.reserve(rows.size());
    for (size_t r : rows) {
        TMINE_ASSERT(r < c.size(), "select_rows: row out of range");
        copy_string(o.text, c.text, r);
        copy_string(o.ids, c.ids, r);
        copy_string(o.authors, c.authors, r);
        o.time.push_back(c.time[r]);
        o.source.push_back(c.source[r]);
        if (c.has_original()) copy_string(o.original, c.original, r);
        if (c.has_language()) copy_string(o.language, c.language, r);
        if (c.has_dup_count()) o.dup_count.push_back(c.dup_count[r]);
    }
    return o;
}

uint64_t corpus_fingerprint(const Corpus& c) {
    XXH3_state_t* st = XXH3_createState();
    if (!st) throw std::bad_alloc();
    XXH3_64bits_reset(st);
    const uint64_t rows = c.size();
    XXH3_64bits_update(st, &rows, sizeof rows);
    for (const StringColumn* col : {&c.text, &c.ids}) {
        XXH3_64bits_update(st, col->offsets.data(), col->offsets.size() * sizeof(uint64_t));
        XXH3_64bits_update(st, col->arena.data(), col->arena.size());
    }
    const uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h ? h : 1;
}

void write_corpus(const Corpus& corpus, const std::string& path) {
    const uint64_t rows = corpus.size();
    TMINE_ASSERT(corpus.text.size() == rows && corpus.ids.size() == rows &&
                     corpus.authors.size() == rows && corpus.source.size() == rows,
                 "corpus columns differ in length");
    TMINE_ASSERT((!corpus.has_original() || corpus.original.size() == rows) &&
                     (!corpus.has_language() || corpus.language.size() == rows) &&
                     (!corpus.has_dup_count() || corpus.dup_count.size() == rows),
                 "corpus clean columns differ in length");
    AtomicFile f(path);
    f.write(kMagic, sizeof kMagic);
    f.write_pod(kVersion);
    f.write_pod(rows);
    write_strings(f, corpus.text);
    write_strings(f, corpus.ids);
    write_strings(f, corpus.authors);
    f.write_vector(corpus.time);
    f.write_vector(corpus.source);
    f.write_pod<uint64_t>(corpus.sources.size());
    for (const std::string& s : corpus.sources) {
        f.write_pod<uint64_t>(s.size());
        f.write(s);
    }
    write_strings(f, corpus.original);  // version 2: 0 or n rows each
    write_strings(f, corpus.language);
    f.write_vector(corpus.dup_count);
    f.write(kMagic, sizeof kMagic);  // trailer: a cut file never reads as complete
    f.write_checksum();  // last: XXH3 of every byte before it
    f.commit();
}

Corpus read_corpus(const std::string& path) {
    BinaryReader r(path);
    char magic[4];
    r.read(magic, sizeof magic, "magic");
    if (std::memcmp(magic, kMagic, sizeof magic) != 0)
        bad(path, "bad magic (expected \"TMC1\"; is this a corpus written by tmine ingest?)");
    const uint32_t version = r.read_pod<uint32_t>("version");
    if (version < 1 || version > kVersion)
        bad(path, "format version " + std::to_string(version) + ", this build reads versions 1 to " +
                      std::to_string(kVersion) + " (written by a newer tmine?)");
    const uint64_t rows = r.read_pod<uint64_t>("row count");
    // Every row needs at least 3 offsets (8 bytes each), a time and a source.
    if (rows > r.remaining() / 36) r.fail("row count");

    Corpus c;
    c.text = read_strings(r, rows, "text offsets", "text arena");
    c.ids = read_strings(r, rows, "id offsets", "id arena");
    c.authors = read_strings(r, rows, "author offsets", "author arena");
    c.time = r.read_vector<int64_t>("time column", rows);
    if (c.time.size() != rows)
        bad(path, "time column has " + std::to_string(c.time.size()) + " rows, expected " +
                      std::to_string(rows));
    c.source = r.read_vector<uint32_t>("source column", rows);
    if (c.source.size() != rows)
        bad(path, "source column has " + std::to_string(c.source.size()) + " rows, expected " +
                      std::to_string(rows));
    const uint64_t n_sources = r.read_pod<uint64_t>("source table size");
    if (n_sources > r.remaining() / 8) r.fail("source table size");
    c.sources.resize(n_sources);
    for (std::string& s : c.sources) {
        const uint64_t len = r.read_pod<uint64_t>("source name length");
        if (len > r.remaining()) r.fail("source name");
        s.resize(len);
        if (len) r.read(s.data(), len, "source name");
    }
    for (size_t i = 0; i < rows; ++i)
        if (c.source[i] >= n_sources)
            bad(path, "row " + std::to_string(i) + " names source " + std::to_string(c.source[i]) +
                          " of " + std::to_string(n_sources));
    if (version >= 2) {
        c.original = read_optional_strings(r, rows, "original text offsets", "original text arena");
        c.language = read_optional_strings(r, rows, "language offsets", "language arena");
        c.dup_count = r.read_vector<uint32_t>("duplicate count column", rows);
        if (!c.dup_count.empty() && c.dup_count.size() != rows)
            bad(path, "duplicate count column has " + std::to_string(c.dup_count.size()) +
                          " rows, expected 0 or " + std::to_string(rows));
    }
    r.read(magic, sizeof magic, "trailer");
    if (std::memcmp(magic, kMagic, sizeof magic) != 0) bad(path, "bad trailer");
    if (version >= 3) r.verify_checksum();
    if (r.remaining() != 0)
        bad(path, std::to_string(r.remaining()) + " unexpected bytes after the trailer");
    return c;
}

PostIds::PostIds(const Corpus* corpus, int64_t rows) : corpus_(corpus), rows_(rows) {
    if (!corpus) return;
    if (static_cast<int64_t>(corpus->size()) != rows)
        throw InputError("the corpus has " + std::to_string(corpus->size()) + " rows but the matrix has " +
                         std::to_string(rows) + " (give the corpus the matrix was vectorized from)");
    for (size_t r = 0; r < corpus->size(); ++r)
        if (!corpus->ids[r].empty()) {
            auto [it, fresh] = by_id_.emplace(corpus->ids[r], Match{int64_t(r), 1});
            if (!fresh) ++it->second.rows;
        }
    by_ids_ = !by_id_.empty();
}

PostIds::Match PostIds::find(std::string_view id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? Match{} : it->second;
}

std::string_view PostIds::resolve(std::string_view cell) const {
    auto hit = [&](std::string_view id) { return by_id_.find(id) != by_id_.end(); };
    auto unquoted = [](std::string_view v) { return v.size() > 1 && v[0] == '\'' ? v.substr(1) : v; };
    if (hit(cell)) return by_id_.find(cell)->first;
    if (hit(unquoted(cell))) return by_id_.find(unquoted(cell))->first;
    size_t b = 0, e = cell.size();
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
    while (b < e && space(cell[b])) ++b;
    while (e > b && space(cell[e - 1])) --e;
    const std::string_view trimmed = cell.substr(b, e - b);
    if (hit(trimmed)) return by_id_.find(trimmed)->first;
    if (hit(unquoted(trimmed))) return by_id_.find(unquoted(trimmed))->first;
    return {};
}

bool PostIds::named(int64_t r) const {
    if (!by_ids_) return true;
    const std::string_view id = corpus_->ids[static_cast<size_t>(r)];
    return !id.empty() && find(id).rows == 1 && find("'" + std::string(id)).rows == 0;
}

std::string PostIds::name(int64_t r) const {
    if (by_ids_ && !corpus_->ids[static_cast<size_t>(r)].empty())
        return std::string(corpus_->ids[static_cast<size_t>(r)]);
    return std::to_string(r);
}

}  // namespace tmine
