#pragma once
// Running the tmine command line from a test: the committed demo sample, a command's exit
// code and stderr, and the MPI launcher of the distributed tests.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_util.hpp"
#include "tmine/topics.hpp"

namespace tmine::test {

inline const std::string kDemo = std::string(TMINE_SOURCE_DIR) + "/data/demo/reddit-demo.jsonl.gz";
inline const std::string kDemoFlags =
    " --text-field body --time-field created_utc --author-field subreddit --id-field subreddit_id";

struct Result {
    int code = 0;
    std::string err;
};

/// Runs `tmine ARGS`, stdout to /dev/null, stderr captured; `prefix` goes before the command
/// (shell settings such as a ulimit, environment variables, a launcher).
inline Result run_cli(const std::string& args, const TempDir& dir, const std::string& prefix = "") {
    std::string err_path = dir.file("stderr.txt");
    std::string cmd = prefix + std::string(TMINE_BINARY) + " " + args + " >/dev/null 2>" + err_path;
    int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_path);
    std::stringstream ss;
    ss << in.rdbuf();
    r.err = ss.str();
    return r;
}

/// The demo sample ingested to DIR/c.tmc and vectorized with `flags` to DIR/m.tmx (call it
/// under ASSERT_NO_FATAL_FAILURE).
inline void demo_matrix(const TempDir& d, const std::string& flags) {
    ASSERT_EQ(run_cli("ingest " + kDemo + kDemoFlags + " -q -o " + d.file("c.tmc"), d).code, 0);
    Result v = run_cli("vectorize " + d.file("c.tmc") + " --min-df 5 --max-df 0.5 " + flags + " -q -o " + d.file("m.tmx"), d);
    ASSERT_EQ(v.code, 0) << v.err;
}

/// The prefix that starts `processes` copies of a command under Open MPI's launcher (Debian's);
/// a hang in a collective fails the test after 300 s. Empty when this build has no MPI or the
/// launcher it was built with is not on this machine (a GPU machine the build was copied to).
inline std::string mpi_launch(int processes) {
    const std::string mpiexec = TMINE_MPIEXEC;
    if (mpiexec.empty() || access(mpiexec.c_str(), X_OK) != 0) return "";
    // (leak checking off under AddressSanitizer: Open MPI keeps its allocations until exit)
    return "ASAN_OPTIONS=detect_leaks=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 300 " +
           mpiexec + " -np " + std::to_string(processes) + " --oversubscribe ";
}

/// A distributed fit `mb` (its description names `processes`, e.g. "3 processes") against one
/// process's `ma` on the same matrix and settings (`what` names them in failures): the same
/// iterations, every restart's and iteration's loss within 1e-5 (float summation order), W and
/// H within 1e-3 of their largest entry, the same final error to 1e-4 and the same top terms.
inline void expect_same_fit(const TopicModel& ma, const TopicModel& mb, const std::string& processes,
                            const std::string& what) {
    EXPECT_NE(mb.nmf.device_description.find(processes), std::string::npos) << mb.nmf.device_description;
    EXPECT_EQ(ma.nmf.iterations, mb.nmf.iterations) << what;
    // Every restart ran alike; NNDSVDA restarts differ only by the SVD's random start and
    // end within float noise of each other on the demo matrix, so either may be kept: the kept
    // one's losses are compared when both runs kept the same, else the two must tie.
    ASSERT_EQ(ma.nmf.restart_losses.size(), mb.nmf.restart_losses.size()) << what;
    for (size_t r = 0; r < ma.nmf.restart_losses.size(); ++r)
        EXPECT_NEAR(ma.nmf.restart_losses[r], mb.nmf.restart_losses[r], 1e-5 * ma.nmf.restart_losses[r])
            << what << " restart " << r + 1;
    ASSERT_EQ(ma.nmf.losses.size(), mb.nmf.losses.size()) << what;
    if (ma.nmf.seed == mb.nmf.seed) {
        for (size_t i = 0; i < ma.nmf.losses.size(); ++i)
            EXPECT_NEAR(ma.nmf.losses[i], mb.nmf.losses[i], 1e-5 * ma.nmf.losses[i]) << what << " iteration " << i + 1;
    } else {
        EXPECT_NEAR(ma.nmf.losses.back(), mb.nmf.losses.back(), 1e-5 * ma.nmf.losses.back())
            << what << ": different restarts kept (seeds " << ma.nmf.seed << ", " << mb.nmf.seed
            << ") whose final losses do not tie";
    }
    auto close = [&](const std::vector<float>& x, const std::vector<float>& y, const char* name) {
        ASSERT_EQ(x.size(), y.size()) << what << ": " << name;
        float big = 0, diff = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            big = std::max(big, std::abs(x[i]));
            diff = std::max(diff, std::abs(x[i] - y[i]));
        }
        EXPECT_LE(diff, 1e-3f * big) << what << ": " << name;
    };
    close(ma.nmf.W, mb.nmf.W, "W");
    close(ma.nmf.H, mb.nmf.H, "H");
    // the final error (KL, TF32: recomputed by rank 0 and sent to the others)
    EXPECT_NEAR(ma.nmf.relative_error, mb.nmf.relative_error, 1e-4) << what;
    const TopicSummary sa = summarize_topics(ma, 5), sb = summarize_topics(mb, 5);
    ASSERT_EQ(sa.topics.size(), sb.topics.size()) << what;
    for (size_t t = 0; t < sa.topics.size(); ++t) {
        ASSERT_EQ(sa.topics[t].terms.size(), sb.topics[t].terms.size()) << what << " topic " << t;
        for (size_t r = 0; r < std::min<size_t>(3, sa.topics[t].terms.size()); ++r)
            EXPECT_EQ(sa.topics[t].terms[r].term, sb.topics[t].terms[r].term) << what << " topic " << t;
    }
}

/// `tmine topics MATRIX ARGS` as one process and under `launch` (DIR/one and DIR/many, made
/// afresh), then expect_same_fit() of the two (`processes` as there); the distributed model's
/// device description goes to `description` when given. Call under ASSERT_NO_FATAL_FAILURE.
inline void fit_alone_and_distributed(const TempDir& d, const std::string& matrix, const std::string& args,
                                      const std::string& launch, const std::string& processes,
                                      std::string* description = nullptr) {
    const std::string one = d.file("one"), many = d.file("many");
    std::filesystem::remove_all(one);
    std::filesystem::remove_all(many);
    Result a = run_cli("topics " + matrix + args + " -o " + one, d);
    ASSERT_EQ(a.code, 0) << args << ": " << a.err;
    Result b = run_cli("topics " + matrix + args + " -o " + many, d, launch);
    ASSERT_EQ(b.code, 0) << args << ": " << b.err;
    const TopicModel mb = read_model(many);
    if (description) *description = mb.nmf.device_description;
    expect_same_fit(read_model(one), mb, processes, args);
}

}  // namespace tmine::test
