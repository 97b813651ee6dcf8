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
    int64_t skipped = 0;    ///< records skipped at ingest
    std::string source;     ///< corpus file the model came from ("" when unknown)
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
};

struct TopicSummary {
    std::vector<Topic> topics;
    std::vector<int32_t> dominant;       ///< per document; -1 when its row of W is all zero
    std::vector<float> dominant_weight;  ///< W[d, dominant[d]]
};

/// Each document's dominant topic (-1 when its row of W is all zero) and that weight.
void dominant_topics(const std::vector<float>& W, int64_t n, int k, std::vector<int32_t>& topic,
                     std::vector<float>& weight);

/// Top `top_terms` terms per topic from H, sizes and shares from W.
TopicSummary summarize_topics(const TopicModel& model, int top_terms = 20);

/// Writes DIR/model.tmm (binary factors + vocabulary + fit metadata), atomically.
void write_model(const TopicModel& model, const std::string& dir);
/// Options that vectorize new documents exactly as the model's training matrix was.
VectorizeOptions training_vectorize_options(const TopicModel& model);

/// Reads DIR/model.tmm (or a .tmm path). Throws InputError naming the file.
TopicModel read_model(const std::string& dir_or_file);

}  // namespace tmine
