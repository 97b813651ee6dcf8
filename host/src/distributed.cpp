#include "tmine/distributed.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "tmine/error.hpp"

#ifdef TMINE_WITH_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only: no C++ bindings to link
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace tmine::processes {
namespace {

bool g_joined = false;
int g_rank = 0, g_size = 1, g_local = 1, g_local_rank = 0;
std::string g_description;

/// The number of processes an MPI launcher says it started, 0 when none did.
int launched_size() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
        if (const char* s = std::getenv(v)) return std::max(1, std::atoi(s));
    if (std::getenv("PMIX_RANK") || std::getenv("PMI_RANK")) return 1;  // a size it does not say
    return 0;
}

#ifdef TMINE_WITH_MPI
// MPI counts are int: longer arrays go in pieces of at most 1 GiB (some transports count a
// message's bytes in an int).
template <class T>
constexpr int64_t kPiece = (int64_t(1) << 30) / int64_t(sizeof(T));
template <class T>
MPI_Datatype type();
template <>
MPI_Datatype type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype type<double>() { return MPI_DOUBLE; }

void check(int rc, const char* call) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw Error(std::string("MPI: ") + call + " failed: " + std::string(text, len));
}

template <class T>
void allreduce(T* x, int64_t n, MPI_Op op) {
    for (int64_t at = 0; at < n; at += kPiece<T>)
        check(MPI_Allreduce(MPI_IN_PLACE, x + at, int(std::min(kPiece<T>, n - at)), type<T>(), op, MPI_COMM_WORLD),
              "MPI_Allreduce");
}
template <class T>
void bcast(T* x, int64_t n) {
    for (int64_t at = 0; at < n; at += kPiece<T>)
        check(MPI_Bcast(x + at, int(std::min(kPiece<T>, n - at)), type<T>(), 0, MPI_COMM_WORLD), "MPI_Bcast");
}
#endif

}  // namespace

void start(int* argc, char*** argv) {
    if (g_joined) return;
    const int launched = launched_size();
    if (launched == 0) return;
#ifdef TMINE_WITH_MPI
    int provided = 0;
    // Only the main thread calls MPI (OpenMP threads never do).
    check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    g_joined = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    if (launched > 1 && g_size == 1)  // e.g. another MPI's launcher: each would fit alone
        throw InputError("an MPI launcher started " + std::to_string(launched) +
                         " processes, but this one joined no other (a launcher of another MPI than the one "
                         "tmine was built with?): each would do the whole work");
    if (provided < MPI_THREAD_FUNNELED) throw Error("MPI: this MPI library gives no MPI_THREAD_FUNNELED");
    MPI_Comm node;  // the processes that share this machine's memory
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type");
    MPI_Comm_size(node, &g_local);
    MPI_Comm_rank(node, &g_local_rank);
    MPI_Comm_free(&node);
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    std::string v(version, len);
    v = v.substr(0, v.find_first_of(",\n"));
    g_description = "MPI (" + v + "), " + std::to_string(g_size) + " process" + (g_size > 1 ? "es" : "");
#else
    (void)argc;
    (void)argv;
    if (launched > 1)
        throw InputError("this tmine was built without MPI, but an MPI launcher started " + std::to_string(launched) +
                         " processes: each would do the whole work; build with MPI (Debian: libopenmpi-dev) or "
                         "start one process");
#endif
}

void stop() {
#ifdef TMINE_WITH_MPI
    if (g_joined) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) MPI_Finalize();
    }
#endif
    g_joined = false;
}

void abort_all(int code) {
#ifdef TMINE_WITH_MPI
    if (g_joined && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)code;
}

int rank() { return g_rank; }
int size() { return g_size; }
int local_size() { return g_local; }
int local_rank() { return g_local_rank; }
std::string description() { return g_description; }

#ifdef TMINE_WITH_MPI
void sum(float* x, int64_t n) { if (g_size > 1) allreduce(x, n, MPI_SUM); }
void sum(double* x, int64_t n) { if (g_size > 1) allreduce(x, n, MPI_SUM); }
double max(double x) {
    if (g_size > 1) allreduce(&x, 1, MPI_MAX);
    return x;
}
void broadcast(float* x, int64_t n) { if (g_size > 1) bcast(x, n); }
void broadcast(double* x, int64_t n) { if (g_size > 1) bcast(x, n); }
void broadcast_bytes(void* x, int64_t n) {
    if (g_size > 1) check(MPI_Bcast(x, int(n), MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
}
std::vector<char> all_gather_bytes(const void* mine, int64_t n) {
    std::vector<char> all(size_t(n) * size_t(g_size));
    std::memcpy(all.data() + size_t(n) * size_t(g_rank), mine, size_t(n));  // in place: at its rank
    if (g_size > 1)
        check(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all.data(), int(n), MPI_BYTE, MPI_COMM_WORLD),
              "MPI_Allgather");
    return all;
}
bool all(bool mine) {
    int v = mine ? 1 : 0;
    if (g_size > 1) check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD), "MPI_Allreduce");
    return v != 0;
}
namespace {
/// Sends `count` values to `to`, or receives them from `from`, in pieces below 2^28.
template <class T>
void send_values(const T* x, int64_t count, int to) {
    for (int64_t at = 0; at < count; at += kPiece<T>)
        check(MPI_Send(x + at, int(std::min(kPiece<T>, count - at)), type<T>(), to, 7, MPI_COMM_WORLD), "MPI_Send");
}
template <class T>
void receive_values(T* x, int64_t count, int from) {
    for (int64_t at = 0; at < count; at += kPiece<T>)
        check(MPI_Recv(x + at, int(std::min(kPiece<T>, count - at)), type<T>(), from, 7, MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE),
              "MPI_Recv");
}
template <class T>
std::vector<T> gather_to_root(const std::vector<T>& mine, const std::vector<int64_t>& first, int k) {
    if (g_size == 1) return mine;
    if (g_rank != 0) {
        send_values(mine.data(), int64_t(mine.size()), 0);
        return {};
    }
    std::vector<T> all(size_t(first.back()) * size_t(k));
    std::copy(mine.begin(), mine.end(), all.begin());
    for (int r = 1; r < g_size; ++r) receive_values(all.data() + first[r] * k, (first[r + 1] - first[r]) * k, r);
    return all;
}
template <class T>
std::vector<T> scatter_from_root(const std::vector<T>& all, const std::vector<int64_t>& first, int k) {
    if (g_size == 1) return all;
    std::vector<T> mine(size_t(first[g_rank + 1] - first[g_rank]) * size_t(k));
    if (g_rank != 0) {
        receive_values(mine.data(), int64_t(mine.size()), 0);
        return mine;
    }
    std::copy(all.begin(), all.begin() + first[1] * k, mine.begin());
    for (int r = 1; r < g_size; ++r) send_values(all.data() + first[r] * k, (first[r + 1] - first[r]) * k, r);
    return mine;
}
}  // namespace
std::vector<float> gather_rows_to_root(const std::vector<float>& mine, const std::vector<int64_t>& first, int k) {
    return gather_to_root(mine, first, k);
}
std::vector<double> gather_rows_to_root(const std::vector<double>& mine, const std::vector<int64_t>& first, int k) {
    return gather_to_root(mine, first, k);
}
std::vector<float> scatter_rows(const std::vector<float>& all, const std::vector<int64_t>& first, int k) {
    return scatter_from_root(all, first, k);
}
std::vector<double> scatter_rows(const std::vector<double>& all, const std::vector<int64_t>& first, int k) {
    return scatter_from_root(all, first, k);
}
#else
std::vector<float> gather_rows_to_root(const std::vector<float>& mine, const std::vector<int64_t>&, int) { return mine; }
std::vector<double> gather_rows_to_root(const std::vector<double>& mine, const std::vector<int64_t>&, int) { return mine; }
std::vector<float> scatter_rows(const std::vector<float>& all, const std::vector<int64_t>&, int) { return all; }
std::vector<double> scatter_rows(const std::vector<double>& all, const std::vector<int64_t>&, int) { return all; }
void sum(float*, int64_t) {}
void sum(double*, int64_t) {}
double max(double x) { return x; }
void broadcast(float*, int64_t) {}
void broadcast(double*, int64_t) {}
void broadcast_bytes(void*, int64_t) {}
bool all(bool mine) { return mine; }
std::vector<char> all_gather_bytes(const void* mine, int64_t n) {
    const char* p = static_cast<const char*>(mine);
    return std::vector<char>(p, p + n);
}
#endif

}  // namespace tmine::processes
