// clean, step 3: exact duplicates (xxHash3-128 of the normalised text) and near duplicates
// (MinHash over word shingles, LSH banding, verified with the exact Jaccard).
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <unordered_map>

#include "clean_steps.hpp"
#include "tmine/error.hpp"

namespace tmine::detail {
namespace {

struct Hash128 {
    size_t operator()(const XXH128_hash_t& h) const { return size_t(h.low64 ^ (h.high64 * 31)); }
};
struct Eq128 {
    bool operator()(const XXH128_hash_t& a, const XXH128_hash_t& b) const {
        return a.low64 == b.low64 && a.high64 == b.high64;
    }
};

double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Stable LSD radix sort by the high 32 bits (two passes of 16 bits).
void radix_sort_high32(std::vector<uint64_t>& v, std::vector<uint64_t>& tmp) {
    tmp.resize(v.size());
    std::vector<uint32_t> count(65537);
    for (int shift : {32, 48}) {
        std::fill(count.begin(), count.end(), 0u);
        for (uint64_t x : v) ++count[((x >> shift) & 0xffff) + 1];
        for (size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
        for (uint64_t x : v) tmp[count[(x >> shift) & 0xffff]++] = x;
        v.swap(tmp);
    }
}

}  // namespace

std::vector<size_t> earliest_first(const Corpus& c) {
    std::vector<size_t> order(c.size());
    std::iota(order.begin(), order.end(), size_t(0));
    auto key = [&](size_t i) { return c.time[i] == kNoTime ? INT64_MAX : c.time[i]; };
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return key(x) < key(y); });
    return order;
}

DedupResult find_duplicates(const Context& ctx, const Corpus& c, const DedupOptions& o,
                            bool progress, std::map<std::string, double>& stats) {
    using Clock = std::chrono::steady_clock;
    const size_t n = c.size();
    DedupResult r;
    r.reason.assign(n, nullptr);
    r.duplicate_of.assign(n, -1);
    r.similarity.assign(n, 0.0);
    r.group_size.resize(n);
    for (size_t i = 0; i < n; ++i) r.group_size[i] = c.has_dup_count() ? c.dup_count[i] : 1u;
    const std::vector<size_t> order = earliest_first(c);

    // ---- exact ----
    std::vector<size_t> survivors;  // earliest first
    auto t0 = Clock::now();
    if (o.exact) {
        std::vector<XXH128_hash_t> h(n);
#pragma omp parallel for schedule(dynamic, 4096) num_threads(ctx.cpu_threads())
        for (int64_t i = 0; i < int64_t(n); ++i) {
            const std::string_view t = c.text[size_t(i)];
            h[size_t(i)] = XXH3_128bits(t.data(), t.size());
        }
        std::unordered_map<XXH128_hash_t, size_t, Hash128, Eq128> first;
        first.reserve(n);
        for (size_t i : order) {
            auto [it, fresh] = first.try_emplace(h[i], i);
            if (fresh) {
                survivors.push_back(i);
            } else {
                r.reason[i] = "exact_duplicate";
                r.duplicate_of[i] = int64_t(it->second);
                r.similarity[i] = 1.0;
                r.group_size[it->second] += r.group_size[i];
            }
        }
    } else {
        survivors = order;
    }
    stats["exact_seconds"] = since(t0);
    if (progress)
        std::fprintf(stderr, "clean: dedup: %zu exact duplicates in %.2f s\n", n - survivors.size(),
                     since(t0));
    if (!(o.near_dup > 0)) return r;
    if (!(o.near_dup < 1)) throw InputError("--near-dup must be in (0, 1), got " + std::to_string(o.near_dup));
    if (o.shingle < 1) throw InputError("--shingle must be >= 1");

    // ---- near: shingles of the survivors, in earliest-first order ----
    t0 = Clock::now();
    const size_t m = survivors.size();
    if (m >= (size_t(1) << 32)) throw InputError("dedup: more than 2^32 posts; split the corpus");
    // blocks of posts, each block's shingles in one vector, then concatenated
    constexpr size_t kBlock = 2048;
    const size_t n_blocks = (m + kBlock - 1) / kBlock;
    std::vector<std::vector<uint64_t>> blocks(n_blocks);
    std::vector<uint64_t> counts(m);
#pragma omp parallel num_threads(ctx.cpu_threads())
    {
        std::vector<uint64_t> words;
        std::string buf;
#pragma omp for schedule(dynamic, 1)
        for (int64_t bl = 0; bl < int64_t(n_blocks); ++bl) {
            std::vector<uint64_t>& out = blocks[size_t(bl)];
            for (size_t p = size_t(bl) * kBlock; p < std::min(m, size_t(bl + 1) * kBlock); ++p)
                counts[p] = append_word_shingles(c.text[survivors[p]], o.shingle, words, buf, out);
        }
    }
    ShingleSets sets;
    sets.offsets.resize(m + 1);
    for (size_t p = 0; p < m; ++p) sets.offsets[p + 1] = sets.offsets[p] + counts[p];
    sets.shingles.resize(sets.offsets[m]);
#pragma omp parallel for schedule(dynamic, 1) num_threads(ctx.cpu_threads())
    for (int64_t bl = 0; bl < int64_t(n_blocks); ++bl) {
        std::copy(blocks[size_t(bl)].begin(), blocks[size_t(bl)].end(),
                  sets.shingles.begin() + int64_t(sets.offsets[size_t(bl) * kBlock]));
        std::vector<uint64_t>().swap(blocks[size_t(bl)]);
    }
    stats["shingle_seconds"] = since(t0);
    stats["shingles"] = double(sets.shingles.size());

    t0 = Clock::now();
    const MinHashFamily fam = MinHashFamily::make(o.num_hashes, o.seed);
    const std::vector<uint32_t> sig = minhash_signatures(ctx, sets, fam);
    stats["signature_seconds"] = since(t0);

    // ---- LSH: per band, bucket the documents by a hash of their rows of the signature ----
    t0 = Clock::now();
    int bands = o.bands, rows = 0;
    if (bands > 0) {
        if (bands > o.num_hashes) throw InputError("--bands must be <= --num-hashes");
        rows = o.num_hashes / bands;
    } else {
        lsh_params(o.near_dup, o.num_hashes, bands, rows);
    }
    stats["bands"] = bands;
    stats["rows_per_band"] = rows;
    const int K = fam.size();
    std::vector<int32_t> bucket(m * size_t(bands), -1);  // bucket id of (doc, band), -1 = alone
    std::vector<int32_t> bucket_base(size_t(bands) + 1, 0);
    std::vector<int32_t> n_buckets(size_t(bands), 0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(ctx.cpu_threads())
    for (int j = 0; j < bands; ++j) {
        // key: 32 bits of a hash of the band's rows, above the post's position; sorted by the
        // key with a stable radix sort, so a bucket lists its posts earliest first. Two bands
        // colliding in 32 bits only add a candidate, which the exact Jaccard then rejects.
        std::vector<uint64_t> keys, tmp;
        keys.reserve(m);
        for (size_t p = 0; p < m; ++p) {
            if (sets.offsets[p + 1] == sets.offsets[p]) continue;  // no words: exact step only
            const uint64_t h = XXH3_64bits_withSeed(sig.data() + p * K + size_t(j) * rows,
                                                    size_t(rows) * sizeof(uint32_t), uint64_t(j));
            keys.push_back((h & 0xffffffff00000000ull) | uint64_t(p));
        }
        radix_sort_high32(keys, tmp);
        int32_t id = 0;
        for (size_t a = 0; a < keys.size();) {
            size_t e = a + 1;
            while (e < keys.size() && (keys[e] >> 32) == (keys[a] >> 32)) ++e;
            if (e - a > 1) {
                for (size_t q = a; q < e; ++q) bucket[size_t(keys[q] & 0xffffffffu) * bands + j] = id;
                ++id;
            }
            a = e;
        }
        n_buckets[size_t(j)] = id;
    }
    for (int j = 0; j < bands; ++j) bucket_base[size_t(j) + 1] = bucket_base[size_t(j)] + n_buckets[size_t(j)];
    stats["lsh_seconds"] = since(t0);

    // ---- greedy, earliest first: a post joins the earliest kept post it shares a bucket with
    // whose exact Jaccard is >= the threshold; otherwise it is kept ----
    t0 = Clock::now();
    std::vector<std::vector<uint32_t>> reps(size_t(bucket_base[size_t(bands)]));
    std::vector<uint32_t> tried_stamp(m, UINT32_MAX), cand;
    uint64_t checks = 0, near = 0;
    for (size_t p = 0; p < m; ++p) {
        cand.clear();
        const int32_t* bp = bucket.data() + p * size_t(bands);
        for (int j = 0; j < bands; ++j) {
            if (bp[j] < 0) continue;
            for (uint32_t q : reps[size_t(bucket_base[size_t(j)] + bp[j])])
                if (tried_stamp[q] != uint32_t(p)) {
                    tried_stamp[q] = uint32_t(p);
                    cand.push_back(q);
                }
        }
        std::sort(cand.begin(), cand.end());
        int64_t match = -1;
        double sim = 0;
        const uint64_t* sp = sets.shingles.data() + sets.offsets[p];
        const size_t np = sets.offsets[p + 1] - sets.offsets[p];
        for (uint32_t q : cand) {
            ++checks;
            const double s = jaccard(sp, np, sets.shingles.data() + sets.offsets[q],
                                     sets.offsets[q + 1] - sets.offsets[q]);
            if (s >= o.near_dup) {
                match = q;
                sim = s;
                break;
            }
        }
        if (match >= 0) {
            const size_t row = survivors[p], rep = survivors[size_t(match)];
            r.reason[row] = "near_duplicate";
            r.duplicate_of[row] = int64_t(rep);
            r.similarity[row] = sim;
            r.group_size[rep] += r.group_size[row];
            ++near;
        } else {
            for (int j = 0; j < bands; ++j)
                if (bp[j] >= 0) reps[size_t(bucket_base[size_t(j)] + bp[j])].push_back(uint32_t(p));
        }
    }
    stats["jaccard_checks"] = double(checks);
    stats["verify_seconds"] = since(t0);
    if (progress)
        std::fprintf(stderr,
                     "clean: dedup: %llu near duplicates (Jaccard >= %.2f, %d bands x %d rows, "
                     "%llu pairs verified)\n",
                     (unsigned long long)near, o.near_dup, bands, rows, (unsigned long long)checks);
    return r;
}

}  // namespace tmine::detail
