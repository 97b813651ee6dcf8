// CUDA twin of the coherence co-occurrence counts vs the CPU reference on the same real
// matrix: integer counts, so identical (labelled gpu; skipped without a GPU).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "test_util.hpp"
#include "tmine/interpret.hpp"
#include "tmine/nmf.hpp"

using namespace tmine;
using namespace tmine::test;

TEST(CoherenceCuda, CountsIdenticalToCpuOnRealComments) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c = reddit_head(50000);
    VectorizeOptions o;
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("5", "--min-df");
    Vectorized v = vectorize(Context::cpu(), c, o);
    // 600 terms: the 300 most frequent (hot atomics) and 300 spread over the vocabulary.
    std::vector<int32_t> order(v.X.cols);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return v.df[a] > v.df[b]; });
    std::vector<int32_t> terms(order.begin(), order.begin() + 300);
    for (int32_t t = 0; t < v.X.cols && terms.size() < 600; t += int32_t(v.X.cols / 300))
        if (std::find(terms.begin(), terms.end(), t) == terms.end()) terms.push_back(t);
    Cooccurrence a = cpu_impl::cooccurrence(Context::cpu(), v.X, terms);
    Cooccurrence b = cooccurrence(gpu, v.X, terms);
    EXPECT_EQ(a.documents, b.documents);
    EXPECT_EQ(a.df, b.df);
    ASSERT_EQ(a.joint.size(), b.joint.size());
    EXPECT_TRUE(a.joint == b.joint) << "pairwise document co-occurrence differs";
    for (size_t i = 0; i < terms.size(); ++i) EXPECT_EQ(a.df[i], int64_t(v.df[terms[i]]));
}

TEST(CoherenceCuda, ModelCoherenceEqualOnBothDevices) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c = reddit_head(20000);
    VectorizeOptions o;
    o.stop_words = load_stop_words("english");
    o.min_df = DfBound::parse("5", "--min-df");
    o.max_df = DfBound::parse("0.5", "--max-df");
    Vectorized v = vectorize(Context::cpu(), c, o);
    TopicModel m;
    NmfOptions no;
    no.k = 10;
    no.max_iter = 30;
    m.nmf = nmf(Context::cpu(), v.X, no);
    m.vocabulary = v.vocabulary;
    Coherence x = coherence(Context::cpu(), v.X, m), y = coherence(gpu, v.X, m);
    EXPECT_EQ(x.npmi, y.npmi);  // same counts, same host arithmetic
    EXPECT_EQ(x.umass, y.umass);
    // An empty term list (the dispatcher returns before any device work).
    EXPECT_EQ(cooccurrence(gpu, v.X, {}).joint.size(), 0u);
}
