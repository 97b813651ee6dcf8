#pragma once
/// Stage 6, export: topics.json (schema in docs/formats.md) and CSV files, written atomically.
#include <string>

#include "tmine/corpus.hpp"
#include "tmine/interpret.hpp"
#include "tmine/topics.hpp"

namespace tmine {

/// topics.json: {"schema_version", "topics":[{"id","label","terms":[{"term","weight"}],"size",
/// "weight_share"}], "model":{...}, "corpus":{"documents","skipped"}}.
/// Schema version 2: with `it`, each topic gains "coherence", "group" and
/// "representative_posts", and the top level "coherence", "clusters", "audiences",
/// "topics_over_time" and "emerging" (the parts that were computed; docs/formats.md).
std::string topics_json(const TopicModel& model, const TopicSummary& summary,
                        const Interpretation* it = nullptr);

/// k_selection.csv: k,iterations,stop_reason,relative_error,npmi,umass,seconds,recommended
/// (one row per k tried; recommended is 1 on the chosen k).
std::string k_selection_csv(const KSelection& ks);
/// topics.csv: topic,label,rank,term,weight (one row per topic term).
std::string topics_csv(const TopicSummary& summary);

/// documents.csv: row,id,time,author,source,topic,weight,topic_label. `corpus` may be null
/// (row,topic,weight,topic_label); when given it must have the model's document count. The
/// label is empty for topic -1 or when `summary.topics` is empty.
std::string documents_csv(const TopicSummary& summary, const Corpus* corpus);

/// `--tables` topics.csv: topic,label,size,weight_share,npmi,umass,group,group_label (one row
/// per topic).
std::string topic_table_csv(const TopicSummary& summary, const Interpretation& it);
/// weights.csv: row,topic,weight for every non-zero entry of W (document-topic weights).
std::string document_weights_csv(const TopicModel& model);
/// time_series.csv: bin,start,topic,volume,share,posts (one row per bin and topic).
std::string time_series_csv(const TimeSeries& ts);
/// time_series_by_source.csv / time_series_by_language.csv (--split): source|language,bin,
/// start,topic,volume,share,posts (one row per group, bin and topic).
std::string grouped_series_csv(const GroupedSeries& g);
/// authors.csv: author,posts,segment,topic_0..topic_{k-1} (each author's mean topic mixture).
std::string authors_csv(const Audiences& audiences, int k);
/// clusters.csv: group,group_label,topic,topic_label.
std::string clusters_csv(const TopicSummary& summary, const TopicClusters& clusters);

}  // namespace tmine
