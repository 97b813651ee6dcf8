// The emulated CUDA runtime: device memory, copies, streams and kernel execution on the CPU
// (see README.md here).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_runtime.h"

thread_local uint3 threadIdx, blockIdx;
thread_local dim3 blockDim, gridDim;

struct EmuStream {
    int id = 0;
};
struct EmuEvent {
    double t = 0;
};
struct EmuPool {
    int id = 0;
};

namespace tmine_emu {
namespace {

std::mutex mu;  // the allocation table; kernels themselves run on the calling thread
std::map<uintptr_t, size_t> allocations;  // start -> bytes
size_t used = 0;
thread_local cudaError_t last_error = cudaSuccess;
thread_local std::string last_message;
EmuPool default_pool;

/// Device memory of the emulated device: TMINE_EMU_DEVICE_MIB, 4 GiB by default. A small
/// value makes the batching paths run on small inputs.
size_t capacity() {
    static const size_t cap = [] {
        const char* v = std::getenv("TMINE_EMU_DEVICE_MIB");
        return size_t(v && *v ? std::strtoull(v, nullptr, 10) : 4096) << 20;
    }();
    return cap;
}

/// TMINE_EMU_ORDER=reverse runs the blocks of a grid and the threads of a block last to
/// first: a kernel whose result depends on the order its threads run in (a race on a GPU)
/// gives another result then.
bool reverse_order() {
    static const bool rev = [] {
        const char* v = std::getenv("TMINE_EMU_ORDER");
        return v && std::string(v) == "reverse";
    }();
    return rev;
}
/// The i-th of n in the run order.
unsigned nth(unsigned i, unsigned n) { return reverse_order() ? n - 1 - i : i; }

cudaError_t fail(cudaError_t e, const std::string& why) {
    last_error = e;
    last_message = why;
    std::fprintf(stderr, "tmine CUDA emulation: %s\n", why.c_str());
    return e;
}

bool in_device(const void* p, size_t bytes) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    std::lock_guard<std::mutex> lock(mu);
    auto it = allocations.upper_bound(a);
    if (it == allocations.begin()) return false;
    --it;
    return a >= it->first && a + bytes <= it->first + it->second;
}

std::string where(const void* p) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%p", p);
    return buf;
}

}  // namespace

bool is_device_range(const void* p, size_t bytes) {
    if (bytes == 0) return true;
    return p != nullptr && in_device(p, bytes);
}

void launch_error(const char* kernel, int argument, const void* p) {
    fail(cudaErrorLaunchFailure, std::string("kernel ") + kernel + ": argument " + std::to_string(argument) +
                                     " (" + where(p) + ") is not device memory");
}

// ---- kernel execution ----
namespace {

struct NeedsTogether {};  // a plain-mode thread reached a barrier or a shuffle

// Fibers: a stack each and a context switch that saves the callee-saved registers (the
// System V x86-64 ABI), without ucontext's signal-mask system call on every switch.
#if !defined(__x86_64__)
#error "the CUDA emulation's fibers are written for x86-64"
#endif
extern "C" void tmine_emu_switch(void** save_sp, void* load_sp);
asm(R"(
.text
.globl tmine_emu_switch
.type tmine_emu_switch,@function
tmine_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
.size tmine_emu_switch,.-tmine_emu_switch
.section .note.GNU-stack,"",@progbits
.text
)");

struct Fiber {
    void* sp = nullptr;
    unsigned tid = 0;
    bool done = false;
};

struct Block {
    bool together = false;  // fibers (else: one thread after another)
    void* scheduler_sp = nullptr;
    std::vector<Fiber> fibers;
    Fiber* current = nullptr;
    unsigned alive = 0;
    const std::function<void()>* thread = nullptr;
    std::exception_ptr error;
    // __syncthreads
    unsigned arrived = 0, generation = 0;
    uint64_t events = 0;  // arrivals, releases and exits: a pass without any is a deadlock
    // warp shuffles: one exchange slot per lane, one barrier per warp
    std::vector<unsigned char> slots;
    std::vector<unsigned> warp_arrived, warp_generation;
};
thread_local Block* block = nullptr;
constexpr size_t kStack = 256 << 10;
thread_local std::vector<std::unique_ptr<char[]>> stacks;

void yield() { tmine_emu_switch(&block->current->sp, block->scheduler_sp); }

[[noreturn]] void fiber_main() {
    Block& b = *block;
    try {
        (*b.thread)();
    } catch (...) {
        if (!b.error) b.error = std::current_exception();
    }
    b.current->done = true;
    --b.alive;
    ++b.events;
    void* unused;
    tmine_emu_switch(&unused, b.scheduler_sp);  // never resumed
    __builtin_unreachable();
}

/// A fresh fiber's stack: six zero registers for tmine_emu_switch to pop, then fiber_main as
/// its return address, then a slot where fiber_main's own return address would be (so the
/// stack is aligned as at any function's entry).
void* fresh_stack(char* base) {
    uintptr_t top = (reinterpret_cast<uintptr_t>(base) + kStack) & ~uintptr_t(15);
    void** sp = reinterpret_cast<void**>(top);
    *--sp = nullptr;                                     // fiber_main's return address: none
    *--sp = reinterpret_cast<void*>(&fiber_main);       // tmine_emu_switch returns here
    for (int i = 0; i < 6; ++i) *--sp = nullptr;         // rbp rbx r12 r13 r14 r15
    return sp;
}

void run_together(const std::function<void()>& thread, unsigned threads) {
    Block b;
    b.together = true;
    b.thread = &thread;
    b.fibers.resize(threads);
    b.alive = threads;
    const unsigned warps = (threads + 31) / 32;
    b.slots.assign(size_t(threads) * 16, 0);
    b.warp_arrived.assign(warps, 0);
    b.warp_generation.assign(warps, 0);
    while (stacks.size() < threads) stacks.emplace_back(new char[kStack]);
    Block* outer = block;
    block = &b;
    for (unsigned t = 0; t < threads; ++t) {
        b.fibers[t].tid = t;
        b.fibers[t].sp = fresh_stack(stacks[t].get());
    }
    while (b.alive > 0) {
        const uint64_t before = b.events;
        for (unsigned i = 0; i < threads; ++i) {
            Fiber& f = b.fibers[nth(i, threads)];
            if (f.done) continue;
            threadIdx = {f.tid, 0, 0};
            b.current = &f;
            tmine_emu_switch(&b.scheduler_sp, f.sp);
            // A barrier whose missing threads have exited opens for those that reached it.
            if (b.arrived > 0 && b.arrived >= b.alive) {
                b.arrived = 0;
                ++b.generation;
                ++b.events;
            }
        }
        if (b.events == before) {  // every live thread waits for one that never comes
            block = outer;
            throw std::runtime_error("deadlock: threads wait at a barrier or shuffle that the others never reach");
        }
    }
    block = outer;
    if (b.error) std::rethrow_exception(b.error);
}

std::mutex together_mu;
std::set<const void*> together_kernels;  // kernels seen to need their threads together

}  // namespace

void syncthreads() {
    if (!block || !block->together) throw NeedsTogether{};
    Block& b = *block;
    const unsigned gen = b.generation;
    ++b.events;
    if (++b.arrived >= b.alive) {
        b.arrived = 0;
        ++b.generation;
        return;
    }
    while (b.generation == gen) yield();
}

namespace {
void warp_barrier(unsigned warp, unsigned mask) {
    Block& b = *block;
    unsigned needed = 0;
    for (unsigned l = 0; l < 32; ++l) {
        const unsigned t = warp * 32 + l;
        if ((mask >> l & 1u) && t < b.fibers.size() && !b.fibers[t].done) ++needed;
    }
    const unsigned gen = b.warp_generation[warp];
    ++b.events;
    if (++b.warp_arrived[warp] >= needed) {
        b.warp_arrived[warp] = 0;
        ++b.warp_generation[warp];
        return;
    }
    while (b.warp_generation[warp] == gen) yield();
}
}  // namespace

void shfl_down(void* value, size_t bytes, unsigned mask, unsigned delta, unsigned width) {
    if (!block || !block->together) throw NeedsTogether{};
    Block& b = *block;
    const unsigned t = threadIdx.x, warp = t / 32, lane = t % 32;
    if (!(mask >> lane & 1u)) {
        fail(cudaErrorLaunchFailure, "__shfl_down_sync called by a lane outside its mask");
        return;
    }
    std::memcpy(&b.slots[size_t(t) * 16], value, bytes);
    warp_barrier(warp, mask);
    const unsigned seg = lane / width * width, src = lane + delta;
    if (src < seg + width && warp * 32 + src < b.fibers.size())
        std::memcpy(value, &b.slots[size_t(warp * 32 + src) * 16], bytes);
    warp_barrier(warp, mask);
}

void run_grid(const char* kernel, const void* key, unsigned blocks, unsigned threads,
              const std::function<void()>& thread) {
    if (blocks == 0 || threads == 0 || threads > 1024) {
        fail(cudaErrorInvalidValue, std::string("kernel ") + kernel + ": launch of " + std::to_string(blocks) +
                                        " blocks of " + std::to_string(threads) + " threads");
        return;
    }
    gridDim = {blocks, 1, 1};
    blockDim = {threads, 1, 1};
    bool together;
    {
        std::lock_guard<std::mutex> lock(together_mu);
        together = together_kernels.count(key) > 0;
    }
    try {
        for (unsigned i = 0; i < blocks; ++i) {
            blockIdx = {nth(i, blocks), 0, 0};
            if (!together) {
                Block plain;
                Block* outer = block;
                block = &plain;
                try {
                    for (unsigned i = 0; i < threads; ++i) {
                        threadIdx = {nth(i, threads), 0, 0};
                        thread();
                    }
                    block = outer;
                    continue;
                } catch (NeedsTogether&) {
                    // The first thread met a barrier or a shuffle before any other ran:
                    // the kernels here reach one before they write, so the block starts
                    // again, its threads as fibers.
                    block = outer;
                    if (threadIdx.x != nth(0, threads)) {
                        fail(cudaErrorLaunchFailure, std::string("kernel ") + kernel +
                                                         ": thread " + std::to_string(threadIdx.x) +
                                                         " met the first barrier, after earlier threads ended");
                        return;
                    }
                    together = true;
                    std::lock_guard<std::mutex> lock(together_mu);
                    together_kernels.insert(key);
                } catch (...) {
                    block = outer;
                    throw;
                }
            }
            run_together(thread, threads);
        }
    } catch (std::exception& e) {
        fail(cudaErrorLaunchFailure, std::string("kernel ") + kernel + " threw: " + e.what());
    }
}

}  // namespace tmine_emu

// ---- the runtime API ----
using tmine_emu::fail;

cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
    return device == 0 ? cudaSuccess : fail(cudaErrorInvalidValue, "cudaSetDevice: no device " + std::to_string(device));
}
cudaError_t cudaGetDevice(int* device) {
    *device = 0;
    return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
    if (device != 0) return fail(cudaErrorInvalidValue, "cudaGetDeviceProperties: no device");
    *prop = cudaDeviceProp{};
    std::snprintf(prop->name, sizeof prop->name, "tmine CUDA emulation on the CPU");
    prop->totalGlobalMem = tmine_emu::capacity();
    prop->major = 9;
    prop->minor = 0;
    prop->multiProcessorCount = 1;
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaGetLastError() {
    cudaError_t e = tmine_emu::last_error;
    tmine_emu::last_error = cudaSuccess;
    return e;
}
cudaError_t cudaPeekAtLastError() { return tmine_emu::last_error; }
const char* cudaGetErrorString(cudaError_t e) {
    switch (e) {
        case cudaSuccess: return "no error";
        case cudaErrorMemoryAllocation: return "out of memory";
        case cudaErrorNoDevice: return "no CUDA-capable device is detected";
        default: return tmine_emu::last_message.empty() ? "emulation error" : tmine_emu::last_message.c_str();
    }
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
    *s = new EmuStream;
    return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, 0); }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
    delete s;
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t) {
    using namespace tmine_emu;
    *p = nullptr;
    {
        std::lock_guard<std::mutex> lock(mu);
        if (used + bytes > capacity()) {
            last_error = cudaErrorMemoryAllocation;
            return cudaErrorMemoryAllocation;
        }
        used += bytes;
    }
    // 256-byte aligned, as cudaMalloc's are (cuBLAS checks its workspace's alignment); the
    // size is not rounded, so AddressSanitizer still sees a read one byte past the end.
    void* q = nullptr;
    if (posix_memalign(&q, 256, bytes ? bytes : 1) != 0) q = nullptr;
    if (!q) {
        std::lock_guard<std::mutex> lock(mu);
        used -= bytes;
        return cudaErrorMemoryAllocation;
    }
    // Pool memory comes back holding whatever was there: all-ones bytes read as NaN in floats
    // and -1 in integers, so a kernel that reads what nobody wrote shows it.
    std::memset(q, 0xff, bytes);
    std::lock_guard<std::mutex> lock(mu);
    allocations[reinterpret_cast<uintptr_t>(q)] = bytes;
    *p = q;
    return cudaSuccess;
}
cudaError_t cudaMalloc(void** p, size_t bytes) { return cudaMallocAsync(p, bytes, nullptr); }
cudaError_t cudaFreeAsync(void* p, cudaStream_t) {
    using namespace tmine_emu;
    if (!p) return cudaSuccess;
    bool found = false;
    {
        std::lock_guard<std::mutex> lock(mu);
        auto it = allocations.find(reinterpret_cast<uintptr_t>(p));
        if (it != allocations.end()) {
            found = true;
            used -= it->second;
            allocations.erase(it);
        }
    }
    if (!found) return fail(cudaErrorInvalidValue, "cudaFree of " + where(p) + ", not a live allocation");
    std::free(p);
    return cudaSuccess;
}
cudaError_t cudaFree(void* p) { return cudaFreeAsync(p, nullptr); }

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
    using namespace tmine_emu;
    if (bytes == 0) return cudaSuccess;
    const bool dst_dev = in_device(dst, bytes), src_dev = in_device(src, bytes);
    const bool want_dst = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool want_src = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (kind != cudaMemcpyDefault && (dst_dev != want_dst || src_dev != want_src))
        return fail(cudaErrorInvalidValue, "cudaMemcpy of " + std::to_string(bytes) + " bytes, kind " +
                                               std::to_string(int(kind)) + ": destination " +
                                               (dst_dev ? "is" : "is not") + " device memory, source " +
                                               (src_dev ? "is" : "is not"));
    std::memmove(dst, src, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
    return cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
    using namespace tmine_emu;
    if (bytes == 0) return cudaSuccess;
    if (!in_device(p, bytes))
        return fail(cudaErrorInvalidValue, "cudaMemset of " + std::to_string(bytes) + " bytes at " + where(p) +
                                               ": not inside one device allocation");
    std::memset(p, value, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
    using namespace tmine_emu;
    std::lock_guard<std::mutex> lock(mu);
    *total_bytes = capacity();
    *free_bytes = capacity() - used;
    return cudaSuccess;
}
cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int) {
    *pool = &tmine_emu::default_pool;
    return cudaSuccess;
}
cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr, void*) { return cudaSuccess; }
cudaError_t cudaMemPoolTrimTo(cudaMemPool_t, size_t) { return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t* e) {
    *e = new EmuEvent;
    return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
    delete e;
    return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    e->t = ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
    return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
    *ms = float(b->t - a->t);
    return cudaSuccess;
}
