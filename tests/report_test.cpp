// The HTML report and the v2 exports end to end through the CLI on the committed demo sample
// (12,000 real Reddit comments): self-contained, well-formed, every section present, every
// post escaped; and, when Debian's chromium is installed, rendered by a real browser.
#include "tmine/report.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "test_util.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {

const std::string kDemo = std::string(TMINE_SOURCE_DIR) + "/data/demo/reddit-demo.jsonl.gz";
const char* kSections[] = {"settings", "topics",    "time", "emerging",
                           "clusters", "audiences", "posts"};
constexpr int kTopics = 8;

int sh(const std::string& cmd) {
    int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// One run on the demo sample and its exports, made once for the whole program.
struct Exported {
    TempDir dir;
    std::string html, json, err;
    bool ok = false;
    Exported() {
        const std::string bin = TMINE_BINARY;
        const std::string out = dir.file("out");
        std::string cmd = bin + " run " + kDemo +
                          " --text-field body --time-field created_utc --author-field subreddit"
                          " --id-field subreddit_id -k " +
                          std::to_string(kTopics) +
                          " --iters 60 --min-df 5 --max-df 0.5 --device cpu -q -o " + out +
                          " >/dev/null 2>" + dir.file("err.txt");
        ok = sh(cmd) == 0;
        const std::string common =
            " " + out + "/model --corpus " + out + "/corpus.tmc --posts 40 --by week -q";
        ok = ok && sh(bin + " export" + common + " --format html --title 'Demo <report>' -o " +
                      dir.file("report.html") + " 2>>" + dir.file("err.txt")) == 0;
        ok = ok && sh(bin + " export" + common + " --format json --tables " + dir.file("tables") +
                      " -o " + dir.file("topics.json") + " 2>>" + dir.file("err.txt")) == 0;
        err = read_bytes(dir.file("err.txt"));
        html = read_bytes(dir.file("report.html"));
        json = read_bytes(dir.file("topics.json"));
    }
};
const Exported& exported() {
    static Exported e;
    return e;
}

/// Checks that every element is closed in order (void elements and `/>` aside), that no raw
/// '<' sits in text, and that every '&' starts a character reference. Returns "" or the fault.
std::string well_formed(const std::string& h) {
    static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "input", "link"};
    static const std::regex kRef("^&(amp|lt|gt|quot|#39|middot);");
    std::vector<std::string> stack;
    size_t i = 0;
    while (i < h.size()) {
        if (h[i] == '&') {
            if (!std::regex_search(h.substr(i, 10), kRef))
                return "bare '&' at byte " + std::to_string(i);
            ++i;
            continue;
        }
        if (h[i] != '<') {
            ++i;
            continue;
        }
        size_t end = h.find('>', i);
        if (end == std::string::npos) return "unterminated tag at byte " + std::to_string(i);
        std::string tag = h.substr(i + 1, end - i - 1);
        if (tag.rfind("!DOCTYPE", 0) == 0) {
            i = end + 1;
            continue;
        }
        if (tag.find('<') != std::string::npos)
            return "'<' inside a tag at byte " + std::to_string(i);
        const bool closing = !tag.empty() && tag[0] == '/';
        std::string name = tag.substr(closing ? 1 : 0);
        name = name.substr(0, name.find_first_of(" \t\n/"));
        if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0])))
            return "raw '<' in text at byte " + std::to_string(i);
        if (closing) {
            if (stack.empty() || stack.back() != name)
                return "</" + name + "> closes <" + (stack.empty() ? "nothing" : stack.back()) +
                       "> at byte " + std::to_string(i);
            stack.pop_back();
        } else if (!kVoid.count(name) && tag.back() != '/') {
            stack.push_back(name);
            if (name == "style") {  // raw text up to </style>
                size_t close = h.find("</style>", end);
                if (close == std::string::npos) return "unclosed <style>";
                i = close;
                continue;
            }
        }
        i = end + 1;
    }
    return stack.empty() ? "" : "unclosed <" + stack.back() + ">";
}

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

std::string chromium() {
    if (const char* c = std::getenv("TMINE_CHROMIUM")) return c;
    for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
        if (std::filesystem::exists(p)) return p;
    return "";
}

}  // namespace

TEST(Report, SelfContainedWellFormedEverySectionEscaped) {
    const Exported& e = exported();
    ASSERT_TRUE(e.ok) << e.err;
    const std::string& h = e.html;
    EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(well_formed(h), "");
    for (const char* s : kSections)
        EXPECT_EQ(count(h, std::string("<section id=\"") + s + "\""), 1u) << s;
    for (const char* id : {"volume-chart", "share-chart", "cluster-tree"})
        EXPECT_EQ(count(h, std::string("<svg id=\"") + id + "\""), 1u) << id;
    EXPECT_EQ(count(h, "<svg class=\"bars\""), size_t(kTopics)) << "one term-bar chart per topic";
    // Self-contained: no script, nothing loaded from anywhere.
    for (const char* bad :
         {"<script", "<link", "<img", "<iframe", " src=", "@import", "url(", "href=\"http"})
        EXPECT_EQ(count(h, bad), 0u) << bad;
    EXPECT_NE(h.find("<title>Demo &lt;report&gt;</title>"), std::string::npos);

    // Every representative post of topics.json is in the page, escaped.
    rapidjson::Document d;
    ASSERT_FALSE(d.Parse(e.json.c_str()).HasParseError());
    ASSERT_EQ(d["schema_version"].GetInt(), 2);
    size_t posts = 0, special = 0;
    for (const auto& t : d["topics"].GetArray()) {
        ASSERT_TRUE(t.HasMember("representative_posts"));
        ASSERT_TRUE(t.HasMember("coherence"));
        ASSERT_TRUE(t.HasMember("group"));
        EXPECT_NE(h.find(html_escape(t["label"].GetString())), std::string::npos);
        for (const auto& p : t["representative_posts"].GetArray()) {
            const std::string text = p["text"].GetString();
            ++posts;
            special += text.find_first_of("<>&\"'") != std::string::npos;
            EXPECT_NE(h.find(html_escape(text)), std::string::npos) << text;
            EXPECT_NE(p["time"].GetString()[0], '\0') << "demo posts carry a date";
        }
    }
    EXPECT_GT(posts, size_t(kTopics) * 10);
    EXPECT_GT(special, 0u) << "some real comments hold &, <, >, quotes: the escaping is exercised";
    // The time series sums to the posts; settings and counts are shown.
    int64_t total = d["topics_over_time"]["untimed"].GetInt64();
    for (const auto& b : d["topics_over_time"]["bins"].GetArray()) total += b["posts"].GetInt64();
    EXPECT_EQ(total, 12000);
    EXPECT_STREQ(d["topics_over_time"]["by"].GetString(), "week");
    EXPECT_EQ(d["emerging"].Size(), unsigned(kTopics));
    {
        // the windows compared are named, in the JSON and in the report, with their posts
        const auto& ew = d["emerging_window"];
        const auto& bins = d["topics_over_time"]["bins"];
        EXPECT_STREQ(ew["recent"]["to"].GetString(), bins[bins.Size() - 1]["label"].GetString());
        EXPECT_GE(ew["recent"]["posts"].GetInt64(), 30);
        EXPECT_GT(ew["trailing"]["posts"].GetInt64(), 0);
        const std::string said = "(" + std::to_string(ew["recent"]["posts"].GetInt64()) + " posts), against";
        EXPECT_NE(h.find(said), std::string::npos) << said;
    }
    EXPECT_EQ(d["clusters"]["merges"].Size(), unsigned(kTopics - 1));
    EXPECT_TRUE(d["coherence"]["npmi"].IsDouble());
    ASSERT_TRUE(d.HasMember("audiences"));
    EXPECT_EQ(d["audiences"]["segments"].Size(), 5u);
    EXPECT_NE(h.find("<th>documents in the model</th><td>12000</td>"), std::string::npos);
    EXPECT_NE(h.find("<th>topics (k)</th><td>8</td>"), std::string::npos);

    // The CSV tables.
    auto lines = [&](const char* f) {
        std::string s = read_bytes(e.dir.file(std::string("tables/") + f));
        return std::count(s.begin(), s.end(), '\n');
    };
    EXPECT_EQ(lines("topics.csv"), kTopics + 1);
    EXPECT_EQ(lines("clusters.csv"), kTopics + 1);
    EXPECT_EQ(lines("terms.csv"), kTopics * 20 + 1);
    EXPECT_GT(lines("weights.csv"), 12000);
    EXPECT_EQ(lines("authors.csv"), 1 + d["audiences"]["authors"].GetInt64());
    EXPECT_EQ(lines("time_series.csv"),
              1 + int64_t(d["topics_over_time"]["bins"].Size()) * kTopics);
}

TEST(Report, EscapesEverythingFromTheData) {
    TopicModel m;
    m.nmf.k = 1;
    m.nmf.n = 1;
    m.nmf.m = 2;
    m.nmf.W = {1.0f};
    m.nmf.H = {0.5f, 0.25f};
    m.vocabulary = {"<b>", "a&b"};
    m.corpus.documents = 1;
    m.corpus.source = "x\"<y>.tmc";
    TopicSummary s = summarize_topics(m, 2);
    Interpretation it;
    it.clusters = cluster_topics(m, s);
    RepresentativePost p;
    p.text = "<script>alert('x')</script> & \"more\"";
    p.author = std::string("<i>me</i>\x01\x1B\x7F\xC2\x85\0", 15) + "\t\xC2\xA0" "end";
    it.posts = {{p}};
    std::string h = html_report(m, s, it);
    // control characters other than white space are not allowed in HTML: each is U+FFFD
    EXPECT_NE(h.find("&lt;i&gt;me&lt;/i&gt;"
                     "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\t\xC2\xA0" "end"),
              std::string::npos);
    for (char c : h) {
        const unsigned char u = static_cast<unsigned char>(c);
        EXPECT_TRUE(u >= 0x20 || c == '\n' || c == '\t' || c == '\r') << int(u);
        if (u < 0x20 && c != '\n' && c != '\t' && c != '\r') break;
    }
    EXPECT_EQ(well_formed(h), "");
    EXPECT_EQ(h.find("<script"), std::string::npos);
    EXPECT_EQ(h.find("<b>"), std::string::npos);
    EXPECT_EQ(h.find("<i>"), std::string::npos);
    EXPECT_NE(h.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"),
              std::string::npos);
    EXPECT_NE(h.find("&lt;b&gt; / a&amp;b"), std::string::npos);
    for (const char* s : kSections)
        EXPECT_NE(h.find(std::string("<section id=\"") + s + "\""), std::string::npos);
}

// A real browser: Debian's chromium renders the page headless. Skipped when it is absent
// (it is not in scripts/install-deps.sh: a large package CI does not need for the build).
TEST(Report, RendersInHeadlessChromium) {
    const std::string browser = chromium();
    if (browser.empty())
        GTEST_SKIP() << "chromium not installed (Debian: apt-get install chromium)";
    const Exported& e = exported();
    ASSERT_TRUE(e.ok) << e.err;
    TempDir t;
    const std::string flags =
        " --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,3000 ";
    const std::string page = "file://" + e.dir.file("report.html");
    // The DOM after parsing: every section, the charts, no script.
    ASSERT_EQ(sh("timeout 120 " + browser + flags + "--dump-dom " + page + " >" +
                 t.file("dom.html") + " 2>" + t.file("dom.err")),
              0)
        << read_bytes(t.file("dom.err"));
    const std::string dom = read_bytes(t.file("dom.html"));
    for (const char* s : kSections)
        EXPECT_NE(dom.find(std::string("<section id=\"") + s + "\""), std::string::npos) << s;
    EXPECT_EQ(count(dom, "<svg"), count(e.html, "<svg"));
    EXPECT_EQ(count(dom, "<blockquote"), count(e.html, "<blockquote"));
    EXPECT_EQ(count(dom, "<script"), 0u);
    // A screenshot, against the same browser's screenshot of an empty page.
    write_bytes(t.file("blank.html"), "<!DOCTYPE html><html><body></body></html>");
    auto shot = [&](const std::string& url, const std::string& png) {
        return sh("cd " + t.path.string() + " && timeout 120 " + browser + flags +
                  "--screenshot=" + png + " " + url + " >/dev/null 2>" + t.file("shot.err"));
    };
    ASSERT_EQ(shot(page, t.file("report.png")), 0) << read_bytes(t.file("shot.err"));
    ASSERT_EQ(shot("file://" + t.file("blank.html"), t.file("blank.png")), 0);
    const std::string png = read_bytes(t.file("report.png")),
                      blank = read_bytes(t.file("blank.png"));
    ASSERT_GT(png.size(), 24u);
    ASSERT_EQ(png.substr(1, 3), "PNG");
    auto be32 = [&](size_t at) {
        return (uint32_t(uint8_t(png[at])) << 24) | (uint32_t(uint8_t(png[at + 1])) << 16) |
               (uint32_t(uint8_t(png[at + 2])) << 8) | uint32_t(uint8_t(png[at + 3]));
    };
    EXPECT_EQ(be32(16), 1280u);
    EXPECT_EQ(be32(20), 3000u);
    EXPECT_GT(png.size(), 10 * blank.size()) << "the page draws far more than an empty one";
    if (const char* keep = std::getenv("TMINE_REPORT_SCREENSHOT")) write_bytes(keep, png);
    std::printf("chromium screenshot: %zu bytes (empty page %zu)\n", png.size(), blank.size());
}

// Coherence from the training matrix equals coherence from the corpus re-vectorized against the
// model's vocabulary (same sparsity pattern); bad flags are one-line errors.
TEST(Report, MatrixAndCorpusGiveTheSameCoherenceAndErrorsAreClear) {
    const Exported& e = exported();
    ASSERT_TRUE(e.ok) << e.err;
    const std::string bin = TMINE_BINARY, out = e.dir.file("out");
    TempDir t;
    ASSERT_EQ(sh(bin + " export " + out + "/model --matrix " + out + "/matrix.tmx -o " +
                 t.file("m.json") + " 2>" + t.file("err")),
              0)
        << read_bytes(t.file("err"));
    rapidjson::Document m, c;
    std::string jm = read_bytes(t.file("m.json"));
    ASSERT_FALSE(m.Parse(jm.c_str()).HasParseError());
    ASSERT_FALSE(c.Parse(e.json.c_str()).HasParseError());
    EXPECT_FALSE(m.HasMember("topics_over_time")) << "no corpus, no time series";
    ASSERT_TRUE(m.HasMember("coherence"));
    EXPECT_EQ(m["coherence"]["npmi"].GetDouble(), c["coherence"]["npmi"].GetDouble());
    EXPECT_EQ(m["coherence"]["umass"].GetDouble(), c["coherence"]["umass"].GetDouble());
    for (unsigned j = 0; j < m["topics"].Size(); ++j)
        EXPECT_EQ(m["topics"][j]["coherence"]["npmi"].GetDouble(),
                  c["topics"][j]["coherence"]["npmi"].GetDouble());
    // Errors: one line, exit code 1.
    for (const std::string& args : {" --corpus " + out + "/corpus.tmc --by year",
                                    std::string(" --format pdf"), " --corpus " + kDemo}) {
        int code =
            sh(bin + " export " + out + "/model -o " + t.file("x") + args + " 2>" + t.file("err"));
        std::string err = read_bytes(t.file("err"));
        EXPECT_EQ(code, 1) << args;
        EXPECT_EQ(err.rfind("tmine: error: ", 0), 0u) << err;
        EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    }
}

// A run that cleans, chooses k and splits the time series: the report gains the cleaning funnel,
// the k selection and the per-language series, still well formed; the JSON agrees with
// clean.json and its groups add up to the full series.
TEST(Report, CleaningFunnelKSelectionAndSplitSeries) {
    TempDir d;
    const std::string bin = TMINE_BINARY, out = d.file("out");
    const std::string run = bin + " run " + kDemo +
                            " --text-field body --time-field created_utc --author-field subreddit"
                            " --source-field subreddit --clean all -k 4:8:4 --iters 40 --min-df 5"
                            " --max-df 0.5 --device cpu -q --split language --split-groups 3 -o " +
                            out + " >/dev/null 2>" + d.file("err.txt");
    ASSERT_EQ(sh(run), 0) << read_bytes(d.file("err.txt"));
    const std::string html = read_bytes(out + "/report.html");
    EXPECT_EQ(well_formed(html), "");
    for (const char* id : {"id=\"cleaning\"", "id=\"funnel-chart\"", "id=\"k-selection\"",
                           "id=\"k-chart\"", "id=\"split\"", "id=\"split-chart\""})
        EXPECT_EQ(count(html, id), 1u) << id;
    rapidjson::Document j, c;
    j.Parse(read_bytes(out + "/topics.json").c_str());
    c.Parse(read_bytes(out + "/clean.json").c_str());
    ASSERT_FALSE(j.HasParseError());
    ASSERT_FALSE(c.HasParseError());
    // The funnel is clean.json's steps.
    ASSERT_TRUE(j.HasMember("cleaning"));
    ASSERT_EQ(j["cleaning"].Size(), c["steps"].Size());
    for (rapidjson::SizeType i = 0; i < c["steps"].Size(); ++i) {
        EXPECT_STREQ(j["cleaning"][i]["step"].GetString(), c["steps"][i]["step"].GetString());
        EXPECT_EQ(j["cleaning"][i]["kept"].GetUint64(), c["steps"][i]["kept"].GetUint64());
        EXPECT_NE(html.find("<td>" + std::to_string(c["steps"][i]["kept"].GetUint64()) + "</td>"),
                  std::string::npos);
    }
    EXPECT_EQ(j["cleaning"][c["steps"].Size() - 1]["kept"].GetUint64(), c["rows_out"].GetUint64());
    // The k selection: the kept k is the recommended one.
    ASSERT_TRUE(j.HasMember("k_selection"));
    EXPECT_EQ(j["k_selection"]["recommended"].GetInt(), j["model"]["k"].GetInt());
    EXPECT_EQ(j["k_selection"]["candidates"].Size(), 2u);
    EXPECT_TRUE(std::filesystem::exists(out + "/k_selection.csv"));
    // Per language: at most 3 groups, their posts add up to every bin's posts and volumes.
    const auto& tot = j["topics_over_time"];
    const auto& groups = tot["split"]["groups"];
    EXPECT_STREQ(tot["split"]["by"].GetString(), "language");
    ASSERT_GE(groups.Size(), 2u);
    ASSERT_LE(groups.Size(), 3u);
    EXPECT_STREQ(groups[0]["name"].GetString(), "en");
    int64_t posts = 0;
    for (const auto& g : groups.GetArray()) posts += g["posts"].GetInt64();
    EXPECT_EQ(posts, j["corpus"]["documents"].GetInt64());
    for (rapidjson::SizeType b = 0; b < tot["bins"].Size(); ++b) {
        int64_t p = 0;
        std::vector<int64_t> vol(tot["bins"][b]["volume"].Size(), 0);
        for (const auto& g : groups.GetArray()) {
            p += g["bin_posts"][b].GetInt64();
            for (rapidjson::SizeType t = 0; t < vol.size(); ++t) vol[t] += g["volume"][b][t].GetInt64();
        }
        EXPECT_EQ(p, tot["bins"][b]["posts"].GetInt64()) << "bin " << b;
        for (rapidjson::SizeType t = 0; t < vol.size(); ++t)
            EXPECT_EQ(vol[t], tot["bins"][b]["volume"][t].GetInt64());
    }
    // export: the same funnel from --clean-report, a split by source, the tables.
    const std::string exp = bin + " export " + out + "/model --corpus " + out +
                            "/corpus.tmc --clean-report " + out +
                            "/clean.json --split source --format html -q --tables " +
                            d.file("tables") + " -o " + d.file("r.html") + " 2>>" + d.file("err.txt");
    ASSERT_EQ(sh(exp), 0) << read_bytes(d.file("err.txt"));
    const std::string html2 = read_bytes(d.file("r.html"));
    EXPECT_EQ(well_formed(html2), "");
    EXPECT_EQ(count(html2, "id=\"funnel-chart\""), 1u);
    EXPECT_EQ(count(html2, "id=\"split-chart\""), 1u);
    {
        // a corpus cleaned stage by stage: each --clean-report's steps, in order
        std::vector<rapidjson::SizeType> steps;
        for (const std::string reports : {" --clean-report " + out + "/clean.json",
                                          " --clean-report " + out + "/clean.json --clean-report " + out + "/clean.json"}) {
            ASSERT_EQ(sh(bin + " export " + out + "/model" + reports + " -q -o " + d.file("f.json") + " 2>>" +
                         d.file("err.txt")),
                      0)
                << read_bytes(d.file("err.txt"));
            rapidjson::Document fj;
            const std::string text = read_bytes(d.file("f.json"));
            ASSERT_FALSE(fj.Parse(text.c_str()).HasParseError());
            steps.push_back(fj["cleaning"].Size());
        }
        EXPECT_GT(steps[0], 0u);
        EXPECT_EQ(steps[1], 2 * steps[0]);
    }
    ASSERT_EQ(sh(bin + " export " + out + "/model --corpus " + out + "/corpus.tmc --split source -q -o " +
                 d.file("s.json") + " 2>>" + d.file("err.txt")),
              0);
    rapidjson::Document s;
    s.Parse(read_bytes(d.file("s.json")).c_str());
    const auto& sg = s["topics_over_time"]["split"]["groups"];
    ASSERT_EQ(sg.Size(), 8u);  // the 7 largest subreddits and "(other)"
    EXPECT_STREQ(sg[7]["name"].GetString(), "(other)");
    for (rapidjson::SizeType i = 0; i + 1 < sg.Size(); ++i) {
        EXPECT_EQ(std::string(sg[i]["name"].GetString()).find(".jsonl"), std::string::npos)
            << "sources are the subreddits, not the file";
        EXPECT_NE(html2.find(std::string(">") + sg[i]["name"].GetString() + "<"), std::string::npos);
        if (i > 0) EXPECT_LE(sg[i]["posts"].GetInt64(), sg[i - 1]["posts"].GetInt64());
    }
    EXPECT_TRUE(std::filesystem::exists(d.file("tables/time_series_by_source.csv")));
    // Errors: a split without a corpus, a language split of an uncleaned corpus, a bad report.
    EXPECT_NE(sh(bin + " export " + out + "/model --split source -q -o " + d.file("x.json") +
                 " 2>" + d.file("e1.txt")),
              0);
    EXPECT_NE(read_bytes(d.file("e1.txt")).find("--split needs --corpus"), std::string::npos);
    EXPECT_NE(sh(bin + " run " + kDemo + " --text-field body -k 3 --split language -q -o " +
                 d.file("o2") + " 2>" + d.file("e2.txt")),
              0);
    EXPECT_NE(read_bytes(d.file("e2.txt")).find("--split language"), std::string::npos);
    write_bytes(d.file("bad.json"), "{\"rows_in\": 3}");
    EXPECT_NE(sh(bin + " export " + out + "/model --clean-report " + d.file("bad.json") + " -q -o " +
                 d.file("y.json") + " 2>" + d.file("e3.txt")),
              0);
    EXPECT_NE(read_bytes(d.file("e3.txt")).find("bad.json: not a tmine clean report"),
              std::string::npos)
        << read_bytes(d.file("e3.txt"));
}
