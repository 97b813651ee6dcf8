// cuBLAS and cuSPARSE, loaded when a GPU context is first made rather than when tmine starts
// (docs/architecture.md "The CUDA libraries, loaded on demand").
//
// Linked as shared libraries, they cost every tmine command about 0.2 s and 250 MB of resident
// memory at start-up (mostly libcublasLt's relocations), CPU-only ones included, and a CUDA
// build would not start at all on a machine without them. Here each entry point tmine calls is
// defined with the library's own prototype (the header declares it: a wrong one does not
// compile) and forwards to the real function, found with dlsym in the library dlopen()ed on the
// first call. The CUDA runtime itself is linked statically (CUDA::cudart_static), so a CUDA
// build needs nothing of the toolkit until it uses a GPU.
//
// Not in the emulation build (tests/cuda_emulation has its own cuBLAS and cuSPARSE).
#include <cublas_v2.h>
#include <cusparse.h>
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "cuda_api.hpp"

#if !defined(TMINE_CUBLAS_SONAME) || !defined(TMINE_CUSPARSE_SONAME) || !defined(TMINE_CUDA_LIBRARY_DIR)
#error "TMINE_CUBLAS_SONAME, TMINE_CUSPARSE_SONAME (e.g. libcublas.so.13) and TMINE_CUDA_LIBRARY_DIR are set by CMakeLists.txt"
#endif

namespace {

/// One shared library, opened once, on first use; never closed (RTLD_NODELETE: cuBLAS keeps
/// state past its handles' lifetime).
class Library {
public:
    Library(const char* soname, const char* toolkit_dir) : soname_(soname), toolkit_dir_(toolkit_dir) {}
    /// The library's `name`, or nullptr when the library or the name is missing.
    void* symbol(const char* name) {
        std::call_once(once_, [this] { open(); });
        return handle_ ? dlsym(handle_, name) : nullptr;
    }
    /// Empty when the library loaded, else why not.
    const std::string& error() {
        std::call_once(once_, [this] { open(); });
        return error_;
    }

private:
    void open() {
        // The loader's search first (LD_LIBRARY_PATH, ld.so.cache), then the toolkit tmine was
        // built against and the usual install places.
        const std::string tries[] = {soname_, std::string(toolkit_dir_) + "/" + soname_,
                                     "/usr/local/cuda/lib64/" + soname_, "/usr/local/cuda/lib/" + soname_};
        std::string first_error;  // the loader's search's, the most telling
        for (const std::string& path : tries) {
            handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
            if (handle_) return;
            if (first_error.empty()) {
                const char* e = dlerror();
                first_error = e ? e : soname_ + ": cannot be loaded";
            }
        }
        error_ = first_error;
    }
    std::string soname_;
    const char* toolkit_dir_;
    std::once_flag once_;
    void* handle_ = nullptr;
    std::string error_;
};

Library& cublas_library() {
    static Library l(TMINE_CUBLAS_SONAME, TMINE_CUDA_LIBRARY_DIR);
    return l;
}
Library& cusparse_library() {
    static Library l(TMINE_CUSPARSE_SONAME, TMINE_CUDA_LIBRARY_DIR);
    return l;
}

/// What an entry point returns when its library is missing.
template <class R>
R missing();
template <>
cublasStatus_t missing<cublasStatus_t>() { return CUBLAS_STATUS_NOT_INITIALIZED; }
template <>
cusparseStatus_t missing<cusparseStatus_t>() { return CUSPARSE_STATUS_NOT_INITIALIZED; }
template <>
const char* missing<const char*>() { return "the library could not be loaded"; }

}  // namespace

// ret name params: forwards `args` to the library's own `name`.
#define TMINE_FORWARD(library, ret, name, params, args)                                   \
    extern "C" ret name params {                                                           \
        using Fn = ret(*) params;                                                          \
        static const Fn f = reinterpret_cast<Fn>(library().symbol(#name));                 \
        if (!f) return missing<ret>();                                                     \
        return f args;                                                                     \
    }
#define TMINE_CUBLAS(ret, name, params, args) TMINE_FORWARD(cublas_library, ret, name, params, args)
#define TMINE_CUSPARSE(ret, name, params, args) TMINE_FORWARD(cusparse_library, ret, name, params, args)

using Str = const char*;

TMINE_CUBLAS(cublasStatus_t, cublasCreate_v2, (cublasHandle_t * handle), (handle))
TMINE_CUBLAS(cublasStatus_t, cublasDestroy_v2, (cublasHandle_t handle), (handle))
TMINE_CUBLAS(cublasStatus_t, cublasSetStream_v2, (cublasHandle_t handle, cudaStream_t streamId), (handle, streamId))
TMINE_CUBLAS(cublasStatus_t, cublasSetWorkspace_v2, (cublasHandle_t handle, void* workspace, size_t workspaceSizeInBytes),
             (handle, workspace, workspaceSizeInBytes))
TMINE_CUBLAS(cublasStatus_t, cublasGetMathMode, (cublasHandle_t handle, cublasMath_t* mode), (handle, mode))
TMINE_CUBLAS(cublasStatus_t, cublasSetMathMode, (cublasHandle_t handle, cublasMath_t mode), (handle, mode))
TMINE_CUBLAS(Str, cublasGetStatusString, (cublasStatus_t status), (status))
TMINE_CUBLAS(cublasStatus_t, cublasDasum_v2, (cublasHandle_t handle, int n, const double* x, int incx, double* result),
             (handle, n, x, incx, result))
TMINE_CUBLAS(cublasStatus_t, cublasDaxpy_v2,
             (cublasHandle_t handle, int n, const double* alpha, const double* x, int incx, double* y, int incy),
             (handle, n, alpha, x, incx, y, incy))
TMINE_CUBLAS(cublasStatus_t, cublasDdot_v2,
             (cublasHandle_t handle, int n, const double* x, int incx, const double* y, int incy, double* result),
             (handle, n, x, incx, y, incy, result))
TMINE_CUBLAS(cublasStatus_t, cublasDgemv_v2,
             (cublasHandle_t handle, cublasOperation_t trans, int m, int n, const double* alpha, const double* A, int lda,
              const double* x, int incx, const double* beta, double* y, int incy),
             (handle, trans, m, n, alpha, A, lda, x, incx, beta, y, incy))
TMINE_CUBLAS(cublasStatus_t, cublasDsyrk_v2,
             (cublasHandle_t handle, cublasFillMode_t uplo, cublasOperation_t trans, int n, int k, const double* alpha,
              const double* A, int lda, const double* beta, double* C, int ldc),
             (handle, uplo, trans, n, k, alpha, A, lda, beta, C, ldc))
TMINE_CUBLAS(cublasStatus_t, cublasDtrsm_v2,
             (cublasHandle_t handle, cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t trans,
              cublasDiagType_t diag, int m, int n, const double* alpha, const double* A, int lda, double* B, int ldb),
             (handle, side, uplo, trans, diag, m, n, alpha, A, lda, B, ldb))
TMINE_CUBLAS(cublasStatus_t, cublasSgemm_v2,
             (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
              const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta, float* C,
              int ldc),
             (handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc))

TMINE_CUSPARSE(cusparseStatus_t, cusparseCreate, (cusparseHandle_t * handle), (handle))
TMINE_CUSPARSE(cusparseStatus_t, cusparseDestroy, (cusparseHandle_t handle), (handle))
TMINE_CUSPARSE(cusparseStatus_t, cusparseSetStream, (cusparseHandle_t handle, cudaStream_t streamId), (handle, streamId))
TMINE_CUSPARSE(Str, cusparseGetErrorString, (cusparseStatus_t status), (status))
TMINE_CUSPARSE(cusparseStatus_t, cusparseCreateCsr,
               (cusparseSpMatDescr_t * spMatDescr, int64_t rows, int64_t cols, int64_t nnz, void* csrRowOffsets,
                void* csrColInd, void* csrValues, cusparseIndexType_t csrRowOffsetsType,
                cusparseIndexType_t csrColIndType, cusparseIndexBase_t idxBase, cudaDataType valueType),
               (spMatDescr, rows, cols, nnz, csrRowOffsets, csrColInd, csrValues, csrRowOffsetsType, csrColIndType,
                idxBase, valueType))
TMINE_CUSPARSE(cusparseStatus_t, cusparseDestroySpMat, (cusparseConstSpMatDescr_t spMatDescr), (spMatDescr))
TMINE_CUSPARSE(cusparseStatus_t, cusparseSpMatGetSize,
               (cusparseConstSpMatDescr_t spMatDescr, int64_t* rows, int64_t* cols, int64_t* nnz),
               (spMatDescr, rows, cols, nnz))
TMINE_CUSPARSE(cusparseStatus_t, cusparseCreateDnMat,
               (cusparseDnMatDescr_t * dnMatDescr, int64_t rows, int64_t cols, int64_t ld, void* values,
                cudaDataType valueType, cusparseOrder_t order),
               (dnMatDescr, rows, cols, ld, values, valueType, order))
TMINE_CUSPARSE(cusparseStatus_t, cusparseDestroyDnMat, (cusparseConstDnMatDescr_t dnMatDescr), (dnMatDescr))
TMINE_CUSPARSE(cusparseStatus_t, cusparseDnMatGet,
               (cusparseDnMatDescr_t dnMatDescr, int64_t* rows, int64_t* cols, int64_t* ld, void** values,
                cudaDataType* type, cusparseOrder_t* order),
               (dnMatDescr, rows, cols, ld, values, type, order))
TMINE_CUSPARSE(cusparseStatus_t, cusparseSpMM_bufferSize,
               (cusparseHandle_t handle, cusparseOperation_t opA, cusparseOperation_t opB, const void* alpha,
                cusparseConstSpMatDescr_t matA, cusparseConstDnMatDescr_t matB, const void* beta,
                cusparseDnMatDescr_t matC, cudaDataType computeType, cusparseSpMMAlg_t alg, size_t* bufferSize),
               (handle, opA, opB, alpha, matA, matB, beta, matC, computeType, alg, bufferSize))
TMINE_CUSPARSE(cusparseStatus_t, cusparseSpMM,
               (cusparseHandle_t handle, cusparseOperation_t opA, cusparseOperation_t opB, const void* alpha,
                cusparseConstSpMatDescr_t matA, cusparseConstDnMatDescr_t matB, const void* beta,
                cusparseDnMatDescr_t matC, cudaDataType computeType, cusparseSpMMAlg_t alg, void* externalBuffer),
               (handle, opA, opB, alpha, matA, matB, beta, matC, computeType, alg, externalBuffer))

namespace tmine::cuda_impl {

bool load_libraries(std::string& why) {
    for (Library* l : {&cublas_library(), &cusparse_library()})
        if (!l->error().empty()) {
            why = "the CUDA libraries tmine uses could not be loaded (" + l->error() +
                  "; install the CUDA toolkit's cuBLAS and cuSPARSE, or set LD_LIBRARY_PATH)";
            return false;
        }
    // Every entry point there, so that an older library fails here, with its name, rather
    // than as CUBLAS_STATUS_NOT_INITIALIZED in the middle of a fit.
    static const char* const cublas_names[] = {
        "cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasSetWorkspace_v2",
        "cublasGetMathMode", "cublasSetMathMode", "cublasGetStatusString", "cublasDasum_v2",
        "cublasDaxpy_v2", "cublasDdot_v2", "cublasDgemv_v2", "cublasDsyrk_v2", "cublasDtrsm_v2",
        "cublasSgemm_v2"};
    static const char* const cusparse_names[] = {
        "cusparseCreate", "cusparseDestroy", "cusparseSetStream", "cusparseGetErrorString",
        "cusparseCreateCsr", "cusparseDestroySpMat", "cusparseSpMatGetSize", "cusparseCreateDnMat",
        "cusparseDestroyDnMat", "cusparseDnMatGet", "cusparseSpMM_bufferSize", "cusparseSpMM"};
    for (const char* name : cublas_names)
        if (!cublas_library().symbol(name)) {
            why = std::string("the loaded cuBLAS (") + TMINE_CUBLAS_SONAME + ") has no " + name +
                  ": install the CUDA toolkit tmine was built with";
            return false;
        }
    for (const char* name : cusparse_names)
        if (!cusparse_library().symbol(name)) {
            why = std::string("the loaded cuSPARSE (") + TMINE_CUSPARSE_SONAME + ") has no " + name +
                  ": install the CUDA toolkit tmine was built with";
            return false;
        }
    return true;
}

}  // namespace tmine::cuda_impl
