#pragma once
// The CPU kernels' instruction-set levels in tests (host/src/dense_small_cpu.cpp,
// host/src/sparse_cpu.cpp): every level the test machine runs, not only the one a fit picks.
#include <gtest/gtest.h>

#include "sparse_cpu.hpp"

namespace tmine::test {

/// Runs `check` once per kernel level this CPU runs (baseline, AVX2, AVX-512), then restores
/// the level in use.
template <class F>
inline void for_each_level(F check) {
    struct Restore {  // the level in use comes back however the checks end
        int before = tmine::cpu_impl::small_kernel_level();
        ~Restore() { tmine::cpu_impl::set_small_kernel_level(before); }
    } restore;
    for (int level = 1; level <= tmine::cpu_impl::best_small_kernel_level(); ++level) {
        ASSERT_EQ(tmine::cpu_impl::set_small_kernel_level(level), level);
        SCOPED_TRACE(tmine::cpu_impl::small_kernel_name(level));
        check();
        if (::testing::Test::HasFatalFailure()) break;
    }
}

}  // namespace tmine::test
