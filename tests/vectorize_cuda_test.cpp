// CUDA twin of vectorize vs the CPU reference on the same real input: the vocabulary, the
// structure and every float value must be identical (labelled gpu; skipped without a GPU).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "test_util.hpp"
#include "tmine/vectorize.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {
void expect_identical(const Vectorized& a, const Vectorized& b) {
    ASSERT_EQ(a.vocabulary, b.vocabulary);
    ASSERT_EQ(a.df, b.df);
    ASSERT_EQ(a.X.indptr, b.X.indptr);
    ASSERT_EQ(a.X.indices, b.X.indices);
    ASSERT_EQ(a.X.data.size(), b.X.data.size());
    for (size_t i = 0; i < a.X.data.size(); ++i)
        ASSERT_EQ(a.X.data[i], b.X.data[i]) << "value " << i << " differs";
}
}  // namespace

TEST(VectorizeCuda, IdenticalToCpuOnRealComments) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c = reddit_head(50000);
    for (bool sublinear : {false, true}) {
        VectorizeOptions o;
        o.stop_words = load_stop_words("english");
        o.min_df = DfBound::parse("3", "--min-df");
        o.max_df = DfBound::parse("0.5", "--max-df");
        o.sublinear_tf = sublinear;
        auto cpu = vectorize(Context::cpu(), c, o);
        auto cuda = vectorize(gpu, c, o);
        EXPECT_EQ(cuda.device, "cuda");
        expect_identical(cpu, cuda);
    }
}

TEST(VectorizeCuda, CountsIdenticalIncludingEmptyDocuments) {
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c;
    c.sources.push_back("x");
    for (const char* t : {"", "one two two three", "", "three three three", "!!", "two"})
        c.add(t, kNoTime, "", "", 0);
    VectorizeOptions o;
    Tokenized tok = tokenize_corpus(Context::cpu(), c, o);
    TermCounts a = cpu_impl::count_terms(Context::cpu(), tok);
    TermCounts b = cuda_impl::count_terms(gpu, tok);
    EXPECT_EQ(a.counts.indptr, b.counts.indptr);
    EXPECT_EQ(a.counts.indices, b.counts.indices);
    EXPECT_EQ(a.counts.data, b.counts.data);
    EXPECT_EQ(a.df, b.df);
    EXPECT_EQ(a.total, b.total);
    // Counting and weighting with the counts kept on the device: the CPU's tfidf of its counts,
    // with a column dropped (renumbering) and idf chosen from the device's df and totals.
    for (bool sublinear : {false, true}) {
        std::vector<int32_t> seen_df;
        std::vector<int64_t> seen_total;
        const cuda_impl::WeightChoice choose = [&](const std::vector<int32_t>& df, const std::vector<int64_t>& total,
                                        std::vector<int32_t>& keep, int32_t& n_kept, std::vector<double>& idf) {
            seen_df = df;
            seen_total = total;
            keep.assign(df.size(), -1);
            n_kept = 0;
            for (size_t t = 1; t < df.size(); ++t) keep[t] = n_kept++;  // term 0 dropped
            idf.assign(n_kept, 0.0);
            for (int32_t k = 0; k < n_kept; ++k) idf[k] = 1.5 + 0.25 * k;
        };
        CsrMatrix g = cuda_impl::count_and_weigh(gpu, TokenSpan::of(tok, 0, 6), choose, sublinear);
        EXPECT_EQ(seen_df, a.df);
        EXPECT_EQ(seen_total, a.total);
        std::vector<int32_t> keep;
        int32_t n_kept = 0;
        std::vector<double> idf;
        choose(a.df, a.total, keep, n_kept, idf);
        CsrMatrix c = cpu_impl::tfidf(Context::cpu(), a.counts, keep, n_kept, idf, sublinear);
        EXPECT_EQ(g.rows, c.rows);
        EXPECT_EQ(g.cols, c.cols);
        EXPECT_EQ(g.indptr, c.indptr);
        EXPECT_EQ(g.indices, c.indices);
        EXPECT_EQ(g.data, c.data);
    }
}

TEST(VectorizeCuda, ChunkedCountingEqualsTheCpu) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c = reddit_head(20000);
    VectorizeOptions o;
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("2", "--min-df");
    for (bool sublinear : {false, true}) {
        o.sublinear_tf = sublinear;
        o.chunk_tokens = 0;
        Vectorized cpu = vectorize(Context::cpu(), c, o);
        o.chunk_tokens = 5000;  // many chunks: device memory bounded by the chunk
        Vectorized g = vectorize(gpu, c, o);
        EXPECT_EQ(g.vocabulary, cpu.vocabulary) << "sublinear " << sublinear;
        EXPECT_EQ(g.X.indptr, cpu.X.indptr) << "sublinear " << sublinear;
        EXPECT_EQ(g.X.indices, cpu.X.indices) << "sublinear " << sublinear;
        EXPECT_EQ(g.X.data, cpu.X.data) << "sublinear " << sublinear;
    }
}

// The GPU tokenizer (kernels/tokenize_cuda.cu) equals the CPU one: first its chunk level, with
// a mapper whose items depend only on each chunk's bytes, on batches of real comments and on
// texts that test the separators' edges; then whole corpora through tokenize_corpus().
TEST(TokenizeCuda, ChunksEqualTheCpuTwin) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c = reddit_head(20000);
    for (const char* t : {"", "  \n\n ", "x", "a\nb\r\nc ( [d] ) \"e\"", "end with space "})
        c.add(t, kNoTime, "", "", 0);
    // Items: the chunk's length and a hash of all its bytes, so an occurrence expanded to
    // another distinct chunk shows.
    const chunking::Mapper map = [](const std::string& bytes, const std::vector<int64_t>& off,
                                    chunking::Items& out) {
        for (size_t i = 0; i + 1 < off.size(); ++i) {
            uint32_t h = 2166136261u;
            for (int64_t b = off[i]; b < off[i + 1]; ++b) h = (h ^ static_cast<unsigned char>(bytes[b])) * 16777619u;
            out.items.push_back(static_cast<int32_t>(off[i + 1] - off[i]));
            out.items.push_back(static_cast<int32_t>(h & 0x7fffffff));
            out.ptr.push_back(static_cast<int64_t>(out.items.size()));
        }
    };
    const int64_t n = static_cast<int64_t>(c.size());
    for (bool sk : {false, true}) {
        TokenizerOptions o;
        o.sklearn_compatible = sk;
        const chunking::Plan plan = chunking::plan(o);
        for (auto [first, last] : {std::pair<int64_t, int64_t>{0, n}, {1000, 5000}, {n - 5, n}, {7, 7}}) {
            std::vector<int64_t> cpu_ptr, gpu_ptr;
            std::vector<int32_t> cpu_items, gpu_items;
            ASSERT_TRUE(cpu_impl::tokenize_chunks(Context::cpu(), c, first, last, plan, map, cpu_ptr, cpu_items));
            ASSERT_TRUE(cuda_impl::tokenize_chunks(gpu, c, first, last, plan, map, gpu_ptr, gpu_items));
            EXPECT_EQ(cpu_ptr, gpu_ptr) << first << ".." << last;
            EXPECT_TRUE(cpu_items == gpu_items) << first << ".." << last;
        }
    }
}

TEST(TokenizeCuda, TokenizeCorpusIdenticalToCpu) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c = reddit_head(100000);
    for (int variant = 0; variant < 3; ++variant) {
        VectorizeOptions o;
        o.tokenizer.sklearn_compatible = variant == 1;
        if (variant == 2) {
            o.ngram_max = 2;
            o.stem = "english";
        }
        o.stop_words = load_stop_words("english", o.tokenizer);
        Tokenized a = tokenize_corpus(Context::cpu(), c, o);
        Tokenized b = tokenize_corpus(gpu, c, o);
        EXPECT_EQ(a.vocab, b.vocab) << variant;
        EXPECT_EQ(a.doc_ptr, b.doc_ptr) << variant;
        EXPECT_TRUE(a.tokens == b.tokens) << variant;
    }
}

// French prose (Debian's manpages-fr, one post per paragraph) and Reddit comments through the
// options the other tests leave at their defaults: French and English stop words, accents
// stripped, URLs kept whole, n-grams with --max-features; French stemming with elisions and
// hyphens split and numbers kept; and a fixed vocabulary with its idf. The GPU's matrix must
// equal the CPU's, value for value.
TEST(VectorizeCuda, FrenchOptionsAndFixedVocabularyIdenticalToCpu) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c = reddit_head(3000);
    size_t french = 0;
    const std::filesystem::path dir = "/usr/share/man/fr/man1";
    if (std::filesystem::exists(dir)) {
        std::vector<std::filesystem::path> pages;
        for (const auto& e : std::filesystem::directory_iterator(dir)) pages.push_back(e.path());
        std::sort(pages.begin(), pages.end());
        for (size_t i = 0; i < pages.size() && i < 40; ++i) {
            std::istringstream in(read_gunzipped(pages[i].string()));
            std::string line, para;
            while (std::getline(in, line)) {
                if (line.empty() || line.rfind(".PP", 0) == 0 || line.rfind(".SH", 0) == 0) {
                    if (para.size() > 40) {
                        c.add(para, kNoTime, "", "", 0);
                        ++french;
                    }
                    para.clear();
                } else {
                    para += line + "\n";
                }
            }
        }
    }
    if (std::filesystem::exists(dir)) EXPECT_GT(french, 100u) << "paragraphs of French man pages";
    for (const char* t : {"L'été à Paris 🇫🇷👍🏽 https://www.netflix.com/fr/title/123 c'est peut-être génial, non ?",
                          "Qu'il pleuve ou qu'il vente: la série « Lupin » en 2021 ! #Lupin @Netflix_FR",
                          "aujourd'hui NETFLIX ＦＲＡＮＣＥ, l’œuvre; 3,5 millions d'abonnés"})
        c.add(t, kNoTime, "", "", 0);
    for (int variant = 0; variant < 2; ++variant) {
        VectorizeOptions o;
        if (variant == 0) {
            o.tokenizer.strip_accents = true;
            o.tokenizer.urls = TokenizerOptions::Urls::Keep;
            o.ngram_max = 2;
            o.max_features = 3000;
            o.min_df = DfBound::parse("2", "--min-df");
        } else {
            o.stem = "french";
            o.tokenizer.elisions = false;
            o.tokenizer.hyphens = false;
            o.tokenizer.numbers = true;
            o.sublinear_tf = true;
        }
        o.stop_words = load_stop_words("french,english", o.tokenizer);
        const Vectorized cpu = vectorize(Context::cpu(), c, o);
        const Vectorized cuda = vectorize(gpu, c, o);
        ASSERT_GT(cpu.vocabulary.size(), 1000u) << variant;
        expect_identical(cpu, cuda);
        // the vocabulary fixed, with and without its idf (scoring new posts against a model)
        for (bool with_idf : {true, false}) {
            const std::vector<double> idf = with_idf ? cpu.idf : std::vector<double>{};
            const Vectorized a = vectorize_fixed(Context::cpu(), c, cpu.vocabulary, idf, o);
            const Vectorized b = vectorize_fixed(gpu, c, cpu.vocabulary, idf, o);
            expect_identical(a, b);
        }
    }
    RecordProperty("french_posts", int(french));
}
