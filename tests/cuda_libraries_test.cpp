// cuBLAS and cuSPARSE are loaded on a GPU's first use, not at start-up
// (kernels/cuda_libraries.cpp): not mapped before, and every call forwarded to the real library
// after. Needs the toolkit's libraries, not a GPU: runs in the CUDA build on any machine.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#if defined(TMINE_WITH_CUDA) && !defined(TMINE_CUDA_EMULATION)
#include <cublas_v2.h>
#include <cusparse.h>

#include "cuda_api.hpp"

namespace {
bool mapped(const std::string& library) {
    std::ifstream f("/proc/self/maps");
    std::stringstream s;
    s << f.rdbuf();
    return s.str().find("/" + library) != std::string::npos;
}
}  // namespace

TEST(CudaLibraries, LoadedOnFirstUseAndForwarded) {
    ASSERT_TRUE(std::ifstream("/proc/self/maps").good());
    EXPECT_FALSE(mapped("libcublas")) << "cuBLAS is loaded at start-up";
    EXPECT_FALSE(mapped("libcusparse")) << "cuSPARSE is loaded at start-up";
    std::string why;
    ASSERT_TRUE(tmine::cuda_impl::load_libraries(why)) << why;
    EXPECT_TRUE(why.empty()) << why;
    EXPECT_TRUE(mapped("libcublas.so")) << "cuBLAS not loaded";
    EXPECT_TRUE(mapped("libcusparse.so")) << "cuSPARSE not loaded";
    // The library's own answers, through the forwarding entry points (not the text they give
    // when the library is missing).
    const std::string missing = "the library could not be loaded";
    const char* blas = cublasGetStatusString(CUBLAS_STATUS_INVALID_VALUE);
    const char* sparse = cusparseGetErrorString(CUSPARSE_STATUS_INVALID_VALUE);
    ASSERT_NE(blas, nullptr);
    ASSERT_NE(sparse, nullptr);
    EXPECT_NE(blas, missing);
    EXPECT_NE(sparse, missing);
    EXPECT_NE(std::string(blas), std::string(cublasGetStatusString(CUBLAS_STATUS_SUCCESS)));
    // A descriptor made and read back (host-side work only): every argument arrives.
    float values[6] = {};
    cusparseDnMatDescr_t d = nullptr;
    ASSERT_EQ(cusparseCreateDnMat(&d, 2, 3, 3, values, CUDA_R_32F, CUSPARSE_ORDER_ROW), CUSPARSE_STATUS_SUCCESS);
    int64_t rows = 0, cols = 0, ld = 0;
    void* p = nullptr;
    cudaDataType type{};
    cusparseOrder_t order{};
    ASSERT_EQ(cusparseDnMatGet(d, &rows, &cols, &ld, &p, &type, &order), CUSPARSE_STATUS_SUCCESS);
    EXPECT_EQ(rows, 2);
    EXPECT_EQ(cols, 3);
    EXPECT_EQ(ld, 3);
    EXPECT_EQ(p, static_cast<void*>(values));
    EXPECT_EQ(type, CUDA_R_32F);
    EXPECT_EQ(order, CUSPARSE_ORDER_ROW);
    EXPECT_EQ(cusparseDestroyDnMat(d), CUSPARSE_STATUS_SUCCESS);
}
#else
TEST(CudaLibraries, LoadedOnFirstUseAndForwarded) {
    GTEST_SKIP() << "not a CUDA build (the CPU-only and emulation builds load no CUDA library)";
}
#endif
