// clean, step 3 building blocks: word shingles, the MinHash family and signatures (CPU
// reference of kernels/minhash_cuda.cu), exact Jaccard, LSH band selection.
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "clean_internal.hpp"
#include "cuda_api.hpp"
#include "tmine/clean.hpp"
#include "tmine/error.hpp"

namespace tmine {

namespace detail {

size_t append_word_shingles(std::string_view text, int k, std::vector<uint64_t>& words,
                            std::string& buf, std::vector<uint64_t>& out) {
    TMINE_ASSERT(k >= 1, "shingle size must be >= 1");
    words.clear();
    for_each_word(text, buf, [&](std::string_view w, int) {
        words.push_back(XXH3_64bits(w.data(), w.size()));
    });
    if (words.empty()) return 0;
    const size_t kk = std::min<size_t>(size_t(k), words.size());
    const size_t start = out.size();
    for (size_t i = 0; i + kk <= words.size(); ++i)
        out.push_back(XXH3_64bits(words.data() + i, kk * sizeof(uint64_t)));
    std::sort(out.begin() + int64_t(start), out.end());
    out.erase(std::unique(out.begin() + int64_t(start), out.end()), out.end());
    return out.size() - start;
}

}  // namespace detail

std::vector<uint64_t> word_shingles(std::string_view text, int k) {
    std::vector<uint64_t> words, out;
    std::string buf;
    detail::append_word_shingles(text, k, words, buf, out);
    return out;
}

namespace {
uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
}  // namespace

MinHashFamily MinHashFamily::make(int num_hashes, uint64_t seed) {
    if (num_hashes < 1 || num_hashes > 1024)
        throw InputError("--num-hashes must be in 1..1024, got " + std::to_string(num_hashes));
    MinHashFamily f;
    uint64_t st = seed;
    for (int i = 0; i < num_hashes; ++i) {
        f.a.push_back(splitmix64(st) | 1u);
        f.b.push_back(splitmix64(st));
    }
    return f;
}

namespace cpu_impl {
namespace {

/// Signature of one document; the inner loop over the hash functions vectorises
/// (AVX-512DQ has a 64-bit multiply; AVX2 emulates it).
__attribute__((target_clones("arch=skylake-avx512", "avx2", "default")))
void signature(const uint64_t* __restrict__ sh, size_t n, const uint64_t* __restrict__ a,
               const uint64_t* __restrict__ b, int K, uint32_t* __restrict__ sig) {
    for (int i = 0; i < K; ++i) sig[i] = std::numeric_limits<uint32_t>::max();
    for (size_t s = 0; s < n; ++s) {
        const uint64_t x = sh[s];
        for (int i = 0; i < K; ++i) {
            const uint32_t v = uint32_t((a[i] * x + b[i]) >> 32);
            sig[i] = v < sig[i] ? v : sig[i];
        }
    }
}

}  // namespace

std::vector<uint32_t> minhash_signatures(const Context& ctx, const ShingleSets& sets,
                                         const MinHashFamily& f) {
    const int K = f.size();
    const int64_t n = int64_t(sets.size());
    std::vector<uint32_t> sig(size_t(n) * K);
#pragma omp parallel for schedule(dynamic, 1024) num_threads(ctx.cpu_threads())
    for (int64_t d = 0; d < n; ++d)
        signature(sets.shingles.data() + sets.offsets[d], sets.offsets[d + 1] - sets.offsets[d],
                  f.a.data(), f.b.data(), K, sig.data() + size_t(d) * K);
    return sig;
}

}  // namespace cpu_impl

std::vector<uint32_t> minhash_signatures(const Context& ctx, const ShingleSets& sets,
                                         const MinHashFamily& family) {
    TMINE_ASSERT(sets.offsets.size() >= 1 && sets.offsets.back() == sets.shingles.size(),
                 "shingle sets: offsets do not match the shingles");
    if (ctx.is_cuda()) return cuda_impl::minhash_signatures(ctx, sets, family);
    return cpu_impl::minhash_signatures(ctx, sets, family);
}

double jaccard(const uint64_t* a, size_t na, const uint64_t* b, size_t nb) {
    if (na == 0 && nb == 0) return 1.0;
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j]) ++i;
        else if (b[j] < a[i]) ++j;
        else { ++inter; ++i; ++j; }
    }
    return double(inter) / double(na + nb - inter);
}

void lsh_params(double t, int num_hashes, int& bands, int& rows) {
    if (!(t > 0 && t < 1)) throw InputError("--near-dup must be in (0, 1), got " + std::to_string(t));
    // Candidates are verified with the exact Jaccard, so a false positive only costs time while a
    // false negative is a missed duplicate: the most rows per band (fewest false positives) such
    // that a pair exactly at the threshold is a candidate with probability >= 0.99.
    for (int r = num_hashes; r >= 1; --r) {
        const int b = num_hashes / r;
        const double p = 1 - std::pow(1 - std::pow(t, r), b);
        if (p >= 0.99 || r == 1) {
            bands = b;
            rows = r;
            return;
        }
    }
}

}  // namespace tmine
