#pragma once
// Sums of device buffers over the processes of a distributed fit (docs/architecture.md,
// "Distributed NMF"): NCCL's all-reduce on the fit's stream when every process can load
// NCCL and has a GPU of its own, else through the host (copy down, MPI_Allreduce through
// tmine::processes::sum, copy up). Nothing home-made: the collectives are NCCL's or MPI's.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cuda_resources.cuh"

namespace tmine::cuda_impl {

class ProcessSums {
public:
    /// Collective: every process of the fit constructs it at the same point. `progress`: rank 0
    /// says on stderr which way the sums go.
    ProcessSums(Resources& r, bool progress);
    ~ProcessSums();
    ProcessSums(const ProcessSums&) = delete;
    ProcessSums& operator=(const ProcessSums&) = delete;

    /// x (n values in device memory) summed over the processes, in place, ordered on the
    /// fit's stream; every process gets the same values.
    void sum(float* x, int64_t n);
    void sum(double* x, int64_t n);
    /// "NCCL 2.x.y" or "the host (MPI)".
    const std::string& how() const { return how_; }

private:
    template <class T>
    void sum_of(T* x, int64_t n, std::vector<T>& host);
    template <class T>
    void through_host(T* x, int64_t n, std::vector<T>& host);
    struct Nccl;
    Resources& r_;
    std::unique_ptr<Nccl> nccl_;  // null: through the host
    std::vector<float> host_f_;
    std::vector<double> host_d_;
    std::string how_;
};

}  // namespace tmine::cuda_impl
