// Device sums over a distributed fit's processes: NCCL (loaded at run time, so that a
// single-GPU tmine needs no NCCL on the machine) or MPI through the host.
#include "process_sums.cuh"

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <type_traits>

#include "tmine/distributed.hpp"
#include "tmine/error.hpp"

#if !defined(TMINE_CUDA_EMULATION) && __has_include(<nccl.h>)
#define TMINE_NCCL_API 1
#include <dlfcn.h>
#include <nccl.h>
#endif

namespace tmine::cuda_impl {

#ifdef TMINE_NCCL_API
/// NCCL's entry points from libnccl.so.2 (TMINE_NCCL_LIBRARY names another file), and this
/// process's communicator.
struct ProcessSums::Nccl {
    void* lib = nullptr;
    ncclComm_t comm = nullptr;
    decltype(&ncclGetVersion) get_version = nullptr;
    decltype(&ncclGetUniqueId) get_unique_id = nullptr;
    decltype(&ncclCommInitRank) init_rank = nullptr;
    decltype(&ncclAllReduce) all_reduce = nullptr;
    decltype(&ncclCommDestroy) destroy = nullptr;
    decltype(&ncclCommAbort) abort = nullptr;
    decltype(&ncclGetErrorString) error_string = nullptr;

    /// Loads the library; false (and `why`) when it or one of its functions is missing.
    bool load(std::string& why) {
        const char* named = std::getenv("TMINE_NCCL_LIBRARY");
        // never unloaded (NCCL leaves threads behind): RTLD_NODELETE, and no dlclose
        lib = dlopen(named && *named ? named : "libnccl.so.2", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!lib) {
            const char* e = dlerror();
            why = e ? e : "libnccl.so.2 not found";
            return false;
        }
        auto get = [&](auto& f, const char* name) {
            f = reinterpret_cast<std::remove_reference_t<decltype(f)>>(dlsym(lib, name));
            if (!f) why = std::string("no ") + name + " in NCCL's library";
            return f != nullptr;
        };
        return get(get_version, "ncclGetVersion") && get(get_unique_id, "ncclGetUniqueId") &&
               get(init_rank, "ncclCommInitRank") && get(all_reduce, "ncclAllReduce") &&
               get(destroy, "ncclCommDestroy") && get(abort, "ncclCommAbort") &&
               get(error_string, "ncclGetErrorString");
    }
    void check(ncclResult_t rc, const char* call) const {
        if (rc != ncclSuccess)
            throw DeviceError(std::string("NCCL error in ") + call + ": " + error_string(rc) +
                              " (TMINE_NCCL=0 makes a distributed fit sum through the host instead)");
    }
    ~Nccl() {
        // While an exception unwinds (this process failed; main's MPI_Abort ends the others),
        // ncclCommDestroy would wait for collectives the others may never join: abort instead.
        if (comm) (void)(std::uncaught_exceptions() > 0 ? abort(comm) : destroy(comm));
    }
};
#else
struct ProcessSums::Nccl {};
#endif

ProcessSums::ProcessSums(Resources& r, bool progress) : r_(r), how_("the host (MPI)") {
    std::string why;
#ifdef TMINE_NCCL_API
    // NCCL when every process can load it and has a GPU of its own (NCCL refuses two ranks on
    // one device); one decision for all of them, or the collectives would not meet.
    auto nccl = std::make_unique<Nccl>();
    bool ok = false;
    if (const char* off = std::getenv("TMINE_NCCL"); off && std::string(off) == "0") {
        why = "TMINE_NCCL=0";
    } else {
        ok = nccl->load(why);
    }
    // Every process's GPU, by its UUID (a launcher may give each process one GPU through
    // CUDA_VISIBLE_DEVICES, so counting the GPUs a process sees says nothing).
    cudaDeviceProp prop{};
    TMINE_CUDA_CHECK(cudaGetDeviceProperties(&prop, r_.device));
    std::vector<char> ids = processes::all_gather_bytes(&prop.uuid, sizeof prop.uuid);
    const size_t u = sizeof prop.uuid;
    for (size_t a = 0; a < ids.size(); a += u)
        for (size_t b = a + u; b < ids.size(); b += u)
            if (std::equal(ids.begin() + a, ids.begin() + a + u, ids.begin() + b) && ok) {
                ok = false;
                why = "processes " + std::to_string(a / u) + " and " + std::to_string(b / u) + " share a GPU";
            }
    if (processes::all(ok)) {
        ncclUniqueId id{};
        if (processes::rank() == 0) nccl->check(nccl->get_unique_id(&id), "ncclGetUniqueId");
        processes::broadcast_bytes(&id, sizeof id);
        TMINE_CUDA_CHECK(cudaSetDevice(r_.device));
        // NCCL allocates outside the stream-ordered pool, whose release threshold keeps what
        // earlier stages freed: hand that back to the driver first.
        (void)free_device_bytes();
        ncclComm_t comm = nullptr;
        nccl->check(nccl->init_rank(&comm, processes::size(), id, processes::rank()), "ncclCommInitRank");
        nccl->comm = comm;  // only a communicator that was made
        int v = 0;
        nccl->get_version(&v);
        how_ = "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
        nccl_ = std::move(nccl);
    } else if (ok) {
        why = "not every process can use NCCL";
    }
#else
    why = "this build has no NCCL";
#endif
    if (progress && processes::rank() == 0)
        std::fprintf(stderr, "topics: %d processes, each on its GPU; sums over them through %s%s\n",
                     processes::size(), how_.c_str(), nccl_ ? "" : (" (" + why + ")").c_str());
}

ProcessSums::~ProcessSums() = default;

template <class T>
void ProcessSums::through_host(T* x, int64_t n, std::vector<T>& host) {
    host.resize(size_t(n));
    TMINE_CUDA_CHECK(cudaMemcpyAsync(host.data(), x, size_t(n) * sizeof(T), cudaMemcpyDeviceToHost, r_.stream));
    TMINE_CUDA_CHECK(cudaStreamSynchronize(r_.stream));
    processes::sum(host.data(), n);
    TMINE_CUDA_CHECK(cudaMemcpyAsync(x, host.data(), size_t(n) * sizeof(T), cudaMemcpyHostToDevice, r_.stream));
    // CUDA documents a copy from pageable memory as only "possibly" synchronous with the host
    // (with HMM/ATS it may read `host` later), and the next call may resize `host` (k x k
    // floats, then m x k): wait for the copy before the buffer can move. Negligible beside the
    // MPI sum above.
    TMINE_CUDA_CHECK(cudaStreamSynchronize(r_.stream));
}

template <class T>
void ProcessSums::sum_of(T* x, int64_t n, std::vector<T>& host) {
    if (processes::size() == 1 || n == 0) return;
#ifdef TMINE_NCCL_API
    if (nccl_) {
        const ncclDataType_t type = sizeof(T) == 4 ? ncclFloat32 : ncclFloat64;
        nccl_->check(nccl_->all_reduce(x, x, size_t(n), type, ncclSum, nccl_->comm, r_.stream), "ncclAllReduce");
        return;
    }
#endif
    through_host(x, n, host);
}

void ProcessSums::sum(float* x, int64_t n) { sum_of(x, n, host_f_); }
void ProcessSums::sum(double* x, int64_t n) { sum_of(x, n, host_d_); }

}  // namespace tmine::cuda_impl
