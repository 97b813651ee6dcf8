#pragma once
/// Relevance classifiers on sparse TF-IDF rows (a .tmx matrix), and the hand-labelling loop:
/// train, predict (scores + keep-mask), stratified k-fold evaluation, and picking the posts to
/// label next.
///
/// Models (the CPU path is the reference; kernels/classify_cuda.cu is the CUDA twin):
/// - L2-regularised logistic regression with scikit-learn's objective and stopping rule:
///   minimise  sum_i s_i loss_i / S + ||W||^2 / (2 C S)  (s_i sample weights, S their sum,
///   intercepts not penalised), binary (one weight vector, sigmoid) for two classes and
///   multinomial (softmax) for more, solved with L-BFGS (liblbfgs, 10 corrections) until the
///   largest gradient entry is <= tol (default 1e-5) or max_iter iterations.
/// - Multinomial naive Bayes (scikit-learn's MultinomialNB: additive smoothing alpha, class
///   priors from the (weighted) class counts).
/// Both score a row as X w + b (a linear model over the columns), so prediction is one code path.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tmine/context.hpp"
#include "tmine/corpus.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {

enum class ClassifierKind { LogReg, NaiveBayes };
/// "logreg" or "nb"; throws InputError otherwise.
ClassifierKind parse_classifier_kind(const std::string& s);
const char* classifier_kind_name(ClassifierKind k);

struct ClassifyOptions {
    ClassifierKind kind = ClassifierKind::LogReg;
    double C = 1.0;            ///< inverse L2 strength (logreg), as scikit-learn's C
    bool balanced = false;     ///< class weights n / (K * n_k), as class_weight='balanced'
    double alpha = 1.0;        ///< additive smoothing (nb)
    int max_iter = 1000;       ///< L-BFGS iterations (logreg)
    /// Stop when max |gradient| <= tol (scikit-learn's rule; its default is 1e-4). liblbfgs's
    /// More-Thuente steps reach 1e-4 in about half scikit-learn's iterations, at a point a few
    /// test documents short of the optimum on 20 Newsgroups, hence the tighter default.
    double tol = 1e-5;
    bool progress = false;     ///< one line per 10 iterations on stderr
};
/// Throws InputError naming the option when out of range.
void validate(const ClassifyOptions& o);

/// A fitted linear classifier: score(row) = X[row] * weights + intercept.
struct Classifier {
    ClassifierKind kind = ClassifierKind::LogReg;
    std::vector<std::string> classes;  ///< sorted bytewise; class c is classes[c]
    int positive = -1;                 ///< the "relevant" class of a binary task (index), else -1
    int64_t n_features = 0;
    /// Outputs: 1 for binary logreg (the logit of classes[1]), else one per class.
    int outputs = 0;
    std::vector<double> weights;    ///< n_features x outputs, row-major (feature-major)
    std::vector<double> intercept;  ///< outputs
    uint64_t vocabulary_hash = 0;   ///< of the training matrix's vocabulary (0 = unknown)
    ClassifyOptions options;
    // how the fit went
    int iterations = 0;
    double objective = 0.0, gradient_max = 0.0, seconds = 0.0;
    std::string stop_reason, device;
    int64_t train_rows = 0;
    std::vector<int64_t> class_counts;
    /// Out-of-fold scores of the positive class on the training labels (binary only), from a
    /// stratified k-fold run at training time: what --target-precision picks a threshold on.
    std::vector<float> cv_scores;
    std::vector<uint8_t> cv_truth;  ///< 1 when that training row is of the positive class
};

/// Rows of a matrix with their labels: what train and eval take.
struct LabelSet {
    std::vector<int64_t> rows;          ///< matrix / corpus rows, distinct, in file order
    std::vector<int32_t> y;             ///< class index per row
    std::vector<std::string> classes;   ///< sorted bytewise
    std::vector<int64_t> lines;         ///< line of each label in its file (for messages)
    int64_t weak_rows = 0;        ///< rows labelled by LabelReadOptions::weak_paths only
    int64_t weak_overridden = 0;  ///< weak labels a file of `paths` replaced with another label
};

struct LabelReadOptions {
    bool allow_empty = false;  ///< skip rows whose label is empty (a pick file half filled in)
    /// false: the rows labelled so far, for pick to leave out (one class, or none, is fine).
    bool for_training = true;
    /// Weak labels (`tmine query --labels`): read after the label files, each row taking its
    /// label from those files when they have one (a person corrects the query), from these
    /// otherwise. Two weak files that disagree on a row are an error, as two label files are.
    std::vector<std::string> weak_paths;
};

/// Reads `id,label` pairs: CSV with a header naming `id` and `label` columns (other columns
/// ignored, so a file written by pick can be read back) or JSON Lines `{"id": .., "label": ..}`
/// (ids and labels may be strings, numbers or booleans). Ids are resolved against the
/// corpus's ids when it has them, else they are 0-based row numbers. Throws InputError naming
/// the file and line: unknown id, empty id or label, an id given two different labels, fewer
/// than two classes. The same id twice with the same label counts once. Several files (the
/// first labels, then each filled-in pick file) are read as one.
/// Whether read_labels() reads `path` as JSON Lines by its name alone (.jsonl, .ndjson,
/// .json, any case); other names are CSV unless the content starts with '{'. Writers of label
/// files follow the same rule.
bool labels_named_jsonl(const std::string& path);
LabelSet read_labels(const std::vector<std::string>& paths, const Corpus* corpus, int64_t n_rows,
                     const LabelReadOptions& opts = {});
inline LabelSet read_labels(const std::string& path, const Corpus* corpus, int64_t n_rows,
                            const LabelReadOptions& opts = {}) {
    return read_labels(std::vector<std::string>{path}, corpus, n_rows, opts);
}

/// The binary task's relevant class: `wanted` when given (must be a class), else for
/// {0,1} / {false,true} / {no,yes} / {irrelevant,relevant} (any case) the second, else the
/// second class in sorted order (scikit-learn's classes_[1]). -1 for more than two classes
/// unless `wanted` names one.
int choose_positive(const std::vector<std::string>& classes, const std::string& wanted);

/// Copies the given rows of X (in that order) into a new matrix.
CsrMatrix take_rows(const CsrMatrix& X, const std::vector<int64_t>& rows);
/// Xᵀ as CSR (cols x rows).
CsrMatrix transpose(const CsrMatrix& X);
/// xxHash64 of the vocabulary (terms and their order).
uint64_t vocabulary_hash(const std::vector<std::string>& vocabulary);

/// Fits on rows X (one per label) with class indices y in [0, classes.size()).
Classifier train(const Context& ctx, const CsrMatrix& X, const std::vector<int32_t>& y,
                 const std::vector<std::string>& classes, const ClassifyOptions& opts);

/// Class probabilities, n x K row-major (K = classes.size()), on the context's device.
std::vector<float> predict_proba(const Context& ctx, const Classifier& clf, const CsrMatrix& X);

/// Stratified fold of each row (0..folds-1): every class spread evenly, shuffled by `seed`.
std::vector<int> stratified_folds(const std::vector<int32_t>& y, int n_classes, int folds,
                                  uint64_t seed);

/// Cross-validated quality of a classifier on a labelled set.
struct EvalReport {
    std::vector<std::string> classes;
    int positive = -1;
    int folds = 0;
    int64_t rows = 0;
    std::vector<int64_t> confusion;  ///< K x K, [true][predicted]
    std::vector<double> precision, recall, f1;  ///< per class
    std::vector<int64_t> support;
    double accuracy = 0, macro_precision = 0, macro_recall = 0, macro_f1 = 0;
    double roc_auc = 0;  ///< binary: of the positive class; multiclass: macro one-vs-rest
    std::vector<float> oof_proba;  ///< n x K out-of-fold probabilities (labelled-set order)
    double seconds = 0;
};
/// Stratified k-fold: each fold trained on the others and scored. `positive` as choose_positive.
EvalReport cross_validate(const Context& ctx, const CsrMatrix& X, const std::vector<int32_t>& y,
                          const std::vector<std::string>& classes, int positive,
                          const ClassifyOptions& opts, int folds, uint64_t seed);
/// Metrics of predictions against y: the argmax of proba; binary with a `positive` class,
/// that class when its probability is >= 0.5 (predict's default threshold, ties included).
EvalReport evaluate(const std::vector<float>& proba, const std::vector<int32_t>& y,
                    const std::vector<std::string>& classes, int positive);
/// ROC AUC of scores against 0/1 truth (ties averaged, as scikit-learn's roc_auc_score).
double roc_auc(const std::vector<float>& score, const std::vector<uint8_t>& truth);
std::string eval_json(const EvalReport& r, const ClassifyOptions& opts);
std::string eval_table(const EvalReport& r);

/// The smallest threshold whose precision on (score, truth) is >= target, with its recall;
/// throws InputError when no threshold reaches the target.
double threshold_for_precision(const std::vector<float>& score, const std::vector<uint8_t>& truth,
                               double target, double* recall_out = nullptr,
                               double* precision_out = nullptr);

/// Rows to label next: `n - n_random` with the least certain predictions (binary: score
/// closest to 0.5; multiclass: smallest gap between the two best classes), then `n_random`
/// drawn uniformly (seeded) from the rest; rows in `exclude` (already labelled) never picked.
struct Pick {
    int64_t row;
    bool random;  ///< drawn at random (else: uncertain)
};
std::vector<Pick> pick_rows(const std::vector<float>& proba, int64_t n_rows, int K, int64_t n,
                            int64_t n_random, uint64_t seed, const std::vector<int64_t>& exclude);

/// Model directory: `classifier.tmcl` (binary, see docs/formats.md) and `classifier.json`
/// (a readable summary). Written atomically.
void write_classifier(const Classifier& clf, const std::string& dir);
Classifier read_classifier(const std::string& dir);
std::string classifier_json(const Classifier& clf);

namespace detail {
/// Logistic-regression objective on one device: f(x) and its gradient, x = [W (m x outputs,
/// row-major), b (outputs)]. Sample weights sum to 1; l2 = 1 / (C * sum of raw weights).
struct LogRegProblem {
    const CsrMatrix* X = nullptr;
    const std::vector<int32_t>* y = nullptr;
    std::vector<double> sample_weight;
    int outputs = 1;  ///< 1: binary with y in {0,1}; else multinomial over `outputs` classes
    double l2 = 0.0;
};
class LogRegObjective {
public:
    virtual ~LogRegObjective() = default;
    /// Returns f(x) and writes the gradient into g (both of size (m + 1) * outputs).
    virtual double evaluate(const double* x, double* g) = 0;
};
}  // namespace detail

namespace cpu_impl {
std::unique_ptr<detail::LogRegObjective> logreg_objective(const Context& ctx,
                                                          const detail::LogRegProblem& p);
/// Σ_i s_i x_i for the rows of each class: K x m row-major (multinomial NB's feature counts).
std::vector<double> class_feature_sums(const Context& ctx, const CsrMatrix& X,
                                       const std::vector<int32_t>& y,
                                       const std::vector<double>& sample_weight, int K);
/// Raw linear scores X W + b: n x outputs row-major.
std::vector<double> linear_scores(const Context& ctx, const CsrMatrix& X, const double* W,
                                  const double* b, int outputs);
}  // namespace cpu_impl

namespace cuda_impl {
std::unique_ptr<detail::LogRegObjective> logreg_objective(const Context& ctx,
                                                          const detail::LogRegProblem& p);
std::vector<double> class_feature_sums(const Context& ctx, const CsrMatrix& X,
                                       const std::vector<int32_t>& y,
                                       const std::vector<double>& sample_weight, int K);
std::vector<double> linear_scores(const Context& ctx, const CsrMatrix& X, const double* W,
                                  const double* b, int outputs);
}  // namespace cuda_impl

}  // namespace tmine
