#pragma once
/// Transparent huge pages for large arrays, whichever thread allocates them, and arrays that
/// are not zeroed before their first real write.
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace tmine {

/// An allocator that puts arrays of a megabyte or more on transparent huge pages: it maps them
/// itself, 2 MiB aligned, and asks for huge pages (MADV_HUGEPAGE) before they are first
/// written; smaller ones come from operator new. Elements made without a value are
/// default-initialised: resize() of a vector of numbers leaves them unwritten, so the pages of
/// an output array are first touched by the (parallel) code that fills it, not by a zero fill
/// on one thread. (On the 2-core VM a first touch costs about 1 s per 0.5 GB.)
///
/// Why: randomly probed tables (the tokenizer's term tables) pay a TLB miss per probe on 4 KiB
/// pages. The tmine program turns huge pages on for glibc's heap (glibc.malloc.hugetlb,
/// docs/architecture.md "Memory"), but glibc 2.36 does so only for the main arena: what an
/// OpenMP worker allocates comes from its own arena, on 4 KiB pages (seen in /proc/PID/smaps).
/// Where THP is off the hint does nothing and this is a plain mmap.
template <class T>
struct HugeAllocator {
    using value_type = T;
    static constexpr size_t kHuge = size_t(2) << 20;
    static constexpr size_t kMinBytes = size_t(1) << 20;

    HugeAllocator() = default;
    template <class U>
    HugeAllocator(const HugeAllocator<U>&) {}

    T* allocate(size_t n) {
        if (n > SIZE_MAX / 2 / sizeof(T)) throw std::bad_array_new_length();  // round_up, + kHuge
        const size_t bytes = n * sizeof(T);
        if (bytes < kMinBytes) return std::allocator<T>().allocate(n);
        const size_t len = round_up(bytes);
        void* raw = mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) throw std::bad_alloc();
        // Keep the 2 MiB-aligned len bytes inside, unmap the slack on either side.
        const auto start = reinterpret_cast<uintptr_t>(raw);
        const uintptr_t aligned = (start + kHuge - 1) & ~uintptr_t(kHuge - 1);
        if (aligned > start) munmap(raw, aligned - start);
        const uintptr_t tail = start + len + kHuge - (aligned + len);
        if (tail) munmap(reinterpret_cast<void*>(aligned + len), tail);
#if defined(MADV_HUGEPAGE)
        madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);
#endif
        return reinterpret_cast<T*>(aligned);
    }
    void deallocate(T* p, size_t n) noexcept {
        const size_t bytes = n * sizeof(T);
        if (bytes < kMinBytes) {
            std::allocator<T>().deallocate(p, n);
            return;
        }
        munmap(p, round_up(bytes));
    }
    static size_t round_up(size_t bytes) { return (bytes + kHuge - 1) & ~(kHuge - 1); }

    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible<U>::value) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }

    template <class U>
    bool operator==(const HugeAllocator<U>&) const { return true; }
    template <class U>
    bool operator!=(const HugeAllocator<U>&) const { return false; }
};

/// A vector on huge pages once it is a megabyte or more.
template <class T>
using HugeVector = std::vector<T, HugeAllocator<T>>;

}  // namespace tmine
