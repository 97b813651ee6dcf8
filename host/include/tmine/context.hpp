#pragma once
/// tmine::Context: the explicit resources of one run (STYLE.md §3). Made once, passed first.
#include <memory>
#include <string>
#include <string_view>

namespace tmine {

enum class Device { Auto, Cpu, Cuda };

/// Parses "auto|cpu|cuda"; throws InputError otherwise.
Device parse_device(std::string_view s);
const char* device_name(Device d);

/// The widest vector instructions this CPU runs, as the CPU kernels pick theirs: 3 x86-64-v4
/// (AVX-512), 2 x86-64-v3 (AVX2 + FMA), 1 anything else.
int cpu_vector_level();
/// Whether this CPU is Intel's (false off x86-64).
bool cpu_is_intel();

namespace cuda_impl {
struct Resources;  // stream, cuBLAS/cuSPARSE handles; defined in kernels/
}

/// Resolved resources of a run. `device()` is never Auto once made.
class Context {
public:
    /// Auto: uses a GPU when one works, else the CPU and says so on stderr (unless quiet).
    /// Cuda: throws DeviceError with the reason when no usable GPU (or built without CUDA).
    static Context create(Device requested = Device::Auto, int cpu_threads = 0, bool quiet = false);
    /// A CPU context, never touches CUDA.
    static Context cpu(int cpu_threads = 0);

    Device device() const { return device_; }
    bool is_cuda() const { return device_ == Device::Cuda; }
    int cpu_threads() const { return cpu_threads_; }
    /// The CUDA resources; only valid when is_cuda().
    cuda_impl::Resources& cuda() const;
    /// Human-readable device description ("cpu (2 threads)", "cuda:0 NVIDIA H100 ...").
    const std::string& description() const { return description_; }

private:
    Device device_ = Device::Cpu;
    int cpu_threads_ = 1;
    std::string description_;
    std::shared_ptr<cuda_impl::Resources> cuda_;
};

}  // namespace tmine
