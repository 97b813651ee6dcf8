// CUDA twin of the classifiers against the CPU reference on the same real input (gpu label):
// the logistic-regression objective and gradient at the same points, the fitted models and
// their test predictions, naive Bayes feature sums and linear scores.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "test_util.hpp"
#include "tmine/classify.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {

/// Every `step`-th 20 Newsgroups training post (archive order is by group, so every group is
/// in) and its group; features as scikit-learn's TfidfVectorizer(sublinear_tf=True, min_df=2).
struct Data {
    Vectorized v;
    std::vector<int32_t> y;
    std::vector<std::string> classes;
};
Data newsgroups(size_t step) {
    Data d;
    Corpus all = newsgroups_train_head(20000), c;
    for (size_t i = 0; i < all.size(); i += step) c.add(all.text[i], kNoTime, all.ids[i], "", 0);
    std::vector<std::string> groups;
    for (size_t i = 0; i < c.size(); ++i) {
        std::string id(c.ids[i]);
        auto a = id.find('/'), b = id.find('/', a + 1);
        groups.push_back(id.substr(a + 1, b - a - 1));
    }
    d.classes = groups;
    std::sort(d.classes.begin(), d.classes.end());
    d.classes.erase(std::unique(d.classes.begin(), d.classes.end()), d.classes.end());
    for (auto& g : groups)
        d.y.push_back(int32_t(std::lower_bound(d.classes.begin(), d.classes.end(), g) - d.classes.begin()));
    VectorizeOptions o;
    o.tokenizer = TokenizerOptions::sklearn();
    o.min_df = DfBound{false, 2.0};
    o.sublinear_tf = true;
    d.v = vectorize(Context::cpu(), c, o);
    return d;
}

double max_rel(const std::vector<double>& a, const std::vector<double>& b) {
    double scale = 0, diff = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        scale = std::max(scale, std::fabs(a[i]));
        diff = std::max(diff, std::fabs(a[i] - b[i]));
    }
    return diff / std::max(scale, 1e-300);
}

}  // namespace

TEST(ClassifyCuda, ObjectiveAndGradientEqualTheCpu) {
    TMINE_REQUIRE_DATA("20news-bydate.tar.gz");
    TMINE_REQUIRE_CUDA(gpu);
    Data d = newsgroups(4);
    Context cpu = Context::cpu();
    const int K = int(d.classes.size());
    std::mt19937_64 rng(5);
    std::normal_distribution<double> nd(0.0, 0.3);
    for (int outputs : {1, K}) {
        detail::LogRegProblem p;
        p.X = &d.v.X;
        std::vector<int32_t> yb(d.y.size());
        for (size_t i = 0; i < d.y.size(); ++i) yb[i] = d.y[i] % 2;
        p.y = outputs == 1 ? &yb : &d.y;
        p.outputs = outputs;
        p.sample_weight.assign(d.y.size(), 1.0 / double(d.y.size()));
        for (size_t i = 0; i < d.y.size(); i += 3) p.sample_weight[i] *= 2.5;  // uneven weights
        p.l2 = 0.1 / double(d.y.size());
        auto oc = cpu_impl::logreg_objective(cpu, p);
        auto og = cuda_impl::logreg_objective(gpu, p);
        const size_t nvar = size_t(d.v.X.cols + 1) * outputs;
        for (int trial = 0; trial < 3; ++trial) {
            std::vector<double> x(nvar, 0.0), gc(nvar), gg(nvar);
            if (trial) for (auto& v : x) v = nd(rng);
            double fc = oc->evaluate(x.data(), gc.data());
            double fg = og->evaluate(x.data(), gg.data());
            EXPECT_NEAR(fg, fc, 1e-12 * std::fabs(fc)) << "outputs " << outputs << " trial " << trial;
            EXPECT_LT(max_rel(gg, gc), 1e-11) << "outputs " << outputs << " trial " << trial;
        }
    }
}

TEST(ClassifyCuda, FittedModelsAndPredictionsAgree) {
    TMINE_REQUIRE_DATA("20news-bydate.tar.gz");
    TMINE_REQUIRE_CUDA(gpu);
    Data d = newsgroups(4);
    Context cpu = Context::cpu();
    // train on 4 posts in 5, score the fifth
    std::vector<int64_t> tr, te;
    std::vector<int32_t> ytr, yte;
    for (int64_t i = 0; i < d.v.X.rows; ++i) {
        (i % 5 ? tr : te).push_back(i);
        (i % 5 ? ytr : yte).push_back(d.y[i]);
    }
    CsrMatrix Xtr = take_rows(d.v.X, tr), Xte = take_rows(d.v.X, te);
    const int K = int(d.classes.size());
    ASSERT_EQ(K, 20);
    for (ClassifierKind kind : {ClassifierKind::LogReg, ClassifierKind::NaiveBayes}) {
        ClassifyOptions o;
        o.kind = kind;
        o.C = 10;
        o.balanced = kind == ClassifierKind::LogReg;
        Classifier c = train(cpu, Xtr, ytr, d.classes, o);
        Classifier g = train(gpu, Xtr, ytr, d.classes, o);
        // Both fits end normally. Not necessarily for the same reason: the GPU's sparse products
        // add in another order, and a last-bit difference may stop one fit by its tolerance an
        // iteration before the other reaches its limit. The weights and predictions below are
        // what must agree.
        for (const Classifier* m : {&c, &g})
            EXPECT_TRUE(m->stop_reason == "tol" || m->stop_reason == "converged" || m->stop_reason == "max_iter" ||
                        m->stop_reason == "closed_form")
                << (m == &c ? "cpu" : "gpu") << " fit stopped by " << m->stop_reason;
        // L-BFGS follows the same path while the objectives agree to ~1e-13; allow for drift
        EXPECT_LT(max_rel(g.weights, c.weights), kind == ClassifierKind::LogReg ? 1e-3 : 1e-12);
        std::vector<float> pc = predict_proba(cpu, c, Xte), pg = predict_proba(gpu, c, Xte);
        float worst = 0;
        for (size_t i = 0; i < pc.size(); ++i) worst = std::max(worst, std::fabs(pc[i] - pg[i]));
        EXPECT_LT(worst, 1e-6f) << "same model, scored on each device";
        std::vector<float> pgg = predict_proba(gpu, g, Xte);
        int differ = 0;
        for (size_t i = 0; i < yte.size(); ++i) {
            auto a = std::max_element(&pc[i * K], &pc[i * K] + K) - &pc[i * K];
            auto b = std::max_element(&pgg[i * K], &pgg[i * K] + K) - &pgg[i * K];
            differ += a != b;
        }
        EXPECT_LE(differ, 1) << "GPU-trained and CPU-trained models disagree on test posts";
    }
    // binary
    std::vector<int32_t> yb(ytr.size());
    for (size_t i = 0; i < yb.size(); ++i) yb[i] = ytr[i] < 10;
    Classifier c = train(cpu, Xtr, yb, {"a", "b"}, ClassifyOptions{});
    Classifier g = train(gpu, Xtr, yb, {"a", "b"}, ClassifyOptions{});
    EXPECT_EQ(g.outputs, 1);
    EXPECT_LT(max_rel(g.weights, c.weights), 1e-3);
    EXPECT_NEAR(g.objective, c.objective, 1e-9 * std::fabs(c.objective));
}

TEST(ClassifyCuda, FeatureSumsAndScoresOnRedditEqualTheCpu) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    Corpus c = reddit_head(20000);
    VectorizeOptions vo;
    vo.min_df = DfBound{false, 3.0};
    Vectorized v = vectorize(Context::cpu(), c, vo);
    // labels: the subreddit of each comment among the 5 most frequent, else "other"
    std::map<std::string, int> freq;
    for (size_t i = 0; i < c.size(); ++i) ++freq[std::string(c.authors[i])];
    std::vector<std::pair<int, std::string>> top;
    for (auto& [s, n] : freq) top.emplace_back(-n, s);
    std::sort(top.begin(), top.end());
    std::vector<std::string> classes = {"other"};
    for (int i = 0; i < 5; ++i) classes.push_back(top[i].second);
    std::sort(classes.begin(), classes.end());
    std::vector<int32_t> y;
    std::vector<double> w;
    for (size_t i = 0; i < c.size(); ++i) {
        auto it = std::find(classes.begin(), classes.end(), std::string(c.authors[i]));
        if (it == classes.end()) it = std::find(classes.begin(), classes.end(), "other");
        y.push_back(int32_t(it - classes.begin()));
        w.push_back(1.0 + double(i % 5));
    }
    Context cpu = Context::cpu();
    const int K = int(classes.size());
    auto fc = cpu_impl::class_feature_sums(cpu, v.X, y, w, K);
    auto fg = cuda_impl::class_feature_sums(gpu, v.X, y, w, K);
    EXPECT_LT(max_rel(fg, fc), 1e-12);
    std::vector<double> W(size_t(v.X.cols) * K), b(K);
    std::mt19937_64 rng(1);
    std::normal_distribution<double> nd;
    for (auto& x : W) x = nd(rng);
    for (auto& x : b) x = nd(rng);
    auto zc = cpu_impl::linear_scores(cpu, v.X, W.data(), b.data(), K);
    auto zg = cuda_impl::linear_scores(gpu, v.X, W.data(), b.data(), K);
    EXPECT_LT(max_rel(zg, zc), 1e-12);
    // Posts with no term of the vocabulary (no non-zeros at all): the scores are the biases,
    // as on the CPU; and no posts at all: no scores.
    CsrMatrix empty;
    empty.rows = 3;
    empty.cols = v.X.cols;
    empty.indptr.assign(4, 0);
    auto ec = cpu_impl::linear_scores(cpu, empty, W.data(), b.data(), K);
    auto eg = cuda_impl::linear_scores(gpu, empty, W.data(), b.data(), K);
    ASSERT_EQ(eg.size(), size_t(3 * K));
    EXPECT_EQ(eg, ec);
    empty.rows = 0;
    empty.indptr.assign(1, 0);
    EXPECT_EQ(cuda_impl::linear_scores(gpu, empty, W.data(), b.data(), K).size(), 0u);
}
