// The boolean query language: hand-written cases (operators, precedence, phrases, prefixes,
// French accents and elisions), parse errors with their column, masks over real tweets and
// the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_util.hpp"
#include "tmine/query.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {

bool m(const std::string& query, const std::string& text, QueryOptions o = {}) {
    return Query::parse(query, o).matches(text);
}

/// The column a parse error reports (0 when it parses).
size_t error_column(const std::string& query, std::string* message = nullptr) {
    try {
        Query::parse(query);
    } catch (const QueryError& e) {
        if (message) *message = e.what();
        return e.column();
    }
    return 0;
}

}  // namespace

TEST(Query, OperatorsAndPrecedence) {
    const std::string q = "netflix OR (streaming AND NOT spotify)";
    EXPECT_TRUE(m(q, "Watching Netflix tonight"));
    EXPECT_TRUE(m(q, "streaming on my laptop"));
    EXPECT_FALSE(m(q, "streaming music on Spotify"));
    EXPECT_TRUE(m(q, "Netflix and Spotify"));
    EXPECT_FALSE(m(q, "nothing relevant here"));
    // NOT binds tighter than AND, AND tighter than OR
    EXPECT_TRUE(m("a1 OR b1 AND c1", "a1"));
    EXPECT_FALSE(m("a1 OR b1 AND c1", "b1"));
    EXPECT_FALSE(m("(a1 OR b1) AND c1", "a1"));
    EXPECT_TRUE(m("NOT spotify AND music", "music for all"));
    EXPECT_FALSE(m("NOT spotify AND music", "spotify music"));
    EXPECT_TRUE(m("NOT NOT music", "music"));
    // "-" before a term, phrase or group is NOT (web search's exclusion), not inside a word
    EXPECT_TRUE(m("game -play", "a game to watch"));
    EXPECT_FALSE(m("game -play", "play the game"));
    EXPECT_FALSE(m("netflix -\"chill\"", "netflix and chill"));
    EXPECT_FALSE(m("netflix -(hulu OR spotify)", "netflix or spotify"));
    EXPECT_TRUE(m("netflix -(hulu OR spotify)", "netflix tonight"));
    EXPECT_TRUE(m("e-mail", "send an e-mail"));
    EXPECT_EQ(Query::parse("game -play").describe(), Query::parse("game AND NOT play").describe());
    // side by side means AND, whatever the space between them (a no-break space pasted from
    // a web page, an ideographic space, a line separator)
    EXPECT_TRUE(m("disney plus", "plus: disney is here"));
    for (const char* space : {"\xC2\xA0", "\xE3\x80\x80", "\xE2\x80\xA8", "\xE2\x80\x89"}) {
        EXPECT_EQ(Query::parse(std::string("disney") + space + "plus").describe(), "(disney AND plus)");
        EXPECT_TRUE(m(std::string("disney") + space + "plus", "plus: disney is here"));
    }
    EXPECT_FALSE(m("disney plus", "disney only"));
    // lower-case operators are words
    EXPECT_FALSE(m("netflix or hulu", "hulu"));
    EXPECT_EQ(Query::parse("netflix OR (streaming AND NOT spotify)").describe(),
              "(netflix OR (streaming AND NOT spotify))");
}

TEST(Query, PhrasesAndPrefixes) {
    EXPECT_TRUE(m("\"séries en ligne\"", "J'adore regarder des séries en ligne !"));
    EXPECT_FALSE(m("\"séries en ligne\"", "des séries, mais pas en ligne"));
    EXPECT_FALSE(m("\"séries en ligne\"", "en ligne: des séries"));
    EXPECT_TRUE(m("\"séries en ligne\"", "SÉRIES EN LIGNE"));
    EXPECT_TRUE(m("stream*", "Streaming is great"));
    EXPECT_TRUE(m("stream*", "two streams"));
    EXPECT_TRUE(m("stream*", "stream"));
    EXPECT_FALSE(m("stream*", "upstream only"));
    EXPECT_TRUE(m("\"regarder stream*\"", "regarder streaming"));
    EXPECT_FALSE(m("\"regarder stream*\"", "streaming regarder"));
    // a hashtag matches its word; a number is searchable
    EXPECT_TRUE(m("netflix", "Love #Netflix"));
    EXPECT_TRUE(m("2022 AND netflix", "netflix price in 2022"));
    // a domain matches a link to it and the name written out
    for (const char* q : {"netflix.com", "www.netflix.com", "https://netflix.com", "Netflix.COM"}) {
        EXPECT_TRUE(m(q, "watch https://www.netflix.com/title/123 now")) << q;
        EXPECT_TRUE(m(q, "I saw it on netflix.com yesterday")) << q;
        EXPECT_FALSE(m(q, "netflix is great")) << q;
        EXPECT_FALSE(m(q, "https://www.netflix.fr/title/1")) << q;
    }
    EXPECT_EQ(Query::parse("netflix.com").describe(), "(\"netflix com\" OR netflix.com)");
    // a phrase word with no token is matched without, and said
    const Query vd = Query::parse("\"vitamin d\" OR x2");
    EXPECT_TRUE(vd.matches("vitamin c is good"));
    ASSERT_EQ(vd.warnings().size(), 1u);
    EXPECT_NE(vd.warnings()[0].find("'d' (column 10) in the phrase has no searchable token"), std::string::npos)
        << vd.warnings()[0];
    EXPECT_TRUE(Query::parse("\"séries en ligne\"").warnings().empty());
    EXPECT_TRUE(Query::parse("\"rock & roll\"").warnings().empty()) << "punctuation is not a word";
    // a lower-case operator is a word, and said to be one
    const Query lo = Query::parse("netflix or hulu");
    ASSERT_EQ(lo.warnings().size(), 1u);
    EXPECT_EQ(lo.warnings()[0], "'or' (column 9) is searched as a word: the operators are AND, OR, NOT in capitals");
    EXPECT_TRUE(Query::parse("netflix OR hulu AND NOT \"or\" orange").warnings().empty());
    // only a host name is a domain: a path or a number stays a phrase
    EXPECT_EQ(Query::parse("reddit.com/r/netflix").describe(), "\"reddit com netflix\"");
    EXPECT_FALSE(m("reddit.com/r/netflix", "https://www.reddit.com/r/movies"));
    EXPECT_EQ(Query::parse("3.14").describe(), "\"3 14\"");
}

TEST(Query, FrenchAccentsAndElisions) {
    // accents folded both ways unless accent-sensitive
    EXPECT_TRUE(m("télé", "la tele ce soir"));
    EXPECT_TRUE(m("tele", "LA TÉLÉ ce soir"));
    EXPECT_TRUE(m("series", "mes séries préférées"));
    QueryOptions exact;
    exact.accent_sensitive = true;
    EXPECT_FALSE(m("télé", "la tele ce soir", exact));
    EXPECT_TRUE(m("télé", "la TÉLÉ ce soir", exact));
    // decomposed accents (e + U+0301) are the same letter
    EXPECT_TRUE(m("séries", "se\xCC\x81ries"));
    // elided articles and pronouns, with ' and ’
    EXPECT_TRUE(m("abonnement", "fin d'abonnement"));
    EXPECT_TRUE(m("abonnement", "fin d’abonnement"));
    EXPECT_TRUE(m("amour", "L’amour est dans le pré"));
    EXPECT_TRUE(m("il", "parce qu’il pleut"));
    EXPECT_TRUE(m("\"qu'il pleut\"", "parce qu’il pleut"));
    EXPECT_TRUE(m("\"l'abonnement netflix\"", "j’ai résilié l’abonnement Netflix"));
    EXPECT_TRUE(m("\"jusqu'à demain\"", "jusqu’à demain"));
    // "qu" alone is never a token: the elided word is gone
    EXPECT_FALSE(m("qu*", "qu’il pleut"));
    // a non-elided apostrophe word keeps its parts
    EXPECT_TRUE(m("\"aujourd'hui\"", "aujourd’hui"));
    EXPECT_TRUE(m("résilier AND NOT \"séries en ligne\"", "Je vais résilier mon abonnement"));
}

TEST(Query, ParseErrorsNameTheColumn) {
    std::string msg;
    EXPECT_EQ(error_column("netflix AND", &msg), 12u);
    EXPECT_NE(msg.find("AND needs a term"), std::string::npos) << msg;
    EXPECT_NE(msg.find("column 12"), std::string::npos) << msg;
    EXPECT_NE(msg.find("           ^"), std::string::npos) << msg;  // caret under column 12
    EXPECT_EQ(error_column("(netflix OR hulu", &msg), 1u);
    EXPECT_NE(msg.find("never closed"), std::string::npos) << msg;
    EXPECT_EQ(error_column("netflix) OR hulu", &msg), 8u);
    EXPECT_NE(msg.find("')'"), std::string::npos) << msg;
    EXPECT_EQ(error_column("netflix OR \"séries en", &msg), 12u);
    EXPECT_NE(msg.find("unterminated"), std::string::npos) << msg;
    EXPECT_EQ(error_column("OR netflix", &msg), 1u);
    EXPECT_EQ(error_column("séries AND OR films"), 12u);  // columns count code points
    EXPECT_EQ(error_column("stre*am", &msg), 5u);
    EXPECT_NE(msg.find("'*'"), std::string::npos) << msg;
    EXPECT_EQ(error_column("netflix AND a", &msg), 13u);
    EXPECT_NE(msg.find("no searchable token"), std::string::npos) << msg;
    EXPECT_EQ(error_column("netflix OR ()", &msg), 13u);
    EXPECT_EQ(error_column("   ", &msg), 4u);
    EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
    EXPECT_EQ(error_column("netflix NOT"), 12u);
    EXPECT_EQ(error_column("\"\""), 1u);
    EXPECT_EQ(error_column("netflix OR (hulu AND disney) AND NOT (spotify OR deezer)"), 0u);
}

TEST(Query, InvalidUtf8IsAnErrorAtItsColumn) {
    std::string msg;
    EXPECT_EQ(error_column("netflix OR s\xE9ries", &msg), 13u);  // Latin-1 "séries"
    EXPECT_NE(msg.find("invalid UTF-8 (byte 0xE9) at column 13"), std::string::npos) << msg;
    EXPECT_EQ(error_column("s\xC3\xA9ries AND \xFF", &msg), 12u);  // columns count code points
    EXPECT_NE(msg.find("invalid UTF-8 (byte 0xFF)"), std::string::npos) << msg;
    EXPECT_EQ(error_column("\"s\xC3\xA9ries en ligne\" OR caf\xC3"), 25u);  // truncated sequence
    EXPECT_EQ(error_column("s\xC3\xA9ries"), 0u);
}

TEST(Query, MasksOnRealTweetsFollowBooleanAlgebra) {
    TMINE_REQUIRE_DATA("twcs-customer-support-sample.csv.gz");
    IngestOptions o;
    o.text_field = "text";
    o.id_field = "tweet_id";
    Corpus c;
    ingest({data_file("twcs-customer-support-sample.csv.gz")}, o, c);
    ASSERT_GT(c.size(), 4000u);
    Context ctx = Context::cpu();
    auto mask = [&](const std::string& q) { return query_mask(ctx, c, Query::parse(q)); };
    auto count = [](const std::vector<uint8_t>& v) { return std::count(v.begin(), v.end(), 1); };
    auto a = mask("refund*"), b = mask("order"), aob = mask("refund* OR order"),
         aab = mask("refund* AND order"), anb = mask("refund* AND NOT order"),
         exact = mask("refund");
    ASSERT_EQ(a.size(), c.size());
    EXPECT_GT(count(a), 10);
    EXPECT_GT(count(b), 10);
    for (size_t i = 0; i < c.size(); ++i) {
        EXPECT_EQ(aob[i], a[i] | b[i]) << i;
        EXPECT_EQ(aab[i], a[i] & b[i]) << i;
        EXPECT_EQ(anb[i], a[i] & !b[i]) << i;
        EXPECT_LE(exact[i], a[i]) << i;  // refund implies refund*
        // a matching post holds the word somewhere (case-insensitive)
        if (a[i]) {
            std::string t(c.text[i]);
            std::transform(t.begin(), t.end(), t.begin(), ::tolower);
            EXPECT_NE(t.find("refund"), std::string::npos) << t;
        }
    }
    EXPECT_GT(count(a), count(exact));  // refunds, refunded, ...
    // mentions are their own tokens: @AmazonHelp posts all contain it
    auto amz = mask("@amazonhelp");
    EXPECT_GT(count(amz), 10);
    for (size_t i = 0; i < c.size(); ++i)
        if (amz[i]) {
            std::string t(c.text[i]);
            std::transform(t.begin(), t.end(), t.begin(), ::tolower);
            EXPECT_NE(t.find("@amazonhelp"), std::string::npos) << t;
        }
}

TEST(Query, MaskFileRoundTripAndErrors) {
    TempDir d;
    std::vector<uint8_t> v = {1, 0, 0, 1, 1};
    write_mask(d.file("m.txt"), v);
    EXPECT_EQ(read_bytes(d.file("m.txt")), "1\n0\n0\n1\n1\n");
    EXPECT_EQ(read_mask(d.file("m.txt")), v);
    write_bytes(d.file("bad.txt"), "1\n0\nyes\n");
    try {
        read_mask(d.file("bad.txt"));
        FAIL() << "expected an InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.txt:3"), std::string::npos) << e.what();
    }
}

TEST(Query, CommandLineWritesOneLinePerRowAndReportsErrors) {
    TempDir d;
    Corpus c;
    c.sources.push_back("t");
    const char* texts[] = {"J'adore Netflix", "streaming sur Spotify", "des séries en ligne",
                           "rien à voir", "le streaming d’aujourd’hui"};
    for (int i = 0; i < 5; ++i) c.add(texts[i], kNoTime, "id" + std::to_string(i), "", 0);
    write_corpus(c, d.file("c.tmc"));
    std::string cmd = std::string(TMINE_BINARY) + " query " + d.file("c.tmc") +
                      " 'netflix OR (streaming AND NOT spotify) OR \"series en ligne\"' -q -o " +
                      d.file("mask.txt") + " 2>" + d.file("err.txt");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << read_bytes(d.file("err.txt"));
    EXPECT_EQ(read_bytes(d.file("mask.txt")), "1\n0\n1\n0\n1\n");
    cmd = std::string(TMINE_BINARY) + " query " + d.file("c.tmc") + " 'netflix AND (hulu' -o " +
          d.file("mask2.txt") + " 2>" + d.file("err.txt");
    int status = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(status), 1);
    std::string err = read_bytes(d.file("err.txt"));
    EXPECT_NE(err.find("tmine: error: query:"), std::string::npos) << err;
    EXPECT_NE(err.find("column 13"), std::string::npos) << err;
    EXPECT_FALSE(std::ifstream(d.file("mask2.txt")).good());
}
