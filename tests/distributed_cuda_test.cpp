// A distributed fit on GPUs (mpirun -np 3 tmine topics --device cuda): each process iterates
// on its rows on its own device, and the device sums over the processes (X^T W, W^T W, the
// KL terms) go through NCCL or, where NCCL cannot serve, through the host and MPI. Labelled
// gpu: it needs a GPU (or the emulation build, whose processes each emulate one) and MPI.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "test_util.hpp"
#include "tmine/topics.hpp"

using namespace tmine;
using namespace tmine::test;

// The same fit on one GPU process and on three: the same iterations, losses within float
// summation noise, the same factors and top terms, for MU, HALS, KL, regularised restarts and
// guided topics, with NCCL where it serves and through the host; a checkpoint written by three
// GPU processes resumes on one CPU process.
TEST(DistributedCuda, FitAgreesWithOneProcess) {
    TMINE_REQUIRE_CUDA(gpu);
    const std::string launch = mpi_launch(3);
    if (launch.empty())
        GTEST_SKIP() << "this build has no MPI, or its launcher (" << TMINE_MPIEXEC
                     << ") is not on this machine: the distributed fit is not run";
    TempDir d;
    ASSERT_NO_FATAL_FAILURE(demo_matrix(d, "--stop-words english --device cpu"));
    write_bytes(d.file("seeds.txt"), "game, games, play\nmoney, stock, market\n");
    const std::string common = " -k 8 --device cuda --threads 1 -q";
    for (const std::string& solver : std::vector<std::string>{
             " --iters 30 --solver mu --tol 0", " --iters 30 --solver hals --tol 0", " --iters 30 --loss kl --tol 0",
          " --iters 30 --solver mu --tol 0 --alpha-w 0.0005 --l1-ratio 0.5 --restarts 2",
          " --iters 30 --solver mu --tol 0 --seed-terms " + d.file("seeds.txt")}) {
        std::string description;
        ASSERT_NO_FATAL_FAILURE(
            fit_alone_and_distributed(d, d.file("m.tmx"), common + solver, launch, "3 processes", &description));
        EXPECT_NE(description.find("cuda:"), std::string::npos) << description;
    }
    // Rank 0 says how the sums go; TMINE_NCCL=0 sends them through the host, where NCCL would
    // serve (on a machine with a GPU for each process), and the fit is the same.
    const std::string mu = " -k 8 --device cuda --threads 1 --iters 30 --solver mu --tol 0";
    Result one = run_cli("topics " + d.file("m.tmx") + mu + " -q -o " + d.file("mu1"), d);
    ASSERT_EQ(one.code, 0) << one.err;
    Result host = run_cli("topics " + d.file("m.tmx") + mu + " -o " + d.file("mu3"), d, "TMINE_NCCL=0 " + launch);
    ASSERT_EQ(host.code, 0) << host.err;
    EXPECT_NE(host.err.find("topics: 3 processes, each on its GPU; sums over them through the host (MPI)"),
              std::string::npos)
        << host.err;
    expect_same_fit(read_model(d.file("mu1")), read_model(d.file("mu3")), "3 processes", "TMINE_NCCL=0");
    // A checkpoint of three GPU processes continues on one CPU process: the same fit up to
    // float summation order and the two devices' rounding (1e-4, as NmfCuda's CPU comparisons).
    const std::string cp = " -k 8 --threads 1 -q --tol 0";
    Result part = run_cli("topics " + d.file("m.tmx") + cp + " --device cuda --iters 10 --checkpoint-every 10 -o " +
                              d.file("p1"),
                          d, launch);
    ASSERT_EQ(part.code, 0) << part.err;
    Result rest = run_cli("topics " + d.file("m.tmx") + cp + " --device cpu --iters 20 --resume " +
                              d.file("p1/checkpoint.tmk") + " -o " + d.file("p2"),
                          d);
    ASSERT_EQ(rest.code, 0) << rest.err;
    Result whole = run_cli("topics " + d.file("m.tmx") + cp + " --device cuda --iters 20 -o " + d.file("p3"), d);
    ASSERT_EQ(whole.code, 0) << whole.err;
    const std::vector<double> l2 = read_model(d.file("p2")).nmf.losses, l3 = read_model(d.file("p3")).nmf.losses;
    ASSERT_EQ(l2.size(), l3.size());
    for (size_t i = 0; i < l2.size(); ++i) EXPECT_NEAR(l2[i], l3[i], 1e-4 * l3[i]) << "iteration " << i + 1;
}
