// Probing and creating the CUDA resources of a tmine::Context.
#include <algorithm>

#include "cuda_api.hpp"
#include "cuda_resources.cuh"

namespace tmine::cuda_impl {

bool compiled_in() { return true; }

std::shared_ptr<Resources> create_resources(std::string& why, std::string& description, int which) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        why = e != cudaSuccess ? std::string("no CUDA device (") + cudaGetErrorString(e) + ")"
                               : std::string("no CUDA device found");
        cudaGetLastError();  // clear the sticky-free error state
        return nullptr;
    }
#ifndef TMINE_CUDA_EMULATION
    if (!load_libraries(why)) return nullptr;  // a GPU, but no cuBLAS / cuSPARSE to drive it
#endif
    auto r = std::make_shared<Resources>();
    r->device = std::max(which, 0) % count;
    TMINE_CUDA_CHECK(cudaSetDevice(r->device));
    cudaDeviceProp prop{};
    TMINE_CUDA_CHECK(cudaGetDeviceProperties(&prop, r->device));
    TMINE_CUDA_CHECK(cudaStreamCreateWithFlags(&r->stream, cudaStreamNonBlocking));
    TMINE_CUDA_CHECK(cublasCreate(&r->cublas));
    TMINE_CUDA_CHECK(cublasSetStream(r->cublas, r->stream));
    // cuBLAS's workspace given to it now (32 MiB, what NVIDIA advises for Hopper), from outside
    // the stream-ordered pool: the pool keeps what stages free (no release threshold), so a
    // workspace cuBLAS allocated itself later could find the device full. After
    // cublasSetStream, which would reset it to cuBLAS's own.
    // (At most 1/64 of the device: a small one keeps its memory for the data.)
    const size_t workspace = std::min<size_t>(size_t(32) << 20, (prop.totalGlobalMem / 64) & ~size_t(255));
    if (workspace > 0) {
        TMINE_CUDA_CHECK(cudaMalloc(&r->cublas_workspace, workspace));
        TMINE_CUDA_CHECK(cublasSetWorkspace(r->cublas, r->cublas_workspace, workspace));
    }
    TMINE_CUDA_CHECK(cusparseCreate(&r->cusparse));
    TMINE_CUDA_CHECK(cusparseSetStream(r->cusparse, r->stream));
    // Keep freed pool memory cached between stages instead of returning it to the driver.
    cudaMemPool_t pool;
    TMINE_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, r->device));
    uint64_t threshold = UINT64_MAX;
    TMINE_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
    r->name = prop.name;
    description = "cuda:" + std::to_string(r->device) + " " + r->name + " (" +
                  std::to_string(prop.totalGlobalMem >> 30) + " GiB, sm_" +
                  std::to_string(prop.major) + std::to_string(prop.minor) + ")";
    return r;
}

}  // namespace tmine::cuda_impl
