#pragma once
/// The processes of a distributed fit (docs/architecture.md, "Distributed NMF"): MPI's world
/// when an MPI launcher (mpirun, srun) started tmine and the build has MPI, otherwise this
/// process alone, where every call below is a no-op. Collectives are MPI's; nothing is
/// home-made. Every process must make the same calls in the same order.
#include <cstdint>
#include <string>
#include <vector>

namespace tmine::processes {

/// Joins the launcher's processes (MPI_Init) when one started this process. Throws
/// InputError when a launcher started more than one process and the build has no MPI.
void start(int* argc, char*** argv);
/// MPI_Finalize, when start() joined.
void stop();
/// Ends every process after an error in one of them (MPI_Abort), so none waits forever in a
/// collective; returns when this process is alone.
void abort_all(int code);

int rank();
int size();
/// The processes on this machine (this one included).
int local_size();
/// This process's place among them (0 .. local_size() - 1): which of the machine's GPUs it uses.
int local_rank();
/// What start() saw: "" or e.g. "MPI (Open MPI v4.1.4), 4 processes".
std::string description();

/// Element-wise sums over the processes, in place, on every process (MPI does not promise the
/// same bits on each: see sum_shared()).
void sum(float* x, int64_t n);
void sum(double* x, int64_t n);
double max(double x);
/// Rank 0's values to every process.
void broadcast(float* x, int64_t n);
void broadcast(double* x, int64_t n);
/// sum(), then rank 0's sums to every process: for sums that a decision hangs on (a branch, a
/// sign, a factorisation every process must take alike), the same bits everywhere.
inline void sum_shared(double* x, int64_t n) {
    sum(x, n);
    broadcast(x, n);
}
/// Rank 0's n bytes (n < 2^31) to every process.
void broadcast_bytes(void* x, int64_t n);
/// True on every process when `mine` is true on every process.
bool all(bool mine);
/// Every process's n bytes (n < 2^31), in rank order, on every process.
std::vector<char> all_gather_bytes(const void* mine, int64_t n);
/// Rows [first[r], first[r + 1]) of an n x k row-major array were computed by process r
/// (`mine`, its rows): the whole array on rank 0 (the others get an empty one).
std::vector<float> gather_rows_to_root(const std::vector<float>& mine, const std::vector<int64_t>& first, int k);
std::vector<double> gather_rows_to_root(const std::vector<double>& mine, const std::vector<int64_t>& first, int k);
/// The inverse: rank 0's whole n x k array (`all`, ignored elsewhere) cut into the processes'
/// blocks; each process gets its rows.
std::vector<float> scatter_rows(const std::vector<float>& all, const std::vector<int64_t>& first, int k);
std::vector<double> scatter_rows(const std::vector<double>& all, const std::vector<int64_t>& first, int k);

}  // namespace tmine::processes
