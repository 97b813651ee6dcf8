// Stage 1, ingest: real corpora (Reddit JSONL.gz, customer-support CSV.gz, 20 Newsgroups) and
// small hand-written broken fixtures (tests/fixtures/ingest/).
#include "tmine/ingest.hpp"

#include <gtest/gtest.h>
#include <utf8proc.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "tmine/error.hpp"

namespace tmine {
namespace {

using test::TempDir;

constexpr const char* kReddit = "reddit-comments-2020-08_2022-07.jsonl.gz";
constexpr const char* kTwcs = "twcs-customer-support-sample.csv.gz";
constexpr const char* k20News = "20news-bydate.tar.gz";

std::string fx(const std::string& name) { return test::fixture("ingest/" + name); }

using test::read_bytes;
using test::write_bytes;
std::string read_all(const std::string& path) { return test::read_gunzipped(path); }
std::string read_all_raw(const std::string& path) { return read_bytes(path); }

/// The skip report for `line`, or "" when that line was not reported.
std::string reason_at(const IngestReport& r, uint64_t line, const std::string& file = "") {
    for (const SkippedLine& e : r.examples)
        if (e.line == line && (file.empty() || e.file == file)) return e.reason;
    return "";
}

bool valid_utf8(const std::string& s) {  // an independent check (utf8proc), not ingest's
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    utf8proc_ssize_t i = 0, n = static_cast<utf8proc_ssize_t>(s.size());
    while (i < n) {
        utf8proc_int32_t cp;
        const utf8proc_ssize_t k = utf8proc_iterate(p + i, n - i, &cp);
        if (k <= 0) return false;
        i += k;
    }
    return true;
}

constexpr int64_t kUtc20200801 = 1596240000;
constexpr int64_t kUtc20210101 = 1609459200;
constexpr int64_t kUtc20210201 = 1612137600;
constexpr int64_t kUtc20220801 = 1659312000;

// ---------------------------------------------------------------------------------------------
// parse_timestamp

TEST(ParseTimestamp, EpochNumbers) {
    EXPECT_EQ(parse_timestamp("0"), 0);
    EXPECT_EQ(parse_timestamp("1596240000"), kUtc20200801);
    EXPECT_EQ(parse_timestamp("1596240000000"), kUtc20200801);  // milliseconds
    EXPECT_EQ(parse_timestamp("1596240000999"), kUtc20200801);
    EXPECT_EQ(parse_timestamp("1596240000.75"), kUtc20200801);
    EXPECT_EQ(parse_timestamp("1.59624e9"), kUtc20200801);
    EXPECT_EQ(parse_timestamp("-1"), -1);
    EXPECT_EQ(parse_timestamp("-1.5"), -2);  // floor
    EXPECT_EQ(parse_timestamp("-1500000000000"), -1500000000);
    EXPECT_EQ(parse_timestamp("  1596240000 "), kUtc20200801);
    EXPECT_EQ(parse_timestamp("+1596240000"), kUtc20200801);
    // decimals are floored from their digits, not rounded through a double
    EXPECT_EQ(parse_timestamp("1609459199.9999999"), kUtc20210101 - 1);
    EXPECT_EQ(parse_timestamp("1609459199999.9999"), kUtc20210101 - 1);  // milliseconds
    EXPECT_EQ(parse_timestamp("-0.5"), -1);
    EXPECT_EQ(parse_timestamp("-1596240000000.5"), -1596240001);
    EXPECT_EQ(parse_timestamp("100000000000.5"), 100000000);  // above 1e11: milliseconds
    EXPECT_EQ(parse_timestamp("100000000000.0"), 100000000000LL);
}

TEST(ParseTimestamp, Iso8601) {
    EXPECT_EQ(parse_timestamp("2021-01-01"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("2021-01-01T00:00:00Z"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("2021-01-01T00:00Z"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("2021-01-01 00:00:00"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("2021-01-01T00:00:00.999Z"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("2021-01-01T01:30:00+01:30"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("2021-01-01T01:30:00+0130"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("2020-12-31T19:00:00-05:00"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("2020-12-31 19:00:00 -0500"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("2021-03-04T05:06:07Z"), 1614834367);
    EXPECT_EQ(parse_timestamp("2000-02-29"), 951782400);  // leap day
    EXPECT_EQ(parse_timestamp("1969-12-31T23:59:59Z"), -1);
    EXPECT_EQ(parse_timestamp("1600-03-01"), -11670912000LL);
    // the basic form: 8 digits of a date, 14 of a date and time (years 1900..2199), not epoch
    // seconds of 1970 or a date centuries ahead
    EXPECT_EQ(parse_timestamp("20210101"), kUtc20210101);
    EXPECT_EQ(parse_timestamp("20210304050607"), 1614834367);
    EXPECT_EQ(parse_timestamp("20211301"), std::nullopt) << "not a date: said, not read as seconds";
    EXPECT_EQ(parse_timestamp("12345678"), 12345678) << "year 1234: epoch seconds as before";
    // a leap second is the last of a UTC day; white space around the value is no part of it
    EXPECT_EQ(parse_timestamp("2016-12-31T23:59:60Z"), 1483228800);
    EXPECT_EQ(parse_timestamp("2017-01-01T00:59:60+01:00"), 1483228800);
    EXPECT_EQ(parse_timestamp("\n2021-01-01\r\n"), kUtc20210101);
}

TEST(ParseTimestamp, Twitter) {
    EXPECT_EQ(parse_timestamp("Tue Oct 31 22:10:47 +0000 2017"), 1509487847);
    EXPECT_EQ(parse_timestamp("Wed Nov 01 00:10:47 +0200 2017"), 1509487847);
    EXPECT_EQ(parse_timestamp("Fri Dec 1 09:00:00 +0000 2017"), 1512118800);
}

TEST(ParseTimestamp, GarbageIsNullopt) {
    for (const char* s : {"",
                          "   ",
                          "yesterday",
                          "2021-13-40",
                          "2021-02-29",
                          "2021-00-10",
                          "2021-01-32",
                          "2021-01-01T24:00:00",
                          "2021-01-01T12:60",
                          "2016-12-31T12:34:60Z",
                          "2016-12-31T23:59:60+01:00",
                          "Tue Oct 31 22:10:60 +0000 2017",
                          "2021-01-01T",
                          "2021-01-01T12:00:00+25:00",
                          "2021-01-01X",
                          "21-01-01",
                          "12abc",
                          "1e",
                          "1.",
                          ".5",
                          "--1",
                          "1e999",
                          "Tue Oct 31 22:10:47 2017",
                          "Xyz Oct 31 22:10:47 +0000 2017",
                          "Tue Foo 31 22:10:47 +0000 2017",
                          "Tue Feb 30 22:10:47 +0000 2017",
                          "NaN",
                          "inf",
                          "0x10"})
        EXPECT_EQ(parse_timestamp(s), std::nullopt) << "'" << s << "'";
}

TEST(ParseInputFormat, Names) {
    EXPECT_EQ(parse_input_format("auto"), InputFormat::Auto);
    EXPECT_EQ(parse_input_format("jsonl"), InputFormat::Jsonl);
    EXPECT_EQ(parse_input_format("json"), InputFormat::Json);
    EXPECT_EQ(parse_input_format("csv"), InputFormat::Csv);
    EXPECT_THROW(parse_input_format("xml"), InputError);
}

// ---------------------------------------------------------------------------------------------
// Broken fixtures

IngestOptions fixture_opts() {
    IngestOptions o;
    o.text_field = "text";
    o.time_field = "created_at";
    o.id_field = "id";
    o.author_field = "user.name";
    return o;
}

TEST(IngestFixtures, BrokenJsonLines) {
    Corpus c;
    const std::string f = fx("broken.jsonl");
    const IngestReport r = ingest({f}, fixture_opts(), c);
    EXPECT_EQ(r.records, 10u);  // 11 lines, one blank
    EXPECT_EQ(r.kept, 3u);
    EXPECT_EQ(r.skipped, 7u);
    EXPECT_EQ(r.out_of_window, 0u);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c.text[0], "hello world");
    EXPECT_EQ(c.ids[0], "1");
    EXPECT_EQ(c.authors[0], "alice");
    EXPECT_EQ(c.time[0], 1614834367);
    EXPECT_EQ(c.text[1], "");  // an empty post is a post
    EXPECT_EQ(c.ids[1], "7");
    EXPECT_EQ(c.authors[1], "bob");
    EXPECT_EQ(c.time[1], 1614834367);  // milliseconds
    EXPECT_EQ(c.text[2], "last line, no newline");
    EXPECT_EQ(c.authors[2], "");
    EXPECT_EQ(c.time[2], 1509487847);
    EXPECT_EQ(c.sources, std::vector<std::string>{f});
    EXPECT_EQ(c.source, (std::vector<uint32_t>{0, 0, 0}));

    ASSERT_EQ(r.examples.size(), 7u);
    EXPECT_NE(reason_at(r, 2).find("JSON syntax error at column"), std::string::npos);
    EXPECT_EQ(reason_at(r, 4), "missing text field 'text'");
    EXPECT_EQ(reason_at(r, 5), "text field 'text' is a number, not a string");
    EXPECT_EQ(reason_at(r, 6), "bad timestamp '2021-13-40' in field 'created_at'");
    EXPECT_NE(reason_at(r, 7).find("invalid UTF-8 in field 'text'"), std::string::npos);
    EXPECT_EQ(reason_at(r, 9), "text field 'text' is null, not a string");
    EXPECT_EQ(reason_at(r, 10), "the line is an array, not a JSON object");

    const std::string s = r.summary();
    EXPECT_NE(s.find(f + ":4: missing text field 'text'\n"), std::string::npos) << s;
    EXPECT_NE(s.find("ingest: 10 records, 3 kept, 7 skipped, 0 outside the time window"),
              std::string::npos)
        << s;
}

// A time after the crawl (a day past now) is a misread value: its record is skipped with the
// date it would have, the others are kept, a time just before now too.
TEST(IngestFixtures, TimesInTheFutureAreSkipped) {
    TempDir tmp;
    const long long now = static_cast<long long>(std::time(nullptr));
    write_bytes(tmp.file("t.jsonl"), "{\"text\": \"a\", \"created_at\": 99999999999}\n"
                                     "{\"text\": \"b\", \"created_at\": " + std::to_string(now - 60) + "}\n"
                                     "{\"text\": \"c\", \"created_at\": \"2921-01-01\"}\n");
    Corpus c;
    const IngestReport r = ingest({tmp.file("t.jsonl")}, fixture_opts(), c);
    EXPECT_EQ(r.kept, 1u);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c.text[0], "b");
    EXPECT_EQ(reason_at(r, 1), "timestamp '99999999999' in field 'created_at' is in the future "
                               "(5138-11-16T09:46:39Z; --keep-future-times keeps it)");
    EXPECT_EQ(reason_at(r, 3), "timestamp '2921-01-01' in field 'created_at' is in the future "
                               "(2921-01-01T00:00:00Z; --keep-future-times keeps it)");
    // Data whose clock runs ahead: the caller lifts the limit.
    IngestOptions all = fixture_opts();
    all.latest = std::numeric_limits<int64_t>::max();
    Corpus k;
    EXPECT_EQ(ingest({tmp.file("t.jsonl")}, all, k).kept, 3u);
    // A time window decides first: a future post after --until is outside it, not skipped.
    IngestOptions window = fixture_opts();
    window.until = now - 3600;
    Corpus w;
    const IngestReport rw = ingest({tmp.file("t.jsonl")}, window, w);
    EXPECT_EQ(rw.out_of_window, 3u);
    EXPECT_EQ(rw.skipped, 0u);
}

// A time before 1980 (a missing time written as 0, seconds read as days) is a misread value:
// skipped with its date, unless --since reaches back to it or the caller keeps every date.
TEST(IngestFixtures, TimesBeforeOnlineConversationAreSkipped) {
    TempDir tmp;
    write_bytes(tmp.file("t.jsonl"), "{\"text\": \"a\", \"created_at\": 0}\n"
                                     "{\"text\": \"b\", \"created_at\": \"2021-03-04\"}\n"
                                     "{\"text\": \"c\", \"created_at\": \"0001-01-01T00:00:00Z\"}\n"
                                     "{\"text\": \"d\", \"created_at\": \"1979-12-31T23:59:59Z\"}\n"
                                     "{\"text\": \"e\", \"created_at\": \"1980-01-01T00:00:00Z\"}\n"
                                     "{\"text\": \"f\", \"created_at\": \"1975-06-01\"}\n");
    Corpus c;
    const IngestReport r = ingest({tmp.file("t.jsonl")}, fixture_opts(), c);
    EXPECT_EQ(r.kept, 2u);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c.text[0], "b");
    EXPECT_EQ(c.text[1], "e");
    EXPECT_EQ(reason_at(r, 1), "timestamp '0' in field 'created_at' is before 1980-01-01 "
                               "(1970-01-01T00:00:00Z, often a missing time written as 0; "
                               "--keep-old-times keeps it)");
    EXPECT_EQ(reason_at(r, 3), "timestamp '0001-01-01T00:00:00Z' in field 'created_at' is before "
                               "1980-01-01 (0001-01-01T00:00:00Z; --keep-old-times keeps it)");
    EXPECT_EQ(reason_at(r, 4), "timestamp '1979-12-31T23:59:59Z' in field 'created_at' is before "
                               "1980-01-01 (1979-12-31T23:59:59Z; --keep-old-times keeps it)");
    // A window that starts earlier lowers the bound to its start.
    IngestOptions window = fixture_opts();
    window.since = parse_timestamp("1975-01-01");
    Corpus w;
    const IngestReport rw = ingest({tmp.file("t.jsonl")}, window, w);
    EXPECT_EQ(rw.kept, 4u);  // b, d, e, f
    EXPECT_EQ(rw.out_of_window, 2u);  // a, c
    EXPECT_EQ(rw.skipped, 0u);
    // An archive older than online conversation: the caller keeps every date.
    IngestOptions all = fixture_opts();
    all.earliest = std::numeric_limits<int64_t>::min();
    Corpus k;
    EXPECT_EQ(ingest({tmp.file("t.jsonl")}, all, k).kept, 6u);
    ASSERT_EQ(k.size(), 6u);
    EXPECT_EQ(k.time[0], 0);
}

// RapidJSON refuses an unpaired high-surrogate escape but decodes an unpaired low one into
// bytes that are not UTF-8: both records are skipped, named by their field, the rest kept.
TEST(IngestFixtures, UnpairedSurrogateEscapesAreInvalidUtf8) {
    TempDir tmp;
    write_bytes(tmp.file("s.jsonl"), "{\"text\": \"hello world \\udc00\", \"id\": \"a\"}\n"
                                     "{\"text\": \"hello there\", \"id\": \"b\\udfff\"}\n"
                                     "{\"text\": \"x \\ud800 y\", \"id\": \"c\"}\n"
                                     "{\"text\": \"pair \\ud83d\\ude00 ok\", \"id\": \"d\"}\n");
    IngestOptions o = fixture_opts();
    o.id_field = "id";
    Corpus c;
    const IngestReport r = ingest({tmp.file("s.jsonl")}, o, c);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c.ids[0], "d");
    EXPECT_EQ(c.text[0], "pair \xF0\x9F\x98\x80 ok");
    EXPECT_EQ(r.skipped, 3u);
    EXPECT_EQ(reason_at(r, 1), "invalid UTF-8 in field 'text' (byte 13 of the value: a UTF-16 "
                               "surrogate, as an unpaired \\udc00 escape gives)");
    EXPECT_EQ(reason_at(r, 2), "invalid UTF-8 in field 'id' (byte 2 of the value: a UTF-16 "
                               "surrogate, as an unpaired \\udc00 escape gives)");
    EXPECT_EQ(reason_at(r, 3), "invalid UTF-8 in field 'text' at column 13: a UTF-16 surrogate, as an "
                               "unpaired \\ud800 escape gives");
}

TEST(IngestFixtures, ExamplesAreCappedButAllCounted) {
    IngestOptions o = fixture_opts();
    o.max_examples = 2;
    Corpus c;
    const IngestReport r = ingest({fx("broken.jsonl")}, o, c);
    EXPECT_EQ(r.skipped, 7u);
    ASSERT_EQ(r.examples.size(), 2u);
    EXPECT_EQ(r.examples[0].line, 2u);
    EXPECT_EQ(r.examples[1].line, 4u);
    EXPECT_NE(r.summary().find("... and 5 more skipped records"), std::string::npos);
}

TEST(IngestFixtures, TimeWindow) {
    IngestOptions o = fixture_opts();
    o.author_field.clear();  // no such CSV column
    o.since = parse_timestamp("2021-01-01");
    o.until = parse_timestamp("2022-01-01");
    Corpus c;
    const IngestReport r = ingest({fx("broken.jsonl"), fx("missing_column.csv")}, o, c);
    // broken.jsonl: 2 kept posts in 2021, 1 in 2017 (outside). missing_column.csv: 2 dated
    // 2021 posts kept, one undated post skipped because a window is set.
    EXPECT_EQ(r.kept, 4u);
    EXPECT_EQ(r.out_of_window, 1u);
    EXPECT_EQ(r.records, r.kept + r.skipped + r.out_of_window);
    EXPECT_EQ(reason_at(r, 10, fx("missing_column.csv")),
              "no timestamp in field 'created_at' (a time window is set)");
    EXPECT_EQ(c.sources.size(), 2u);
    EXPECT_EQ(c.source, (std::vector<uint32_t>{0, 0, 1, 1}));

    IngestOptions no_time;
    no_time.since = 0;
    EXPECT_THROW(ingest({fx("broken.jsonl")}, no_time, c), InputError);
}

TEST(IngestFixtures, EmptyFile) {
    Corpus c;
    const IngestReport r = ingest({fx("empty.jsonl")}, fixture_opts(), c);
    EXPECT_EQ(r.records, 0u);
    EXPECT_EQ(r.examples.size(), 0u);
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.sources.size(), 1u);
    for (InputFormat f : {InputFormat::Json, InputFormat::Csv}) {
        IngestOptions o = fixture_opts();
        o.format = f;
        EXPECT_EQ(ingest({fx("empty.jsonl")}, o, c).records, 0u);
    }
}

TEST(IngestFixtures, JsonArrayWithSyntaxError) {
    Corpus c;
    const IngestReport r = ingest({fx("broken_array.json")}, fixture_opts(), c);
    EXPECT_EQ(r.records, 3u);
    EXPECT_EQ(r.kept, 2u);
    EXPECT_EQ(r.skipped, 1u);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c.text[0], "first");
    EXPECT_EQ(c.authors[0], "a");
    EXPECT_EQ(c.text[1], "second");
    ASSERT_EQ(r.examples.size(), 1u);
    EXPECT_EQ(r.examples[0].line, 4u);
    EXPECT_NE(r.examples[0].reason.find("JSON syntax error"), std::string::npos);
    EXPECT_NE(r.examples[0].reason.find("(rest of file not read)"), std::string::npos);
}

TEST(IngestFixtures, JsonArrayNestedPaths) {
    IngestOptions o;
    o.text_field = "body.text";
    o.time_field = "ts";
    o.id_field = "id";
    o.author_field = "user.name";
    Corpus c;
    const IngestReport r = ingest({fx("nested_array.json")}, o, c);
    EXPECT_EQ(r.records, 4u);
    EXPECT_EQ(r.kept, 2u);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c.text[0], "nested \xC3\xA9 text");
    EXPECT_EQ(c.ids[0], "10");
    EXPECT_EQ(c.authors[0], "ann");
    EXPECT_EQ(c.time[0], 1614834367);
    EXPECT_EQ(c.text[1], "tab\tand \"quotes\"");
    EXPECT_EQ(c.ids[1], "12");
    EXPECT_EQ(c.time[1], 1614834367 - 3600);
    EXPECT_EQ(reason_at(r, 3), "array element is a number, not an object");
    EXPECT_EQ(reason_at(r, 4), "author field 'user.name' is an array, not a string or number");
}

TEST(IngestFixtures, CsvUnterminatedQuote) {
    IngestOptions o = fixture_opts();
    o.author_field.clear();
    Corpus c;
    const IngestReport r = ingest({fx("unterminated.csv")}, o, c);
    EXPECT_EQ(r.records, 2u);
    EXPECT_EQ(r.kept, 1u);
    ASSERT_EQ(r.examples.size(), 1u);
    EXPECT_EQ(r.examples[0].line, 3u);
    EXPECT_EQ(r.examples[0].reason,
              "unterminated quoted field in column 'text' (rest of file not read)");
}

TEST(IngestFixtures, CsvMissingColumnAndOtherRows) {
    IngestOptions o = fixture_opts();
    o.author_field.clear();
    Corpus c;
    const IngestReport r = ingest({fx("missing_column.csv")}, o, c);
    EXPECT_EQ(r.records, 7u);
    EXPECT_EQ(r.kept, 3u);
    EXPECT_EQ(r.skipped, 4u);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c.text[0], "multi\r\nline \"quoted\"");  // a quoted CRLF is content
    EXPECT_EQ(c.ids[0], "1");
    EXPECT_EQ(c.time[0], kUtc20210101);
    EXPECT_EQ(c.text[1], "fine, with comma");
    EXPECT_EQ(c.text[2], "");
    EXPECT_EQ(c.time[2], kNoTime);
    EXPECT_EQ(reason_at(r, 4), "the row has 3 fields, the header has 4");
    EXPECT_EQ(reason_at(r, 6), "bad timestamp 'yesterday' in field 'created_at'");
    EXPECT_EQ(reason_at(r, 7), "invalid UTF-8 in field 'text' (byte 4 of the value)");
    EXPECT_EQ(reason_at(r, 8), "text after the closing quote in column 'text'");
}

// After a closing quote only the delimiter or a line end (LF, CRLF, a CR ending the data) may
// come: a bare CR and more text is the same mistake as other text there.
TEST(IngestFixtures, CsvBareCarriageReturnAfterAQuote) {
    TempDir tmp;
    write_bytes(tmp.file("q.csv"), "id,text\n1,\"x\"\rY\n2,\"ok\"\r\n3,\"end\"\r");
    IngestOptions o;
    o.text_field = "text";
    o.id_field = "id";
    Corpus c;
    const IngestReport r = ingest({tmp.file("q.csv")}, o, c);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c.text[0], "ok");
    EXPECT_EQ(c.text[1], "end");
    EXPECT_EQ(reason_at(r, 2), "text after the closing quote in column 'text'");
}

TEST(IngestFixtures, CsvHeaderWithoutMappedColumnIsAnInputError) {
    IngestOptions o = fixture_opts();  // author_field "user.name" is no CSV column
    Corpus c;
    try {
        ingest({fx("missing_column.csv")}, o, c);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("no column 'user.name'"), std::string::npos)
            << e.what();
    }
}

// A header cell with text after its closing quote cannot name a mapped column; the error says
// which cell and how it was read.
TEST(IngestFixtures, CsvHeaderCellWithTextAfterItsQuoteIsNamed) {
    TempDir tmp;
    write_bytes(tmp.file("h.csv"), "id,\"text\" ,time\n1,post,2021-01-01\n");
    IngestOptions o;
    o.text_field = "text";
    o.id_field = "id";
    Corpus c;
    try {
        ingest({tmp.file("h.csv")}, o, c);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(
                      "h.csv: the CSV header has no column 'text' for the text field (columns: 'id', "
                      "'text ', 'time'); column 2 has text after its closing quote, read as 'text '"),
                  std::string::npos)
            << e.what();
    }
}

TEST(IngestFixtures, CsvHeaderNamingAMappedColumnTwiceIsAnInputError) {
    TempDir tmp;
    write_bytes(tmp.file("dup.csv"), "id,text,text\n1,first,second\n");
    IngestOptions o;
    o.text_field = "text";
    Corpus c;
    try {
        ingest({tmp.file("dup.csv")}, o, c);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("dup.csv: the CSV header names column 'text' twice (columns 2 and 3)"),
                  std::string::npos)
            << e.what();
    }
    // A repeated column that is not mapped is no matter.
    write_bytes(tmp.file("ok.csv"), "x,text,x\n1,post,2\n");
    EXPECT_EQ(ingest({tmp.file("ok.csv")}, o, c).kept, 1u);
}

TEST(IngestFixtures, MissingFileIsAnIoError) {
    Corpus c;
    EXPECT_THROW(ingest({fx("does-not-exist.jsonl")}, fixture_opts(), c), IoError);
    EXPECT_THROW(ingest({test::fixture("ingest")}, fixture_opts(), c), IoError);
}

/// gzip-compresses `plain` into `path` with zlib.
void gzip_to(const std::string& path, const std::string& plain) {
    gzFile g = gzopen(path.c_str(), "wb");
    ASSERT_NE(g, nullptr);
    ASSERT_EQ(gzwrite(g, plain.data(), static_cast<unsigned>(plain.size())),
              static_cast<int>(plain.size()));
    ASSERT_EQ(gzclose(g), Z_OK);
}

TEST(IngestFixtures, GzipEqualsPlainAndTruncatedGzipIsReported) {
    TempDir tmp;
    std::string plain;
    for (int i = 0; i < 3000; ++i)
        plain += "{\"text\": \"post number " + std::to_string(i) +
                 " with some words\", \"id\": " + std::to_string(i) + "}\n";
    const std::string gz = tmp.file("posts.jsonl.gz");
    gzip_to(gz, plain);
    write_bytes(tmp.file("posts.jsonl"), plain);

    IngestOptions o;
    o.id_field = "id";
    Corpus a, b;
    const IngestReport ra = ingest({gz}, o, a);
    const IngestReport rb = ingest({tmp.file("posts.jsonl")}, o, b);
    EXPECT_EQ(ra.kept, 3000u);
    EXPECT_EQ(rb.kept, 3000u);
    EXPECT_EQ(ra.bytes, plain.size());
    EXPECT_EQ(a.text.arena, b.text.arena);
    EXPECT_EQ(a.ids.arena, b.ids.arena);

    // Cut the compressed file in half: the records before the cut are kept, the cut itself is
    // one skipped record that says so.
    const std::string whole = read_all_raw(gz);
    const std::string cut = tmp.file("cut.jsonl.gz");
    write_bytes(cut, whole.substr(0, whole.size() / 2));
    Corpus t;
    const IngestReport rt = ingest({cut}, o, t);
    EXPECT_GT(rt.kept, 0u);
    EXPECT_LT(rt.kept, 3000u);
    EXPECT_EQ(rt.skipped, 1u);
    EXPECT_EQ(rt.records, rt.kept + 1);
    ASSERT_EQ(rt.examples.size(), 1u);
    EXPECT_EQ(rt.examples[0].line, rt.kept + 1);
    EXPECT_NE(rt.examples[0].reason.find("truncated gzip"), std::string::npos)
        << rt.examples[0].reason;
    for (size_t i = 0; i < t.size(); ++i) ASSERT_EQ(t.text[i], a.text[i]);

    // A damaged checksum in the trailer: every record decoded before it is kept (all of them
    // here), and the damage is reported after the last one.
    std::string bad = whole;
    bad[bad.size() - 6] ^= 0x5a;  // the CRC-32, 8 bytes from the end
    write_bytes(tmp.file("crc.jsonl.gz"), bad);
    Corpus c;
    const IngestReport rc = ingest({tmp.file("crc.jsonl.gz")}, o, c);
    EXPECT_EQ(rc.kept, 3000u);
    EXPECT_EQ(rc.skipped, 1u);
    ASSERT_EQ(rc.examples.size(), 1u);
    EXPECT_EQ(rc.examples[0].line, 3001u);
    EXPECT_NE(rc.examples[0].reason.find("corrupt gzip data (incorrect data check)"), std::string::npos)
        << rc.examples[0].reason;
    EXPECT_EQ(c.text.arena, a.text.arena);

    // Two members (files concatenated with cat) read as one; bytes after the last member that
    // are not gzip are ignored, as gzip -d does.
    write_bytes(tmp.file("two.jsonl.gz"), whole + whole + std::string("\0\0\0junk", 7));
    Corpus two;
    const IngestReport r2 = ingest({tmp.file("two.jsonl.gz")}, o, two);
    EXPECT_EQ(r2.kept, 6000u);
    EXPECT_EQ(r2.skipped, 0u);
    EXPECT_EQ(two.text[3000], a.text[0]);

    // The same cut CSV and JSON array.
    std::string csv = "id,text\n", arr = "[\n";
    for (int i = 0; i < 3000; ++i) {
        csv += std::to_string(i) + ",\"row " + std::to_string(i) + ", quoted\"\n";
        arr += std::string(i ? "," : "") + "{\"text\": \"element " + std::to_string(i) + "\"}\n";
    }
    arr += "]\n";
    for (const auto& [name, content] :
         {std::pair<std::string, std::string>{"t.csv.gz", csv}, {"t.json.gz", arr}}) {
        const std::string full = tmp.file("full-" + name);
        gzip_to(full, content);
        const std::string bytes = read_all_raw(full);
        write_bytes(tmp.file(name), bytes.substr(0, bytes.size() / 2));
        Corpus x;
        const IngestReport rx = ingest({tmp.file(name)}, o, x);
        EXPECT_GT(rx.kept, 0u) << name;
        EXPECT_EQ(rx.skipped, 1u) << name;
        ASSERT_EQ(rx.examples.size(), 1u) << name;
        EXPECT_NE(rx.examples[0].reason.find("truncated gzip"), std::string::npos) << name;
    }
}

TEST(IngestFixtures, FormatDetection) {
    TempDir tmp;
    // ".json" holding JSON Lines, and files without a known extension: sniffed.
    write_bytes(tmp.file("lines.json"), "\n{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
    write_bytes(tmp.file("array.dat"), "  [{\"text\": \"a\"}, {\"text\": \"b\"}]");
    write_bytes(tmp.file("table.txt"), "\xEF\xBB\xBFtext,x\na,1\nb,2\n");  // with a BOM
    IngestOptions o;
    for (const char* name : {"lines.json", "array.dat", "table.txt"}) {
        Corpus c;
        const IngestReport r = ingest({tmp.file(name)}, o, c);
        EXPECT_EQ(r.kept, 2u) << name << "\n" << r.summary();
        ASSERT_EQ(c.size(), 2u) << name;
        EXPECT_EQ(c.text[0], "a") << name;
        EXPECT_EQ(c.text[1], "b") << name;
    }
}

// ---------------------------------------------------------------------------------------------
// Real corpora

TEST(IngestReddit, AllLinesAreRecordsAndTimesInRange) {
    TMINE_REQUIRE_DATA(kReddit);
    const std::string path = test::data_file(kReddit);
    // Independent count of lines with zlib.
    uint64_t lines = 0;
    {
        gzFile f = gzopen(path.c_str(), "rb");
        ASSERT_NE(f, nullptr);
        std::vector<char> buf(1 << 20);
        int n;
        while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0)
            for (int i = 0; i < n; ++i) lines += buf[i] == '\n';
        gzclose(f);
    }
    EXPECT_EQ(lines, 480000u);

    IngestOptions o;
    o.text_field = "body";
    o.time_field = "created_utc";
    o.id_field = "subreddit_id";
    o.author_field = "subreddit";
    Corpus c;
    const auto t0 = std::chrono::steady_clock::now();
    const IngestReport r = ingest({path}, o, c);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("ingest throughput: %llu records, %.1f MB uncompressed in %.2f s = %.0f MB/s\n",
                static_cast<unsigned long long>(r.records), r.bytes / 1e6, secs,
                r.bytes / 1e6 / secs);
    std::printf("%s", r.summary().c_str());

    EXPECT_EQ(r.records, lines);
    EXPECT_EQ(r.kept + r.skipped + r.out_of_window, r.records);
    EXPECT_EQ(r.out_of_window, 0u);
    EXPECT_EQ(c.size(), r.kept);
    EXPECT_GE(r.kept, lines - 10);
    for (size_t i = 0; i < c.size(); ++i) {
        ASSERT_GE(c.time[i], kUtc20200801) << i;
        ASSERT_LT(c.time[i], kUtc20220801) << i;
    }
    // The first line, read by hand.
    EXPECT_EQ(c.authors[0], "NaughtyWives");
    EXPECT_EQ(c.ids[0], "t5_24un89");
    EXPECT_EQ(c.time[0], 1596240000);
    EXPECT_EQ(c.text[0].substr(0, 19), "If I caught you lik");
}

TEST(IngestReddit, TimeWindowKeepsExactlyJanuary2021) {
    TMINE_REQUIRE_DATA(kReddit);
    const std::string path = test::data_file(kReddit);
    // Independent count: the digits after "created_utc": on each line.
    const std::string all = read_all(path);
    uint64_t january = 0, lines = 0;
    const std::string key = "\"created_utc\": ";
    for (size_t pos = 0; pos < all.size();) {
        size_t nl = all.find('\n', pos);
        if (nl == std::string::npos) nl = all.size();
        ++lines;
        const size_t k = all.rfind(key, nl);
        ASSERT_TRUE(k != std::string::npos && k >= pos) << "line " << lines;
        const long long t = std::atoll(all.c_str() + k + key.size());
        january += t >= kUtc20210101 && t < kUtc20210201;
        pos = nl + 1;
    }
    ASSERT_GT(january, 0u);

    IngestOptions o;
    o.text_field = "body";
    o.time_field = "created_utc";
    o.since = parse_timestamp("2021-01-01");
    o.until = parse_timestamp("2021-02-01");
    Corpus c;
    const IngestReport r = ingest({path}, o, c);
    EXPECT_EQ(r.kept, january);
    EXPECT_EQ(r.records, lines);
    EXPECT_EQ(r.kept + r.skipped + r.out_of_window, r.records);
    for (int64_t t : c.time) {
        ASSERT_GE(t, kUtc20210101);
        ASSERT_LT(t, kUtc20210201);
    }
}

TEST(IngestCsv, CustomerSupportTweets) {
    TMINE_REQUIRE_DATA(kTwcs);
    const std::string path = test::data_file(kTwcs);
    IngestOptions o;
    o.text_field = "text";
    o.time_field = "created_at";
    o.id_field = "tweet_id";
    o.author_field = "author_id";
    Corpus c;
    const IngestReport r = ingest({path}, o, c);
    std::printf("%s", r.summary().c_str());
    EXPECT_EQ(r.records, 5000u);
    EXPECT_EQ(r.kept, 5000u);
    ASSERT_EQ(c.size(), 5000u);
    EXPECT_EQ(c.ids[0], "1");
    EXPECT_EQ(c.authors[0], "sprintcare");
    EXPECT_EQ(c.time[0], 1509487847);  // Tue Oct 31 22:10:47 +0000 2017
    EXPECT_EQ(c.text[0],
              "@115712 I understand. I would like to assist you. We would need to get you into a "
              "private secured link to further assist.");
    EXPECT_EQ(c.ids[1], "2");
    EXPECT_EQ(c.authors[1], "115712");
    EXPECT_EQ(c.text[1], "@sprintcare and how do you propose we do that");

    // Texts with embedded newlines are single records: the file has more physical lines than
    // records, and some kept texts hold '\n'.
    const std::string raw = read_all(path);
    const size_t physical = std::count(raw.begin(), raw.end(), '\n');
    size_t with_newline = 0;
    for (size_t i = 0; i < c.size(); ++i) with_newline += c.text[i].find('\n') != std::string::npos;
    EXPECT_GT(with_newline, 0u);
    EXPECT_GT(physical, 5001u);
    // Every row's tweet_id is a decimal number, and every time is in 2008..2018.
    for (size_t i = 0; i < c.size(); ++i) {
        ASSERT_FALSE(c.ids[i].empty()) << i;
        ASSERT_EQ(c.ids[i].find_first_not_of("0123456789"), std::string::npos) << c.ids[i];
        ASSERT_GE(c.time[i], 1199145600) << i;
        ASSERT_LT(c.time[i], 1546300800) << i;
    }
}

using test::walk_tar_gz;

/// A JSON string literal holding the raw bytes (bytes >= 0x80 are written as they are).
std::string json_quote(const std::string& s) {
    std::string out = "\"";
    char esc[8];
    for (const unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

TEST(Ingest20News, InvalidUtf8PostsAreSkippedOthersKeptVerbatim) {
    TMINE_REQUIRE_DATA(k20News);
    struct Post {
        std::string group, text;
    };
    std::vector<Post> posts;
    size_t seen = 0, high = 0;
    walk_tar_gz(test::data_file(k20News), [&](const std::string& name, const std::string& body) {
        // Every 90th post (~210 across all 20 groups) and the first 30 posts holding bytes
        // >= 0x80 (in this corpus those are Latin-1, i.e. invalid UTF-8).
        const bool has_high =
            std::any_of(body.begin(), body.end(), [](char ch) { return (ch & 0x80) != 0; });
        const bool take_high = has_high && high < 30;
        if (seen++ % 90 != 0 && !take_high) return true;
        high += has_high;
        const size_t a = name.find('/'), b = name.rfind('/');
        posts.push_back({name.substr(a + 1, b - a - 1), body});
        return true;
    });
    ASSERT_GT(posts.size(), 150u);

    TempDir tmp;
    std::string jsonl;
    for (const Post& p : posts)
        jsonl += "{\"group\": " + json_quote(p.group) + ", \"text\": " + json_quote(p.text) + "}\n";
    write_bytes(tmp.file("20news.jsonl"), jsonl);

    IngestOptions o;
    o.author_field = "group";
    o.max_examples = 1000;
    Corpus c;
    const IngestReport r = ingest({tmp.file("20news.jsonl")}, o, c);
    EXPECT_EQ(r.records, posts.size());

    size_t invalid = 0, row = 0;
    for (size_t i = 0; i < posts.size(); ++i) {
        const uint64_t line = i + 1;
        if (valid_utf8(posts[i].text)) {
            ASSERT_LT(row, c.size());
            EXPECT_EQ(c.text[row], posts[i].text) << "line " << line;
            EXPECT_EQ(c.authors[row], posts[i].group) << "line " << line;
            EXPECT_EQ(reason_at(r, line), "") << "line " << line;
            ++row;
        } else {
            ++invalid;
            EXPECT_NE(reason_at(r, line).find("invalid UTF-8 in field 'text'"), std::string::npos)
                << "line " << line << ": '" << reason_at(r, line) << "'";
        }
    }
    EXPECT_EQ(row, c.size());
    EXPECT_EQ(r.skipped, invalid);
    EXPECT_GT(invalid, 0u) << "the sample should contain Latin-1 posts";
    std::printf("20news sample: %zu posts, %zu with invalid UTF-8\n", posts.size(), invalid);
}

// --source-field: each post's source is the field's value (interned), the file when absent.
TEST(IngestReddit, SourceFieldInternsTheSubreddits) {
    TMINE_REQUIRE_DATA(kReddit);
    TempDir dir;
    const std::string head = dir.file("head.jsonl");
    test::gz_head(test::data_file(kReddit), 3000, head);
    // A line without the field keeps the file as its source.
    { std::ofstream(head, std::ios::app) << "{\"body\": \"no subreddit here\", \"created_utc\": 1600000000}\n"; }
    IngestOptions o;
    o.text_field = "body";
    o.source_field = "subreddit";
    Corpus c;
    const IngestReport r = ingest({head}, o, c);
    ASSERT_EQ(r.kept, 3001u);
    // Independent reading of the same lines: the "subreddit" value of each.
    std::ifstream in(head);
    std::string line;
    std::map<std::string, int> distinct;
    for (size_t d = 0; d < 3000 && std::getline(in, line); ++d) {
        const size_t k = line.find("\"subreddit\":");
        ASSERT_NE(k, std::string::npos);
        const size_t a = line.find('"', k + 12) + 1, b = line.find('"', a);
        const std::string sub = line.substr(a, b - a);
        distinct[sub]++;
        ASSERT_EQ(c.sources[c.source[d]], sub) << "line " << d + 1;
    }
    EXPECT_EQ(c.sources[c.source[3000]], head);
    EXPECT_EQ(c.sources.size(), distinct.size() + 1);  // the file, then each subreddit once
    EXPECT_EQ(c.sources[0], head);

    // CSV: the twcs "inbound" column as source.
    TMINE_REQUIRE_DATA(kTwcs);
    IngestOptions csv;
    csv.source_field = "inbound";
    Corpus t;
    ingest({test::data_file(kTwcs)}, csv, t);
    std::map<std::string, size_t> per;
    for (size_t d = 0; d < t.size(); ++d) per[t.sources[t.source[d]]]++;
    EXPECT_EQ(per.size(), 2u);
    EXPECT_GT(per["True"], 0u);
    EXPECT_GT(per["False"], 0u);
    // A source field that is an object is a skipped record, named.
    const std::string bad = dir.file("bad.jsonl");
    { std::ofstream(bad) << "{\"body\": \"x\", \"subreddit\": {\"a\": 1}}\n"; }
    Corpus b;
    const IngestReport rb = ingest({bad}, o, b);
    EXPECT_EQ(rb.skipped, 1u);
    ASSERT_EQ(rb.examples.size(), 1u);
    EXPECT_NE(rb.examples[0].reason.find("source field 'subreddit'"), std::string::npos)
        << rb.examples[0].reason;
}

// What a user gets wrong about a file's format is said: JSON Lines read as one JSON document
// (--format json), a CSV saved as UTF-16.
TEST(Ingest, FormatMistakesAreSaid) {
    TempDir tmp;
    IngestOptions o;
    o.text_field = "text";
    write_bytes(tmp.file("t.jsonl"), "{\"text\": \"one\"}\n{\"text\": \"two\"}\n");
    o.format = InputFormat::Json;
    Corpus c;
    IngestReport r = ingest({tmp.file("t.jsonl")}, o, c);
    EXPECT_NE(r.summary().find("one record per line is JSON Lines: --format jsonl"), std::string::npos)
        << r.summary();
    o.format = InputFormat::Auto;
    write_bytes(tmp.file("u.csv"), std::string("\xFF\xFEt\0e\0x\0t\0\n\0", 12));
    Corpus u;
    try {
        ingest({tmp.file("u.csv")}, o, u);
        ADD_FAILURE() << "a UTF-16 CSV was read";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("the file is UTF-16"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace tmine

TEST(Timestamps, FormatIsIsoUtcAndRoundTrips) {
    EXPECT_EQ(tmine::format_timestamp(1509487847), "2017-10-31T22:10:47Z");
    EXPECT_EQ(tmine::format_timestamp(tmine::kNoTime), "");
    for (int64_t t : {int64_t(0), int64_t(951782400), int64_t(1596240000), int64_t(4102444799)})
        EXPECT_EQ(tmine::parse_timestamp(tmine::format_timestamp(t)), t) << t;
}

