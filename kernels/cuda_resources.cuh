#pragma once
// The CUDA half of tmine::Context: one stream and library handles bound to it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <thrust/execution_policy.h>

#include "cuda_check.cuh"

namespace tmine::cuda_impl {

class ProcessSums;  // kernels/process_sums.cuh

struct Resources {
    int device = 0;
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    cusparseHandle_t cusparse = nullptr;
    void* cublas_workspace = nullptr;  ///< cuBLAS's workspace, allocated once (cudaMalloc)
    std::string name;
    /// A distributed fit's sums over the processes (NCCL's communicator or the host path),
    /// made by the first fit that needs them and kept for the next (restarts, a range of k).
    std::shared_ptr<ProcessSums> process_sums;

    Resources() = default;
    Resources(const Resources&) = delete;
    Resources& operator=(const Resources&) = delete;
    ~Resources() {
        process_sums.reset();  // before the stream its collectives were queued on
        if (cusparse) TMINE_CUDA_CHECK_NOTHROW(cusparseDestroy(cusparse));
        if (cublas) TMINE_CUDA_CHECK_NOTHROW(cublasDestroy(cublas));
        if (cublas_workspace) TMINE_CUDA_CHECK_NOTHROW(cudaFree(cublas_workspace));
        if (stream) TMINE_CUDA_CHECK_NOTHROW(cudaStreamDestroy(stream));
    }
};

/// A device buffer bound to a stream (stream-ordered allocation through the memory pool).
template <class T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(size_t n, cudaStream_t s) : n_(n), stream_(s) {
        if (n_) TMINE_CUDA_CHECK(cudaMallocAsync(&p_, n_ * sizeof(T), stream_));
    }
    DeviceBuffer(const T* host, size_t n, cudaStream_t s) : DeviceBuffer(n, s) {
        if (n_) TMINE_CUDA_CHECK(cudaMemcpyAsync(p_, host, n_ * sizeof(T), cudaMemcpyHostToDevice, stream_));
    }
    DeviceBuffer(DeviceBuffer&& o) noexcept { swap(o); }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        swap(o);
        return *this;
    }
    ~DeviceBuffer() {
        if (p_) TMINE_CUDA_CHECK_NOTHROW(cudaFreeAsync(p_, stream_));
    }
    T* data() const { return p_; }
    size_t size() const { return n_; }
    /// Zero bytes, stream-ordered. For SpMM outputs: cuSPARSE does not promise not to read C
    /// when beta is 0, and pool memory may hold NaN bits.
    void zero() const {
        if (n_) TMINE_CUDA_CHECK(cudaMemsetAsync(p_, 0, n_ * sizeof(T), stream_));
    }
    void to_host(T* host) const {
        if (n_) TMINE_CUDA_CHECK(cudaMemcpyAsync(host, p_, n_ * sizeof(T), cudaMemcpyDeviceToHost, stream_));
    }

private:
    void swap(DeviceBuffer& o) {
        std::swap(p_, o.p_);
        std::swap(n_, o.n_);
        std::swap(stream_, o.stream_);
    }
    T* p_ = nullptr;
    size_t n_ = 0;
    cudaStream_t stream_ = nullptr;
};

/// Thrust's temporary memory from the same stream-ordered pool as DeviceBuffer
/// (`thrust::cuda::par(alloc).on(stream)`): memory the pool keeps serves Thrust too, and a
/// shortage is a DeviceError ("GPU out of memory") like any other allocation's.
struct PoolAllocator {
    using value_type = char;
    cudaStream_t stream = nullptr;
    explicit PoolAllocator(cudaStream_t s) : stream(s) {}
    char* allocate(std::ptrdiff_t bytes) {
        void* p = nullptr;
        TMINE_CUDA_CHECK(cudaMallocAsync(&p, static_cast<size_t>(bytes), stream));
        return static_cast<char*>(p);
    }
    void deallocate(char* p, size_t) { TMINE_CUDA_CHECK_NOTHROW(cudaFreeAsync(p, stream)); }
};

/// Thrust's execution policy: on `stream`, temporaries from `pool`. The emulation build
/// (tests/cuda_emulation) runs the same algorithms with Thrust's sequential host backend.
inline auto on_stream(PoolAllocator& pool, cudaStream_t stream) {
#ifdef TMINE_CUDA_EMULATION
    (void)stream;
    return thrust::cpp::par(pool);
#else
    return thrust::cuda::par(pool).on(stream);
#endif
}

/// Free bytes on the current device. The stream-ordered pool keeps what earlier stages freed
/// (context_cuda.cu sets its release threshold to the maximum), and the driver counts that
/// memory as used: it
/// is handed back first, so a later stage's batches are sized from all the memory there is.
/// Called where batch sizes are chosen, not inside loops (it synchronises the device).
inline int64_t free_device_bytes() {
    int device = 0;
    TMINE_CUDA_CHECK(cudaGetDevice(&device));
    cudaMemPool_t pool;
    TMINE_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
    TMINE_CUDA_CHECK(cudaDeviceSynchronize());  // frees still in flight count as outstanding
    TMINE_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
    size_t free_b = 0, total_b = 0;
    TMINE_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    return static_cast<int64_t>(free_b);
}

}  // namespace tmine::cuda_impl
