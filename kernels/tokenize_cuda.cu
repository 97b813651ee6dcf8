// The device half of the chunked tokenizer (host/src/tokenize.cpp, docs/tokenizer.md): the
// CUDA twin of cpu_impl::tokenize_chunks. Over the text arena of a batch of documents:
//   1. chunk starts and ends are found by a per-byte predicate (the plan's byte classes) and
//      compacted with Thrust;
//   2. each chunk is hashed (64-bit), chunks are sorted by hash, equal hashes form a group and
//      every member is compared byte for byte with its group's first member: two different
//      chunks with one hash make the call return false (the caller tokenises on the CPU);
//   3. the distinct chunks' bytes are gathered and copied to the host, whose mapper tokenises
//      each once (Unicode, stop words, stemming: the CPU tokenizer's own code);
//   4. every occurrence is expanded into its distinct chunk's items, in document order.
// Items are integers and positions come from exclusive scans, so the result equals the CPU
// twin's exactly (tested when a GPU is present).
#include <thrust/binary_search.h>
#include <thrust/copy.h>
#include <thrust/count.h>
#include <thrust/gather.h>
#include <thrust/transform.h>
#include <thrust/device_ptr.h>
#include <thrust/execution_policy.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/scan.h>
#include <thrust/sort.h>

#include <algorithm>
#include <cstring>

#include "cuda_resources.cuh"
#include "launch.cuh"
#include "tmine/vectorize.hpp"

namespace tmine::cuda_impl {
namespace {

/// Byte classes of the plan, indexed by byte.
struct Classes {
    uint8_t cls[256];
};

/// Whether byte i of the batch starts (or ends) a chunk. `doc_start[i]` marks the first byte of
/// a document (index B marks the end of the batch).
struct ChunkEdge {
    const unsigned char* text;
    const uint8_t* doc_start;
    int64_t bytes;
    Classes c;
    bool end;  // false: starts, true: ends (the chunk is [start, i + 1))
    __device__ bool operator()(int64_t i) const {
        const uint8_t k = c.cls[text[i]];
        if (k == chunking::kAlone) return true;
        if (k != chunking::kInside) return false;
        if (!end) return i == 0 || doc_start[i] || c.cls[text[i - 1]] != chunking::kInside;
        return i + 1 == bytes || doc_start[i + 1] || c.cls[text[i + 1]] != chunking::kInside;
    }
};

__global__ void mark_doc_starts(const int64_t* __restrict__ offsets, int64_t n_docs,
                                uint8_t* __restrict__ doc_start) {
    for (int64_t d = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; d <= n_docs;
         d += int64_t(gridDim.x) * blockDim.x)
        doc_start[offsets[d]] = 1;
}

/// 64-bit hash of each chunk (FNV-1a over 8-byte words, then a final avalanche), length mixed in.
__global__ void hash_chunks(const unsigned char* __restrict__ text, const int64_t* __restrict__ starts,
                            const int64_t* __restrict__ ends, int64_t n, uint64_t* __restrict__ hash,
                            int64_t* __restrict__ index) {
    for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < n;
         c += int64_t(gridDim.x) * blockDim.x) {
        const int64_t b = starts[c], e = ends[c];
        uint64_t h = 0xcbf29ce484222325ull ^ uint64_t(e - b);
        int64_t i = b;
        for (; i + 8 <= e; i += 8) {
            uint64_t w = 0;
            for (int k = 0; k < 8; ++k) w |= uint64_t(text[i + k]) << (8 * k);
            h = (h ^ w) * 0x100000001b3ull;
            h ^= h >> 29;
        }
        uint64_t w = 0;
        for (int k = 0; i + k < e; ++k) w |= uint64_t(text[i + k]) << (8 * k);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 33;
        hash[c] = h;
        index[c] = c;
    }
}

/// After the sort by hash: head[i] = 1 where a new hash starts.
__global__ void group_heads(const uint64_t* __restrict__ hash, int64_t n, int32_t* __restrict__ head) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        head[i] = i == 0 || hash[i] != hash[i - 1];
}

/// Every chunk compared with its group's first one (`first[g]`, a chunk index); a difference
/// sets *collision. Also records each chunk's distinct id (group) by its original index.
__global__ void check_groups(const unsigned char* __restrict__ text, const int64_t* __restrict__ starts,
                             const int64_t* __restrict__ ends, const int64_t* __restrict__ order,
                             const int32_t* __restrict__ group, const int64_t* __restrict__ first,
                             int64_t n, int32_t* __restrict__ distinct, int* __restrict__ collision) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t c = order[i];
        const int32_t g = group[i] - 1;  // inclusive scan of heads, so groups count from 1
        distinct[c] = g;
        const int64_t r = first[g];
        if (r == c) continue;
        const int64_t len = ends[c] - starts[c];
        bool same = len == ends[r] - starts[r];
        for (int64_t k = 0; same && k < len; ++k) same = text[starts[c] + k] == text[starts[r] + k];
        if (!same) atomicExch(collision, 1);
    }
}

/// first[g] = the chunk index at the head of group g (heads at sorted positions with head[i]).
__global__ void group_firsts(const int32_t* __restrict__ head, const int32_t* __restrict__ group,
                             const int64_t* __restrict__ order, int64_t n, int64_t* __restrict__ first) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
         i += int64_t(gridDim.x) * blockDim.x)
        if (head[i]) first[group[i] - 1] = order[i];
}

/// Length of each distinct chunk (of its first member), to lay the gathered bytes out.
__global__ void distinct_lengths(const int64_t* __restrict__ first, const int64_t* __restrict__ starts,
                                 const int64_t* __restrict__ ends, int64_t g, int64_t* __restrict__ len) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < g;
         i += int64_t(gridDim.x) * blockDim.x)
        len[i] = ends[first[i]] - starts[first[i]];
}

__global__ void gather_bytes(const unsigned char* __restrict__ text, const int64_t* __restrict__ first,
                             const int64_t* __restrict__ starts, const int64_t* __restrict__ out_off,
                             int64_t g, unsigned char* __restrict__ out) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < g;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t b = starts[first[i]];
        for (int64_t k = out_off[i]; k < out_off[i + 1]; ++k) out[k] = text[b + (k - out_off[i])];
    }
}

/// Items each occurrence expands to (last slot left for the scan's total).
__global__ void occurrence_sizes(const int32_t* __restrict__ distinct, const int64_t* __restrict__ item_ptr,
                                 int64_t n, int64_t* __restrict__ size) {
    for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < n;
         c += int64_t(gridDim.x) * blockDim.x)
        size[c] = item_ptr[distinct[c] + 1] - item_ptr[distinct[c]];
}

__global__ void expand(const int32_t* __restrict__ distinct, const int64_t* __restrict__ item_ptr,
                       const int32_t* __restrict__ items, const int64_t* __restrict__ out_pos, int64_t n,
                       int32_t* __restrict__ out) {
    for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < n;
         c += int64_t(gridDim.x) * blockDim.x) {
        const int64_t b = item_ptr[distinct[c]], e = item_ptr[distinct[c] + 1];
        int64_t o = out_pos[c];
        for (int64_t k = b; k < e; ++k) out[o++] = items[k];
    }
}

struct PlusOne {
    __device__ int64_t operator()(int64_t e) const { return e + 1; }
};

template <class T>
thrust::device_ptr<T> dp(const DeviceBuffer<T>& b) {
    return thrust::device_ptr<T>(b.data());
}

}  // namespace

// Device bytes per text byte: the text and its document-start marks (2), and per chunk (at
// most one per byte, about one per 6 bytes in posts) starts, ends, hashes, sort order and
// buffers, groups, distinct ids and output positions (about 70 bytes).
constexpr int64_t kTokenizeBytesPerTextByte = 16;

int64_t tokenize_batch_bytes(const Context& ctx) {
    (void)ctx.cuda();
    // int32 distinct ids and item counts: batches stay below 1 GiB of text.
    return std::max<int64_t>(1 << 20, std::min<int64_t>(int64_t(1) << 30,
                                                        free_device_bytes() / 8 / kTokenizeBytesPerTextByte));
}

bool tokenize_chunks(const Context& ctx, const Corpus& corpus, int64_t first, int64_t last,
                     const chunking::Plan& plan, const chunking::Mapper& map,
                     std::vector<int64_t>& doc_ptr, std::vector<int32_t>& items) {
    Resources& r = ctx.cuda();
    cudaStream_t s = r.stream;
    PoolAllocator pool(s);
    auto policy = on_stream(pool, s);
    const int64_t n_docs = last - first;
    const auto& off = corpus.text.offsets;
    const int64_t base = static_cast<int64_t>(off[first]);
    const int64_t B = static_cast<int64_t>(off[last]) - base;
    doc_ptr.assign(n_docs + 1, 0);
    items.clear();
    if (B == 0) return true;

    // Upload the batch's text and its document offsets (rebased to 0).
    std::vector<int64_t> offsets(n_docs + 1);
    for (int64_t d = 0; d <= n_docs; ++d) offsets[d] = static_cast<int64_t>(off[first + d]) - base;
    DeviceBuffer<unsigned char> text(reinterpret_cast<const unsigned char*>(corpus.text.arena.data()) + base,
                                     B, s);
    DeviceBuffer<int64_t> doffsets(offsets.data(), n_docs + 1, s);
    DeviceBuffer<uint8_t> doc_start(B + 1, s);
    TMINE_CUDA_CHECK(cudaMemsetAsync(doc_start.data(), 0, B + 1, s));
    TMINE_LAUNCH(mark_doc_starts, grid_for(n_docs + 1), kBlock, s)(doffsets.data(), n_docs, doc_start.data());
    TMINE_CUDA_LAUNCH_CHECK();

    // 1. Chunk starts and ends.
    Classes classes;
    std::memcpy(classes.cls, plan.cls, sizeof classes.cls);
    ChunkEdge is_start{text.data(), doc_start.data(), B, classes, false};
    ChunkEdge is_end{text.data(), doc_start.data(), B, classes, true};
    thrust::counting_iterator<int64_t> pos(0);
    const int64_t n = thrust::count_if(policy, pos, pos + B, is_start);
    if (n == 0) return true;
    DeviceBuffer<int64_t> starts(n, s), ends(n, s);
    thrust::copy_if(policy, pos, pos + B, dp(starts), is_start);
    thrust::copy_if(policy, pos, pos + B, dp(ends), is_end);
    thrust::transform(policy, dp(ends), dp(ends) + n, dp(ends), PlusOne());

    // 2. Hash, sort, group, check.
    DeviceBuffer<uint64_t> hash(n, s);
    DeviceBuffer<int64_t> order(n, s);
    TMINE_LAUNCH(hash_chunks, grid_for(n), kBlock, s)(text.data(), starts.data(), ends.data(), n, hash.data(),
                                               order.data());
    TMINE_CUDA_LAUNCH_CHECK();
    thrust::stable_sort_by_key(policy, dp(hash), dp(hash) + n, dp(order));
    DeviceBuffer<int32_t> head(n, s), group(n, s);
    TMINE_LAUNCH(group_heads, grid_for(n), kBlock, s)(hash.data(), n, head.data());
    TMINE_CUDA_LAUNCH_CHECK();
    thrust::inclusive_scan(policy, dp(head), dp(head) + n, dp(group));
    int32_t groups = 0;
    TMINE_CUDA_CHECK(cudaMemcpyAsync(&groups, group.data() + n - 1, sizeof groups, cudaMemcpyDeviceToHost, s));
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    DeviceBuffer<int64_t> firsts(groups, s);
    TMINE_LAUNCH(group_firsts, grid_for(n), kBlock, s)(head.data(), group.data(), order.data(), n, firsts.data());
    TMINE_CUDA_LAUNCH_CHECK();
    DeviceBuffer<int32_t> distinct(n, s);
    DeviceBuffer<int> collision(1, s);
    TMINE_CUDA_CHECK(cudaMemsetAsync(collision.data(), 0, sizeof(int), s));
    TMINE_LAUNCH(check_groups, grid_for(n), kBlock, s)(text.data(), starts.data(), ends.data(), order.data(),
                                                group.data(), firsts.data(), n, distinct.data(),
                                                collision.data());
    TMINE_CUDA_LAUNCH_CHECK();
    int collided = 0;
    collision.to_host(&collided);

    // 3. The distinct chunks to the host, mapped there.
    DeviceBuffer<int64_t> glen(groups + 1, s), goff(groups + 1, s);
    TMINE_CUDA_CHECK(cudaMemsetAsync(glen.data() + groups, 0, sizeof(int64_t), s));
    TMINE_LAUNCH(distinct_lengths, grid_for(groups), kBlock, s)(firsts.data(), starts.data(), ends.data(), groups,
                                                         glen.data());
    TMINE_CUDA_LAUNCH_CHECK();
    thrust::exclusive_scan(policy, dp(glen), dp(glen) + groups + 1, dp(goff));
    std::vector<int64_t> chunk_off(groups + 1);
    goff.to_host(chunk_off.data());
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    if (collided) return false;
    DeviceBuffer<unsigned char> gathered(chunk_off[groups], s);
    TMINE_LAUNCH(gather_bytes, grid_for(groups), kBlock, s)(text.data(), firsts.data(), starts.data(), goff.data(),
                                                     groups, gathered.data());
    TMINE_CUDA_LAUNCH_CHECK();
    std::string bytes(chunk_off[groups], '\0');
    gathered.to_host(reinterpret_cast<unsigned char*>(bytes.data()));
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    chunking::Items mapped;
    map(bytes, chunk_off, mapped);

    // 4. Expand every occurrence, in document order.
    DeviceBuffer<int64_t> item_ptr(mapped.ptr.data(), mapped.ptr.size(), s);
    DeviceBuffer<int32_t> ditems(mapped.items.data(), mapped.items.size(), s);
    DeviceBuffer<int64_t> size(n + 1, s), out_pos(n + 1, s);
    TMINE_CUDA_CHECK(cudaMemsetAsync(size.data() + n, 0, sizeof(int64_t), s));
    TMINE_LAUNCH(occurrence_sizes, grid_for(n), kBlock, s)(distinct.data(), item_ptr.data(), n, size.data());
    TMINE_CUDA_LAUNCH_CHECK();
    thrust::exclusive_scan(policy, dp(size), dp(size) + n + 1, dp(out_pos));
    int64_t total = 0;
    TMINE_CUDA_CHECK(cudaMemcpyAsync(&total, out_pos.data() + n, sizeof total, cudaMemcpyDeviceToHost, s));
    // Each document's first chunk: the first start at or after its offset.
    DeviceBuffer<int64_t> doc_chunk(n_docs + 1, s);
    thrust::lower_bound(policy, dp(starts), dp(starts) + n, dp(doffsets), dp(doffsets) + n_docs + 1,
                        dp(doc_chunk));
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    DeviceBuffer<int32_t> out(total, s);
    TMINE_LAUNCH(expand, grid_for(n), kBlock, s)(distinct.data(), item_ptr.data(), ditems.data(), out_pos.data(), n,
                                          out.data());
    TMINE_CUDA_LAUNCH_CHECK();
    DeviceBuffer<int64_t> dptr(n_docs + 1, s);
    thrust::gather(policy, dp(doc_chunk), dp(doc_chunk) + n_docs + 1, dp(out_pos), dp(dptr));
    items.resize(total);
    out.to_host(items.data());
    dptr.to_host(doc_ptr.data());
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    return true;
}

}  // namespace tmine::cuda_impl
