// The tmine command line end to end on the committed demo sample: the CLI contract
// (names, outputs, topics.json schema) and one-line errors with non-zero exit codes.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "cli_util.hpp"
#include "test_util.hpp"
#include "tmine/io.hpp"
#include "tmine/topics.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {

size_t count_lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

}  // namespace

TEST(Cli, RunWritesTopicsJsonWithTheDocumentedSchema) {
    TempDir d;
    Result r = run_cli("run " + kDemo + kDemoFlags +
                         " -k 8 --iters 40 --tol 0 --min-df 5 --max-df 0.5 --device cpu -o " + d.file("out"),
                     d);
    ASSERT_EQ(r.code, 0) << r.err;
    rapidjson::Document doc;
    std::string json = read_bytes(d.file("out/topics.json"));
    ASSERT_FALSE(doc.Parse(json.c_str()).HasParseError());
    ASSERT_TRUE(doc["topics"].IsArray());
    ASSERT_EQ(doc["topics"].Size(), 8u);
    int64_t sized = 0;
    for (const auto& t : doc["topics"].GetArray()) {
        EXPECT_TRUE(t["id"].IsInt());
        ASSERT_GE(t["terms"].Size(), 20u);
        for (const auto& tw : t["terms"].GetArray()) {
            EXPECT_TRUE(tw["term"].IsString());
            EXPECT_GT(tw["weight"].GetDouble(), 0.0);
        }
        sized += t["size"].GetInt64();
    }
    EXPECT_EQ(doc["model"]["k"].GetInt(), 8);
    EXPECT_EQ(doc["model"]["iterations"].GetInt(), 40);
    EXPECT_STREQ(doc["model"]["device"].GetString(), "cpu");
    double err = doc["model"]["relative_error"].GetDouble();
    EXPECT_GT(err, 0.5);
    EXPECT_LT(err, 1.0);
    EXPECT_EQ(doc["corpus"]["documents"].GetInt64(), 12000);
    EXPECT_EQ(doc["corpus"]["skipped"].GetInt64(), 0);
    EXPECT_LE(sized, 12000);
    EXPECT_GT(sized, 11000) << "almost every comment has a dominant topic";
    std::string docs = read_bytes(d.file("out/documents.csv"));
    EXPECT_EQ(count_lines(docs), 12001u) << "header + one row per document";
    EXPECT_EQ(docs.rfind("row,id,time,author,source,topic,weight,topic_label\n", 0), 0u);
    EXPECT_NE(docs.find(",2020-08-01T"), std::string::npos) << "times are ISO-8601 UTC";
    {
        // each row ends with its topic's label, as topics.json has it (none for topic -1)
        std::map<int, std::string> label;
        for (const auto& t : doc["topics"].GetArray()) label[t["id"].GetInt()] = t["label"].GetString();
        std::istringstream in(docs);
        std::string line;
        std::getline(in, line);
        size_t checked = 0;
        while (std::getline(in, line) && checked < 2000) {
            if (line.find('"') != std::string::npos) continue;  // a quoted field: skip the simple split
            const size_t l = line.rfind(','), w = line.rfind(',', l - 1), t = line.rfind(',', w - 1);
            const int topic = std::stoi(line.substr(t + 1, w - t - 1));
            EXPECT_EQ(line.substr(l + 1), topic < 0 ? "" : label.at(topic)) << line;
            ++checked;
        }
        EXPECT_GT(checked, 1000u);
    }
    EXPECT_GT(count_lines(read_bytes(d.file("out/topics.csv"))), 8u * 20u);
}

TEST(Cli, StagesOneByOneMatchTheOneShotRun) {
    TempDir d;
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -o " + d.file("c.tmc"), d).code, 0);
    Result v = run_cli("vectorize " + d.file("c.tmc") + " --min-df 5 --max-df 0.5 --device cpu -o " +
                         d.file("m.tmx"),
                     d);
    ASSERT_EQ(v.code, 0) << v.err;
    Result t = run_cli("topics " + d.file("m.tmx") + " -k 6 --iters 20 --device cpu -o " + d.file("model"), d);
    ASSERT_EQ(t.code, 0) << t.err;
    Result e = run_cli("export " + d.file("model") + " --format json -o " + d.file("t.json"), d);
    ASSERT_EQ(e.code, 0) << e.err;
    EXPECT_EQ(read_bytes(d.file("t.json")), read_bytes(d.file("model/topics.json")));
    Result c = run_cli("export " + d.file("model") + " --format csv -o " + d.file("t.csv") +
                         " --documents " + d.file("docs.csv") + " --corpus " + d.file("c.tmc"),
                     d);
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_EQ(count_lines(read_bytes(d.file("t.csv"))), 1u + 6u * 20u);
    EXPECT_EQ(count_lines(read_bytes(d.file("docs.csv"))), 12001u);
    // The same tables for a spreadsheet where ',' is the decimal mark.
    Result sp = run_cli("export " + d.file("model") + " --format csv --spreadsheet --delimiter ';' -o " +
                            d.file("t2.csv") + " --documents " + d.file("docs2.csv") + " --corpus " +
                            d.file("c.tmc"),
                        d);
    ASSERT_EQ(sp.code, 0) << sp.err;
    const std::string t2 = read_bytes(d.file("t2.csv")), docs2 = read_bytes(d.file("docs2.csv"));
    EXPECT_EQ(t2.rfind("\xEF\xBB\xBFtopic;label;rank;term;weight\n", 0), 0u) << t2.substr(0, 60);
    EXPECT_EQ(docs2.rfind("\xEF\xBB\xBFrow;id;time;author;source;topic;weight;topic_label\n", 0), 0u);
    EXPECT_EQ(count_lines(t2), 1u + 6u * 20u);
    EXPECT_EQ(count_lines(docs2), 12001u);
    EXPECT_EQ(t2, recode_csv(read_bytes(d.file("t.csv")), ';', true));
    EXPECT_EQ(docs2, recode_csv(read_bytes(d.file("docs.csv")), ';', true));
    Result bad_delim = run_cli("export " + d.file("model") + " --format csv --delimiter '|' -o " + d.file("t3.csv"), d);
    EXPECT_NE(bad_delim.code, 0);
    EXPECT_NE(bad_delim.err.find("--delimiter: expected , ; or tab, got '|'"), std::string::npos) << bad_delim.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("t3.csv")));
    // A fit from a matrix says so: the matrix as its source, the ingest's skipped records
    // unknown (null); the report names the matrix and the corpus given to export apart.
    {
        rapidjson::Document tj;
        const std::string text = read_bytes(d.file("t.json"));
        ASSERT_FALSE(tj.Parse(text.c_str()).HasParseError());
        EXPECT_EQ(std::string(tj["corpus"]["source"].GetString()), d.file("m.tmx"));
        EXPECT_TRUE(tj["corpus"]["skipped"].IsNull());
        Result h = run_cli("export " + d.file("model") + " --format html --corpus " + d.file("c.tmc") + " -o " +
                               d.file("r.html"),
                           d);
        ASSERT_EQ(h.code, 0) << h.err;
        const std::string html = read_bytes(d.file("r.html"));
        EXPECT_NE(html.find("<tr><th>fitted from</th><td>" + d.file("m.tmx") + "</td></tr>"), std::string::npos);
        EXPECT_NE(html.find("<tr><th>corpus file</th><td>" + d.file("c.tmc") + "</td></tr>"), std::string::npos);
        EXPECT_EQ(html.find("records skipped at ingest"), std::string::npos);
    }
    // The one-shot run with the same settings gives the same topics.
    Result r = run_cli("run " + kDemo + kDemoFlags +
                         " --min-df 5 --max-df 0.5 -k 6 --iters 20 --device cpu -o " + d.file("run"),
                     d);
    ASSERT_EQ(r.code, 0) << r.err;
    rapidjson::Document a, b;
    std::string ja = read_bytes(d.file("t.json")), jb = read_bytes(d.file("run/topics.json"));
    a.Parse(ja.c_str());
    b.Parse(jb.c_str());
    // run adds interpretation (coherence, posts, ...) to each topic; the fit itself is the same.
    ASSERT_EQ(a["topics"].Size(), b["topics"].Size());
    for (rapidjson::SizeType i = 0; i < a["topics"].Size(); ++i) {
        EXPECT_TRUE(a["topics"][i]["terms"] == b["topics"][i]["terms"]) << "topic " << i;
        EXPECT_EQ(a["topics"][i]["size"].GetInt64(), b["topics"][i]["size"].GetInt64());
    }
}

TEST(Cli, ErrorsAreOneClearLineAndNonZero) {
    TempDir d;
    // k larger than the data allows
    {
        std::ofstream f(d.file("tiny.jsonl"));
        f << "{\"text\": \"apples and pears\"}\n{\"text\": \"pears and plums\"}\n";
    }
    Result k = run_cli("run " + d.file("tiny.jsonl") + " -k 50 --stop-words none --device cpu -o " +
                         d.file("o1"),
                     d);
    EXPECT_NE(k.code, 0);
    EXPECT_NE(k.err.find("tmine: error: -k 50: must be between 1 and 2"), std::string::npos) << k.err;
    // a text field that no record has: every record skipped and reported, then a clear error
    Result f = run_cli("run " + kDemo + " --text-field nope -k 5 --device cpu -o " + d.file("o2"), d);
    EXPECT_NE(f.code, 0);
    EXPECT_NE(f.err.find("reddit-demo.jsonl.gz:1: "), std::string::npos) << f.err;
    EXPECT_NE(f.err.find("'nope'"), std::string::npos) << f.err;
    EXPECT_NE(f.err.find("tmine: error: run: no record kept"), std::string::npos) << f.err;
    // a cleaning filter without the cleaning that applies it
    Result lang = run_cli("run " + d.file("tiny.jsonl") + " -k 1 --lang fr --stop-words none --device cpu -o " +
                              d.file("o4"),
                          d);
    EXPECT_NE(lang.code, 0);
    EXPECT_NE(lang.err.find("--lang is applied by the cleaning's language step: add --clean all"), std::string::npos)
        << lang.err;
    // Cleaning flags its steps leave out, a missing relevance file and bad vectorize or topics
    // flags fail before the ingest (no ingest summary) and leave no output directory.
    for (const std::string& bad : {std::string(" --clean dedup --lang fr"), std::string(" --clean spam --keep-mask ") + d.file("none.txt"),
                                   std::string(" --clean all --keep-mask ") + d.file("none.txt"),
                                   std::string(" --clean dedup --near-dup 1.5"), std::string(" --min-df x"),
                                   std::string(" --clean dedup --author-factor 0"),
                                   std::string(" --solver nope")}) {
        Result r = run_cli("run " + d.file("tiny.jsonl") + " -k 1 --stop-words none --device cpu" + bad + " -o " +
                               d.file("o6"),
                           d);
        EXPECT_NE(r.code, 0) << bad;
        EXPECT_EQ(r.err.find("ingest:"), std::string::npos) << bad << ": " << r.err;
        EXPECT_FALSE(std::filesystem::exists(d.file("o6"))) << bad;
    }
    // a keep-mask alone runs the relevance step: the post marked 0 is not in the corpus
    {
        std::ofstream f(d.file("keep.txt"));
        f << "1\n0\n";
    }
    Result km = run_cli("run " + d.file("tiny.jsonl") + " -k 1 --keep-mask " + d.file("keep.txt") +
                            " --stop-words none --device cpu -o " + d.file("o5"),
                        d);
    ASSERT_EQ(km.code, 0) << km.err;
    EXPECT_EQ(count_lines(read_bytes(d.file("o5/documents.csv"))), 2u) << "header + the one post kept";
    EXPECT_NE(read_bytes(d.file("o5/clean.json")).find("not_relevant"), std::string::npos);
    // a file that is not a tmine matrix
    Result m = run_cli("topics " + d.file("tiny.jsonl") + " -k 2 -o " + d.file("o3"), d);
    EXPECT_NE(m.code, 0);
    EXPECT_NE(m.err.find("not a tmine matrix file"), std::string::npos) << m.err;
    // bad option values
    Result dev = run_cli("vectorize " + d.file("tiny.jsonl") + " --device tpu -o " + d.file("x"), d);
    EXPECT_NE(dev.code, 0);
    EXPECT_NE(dev.err.find("--device"), std::string::npos) << dev.err;
    // --device cuda without a usable GPU fails instead of silently using the CPU
    Context ctx = Context::cpu();
    std::string why;
    if (!cuda_context(ctx, why)) {
        Result c = run_cli("run " + kDemo + kDemoFlags + " -k 5 --device cuda -o " + d.file("o4"), d);
        EXPECT_NE(c.code, 0);
        EXPECT_NE(c.err.find("tmine: error: --device cuda:"), std::string::npos) << c.err;
        // and auto says once that it runs on the CPU
        Result a = run_cli("run " + kDemo + kDemoFlags + " -k 3 --iters 5 -o " + d.file("o5"), d);
        EXPECT_EQ(a.code, 0) << a.err;
        EXPECT_NE(a.err.find("running on the CPU"), std::string::npos) << a.err;
    }
    EXPECT_FALSE(std::filesystem::exists(d.file("o1/topics.json")));
}

TEST(Cli, NegativeCountsAreErrorsNamingTheFlag) {
    TempDir d;
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("c.tmc"), d).code, 0);
    auto expect_error = [&](const std::string& args, const std::string& says) {
        Result r = run_cli(args, d);
        EXPECT_EQ(r.code, 1) << args << "\n" << r.err;
        EXPECT_NE(r.err.find("tmine: error: " + says), std::string::npos) << args << "\n" << r.err;
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    };
    // --threads 0 is all cores; below that is an error, whatever the subcommand
    expect_error("vectorize " + d.file("c.tmc") + " --threads -2 --device cpu -o " + d.file("m.tmx"),
                 "--threads must be between 0 (all cores) and ");
    expect_error("query " + d.file("c.tmc") + " netflix --threads -1 -o " + d.file("q.txt"), "--threads");
    // clean's thresholds: 0 is "off", below is an error
    expect_error("clean " + d.file("c.tmc") + " --max-char-run -5 --device cpu -q -o " + d.file("x.tmc"),
                 "--max-char-run must be >= 0 (0 = off)");
    expect_error("clean " + d.file("c.tmc") + " --min-letters -1 --device cpu -q -o " + d.file("x.tmc"),
                 "--min-letters must be >= 0");
    // export's counts are checked before the model is read
    expect_error("export " + d.file("model") + " --top-terms 0 -o " + d.file("t.json"), "--top-terms must be >= 1");
    expect_error("export " + d.file("model") + " --groups -1 -o " + d.file("t.json"), "--groups must be >= 0");
    expect_error("export " + d.file("model") + " --posts -3 -o " + d.file("t.json"), "--posts must be >= 0");
    // seeds are unsigned: -1 is an error, not 2^64 - 1
    expect_error("clean " + d.file("c.tmc") + " --seed -1 --device cpu -q -o " + d.file("x.tmc"),
                 "--seed: must be >= 0, got -1");
    expect_error("topics " + d.file("c.tmc") + " -k 2 --seed -1 -o " + d.file("x"), "--seed: must be >= 0, got -1");
    EXPECT_FALSE(std::filesystem::exists(d.file("m.tmx")));
    EXPECT_FALSE(std::filesystem::exists(d.file("x.tmc")));
    Result ok = run_cli("vectorize " + d.file("c.tmc") + " --threads 0 --device cpu -q -o " + d.file("m.tmx"), d);
    EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST(Cli, AVocabularyWithNoTermInTheCorpusIsAWarning) {
    TempDir d;
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("c.tmc"), d).code, 0);
    write_bytes(d.file("v.csv"), "term\nzzxqwv\nqqxzyw\n");
    Result r = run_cli("vectorize " + d.file("c.tmc") + " --vocabulary " + d.file("v.csv") +
                           " --device cpu -q -o " + d.file("m.tmx"),
                       d);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("vectorize: warning: no term of " + d.file("v.csv") + " occurs in the corpus"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(std::filesystem::exists(d.file("m.tmx")));
    // one term that does occur: no warning
    write_bytes(d.file("v.csv"), "term\nzzxqwv\nthe\n");
    r = run_cli("vectorize " + d.file("c.tmc") + " --vocabulary " + d.file("v.csv") + " --stop-words none"
                " --device cpu -q -o " + d.file("m.tmx"),
                d);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
    // a bad vocabulary file: one line naming the file and line
    write_bytes(d.file("v.csv"), "term\nthe\n\xFFx\n");
    r = run_cli("vectorize " + d.file("c.tmc") + " --vocabulary " + d.file("v.csv") + " --device cpu -q -o " +
                    d.file("m2.tmx"),
                d);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("tmine: error: " + d.file("v.csv") + ":3: invalid UTF-8 in the term"), std::string::npos)
        << r.err;
}

// A typo that names an input as the output loses nothing: the command stops with one line
// and the input is unchanged. Any spelling of the path is the same file.
// Each tokenizer flag reaches the tokenizer: the exported vocabulary of one post changes as
// the flag says (docs/tokenizer.md), and a flag --sklearn-compatible would ignore is an error.
TEST(Cli, VectorizeFlagsReachTheTokenizer) {
    TempDir d;
    write_bytes(d.file("p.jsonl"),
                "{\"text\": \"Qu'il est l'\\u00e9t\\u00e9 @Netflix_FR #LaCasa covid-19 en 2024 \\ud83d\\udd25 "
                "https://www.youtube.com/watch don't\"}\n");
    ASSERT_EQ(run_cli("ingest " + d.file("p.jsonl") + " -q -o " + d.file("c.tmc"), d).code, 0);
    auto terms = [&](const std::string& flags) {
        Result r = run_cli("vectorize " + d.file("c.tmc") + " --stop-words none --device cpu -q" + flags +
                               " --export-vocabulary " + d.file("v.csv") + " -o " + d.file("m.tmx"),
                           d);
        EXPECT_EQ(r.code, 0) << flags << "\n" << r.err;
        std::set<std::string> t;
        std::istringstream in(read_bytes(d.file("v.csv")));
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) t.insert(line.substr(0, line.find(',')));
        return t;
    };
    const std::set<std::string> base = terms("");
    EXPECT_EQ(base, (std::set<std::string>{"il", "est", "été", "@netflix_fr", "#lacasa", "covid-19", "en",
                                          "\xF0\x9F\x94\xA5", "youtube.com", "do"}));
    auto has = [](const std::set<std::string>& t, const char* w) { return t.count(w) == 1; };
    EXPECT_TRUE(has(terms(" --strip-accents"), "ete"));
    EXPECT_FALSE(has(terms(" --no-mentions"), "@netflix_fr"));
    EXPECT_TRUE(has(terms(" --no-mentions"), "#lacasa")) << "mentions only";
    EXPECT_FALSE(has(terms(" --no-hashtags"), "#lacasa"));
    EXPECT_TRUE(has(terms(" --no-hashtags"), "@netflix_fr")) << "hashtags only";
    EXPECT_TRUE(has(terms(" --numbers"), "2024"));
    EXPECT_FALSE(has(terms(" --no-emoji"), "\xF0\x9F\x94\xA5"));
    const auto split = terms(" --split-hyphens");
    EXPECT_TRUE(has(split, "covid") && !has(split, "covid-19"));
    EXPECT_TRUE(has(terms(" --no-elisions"), "qu"));
    EXPECT_TRUE(has(terms(" --no-contractions"), "don"));
    EXPECT_FALSE(has(terms(" --urls drop"), "youtube.com"));
    EXPECT_TRUE(has(terms(" --urls keep"), "https://www.youtube.com/watch"));
    for (const auto& t : terms(" --ngram 2")) EXPECT_NE(t.find(' '), std::string::npos) << "--ngram 2 is 2:2: " << t;
    EXPECT_TRUE(has(terms(" --ngram 1:2"), "il est"));
    EXPECT_TRUE(has(terms(" --sklearn-compatible"), "don")) << "scikit-learn's pattern";
    // Stop words when --stop-words is not given: English, or none (scikit-learn's default)
    // with --sklearn-compatible.
    {
        write_bytes(d.file("e.jsonl"), "{\"text\": \"The cat and the hat\"}\n");
        ASSERT_EQ(run_cli("ingest " + d.file("e.jsonl") + " -q -o " + d.file("e.tmc"), d).code, 0);
        for (const std::string flags : {"", " --sklearn-compatible"}) {
            Result r = run_cli("vectorize " + d.file("e.tmc") + " --device cpu -q" + flags + " --export-vocabulary " +
                                   d.file("ev.csv") + " -o " + d.file("e.tmx"),
                               d);
            ASSERT_EQ(r.code, 0) << r.err;
            const std::string v = read_bytes(d.file("ev.csv"));
            EXPECT_EQ(v.find("\nthe,") != std::string::npos, !flags.empty()) << flags << "\n" << v;
            EXPECT_NE(v.find("\ncat,"), std::string::npos) << v;
        }
    }
    // flags scikit-learn's pattern does not have, and a malformed --ngram
    for (const auto& [bad, says] : std::vector<std::pair<std::string, std::string>>{
             {" --strip-accents", "--strip-accents would not change"},
             {" --urls drop", "--urls would not change"},
             {" --numbers --no-emoji", "--numbers, --no-emoji would not change"}}) {
        Result r = run_cli("vectorize " + d.file("c.tmc") + " --sklearn-compatible --device cpu -q" + bad + " -o " +
                               d.file("x.tmx"),
                           d);
        EXPECT_EQ(r.code, 1) << bad;
        EXPECT_NE(r.err.find("tmine: error: --sklearn-compatible uses scikit-learn's token pattern, which " + says),
                  std::string::npos)
            << r.err;
    }
    for (const std::string bad : {"2:", "x", "2x", "3:2", "0"}) {
        Result r = run_cli("vectorize " + d.file("c.tmc") + " --device cpu -q --ngram " + bad + " -o " + d.file("x.tmx"),
                           d);
        EXPECT_EQ(r.code, 1) << bad;
        EXPECT_NE(r.err.find("--ngram: expected MIN:MAX"), std::string::npos) << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(d.file("x.tmx")));
}

TEST(Cli, AnOutputThatIsAnInputIsRefused) {
    TempDir d;
    write_bytes(d.file("in.jsonl"), "{\"body\": \"netflix and chill\"}\n{\"body\": \"streaming series\"}\n");
    const std::string raw = read_bytes(d.file("in.jsonl"));
    Result r = run_cli("ingest " + d.file("in.jsonl") + " --text-field body -q -o " + d.path.string() + "/./in.jsonl", d);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("tmine: error: cannot write " + d.path.string() + "/./in.jsonl: it is the input " +
                         d.file("in.jsonl") + " of this command, which would be lost; write to another file"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(read_bytes(d.file("in.jsonl")), raw);
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("c.tmc"), d).code, 0);
    const std::string corpus = read_bytes(d.file("c.tmc"));
    for (const std::string cmd : {"vectorize " + d.file("c.tmc") + " --device cpu -q -o " + d.file("c.tmc"),
                                  "query " + d.file("c.tmc") + " netflix -q -o " + d.file("c.tmc"),
                                  "clean " + d.file("c.tmc") + " --steps dedup -q -o " + d.file("c.tmc")}) {
        r = run_cli(cmd, d);
        EXPECT_EQ(r.code, 1) << cmd << "\n" << r.err;
        EXPECT_NE(r.err.find("it is an input of this command"), std::string::npos) << cmd << "\n" << r.err;
        EXPECT_EQ(read_bytes(d.file("c.tmc")), corpus) << cmd;
    }
    // A model directory's own file as an export's output.
    ASSERT_EQ(run_cli("vectorize " + d.file("c.tmc") + " --device cpu -q -o " + d.file("m.tmx"), d).code, 0);
    ASSERT_EQ(run_cli("topics " + d.file("m.tmx") + " -k 4 --iters 5 --device cpu -q -o " + d.file("model"), d).code, 0);
    r = run_cli("export " + d.file("model") + " -q -o " + d.file("model/model.tmm"), d);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(run_cli("export " + d.file("model") + " -q -o " + d.file("t.json"), d).code, 0);
}

// A corpus given as the model's (export --corpus, classify --corpus) must be the one its matrix
// was vectorized from: one with as many posts but other texts would pair topics and labels
// with the wrong posts.
TEST(Cli, ACorpusOfTheSameSizeButOtherPostsIsRefused) {
    TempDir d;
    std::string a, b, labels = "id,label\n";
    const char* words[] = {"netflix series", "spotify music", "hulu shows", "disney films"};
    for (int i = 0; i < 40; ++i) {
        a += "{\"id\": \"p" + std::to_string(i) + "\", \"body\": \"" + words[i % 4] + " night " + std::to_string(i % 7) + "\"}\n";
        b += "{\"id\": \"p" + std::to_string(i) + "\", \"body\": \"" + words[(i + 1) % 4] + " day " + std::to_string(i % 5) + "\"}\n";
        labels += "p" + std::to_string(i) + "," + (i % 2 ? "yes" : "no") + "\n";
    }
    write_bytes(d.file("a.jsonl"), a);
    write_bytes(d.file("b.jsonl"), b);
    write_bytes(d.file("labels.csv"), labels);
    for (const char* n : {"a", "b"})
        ASSERT_EQ(run_cli(std::string("ingest ") + d.file(std::string(n) + ".jsonl") + " --text-field body --id-field id -q -o " +
                              d.file(std::string(n) + ".tmc"),
                          d)
                      .code,
                  0);
    ASSERT_EQ(run_cli("vectorize " + d.file("a.tmc") + " --device cpu -q -o " + d.file("a.tmx"), d).code, 0);
    ASSERT_EQ(run_cli("topics " + d.file("a.tmx") + " -k 2 --iters 5 --device cpu -q -o " + d.file("model"), d).code, 0);
    Result r = run_cli("export " + d.file("model") + " --corpus " + d.file("b.tmc") + " -q -o " + d.file("t.json"), d);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("tmine: error: " + d.file("b.tmc") + " is not the corpus of the model in " + d.file("model") +
                         " (made from " + d.file("a.tmx") + "): the same number of posts, but other texts or ids"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("t.json")));
    r = run_cli("classify train " + d.file("a.tmx") + " --corpus " + d.file("b.tmc") + " --labels " + d.file("labels.csv") +
                    " -q -o " + d.file("clf"),
                d);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find(d.file("b.tmc") + " is not the corpus of " + d.file("a.tmx")), std::string::npos) << r.err;
    // The right corpus works with both.
    EXPECT_EQ(run_cli("export " + d.file("model") + " --corpus " + d.file("a.tmc") + " -q -o " + d.file("t.json"), d).code, 0);
    r = run_cli("classify train " + d.file("a.tmx") + " --corpus " + d.file("a.tmc") + " --labels " + d.file("labels.csv") +
                    " -q -o " + d.file("clf"),
                d);
    EXPECT_EQ(r.code, 0) << r.err;
}

// A bad command line (unknown option, missing argument, missing file) is one line in the same
// form as every other error, exit code 1.
TEST(Cli, CommandLineErrorsAreOneLine) {
    TempDir d;
    for (const std::string args : {"vectorize " + d.file("none.tmc") + " -o " + d.file("m.tmx"), std::string("query"),
                                   "topics " + d.file("none.tmx") + " --no-such-flag -o x", std::string("")}) {
        Result r = run_cli(args, d);
        EXPECT_EQ(r.code, 1) << args << "\n" << r.err;
        EXPECT_EQ(r.err.rfind("tmine: error: ", 0), 0u) << args << "\n" << r.err;
        EXPECT_EQ(count_lines(r.err), 1u) << args << "\n" << r.err;
    }
    EXPECT_EQ(run_cli("topics --help", d).code, 0);
    // A mistyped option is named, not its value taken for a missing input file; a known
    // option's error stays CLI11's.
    Result r = run_cli("ingest " + kDemo + " --txt-field body -o " + d.file("c.tmc"), d);
    EXPECT_EQ(r.err, "tmine: error: unknown option --txt-field (tmine ingest --help lists the options)\n");
    r = run_cli("classify train " + d.file("m.tmx") + " --lables=l.csv -o " + d.file("c"), d);
    EXPECT_EQ(r.err, "tmine: error: unknown option --lables (tmine classify --help lists the options)\n");
    r = run_cli("ingest " + d.file("none.jsonl") + " --text-field body -q -o " + d.file("c.tmc"), d);
    EXPECT_NE(r.err.find("File does not exist: " + d.file("none.jsonl")), std::string::npos) << r.err;
}

// A bit flipped in the middle of a matrix, a model or a classifier (inside numbers the structure
// cannot check) is found by the file's checksum: the command stops instead of using wrong values.
TEST(Cli, AFlippedBitInABinaryFileIsFound) {
    TempDir d;
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("c.tmc"), d).code, 0);
    ASSERT_EQ(run_cli("vectorize " + d.file("c.tmc") + " --device cpu -q -o " + d.file("m.tmx"), d).code, 0);
    ASSERT_EQ(run_cli("topics " + d.file("m.tmx") + " -k 4 --iters 5 --device cpu -q -o " + d.file("model"), d).code, 0);
    std::string labels = "id,label\n";  // without --corpus, ids are row numbers
    for (int i = 0; i < 200; ++i) labels += std::to_string(i) + "," + (i % 3 ? "no" : "yes") + "\n";
    write_bytes(d.file("labels.csv"), labels);
    ASSERT_EQ(run_cli("classify train " + d.file("m.tmx") + " --labels " + d.file("labels.csv") + " -q -o " + d.file("clf"), d)
                  .code,
              0);
    auto flip = [&](const std::string& path) {
        std::string b = read_bytes(path);
        b[b.size() / 2] ^= 1;
        write_bytes(path, b);
    };
    for (const auto& [file, cmd] :
         {std::pair<std::string, std::string>{"m.tmx", "topics " + d.file("m.tmx") + " -k 4 --device cpu -q -o " + d.file("m2")},
          {"model/model.tmm", "export " + d.file("model") + " -q -o " + d.file("t.json")},
          {"clf/classifier.tmcl", "classify predict " + d.file("m.tmx") + " --model " + d.file("clf") + " -q -o " + d.file("s.csv")},
          {"c.tmc", "vectorize " + d.file("c.tmc") + " --device cpu -q -o " + d.file("m3.tmx")}}) {
        const std::string keep = read_bytes(d.file(file));
        flip(d.file(file));
        Result r = run_cli(cmd, d);
        EXPECT_EQ(r.code, 1) << file << "\n" << r.err;
        EXPECT_NE(r.err.find(d.file(file) + ": corrupt file: its contents do not match the checksum"), std::string::npos)
            << file << "\n" << r.err;
        write_bytes(d.file(file), keep);
        EXPECT_EQ(run_cli(cmd, d).code, 0) << file << ": the intact file is read";
    }
}

// --threads beyond max(256, 4 per hardware thread) is a typo, not a plan: refused before any work.
TEST(Cli, ThreadsAreBounded) {
    TempDir d;
    Result r = run_cli("ingest " + kDemo + kDemoFlags + " --threads 100000 -q -o " + d.file("c.tmc"), d);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("tmine: error: --threads must be between 0 (all cores) and "), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("c.tmc")));
}

// A fit whose loss stops being a number (a regularisation float32 cannot hold) and one whose
// every topic is empty are errors with the reason, not models of NaN or of nothing.
TEST(Cli, ADivergedOrEmptyFitIsAnError) {
    TempDir d;
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("c.tmc"), d).code, 0);
    ASSERT_EQ(run_cli("vectorize " + d.file("c.tmc") + " --device cpu -q -o " + d.file("m.tmx"), d).code, 0);
    Result r = run_cli("topics " + d.file("m.tmx") + " -k 4 --alpha-w 1e38 --device cpu -q -o " + d.file("nan"), d);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("tmine: error: topics: the fit diverged: the loss is "), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("nan/topics.json")));
    r = run_cli("topics " + d.file("m.tmx") + " -k 4 --alpha-w 1e5 --device cpu -q -o " + d.file("empty"), d);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("every topic came out empty"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("W's penalty is --alpha-w times the number of terms, "), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("empty/topics.json")));
}

TEST(Cli, OutOfMemoryIsSaidAsSuch) {
#ifdef TMINE_WITH_CUDA
    // (The emulation build runs under AddressSanitizer, whose shadow memory needs more.)
    GTEST_SKIP() << "the CUDA libraries' address-space reservations leave no room for ulimit -v";
#endif
    TempDir d;
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("c.tmc"), d).code, 0);
    ASSERT_EQ(run_cli("vectorize " + d.file("c.tmc") + " --device cpu -q -o " + d.file("m.tmx"), d).code, 0);
    // 11000 topics of 12000 comments (11,808 with a term): W alone is 528 MB and H 1.1 GB, in
    // 1 GB of address space (OpenBLAS's start-up buffers, one thread, fit in it).
    Result r = run_cli("topics " + d.file("m.tmx") + " -k 11000 --init random --iters 1 --threads 1 "
                       "--device cpu -q -o " + d.file("model"),
                       d, "ulimit -v 1000000 && OPENBLAS_NUM_THREADS=1 timeout 120 ");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("tmine: out of memory (std::bad_alloc): try a smaller corpus, fewer --threads, "
                         "or a machine with more memory"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

TEST(Cli, GpuOutOfMemoryIsSaidAsSuch) {
#ifndef TMINE_CUDA_EMULATION
    GTEST_SKIP() << "needs the emulation build (tests/cuda_emulation), whose device memory is set per "
                    "run by TMINE_EMU_DEVICE_MIB";
#endif
    TempDir d;
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("c.tmc"), d).code, 0);
    ASSERT_EQ(run_cli("vectorize " + d.file("c.tmc") + " --device cpu -q -o " + d.file("m.tmx"), d).code, 0);
    // The NMF checks its needs before it starts (before the initialisation's SVD, which says
    // it is starting: that line is not there) and says both figures; so does a choice of k,
    // for its largest k, and a resumed fit.
    for (const std::string args : {" -k 12", " -k 4:12:4", " -k 12 --init random --loss kl"}) {
        Result t = run_cli("topics " + d.file("m.tmx") + args + " --device cuda -o " + d.file("model"), d,
                           "TMINE_EMU_DEVICE_MIB=1 ");
        EXPECT_EQ(t.code, 1) << args << "\n" << t.err;
        EXPECT_NE(t.err.find("MiB of GPU memory but only "), std::string::npos) << args << "\n" << t.err;
        EXPECT_NE(t.err.find(" MiB are free; lower -k or use --device cpu"), std::string::npos) << t.err;
        EXPECT_EQ(t.err.find("SVD"), std::string::npos) << args << ": checked after the SVD\n" << t.err;
        EXPECT_EQ(t.err.find("initialis"), std::string::npos) << args << ": checked after the start\n" << t.err;
        EXPECT_FALSE(std::filesystem::exists(d.file("model/topics.json")));
    }
    // Vectorizing runs out inside a stage: the message says it and what to do.
    Result v = run_cli("vectorize " + d.file("c.tmc") + " --device cuda -q -o " + d.file("g.tmx"), d,
                       "TMINE_EMU_DEVICE_MIB=1 ");
    EXPECT_EQ(v.code, 1) << v.err;
    EXPECT_NE(v.err.find("tmine: error: vectorize (tokenising on the GPU): GPU out of memory in "),
              std::string::npos)
        << v.err;
    EXPECT_NE(v.err.find("use a smaller corpus / k, or --device cpu"), std::string::npos) << v.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("g.tmx")));
    // With enough memory the same commands work.
    Result ok = run_cli("topics " + d.file("m.tmx") + " -k 12 --device cuda -q -o " + d.file("model"), d,
                        "TMINE_EMU_DEVICE_MIB=256 ");
    EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST(Cli, CheckpointResumeAndTransform) {
    TempDir d;
    ASSERT_NO_FATAL_FAILURE(demo_matrix(d, "--sublinear-tf"));
    const std::string common = " -k 6 --tol 0 --device cpu --solver hals";
    Result a = run_cli("topics " + d.file("m.tmx") + common + " --iters 30 -o " + d.file("whole"), d);
    ASSERT_EQ(a.code, 0) << a.err;
    Result b = run_cli("topics " + d.file("m.tmx") + common +
                           " --iters 20 --checkpoint-every 10 -o " + d.file("part"),
                       d);
    ASSERT_EQ(b.code, 0) << b.err;
    ASSERT_TRUE(std::filesystem::exists(d.file("part/checkpoint.tmk")));
    Result c = run_cli("topics " + d.file("m.tmx") + common + " --iters 30 --resume " +
                           d.file("part/checkpoint.tmk") + " -o " + d.file("resumed"),
                       d);
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_NE(c.err.find("resuming from"), std::string::npos) << c.err;
    rapidjson::Document x, y;
    std::string jx = read_bytes(d.file("whole/topics.json")), jy = read_bytes(d.file("resumed/topics.json"));
    x.Parse(jx.c_str());
    y.Parse(jy.c_str());
    EXPECT_TRUE(x["topics"] == y["topics"]) << "resumed run equals the uninterrupted one";
    EXPECT_TRUE(x["model"]["losses"] == y["model"]["losses"]);
    EXPECT_EQ(y["model"]["losses"].Size(), 30u);
    EXPECT_STREQ(y["model"]["solver"].GetString(), "hals");
    EXPECT_TRUE(read_bytes(d.file("whole/model/model.tmm")) == read_bytes(d.file("resumed/model/model.tmm")))
        << "the model file too, byte for byte";
    // Continuing in chunks: the resumed fit checkpoints over the checkpoint it started from.
    Result e = run_cli("topics " + d.file("m.tmx") + common + " --iters 30 --checkpoint-every 5 --resume " +
                           d.file("part/checkpoint.tmk") + " -o " + d.file("part"),
                       d);
    ASSERT_EQ(e.code, 0) << e.err;
    std::string je = read_bytes(d.file("part/topics.json"));
    rapidjson::Document z;
    z.Parse(je.c_str());
    EXPECT_TRUE(x["model"]["losses"] == z["model"]["losses"]);
    // Score other documents (the customer-support tweets) against the fitted model.
    if (have_data("twcs-customer-support-sample.csv.gz")) {
        ASSERT_EQ(run_cli("ingest " + data_file("twcs-customer-support-sample.csv.gz") +
                              " --text-field text --time-field created_at --id-field tweet_id -o " +
                              d.file("t.tmc"),
                          d)
                      .code,
                  0);
        Result t = run_cli("transform " + d.file("whole") + " " + d.file("t.tmc") +
                               " --device cpu -o " + d.file("scored.csv"),
                           d);
        ASSERT_EQ(t.code, 0) << t.err;
        EXPECT_EQ(count_lines(read_bytes(d.file("scored.csv"))), 5001u);
        Result ts = run_cli("transform " + d.file("whole") + " " + d.file("t.tmc") +
                                " --device cpu --delimiter tab -o " + d.file("scored.tsv"),
                            d);
        ASSERT_EQ(ts.code, 0) << ts.err;
        EXPECT_EQ(read_bytes(d.file("scored.tsv")), recode_csv(read_bytes(d.file("scored.csv")), '\t', false));
        EXPECT_EQ(read_bytes(d.file("scored.tsv")).rfind("row\tid\ttime\t", 0), 0u);
    }
    // A checkpoint past --iters is an error, not a silent no-op.
    ASSERT_EQ(run_cli("topics " + d.file("m.tmx") + common + " --iters 20 --checkpoint-every 20 --checkpoint " +
                          d.file("at20.tmk") + " -o " + d.file("at20"),
                      d)
                  .code,
              0);
    Result past = run_cli("topics " + d.file("m.tmx") + common + " --iters 5 --resume " + d.file("at20.tmk") + " -o " +
                       d.file("past"),
                   d);
    EXPECT_NE(past.code, 0);
    EXPECT_NE(past.err.find("--iters 5: " + d.file("at20.tmk") + " is at iteration 20 already"), std::string::npos)
        << past.err;
    // Flags that cannot go together leave no output directory behind.
    for (const std::string bad : {" --iters 10 --checkpoint-every 5 --restarts 2", " -k 2:3 --checkpoint-every 5",
                                  " -k 100000 --checkpoint-every 5"}) {
        Result r = run_cli("topics " + d.file("m.tmx") + " --tol 0 --device cpu" + bad + " -o " + d.file("nodir"), d);
        EXPECT_NE(r.code, 0) << bad;
        EXPECT_FALSE(std::filesystem::exists(d.file("nodir"))) << bad;
    }
    // A corpus with no term of the model's vocabulary: every post gets topic -1, and it is said.
    {
        std::ofstream f(d.file("fr.jsonl"));
        f << "{\"body\": \"zzqx wwyv\"}\n{\"body\": \"qqzz vvww\"}\n";
    }
    ASSERT_EQ(run_cli("ingest " + d.file("fr.jsonl") + " --text-field body -o " + d.file("fr.tmc"), d).code, 0);
    Result none = run_cli("transform " + d.file("whole") + " " + d.file("fr.tmc") + " --device cpu -q -o " +
                              d.file("none.csv"),
                          d);
    ASSERT_EQ(none.code, 0) << none.err;
    EXPECT_NE(none.err.find("transform: warning: no post of " + d.file("fr.tmc") + " has a term of the model's vocabulary"),
              std::string::npos)
        << none.err;
    // A checkpoint with other settings is refused in one line.
    Result bad = run_cli("topics " + d.file("m.tmx") + " -k 7 --resume " + d.file("part/checkpoint.tmk") +
                             " --device cpu -o " + d.file("bad"),
                         d);
    EXPECT_NE(bad.code, 0);
    EXPECT_NE(bad.err.find("tmine: error:"), std::string::npos) << bad.err;
}


TEST(Cli, RunWithCleaningWritesTheCleaningReportAndTheHtmlReport) {
    TempDir d;
    Result r = run_cli("run " + kDemo + kDemoFlags +
                           " --clean all --lang en -k 6 --iters 20 --min-df 5 --max-df 0.5"
                           " --device cpu -o " + d.file("out"),
                       d);
    ASSERT_EQ(r.code, 0) << r.err;
    rapidjson::Document clean, topics;
    std::string jc = read_bytes(d.file("out/clean.json")), jt = read_bytes(d.file("out/topics.json"));
    ASSERT_FALSE(clean.Parse(jc.c_str()).HasParseError());
    ASSERT_FALSE(topics.Parse(jt.c_str()).HasParseError());
    const int64_t kept = topics["corpus"]["documents"].GetInt64();
    EXPECT_LT(kept, 12000) << "duplicates, [deleted] posts and short posts go";
    EXPECT_GT(kept, 6000);
    EXPECT_EQ(count_lines(read_bytes(d.file("out/documents.csv"))), size_t(kept) + 1);
    EXPECT_TRUE(topics.HasMember("topics_over_time"));
    const std::string html = read_bytes(d.file("out/report.html"));
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos) << "self-contained, no script";
    EXPECT_EQ(html.find("http://"), std::string::npos) << "nothing fetched";
    Result bad = run_cli("run " + kDemo + kDemoFlags + " --clean everything -k 3 -o " + d.file("bad"), d);
    EXPECT_NE(bad.code, 0);
    EXPECT_NE(bad.err.find("tmine: error:"), std::string::npos) << bad.err;
}

// -k FROM:TO:STEP and --seed-terms through the command line.
TEST(Cli, ChoosesKAndGuidesTopics) {
    TempDir d;
    ASSERT_NO_FATAL_FAILURE(demo_matrix(d, "--stop-words english"));
    Result a = run_cli("topics " + d.file("m.tmx") + " -k 3:9:3 --iters 40 --device cpu -o " + d.file("k"), d);
    ASSERT_EQ(a.code, 0) << a.err;
    EXPECT_NE(a.err.find("has the highest mean NPMI coherence"), std::string::npos) << a.err;
    const std::string csv = read_bytes(d.file("k/k_selection.csv"));
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4) << csv;  // header + k = 3, 6, 9
    rapidjson::Document j;
    j.Parse(read_bytes(d.file("k/topics.json")).c_str());
    ASSERT_TRUE(j.HasMember("k_selection"));
    EXPECT_EQ(j["model"]["k"].GetInt(), j["k_selection"]["recommended"].GetInt());
    EXPECT_EQ(int(j["topics"].Size()), j["model"]["k"].GetInt());
    // one k into the same directory: the earlier choice of k no longer describes the model
    Result one = run_cli("topics " + d.file("m.tmx") + " -k 2 --iters 5 --device cpu -q -o " + d.file("k"), d);
    ASSERT_EQ(one.code, 0) << one.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("k/k_selection.csv")));

    write_bytes(d.file("seeds.txt"), "# brand terms\nGame, games, play\nmoney, stock, market\n");
    Result g = run_cli("topics " + d.file("m.tmx") + " -k 8 --iters 40 --device cpu --seed-terms " +
                           d.file("seeds.txt") + " --seed-strength 3 -o " + d.file("g"),
                       d);
    ASSERT_EQ(g.code, 0) << g.err;
    EXPECT_NE(g.err.find("guided topic 1: money, stock, market"), std::string::npos) << g.err;
    j.Parse(read_bytes(d.file("g/topics.json")).c_str());
    ASSERT_TRUE(j["model"].HasMember("guided_topics"));
    EXPECT_STREQ(j["model"]["guided_topics"][0]["seed_terms"][0].GetString(), "game");
    std::string top;  // topic 1's three best terms include a seed
    for (int r = 0; r < 3; ++r) top += std::string(j["topics"][1]["terms"][r]["term"].GetString()) + " ";
    EXPECT_TRUE(top.find("money") != std::string::npos || top.find("stock") != std::string::npos ||
                top.find("market") != std::string::npos)
        << top;

    // Errors name the file and line, or the flag.
    write_bytes(d.file("bad.txt"), "zzqqyx, qqzzyx\n");
    Result b = run_cli("topics " + d.file("m.tmx") + " -k 4 --seed-terms " + d.file("bad.txt") +
                           " -o " + d.file("b"),
                       d);
    EXPECT_EQ(b.code, 1);
    EXPECT_NE(b.err.find("bad.txt:1: none of this line's terms"), std::string::npos) << b.err;
    Result r = run_cli("topics " + d.file("m.tmx") + " -k 9:3 -o " + d.file("r"), d);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("-k '9:3'"), std::string::npos) << r.err;
}

// A distributed fit (mpirun -np 3 tmine topics ...) against one process on the demo matrix:
// the same iterations, losses within float summation noise, the same factors to 1e-3 of their
// largest entry, the same top terms; a distributed checkpoint and resume equals the
// uninterrupted distributed fit bit for bit.
TEST(Cli, DistributedFitAgreesWithOneProcess) {
    TempDir d;
    ASSERT_NO_FATAL_FAILURE(demo_matrix(d, "--stop-words english --device cpu"));
    const std::string mpiexec = TMINE_MPIEXEC;
    if (mpiexec.empty()) {
        // Without MPI, a launcher's several processes are refused (each would do the whole fit).
        Result r = run_cli("topics " + d.file("m.tmx") + " -k 4 -o " + d.file("x"), d, "OMPI_COMM_WORLD_SIZE=2 ");
        EXPECT_EQ(r.code, 1);
        EXPECT_NE(r.err.find("built without MPI, but an MPI launcher started 2 processes"), std::string::npos) << r.err;
        GTEST_SKIP() << "this build has no MPI (-DTMINE_MPI=OFF or no libopenmpi-dev): the distributed fit is not run";
    }
    const auto launch_on = mpi_launch;
    const std::string launch = launch_on(3);
    if (launch.empty()) GTEST_SKIP() << mpiexec << " is not on this machine: the distributed fit is not run";
    const std::string common = " -k 8 --device cpu --threads 1 -q";
    for (const std::string solver : {" --iters 30 --solver mu --tol 0", " --iters 30 --solver hals", " --iters 30 --loss kl --tol 0",
                                     " --iters 30 --solver mu --alpha-w 0.0005 --l1-ratio 0.5 --restarts 2",
                                     " --iters 30 --tol 0 --init nndsvdar", " --iters 30 --tol 0 --init nndsvd"}) {
        ASSERT_NO_FATAL_FAILURE(fit_alone_and_distributed(d, d.file("m.tmx"), common + solver, launch, "3 processes"));
    }
    // Each process initialises its own rows: a random start draws one process's stream (each
    // process skips the draws of the rows before its own), so the start is the same up to the
    // mean of X that scales it (summed in another order): the loss there agrees to 1e-9 (2e-12
    // seen; a process that skipped one row too few or too many is off by far more). 15
    // iterations: from this start the fit crosses a plateau (0.9392 at iteration 20) and leaves
    // it at a point so sensitive that one process on 1 or 2 threads (other summation orders)
    // is 1.6e-5 apart at iteration 24 (measured on the demo matrix), more than the 1e-5 compared.
    ASSERT_NO_FATAL_FAILURE(
        fit_alone_and_distributed(d, d.file("m.tmx"), common + " --iters 15 --tol 0 --init random", launch, "3 processes"));
    EXPECT_NEAR(read_model(d.file("one")).nmf.loss_at_init, read_model(d.file("many")).nmf.loss_at_init,
                1e-9 * read_model(d.file("one")).nmf.loss_at_init);
    // A matrix of rank 10 (ten posts, each 40 times) with k + 10 = 16 SVD columns: the
    // distributed Cholesky QR meets a singular Gram matrix and falls back to Householder QR of
    // the basis gathered on rank 0 (seen taken at this seed with a trace), then scattered back.
    {
        std::string jsonl;
        const char* words[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
                               "lambda", "sigma"};
        for (int copy = 0; copy < 40; ++copy)
            for (int post = 0; post < 10; ++post) {
                std::string text;
                for (int w = 0; w < 5; ++w) text += std::string(words[(post * 5 + w * 7) % 12]) + " ";
                jsonl += "{\"body\": \"" + text + "\"}\n";
            }
        write_bytes(d.file("low.jsonl"), jsonl);
        ASSERT_EQ(run_cli("ingest " + d.file("low.jsonl") + " --text-field body -q -o " + d.file("low.tmc"), d).code, 0);
        ASSERT_EQ(run_cli("vectorize " + d.file("low.tmc") + " --min-df 1 -q -o " + d.file("low.tmx"), d).code, 0);
        // The factors of a rank-deficient matrix are not unique (the two bases span the same
        // space, topics come out in other combinations): the losses are compared.
        const std::string args = " -k 6 --seed 1 --iters 20 --tol 0 --device cpu --threads 1 -q";
        Result a = run_cli("topics " + d.file("low.tmx") + args + " -o " + d.file("low1"), d);
        ASSERT_EQ(a.code, 0) << a.err;
        Result b = run_cli("topics " + d.file("low.tmx") + args + " -o " + d.file("low3"), d, launch);
        ASSERT_EQ(b.code, 0) << b.err;
        const std::vector<double> la = read_model(d.file("low1")).nmf.losses, lb = read_model(d.file("low3")).nmf.losses;
        ASSERT_EQ(la.size(), 20u);
        ASSERT_EQ(lb.size(), 20u);
        for (size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(la[i], lb[i], 1e-5 * la[i]) << "iteration " << i + 1;
    }
    // guided topics: the pull's constants are sums over every process's rows
    write_bytes(d.file("seeds.txt"), "game, games, play\nmoney, stock, market\n");
    ASSERT_NO_FATAL_FAILURE(fit_alone_and_distributed(
        d, d.file("m.tmx"), common + " --iters 30 --tol 0 --seed-terms " + d.file("seeds.txt"), launch, "3 processes"));
    EXPECT_NEAR(read_model(d.file("one")).nmf.seed_lambda, read_model(d.file("many")).nmf.seed_lambda,
                1e-6 * read_model(d.file("one")).nmf.seed_lambda);
    EXPECT_GT(read_model(d.file("many")).nmf.seed_lambda, 0.0);
    // k chosen from a range on 3 processes (the coherence counts summed over them): the same k and
    // scores as one process, up to summation order
    {
        const std::string ks = " -k 4:8:4 --device cpu --threads 1 -q --iters 30 --tol 0";
        Result a = run_cli("topics " + d.file("m.tmx") + ks + " -o " + d.file("k1"), d);
        ASSERT_EQ(a.code, 0) << a.err;
        Result b = run_cli("topics " + d.file("m.tmx") + ks + " -o " + d.file("k3"), d, launch);
        ASSERT_EQ(b.code, 0) << b.err;
        const TopicModel ka = read_model(d.file("k1")), kb = read_model(d.file("k3"));
        ASSERT_EQ(ka.k_selection.candidates.size(), 2u);
        ASSERT_EQ(kb.k_selection.candidates.size(), 2u);
        EXPECT_EQ(ka.k_selection.recommended, kb.k_selection.recommended);
        for (size_t i = 0; i < 2; ++i) {
            EXPECT_NEAR(ka.k_selection.candidates[i].npmi, kb.k_selection.candidates[i].npmi, 1e-3) << i;
            EXPECT_NEAR(ka.k_selection.candidates[i].umass, kb.k_selection.candidates[i].umass, 1e-3) << i;
            EXPECT_NE(kb.k_selection.candidates[i].npmi, 0.0) << i;
        }
    }
    // checkpoint at 10, resume to 20 (3 processes both times) = 20 iterations at once
    Result cp = run_cli("topics " + d.file("m.tmx") + common + " --tol 0 --iters 10 --checkpoint-every 5 -o " + d.file("p1"),
                        d, launch);
    ASSERT_EQ(cp.code, 0) << cp.err;
    Result res = run_cli("topics " + d.file("m.tmx") + common + " --tol 0 --iters 20 --resume " + d.file("p1/checkpoint.tmk") +
                             " -o " + d.file("p2"),
                         d, launch);
    ASSERT_EQ(res.code, 0) << res.err;
    ASSERT_EQ(run_cli("topics " + d.file("m.tmx") + common + " --tol 0 --iters 20 -o " + d.file("p3"), d, launch).code, 0);
    EXPECT_EQ(read_model(d.file("p2")).nmf.losses, read_model(d.file("p3")).nmf.losses);
    EXPECT_EQ(read_model(d.file("p2")).nmf.W, read_model(d.file("p3")).nmf.W);
    // the same checkpoint continued on 2 processes: the same fit up to summation order
    Result two = run_cli("topics " + d.file("m.tmx") + common + " --tol 0 --iters 20 --resume " + d.file("p1/checkpoint.tmk") +
                             " -o " + d.file("p4"),
                         d, launch_on(2));
    ASSERT_EQ(two.code, 0) << two.err;
    const std::vector<double> l2 = read_model(d.file("p4")).nmf.losses, l3 = read_model(d.file("p3")).nmf.losses;
    ASSERT_EQ(l2.size(), l3.size());
    for (size_t i = 0; i < l2.size(); ++i) EXPECT_NEAR(l2[i], l3[i], 1e-5 * l3[i]) << "iteration " << i + 1;
    // --time-limit: one decision for all processes (the slowest clock)
    Result tl = run_cli("topics " + d.file("m.tmx") + common + " --tol 0 --iters 1000000 --time-limit 0.5 -o " + d.file("tl"), d,
                        launch);
    ASSERT_EQ(tl.code, 0) << tl.err;
    EXPECT_EQ(read_model(d.file("tl")).nmf.stop_reason, "time_limit");
    // the other commands run as one process
    Result v = run_cli("vectorize " + d.file("c.tmc") + " -q -o " + d.file("v.tmx"), d, launch);
    EXPECT_NE(v.code, 0);
    EXPECT_NE(v.err.find("only tmine topics runs on several processes"), std::string::npos) << v.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("v.tmx")));
}

// Outputs that are not plain files: a symbolic link is followed (the file it names is
// replaced, the link stays), a pipe is written in place (renaming over it would replace it
// with an ordinary file, as it did /dev/null when root wrote there); two outputs of one
// command that name one file are an error, before either is written.
TEST(Cli, OutputsThroughLinksAndPipesAndTwoOutputsOnOneFile) {
    TempDir d;
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("c.tmc"), d).code, 0);
    const std::string corpus = read_bytes(d.file("c.tmc"));
    namespace fs = std::filesystem;
    fs::create_symlink("real.tmc", d.file("link.tmc"));
    Result r = run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("link.tmc"), d);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(fs::is_symlink(d.file("link.tmc")));
    EXPECT_EQ(read_bytes(d.file("real.tmc")), corpus);
    ASSERT_EQ(mkfifo(d.file("pipe").c_str(), 0600), 0);
    // a reader copies what arrives through the pipe
    r = run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("pipe"), d,
                "cat " + d.file("pipe") + " > " + d.file("through.tmc") + " & ");
    ASSERT_EQ(r.code, 0) << r.err;
    for (int i = 0; i < 100 && read_bytes(d.file("through.tmc")).size() < corpus.size(); ++i) usleep(20000);
    struct stat st;
    ASSERT_EQ(::stat(d.file("pipe").c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the pipe was replaced";
    EXPECT_EQ(read_bytes(d.file("through.tmc")), corpus);
    // /dev/stdout when standard output is a pipe (a link to /proc/self/fd/1, "pipe:[N]")
    ASSERT_EQ(std::system(("(" + std::string(TMINE_BINARY) + " ingest " + kDemo + kDemoFlags + " -q -o /dev/stdout 2>" +
                           d.file("piped.err") + "; echo $? > " + d.file("piped.rc") + ") | cat > " + d.file("piped.tmc"))
                              .c_str()),
              0);
    EXPECT_EQ(read_bytes(d.file("piped.rc")), "0\n") << read_bytes(d.file("piped.err"));
    EXPECT_EQ(read_bytes(d.file("piped.tmc")), corpus) << read_bytes(d.file("piped.err"));
    // two outputs, one file (two spellings of it): an error naming both, nothing written
    r = run_cli("clean " + d.file("c.tmc") + " --steps dedup -o " + d.file("k.tmc") + " --removed " +
                    d.file(".") + "/k.tmc",
                d);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("another output of this command too"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d.file("k.tmc")));
}

// Inputs that would crash or mislead: nesting deeper than a stack (a query, a JSON label
// line), numbers that are not numbers, a directory given for a file, a field name no record
// has.
TEST(Cli, DeepNestingOddNumbersDirectoriesAndAbsentFieldsAreSaid) {
    TempDir d;
    ASSERT_NO_FATAL_FAILURE(demo_matrix(d, "--device cpu"));
    const std::string deep = std::string(20000, '(') + "game" + std::string(20000, ')');
    Result r = run_cli("query " + d.file("c.tmc") + " -o " + d.file("q.txt") + " -- '" + deep + "'", d);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("nested deeper than 500 levels at column 501"), std::string::npos) << r.err.substr(0, 300);
    EXPECT_LT(r.err.size(), 600u) << "the query is shown around the place, not whole";
    r = run_cli("query " + d.file("c.tmc") + " -o " + d.file("q.txt") + " -- '" + std::string(400, '(') + "game" +
                    std::string(400, ')') + "'",
                d);
    EXPECT_EQ(r.code, 0) << r.err.substr(0, 300);
    {
        const int n = 200000;
        write_bytes(d.file("deep.jsonl"), "{\"id\":\"1\",\"label\":\"yes\",\"x\":" + std::string(n, '[') +
                                              std::string(n, ']') + "}\n{\"id\":\"2\",\"label\":\"no\"}\n");
    }
    r = run_cli("classify train " + d.file("m.tmx") + " --labels " + d.file("deep.jsonl") + " --cv-folds 0 -q -o " +
                    d.file("clf"),
                d);
    EXPECT_EQ(r.code, 0) << r.err;  // the deep value is an ignored field of a valid line
    for (const auto& [args, says] : std::vector<std::pair<std::string, std::string>>{
             {"topics " + d.file("m.tmx") + " -k 2 --tol inf -o " + d.file("t"), "--tol must be a finite number"},
             {"topics " + d.file("m.tmx") + " -k 2 --alpha-h -1 -o " + d.file("t"), "--alpha-h must be a finite number >= 0"},
             {"topics " + d.file("m.tmx") + " -k 2 --solver hals --init random --alpha-w 1 --alpha-h 0 --l1-ratio 1 -o " +
                  d.file("t"),
              "every document came out without topics (all of W is 0): --alpha-w / --alpha-h are too strong"},
             {"vectorize " + d.file("c.tmc") + " --min-df inf -o " + d.file("x.tmx"), "--min-df: expected a count"},
             {"vectorize " + d.file("c.tmc") + " --min-df 9223372036854775807 -o " + d.file("x.tmx"),
              "--min-df: a count of documents"},
             {"vectorize " + d.file("c.tmc") + " --ngram 4294967298 -o " + d.file("x.tmx"), "--ngram: expected MIN:MAX"},
             {"vectorize " + d.file("c.tmc") + " --ngram 1:11 -o " + d.file("x.tmx"), "n-grams of at most 10 words"},
             {"clean " + d.file("c.tmc") + " --near-dup nan -o " + d.file("x.tmc"), "--near-dup must be in [0, 1)"},
             {"clean " + d.file("c.tmc") + " --max-link-ratio nan -o " + d.file("x.tmc"), "spam thresholds must be"},
             {"vectorize " + d.file("c.tmc") + " --stop-words " + d.file(".") + " -o " + d.file("x.tmx"),
              "is neither english, french, none nor a readable file: it is a directory"},
             {"vectorize " + d.file("c.tmc") + " --vocabulary " + d.file(".") + " -o " + d.file("x.tmx"),
              ": it is a directory"},
         }) {
        r = run_cli(args, d);
        EXPECT_EQ(r.code, 1) << args;
        EXPECT_NE(r.err.find("tmine: error: "), std::string::npos) << args << "\n" << r.err;
        EXPECT_NE(r.err.find(says), std::string::npos) << args << "\n" << r.err;
    }
    r = run_cli("ingest " + kDemo + " --text-field body --time-field created --author-field subredit -o " +
                    d.file("z.tmc"),
                d);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("ingest: warning: --time-field 'created' is in none of the 12000 records read"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("ingest: warning: --author-field 'subredit' is in none"), std::string::npos) << r.err;
    r = run_cli("ingest " + kDemo + kDemoFlags + " -o " + d.file("z.tmc"), d);
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

// A run into a directory that holds an earlier run's results: when it fails after writing its
// corpus and matrix (kept, complete), nothing of the earlier run's topics is left beside them
// to be taken for this one's.
TEST(Cli, AFailedRunLeavesNoStaleTopicsBesideItsNewMatrix) {
    TempDir d;
    Result r = run_cli("run " + kDemo + kDemoFlags + " --stop-words english --min-df 5 -k 4 --iters 5 --device cpu -q -o " +
                           d.file("out"),
                       d);
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_TRUE(std::filesystem::exists(d.file("out/topics.json")));
    // A k the data does not allow is found before anything is replaced: the earlier run stays whole.
    const std::string topics = read_bytes(d.file("out/topics.json")), matrix = read_bytes(d.file("out/matrix.tmx"));
    r = run_cli("run " + kDemo + kDemoFlags + " --stop-words none --min-df 5 -k 100000 --device cpu -q -o " +
                    d.file("out"),
                d);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("-k 100000: must be between 1 and"), std::string::npos) << r.err;
    EXPECT_EQ(read_bytes(d.file("out/topics.json")), topics);
    EXPECT_EQ(read_bytes(d.file("out/matrix.tmx")), matrix);
    // A fit that fails after the new corpus and matrix are kept takes the earlier topics away.
    r = run_cli("run " + kDemo + kDemoFlags + " --stop-words none --min-df 5 -k 4 --alpha-w 1e38 --device cpu -q -o " +
                    d.file("out"),
                d);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("the fit diverged"), std::string::npos) << r.err;
    EXPECT_TRUE(std::filesystem::exists(d.file("out/matrix.tmx")));
    EXPECT_NE(read_bytes(d.file("out/matrix.tmx")), matrix) << "the new matrix (other stop words)";
    for (const char* stale : {"topics.json", "topics.csv", "documents.csv", "report.html", "model/model.tmm"})
        EXPECT_FALSE(std::filesystem::exists(d.file(std::string("out/") + stale))) << stale;
}

// --since and --until take a year or a month as its first day, and refuse a short number (as
// epoch seconds, a time of 1970). A far date kept with --keep-future-times leaves only the
// time series out, said on stderr and in topics.json; the run's other outputs are written.
TEST(Cli, YearAndMonthWindowsAndAFarDateLeaveOutOnlyTheSeries) {
    TempDir d;
    std::string jsonl;
    for (int i = 0; i < 48; ++i) {
        const int month = i % 24;  // 2020-01 .. 2021-12
        char t[32];
        std::snprintf(t, sizeof t, "%04d-%02d-15T12:00:00Z", 2020 + month / 12, month % 12 + 1);
        jsonl += std::string("{\"text\": \"") +
                 (i % 2 ? "netflix series episode season finale" : "football match goal team league") + " post" +
                 std::to_string(i) + "\", \"t\": \"" + t + "\"}\n";
    }
    write_bytes(d.file("p.jsonl"), jsonl);
    const std::string flags = " --time-field t --stop-words none --min-df 2 -k 2 --iters 5 --device cpu";
    Result r = run_cli("run " + d.file("p.jsonl") + flags + " --since 2021 --until 2021-07 -o " + d.file("w"), d);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("ingest: 48 records, 12 kept, 0 skipped, 36 outside the time window"), std::string::npos)
        << r.err;
    for (const char* bad : {"202103", "2021-7", "1234567"}) {
        r = run_cli("ingest " + d.file("p.jsonl") + " --time-field t --since " + bad + " -o " + d.file("x.tmc"), d);
        EXPECT_EQ(r.code, 1) << bad;
        EXPECT_NE(r.err.find(std::string("--since: '") + bad + "' is not a date"), std::string::npos) << r.err;
    }
    // one post 285,000 years ahead (milliseconds), kept on purpose
    write_bytes(d.file("p.jsonl"), jsonl + "{\"text\": \"netflix football\", \"t\": 9000000000000000}\n");
    r = run_cli("run " + d.file("p.jsonl") + flags + " --keep-future-times -o " + d.file("far"), d);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("run: warning: topics over time left out: "), std::string::npos) << r.err;
    rapidjson::Document j;
    const std::string js = read_bytes(d.file("far/topics.json"));
    ASSERT_FALSE(j.Parse(js.c_str()).HasParseError());
    EXPECT_FALSE(j.HasMember("topics_over_time"));
    ASSERT_TRUE(j.HasMember("topics_over_time_left_out"));
    EXPECT_NE(std::string(j["topics_over_time_left_out"].GetString()).find("more than 100000"), std::string::npos);
    EXPECT_EQ(j["topics"].Size(), 2u);
    EXPECT_NE(read_bytes(d.file("far/report.html")).find("Left out: "), std::string::npos);
}
