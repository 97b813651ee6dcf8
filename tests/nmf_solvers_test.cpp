// NMF solvers and their contract: scikit-learn's final losses on a 20 Newsgroups TF-IDF
// (fixture from tests/fixtures/gen_nmf_fixture.py), KL updates against an independent
// float64 reference, HALS monotonicity, regularisation, checkpoint/resume, time limit,
// transform and fixed-vocabulary vectorizing.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <limits>
#include <random>

#include "test_util.hpp"
#include "tmine/error.hpp"
#include "tmine/nmf.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {

const char* k20News = "20news-bydate.tar.gz";

const Vectorized& newsgroups_matrix() {
    static Vectorized v = [] {
        Corpus c = newsgroups_train_head(1500);
        VectorizeOptions o;
        o.tokenizer = TokenizerOptions::sklearn();  // as the fixture's TfidfVectorizer
        o.stop_words = load_stop_words("english");
        o.min_df = DfBound::parse("5", "--min-df");
        o.max_df = DfBound::parse("0.5", "--max-df");
        return vectorize(Context::cpu(), c, o);
    }();
    return v;
}


rapidjson::Document fixture_json() {
    rapidjson::Document d;
    std::string s = read_bytes(fixture("nmf_20news.json"));
    d.Parse(s.c_str());
    EXPECT_FALSE(d.HasParseError());
    return d;
}

/// Textbook KL multiplicative updates in float64 on dense matrices (W then H), with
/// scikit-learn's guards (a zero WH becomes eps; a zero column sum of W becomes 1; entries of
/// H below float64's epsilon become 0 after its update).
void dense_kl_mu(const std::vector<double>& X, std::vector<double>& W, std::vector<double>& H,
                 int64_t n, int64_t m, int k) {
    const double eps = std::numeric_limits<float>::epsilon();
    auto wh = [&](int64_t i, int64_t c) {
        double s = 0;
        for (int j = 0; j < k; ++j) s += W[i * k + j] * H[j * m + c];
        return s;
    };
    std::vector<double> num(n * k, 0), hsum(k, 0);
    for (int j = 0; j < k; ++j)
        for (int64_t c = 0; c < m; ++c) hsum[j] += H[j * m + c];
    for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < m; ++c) {
            double x = X[i * m + c];
            if (x == 0) continue;
            double v = wh(i, c);
            double r = x / (v == 0 ? eps : v);
            for (int j = 0; j < k; ++j) num[i * k + j] += r * H[j * m + c];
        }
    for (int64_t i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j) W[i * k + j] *= num[i * k + j] / (hsum[j] == 0 ? eps : hsum[j]);
    std::vector<double> numH(k * m, 0), wsum(k, 0);
    for (int64_t i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j) wsum[j] += W[i * k + j];
    for (auto& s : wsum)
        if (s == 0) s = 1;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < m; ++c) {
            double x = X[i * m + c];
            if (x == 0) continue;
            double v = wh(i, c);
            double r = x / (v == 0 ? eps : v);
            for (int j = 0; j < k; ++j) numH[j * m + c] += W[i * k + j] * r;
        }
    for (int j = 0; j < k; ++j)
        for (int64_t c = 0; c < m; ++c) {
            H[j * m + c] *= numH[j * m + c] / wsum[j];
            if (H[j * m + c] < std::numeric_limits<double>::epsilon()) H[j * m + c] = 0;
        }
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

/// A fit of k topics for exactly `iters` iterations (tol 0) with this solver and loss.
NmfOptions fit_options(int k, int iters, NmfSolver solver, NmfLoss loss) {
    NmfOptions o;
    o.k = k;
    o.max_iter = iters;
    o.tol = 0;
    o.solver = solver;
    o.loss = loss;
    return o;
}

}  // namespace

TEST(NmfSklearn, FinalLossesWithinOnePercentOfScikitLearn) {
    TMINE_REQUIRE_DATA(k20News);
    auto fx = fixture_json();
    const auto& v = newsgroups_matrix();
    ASSERT_EQ(v.X.rows, fx["documents"].GetInt64());
    ASSERT_EQ(v.X.cols, fx["terms"].GetInt64()) << "same TF-IDF as scikit-learn's";
    ASSERT_EQ(v.X.nnz(), fx["nnz"].GetInt64());
    struct Case {
        const char* key;
        NmfSolver solver;
        NmfLoss loss;
    } cases[] = {{"mu_frobenius", NmfSolver::Mu, NmfLoss::Frobenius},
                 {"cd_frobenius", NmfSolver::Hals, NmfLoss::Frobenius},
                 {"mu_kullback-leibler", NmfSolver::Mu, NmfLoss::KullbackLeibler}};
    for (const auto& c : cases) {
        NmfOptions o;
        o.k = fx["k"].GetInt();
        o.max_iter = fx["iterations"].GetInt();
        o.tol = 0;
        o.solver = c.solver;
        o.loss = c.loss;
        NmfModel m = nmf(Context::cpu(), v.X, o);
        const auto& ref = fx["runs"][c.key];
        const double sk = ref["reconstruction_err"].GetDouble();
        // tmine reports Frobenius losses relative to ||X||; scikit-learn's are absolute.
        const double ours = c.loss == NmfLoss::Frobenius
                                ? m.losses.back() * std::sqrt(double(v.X.rows))
                                : m.losses.back();
        std::printf("%s: tmine %.6f, scikit-learn %.6f (ratio %.5f)\n", c.key, ours, sk, ours / sk);
        EXPECT_LE(ours, sk * 1.01) << c.key << ": tmine " << ours << " vs scikit-learn " << sk;
        EXPECT_GE(ours, sk * 0.95) << c.key << ": suspiciously far below scikit-learn";
        EXPECT_NEAR(m.relative_error, ref["relative_error"].GetDouble(),
                    0.01 * ref["relative_error"].GetDouble())
            << c.key;
    }
}

// Regularised fits (alpha_W, alpha_H, l1_ratio) against scikit-learn on the same matrix, init and
// iterations: the reconstruction error within 1%, and scikit-learn's objective, penalty included,
// computed here from the fixture's alphas (not through tmine's regularization()), within 1%.
TEST(NmfSklearn, RegularisedFitsMatchScikitLearnsObjective) {
    TMINE_REQUIRE_DATA(k20News);
    auto fx = fixture_json();
    ASSERT_TRUE(fx.HasMember("regularized")) << "regenerate with tests/fixtures/gen_nmf_fixture.py";
    const auto& v = newsgroups_matrix();
    ASSERT_EQ(v.X.nnz(), fx["nnz"].GetInt64()) << "same TF-IDF as scikit-learn's";
    const double n = double(v.X.rows), m = double(v.X.cols);
    double xx = 0;
    for (float x : v.X.data) xx += double(x) * x;
    const double xnorm = std::sqrt(xx), trivial = 0.5 * xx;  // the objective of W = H = 0
    int runs = 0;
    for (const auto& run : fx["regularized"].GetObject()) {
        const char* key = run.name.GetString();
        const auto& ref = run.value;
        NmfOptions o;
        o.k = fx["k"].GetInt();
        o.max_iter = fx["iterations"].GetInt();
        o.tol = 0;
        o.solver = parse_nmf_solver(ref["solver"].GetString());
        o.alpha_W = ref["alpha_W"].GetDouble();
        o.alpha_H = ref["alpha_H"].IsString() ? -1.0 : ref["alpha_H"].GetDouble();  // "same"
        o.l1_ratio = ref["l1_ratio"].GetDouble();
        NmfModel fit = nmf(Context::cpu(), v.X, o);
        const double aW = o.alpha_W, aH = o.alpha_H < 0 ? o.alpha_W : o.alpha_H, l1 = o.l1_ratio;
        double w1 = 0, w2 = 0, h1 = 0, h2 = 0;
        for (float w : fit.W) w1 += w, w2 += double(w) * w;
        for (float h : fit.H) h1 += h, h2 += double(h) * h;
        const double err = nmf_relative_error(Context::cpu(), v.X, fit.W, fit.H, o.k) * xnorm;
        const double penalty = aW * l1 * m * w1 + 0.5 * aW * (1 - l1) * m * w2 + aH * l1 * n * h1 +
                               0.5 * aH * (1 - l1) * n * h2;
        const double objective = 0.5 * err * err + penalty;
        const double sk_err = ref["reconstruction_err"].GetDouble();
        const double sk_obj = ref["objective"].GetDouble();
        std::printf(
            "%s: reconstruction error tmine %.6f, scikit-learn %.6f (ratio %.5f); objective "
            "tmine %.4f, scikit-learn %.4f (ratio %.5f); penalty tmine %.4f, scikit-learn %.4f\n",
            key, err, sk_err, err / sk_err, objective, sk_obj, objective / sk_obj, penalty,
            ref["penalty"].GetDouble());
        ASSERT_LT(sk_obj, 0.99 * trivial) << key << ": the fixture's fit must beat W = H = 0";
        EXPECT_NEAR(err, sk_err, 0.01 * sk_err) << key;
        EXPECT_NEAR(fit.losses.back() * xnorm, err, 1e-4 * err) << key << ": the reported loss";
        EXPECT_LE(objective, sk_obj * 1.01) << key;
        EXPECT_GE(objective, sk_obj * 0.99) << key << ": suspiciously far below scikit-learn";
        // The objective is mostly 0.5 ||X||^2, which no setting changes: the 1% above cannot
        // tell a penalty scaled wrongly by 2 (measured: L2 doubled moves it 0.7%). What the fit
        // gains over W = H = 0 and the penalty it pays can (doubled L2: 13% less gain, 40% less
        // penalty); tmine may find a better optimum than scikit-learn, not a worse one.
        EXPECT_GE(trivial - objective, 0.95 * (trivial - sk_obj)) << key;
        EXPECT_NEAR(penalty, ref["penalty"].GetDouble(), 0.1 * ref["penalty"].GetDouble()) << key;
        ++runs;
    }
    EXPECT_GE(runs, 4);
}

TEST(NmfKl, MatchesFloat64DenseReferenceAndDecreases) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    const int64_t n = v.X.rows, m = v.X.cols;
    const int k = 5, iters = 20;
    NmfOptions o;
    o.k = k;
    o.max_iter = iters;
    o.tol = 0;
    o.loss = NmfLoss::KullbackLeibler;
    std::vector<float> W0, H0;
    nmf_init(Context::cpu(), v.X, o, W0, H0);
    std::vector<double> X(n * m, 0.0), W = to_double(W0), H = to_double(H0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t p = v.X.indptr[i]; p < v.X.indptr[i + 1]; ++p) X[i * m + v.X.indices[p]] = v.X.data[p];
    NmfModel fit = nmf(Context::cpu(), v.X, o);
    for (int it = 0; it < iters; ++it) dense_kl_mu(X, W, H, n, m, k);
    std::vector<float> Wf(W.begin(), W.end()), Hf(H.begin(), H.end());
    const double ref = std::sqrt(2 * nmf_kl_divergence(Context::cpu(), v.X, Wf, Hf, k));
    EXPECT_NEAR(fit.losses.back(), ref, 1e-3 * ref);
    EXPECT_NEAR(fit.losses.back(), std::sqrt(2 * nmf_kl_divergence(Context::cpu(), v.X, fit.W, fit.H, k)),
                1e-4 * ref)
        << "the loss reported is the KL divergence of the returned factors";
    for (size_t i = 1; i < fit.losses.size(); ++i)
        EXPECT_LE(fit.losses[i], fit.losses[i - 1] * (1 + 1e-5)) << "iteration " << i + 1;
}

TEST(NmfKl, HEntriesBelowFloat64EpsilonBecomeZero) {
    // Two blocks of documents that share no term: at k = 2 each topic's weights on the other
    // block's terms shrink towards 0 with every iteration. scikit-learn sets H's entries below
    // float64's epsilon (2^-52) to 0 after each KL update, so after any number of iterations
    // no entry of H lies in (0, 2^-52) (without the rule they pass through it on their way to
    // float underflow).
    CsrMatrix X;
    X.rows = 40, X.cols = 20;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.1f, 1.0f);
    for (int64_t i = 0; i < X.rows; ++i) {
        const int first = i < 20 ? 0 : 10;
        for (int c = first; c < first + 10; ++c)
            if (rng() % 3 != 0) {
                X.indices.push_back(c);
                X.data.push_back(u(rng));
            }
        X.indptr.push_back(int64_t(X.indices.size()));
    }
    const float floor = float(std::numeric_limits<double>::epsilon());
    int zeros = 0;
    for (int iters = 1; iters <= 80; ++iters) {
        NmfOptions o;
        o.k = 2;
        o.max_iter = iters;
        o.tol = 0;
        o.init = NmfInit::Random;
        o.loss = NmfLoss::KullbackLeibler;
        NmfModel fit = nmf(Context::cpu(), X, o);
        for (float h : fit.H) {
            ASSERT_FALSE(h > 0.0f && h < floor) << "after " << iters << " iterations: " << h;
            zeros += h == 0.0f;
        }
    }
    EXPECT_GT(zeros, 0) << "the other block's terms reach 0";
}

TEST(NmfHals, LossNeverIncreasesAndBeatsMuAtEqualIterations) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    NmfOptions o;
    o.k = 8;
    o.max_iter = 50;
    o.tol = 0;
    o.solver = NmfSolver::Hals;
    NmfModel hals = nmf(Context::cpu(), v.X, o);
    for (size_t i = 1; i < hals.losses.size(); ++i)
        EXPECT_LE(hals.losses[i], hals.losses[i - 1] * (1 + 1e-5)) << "iteration " << i + 1;
    o.solver = NmfSolver::Mu;
    NmfModel mu = nmf(Context::cpu(), v.X, o);
    EXPECT_LT(hals.losses.back(), mu.losses.back()) << "coordinate descent converges faster";
    EXPECT_NEAR(hals.relative_error, nmf_relative_error(Context::cpu(), v.X, hals.W, hals.H, o.k), 1e-4);
}

TEST(NmfRegularization, L1MakesFactorsSparserAndScalesAsScikitLearn) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    NmfOptions o;
    o.alpha_W = 0.001;
    o.l1_ratio = 0.5;
    auto r = regularization(o, 100, 30);
    EXPECT_DOUBLE_EQ(r.l1_W, 30 * 0.001 * 0.5);  // W's terms scale with the features
    EXPECT_DOUBLE_EQ(r.l2_H, 100 * 0.001 * 0.5);  // H's with the samples ("same" alpha)
    o.alpha_H = 0;
    EXPECT_DOUBLE_EQ(regularization(o, 100, 30).l1_H, 0.0);
    for (auto solver : {NmfSolver::Mu, NmfSolver::Hals}) {
        NmfOptions plain;
        plain.k = 6;
        plain.max_iter = 60;
        plain.tol = 0;
        plain.solver = solver;
        NmfOptions l1 = plain;
        l1.alpha_W = 1e-4;
        l1.l1_ratio = 1.0;
        auto zeros = [](const std::vector<float>& F) {
            return std::count_if(F.begin(), F.end(), [](float x) { return x < 1e-8f; });
        };
        NmfModel a = nmf(Context::cpu(), v.X, plain), b = nmf(Context::cpu(), v.X, l1);
        EXPECT_GT(zeros(b.W), zeros(a.W)) << nmf_solver_name(solver);
        EXPECT_GT(b.relative_error, a.relative_error) << "the penalty trades fit for sparsity";
    }
}

TEST(NmfCheckpoint, ResumeEqualsAnUninterruptedRunBitForBit) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    TempDir d;
    for (auto [solver, loss] : {std::pair{NmfSolver::Mu, NmfLoss::Frobenius},
                                std::pair{NmfSolver::Hals, NmfLoss::Frobenius},
                                std::pair{NmfSolver::Mu, NmfLoss::KullbackLeibler}}) {
        NmfOptions o = fit_options(6, 40, solver, loss);
        NmfModel whole = nmf(Context::cpu(), v.X, o);
        // "Interrupted" after 20 iterations: a run that stops there and leaves a checkpoint.
        NmfOptions first = o;
        first.max_iter = 20;
        first.checkpoint_every = 10;
        first.checkpoint_path = d.file("ck.tmk");
        nmf(Context::cpu(), v.X, first);
        NmfModel resumed = nmf_resume(Context::cpu(), v.X, o, d.file("ck.tmk"));
        EXPECT_EQ(resumed.iterations, 40);
        EXPECT_EQ(resumed.W, whole.W) << nmf_solver_name(solver) << "/" << nmf_loss_name(loss);
        EXPECT_EQ(resumed.H, whole.H);
        EXPECT_EQ(resumed.losses, whole.losses);
        // A checkpoint from other settings is refused, naming each setting that differs with
        // the checkpoint's value and this run's, and no other.
        auto refusal = [&](const NmfOptions& other, const CsrMatrix& X) {
            try {
                nmf_resume(Context::cpu(), X, other, d.file("ck.tmk"));
            } catch (const InputError& e) {
                return std::string(e.what());
            }
            ADD_FAILURE() << "a mismatching checkpoint was resumed";
            return std::string();
        };
        auto has = [](const std::string& msg, const std::string& part) {
            return msg.find(part) != std::string::npos;
        };
        NmfOptions other = o;
        other.k = 7;
        std::string msg = refusal(other, v.X);
        EXPECT_TRUE(has(msg, "-k: the checkpoint has 6, this run 7")) << msg;
        EXPECT_FALSE(has(msg, "--solver") || has(msg, "--seed") || has(msg, "the matrix:")) << msg;
        other = o;
        other.seed = 5;
        other.alpha_W = 0.01;
        other.alpha_H = 0.002;
        other.l1_ratio = 0.5;
        if (loss == NmfLoss::Frobenius)
            other.solver = solver == NmfSolver::Mu ? NmfSolver::Hals : NmfSolver::Mu;
        msg = refusal(other, v.X);
        EXPECT_TRUE(has(msg, "--seed: the checkpoint has 0, this run 5")) << msg;
        EXPECT_TRUE(has(msg, "--alpha-w: the checkpoint has 0, this run 0.01")) << msg;
        EXPECT_TRUE(has(msg, "--alpha-h: the checkpoint has same as --alpha-w, this run 0.002"))
            << msg;
        EXPECT_TRUE(has(msg, "--l1-ratio: the checkpoint has 0, this run 0.5")) << msg;
        if (loss == NmfLoss::Frobenius)
            EXPECT_TRUE(has(msg, std::string("--solver: the checkpoint has ") +
                                     nmf_solver_name(solver) + ", this run " +
                                     nmf_solver_name(other.solver)))
                << msg;
        EXPECT_FALSE(has(msg, "-k:") || has(msg, "--loss") || has(msg, "--init") ||
                     has(msg, "the matrix:"))
            << msg;
        // Another matrix: its shape and non-zeros, both sides.
        CsrMatrix fewer = v.X;
        fewer.rows -= 1;
        fewer.indptr.pop_back();
        fewer.indices.resize(fewer.indptr.back());
        fewer.data.resize(fewer.indptr.back());
        msg = refusal(o, fewer);
        EXPECT_TRUE(has(msg, "the matrix: the checkpoint has " + std::to_string(v.X.rows) + " x " +
                                 std::to_string(v.X.cols) + " with " + std::to_string(v.X.nnz()) +
                                 " non-zeros, this run " + std::to_string(fewer.rows) + " x "))
            << msg;
        // The same shape, other weights (as --sublinear-tf gives): said too, and nothing else.
        CsrMatrix reweighted = v.X;
        for (float& x : reweighted.data) x = std::sqrt(x);
        msg = refusal(o, reweighted);
        EXPECT_TRUE(has(msg, "the matrix: the checkpoint has other terms or weights")) << msg;
        EXPECT_FALSE(has(msg, "-k:") || has(msg, "--seed")) << msg;
    }
}

TEST(NmfStopping, TimeLimitStopsAndSaysWhy) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    NmfOptions o;
    o.k = 6;
    o.max_iter = 1000000;
    o.tol = 0;
    o.time_limit = 0.3;
    NmfModel m = nmf(Context::cpu(), v.X, o);
    EXPECT_EQ(m.stop_reason, "time_limit");
    EXPECT_LT(m.iterations, 1000000);
    EXPECT_EQ(m.losses.size(), size_t(m.iterations));
    o.time_limit = 0;
    o.max_iter = 15;
    EXPECT_EQ(nmf(Context::cpu(), v.X, o).stop_reason, "max_iter");
    o.max_iter = 1000;
    o.tol = 1e-3;
    EXPECT_EQ(nmf(Context::cpu(), v.X, o).stop_reason, "tol");
    o.solver = NmfSolver::Hals;
    o.loss = NmfLoss::KullbackLeibler;
    EXPECT_THROW(nmf(Context::cpu(), v.X, o), InputError);
}

// transform for the other solver and loss (HALS starts W at 0, KL from scikit-learn's
// constant): folding the training documents back in with the fitted H fits them about as well
// as the fit did, in the fit's own loss.
TEST(NmfTransform, HalsAndKlFoldTheTrainingDocumentsIn) {
    TMINE_REQUIRE_DATA(kReddit);
    const CsrMatrix& X = small_matrix().X;
    for (const auto& [solver, loss] : {std::pair{NmfSolver::Hals, NmfLoss::Frobenius},
                                       std::pair{NmfSolver::Mu, NmfLoss::KullbackLeibler}}) {
        const NmfOptions o = fit_options(6, 100, solver, loss);
        const NmfModel fit = nmf(Context::cpu(), X, o);
        const std::vector<float> W = nmf_transform(Context::cpu(), X, fit.H, o.k, o);
        ASSERT_EQ(W.size(), fit.W.size());
        double total = 0;
        for (float w : W) {
            ASSERT_GE(w, 0.0f);
            total += w;
        }
        EXPECT_GT(total, 0.0);
        if (loss == NmfLoss::Frobenius) {
            EXPECT_LT(nmf_relative_error(Context::cpu(), X, W, fit.H, o.k), fit.relative_error * 1.01) << "hals";
        } else {
            const double fitted = nmf_kl_divergence(Context::cpu(), X, fit.W, fit.H, o.k);
            const double folded = nmf_kl_divergence(Context::cpu(), X, W, fit.H, o.k);
            EXPECT_LT(folded, fitted * 1.01) << "kl";
            EXPECT_GT(folded, fitted * 0.5) << "kl: H alone cannot fit far better than W and H together";
        }
    }
}

TEST(NmfTransform, FixedVocabularyReproducesTheMatrixAndFoldsDocumentsIn) {
    TMINE_REQUIRE_DATA(kReddit);
    Corpus train = reddit_head(3000);
    VectorizeOptions vo;
    vo.stop_words = load_stop_words("english");
    vo.min_df = DfBound::parse("3", "--min-df");
    vo.sublinear_tf = true;
    Vectorized v = vectorize(Context::cpu(), train, vo);
    // The same documents against the fitted vocabulary give the identical matrix.
    VectorizeOptions plain;
    plain.sublinear_tf = true;
    Vectorized again = vectorize_fixed(Context::cpu(), train, v.vocabulary, v.idf, plain);
    EXPECT_EQ(again.X.indptr, v.X.indptr);
    EXPECT_EQ(again.X.indices, v.X.indices);
    EXPECT_EQ(again.X.data, v.X.data);
    NmfOptions o;
    o.k = 8;
    o.max_iter = 150;
    o.tol = 0;
    NmfModel fit = nmf(Context::cpu(), v.X, o);
    // Folding the training documents in with H fixed fits them about as well as the fit did.
    std::vector<float> W = nmf_transform(Context::cpu(), v.X, fit.H, o.k, o);
    ASSERT_EQ(W.size(), fit.W.size());
    const double err = nmf_relative_error(Context::cpu(), v.X, W, fit.H, o.k);
    EXPECT_LT(err, fit.relative_error * 1.01);
    // New documents (the next slice of the corpus) get non-negative topic weights.
    Corpus all = reddit_head(3500);
    Corpus next;
    next.sources = all.sources;
    for (size_t d = 3000; d < all.size(); ++d)
        next.add(all.text[d], all.time[d], all.ids[d], all.authors[d], all.source[d]);
    Vectorized nv = vectorize_fixed(Context::cpu(), next, v.vocabulary, v.idf, plain);
    std::vector<float> Wn = nmf_transform(Context::cpu(), nv.X, fit.H, o.k, o);
    ASSERT_EQ(Wn.size(), size_t(500 * o.k));
    size_t scored = 0;
    for (size_t d = 0; d < 500; ++d) {
        float best = 0;
        for (int j = 0; j < o.k; ++j) {
            ASSERT_GE(Wn[d * o.k + j], 0.0f);
            best = std::max(best, Wn[d * o.k + j]);
        }
        scored += best > 0;
    }
    EXPECT_GT(scored, 400u) << "most new comments share terms with the model";
    // A matrix over another vocabulary is refused.
    CsrMatrix wrong = nv.X;
    wrong.cols += 1;
    EXPECT_THROW(nmf_transform(Context::cpu(), wrong, fit.H, o.k, o), InputError);
}

TEST(NmfRestarts, KeepsTheLowestLossOfTheSeeds) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    NmfOptions o;
    o.k = 6;
    o.max_iter = 30;
    o.tol = 0;
    o.init = NmfInit::Random;
    o.seed = 10;
    std::vector<double> singles;
    for (uint64_t s = 10; s < 13; ++s) {
        NmfOptions one = o;
        one.seed = s;
        singles.push_back(nmf(Context::cpu(), v.X, one).losses.back());
    }
    o.restarts = 3;
    NmfModel best = nmf(Context::cpu(), v.X, o);
    EXPECT_EQ(best.restart_losses, singles);
    const auto it = std::min_element(singles.begin(), singles.end());
    EXPECT_EQ(best.losses.back(), *it);
    EXPECT_EQ(best.seed, 10u + uint64_t(it - singles.begin()));
    o.checkpoint_every = 10;
    o.checkpoint_path = "x";
    EXPECT_THROW(nmf(Context::cpu(), v.X, o), InputError);
}

