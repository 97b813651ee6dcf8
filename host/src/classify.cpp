// Classifiers: the device-independent driver (L-BFGS through liblbfgs, naive Bayes from class
// feature sums), prediction, stratified k-fold evaluation, metrics, picking, model files.
#include "tmine/classify.hpp"

#include <lbfgs.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>
#include <sstream>

#include "tmine/error.hpp"
#include "tmine/io.hpp"

namespace tmine {

using Clock = std::chrono::steady_clock;

ClassifierKind parse_classifier_kind(const std::string& s) {
    if (s == "logreg") return ClassifierKind::LogReg;
    if (s == "nb") return ClassifierKind::NaiveBayes;
    throw InputError("--model: expected logreg or nb, got '" + s + "'");
}
const char* classifier_kind_name(ClassifierKind k) {
    return k == ClassifierKind::LogReg ? "logreg" : "nb";
}

void validate(const ClassifyOptions& o) {
    if (!(o.C > 0) || !std::isfinite(o.C)) throw InputError("--C must be a positive number");
    if (!(o.alpha >= 0) || !std::isfinite(o.alpha)) throw InputError("--alpha must be >= 0");
    if (o.max_iter < 1) throw InputError("--max-iter must be >= 1");
    if (!(o.tol >= 0)) throw InputError("--tol must be >= 0");
}

uint64_t vocabulary_hash(const std::vector<std::string>& vocabulary) {
    uint64_t h = XXH64(nullptr, 0, vocabulary.size());
    for (const auto& t : vocabulary) {
        uint64_t len = t.size();
        h = XXH64(&len, sizeof len, h);
        h = XXH64(t.data(), t.size(), h);
    }
    return h;
}

namespace {

std::vector<double> sample_weights(const std::vector<int32_t>& y, int K, bool balanced,
                                   std::vector<int64_t>& counts) {
    counts.assign(static_cast<size_t>(K), 0);
    for (int32_t c : y) ++counts[c];
    std::vector<double> w(y.size(), 1.0);
    if (balanced) {
        int present = 0;
        for (int64_t c : counts) present += c > 0;
        for (size_t i = 0; i < y.size(); ++i)
            w[i] = double(y.size()) / (double(present) * double(counts[y[i]]));
    }
    return w;
}

struct LbfgsRun {
    detail::LogRegObjective* obj = nullptr;
    double tol = 0;
    bool progress = false;
    double gmax = 0;
    int iters = 0;
    bool tol_reached = false;
    Clock::time_point t0;
};

lbfgsfloatval_t lbfgs_evaluate(void* inst, const lbfgsfloatval_t* x, lbfgsfloatval_t* g, int,
                               lbfgsfloatval_t) {
    return static_cast<LbfgsRun*>(inst)->obj->evaluate(x, g);
}

int lbfgs_progress(void* inst, const lbfgsfloatval_t*, const lbfgsfloatval_t* g,
                   lbfgsfloatval_t fx, lbfgsfloatval_t, lbfgsfloatval_t, lbfgsfloatval_t, int n,
                   int k, int) {
    auto* run = static_cast<LbfgsRun*>(inst);
    double gm = 0;
    for (int i = 0; i < n; ++i) gm = std::max(gm, std::fabs(g[i]));
    run->gmax = gm;
    run->iters = k;
    if (run->progress && k % 10 == 0)
        std::fprintf(stderr, "classify: iteration %d, objective %.8g, max |gradient| %.3g (%.1f s)\n",
                     k, fx, gm, std::chrono::duration<double>(Clock::now() - run->t0).count());
    if (gm <= run->tol) {
        run->tol_reached = true;
        return 1;  // scikit-learn's stopping rule (scipy's pgtol on the same objective)
    }
    return 0;
}

void fit_logreg(const Context& ctx, const CsrMatrix& X, const std::vector<int32_t>& y,
                const std::vector<double>& raw_w, Classifier& clf) {
    const int K = static_cast<int>(clf.classes.size());
    detail::LogRegProblem p;
    p.X = &X;
    p.y = &y;
    p.outputs = K == 2 ? 1 : K;
    double S = std::accumulate(raw_w.begin(), raw_w.end(), 0.0);
    p.sample_weight.resize(raw_w.size());
    for (size_t i = 0; i < raw_w.size(); ++i) p.sample_weight[i] = raw_w[i] / S;
    p.l2 = 1.0 / (clf.options.C * S);
    auto obj = ctx.is_cuda() ? cuda_impl::logreg_objective(ctx, p)
                             : cpu_impl::logreg_objective(ctx, p);
    const int64_t nvar = (X.cols + 1) * p.outputs;
    if (nvar > INT32_MAX) throw InputError("too many features x classes for L-BFGS");
    lbfgsfloatval_t* x = lbfgs_malloc(static_cast<int>(nvar));
    if (!x) throw DeviceError("out of memory for the L-BFGS variables");
    std::fill(x, x + nvar, 0.0);
    lbfgs_parameter_t param;
    lbfgs_parameter_init(&param);
    param.m = 10;
    param.epsilon = 0;  // only our gradient rule (progress callback) and max_iter stop it
    param.max_iterations = clf.options.max_iter;
    param.max_linesearch = 50;
    LbfgsRun run;
    run.obj = obj.get();
    run.tol = clf.options.tol;
    run.progress = clf.options.progress;
    run.t0 = Clock::now();
    // the starting point may already satisfy the rule (e.g. huge regularisation)
    {
        std::vector<double> g0(static_cast<size_t>(nvar));
        double f0 = obj->evaluate(x, g0.data());
        double gm = 0;
        for (double v : g0) gm = std::max(gm, std::fabs(v));
        run.gmax = gm;
        clf.objective = f0;
    }
    int ret = 0;
    double fx = clf.objective;
    if (run.gmax > run.tol) {
        ret = lbfgs(static_cast<int>(nvar), x, &fx, lbfgs_evaluate, lbfgs_progress, &run, &param);
        clf.objective = fx;
    } else {
        run.tol_reached = true;
    }
    if (run.tol_reached)
        clf.stop_reason = "tol";
    else if (ret == LBFGSERR_MAXIMUMITERATION)
        clf.stop_reason = "max_iter";
    else if (ret == LBFGS_SUCCESS || ret == LBFGS_STOP || ret == LBFGS_ALREADY_MINIMIZED)
        clf.stop_reason = "converged";
    else
        clf.stop_reason = "line_search (liblbfgs code " + std::to_string(ret) + ")";
    clf.iterations = run.iters;
    clf.gradient_max = run.gmax;
    clf.outputs = p.outputs;
    clf.weights.assign(x, x + X.cols * p.outputs);
    clf.intercept.assign(x + X.cols * p.outputs, x + nvar);
    lbfgs_free(x);
}

void fit_nb(const Context& ctx, const CsrMatrix& X, const std::vector<int32_t>& y,
            const std::vector<double>& w, Classifier& clf) {
    const int K = static_cast<int>(clf.classes.size());
    const int64_t m = X.cols;
    std::vector<double> fc = ctx.is_cuda() ? cuda_impl::class_feature_sums(ctx, X, y, w, K)
                                           : cpu_impl::class_feature_sums(ctx, X, y, w, K);
    clf.outputs = K;
    clf.weights.assign(static_cast<size_t>(m) * K, 0.0);
    clf.intercept.assign(static_cast<size_t>(K), 0.0);
    std::vector<double> cc(static_cast<size_t>(K), 0.0);
    for (size_t i = 0; i < y.size(); ++i) cc[y[i]] += w[i];
    double total = std::accumulate(cc.begin(), cc.end(), 0.0);
    const double alpha = std::max(clf.options.alpha, 1e-10);  // scikit-learn clips alpha alike
    for (int k = 0; k < K; ++k) {
        double s = 0;
        for (int64_t j = 0; j < m; ++j) s += fc[static_cast<size_t>(k) * m + j];
        double lden = std::log(s + alpha * double(m));
        for (int64_t j = 0; j < m; ++j)
            clf.weights[static_cast<size_t>(j) * K + k] =
                std::log(fc[static_cast<size_t>(k) * m + j] + alpha) - lden;
        clf.intercept[k] = std::log(cc[k]) - std::log(total);
    }
    clf.iterations = 0;
    clf.stop_reason = "closed_form";
}

}  // namespace

Classifier train(const Context& ctx, const CsrMatrix& X, const std::vector<int32_t>& y,
                 const std::vector<std::string>& classes, const ClassifyOptions& opts) {
    validate(opts);
    TMINE_ASSERT(static_cast<int64_t>(y.size()) == X.rows, "one label per row");
    const int K = static_cast<int>(classes.size());
    auto t0 = Clock::now();
    Classifier clf;
    clf.kind = opts.kind;
    clf.classes = classes;
    clf.options = opts;
    clf.n_features = X.cols;
    clf.train_rows = X.rows;
    clf.device = ctx.description();
    std::vector<double> w = sample_weights(y, K, opts.balanced, clf.class_counts);
    int present = 0;
    for (int64_t c : clf.class_counts) present += c > 0;
    if (present < 2)
        throw InputError("training needs labelled rows of at least two classes (got " +
                         std::to_string(present) + ")");
    if (opts.kind == ClassifierKind::LogReg)
        fit_logreg(ctx, X, y, w, clf);
    else
        fit_nb(ctx, X, y, w, clf);
    clf.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return clf;
}

std::vector<float> predict_proba(const Context& ctx, const Classifier& clf, const CsrMatrix& X) {
    if (X.cols != clf.n_features)
        throw InputError("the matrix has " + std::to_string(X.cols) +
                         " columns but the classifier was trained on " +
                         std::to_string(clf.n_features) + " (vectorize with the same settings)");
    const int K = static_cast<int>(clf.classes.size());
    const int O = clf.outputs;
    std::vector<double> Z =
        ctx.is_cuda()
            ? cuda_impl::linear_scores(ctx, X, clf.weights.data(), clf.intercept.data(), O)
            : cpu_impl::linear_scores(ctx, X, clf.weights.data(), clf.intercept.data(), O);
    std::vector<float> P(static_cast<size_t>(X.rows) * K);
    const int64_t n = X.rows;
#pragma omp parallel for num_threads(ctx.cpu_threads()) schedule(static)
    for (int64_t i = 0; i < n; ++i) {
        const double* z = &Z[static_cast<size_t>(i) * O];
        float* p = &P[static_cast<size_t>(i) * K];
        if (O == 1) {
            double p1 = z[0] >= 0 ? 1.0 / (1.0 + std::exp(-z[0]))
                                  : std::exp(z[0]) / (1.0 + std::exp(z[0]));
            p[0] = float(1.0 - p1);
            p[1] = float(p1);
        } else {
            double mx = *std::max_element(z, z + K), s = 0;
            for (int k = 0; k < K; ++k) s += std::exp(z[k] - mx);
            for (int k = 0; k < K; ++k) p[k] = float(std::exp(z[k] - mx) / s);
        }
    }
    return P;
}

// ---- evaluation ----

std::vector<int> stratified_folds(const std::vector<int32_t>& y, int n_classes, int folds,
                                  uint64_t seed) {
    std::vector<std::vector<size_t>> by_class(static_cast<size_t>(n_classes));
    for (size_t i = 0; i < y.size(); ++i) by_class[y[i]].push_back(i);
    std::mt19937_64 rng(seed);
    std::vector<int> fold(y.size(), 0);
    size_t next = 0;
    for (auto& members : by_class) {
        std::shuffle(members.begin(), members.end(), rng);
        for (size_t i : members) fold[i] = static_cast<int>(next++ % folds);
    }
    return fold;
}

double roc_auc(const std::vector<float>& score, const std::vector<uint8_t>& truth) {
    const size_t n = score.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
    double pos = 0, rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && score[order[j]] == score[order[i]]) ++j;
        double avg = 0.5 * double(i + 1 + j);  // average 1-based rank of the tie group
        for (size_t q = i; q < j; ++q)
            if (truth[order[q]]) rank_sum += avg, ++pos;
        i = j;
    }
    double neg = double(n) - pos;
    if (pos == 0 || neg == 0) return NAN;
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

EvalReport evaluate(const std::vector<float>& proba, const std::vector<int32_t>& y,
                    const std::vector<std::string>& classes, int positive) {
    const int K = static_cast<int>(classes.size());
    const size_t n = y.size();
    EvalReport r;
    r.classes = classes;
    r.positive = positive;
    r.rows = static_cast<int64_t>(n);
    r.confusion.assign(static_cast<size_t>(K) * K, 0);
    int64_t correct = 0;
    for (size_t i = 0; i < n; ++i) {
        const float* p = &proba[i * K];
        int pred = static_cast<int>(std::max_element(p, p + K) - p);
        // binary: the relevant class at a probability of 0.5 or more, as predict's default
        // --threshold cuts (argmax would give a tie at exactly 0.5 to the first class)
        if (K == 2 && positive >= 0) pred = p[positive] >= 0.5f ? positive : 1 - positive;
        ++r.confusion[static_cast<size_t>(y[i]) * K + pred];
        correct += pred == y[i];
    }
    r.accuracy = n ? double(correct) / double(n) : 0.0;
    r.precision.assign(K, 0);
    r.recall.assign(K, 0);
    r.f1.assign(K, 0);
    r.support.assign(K, 0);
    for (int k = 0; k < K; ++k) {
        int64_t tp = r.confusion[static_cast<size_t>(k) * K + k], pp = 0, ap = 0;
        for (int j = 0; j < K; ++j) {
            pp += r.confusion[static_cast<size_t>(j) * K + k];
            ap += r.confusion[static_cast<size_t>(k) * K + j];
        }
        r.support[k] = ap;
        r.precision[k] = pp ? double(tp) / pp : 0.0;  // scikit-learn's zero_division=0
        r.recall[k] = ap ? double(tp) / ap : 0.0;
        double s = r.precision[k] + r.recall[k];
        r.f1[k] = s > 0 ? 2 * r.precision[k] * r.recall[k] / s : 0.0;
        r.macro_precision += r.precision[k] / K;
        r.macro_recall += r.recall[k] / K;
        r.macro_f1 += r.f1[k] / K;
    }
    auto auc_of = [&](int k) {
        std::vector<float> s(n);
        std::vector<uint8_t> t(n);
        for (size_t i = 0; i < n; ++i) s[i] = proba[i * K + k], t[i] = y[i] == k;
        return roc_auc(s, t);
    };
    if (K == 2) {
        r.roc_auc = auc_of(positive >= 0 ? positive : 1);
    } else {
        double s = 0;
        int used = 0;
        for (int k = 0; k < K; ++k) {
            double a = auc_of(k);
            if (!std::isnan(a)) s += a, ++used;
        }
        r.roc_auc = used ? s / used : NAN;
    }
    return r;
}

EvalReport cross_validate(const Context& ctx, const CsrMatrix& X, const std::vector<int32_t>& y,
                          const std::vector<std::string>& classes, int positive,
                          const ClassifyOptions& opts, int folds, uint64_t seed) {
    const int K = static_cast<int>(classes.size());
    if (folds < 2) throw InputError("--folds must be >= 2");
    std::vector<int64_t> counts(static_cast<size_t>(K), 0);
    for (int32_t c : y) ++counts[c];
    for (int k = 0; k < K; ++k)
        if (counts[k] < folds)
            throw InputError("class '" + classes[k] + "' has " + std::to_string(counts[k]) +
                             " labelled rows; " + std::to_string(folds) +
                             " folds need at least that many per class (label more or use "
                             "fewer --folds)");
    auto t0 = Clock::now();
    std::vector<int> fold = stratified_folds(y, K, folds, seed);
    std::vector<float> oof(y.size() * K, 0.0f);
    for (int f = 0; f < folds; ++f) {
        std::vector<int64_t> tr, te;
        for (size_t i = 0; i < y.size(); ++i) (fold[i] == f ? te : tr).push_back(int64_t(i));
        std::vector<int32_t> ytr;
        for (int64_t i : tr) ytr.push_back(y[i]);
        ClassifyOptions o = opts;
        o.progress = false;
        Classifier clf = train(ctx, take_rows(X, tr), ytr, classes, o);
        std::vector<float> p = predict_proba(ctx, clf, take_rows(X, te));
        for (size_t q = 0; q < te.size(); ++q)
            std::copy(p.begin() + q * K, p.begin() + (q + 1) * K, oof.begin() + te[q] * K);
        if (opts.progress)
            std::fprintf(stderr, "classify: fold %d/%d done (%s, %d iterations)\n", f + 1, folds,
                         clf.stop_reason.c_str(), clf.iterations);
    }
    EvalReport r = evaluate(oof, y, classes, positive);
    r.folds = folds;
    r.oof_proba = std::move(oof);
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
}

namespace {

std::string num(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

}  // namespace

std::string eval_json(const EvalReport& r, const ClassifyOptions& opts) {
    const size_t K = r.classes.size();
    std::ostringstream o;
    o << "{\n  \"schema_version\": 1,\n  \"model\": " << json_string(classifier_kind_name(opts.kind))
      << ", \"C\": " << num(opts.C) << ", \"alpha\": " << num(opts.alpha)
      << ", \"class_weight\": " << (opts.balanced ? "\"balanced\"" : "null")
      << ",\n  \"folds\": " << r.folds << ", \"rows\": " << r.rows
      << ", \"seconds\": " << num(r.seconds) << ",\n  \"classes\": [";
    for (size_t k = 0; k < K; ++k) o << (k ? ", " : "") << json_string(r.classes[k]);
    o << "],\n  \"positive\": "
      << (r.positive >= 0 ? json_string(r.classes[r.positive]) : std::string("null"));
    o << ",\n  \"accuracy\": " << num(r.accuracy) << ", \"macro_precision\": "
      << num(r.macro_precision) << ", \"macro_recall\": " << num(r.macro_recall)
      << ", \"macro_f1\": " << num(r.macro_f1) << ", \"roc_auc\": " << num(r.roc_auc);
    if (r.positive >= 0)
        o << ",\n  \"precision\": " << num(r.precision[r.positive])
          << ", \"recall\": " << num(r.recall[r.positive]) << ", \"f1\": " << num(r.f1[r.positive]);
    o << ",\n  \"per_class\": [";
    for (size_t k = 0; k < K; ++k)
        o << (k ? ",\n    " : "\n    ") << "{\"class\": " << json_string(r.classes[k])
          << ", \"precision\": " << num(r.precision[k]) << ", \"recall\": " << num(r.recall[k])
          << ", \"f1\": " << num(r.f1[k]) << ", \"support\": " << r.support[k] << "}";
    o << "],\n  \"confusion_matrix\": [";
    for (size_t a = 0; a < K; ++a) {
        o << (a ? ",\n    [" : "\n    [");
        for (size_t b = 0; b < K; ++b) o << (b ? ", " : "") << r.confusion[a * K + b];
        o << "]";
    }
    o << "]\n}\n";
    return o.str();
}

std::string eval_table(const EvalReport& r) {
    const size_t K = r.classes.size();
    size_t w = 5;
    for (const auto& c : r.classes) w = std::max(w, std::min<size_t>(c.size(), 30));
    std::ostringstream o;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%d-fold stratified cross-validation on %lld labelled rows\n\n",
                  r.folds, (long long)r.rows);
    o << buf;
    std::snprintf(buf, sizeof buf, "%-*s %9s %9s %9s %9s\n", int(w), "class", "precision",
                  "recall", "f1", "support");
    o << buf;
    for (size_t k = 0; k < K; ++k) {
        std::snprintf(buf, sizeof buf, "%-*.*s %9.4f %9.4f %9.4f %9lld%s\n", int(w), 30,
                      r.classes[k].c_str(), r.precision[k], r.recall[k], r.f1[k],
                      (long long)r.support[k], int(k) == r.positive ? "  (positive)" : "");
        o << buf;
    }
    std::snprintf(buf, sizeof buf, "%-*s %9.4f %9.4f %9.4f %9lld\n\naccuracy %.4f   ROC AUC %.4f%s\n",
                  int(w), "macro", r.macro_precision, r.macro_recall, r.macro_f1,
                  (long long)r.rows, r.accuracy, r.roc_auc,
                  K == 2 ? "" : " (macro one-vs-rest)");
    o << buf << "\nconfusion matrix (rows: true class, columns: predicted, in class order)\n";
    for (size_t a = 0; a < K; ++a) {
        std::snprintf(buf, sizeof buf, "%-*.*s", int(w), 30, r.classes[a].c_str());
        o << buf;
        for (size_t b = 0; b < K; ++b) {
            std::snprintf(buf, sizeof buf, " %6lld", (long long)r.confusion[a * K + b]);
            o << buf;
        }
        o << "\n";
    }
    return o.str();
}

double threshold_for_precision(const std::vector<float>& score, const std::vector<uint8_t>& truth,
                               double target, double* recall_out, double* precision_out) {
    if (!(target > 0 && target <= 1)) throw InputError("--target-precision must be in (0, 1]");
    const size_t n = score.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    double P = 0;
    for (uint8_t t : truth) P += t;
    if (P == 0) throw InputError("no positive labels to choose a threshold from");
    double tp = 0, fp = 0, best_prec = 0;
    bool found = false;
    double thr = 1.0, rec = 0, prec = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && score[order[j]] == score[order[i]]) {
            (truth[order[j]] ? tp : fp) += 1;
            ++j;
        }
        double p = tp / (tp + fp);
        best_prec = std::max(best_prec, p);
        if (p >= target) {  // lower thresholds reach more positives: keep the lowest
            found = true;
            thr = score[order[i]];
            rec = tp / P;
            prec = p;
        }
        i = j;
    }
    if (!found) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.4f", best_prec);
        throw InputError("no threshold reaches precision " + num(target) +
                         " on the cross-validated training labels (best " + buf +
                         "); lower --target-precision or label more posts");
    }
    if (recall_out) *recall_out = rec;
    if (precision_out) *precision_out = prec;
    return thr;
}

std::vector<Pick> pick_rows(const std::vector<float>& proba, int64_t n_rows, int K, int64_t n,
                            int64_t n_random, uint64_t seed, const std::vector<int64_t>& exclude) {
    std::vector<uint8_t> used(static_cast<size_t>(n_rows), 0);
    for (int64_t r : exclude)
        if (r >= 0 && r < n_rows) used[r] = 1;
    std::vector<int64_t> cand;
    for (int64_t i = 0; i < n_rows; ++i)
        if (!used[i]) cand.push_back(i);
    n = std::min<int64_t>(n, static_cast<int64_t>(cand.size()));
    n_random = std::min(n_random, n);
    const int64_t n_unc = n - n_random;
    auto margin = [&](int64_t i) {
        const float* p = &proba[static_cast<size_t>(i) * K];
        float a = -1, b = -1;
        for (int k = 0; k < K; ++k) {
            if (p[k] > a) b = a, a = p[k];
            else if (p[k] > b) b = p[k];
        }
        return a - b;  // binary: |2p - 1|, i.e. distance from 0.5
    };
    std::vector<float> mg(static_cast<size_t>(n_rows));
    for (int64_t i : cand) mg[i] = margin(i);
    std::partial_sort(cand.begin(), cand.begin() + n_unc, cand.end(), [&](int64_t a, int64_t b) {
        return mg[a] != mg[b] ? mg[a] < mg[b] : a < b;
    });
    std::vector<Pick> out;
    for (int64_t q = 0; q < n_unc; ++q) out.push_back({cand[q], false});
    std::vector<int64_t> rest(cand.begin() + n_unc, cand.end());
    std::sort(rest.begin(), rest.end());
    std::mt19937_64 rng(seed);
    for (int64_t q = 0; q < n_random; ++q) {  // partial Fisher-Yates
        std::uniform_int_distribution<size_t> d(static_cast<size_t>(q), rest.size() - 1);
        std::swap(rest[q], rest[d(rng)]);
        out.push_back({rest[q], true});
    }
    return out;
}

// ---- model files ----

namespace {
constexpr char kMagic[4] = {'T', 'M', 'C', 'L'};
constexpr uint32_t kVersion = 2;  // 2: the checksum at the end; 1 is still read
void write_string(AtomicFile& f, const std::string& s) {
    f.write_vector(std::vector<char>(s.begin(), s.end()));
}
std::string read_string(BinaryReader& r, const char* what) {
    auto v = r.read_vector<char>(what);
    return std::string(v.begin(), v.end());
}
}  // namespace

std::string classifier_json(const Classifier& c) {
    std::ostringstream o;
    o << "{\n  \"schema_version\": 1,\n  \"model\": " << json_string(classifier_kind_name(c.kind))
      << ",\n  \"classes\": [";
    for (size_t k = 0; k < c.classes.size(); ++k)
        o << (k ? ", " : "") << json_string(c.classes[k]);
    o << "],\n  \"class_counts\": [";
    for (size_t k = 0; k < c.class_counts.size(); ++k) o << (k ? ", " : "") << c.class_counts[k];
    o << "],\n  \"positive\": "
      << (c.positive >= 0 ? json_string(c.classes[c.positive]) : std::string("null"))
      << ",\n  \"features\": " << c.n_features << ", \"train_rows\": " << c.train_rows
      << ",\n  \"C\": " << num(c.options.C) << ", \"alpha\": " << num(c.options.alpha)
      << ", \"class_weight\": " << (c.options.balanced ? "\"balanced\"" : "null")
      << ", \"max_iter\": " << c.options.max_iter << ", \"tol\": " << num(c.options.tol)
      << ",\n  \"iterations\": " << c.iterations << ", \"stop_reason\": " << json_string(c.stop_reason)
      << ", \"objective\": " << num(c.objective) << ", \"gradient_max\": " << num(c.gradient_max)
      << ",\n  \"seconds\": " << num(c.seconds) << ", \"device\": " << json_string(c.device)
      << ", \"cv_rows\": " << c.cv_scores.size() << "\n}\n";
    return o.str();
}

void write_classifier(const Classifier& c, const std::string& dir) {
    make_dirs(dir);
    AtomicFile f((std::filesystem::path(dir) / "classifier.tmcl").string());
    f.write(kMagic, 4);
    f.write_pod(kVersion);
    f.write_pod<int32_t>(c.kind == ClassifierKind::LogReg ? 0 : 1);
    f.write_pod<uint64_t>(c.classes.size());
    for (const auto& s : c.classes) write_string(f, s);
    f.write_pod<int32_t>(c.positive);
    f.write_pod<int64_t>(c.n_features);
    f.write_pod<int32_t>(c.outputs);
    f.write_vector(c.weights);
    f.write_vector(c.intercept);
    f.write_pod<uint64_t>(c.vocabulary_hash);
    f.write_pod(c.options.C);
    f.write_pod<int32_t>(c.options.balanced);
    f.write_pod(c.options.alpha);
    f.write_pod<int32_t>(c.options.max_iter);
    f.write_pod(c.options.tol);
    f.write_pod<int32_t>(c.iterations);
    f.write_pod(c.objective);
    f.write_pod(c.gradient_max);
    f.write_pod(c.seconds);
    write_string(f, c.stop_reason);
    write_string(f, c.device);
    f.write_pod<int64_t>(c.train_rows);
    f.write_vector(c.class_counts);
    f.write_vector(c.cv_scores);
    f.write_vector(c.cv_truth);
    f.write(kMagic, 4);
    f.write_checksum();  // last: XXH3 of every byte before it
    f.commit();
    write_file_atomic((std::filesystem::path(dir) / "classifier.json").string(), classifier_json(c));
}

Classifier read_classifier(const std::string& dir) {
    std::string path = (std::filesystem::path(dir) / "classifier.tmcl").string();
    if (!std::filesystem::exists(path))
        throw IoError(dir + ": no classifier.tmcl here (write one with tmine classify train)");
    BinaryReader r(path);
    char magic[4];
    r.read(magic, 4, "magic");
    if (std::string(magic, 4) != std::string(kMagic, 4))
        throw InputError(path + ": not a tmine classifier");
    uint32_t version = r.read_pod<uint32_t>("version");
    if (version < 1 || version > kVersion)
        throw InputError(path + ": classifier version " + std::to_string(version) +
                         " is not supported; train it again");
    Classifier c;
    int32_t kind = r.read_pod<int32_t>("model kind");
    if (kind != 0 && kind != 1) r.fail("model kind");
    c.kind = kind == 0 ? ClassifierKind::LogReg : ClassifierKind::NaiveBayes;
    c.options.kind = c.kind;
    uint64_t K = r.read_pod<uint64_t>("class count");
    if (K < 2 || K > r.remaining()) r.fail("class count");
    for (uint64_t k = 0; k < K; ++k) c.classes.push_back(read_string(r, "class name"));
    c.positive = r.read_pod<int32_t>("positive class");
    c.n_features = r.read_pod<int64_t>("features");
    c.outputs = r.read_pod<int32_t>("outputs");
    c.weights = r.read_vector<double>("weights");
    c.intercept = r.read_vector<double>("intercept");
    if (c.positive < -1 || c.positive >= int(K) || c.outputs < 1 || c.n_features < 0 ||
        c.weights.size() != uint64_t(c.n_features) * c.outputs ||
        c.intercept.size() != uint64_t(c.outputs) || (c.outputs != 1 && uint64_t(c.outputs) != K))
        r.fail("weights (sizes disagree)");
    for (const auto* v : {&c.weights, &c.intercept})
        for (double x : *v)
            if (!std::isfinite(x)) r.fail("weights (a weight that is not finite)");
    c.vocabulary_hash = r.read_pod<uint64_t>("vocabulary hash");
    c.options.C = r.read_pod<double>("C");
    c.options.balanced = r.read_pod<int32_t>("class weight") != 0;
    c.options.alpha = r.read_pod<double>("alpha");
    c.options.max_iter = r.read_pod<int32_t>("max_iter");
    c.options.tol = r.read_pod<double>("tol");
    c.iterations = r.read_pod<int32_t>("iterations");
    c.objective = r.read_pod<double>("objective");
    c.gradient_max = r.read_pod<double>("gradient");
    c.seconds = r.read_pod<double>("seconds");
    c.stop_reason = read_string(r, "stop reason");
    c.device = read_string(r, "device");
    c.train_rows = r.read_pod<int64_t>("train rows");
    c.class_counts = r.read_vector<int64_t>("class counts");
    c.cv_scores = r.read_vector<float>("cross-validated scores");
    c.cv_truth = r.read_vector<uint8_t>("cross-validated truth");
    if (c.cv_truth.size() != c.cv_scores.size()) r.fail("cross-validated truth");
    r.read(magic, 4, "trailer");
    if (std::string(magic, 4) != std::string(kMagic, 4)) r.fail("trailer");
    if (version >= 2) r.verify_checksum();
    if (r.remaining() != 0) r.fail("trailer");
    return c;
}

}  // namespace tmine
