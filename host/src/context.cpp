#include "tmine/context.hpp"

#include <omp.h>

#include <cstdio>

#include "cuda_api.hpp"
#include "tmine/distributed.hpp"
#include "tmine/error.hpp"

namespace tmine {

Device parse_device(std::string_view s) {
    if (s == "auto") return Device::Auto;
    if (s == "cpu") return Device::Cpu;
    if (s == "cuda" || s == "gpu") return Device::Cuda;
    throw InputError("--device: expected auto, cpu or cuda, got '" + std::string(s) + "'");
}

const char* device_name(Device d) {
    switch (d) {
        case Device::Auto: return "auto";
        case Device::Cpu: return "cpu";
        case Device::Cuda: return "cuda";
    }
    return "?";
}

Context Context::cpu(int cpu_threads) {
    Context c;
    c.device_ = Device::Cpu;
    c.cpu_threads_ = cpu_threads > 0 ? cpu_threads : omp_get_max_threads();
    c.description_ = "cpu (" + std::to_string(c.cpu_threads_) + " threads)";
    return c;
}

Context Context::create(Device requested, int cpu_threads, bool quiet) {
    Context c = cpu(cpu_threads);
    if (requested == Device::Cpu) return c;
    std::string why, desc;
    // a distributed fit's processes on one machine take one GPU each (the launcher's order)
    auto res = cuda_impl::create_resources(why, desc, processes::local_rank());
    if (res) {
        c.device_ = Device::Cuda;
        c.cuda_ = std::move(res);
        c.description_ = desc;
        return c;
    }
    if (requested == Device::Cuda) throw DeviceError("--device cuda: " + why);
    if (!quiet) std::fprintf(stderr, "tmine: no usable GPU (%s); running on the CPU\n", why.c_str());
    return c;
}

cuda_impl::Resources& Context::cuda() const {
    TMINE_ASSERT(cuda_ != nullptr, "Context::cuda() called on a CPU context");
    return *cuda_;
}

}  // namespace tmine
