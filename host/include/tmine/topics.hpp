#pragma once
/// Interpretation of a fitted model and the model directory `tmine topics` writes.
#include <cstdint>
#include <string>
#include <vector>

#include "tmine/corpus.hpp"
#include "tmine/nmf.hpp"

namespace tmine {

struct TermWeight {
    std::string term;
    float weight = 0;
};

struct Topic {
    int id = 0;
    std::string label;               ///< its three best terms joined by " / "
    std::vector<TermWeight> terms;   ///< best first
    int64_t size = 0;                ///< documents whose dominant topic this is
    double weight_share = 0;         ///< share of the total document-topic weight
};

/// What a run knows about the corpus behind a model (kept with the model for exports).
struct CorpusInfo {
    int64_t documents = 0;  ///< rows of the matrix
    int64_t skipped = 0;    ///< records skipped at ingest; -1 when unknown (a fit from a matrix)
    std::string source;     ///< file the model was fit from: the corpus (run) or the matrix (topics); "" when unknown
    uint64_t fingerprint = 0;  ///< corpus_fingerprint() of that corpus (0 when unknown)
};

/// Throws InputError when `c` (read from `path`) is not the corpus `info` describes: another
/// number of rows, or other posts (by fingerprint, when the model or matrix has one).
/// `what` names the file it belongs to, for the message.
void check_same_corpus(const CorpusInfo& info, const Corpus& c, const std::string& path, const std::string& what);

/// One k tried by a k selection (`-k FROM:TO:STEP`).
struct KCandidate {
    int k = 0;
    int iterations = 0;
    std::string stop_reason;
    double relative_error = 0;  ///< ||X - WH||_F / ||X||_F at the end of the fit
    double npmi = 0, umass = 0;  ///< mean coherence of its topics (interpret.hpp)
    double seconds = 0;          ///< fit and coherence time
};

/// How a model's k was chosen: every k tried, the rule's pick and why.
struct KSelection {
    std::vector<KCandidate> candidates;  ///< ascending k
    int recommended = 0;
    int coherence_top = 10;  ///< top terms per topic in the coherence
    /// The nndsvd* fits started from one truncated SVD with this many components (the largest
    /// k; 0 for a random init). A later `-k K` fit draws its own SVD for K components, so it can
    /// differ slightly from the kept fit.
    int svd_k = 0;
    std::string reason;
    bool empty() const { return candidates.empty(); }
};

/// A model directory: the factors, the vocabulary, and how the fit went.
struct TopicModel {
    NmfModel nmf;
    std::vector<std::string> vocabulary;
    std::vector<double> idf;  ///< the training matrix's idf, to weight new documents alike
    bool sublinear_tf = false;
    std::string pipeline;                 ///< the matrix's pipeline_string() (vectorize.hpp)
    std::vector<std::string> stop_words;  ///< the matrix's stop words
    CorpusInfo corpus;
    NmfOptions options;
    KSelection k_selection;  ///< empty unless k was chosen from a range
};

struct TopicSummary {
    std::vector<Topic> topics;
    std::vector<int32_t> dominant;       ///< per document; -1 when its row of W is all zero
    std::vector<float> dominant_weight;  ///< W[d, dominant[d]]
};

/// Each document's dominant topic (-1 when its row of W is all zero) and that weight.
void dominant_topics(const std::vector<float>& W, int64_t n, int k, std::vector<int32_t>& topic,
                     std::vector<float>& weight);

/// A topic's best terms: the column ids of its row `h` of H (m entries) with a weight above 0,
/// by weight, ties by id, at most `n`. A term of weight 0 says nothing about the topic (the
/// order among them would be the vocabulary's), so the list stops before them.
std::vector<int32_t> best_terms(const float* h, int64_t m, int64_t n);
/// The three best terms joined by " / ", or "(empty topic)": what names a topic everywhere
/// (label_of_terms over its best 12 terms).
std::string topic_label(const TopicModel& model, int topic);
/// Up to three of `ranked` (best first) joined by " / ", a term that is a word run inside one
/// already chosen left out and a term holding chosen ones in their place ("happy halloween"
/// instead of "halloween / happy"); "(empty topic)" for none.
std::string label_of_terms(const std::vector<std::string>& ranked);

/// Top `top_terms` terms per topic from H (best_terms), each one's label (topic_label, whatever
/// `top_terms` is), sizes and shares from W.
TopicSummary summarize_topics(const TopicModel& model, int top_terms = 20);

/// Guided topics read from a file for a matrix (`--seed-terms FILE`, docs/architecture.md): one line
/// per guided topic (blank lines and '#' comments skipped), entries separated by commas. Each
/// entry is tokenised as the matrix's documents were (case, accents, elisions, stop words,
/// stemming); it stands for its n-gram when the matrix has that term, else for each of its
/// words the vocabulary holds. Unknown entries are reported in `warnings` ("FILE:LINE: ...");
/// a line with no known term, or no line at all, throws InputError naming the file and line.
struct SeedTerms {
    std::vector<std::vector<int32_t>> ids;    ///< per guided topic, distinct column ids
    std::vector<std::vector<std::string>> terms;  ///< the same as vocabulary terms
    std::vector<std::string> warnings;
};
SeedTerms read_seed_terms(const std::string& path, const Vectorized& v);

/// Writes DIR/model.tmm (binary factors + vocabulary + fit metadata), atomically.
void write_model(const TopicModel& model, const std::string& dir);
/// Options that vectorize new documents exactly as the model's training matrix was.
VectorizeOptions training_vectorize_options(const TopicModel& model);

/// Reads DIR/model.tmm (or a .tmm path). Throws InputError naming the file.
TopicModel read_model(const std::string& dir_or_file);

}  // namespace tmine
