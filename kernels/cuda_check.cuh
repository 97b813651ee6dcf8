#pragma once
// One checking macro per library (STYLE.md §5): every CUDA / cuBLAS / cuSPARSE call goes
// through it; kernel launches are followed by TMINE_CUDA_LAUNCH_CHECK().
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusparse.h>

#include <string>

#include "tmine/error.hpp"

namespace tmine::cuda_impl {

[[noreturn]] inline void cuda_fail(const std::string& what, const char* file, int line) {
    throw DeviceError(what + " (" + file + ":" + std::to_string(line) + ")");
}

/// The one message for a shortage of device memory, whichever library ran out.
[[noreturn]] inline void out_of_memory(const char* call, const char* file, int line) {
    throw DeviceCapacityError(std::string("GPU out of memory in ") + call +
                              ": use a smaller corpus / k, or --device cpu (" + file + ":" +
                              std::to_string(line) + ")");
}

inline void check(cudaError_t e, const char* call, const char* file, int line) {
    if (e == cudaSuccess) return;
    if (e == cudaErrorMemoryAllocation) out_of_memory(call, file, line);
    cuda_fail(std::string("CUDA error in ") + call + ": " + cudaGetErrorString(e), file, line);
}
inline void check(cublasStatus_t e, const char* call, const char* file, int line) {
    if (e == CUBLAS_STATUS_SUCCESS) return;
    if (e == CUBLAS_STATUS_ALLOC_FAILED) out_of_memory(call, file, line);
    cuda_fail(std::string("cuBLAS error in ") + call + ": " + cublasGetStatusString(e), file, line);
}
inline void check(cusparseStatus_t e, const char* call, const char* file, int line) {
    if (e == CUSPARSE_STATUS_SUCCESS) return;
    if (e == CUSPARSE_STATUS_ALLOC_FAILED || e == CUSPARSE_STATUS_INSUFFICIENT_RESOURCES)
        out_of_memory(call, file, line);
    cuda_fail(std::string("cuSPARSE error in ") + call + ": " + cusparseGetErrorString(e), file,
              line);
}

}  // namespace tmine::cuda_impl

#define TMINE_CUDA_CHECK(call) ::tmine::cuda_impl::check((call), #call, __FILE__, __LINE__)
#define TMINE_CUDA_LAUNCH_CHECK() TMINE_CUDA_CHECK(cudaGetLastError())
/// For destructors: never throws.
#define TMINE_CUDA_CHECK_NOTHROW(call) (void)(call)

/// A kernel launch, `TMINE_LAUNCH(kernel, blocks, threads, stream)(args...)`, is
/// `kernel<<<blocks, threads, 0, stream>>>(args...)`. The macro lets the emulation build
/// (tests/cuda_emulation, -DTMINE_CUDA_EMULATION=ON) compile the same kernels with g++ and
/// run them on the CPU.
#ifdef TMINE_CUDA_EMULATION
#define TMINE_LAUNCH(kernel, blocks, threads, stream) \
    ((void)(stream), ::tmine_emu::launch_named(kernel, #kernel, blocks, threads))
#else
#define TMINE_LAUNCH(kernel, blocks, threads, stream) kernel<<<blocks, threads, 0, stream>>>
#endif
