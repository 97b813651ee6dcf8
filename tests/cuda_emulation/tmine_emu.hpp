#pragma once
// Kernel launches of the emulation build (TMINE_LAUNCH in kernels/cuda_check.cuh).
#include <functional>
#include <tuple>
#include <utility>

namespace tmine_emu {

/// Whether [p, p + bytes) lies inside one live device allocation. Null with no bytes is fine.
bool is_device_range(const void* p, size_t bytes);
/// Records a launch error (a host pointer passed to a kernel): cudaGetLastError() returns it.
void launch_error(const char* kernel, int argument, const void* p);
/// Runs `thread` for every thread of every block, with threadIdx/blockIdx set.
void run_grid(const char* kernel, const void* key, unsigned blocks, unsigned threads,
              const std::function<void()>& thread);

template <class... P>
struct Launcher {
    void (*kernel)(P...);
    const char* name;
    unsigned blocks, threads;

    template <class... A>
    void operator()(A&&... args) const {
        std::tuple<P...> params(std::forward<A>(args)...);  // converted as a launch does
        if (!check(params, std::index_sequence_for<P...>{})) return;
        run_grid(name, reinterpret_cast<const void*>(kernel), blocks, threads,
                 [&] { std::apply(kernel, params); });  // each thread gets its own copies
    }

private:
    template <size_t... I>
    bool check(const std::tuple<P...>& params, std::index_sequence<I...>) const {
        bool ok = true;
        (check_one(std::get<I>(params), int(I), ok), ...);
        return ok;
    }
    template <class T>
    void check_one(const T& v, int i, bool& ok) const {
        if constexpr (std::is_pointer<T>::value) {
            // A kernel reads and writes device memory only: a host pointer is the bug a GPU
            // would report as an illegal address.
            if (ok && v != nullptr && !is_device_range(v, 1)) {
                launch_error(name, i, v);
                ok = false;
            }
        }
    }
};

template <class... P>
Launcher<P...> launch_named(void (*kernel)(P...), const char* name, unsigned blocks, unsigned threads) {
    return Launcher<P...>{kernel, name, blocks, threads};
}

}  // namespace tmine_emu
