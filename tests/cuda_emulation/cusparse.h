#pragma once
// cuSPARSE as the emulation build sees it: CSR descriptors, dense descriptors and SpMM, with
// cuSPARSE's shape and type checks, a CSR structure check, and device-memory checks.
// CUSPARSE_SPMM_CSR_ALG2 and ALG3 are refused (CUSPARSE_STATUS_NOT_SUPPORTED) unless op(A) is A
// and both dense operands are row-major, so callers' fallbacks run.
#include <cstdint>

#include "cuda_runtime.h"

enum cusparseStatus_t {
    CUSPARSE_STATUS_SUCCESS = 0,
    CUSPARSE_STATUS_NOT_INITIALIZED = 1,
    CUSPARSE_STATUS_ALLOC_FAILED = 2,
    CUSPARSE_STATUS_INVALID_VALUE = 3,
    CUSPARSE_STATUS_EXECUTION_FAILED = 6,
    CUSPARSE_STATUS_NOT_SUPPORTED = 10,
    CUSPARSE_STATUS_INSUFFICIENT_RESOURCES = 11,
};
enum cusparseOperation_t {
    CUSPARSE_OPERATION_NON_TRANSPOSE = 0,
    CUSPARSE_OPERATION_TRANSPOSE = 1,
    CUSPARSE_OPERATION_CONJUGATE_TRANSPOSE = 2,
};
enum cusparseOrder_t { CUSPARSE_ORDER_COL = 1, CUSPARSE_ORDER_ROW = 2 };
enum cusparseIndexType_t { CUSPARSE_INDEX_32I = 2, CUSPARSE_INDEX_64I = 3 };
enum cusparseIndexBase_t { CUSPARSE_INDEX_BASE_ZERO = 0, CUSPARSE_INDEX_BASE_ONE = 1 };
enum cusparseSpMMAlg_t {
    CUSPARSE_SPMM_ALG_DEFAULT = 0,
    CUSPARSE_SPMM_CSR_ALG1 = 4,
    CUSPARSE_SPMM_CSR_ALG2 = 6,
    CUSPARSE_SPMM_CSR_ALG3 = 12,
};
struct EmuCusparse;
struct EmuSpMat;
struct EmuDnMat;
using cusparseHandle_t = EmuCusparse*;
using cusparseSpMatDescr_t = EmuSpMat*;
using cusparseDnMatDescr_t = EmuDnMat*;
using cusparseConstSpMatDescr_t = const EmuSpMat*;
using cusparseConstDnMatDescr_t = const EmuDnMat*;

cusparseStatus_t cusparseCreate(cusparseHandle_t* h);
cusparseStatus_t cusparseDestroy(cusparseHandle_t h);
cusparseStatus_t cusparseSetStream(cusparseHandle_t h, cudaStream_t s);
const char* cusparseGetErrorString(cusparseStatus_t s);

cusparseStatus_t cusparseCreateCsr(cusparseSpMatDescr_t* d, int64_t rows, int64_t cols, int64_t nnz,
                                   void* indptr, void* indices, void* values, cusparseIndexType_t ptr_type,
                                   cusparseIndexType_t idx_type, cusparseIndexBase_t base, cudaDataType type);
cusparseStatus_t cusparseDestroySpMat(cusparseConstSpMatDescr_t d);
cusparseStatus_t cusparseSpMatGetSize(cusparseConstSpMatDescr_t d, int64_t* rows, int64_t* cols, int64_t* nnz);
cusparseStatus_t cusparseCreateDnMat(cusparseDnMatDescr_t* d, int64_t rows, int64_t cols, int64_t ld,
                                     void* values, cudaDataType type, cusparseOrder_t order);
cusparseStatus_t cusparseDestroyDnMat(cusparseConstDnMatDescr_t d);
cusparseStatus_t cusparseDnMatGet(cusparseDnMatDescr_t d, int64_t* rows, int64_t* cols, int64_t* ld,
                                  void** values, cudaDataType* type, cusparseOrder_t* order);
cusparseStatus_t cusparseSpMM_bufferSize(cusparseHandle_t h, cusparseOperation_t opA, cusparseOperation_t opB,
                                         const void* alpha, cusparseConstSpMatDescr_t A,
                                         cusparseConstDnMatDescr_t B, const void* beta, cusparseDnMatDescr_t C,
                                         cudaDataType compute, cusparseSpMMAlg_t alg, size_t* bytes);
cusparseStatus_t cusparseSpMM(cusparseHandle_t h, cusparseOperation_t opA, cusparseOperation_t opB,
                              const void* alpha, cusparseConstSpMatDescr_t A, cusparseConstDnMatDescr_t B,
                              const void* beta, cusparseDnMatDescr_t C, cudaDataType compute,
                              cusparseSpMMAlg_t alg, void* buffer);
