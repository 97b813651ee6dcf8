#pragma once
/// Stage 6, export: topics.json (schema in docs/formats.md) and CSV files, written atomically.
#include <string>

#include "tmine/corpus.hpp"
#include "tmine/topics.hpp"

namespace tmine {

/// topics.json: {"schema_version", "topics":[{"id","label","terms":[{"term","weight"}],"size",
/// "weight_share"}], "model":{...}, "corpus":{"documents","skipped"}}.
std::string topics_json(const TopicModel& model, const TopicSummary& summary);

/// topics.csv: topic,label,rank,term,weight (one row per topic term).
std::string topics_csv(const TopicSummary& summary);

/// documents.csv: row,id,time,author,source,topic,weight. `corpus` may be null (row and
/// topic only); when given it must have the model's document count.
std::string documents_csv(const TopicSummary& summary, const Corpus* corpus);

}  // namespace tmine
