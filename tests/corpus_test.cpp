// The .tmc corpus file: round trips (hand-made and real data), and every way a file can be
// cut or corrupted raising InputError that names the file.
#include "tmine/corpus.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "test_util.hpp"
#include "tmine/error.hpp"
#include "tmine/ingest.hpp"
#include "tmine/io.hpp"

namespace tmine {
namespace {

using test::TempDir;

void expect_equal(const Corpus& a, const Corpus& b) {
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(a.text.offsets, b.text.offsets);
    EXPECT_EQ(a.text.arena, b.text.arena);
    EXPECT_EQ(a.ids.offsets, b.ids.offsets);
    EXPECT_EQ(a.ids.arena, b.ids.arena);
    EXPECT_EQ(a.authors.offsets, b.authors.offsets);
    EXPECT_EQ(a.authors.arena, b.authors.arena);
    EXPECT_EQ(a.time, b.time);
    EXPECT_EQ(a.source, b.source);
    EXPECT_EQ(a.sources, b.sources);
    EXPECT_EQ(a.original.offsets, b.original.offsets);
    EXPECT_EQ(a.original.arena, b.original.arena);
    EXPECT_EQ(a.language.offsets, b.language.offsets);
    EXPECT_EQ(a.language.arena, b.language.arena);
    EXPECT_EQ(a.dup_count, b.dup_count);
}

Corpus small_corpus() {
    Corpus c;
    c.sources = {"a.jsonl", "b.csv.gz"};
    c.add("first post", 1596240000, "t1_a", "alice", 0);
    c.add("", kNoTime, "", "", 0);  // empty text, no time, unmapped id and author
    c.add("caf\xC3\xA9 \xF0\x9F\x98\x80\nsecond line", -5, "42", "bob", 1);
    return c;
}

using test::read_bytes;
using test::write_bytes;

/// read_corpus(path) must throw InputError whose message names the path.
/// `says`: a part of the message that tells what is wrong.
void expect_input_error(const std::string& path, const std::string& what,
                        const std::string& says = "") {
    try {
        read_corpus(path);
        ADD_FAILURE() << what << ": expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << what << ": " << e.what();
        EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << what << ": " << e.what();
    }
}

/// Bytes of the version-2 clean columns when they are empty: two string columns (offset count
/// 1, offset 0, arena length 0) and an empty vector.
constexpr size_t kEmptyCleanColumns = 3 * 8 + 3 * 8 + 8;

TEST(Corpus, RoundTripCleanColumns) {
    TempDir tmp;
    Corpus c = small_corpus();
    for (size_t i = 0; i < c.size(); ++i) {
        c.original.push_back(std::string("<b>") + std::string(c.text[i]) + "</b>");
        c.language.push_back(i == 1 ? "und" : "en");
        c.dup_count.push_back(uint32_t(i + 1));
    }
    write_corpus(c, tmp.file("c.tmc"));
    const Corpus r = read_corpus(tmp.file("c.tmc"));
    expect_equal(c, r);
    EXPECT_EQ(r.original[0], "<b>first post</b>");
    EXPECT_EQ(r.language[1], "und");
    // select_rows carries every column
    const Corpus s = select_rows(r, {2, 0});
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s.text[0], r.text[2]);
    EXPECT_EQ(s.original[1], "<b>first post</b>");
    EXPECT_EQ(s.dup_count, (std::vector<uint32_t>{3, 1}));
    // a clean column with a wrong number of rows is refused
    std::string bytes = read_bytes(tmp.file("c.tmc"));
    const uint64_t rows_plus_one = 4;
    const std::string needle(reinterpret_cast<const char*>(&rows_plus_one), 8);
    const size_t at = bytes.find("<b>first") - 8 - 8 * 4 - 8;  // the original column's offset count
    ASSERT_EQ(bytes.compare(at, 8, needle), 0);
    const uint64_t two = 2;
    std::memcpy(&bytes[at], &two, 8);
    write_bytes(tmp.file("bad.tmc"), bytes);
    expect_input_error(tmp.file("bad.tmc"), "original rows", "original text offsets: 2 offsets for 3 rows");
}

TEST(Corpus, ReadsVersion1) {
    // A version-1 file is a version-3 file without the clean columns and the checksum.
    TempDir tmp;
    const Corpus c = small_corpus();
    write_corpus(c, tmp.file("v3.tmc"));
    std::string bytes = read_bytes(tmp.file("v3.tmc"));
    const uint32_t v1 = 1;
    std::memcpy(&bytes[4], &v1, 4);
    bytes.resize(bytes.size() - 8);  // the checksum
    bytes.erase(bytes.size() - 4 - kEmptyCleanColumns, kEmptyCleanColumns);
    write_bytes(tmp.file("v1.tmc"), bytes);
    const Corpus r = read_corpus(tmp.file("v1.tmc"));
    expect_equal(c, r);
    EXPECT_FALSE(r.has_original());
    EXPECT_FALSE(r.has_language());
    EXPECT_FALSE(r.has_dup_count());
}

TEST(Corpus, RoundTrip) {
    TempDir tmp;
    const Corpus c = small_corpus();
    write_corpus(c, tmp.file("c.tmc"));
    const Corpus r = read_corpus(tmp.file("c.tmc"));
    expect_equal(c, r);
    EXPECT_EQ(r.text[2], "caf\xC3\xA9 \xF0\x9F\x98\x80\nsecond line");
    EXPECT_EQ(r.time[1], kNoTime);
}

TEST(Corpus, EmptyRoundTrip) {
    TempDir tmp;
    const Corpus c;
    write_corpus(c, tmp.file("empty.tmc"));
    const Corpus r = read_corpus(tmp.file("empty.tmc"));
    expect_equal(c, r);
    EXPECT_EQ(r.size(), 0u);
}

TEST(Corpus, OverwriteLeavesNoTempFile) {
    TempDir tmp;
    write_corpus(small_corpus(), tmp.file("c.tmc"));
    write_corpus(Corpus(), tmp.file("c.tmc"));
    EXPECT_EQ(read_corpus(tmp.file("c.tmc")).size(), 0u);
    size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(tmp.path)) {
        (void)e;
        ++files;
    }
    EXPECT_EQ(files, 1u);
}

// What an interrupted run calls from its signal handler: the temp file of an output being
// written goes, a committed output stays, and an AtomicFile destroyed later finds nothing to
// remove.
TEST(Corpus, RemoveTempFilesLeavesOnlyCommittedOutputs) {
    TempDir tmp;
    write_corpus(small_corpus(), tmp.file("done.tmc"));
    {
        AtomicFile f(tmp.file("half.tmc"));
        f.write("TMC1 partial");
        size_t files = 0;
        for (const auto& e : std::filesystem::directory_iterator(tmp.path)) files += e.is_regular_file();
        EXPECT_EQ(files, 2u) << "done.tmc and half.tmc's temp file";
        remove_temp_files();
        files = 0;
        for (const auto& e : std::filesystem::directory_iterator(tmp.path)) {
            ++files;
            EXPECT_EQ(e.path().filename(), "done.tmc");
        }
        EXPECT_EQ(files, 1u);
    }
    EXPECT_EQ(read_corpus(tmp.file("done.tmc")).size(), small_corpus().size());
    // Temp files of other outputs after that are still known.
    AtomicFile g(tmp.file("next.tmc"));
    size_t temps = 0;
    for (const auto& e : std::filesystem::directory_iterator(tmp.path))
        temps += e.path().filename().string().rfind("next.tmc.tmp.", 0) == 0;
    EXPECT_EQ(temps, 1u);
    remove_temp_files();
    for (const auto& e : std::filesystem::directory_iterator(tmp.path))
        EXPECT_EQ(e.path().filename(), "done.tmc");
}

// The CLI's all-or-nothing outputs: with deferral on, committed files wait in their temp files
// until commit_deferred() renames them all, or discard_deferred() removes them all; an
// immediate file (a checkpoint) is renamed at once.
TEST(Corpus, DeferredCommitsAreAllOrNothing) {
    TempDir tmp;
    auto names = [&] {
        std::vector<std::string> v;
        for (const auto& e : std::filesystem::directory_iterator(tmp.path)) v.push_back(e.path().filename().string());
        std::sort(v.begin(), v.end());
        return v;
    };
    defer_commits(true);
    write_corpus(small_corpus(), tmp.file("a.tmc"));
    write_file_atomic(tmp.file("b.txt"), "b");
    {
        AtomicFile now(tmp.file("now.txt"), /*immediate=*/true);
        now.write("checkpoint");
        now.commit();
    }
    auto v = names();
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].rfind("a.tmc.tmp.", 0), 0u);
    EXPECT_EQ(v[1].rfind("b.txt.tmp.", 0), 0u);
    EXPECT_EQ(v[2], "now.txt");
    commit_deferred();
    EXPECT_EQ(names(), (std::vector<std::string>{"a.tmc", "b.txt", "now.txt"}));
    EXPECT_EQ(read_corpus(tmp.file("a.tmc")).size(), small_corpus().size());
    // A failed command: its completed outputs go, the files from before stay as they were.
    write_file_atomic(tmp.file("b.txt"), "new b");
    write_file_atomic(tmp.file("c.txt"), "c");
    discard_deferred();
    defer_commits(false);
    EXPECT_EQ(names(), (std::vector<std::string>{"a.tmc", "b.txt", "now.txt"}));
    EXPECT_EQ(read_bytes(tmp.file("b.txt")), "b");
    // An output path that is a directory is refused when it is opened, not at the rename.
    std::filesystem::create_directory(tmp.file("dir.json"));
    EXPECT_THROW(write_file_atomic(tmp.file("dir.json"), "{}"), IoError);
}

// With the CLI's input guard on, an output that is one of the inputs read (by any spelling of
// its path) is refused and the input is kept; another output is written. Off, the library may
// rewrite what it read.
TEST(Corpus, TheInputGuardRefusesToReplaceAnInput) {
    TempDir tmp;
    write_corpus(small_corpus(), tmp.file("c.tmc"));
    guard_inputs(true);
    const Corpus c = read_corpus(tmp.file("c.tmc"));
    try {
        write_corpus(Corpus(), tmp.path.string() + "/./c.tmc");
        ADD_FAILURE() << "the input was replaced";
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("is the input " + tmp.file("c.tmc") + " of this command"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_NO_THROW(write_corpus(c, tmp.file("d.tmc")));
    guard_inputs(false);
    EXPECT_EQ(read_corpus(tmp.file("c.tmc")).size(), small_corpus().size());
    EXPECT_NO_THROW(write_corpus(Corpus(), tmp.file("c.tmc")));
    EXPECT_EQ(read_corpus(tmp.file("c.tmc")).size(), 0u);
}

TEST(Corpus, EveryTruncationIsAnInputError) {
    TempDir tmp;
    write_corpus(small_corpus(), tmp.file("c.tmc"));
    const std::string bytes = read_bytes(tmp.file("c.tmc"));
    const std::string cut = tmp.file("cut.tmc");
    for (size_t n = 0; n < bytes.size(); ++n) {
        write_bytes(cut, bytes.substr(0, n));
        expect_input_error(cut, "cut at " + std::to_string(n));
    }
    write_bytes(cut, bytes + "x");
    expect_input_error(cut, "trailing byte", "1 unexpected bytes after the end");
    // Any byte changed, even where the structure cannot tell (inside a text), fails the checksum.
    std::string flipped = bytes;
    flipped[bytes.find("first")] ^= 0x20;
    write_bytes(cut, flipped);
    expect_input_error(cut, "flipped text byte", "corrupt file: its contents do not match the checksum");
}

TEST(Corpus, CorruptionsAreInputErrors) {
    TempDir tmp;
    const std::string path = tmp.file("c.tmc");
    write_corpus(small_corpus(), path);
    const std::string good = read_bytes(path);
    const std::string bad = tmp.file("bad.tmc");
    auto patched = [&](size_t at, const void* v, size_t n) {
        std::string b = good;
        std::memcpy(&b[at], v, n);
        write_bytes(bad, b);
    };
    patched(0, "XXXX", 4);
    expect_input_error(bad, "magic", "bad magic");
    const uint32_t v4 = 4;
    patched(4, &v4, 4);
    expect_input_error(bad, "version", "format version 4, this build reads versions 1 to 3");
    // Layout: magic(4) version(4) rows(8) | text offsets: count(8) then 4 offsets.
    const uint64_t rows = 1000000;
    patched(8, &rows, 8);
    expect_input_error(bad, "row count", "row count");
    const uint64_t decreasing = 100;  // text offsets[1] beyond offsets[2] (= 10)
    patched(16 + 8 + 8, &decreasing, 8);
    expect_input_error(bad, "offsets decrease", "text offsets decrease at row 1");
    const uint64_t nonzero = 1;
    patched(16 + 8, &nonzero, 8);
    expect_input_error(bad, "offsets[0] != 0", "text offsets do not start at 0");
    // The last source index (uint32 just before the source table and trailer) out of range.
    // count, "a.jsonl", "b.csv.gz", the three empty clean columns of version 2, trailer, checksum
    const size_t sources_table = 8 + 8 + 7 + 8 + 8 + kEmptyCleanColumns + 4 + 8;
    const uint32_t out_of_range = 2;
    patched(good.size() - sources_table - 4, &out_of_range, 4);
    expect_input_error(bad, "source index", "row 2 names source 2 of 2");
    write_bytes(bad, "not a corpus at all");
    expect_input_error(bad, "text file");
}

TEST(Corpus, MissingFileIsAnIoError) {
    TempDir tmp;
    EXPECT_THROW(read_corpus(tmp.file("nope.tmc")), IoError);
    EXPECT_THROW(write_corpus(Corpus(), tmp.file("no-dir/c.tmc")), IoError);
}

TEST(Corpus, RealDataRoundTrip) {
    TMINE_REQUIRE_DATA("twcs-customer-support-sample.csv.gz");
    IngestOptions o;
    o.text_field = "text";
    o.time_field = "created_at";
    o.id_field = "tweet_id";
    o.author_field = "author_id";
    Corpus c;
    ingest({test::data_file("twcs-customer-support-sample.csv.gz")}, o, c);
    ASSERT_EQ(c.size(), 5000u);
    TempDir tmp;
    write_corpus(c, tmp.file("twcs.tmc"));
    expect_equal(c, read_corpus(tmp.file("twcs.tmc")));
}

}  // namespace
}  // namespace tmine
