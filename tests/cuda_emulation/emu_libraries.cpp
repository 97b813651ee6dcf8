// cuBLAS and cuSPARSE of the emulation build (cublas_v2.h, cusparse.h here): OpenBLAS for the
// dense routines, a plain loop for SpMM, and the checks a GPU run would fail on.
#include <cblas.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cublas_v2.h"
#include "cusparse.h"

struct EmuCublas {
    cublasMath_t math = CUBLAS_DEFAULT_MATH;
};
struct EmuCusparse {
    int id = 0;
};
struct EmuSpMat {
    int64_t rows, cols, nnz;
    void *indptr, *indices, *values;
    cusparseIndexType_t ptr_type, idx_type;
    cusparseIndexBase_t base;
    cudaDataType type;
};
struct EmuDnMat {
    int64_t rows, cols, ld;
    void* values;
    cudaDataType type;
    cusparseOrder_t order;
};

namespace {

using tmine_emu::is_device_range;

template <class S>
S complain(S status, const std::string& what) {
    std::fprintf(stderr, "tmine CUDA emulation: %s\n", what.c_str());
    return status;
}
cublasStatus_t bad(const char* call, const std::string& why) {
    return complain(CUBLAS_STATUS_INVALID_VALUE, std::string(call) + ": " + why);
}
/// Bytes spanned by a column-major rows x cols matrix with leading dimension ld.
size_t span(int64_t rows, int64_t cols, int64_t ld, size_t elem) {
    return rows > 0 && cols > 0 ? size_t((cols - 1) * ld + rows) * elem : 0;
}
bool dev(const void* p, size_t bytes) { return is_device_range(p, bytes); }

float to_tf32(float x) {
    uint32_t b;
    std::memcpy(&b, &x, 4);
    if ((b & 0x7f800000u) != 0x7f800000u) b = (b + 0xfffu + ((b >> 13) & 1u)) & ~0x1fffu;
    std::memcpy(&x, &b, 4);
    return x;
}
std::vector<float> tf32_copy(const float* p, size_t n) {
    std::vector<float> v(p, p + n);
    for (float& x : v) x = to_tf32(x);
    return v;
}
CBLAS_TRANSPOSE tr(cublasOperation_t t) { return t == CUBLAS_OP_N ? CblasNoTrans : CblasTrans; }

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* h) {
    *h = new EmuCublas;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t h) {
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t) {
    return h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}
cublasStatus_t cublasSetWorkspace(cublasHandle_t h, void* workspace, size_t bytes) {
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    // cuBLAS wants device memory of the size given, 256-byte aligned.
    if (bytes && (!dev(workspace, bytes) || reinterpret_cast<uintptr_t>(workspace) % 256 != 0)) {
        std::fprintf(stderr, "tmine emulation: cublasSetWorkspace: not device memory of %zu bytes, 256-aligned\n", bytes);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetMathMode(cublasHandle_t h, cublasMath_t* mode) {
    *mode = h->math;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t mode) {
    h->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}
const char* cublasGetStatusString(cublasStatus_t s) {
    switch (s) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        default: return "CUBLAS_STATUS_(emulated failure)";
    }
}

template <class T>
static cublasStatus_t gemm_checks(const char* call, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                  const T* A, int lda, const T* B, int ldb, T* C, int ldc) {
    if (m < 0 || n < 0 || k < 0) return bad(call, "negative size");
    const int ar = ta == CUBLAS_OP_N ? m : k, ac = ta == CUBLAS_OP_N ? k : m;
    const int br = tb == CUBLAS_OP_N ? k : n, bc = tb == CUBLAS_OP_N ? n : k;
    if (lda < std::max(1, ar)) return bad(call, "lda " + std::to_string(lda) + " < " + std::to_string(ar));
    if (ldb < std::max(1, br)) return bad(call, "ldb " + std::to_string(ldb) + " < " + std::to_string(br));
    if (ldc < std::max(1, m)) return bad(call, "ldc " + std::to_string(ldc) + " < " + std::to_string(m));
    if (!dev(A, span(ar, ac, lda, sizeof(T)))) return bad(call, "A is not a device matrix of that extent");
    if (!dev(B, span(br, bc, ldb, sizeof(T)))) return bad(call, "B is not a device matrix of that extent");
    if (!dev(C, span(m, n, ldc, sizeof(T)))) return bad(call, "C is not a device matrix of that extent");
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
    if (auto s = gemm_checks("cublasSgemm", ta, tb, m, n, k, A, lda, B, ldb, C, ldc)) return s;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    if (h->math == CUBLAS_TF32_TENSOR_OP_MATH && k > 0) {
        const int ar = ta == CUBLAS_OP_N ? m : k, ac = ta == CUBLAS_OP_N ? k : m;
        const int br = tb == CUBLAS_OP_N ? k : n, bc = tb == CUBLAS_OP_N ? n : k;
        // The matrices' extents only (the last column ends at its last row).
        auto a = tf32_copy(A, span(ar, ac, lda, 1)), b = tf32_copy(B, span(br, bc, ldb, 1));
        cblas_sgemm(CblasColMajor, tr(ta), tr(tb), m, n, k, *alpha, a.data(), lda, b.data(), ldb, *beta, C, ldc);
    } else {
        cblas_sgemm(CblasColMajor, tr(ta), tr(tb), m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
    }
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double* alpha, const double* A, int lda, const double* B, int ldb,
                           const double* beta, double* C, int ldc) {
    if (auto s = gemm_checks("cublasDgemm", ta, tb, m, n, k, A, lda, B, ldb, C, ldc)) return s;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    cblas_dgemm(CblasColMajor, tr(ta), tr(tb), m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDsyrk(cublasHandle_t, cublasFillMode_t uplo, cublasOperation_t trans, int n, int k,
                           const double* alpha, const double* A, int lda, const double* beta, double* C,
                           int ldc) {
    const char* call = "cublasDsyrk";
    if (n < 0 || k < 0) return bad(call, "negative size");
    const int ar = trans == CUBLAS_OP_N ? n : k, ac = trans == CUBLAS_OP_N ? k : n;
    if (lda < std::max(1, ar)) return bad(call, "lda too small");
    if (ldc < std::max(1, n)) return bad(call, "ldc too small");
    if (!dev(A, span(ar, ac, lda, 8)) || !dev(C, span(n, n, ldc, 8))) return bad(call, "not device matrices");
    if (n == 0) return CUBLAS_STATUS_SUCCESS;
    cblas_dsyrk(CblasColMajor, uplo == CUBLAS_FILL_MODE_UPPER ? CblasUpper : CblasLower, tr(trans), n, k, *alpha, A,
                lda, *beta, C, ldc);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDtrsm(cublasHandle_t, cublasSideMode_t side, cublasFillMode_t uplo, cublasOperation_t trans,
                           cublasDiagType_t diag, int m, int n, const double* alpha, const double* A, int lda,
                           double* B, int ldb) {
    const char* call = "cublasDtrsm";
    if (m < 0 || n < 0) return bad(call, "negative size");
    const int a = side == CUBLAS_SIDE_LEFT ? m : n;
    if (lda < std::max(1, a)) return bad(call, "lda too small");
    if (ldb < std::max(1, m)) return bad(call, "ldb too small");
    if (!dev(A, span(a, a, lda, 8)) || !dev(B, span(m, n, ldb, 8))) return bad(call, "not device matrices");
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    cblas_dtrsm(CblasColMajor, side == CUBLAS_SIDE_LEFT ? CblasLeft : CblasRight,
                uplo == CUBLAS_FILL_MODE_UPPER ? CblasUpper : CblasLower, tr(trans),
                diag == CUBLAS_DIAG_UNIT ? CblasUnit : CblasNonUnit, m, n, *alpha, A, lda, B, ldb);
    return CUBLAS_STATUS_SUCCESS;
}
static size_t vec_span(int n, int inc) { return n > 0 ? size_t(int64_t(n - 1) * std::abs(inc) + 1) * 8 : 0; }
cublasStatus_t cublasDaxpy(cublasHandle_t, int n, const double* alpha, const double* x, int incx, double* y,
                           int incy) {
    if (!dev(x, vec_span(n, incx)) || !dev(y, vec_span(n, incy))) return bad("cublasDaxpy", "not device vectors");
    if (n > 0) cblas_daxpy(n, *alpha, x, incx, y, incy);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDgemv(cublasHandle_t, cublasOperation_t trans, int m, int n, const double* alpha,
                           const double* A, int lda, const double* x, int incx, const double* beta, double* y,
                           int incy) {
    const char* call = "cublasDgemv";
    if (m < 0 || n < 0) return bad(call, "negative size");
    if (lda < std::max(1, m)) return bad(call, "lda too small");
    const int xl = trans == CUBLAS_OP_N ? n : m, yl = trans == CUBLAS_OP_N ? m : n;
    if (!dev(A, span(m, n, lda, 8)) || !dev(x, vec_span(xl, incx)) || !dev(y, vec_span(yl, incy)))
        return bad(call, "not device memory of that extent");
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    cblas_dgemv(CblasColMajor, tr(trans), m, n, *alpha, A, lda, x, incx, *beta, y, incy);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDasum(cublasHandle_t, int n, const double* x, int incx, double* result) {
    if (!dev(x, vec_span(n, incx))) return bad("cublasDasum", "not a device vector");
    *result = n > 0 ? cblas_dasum(n, x, incx) : 0.0;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDdot(cublasHandle_t, int n, const double* x, int incx, const double* y, int incy,
                          double* result) {
    if (!dev(x, vec_span(n, incx)) || !dev(y, vec_span(n, incy))) return bad("cublasDdot", "not device vectors");
    *result = n > 0 ? cblas_ddot(n, x, incx, y, incy) : 0.0;
    return CUBLAS_STATUS_SUCCESS;
}

// ---- cuSPARSE ----
namespace {
cusparseStatus_t sbad(const char* call, const std::string& why) {
    return complain(CUSPARSE_STATUS_INVALID_VALUE, std::string(call) + ": " + why);
}
size_t type_size(cudaDataType t) { return t == CUDA_R_32F ? 4 : 8; }
size_t index_size(cusparseIndexType_t t) { return t == CUSPARSE_INDEX_32I ? 4 : 8; }
int64_t index_at(const void* p, cusparseIndexType_t t, int64_t i) {
    return t == CUSPARSE_INDEX_32I ? static_cast<const int32_t*>(p)[i] : static_cast<const int64_t*>(p)[i];
}
/// Bytes a dense descriptor spans.
size_t dense_span(const EmuDnMat& d) {
    return d.order == CUSPARSE_ORDER_ROW ? span(d.cols, d.rows, d.ld, type_size(d.type))
                                         : span(d.rows, d.cols, d.ld, type_size(d.type));
}

template <class T>
void spmm(bool transA, T alpha, const EmuSpMat& A, const EmuDnMat& B, T beta, const EmuDnMat& C) {
    const T* b = static_cast<const T*>(B.values);
    T* c = static_cast<T*>(C.values);
    const T* v = static_cast<const T*>(A.values);
    auto at = [](const EmuDnMat& d, int64_t i, int64_t j) {
        return d.order == CUSPARSE_ORDER_ROW ? i * d.ld + j : j * d.ld + i;
    };
    const int64_t n = C.cols;
    for (int64_t i = 0; i < C.rows; ++i)
        for (int64_t j = 0; j < n; ++j) {
            T& y = c[at(C, i, j)];
            // C is scaled first, with beta 0 too: cuSPARSE does not promise not to read C,
            // so uninitialised pool memory (NaN here) in C shows.
            y = beta * y;
        }
    if (A.nnz == 0) return;
    const int64_t base = A.base;
    for (int64_t r = 0; r < A.rows; ++r)
        for (int64_t p = index_at(A.indptr, A.ptr_type, r) - base; p < index_at(A.indptr, A.ptr_type, r + 1) - base;
             ++p) {
            const int64_t col = index_at(A.indices, A.idx_type, p) - base;
            const T av = alpha * v[p];
            const int64_t out = transA ? col : r, in = transA ? r : col;
            for (int64_t j = 0; j < n; ++j) c[at(C, out, j)] += av * b[at(B, in, j)];
        }
}

cusparseStatus_t spmm_checks(const char* call, cusparseOperation_t opA, cusparseOperation_t opB,
                             const EmuSpMat* A, const EmuDnMat* B, const EmuDnMat* C, cudaDataType compute,
                             cusparseSpMMAlg_t alg) {
    if (!A || !B || !C) return sbad(call, "null descriptor");
    if (opB != CUSPARSE_OPERATION_NON_TRANSPOSE || opA == CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE)
        return complain(CUSPARSE_STATUS_NOT_SUPPORTED, std::string(call) + ": op(B) other than B (emulation)");
    if (A->type != compute || B->type != compute || C->type != compute)
        return sbad(call, "value types differ from the compute type");
    const bool tA = opA == CUSPARSE_OPERATION_TRANSPOSE;
    const int64_t m = tA ? A->cols : A->rows, k = tA ? A->rows : A->cols;
    if (B->rows != k || C->rows != m || C->cols != B->cols)
        return sbad(call, "shapes: op(A) " + std::to_string(m) + "x" + std::to_string(k) + ", B " +
                              std::to_string(B->rows) + "x" + std::to_string(B->cols) + ", C " +
                              std::to_string(C->rows) + "x" + std::to_string(C->cols));
    if ((alg == CUSPARSE_SPMM_CSR_ALG2 || alg == CUSPARSE_SPMM_CSR_ALG3) &&
        (tA || B->order != CUSPARSE_ORDER_ROW || C->order != CUSPARSE_ORDER_ROW))
        return CUSPARSE_STATUS_NOT_SUPPORTED;
    if (!dev(B->values, dense_span(*B)) || !dev(C->values, dense_span(*C)))
        return sbad(call, "dense operands are not device memory of their extent");
    return CUSPARSE_STATUS_SUCCESS;
}
constexpr size_t kWorkspace = 256;  // what bufferSize asks for, so the buffer is checked
}  // namespace

cusparseStatus_t cusparseCreate(cusparseHandle_t* h) {
    *h = new EmuCusparse;
    return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseDestroy(cusparseHandle_t h) {
    delete h;
    return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseSetStream(cusparseHandle_t, cudaStream_t) { return CUSPARSE_STATUS_SUCCESS; }
const char* cusparseGetErrorString(cusparseStatus_t s) {
    switch (s) {
        case CUSPARSE_STATUS_SUCCESS: return "success";
        case CUSPARSE_STATUS_INVALID_VALUE: return "invalid value";
        case CUSPARSE_STATUS_NOT_SUPPORTED: return "not supported";
        default: return "emulated failure";
    }
}

cusparseStatus_t cusparseCreateCsr(cusparseSpMatDescr_t* d, int64_t rows, int64_t cols, int64_t nnz, void* indptr,
                                   void* indices, void* values, cusparseIndexType_t ptr_type,
                                   cusparseIndexType_t idx_type, cusparseIndexBase_t base, cudaDataType type) {
    const char* call = "cusparseCreateCsr";
    if (rows < 0 || cols < 0 || nnz < 0) return sbad(call, "negative size");
    if (indptr && !dev(indptr, size_t(rows + 1) * index_size(ptr_type))) return sbad(call, "row offsets not on the device");
    // Null arrays are refused for an empty matrix too: cuSPARSE does not document them as allowed.
    if (!indices || !values || !dev(indices, size_t(nnz) * index_size(idx_type)) ||
        !dev(values, size_t(nnz) * type_size(type)))
        return sbad(call, "indices or values not on the device");
    if (nnz > 0 && indptr) {  // the structure cuSPARSE assumes and does not check
        if (index_at(indptr, ptr_type, 0) != base || index_at(indptr, ptr_type, rows) - base != nnz)
            return sbad(call, "row offsets do not span the non-zeros");
        for (int64_t r = 0; r < rows; ++r)
            if (index_at(indptr, ptr_type, r + 1) < index_at(indptr, ptr_type, r)) return sbad(call, "offsets decrease");
        for (int64_t p = 0; p < nnz; ++p) {
            const int64_t c = index_at(indices, idx_type, p) - base;
            if (c < 0 || c >= cols) return sbad(call, "column index out of range");
        }
    }
    *d = new EmuSpMat{rows, cols, nnz, indptr, indices, values, ptr_type, idx_type, base, type};
    return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseDestroySpMat(cusparseConstSpMatDescr_t d) {
    delete d;
    return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseSpMatGetSize(cusparseConstSpMatDescr_t d, int64_t* rows, int64_t* cols, int64_t* nnz) {
    *rows = d->rows;
    *cols = d->cols;
    *nnz = d->nnz;
    return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseCreateDnMat(cusparseDnMatDescr_t* d, int64_t rows, int64_t cols, int64_t ld, void* values,
                                     cudaDataType type, cusparseOrder_t order) {
    const char* call = "cusparseCreateDnMat";
    if (rows < 0 || cols < 0) return sbad(call, "negative size");
    if (ld < std::max<int64_t>(1, order == CUSPARSE_ORDER_ROW ? cols : rows)) return sbad(call, "leading dimension too small");
    EmuDnMat m{rows, cols, ld, values, type, order};
    if (!dev(values, dense_span(m))) return sbad(call, "values are not device memory of that extent");
    *d = new EmuDnMat(m);
    return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseDestroyDnMat(cusparseConstDnMatDescr_t d) {
    delete d;
    return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseDnMatGet(cusparseDnMatDescr_t d, int64_t* rows, int64_t* cols, int64_t* ld, void** values,
                                  cudaDataType* type, cusparseOrder_t* order) {
    *rows = d->rows;
    *cols = d->cols;
    *ld = d->ld;
    *values = d->values;
    *type = d->type;
    *order = d->order;
    return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseSpMM_bufferSize(cusparseHandle_t, cusparseOperation_t opA, cusparseOperation_t opB,
                                         const void*, cusparseConstSpMatDescr_t A, cusparseConstDnMatDescr_t B,
                                         const void*, cusparseDnMatDescr_t C, cudaDataType compute,
                                         cusparseSpMMAlg_t alg, size_t* bytes) {
    if (auto s = spmm_checks("cusparseSpMM_bufferSize", opA, opB, A, B, C, compute, alg)) return s;
    *bytes = kWorkspace;
    return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseSpMM(cusparseHandle_t, cusparseOperation_t opA, cusparseOperation_t opB, const void* alpha,
                              cusparseConstSpMatDescr_t A, cusparseConstDnMatDescr_t B, const void* beta,
                              cusparseDnMatDescr_t C, cudaDataType compute, cusparseSpMMAlg_t alg, void* buffer) {
    const char* call = "cusparseSpMM";
    if (auto s = spmm_checks(call, opA, opB, A, B, C, compute, alg)) return s;
    if (!dev(buffer, kWorkspace)) return sbad(call, "the workspace is not device memory of bufferSize's size");
    if (A->nnz > 0 && (!A->indptr || !A->indices || !A->values)) return sbad(call, "sparse arrays missing");
    const bool tA = opA == CUSPARSE_OPERATION_TRANSPOSE;
    if (compute == CUDA_R_32F)
        spmm<float>(tA, *static_cast<const float*>(alpha), *A, *B, *static_cast<const float*>(beta), *C);
    else
        spmm<double>(tA, *static_cast<const double*>(alpha), *A, *B, *static_cast<const double*>(beta), *C);
    return CUSPARSE_STATUS_SUCCESS;
}
