// CUDA twin of the MinHash signatures (kernels/minhash_cuda.cu) against the CPU reference on
// real Reddit comments: identical signatures for the same seed, and the same dedup decisions.
// Label gpu; skipped with the reason when no GPU can be used.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "tmine/clean.hpp"

namespace tmine {
namespace {

ShingleSets reddit_shingles(size_t n, int k) {
    const Corpus c = test::reddit_head(n);
    NormalizeOptions no;
    ShingleSets sets;
    for (size_t i = 0; i < c.size(); ++i) {
        const auto s = word_shingles(normalize_text(c.text[i], no), k);
        sets.shingles.insert(sets.shingles.end(), s.begin(), s.end());
        sets.offsets.push_back(sets.shingles.size());
    }
    return sets;
}

TEST(MinHashCuda, SignaturesEqualCpuOnReddit) {
    TMINE_REQUIRE_DATA(test::kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    const ShingleSets sets = reddit_shingles(20000, 3);
    ASSERT_GT(sets.shingles.size(), 100000u);
    for (int K : {128, 100, 7}) {  // a multiple of 32, not one, fewer than a warp
        for (uint64_t seed : {1ull, 12345ull}) {
            const MinHashFamily f = MinHashFamily::make(K, seed);
            const auto cpu = minhash_signatures(Context::cpu(), sets, f);
            const auto cuda = minhash_signatures(gpu, sets, f);
            ASSERT_EQ(cpu.size(), cuda.size());
            size_t diff = 0;
            for (size_t i = 0; i < cpu.size(); ++i) diff += cpu[i] != cuda[i];
            EXPECT_EQ(diff, 0u) << "K=" << K << " seed=" << seed;
        }
    }
    // In batches of about 64 KiB (hundreds of batches, some documents alone in theirs): the
    // same signatures.
    const MinHashFamily f = MinHashFamily::make(100, 7);
    const auto cpu = minhash_signatures(Context::cpu(), sets, f);
    const auto batched = cuda_impl::minhash_signatures(gpu, sets, f, 64 << 10);
    ASSERT_EQ(cpu.size(), batched.size());
    size_t diff = 0;
    for (size_t i = 0; i < cpu.size(); ++i) diff += cpu[i] != batched[i];
    EXPECT_EQ(diff, 0u) << "in batches";
    // empty documents: all UINT32_MAX on both
    ShingleSets empty;
    empty.offsets = {0, 0, 0};
    const auto e = minhash_signatures(gpu, empty, MinHashFamily::make(64, 1));
    ASSERT_EQ(e.size(), 2u * 64u);
    for (uint32_t v : e) EXPECT_EQ(v, UINT32_MAX);
}

TEST(MinHashCuda, SameDedupDecisionsAsCpu) {
    TMINE_REQUIRE_DATA(test::kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    const Corpus in = test::reddit_head(30000);
    CleanOptions o;
    o.steps = {CleanStep::Normalize, CleanStep::Dedup};
    Corpus a = in, b = in;
    std::vector<RemovedRow> ra, rb;
    const CleanReport rep_a = clean(Context::cpu(), a, o, &ra);
    const CleanReport rep_b = clean(gpu, b, o, &rb);
    ASSERT_EQ(ra.size(), rb.size());
    for (size_t i = 0; i < ra.size(); ++i) {
        EXPECT_EQ(ra[i].row, rb[i].row);
        EXPECT_EQ(ra[i].reason, rb[i].reason);
        EXPECT_EQ(ra[i].duplicate_of, rb[i].duplicate_of);
    }
    EXPECT_EQ(a.dup_count, b.dup_count);
    EXPECT_EQ(rep_a.rows_out, rep_b.rows_out);
}

}  // namespace
}  // namespace tmine
