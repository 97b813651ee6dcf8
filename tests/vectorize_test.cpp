// Vectorize: the tokenizer and TF-IDF against scikit-learn's TfidfVectorizer on real comments.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <sstream>

#include "test_util.hpp"
#include "tmine/classify.hpp"  // take_rows
#include "tmine/error.hpp"
#include "tmine/vectorize.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {

struct Expected {
    int64_t rows = 0, cols = 0, nnz = 0;
    std::vector<std::string> vocab;
    std::vector<int64_t> indptr;
    std::vector<int32_t> indices;
    std::vector<double> data;
};

Expected read_fixture(const std::string& name) {
    std::istringstream in(read_gunzipped(fixture(name)));
    Expected e;
    in >> e.rows >> e.cols >> e.nnz;
    std::string line;
    std::getline(in, line);
    for (int64_t c = 0; c < e.cols; ++c) {
        std::getline(in, line);
        e.vocab.push_back(line);
    }
    e.indptr.resize(e.rows + 1);
    for (auto& p : e.indptr) in >> p;
    e.indices.resize(e.nnz);
    e.data.resize(e.nnz);
    for (int64_t i = 0; i < e.nnz; ++i) in >> e.indices[i] >> e.data[i];
    return e;
}

void expect_matches_sklearn(const Vectorized& v, const Expected& e) {
    ASSERT_EQ(v.X.rows, e.rows);
    ASSERT_EQ(v.X.cols, e.cols);
    ASSERT_EQ(v.vocabulary.size(), e.vocab.size());
    for (size_t c = 0; c < e.vocab.size(); ++c)
        ASSERT_EQ(v.vocabulary[c], e.vocab[c]) << "vocabulary differs at column " << c;
    ASSERT_EQ(v.X.indptr, e.indptr);
    ASSERT_EQ(v.X.indices, e.indices);
    double worst = 0;
    for (int64_t i = 0; i < e.nnz; ++i)
        worst = std::max(worst, std::abs(v.X.data[i] - e.data[i]) / e.data[i]);
    EXPECT_LT(worst, 1e-6) << "largest relative difference to scikit-learn";
}

class SklearnTfidf : public ::testing::Test {
protected:
    void SetUp() override {
        TMINE_REQUIRE_DATA(kReddit);
        if (corpus_.size() == 0) corpus_ = reddit_head(2000);
        ASSERT_EQ(corpus_.size(), 2000u);
    }
    static Corpus corpus_;
};
Corpus SklearnTfidf::corpus_;

}  // namespace

TEST_F(SklearnTfidf, DefaultSettings) {
    VectorizeOptions o;  // scikit-learn defaults: no stop words, min_df 1, max_df 1.0
    o.tokenizer = TokenizerOptions::sklearn();
    auto v = vectorize(Context::cpu(), corpus_, o);
    expect_matches_sklearn(v, read_fixture("tfidf_reddit2000_default.txt.gz"));
}

TEST_F(SklearnTfidf, EnglishStopWordsDfLimitsSublinear) {
    VectorizeOptions o;
    o.tokenizer = TokenizerOptions::sklearn();
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("2", "--min-df");
    o.max_df = DfBound::parse("0.5", "--max-df");
    o.sublinear_tf = true;
    auto v = vectorize(Context::cpu(), corpus_, o);
    expect_matches_sklearn(v, read_fixture("tfidf_reddit2000_english.txt.gz"));
}

TEST_F(SklearnTfidf, ProportionMinDfAndMaxFeatures) {
    VectorizeOptions o;
    o.tokenizer = TokenizerOptions::sklearn();
    auto e = read_fixture("tfidf_reddit2000_maxfeat.txt.gz");
    o.min_df = DfBound::parse("0.001", "--min-df");
    o.max_features = e.cols;  // the generator picked a cut with no tie in term totals
    auto v = vectorize(Context::cpu(), corpus_, o);
    expect_matches_sklearn(v, e);
}

TEST_F(SklearnTfidf, ThreadCountDoesNotChangeTheResult) {
    VectorizeOptions o;
    auto a = vectorize(Context::cpu(1), corpus_, o);
    auto b = vectorize(Context::cpu(2), corpus_, o);
    EXPECT_EQ(a.vocabulary, b.vocabulary);
    EXPECT_EQ(a.X.indptr, b.X.indptr);
    EXPECT_EQ(a.X.indices, b.X.indices);
    EXPECT_EQ(a.X.data, b.X.data);
}

TEST(Tokenize, SklearnTokenRuleUnicodeAware) {
    std::vector<std::string> t;
    tokenize("Hello, WORLD! l'été Ça_va 42 a x2 naïve ÉCOLE — 東京タワー", t);
    std::vector<std::string> want = {"hello", "world", "été", "ça_va", "42", "x2", "naïve",
                                     "école", "東京タワー"};
    EXPECT_EQ(t, want);
}

TEST(Tokenize, PythonLowerCaseSpecialCases) {
    // str.lower(): U+0130 becomes "i" + U+0307, a combining mark that ends the token;
    // a capital sigma at the end of a word becomes the final form U+03C2.
    std::vector<std::string> t;
    tokenize("\u0130stanbul K\u0130\u015e\u0130 \u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3", t);
    std::vector<std::string> want = {"stanbul", "ki", "\u015fi",
                                     "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c2"};
    EXPECT_EQ(t, want);
}

TEST(Tokenize, PunctuationEmojiAndUrlsSplit) {
    std::vector<std::string> t;
    tokenize("see https://www.example.com/a-b?x=1 😀😀 #tag @user", t);
    std::vector<std::string> want = {"see", "https", "www", "example", "com", "tag", "user"};
    EXPECT_EQ(t, want);
}

TEST(Vectorize, EmptyCorpusIsAClearError) {
    Corpus c;
    EXPECT_THROW(vectorize(Context::cpu(), c, VectorizeOptions{}), InputError);
}

TEST(Vectorize, PruningEverythingIsAClearError) {
    Corpus c;
    c.add("only once words here", kNoTime, "", "", 0);
    c.add("other distinct tokens", kNoTime, "", "", 0);
    c.sources.push_back("x");
    VectorizeOptions o;
    o.min_df = DfBound::parse("2", "--min-df");
    try {
        vectorize(Context::cpu(), c, o);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("no terms remain"), std::string::npos) << e.what();
    }
}

TEST(Vectorize, DfBoundParsing) {
    EXPECT_FALSE(DfBound::parse("5", "--min-df").proportion);
    EXPECT_TRUE(DfBound::parse("0.5", "--max-df").proportion);
    EXPECT_TRUE(DfBound::parse("1.0", "--max-df").proportion);
    EXPECT_EQ(DfBound::parse("0.5", "--max-df").to_count(11, false), 5);
    EXPECT_EQ(DfBound::parse("0.5", "--min-df").to_count(11, true), 6);
    EXPECT_THROW(DfBound::parse("abc", "--min-df"), InputError);
    EXPECT_THROW(DfBound::parse("1.5", "--max-df"), InputError);
    EXPECT_THROW(DfBound::parse("-1", "--min-df"), InputError);
}

TEST(Vectorize, StopWordFileAndUnknownSpec) {
    TempDir d;
    {
        std::ofstream f(d.file("stop.txt"));
        // A byte-order mark, comments ('#' then a blank), and a hashtag, which is a word.
        f << "\xEF\xBB\xBF# comment\nThe\n  Été  \n#spam\nmerci  # thanks\n#\n";
    }
    auto w = load_stop_words(d.file("stop.txt"), TokenizerOptions{});
    EXPECT_EQ(w, (std::vector<std::string>{"#spam", "merci", "the", "été"}));
    // scikit-learn's pattern has no hashtags: the word goes
    EXPECT_EQ(load_stop_words(d.file("stop.txt")), (std::vector<std::string>{"merci", "spam", "the", "été"}));
    // scikit-learn's 318 words minus "i" and "a": single letters are never tokens.
    EXPECT_EQ(load_stop_words("english").size(), 316u);
    EXPECT_THROW(load_stop_words(d.file("missing.txt")), InputError);
}

/// The message of the InputError `fn` throws ("" when it throws none).
template <class Fn>
std::string input_error(Fn fn) {
    try {
        fn();
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

TEST(Vectorize, StopWordFileWithInvalidUtf8NamesTheLine) {
    TempDir d;
    write_bytes(d.file("stop.txt"), "the\n# \xC3\xA9t\xC3\xA9 in a comment is fine\n\xE9t\xE9\n");  // Latin-1 "été"
    const std::string e = input_error([&] { load_stop_words(d.file("stop.txt")); });
    EXPECT_NE(e.find(d.file("stop.txt") + ":3: invalid UTF-8"), std::string::npos) << e;
    EXPECT_NE(e.find("byte 1"), std::string::npos) << e;
}

TEST(Vectorize, VocabularyFileErrorsNameTheLine) {
    TempDir d;
    std::vector<std::string> terms;
    std::vector<double> idf;
    auto error_of = [&](const std::string& content) {
        write_bytes(d.file("v.csv"), content);
        return input_error([&] { read_vocabulary_csv(d.file("v.csv"), terms, idf); });
    };
    const std::string v = d.file("v.csv");
    std::string e = error_of("term,df,idf\ncat,1,1.5\nd\xC3g,2,1.2\n");  // a lone lead byte
    EXPECT_NE(e.find(v + ":3: invalid UTF-8 in the term (byte 2)"), std::string::npos) << e;
    e = error_of("term\n\"\xED\xA0\x80\"\n");  // a UTF-16 surrogate, quoted
    EXPECT_NE(e.find(v + ":2: invalid UTF-8"), std::string::npos) << e;
    e = error_of("term\ndog\ncat\n\n\"dog\"\n");
    EXPECT_NE(e.find(v + ":5: term 'dog' appears twice (first at line 2)"), std::string::npos) << e;
    e = error_of("term\ncat\n\"a\nb\"\n\"dog,1\nfish\n");  // the quote opens on line 5
    EXPECT_NE(e.find(v + ":5: unterminated quoted field"), std::string::npos) << e;
    // a good file with every case above done right still reads
    EXPECT_EQ(error_of("term,df,idf\n\"d\xC3\xA9j\xC3\xA0\",1,2\n\"a\nb\",1,1.5\ncat,2,1.25\n"), "");
    EXPECT_EQ(terms, (std::vector<std::string>{"a\nb", "cat", "d\xC3\xA9j\xC3\xA0"}));
    EXPECT_EQ(idf, (std::vector<double>{1.5, 1.25, 2}));
}

TEST(Vectorize, Utf8ErrorAtFindsTheFirstBadByte) {
    EXPECT_EQ(utf8_error_at(""), std::string_view::npos);
    EXPECT_EQ(utf8_error_at("d\xC3\xA9j\xC3\xA0 vu \xF0\x9F\x98\x80"), std::string_view::npos);
    EXPECT_EQ(utf8_error_at("abc\xFF"), 3u);
    EXPECT_EQ(utf8_error_at("ab\xC3"), 2u);             // truncated
    EXPECT_EQ(utf8_error_at("a\xC0\xAF"), 1u);         // overlong '/'
    EXPECT_EQ(utf8_error_at("\xED\xA0\x80"), 0u);      // surrogate
    EXPECT_EQ(utf8_error_at("x\xF4\x90\x80\x80"), 1u); // above U+10FFFF
    EXPECT_EQ(utf8_error_at("\xE9t\xE9"), 0u);          // Latin-1
}

TEST(Vectorize, MatrixFileRoundTripAndCorruption) {
    Corpus c;
    c.sources.push_back("x");
    c.add("the cat sat on the mat", kNoTime, "", "", 0);
    c.add("the dog sat", kNoTime, "", "", 0);
    c.add("", kNoTime, "", "", 0);
    auto v = vectorize(Context::cpu(), c, VectorizeOptions{});
    TempDir d;
    write_matrix(v, d.file("m.tmx"));
    auto r = read_matrix(d.file("m.tmx"));
    EXPECT_EQ(r.vocabulary, v.vocabulary);
    EXPECT_EQ(r.X.indptr, v.X.indptr);
    EXPECT_EQ(r.X.data, v.X.data);
    EXPECT_EQ(r.idf, v.idf);
    EXPECT_EQ(r.X.indptr[3] - r.X.indptr[2], 0) << "an empty document is an empty row";
    // Truncate: a clear InputError, not a crash.
    std::filesystem::resize_file(d.file("m.tmx"), std::filesystem::file_size(d.file("m.tmx")) / 2);
    EXPECT_THROW(read_matrix(d.file("m.tmx")), InputError);
}

// A distributed fit's share of a matrix file: each part's rows are the whole matrix's rows of
// split_rows(), the rest of the file whole; a damaged byte anywhere fails every part (the
// checksum covers the rows a part skips); more parts than rows is an error naming processes.
TEST(Vectorize, MatrixFileRowsOfEachPart) {
    Corpus c;
    c.sources.push_back("x");
    const char* words[] = {"cat", "dog", "sat", "mat", "ran", "far", "sun", "sea", "red", "blue"};
    for (int i = 0; i < 97; ++i) {
        std::string text;
        for (int w = 0; w <= i % 7; ++w) text += std::string(words[(i * 3 + w * 5) % 10]) + " ";
        c.add(i % 11 == 0 ? "" : text, kNoTime, "", "", 0);
    }
    const auto v = vectorize(Context::cpu(), c, VectorizeOptions{});
    TempDir d;
    write_matrix(v, d.file("m.tmx"));
    for (int parts : {1, 2, 3, 7, 97}) {
        const RowSplit want = split_rows(v.X.indptr, parts);
        ASSERT_EQ(want.parts(), parts);
        ASSERT_EQ(want.rows(), v.X.rows);
        EXPECT_EQ(want.nnz, v.X.nnz());
        int64_t nnz = 0;
        for (int part = 0; part < parts; ++part) {
            RowSplit got;
            const Vectorized r = read_matrix_rows(d.file("m.tmx"), parts, part, got);
            EXPECT_EQ(got.first, want.first) << parts;
            EXPECT_EQ(got.nnz, v.X.nnz());
            ASSERT_GE(want.first[part + 1] - want.first[part], 1) << "every part holds a row";
            std::vector<int64_t> rows;
            for (int64_t i = want.first[part]; i < want.first[part + 1]; ++i) rows.push_back(i);
            const CsrMatrix mine = take_rows(v.X, rows);
            EXPECT_EQ(r.X.rows, mine.rows);
            EXPECT_EQ(r.X.cols, v.X.cols);
            EXPECT_EQ(r.X.indptr, mine.indptr) << parts << " parts, part " << part;
            EXPECT_EQ(r.X.indices, mine.indices) << parts << " parts, part " << part;
            EXPECT_EQ(r.X.data, mine.data) << parts << " parts, part " << part;
            EXPECT_EQ(r.vocabulary, v.vocabulary);
            EXPECT_EQ(r.idf, v.idf);
            EXPECT_EQ(r.df, v.df);
            nnz += r.X.nnz();
        }
        EXPECT_EQ(nnz, v.X.nnz()) << parts;
    }
    RowSplit s;
    try {
        read_matrix_rows(d.file("m.tmx"), 98, 0, s);
        ADD_FAILURE() << "98 parts of 97 rows";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("98 processes but only 97 documents"), std::string::npos) << e.what();
    }
    // The last value of the matrix, in the last part's rows: the first part's read fails too.
    // (magic, version, rows, cols; then each vector's length and elements: indptr, indices, values)
    std::string bytes = read_bytes(d.file("m.tmx"));
    const size_t n = size_t(v.X.rows), nnz = size_t(v.X.nnz());
    const size_t at = 24 + 8 + (n + 1) * 8 + 8 + nnz * 4 + 8 + (nnz - 1) * 4;
    const float last = v.X.data.back();
    ASSERT_EQ(bytes.compare(at, 4, std::string(reinterpret_cast<const char*>(&last), sizeof last)), 0);
    bytes[at + 1] ^= 0x01;
    write_bytes(d.file("bad.tmx"), bytes);
    try {
        read_matrix_rows(d.file("bad.tmx"), 3, 0, s);
        ADD_FAILURE() << "a damaged byte outside part 0's rows";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
    }
}

// The CPU's path (tokens sorted in place, weighted straight from them) equals the reference
// term-count matrix route that the CUDA twin is compared with, bit for bit, on real comments.
TEST(Vectorize, SortedTokenPathEqualsTheCountMatrixRoute) {
    TMINE_REQUIRE_DATA(kReddit);
    Corpus c = reddit_head(20000);
    for (bool sublinear : {false, true}) {
        VectorizeOptions o;
        o.stop_words = load_stop_words("english");
        o.ngram_max = 2;
        Context ctx = Context::cpu();
        Tokenized tok = tokenize_corpus(ctx, c, o);
        TermCounts ref = cpu_impl::count_terms(ctx, tok);
        std::vector<int32_t> df;
        std::vector<int64_t> total;
        cpu_impl::count_sorted(ctx, tok, df, total);
        EXPECT_EQ(df, ref.df);
        EXPECT_EQ(total, ref.total);
        // keep every other term with df >= 2, so the renumbering is exercised
        std::vector<int32_t> keep(df.size(), -1);
        int32_t kept = 0;
        for (size_t t = 0; t < df.size(); ++t)
            if (df[t] >= 2 && t % 2 == 0) keep[t] = kept++;
        std::vector<double> idf = smooth_idf(std::vector<int32_t>(kept, 3), int64_t(c.size()));
        for (int32_t i = 0; i < kept; ++i) idf[i] += 0.01 * i;
        CsrMatrix a = cpu_impl::tfidf(ctx, ref.counts, keep, kept, idf, sublinear);
        CsrMatrix b = cpu_impl::tfidf_sorted(ctx, tok, keep, kept, idf, sublinear);
        EXPECT_EQ(a.indptr, b.indptr);
        EXPECT_EQ(a.indices, b.indices);
        EXPECT_EQ(a.data, b.data) << "sublinear " << sublinear;
        EXPECT_GT(b.nnz(), 100000);
    }
}

// --chunk-tokens: counting in chunks of whole documents (how the GPU bounds its memory) gives
// the matrix of one pass, on fresh vocabulary and on a fixed one; a document longer than the
// chunk is a chunk of its own.
TEST(Vectorize, ChunkedCountingEqualsOnePass) {
    TMINE_REQUIRE_DATA(kReddit);
    Corpus c = reddit_head(20000);
    VectorizeOptions o;
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("2", "--min-df");
    o.sublinear_tf = true;
    Context ctx = Context::cpu();
    Vectorized one = vectorize(ctx, c, o);
    for (int64_t chunk : {int64_t(1), int64_t(977), int64_t(50000)}) {
        VectorizeOptions oc = o;
        oc.chunk_tokens = chunk;
        Vectorized v = vectorize(ctx, c, oc);
        EXPECT_EQ(v.vocabulary, one.vocabulary) << chunk;
        EXPECT_EQ(v.df, one.df);
        EXPECT_EQ(v.X.indptr, one.X.indptr);
        EXPECT_EQ(v.X.indices, one.X.indices);
        EXPECT_EQ(v.X.data, one.X.data) << "chunks of " << chunk << " tokens";
        Vectorized f = vectorize_fixed(ctx, c, one.vocabulary, one.idf, oc);
        EXPECT_EQ(f.X.indices, one.X.indices);
        EXPECT_EQ(f.X.data, one.X.data);
    }
    VectorizeOptions bad = o;
    bad.chunk_tokens = -1;
    EXPECT_THROW(vectorize(ctx, c, bad), InputError);
}
