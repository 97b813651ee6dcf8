#pragma once
/// Exceptions and OpenMP: an exception that leaves a parallel region ends the program
/// (std::terminate), so a bad_alloc or an InputError thrown by one thread must be caught there
/// and rethrown after the region, on the calling thread.
///
///     ParallelErrors errors;
///     #pragma omp parallel for
///     for (int p = 0; p < parts; ++p)
///         errors.run([&] { ... });
///     errors.rethrow();
///
/// The first exception is kept; once one is caught, later run() calls do nothing (the work is
/// abandoned; the parts already running finish their own body).
#include <atomic>
#include <exception>
#include <mutex>

namespace tmine {

class ParallelErrors {
public:
    template <class F>
    void run(F&& body) noexcept {
        if (failed_.load(std::memory_order_relaxed)) return;
        try {
            body();
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!first_) first_ = std::current_exception();
            failed_ = true;
        }
    }
    bool failed() const { return failed_.load(std::memory_order_relaxed); }
    /// After the region: the first exception caught, if any.
    void rethrow() {
        if (first_) std::rethrow_exception(first_);
    }

private:
    std::mutex mutex_;
    std::exception_ptr first_;
    std::atomic<bool> failed_{false};
};

}  // namespace tmine
