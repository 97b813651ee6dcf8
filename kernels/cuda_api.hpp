#pragma once
/// Plain C++ entry points of the CUDA twins (STYLE.md §4): host/ includes this header only,
/// never a CUDA header. A CPU-only build links host/src/cuda_stub.cpp instead, whose
/// functions throw DeviceError("built without CUDA").
#include <memory>
#include <string>

#include "tmine/context.hpp"

namespace tmine::cuda_impl {

/// Probes for a usable device: the machine's device `which` modulo their number (a distributed
/// fit's processes on one machine take one each). Returns nullptr and sets `why` when none.
std::shared_ptr<Resources> create_resources(std::string& why, std::string& description, int which = 0);

/// True when this binary was built with the CUDA twins.
bool compiled_in();

/// Loads cuBLAS and cuSPARSE (kernels/cuda_libraries.cpp) if not yet: false, with the reason in
/// `why`, when they cannot be. CUDA build only (the emulation has its own).
bool load_libraries(std::string& why);

}  // namespace tmine::cuda_impl
