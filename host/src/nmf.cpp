// The NMF driver shared by every device: checks, the iteration loop with its stopping rules,
// progress, checkpoints and resume, transform, and the float64 loss measures.
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>

#include "sparse_cpu.hpp"
#include "tmine/classify.hpp"  // take_rows
#include "tmine/distributed.hpp"
#include "tmine/error.hpp"
#include "tmine/io.hpp"
#include "tmine/nmf.hpp"
#include "tmine/parallel.hpp"

namespace tmine {

void validate(const NmfOptions& o) {
    if (o.k < 1) throw InputError("-k must be at least 1");
    if (o.max_iter < 1) throw InputError("--iters must be at least 1");
    if (!(o.tol >= 0 && std::isfinite(o.tol))) throw InputError("--tol must be a finite number >= 0");
    if (!(o.alpha_W >= 0 && std::isfinite(o.alpha_W))) throw InputError("--alpha-w must be a finite number >= 0");
    if (!(o.alpha_H >= 0 && std::isfinite(o.alpha_H)) && o.alpha_H != -1.0)
        throw InputError("--alpha-h must be a finite number >= 0");
    if (!(o.l1_ratio >= 0 && o.l1_ratio <= 1)) throw InputError("--l1-ratio must be in [0, 1]");
    if (!(o.time_limit >= 0)) throw InputError("--time-limit must be >= 0 (seconds; 0 = none)");
    if (o.checkpoint_every < 0) throw InputError("--checkpoint-every must be >= 0");
    if (o.restarts < 1) throw InputError("--restarts must be at least 1");
    if (o.restarts > 1 && o.checkpoint_every > 0)
        throw InputError("--restarts and --checkpoint-every cannot be combined (checkpoint one fit)");
    if (o.checkpoint_every > 0 && o.checkpoint_path.empty())
        throw InputError("--checkpoint-every needs a checkpoint path");
    if (o.solver == NmfSolver::Hals && o.loss != NmfLoss::Frobenius)
        throw InputError("--solver hals minimises the Frobenius loss only; use --solver mu with --loss kl");
    if (!(o.seed_strength >= 0 && std::isfinite(o.seed_strength)))
        throw InputError("--seed-strength must be a finite number >= 0");
    if (!o.seed_terms.empty()) {
        if (o.loss != NmfLoss::Frobenius)
            throw InputError("--seed-terms guides the Frobenius loss only (not --loss kl)");
        if (int(o.seed_terms.size()) > o.k)
            throw InputError("--seed-terms: " + std::to_string(o.seed_terms.size()) +
                             " guided topics but -k " + std::to_string(o.k));
        for (size_t j = 0; j < o.seed_terms.size(); ++j) {
            if (o.seed_terms[j].empty())
                throw InputError("--seed-terms: guided topic " + std::to_string(j) + " has no term");
            std::vector<int32_t> sorted = o.seed_terms[j];
            std::sort(sorted.begin(), sorted.end());
            if (sorted.front() < 0) throw InputError("--seed-terms: negative term id");
            if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
                throw InputError("--seed-terms: guided topic " + std::to_string(j) +
                                 " lists a term twice");
        }
    }
}

NmfRegularization regularization(const NmfOptions& o, int64_t n, int64_t m) {
    // scikit-learn's _compute_regularization: W's terms scale with the number of features,
    // H's with the number of samples.
    const double aW = o.alpha_W, aH = o.alpha_H < 0 ? o.alpha_W : o.alpha_H;
    NmfRegularization r;
    r.l1_W = double(m) * aW * o.l1_ratio;
    r.l2_W = double(m) * aW * (1.0 - o.l1_ratio);
    r.l1_H = double(n) * aH * o.l1_ratio;
    r.l2_H = double(n) * aH * (1.0 - o.l1_ratio);
    return r;
}

namespace {

/// nmf_relative_error() of X's rows and W's (this process's rows of a distributed fit when
/// `summed`: the sums are taken over the processes, each process gets the whole matrix's).
double relative_error_rows(const Context& ctx, const CsrMatrix& X, const std::vector<float>& W,
                           const std::vector<float>& H, int k, bool summed) {
    using namespace cpu_impl;
    const int T = ctx.cpu_threads();
    const int64_t n = X.rows, m = X.cols;
    std::vector<float> Ht(m * k);
    for (int j = 0; j < k; ++j)
        for (int64_t c = 0; c < m; ++c) Ht[c * k + j] = H[j * m + c];
    std::vector<float> XHt(n * k), WtW(k * k), HHt(k * k);
    spmm(X, Ht.data(), k, XHt.data(), T);
    gram(W.data(), n, k, WtW.data(), T);
    gram(Ht.data(), m, k, HHt.data(), T);
    double sums[2] = {sum_squares(X), detail::ordered_dot(W.data(), XHt.data(), n * k, T)};
    if (summed) {
        processes::sum(sums, 2);
        processes::sum(WtW.data(), int64_t(WtW.size()));
    }
    const double xx = sums[0];
    const double e2 = xx - 2 * sums[1] + detail::ordered_dot(WtW.data(), HHt.data(), k * k, 1);
    return std::sqrt(std::max(e2, 0.0) / xx);
}

/// nmf_kl_divergence() of X's rows and W's, summed over the processes when `summed`.
double kl_divergence_rows(const CsrMatrix& X, const std::vector<float>& W, const std::vector<float>& H, int k,
                          bool summed) {
    const int64_t n = X.rows, m = X.cols;
    const double eps = std::numeric_limits<float>::epsilon();
    double s = 0, x_sum = 0;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p) {
            const double x = X.data[p];
            x_sum += x;
            if (!(x > eps)) continue;
            double wh = 0;
            for (int j = 0; j < k; ++j) wh += double(W[i * k + j]) * H[int64_t(j) * m + X.indices[p]];
            if (wh == 0) wh = eps;
            s += x * std::log(x / wh);
        }
    std::vector<double> ws(size_t(k) + 2, 0.0);  // W's column sums, then s and x_sum
    for (int j = 0; j < k; ++j)
        for (int64_t i = 0; i < n; ++i) ws[j] += W[i * k + j];
    ws[k] = s;
    ws[k + 1] = x_sum;
    if (summed) processes::sum(ws.data(), int64_t(ws.size()));
    double sum_wh = 0;
    for (int j = 0; j < k; ++j) {
        double hs = 0;
        for (int64_t c = 0; c < m; ++c) hs += H[int64_t(j) * m + c];
        sum_wh += ws[j] * hs;
    }
    return ws[k] + sum_wh - ws[k + 1];
}

}  // namespace

double nmf_relative_error(const Context& ctx, const CsrMatrix& X, const std::vector<float>& W,
                          const std::vector<float>& H, int k) {
    return relative_error_rows(ctx, X, W, H, k, false);
}

double nmf_kl_divergence(const Context& ctx, const CsrMatrix& X, const std::vector<float>& W,
                         const std::vector<float>& H, int k) {
    (void)ctx;
    return kl_divergence_rows(X, W, H, k, false);
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr char kCheckpointMagic[4] = {'T', 'M', 'K', '1'};


/// What a checkpoint must agree on with the run that resumes it.
struct Fingerprint {
    int64_t n, m, nnz;
    int32_t k, solver, loss, init;
    uint64_t seed;
    double alpha_W, alpha_H, l1_ratio, seed_strength;
    uint64_t seeds_hash;
    uint64_t matrix_hash;  // the matrix's non-zeros and weights (matrix_hash())
    bool operator==(const Fingerprint& o) const { return std::memcmp(this, &o, sizeof o) == 0; }
};
/// The content of the whole matrix, whatever the number of processes holding its rows
/// (`first_row`: this process's first; a collective when `distributed`): the sum over rows of
/// a hash of the row's index, columns and weights. Two matrices of one shape, one vectorized
/// with other settings (--sublinear-tf, other stop words), differ here.
uint64_t matrix_hash(const CsrMatrix& X, int64_t first_row, bool distributed) {
    uint64_t h = 0;
    for (int64_t i = 0; i < X.rows; ++i) {
        const int64_t b = X.indptr[i], len = X.indptr[i + 1] - b;
        const uint64_t row = uint64_t(first_row + i);
        h += XXH3_64bits_withSeed(X.indices.data() + b, size_t(len) * sizeof(int32_t), row) * 0x9E3779B97F4A7C15ull ^
             XXH3_64bits_withSeed(X.data.data() + b, size_t(len) * sizeof(float), ~row);
    }
    if (distributed) {
        const std::vector<char> all = processes::all_gather_bytes(&h, sizeof h);
        h = 0;
        for (size_t q = 0; q + sizeof h <= all.size(); q += sizeof h) {
            uint64_t part;
            std::memcpy(&part, all.data() + q, sizeof part);
            h += part;
        }
    }
    return h;
}

/// n, m and nnz: the whole matrix's (a distributed fit's too); `content`: its matrix_hash().
Fingerprint fingerprint(int64_t n, int64_t m, int64_t nnz, const NmfOptions& o, uint64_t content) {
    Fingerprint f;
    std::memset(&f, 0, sizeof f);
    f.matrix_hash = content;
    f.n = n;
    f.m = m;
    f.nnz = nnz;
    f.k = o.k;
    f.solver = int32_t(o.solver);
    f.loss = int32_t(o.loss);
    f.init = int32_t(o.init);
    f.seed = o.seed;
    f.alpha_W = o.alpha_W;
    f.alpha_H = o.alpha_H;
    f.l1_ratio = o.l1_ratio;
    f.seed_strength = o.seed_strength;
    uint64_t h = 1469598103934665603ULL;  // FNV-1a over the guided topics' term ids
    for (const auto& terms : o.seed_terms) {
        for (int32_t c : terms) h = (h ^ uint64_t(uint32_t(c))) * 1099511628211ULL;
        h = (h ^ 0xffffffffULL) * 1099511628211ULL;
    }
    f.seeds_hash = h;
    return f;
}

/// "-k: the checkpoint has 6, this run 7; ...": each setting that differs between a checkpoint
/// (`have`) and the run resuming it (`want`), with both values.
std::string differences(const Fingerprint& have, const Fingerprint& want) {
    std::string out;
    auto add = [&](const char* what, const std::string& a, const std::string& b) {
        out += std::string(out.empty() ? "" : "; ") + what + ": the checkpoint has " + a +
               ", this run " + b;
    };
    auto num = [](double x) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", x);
        return std::string(buf);
    };
    auto alpha_h = [&](double x) { return x < 0 ? std::string("same as --alpha-w") : num(x); };
    auto matrix = [](const Fingerprint& f) {
        return std::to_string(f.n) + " x " + std::to_string(f.m) + " with " +
               std::to_string(f.nnz) + " non-zeros";
    };
    if (have.n != want.n || have.m != want.m || have.nnz != want.nnz)
        add("the matrix", matrix(have), matrix(want));
    else if (have.matrix_hash != want.matrix_hash)
        add("the matrix", "other terms or weights", "these (the same shape: vectorized with other settings?)");
    if (have.k != want.k) add("-k", std::to_string(have.k), std::to_string(want.k));
    if (have.solver != want.solver)
        add("--solver", nmf_solver_name(NmfSolver(have.solver)),
            nmf_solver_name(NmfSolver(want.solver)));
    if (have.loss != want.loss)
        add("--loss", nmf_loss_name(NmfLoss(have.loss)), nmf_loss_name(NmfLoss(want.loss)));
    if (have.init != want.init) {
        auto name = [](int32_t i) {
            return i >= 0 && i <= 3 ? std::string(nmf_init_name(NmfInit(i)))
                                    : "init " + std::to_string(i);
        };
        add("--init", name(have.init), name(want.init));
    }
    if (have.seed != want.seed) add("--seed", std::to_string(have.seed), std::to_string(want.seed));
    // Compared as bytes, as the fingerprint (-0 and 0 differ; "same" is not its value).
    auto differ = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) != 0; };
    if (differ(have.alpha_W, want.alpha_W)) add("--alpha-w", num(have.alpha_W), num(want.alpha_W));
    if (differ(have.alpha_H, want.alpha_H))
        add("--alpha-h", alpha_h(have.alpha_H), alpha_h(want.alpha_H));
    if (differ(have.l1_ratio, want.l1_ratio))
        add("--l1-ratio", num(have.l1_ratio), num(want.l1_ratio));
    if (differ(have.seed_strength, want.seed_strength))
        add("--seed-strength", num(have.seed_strength), num(want.seed_strength));
    if (have.seeds_hash != want.seeds_hash)
        add("--seed-terms", "other guided topics", "these (their term ids differ)");
    return out;
}

/// The constants of guided topics, fixed at the initialisation.
struct Guide {
    double lambda = 0, weight = 0;
};

void write_checkpoint(const std::string& path, const Fingerprint& f, int iteration, const Guide& guide,
                      const std::vector<double>& losses, const std::vector<float>& W,
                      const std::vector<float>& H) {
    AtomicFile out(path, /*immediate=*/true);  // a checkpoint is there while the fit goes on
    out.write(kCheckpointMagic, 4);
    out.write_pod<uint32_t>(4);  // 3: the checksum at the end; 4: the matrix's content hash
    out.write_pod(f);
    out.write_pod<int32_t>(iteration);
    out.write_pod<double>(guide.lambda);
    out.write_pod<double>(guide.weight);
    out.write_vector(losses);
    out.write_vector(W);
    out.write_vector(H);
    out.write_checksum();
    out.commit();
}

struct Checkpoint {
    int iteration = 0;
    Guide guide;
    std::vector<double> losses;
    std::vector<float> W, H;
};

Checkpoint read_checkpoint(const std::string& path, const Fingerprint& want) {
    BinaryReader r(path);
    char magic[4];
    r.read(magic, 4, "magic");
    if (std::memcmp(magic, kCheckpointMagic, 4) != 0)
        throw InputError(path + ": not a tmine NMF checkpoint");
    const auto version = r.read_pod<uint32_t>("version");
    if (version != 4)
        throw InputError(path + ": NMF checkpoint version " + std::to_string(version) +
                         " (this tmine reads version 4, which also records the matrix's content; start the fit again)");
    auto f = r.read_pod<Fingerprint>("settings");
    if (!(f == want)) {
        std::string diff = differences(f, want);
        if (diff.empty()) diff = "settings differ";  // only padding could; memset makes it zero
        throw InputError(path +
                         ": the checkpoint was written for another matrix or other settings (" +
                         diff + "); resume with the checkpoint's, or start the fit again");
    }
    Checkpoint c;
    c.iteration = r.read_pod<int32_t>("iteration");
    c.guide.lambda = r.read_pod<double>("seed lambda");
    c.guide.weight = r.read_pod<double>("seed weight");
    c.losses = r.read_vector<double>("losses");
    c.W = r.read_vector<float>("W");
    c.H = r.read_vector<float>("H");
    if (c.iteration < 0 || c.losses.size() != size_t(c.iteration) + 1 ||
        c.W.size() != size_t(f.n * f.k) || c.H.size() != size_t(f.m * f.k))
        throw InputError(path + ": corrupt checkpoint (inconsistent sizes)");
    r.verify_checksum();
    return c;
}

/// The CPU iterates on X with its columns in order of decreasing non-zeros (most frequent term
/// first). The sparse products gather rows of H^T and scatter into rows of X^T W at random, one
/// per non-zero; with the frequent terms' rows side by side, the ~2,500 rows that take 70% of
/// the non-zeros of the Reddit matrix share cache lines and stay in L2, instead of being spread
/// over the whole alphabetical vocabulary (-20 to -30% per iteration there, docs/benchmarks.md).
/// Exact in exact arithmetic: only float summation orders change. The GPU keeps X as it is (its
/// L2 holds H^T whole).
/// The non-zeros of each column of X, summed over the processes when `summed` (X: this
/// process's rows), in double (exact below 2^53).
std::vector<double> column_counts(const CsrMatrix& X, bool summed) {
    std::vector<int64_t> count(size_t(X.cols), 0);
    for (int32_t c : X.indices) ++count[c];
    std::vector<double> out(count.begin(), count.end());
    if (summed) processes::sum(out.data(), int64_t(out.size()));
    return out;
}
/// The new column of each original column: the most frequent first (ties in column order).
std::vector<int32_t> frequent_columns_first(const std::vector<double>& count) {
    const int64_t m = int64_t(count.size());
    std::vector<int32_t> by(m);
    std::iota(by.begin(), by.end(), 0);
    std::stable_sort(by.begin(), by.end(), [&](int32_t a, int32_t b) { return count[a] > count[b]; });
    std::vector<int32_t> to_new(m);
    for (int64_t i = 0; i < m; ++i) to_new[by[i]] = int32_t(i);
    return to_new;
}
/// X with its columns renumbered by `to_new`, each row's columns ascending again (rows in
/// parallel: the same matrix on any number of threads).
CsrMatrix with_columns(const CsrMatrix& X, const std::vector<int32_t>& to_new, int threads) {
    CsrMatrix o;
    o.rows = X.rows;
    o.cols = X.cols;
    o.indptr = X.indptr;
    o.indices.resize(X.indices.size());
    o.data.resize(X.data.size());
    ParallelErrors errors;  // a thread's bad_alloc (a huge row) rethrown after the region
#pragma omp parallel num_threads(std::max(1, threads))
    {
        std::vector<std::pair<int32_t, float>> row;
#pragma omp for schedule(dynamic, 1024)
        for (int64_t i = 0; i < X.rows; ++i) {
            errors.run([&] {
                row.clear();
                for (int64_t q = X.indptr[i]; q < X.indptr[i + 1]; ++q)
                    row.emplace_back(to_new[X.indices[q]], X.data[q]);
                std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
                for (size_t e = 0; e < row.size(); ++e) {
                    o.indices[X.indptr[i] + int64_t(e)] = row[e].first;
                    o.data[X.indptr[i] + int64_t(e)] = row[e].second;
                }
            });
        }
    }
    errors.rethrow();
    return o;
}
/// H (k x m) with its columns moved: `to_new` maps original to new (forward) or back.
std::vector<float> move_columns(const std::vector<float>& H, int k, const std::vector<int32_t>& to_new,
                                bool forward) {
    const int64_t m = int64_t(to_new.size());
    std::vector<float> out(H.size());
    for (int j = 0; j < k; ++j)
        for (int64_t c = 0; c < m; ++c) {
            const int64_t a = int64_t(j) * m + c, b = int64_t(j) * m + to_new[c];
            if (forward)
                out[b] = H[a];
            else
                out[a] = H[b];
        }
    return out;
}

/// The iteration loop: from factors (W, H) at iteration `start` whose losses so far are
/// `losses` (slot i = after iteration i; empty when starting fresh).
///
/// Distributed (processes::size() P > 1, docs/architecture.md "Distributed NMF"): X and W are
/// this process's rows [split.first[r], split.first[r + 1]) of the whole matrix's, H is
/// replicated (rank 0's, broadcast): the W half-step is local, the H half-step needs X^T W
/// and W^T W summed over the processes (MPI_Allreduce, m k + k k floats an iteration), after
/// which every process makes the same H update. The losses are the whole matrix's, so every
/// process stops at the same iteration; W is gathered to rank 0 at checkpoints and at the end.
NmfModel drive(const Context& ctx, const CsrMatrix& X, const RowSplit& split, const NmfOptions& opts,
               bool update_H, std::vector<float> W, std::vector<float> H, int start,
               std::vector<double> losses, const Guide& guide_in = {}) {
    const int k = opts.k;
    const int P = processes::size(), me = processes::rank();
    const int64_t n = split.rows();  // the whole matrix's
    Guide guide = guide_in;
    if (P > 1) {
        if (!update_H) throw InputError("transform runs in one process: start it without an MPI launcher");
        TMINE_ASSERT(split.parts() == P && split.first[me + 1] - split.first[me] == X.rows &&
                         W.size() == size_t(X.rows) * size_t(k),
                     "drive: X and W must be this process's rows of the split");
        // Each process made its rows of W; H and the guide are rank 0's on every process (the
        // processes compute them alike, but a last bit must not differ between their copies).
        processes::broadcast(H.data(), int64_t(H.size()));
        double g[2] = {guide.lambda, guide.weight};
        processes::broadcast(g, 2);
        guide = Guide{g[0], g[1]};
    }
    auto t0 = Clock::now();
    const bool reorder = !ctx.is_cuda();
    std::vector<int32_t> to_new;  // the CPU's column order (from the whole matrix's counts)
    if (reorder) {
        to_new = frequent_columns_first(column_counts(X, P > 1));
        H = move_columns(H, k, to_new, true);
    }
    auto original_H = [&](std::vector<float>& h) {
        if (reorder) h = move_columns(h, k, to_new, false);
    };
    CsrMatrix block;
    if (reorder) block = with_columns(X, to_new, ctx.cpu_threads());
    const CsrMatrix& Xl = reorder ? block : X;  // what the device iterates on
    std::vector<int64_t> order;  // Xt entry -> X entry: the KL ratios' transpose needs it
    CsrMatrix Xt = transpose(ctx, Xl, opts.loss == NmfLoss::KullbackLeibler ? &order : nullptr);
    detail::NmfProblem p{Xl, Xt, order, k, regularization(opts, n, X.cols), update_H, {}, {}, 0.0f, 0.0f};
    p.distributed = P > 1;
    if (update_H && !opts.seed_terms.empty() && guide.lambda > 0) {
        p.seed_lambda = float(guide.lambda);
        p.seed_pull = float(guide.lambda * guide.weight);
        for (size_t j = 0; j < opts.seed_terms.size(); ++j) {
            p.seed_topics.push_back(int32_t(j));
            for (int32_t c : opts.seed_terms[j]) {
                const int64_t col = reorder ? to_new[c] : c;
                p.seed_entries.push_back(col * k + int64_t(j));
            }
        }
    }
    // W moves in: the CPU iterates on it in place, a GPU copies it and frees it.
    auto iters = ctx.is_cuda() ? cuda_impl::nmf_iterations(ctx, p, opts, std::move(W), H)
                               : cpu_impl::nmf_iterations(ctx, p, opts, std::move(W), H);
    std::vector<double> local;
    // Every decision (finite, --tol, the restart kept) reads rank 0's losses: the processes'
    // copies of H are meant to be equal, but a BLAS kernel or an all-reduce differing in the
    // last bit on one machine must not make one process stop while the others go on.
    auto read_losses = [&](int upto) {
        iters->losses(upto, local);
        if (P > 1) processes::broadcast(local.data(), int64_t(local.size()));
    };
    // A loss that is no longer a number stops the fit with the reason, rather than writing a
    // model of NaNs (a regularisation too strong for float32, or extreme matrix values).
    auto finite_or_throw = [&](int first_iteration) {
        for (size_t i = 0; i < local.size(); ++i)
            if (!std::isfinite(local[i]))
                throw InputError(std::string("topics: the fit diverged: the loss is ") +
                                 (std::isnan(local[i]) ? "not a number" : "infinite") +
                                 (first_iteration + int(i) == 0 ? std::string(" at the start")
                                                                 : " after iteration " + std::to_string(first_iteration + int(i))) +
                                 "; lower --alpha-w / --alpha-h, or check the matrix's values");
    };
    read_losses(0);
    finite_or_throw(start);
    if (losses.empty()) losses.push_back(local[0]);
    const double loss0 = losses[0];
    // (the matrix's content: only for checkpoints, a collective in a distributed fit)
    const Fingerprint fp = fingerprint(n, X.cols, split.nnz, opts,
                                       opts.checkpoint_every > 0 ? matrix_hash(X, split.first[me], P > 1) : 0);
    NmfModel model;
    model.stop_reason = "max_iter";
    int done = start;
    double last_line = 0;  // elapsed seconds at the last progress line
    bool printed = false;
    for (int it = start + 1; it <= opts.max_iter; ++it) {
        iters->step(it - start);
        done = it;
        const bool check = opts.tol > 0 && it % 10 == 0;
        const bool save = opts.checkpoint_every > 0 && it % opts.checkpoint_every == 0;
        if ((it - start) % iters->read_every() != 0 && !check && !save && it != opts.max_iter)
            continue;  // a GPU keeps going without waiting; losses are read in batches
        read_losses(it - start);
        finite_or_throw(start);
        losses.resize(start + 1);
        losses.insert(losses.end(), local.begin() + 1, local.end());
        double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        if (P > 1 && opts.time_limit > 0) elapsed = processes::max(elapsed);  // one decision for all
        // relative to the loss at the start (a start at loss 0 is converged already)
        const bool stop_tol = check && (losses[it - 10] - losses[it]) / (loss0 > 0 ? loss0 : 1.0) < opts.tol;
        const bool stop_time = opts.time_limit > 0 && elapsed >= opts.time_limit;
        // A line for the first iteration read (the 1st on the CPU, the 10th on a GPU, which
        // reads its losses in batches), the last one (whatever stopped the fit), a checkpoint,
        // and at most one a second between them (200 lines for 200 fast iterations said
        // nothing more).
        if (opts.progress && (!printed || it == opts.max_iter || stop_tol || stop_time || save ||
                              elapsed - last_line >= 1.0)) {
            printed = true;
            last_line = elapsed;
            std::fprintf(stderr, "topics: iteration %d/%d %s %.6f (%.2f s, %s)\n", it,
                         opts.max_iter,
                         opts.loss == NmfLoss::Frobenius ? "relative error" : "loss",
                         losses[it], elapsed, device_name(ctx.device()));
        }
        if (save) {
            std::vector<float> w, h;
            iters->factors(w, h);
            w = processes::gather_rows_to_root(w, split.first, k);
            original_H(h);
            if (me == 0) write_checkpoint(opts.checkpoint_path, fp, it, guide, losses, w, h);
        }
        if (stop_tol) {
            model.stop_reason = "tol";
            break;
        }
        if (stop_time) {
            model.stop_reason = "time_limit";
            break;
        }
    }
    read_losses(done - start);
    finite_or_throw(start);
    losses.resize(start + 1);
    losses.insert(losses.end(), local.begin() + 1, local.end());
    iters->final_factors(W, H);  // W: this process's rows
    iters.reset();               // the device's buffers, before W is gathered
    if (P > 1) processes::broadcast(H.data(), int64_t(H.size()));  // the same on every process: rank 0's, to the bit
    original_H(H);
    // every document's weights 0 (a strong --alpha-w) leaves H where it started: as empty a fit
    float w_any = std::any_of(W.begin(), W.end(), [](float w) { return w != 0.0f; }) ? 1.0f : 0.0f;
    if (P > 1) processes::sum(&w_any, 1);
    const bool h_zero = std::all_of(H.begin(), H.end(), [](float h) { return h == 0.0f; });
    if (update_H && (w_any == 0.0f || h_zero))
        throw InputError(std::string(h_zero ? "topics: every topic came out empty (all of H is 0)"
                                            : "topics: every document came out without topics (all of W is 0)") +
                         std::string(opts.alpha_W > 0 || opts.alpha_H > 0
                                         ? ": --alpha-w / --alpha-h are too strong for this matrix; lower them (as in "
                                           "scikit-learn, W's penalty is --alpha-w times the number of terms, " +
                                               std::to_string(X.cols) +
                                               ", and H's --alpha-h times the number of documents, " +
                                               std::to_string(n) + ")"
                                         : ""));
    model.n = n;
    model.m = X.cols;
    model.k = k;
    model.iterations = done;
    model.loss_at_init = losses[0];
    model.losses.assign(losses.begin() + 1, losses.end());
    model.device = device_name(ctx.device());
    model.cpu_threads = ctx.cpu_threads();
    model.device_description = ctx.description() + (P > 1 ? ", " + processes::description() : std::string());
    model.seed_lambda = guide.lambda;
    model.seed_weight = guide.weight;
    // With --tf32 the per-iteration losses use TF32 Gram matrices: the final error is
    // recomputed in float64 on the host.
    if (opts.loss == NmfLoss::Frobenius && update_H && done > start && !(opts.tf32 && ctx.is_cuda())) {
        model.relative_error = model.losses.back();
    } else {
        // Distributed: each process's rows, the sums over the processes; rank 0's value.
        double e = relative_error_rows(ctx, X, W, H, k, P > 1);
        if (P > 1) processes::broadcast(&e, 1);
        model.relative_error = e;
    }
    model.W = P > 1 ? processes::gather_rows_to_root(W, split.first, k) : std::move(W);
    model.H = std::move(H);
    return model;
}

/// Guided topics (docs/architecture.md, "Guided topics"): the constants of the pull and the guided topics' start.
///  - r (weight): the mean over topics of each row's largest entry of the initial H, the
///    typical weight of a topic's best term;
///  - lambda: seed_strength times the mean of diag(W^T W) at the initialisation, so that
///    strength 1 weighs the pull like the data weighs a typical topic;
///  - guided topic j starts at H_j = r on its seed terms and mean(X) elsewhere (non-zero, so
///    multiplicative updates can still move them), W_j = X H_j^T / (H_j H_j^T).
/// With `split`, X and W are this process's rows (every process calls it; the sums are over
/// the processes).
Guide guide_init(const CsrMatrix& X, const NmfOptions& o, std::vector<float>& W,
                 std::vector<float>& H, const RowSplit* split) {
    Guide g;
    if (o.seed_terms.empty()) return g;
    const int64_t n = X.rows, m = X.cols;  // n: this process's rows
    const int k = o.k;
    for (const auto& terms : o.seed_terms)
        for (int32_t c : terms)
            if (c >= m)
                throw InputError("--seed-terms: term id " + std::to_string(c) + " is not a column (" +
                                 std::to_string(m) + " terms)");
    double top = 0, norms = 0, total = 0;
    for (int j = 0; j < k; ++j) {
        const float* h = H.data() + int64_t(j) * m;
        top += *std::max_element(h, h + m);
    }
    for (int64_t i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j) norms += double(W[i * k + j]) * W[i * k + j];
    for (float v : X.data) total += v;
    if (split) {
        double sums[2] = {norms, total};
        processes::sum(sums, 2);
        norms = sums[0];
        total = sums[1];
    }
    const int64_t rows = split ? split->rows() : n;
    g.weight = top / k;
    g.lambda = o.seed_strength * norms / k;
    const float fill = float(total / (double(rows) * double(m)));
    std::vector<float> h(m);
    for (size_t j = 0; j < o.seed_terms.size(); ++j) {
        std::fill(h.begin(), h.end(), fill);
        for (int32_t c : o.seed_terms[j]) h[c] = float(g.weight);
        double hh = 0;
        for (float v : h) hh += double(v) * v;
        std::copy(h.begin(), h.end(), H.begin() + int64_t(j) * m);
        for (int64_t i = 0; i < n; ++i) {
            double s = 0;
            for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p) s += double(X.data[p]) * h[X.indices[p]];
            W[i * k + j] = float(s / hh);
        }
    }
    if (g.weight <= 0 || !(g.lambda >= 0)) g = Guide{};  // a degenerate start: nothing to pull to
    return g;
}

}  // namespace

CsrMatrix own_rows(const CsrMatrix& X, RowSplit& split) {
    const int me = processes::rank();
    split = split_rows(X.indptr, processes::size());
    std::vector<int64_t> mine(size_t(split.first[me + 1] - split.first[me]));
    std::iota(mine.begin(), mine.end(), split.first[me]);
    return take_rows(X, mine);
}

FitRows::FitRows(const CsrMatrix& X, const RowSplit* split) : X_(X), split_(split) {
    if (!split && processes::size() > 1) {  // the whole matrix on every process
        mine_ = own_rows(X, own_);
        split_ = &own_;
        taken = true;
    }
    whole_.first = {0, X.rows};
    whole_.nnz = X.nnz();
}

void check_k(const CsrMatrix& X, int k, const RowSplit* split) {
    const int64_t n = split ? split->rows() : X.rows, nnz = split ? split->nnz : X.nnz();
    if (n == 0 || X.cols == 0 || nnz == 0)
        throw InputError("topics: the matrix is empty (" + std::to_string(n) + " x " +
                         std::to_string(X.cols) + ", no non-zeros)");
    double filled = 0;  // rows that hold a term (summed over the processes, as the counts)
    for (int64_t r = 0; r < X.rows; ++r) filled += X.indptr[r + 1] > X.indptr[r];
    if (split) processes::sum(&filled, 1);
    const std::vector<double> count = column_counts(X, split != nullptr);
    const int64_t rows = int64_t(filled);
    const int64_t cols = std::count_if(count.begin(), count.end(), [](double c) { return c > 0; });
    const int64_t limit = std::min(rows, cols);
    if (k < 1 || k > limit)
        throw InputError("-k " + std::to_string(k) + ": must be between 1 and " + std::to_string(limit) +
                         " (the smaller of " + std::to_string(rows) + " documents" +
                         (rows < n ? " with a term (of " + std::to_string(n) + ")" : std::string()) +
                         " and " + std::to_string(cols) + " terms" +
                         (cols < X.cols ? " in a document (of " + std::to_string(X.cols) + ")" : std::string()) +
                         ")");
}

NmfModel nmf(const Context& ctx, const CsrMatrix& X_in, const NmfOptions& opts,
             const TruncatedSvd* svd, const RowSplit* split_in) {
    const FitRows fit_rows(X_in, split_in);
    const CsrMatrix& X = fit_rows.X();
    const RowSplit* split = fit_rows.split();
    const RowSplit& rows = fit_rows.rows();
    if (fit_rows.taken) svd = nullptr;  // of the whole matrix, not of these rows
    check_k(X, opts.k, split);
    validate(opts);
    if (ctx.is_cuda())  // before the initialisation's SVD, which takes seconds to minutes
        cuda_impl::check_nmf_memory(ctx, X.rows, X.cols, X.nnz(), opts.k, opts.loss);
    NmfModel best;
    std::vector<double> finals;
    for (int r = 0; r < opts.restarts; ++r) {
        NmfOptions o = opts;
        o.seed = opts.seed + uint64_t(r);
        auto t0 = Clock::now();
        std::vector<float> W, H;
        const TruncatedSvd* given = svd && svd->seed == o.seed ? svd : nullptr;
        if (o.progress && o.init != NmfInit::Random && !given)  // the SVD takes seconds
            std::fprintf(
                stderr,
                "topics: initialising %s (k=%d): truncated SVD of the %lld x %lld matrix on %s\n",
                nmf_init_name(o.init), o.k, static_cast<long long>(rows.rows()),
                static_cast<long long>(X.cols), ctx.description().c_str());
        nmf_init(ctx, X, o, W, H, given, split);  // distributed: every process, its rows of W
        const Guide guide = guide_init(X, o, W, H, split);
        if (o.progress)
            std::fprintf(stderr, "topics: initialised %s (k=%d) in %.2f s; solver %s, loss %s%s\n",
                         nmf_init_name(o.init), o.k,
                         std::chrono::duration<double>(Clock::now() - t0).count(),
                         nmf_solver_name(o.solver), nmf_loss_name(o.loss),
                         opts.restarts > 1 ? (", restart " + std::to_string(r + 1) + "/" +
                                              std::to_string(opts.restarts) + ", seed " +
                                              std::to_string(o.seed)).c_str()
                                           : "");
        NmfModel m = drive(ctx, X, rows, o, true, std::move(W), std::move(H), 0, {}, guide);
        m.seed = o.seed;
        finals.push_back(m.losses.back());
        if (r == 0 || m.losses.back() < best.losses.back()) best = std::move(m);
    }
    best.restart_losses = std::move(finals);
    return best;
}

NmfModel nmf_resume(const Context& ctx, const CsrMatrix& X_in, const NmfOptions& opts,
                    const std::string& checkpoint_path, const RowSplit* split_in) {
    const FitRows fit_rows(X_in, split_in);
    const CsrMatrix& X = fit_rows.X();
    const RowSplit* split = fit_rows.split();
    const RowSplit& rows = fit_rows.rows();
    check_k(X, opts.k, split);
    validate(opts);
    if (opts.restarts > 1)
        throw InputError("--resume continues one fit: --restarts cannot be combined with it");
    if (ctx.is_cuda()) cuda_impl::check_nmf_memory(ctx, X.rows, X.cols, X.nnz(), opts.k, opts.loss);
    // A distributed fit: rank 0 reads the checkpoint (it wrote it; the others' file systems may
    // not have it) and sends its iteration, losses and guide, each process its rows of W;
    // drive() broadcasts H.
    Checkpoint c;
    const uint64_t content = matrix_hash(X, rows.first[processes::rank()], processes::size() > 1);
    if (processes::rank() == 0)
        c = read_checkpoint(checkpoint_path, fingerprint(rows.rows(), X.cols, rows.nnz, opts, content));
    if (processes::size() > 1) {
        double head[4] = {double(c.iteration), double(c.losses.size()), c.guide.lambda, c.guide.weight};
        processes::broadcast(head, 4);
        c.iteration = int(head[0]);
        c.losses.resize(size_t(head[1]));
        processes::broadcast(c.losses.data(), int64_t(c.losses.size()));
        c.guide = Guide{head[2], head[3]};
        c.W = processes::scatter_rows(c.W, rows.first, opts.k);
        c.H.resize(size_t(opts.k) * size_t(X.cols));
    }
    if (opts.max_iter < c.iteration)
        throw InputError("--iters " + std::to_string(opts.max_iter) + ": " + checkpoint_path +
                         " is at iteration " + std::to_string(c.iteration) +
                         " already; give --iters " + std::to_string(c.iteration) + " or more to continue the fit");
    forget_input(checkpoint_path);  // read to be continued: the new checkpoints replace it
    if (opts.progress)
        std::fprintf(stderr, "topics: resuming from %s at iteration %d\n", checkpoint_path.c_str(),
                     c.iteration);
    NmfModel m = drive(ctx, X, rows, opts, true, std::move(c.W), std::move(c.H), c.iteration,
                       std::move(c.losses), c.guide);
    m.seed = opts.seed;
    m.restart_losses = {m.losses.back()};  // one fit, as nmf() records it: the same model file
    return m;
}

std::vector<float> nmf_transform(const Context& ctx, const CsrMatrix& X_new,
                                 const std::vector<float>& H, int k, const NmfOptions& opts) {
    if (k < 1 || H.size() != size_t(k) * size_t(X_new.cols))
        throw InputError("transform: the matrix has " + std::to_string(X_new.cols) +
                         " terms but the model's H has " + std::to_string(H.size() / std::max(k, 1)) +
                         " (vectorize new documents with the model's vocabulary)");
    if (X_new.rows == 0) return {};
    NmfOptions o = opts;
    o.k = k;
    o.checkpoint_every = 0;
    validate(o);
    // scikit-learn's start for a fixed H: sqrt(mean(X) / k) everywhere for mu, zeros for cd.
    double total = 0;
    for (float v : X_new.data) total += v;
    const float avg = o.solver == NmfSolver::Mu
                          ? float(std::sqrt(total / (double(X_new.rows) * X_new.cols) / k))
                          : 0.0f;
    std::vector<float> W(X_new.rows * k, avg);
    if (X_new.nnz() == 0) return std::vector<float>(X_new.rows * k, 0.0f);
    RowSplit whole;
    whole.first = {0, X_new.rows};
    whole.nnz = X_new.nnz();
    NmfModel m = drive(ctx, X_new, whole, o, false, std::move(W), H, 0, {});
    return std::move(m.W);
}

}  // namespace tmine
