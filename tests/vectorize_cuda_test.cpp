// CUDA twin of vectorize vs the CPU reference on the same real input: the vocabulary, the
// structure and every float value must be identical (labelled gpu; skipped without a GPU).
#include <gtest/gtest.h>

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
}

TEST(VectorizeCuda, ChunkedCountingEqualsTheCpu) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c = reddit_head(20000);
    VectorizeOptions o;
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("2", "--min-df");
    Vectorized cpu = vectorize(Context::cpu(), c, o);
    o.chunk_tokens = 5000;  // many chunks: device memory bounded by the chunk
    Vectorized g = vectorize(gpu, c, o);
    EXPECT_EQ(g.vocabulary, cpu.vocabulary);
    EXPECT_EQ(g.X.indptr, cpu.X.indptr);
    EXPECT_EQ(g.X.indices, cpu.X.indices);
    EXPECT_EQ(g.X.data, cpu.X.data);
}
