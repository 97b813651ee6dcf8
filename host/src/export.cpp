// Exports: topics.json (RapidJSON writer) and CSV files.
#include "tmine/export.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <ctime>

#include "interpret_export.hpp"
#include "tmine/error.hpp"
#include "tmine/ingest.hpp"
#include "tmine/io.hpp"

namespace tmine {

std::string topics_json(const TopicModel& model, const TopicSummary& summary,
                        const Interpretation* it) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    w.StartObject();
    w.Key("schema_version");
    w.Int(2);
    w.Key("topics");
    w.StartArray();
    for (const auto& t : summary.topics) {
        w.StartObject();
        w.Key("id");
        w.Int(t.id);
        w.Key("label");
        w.String(t.label.c_str(), static_cast<rapidjson::SizeType>(t.label.size()));
        w.Key("size");
        w.Int64(t.size);
        w.Key("weight_share");
        w.Double(t.weight_share);
        w.Key("terms");
        w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
        w.StartArray();
        for (const auto& tw : t.terms) {
            w.StartObject();
            w.Key("term");
            w.String(tw.term.c_str(), static_cast<rapidjson::SizeType>(tw.term.size()));
            w.Key("weight");
            w.Double(tw.weight);
            w.EndObject();
        }
        w.EndArray();
        w.SetFormatOptions(rapidjson::kFormatDefault);
        if (it) detail::write_topic_interpretation(w, *it, t.id);
        w.EndObject();
    }
    w.EndArray();
    if (it) detail::write_interpretation_sections(w, *it);
    const auto& m = model.nmf;
    w.Key("model");
    w.StartObject();
    const auto& o = model.options;
    w.Key("algorithm");
    w.String("nmf");
    w.Key("solver");
    w.String(nmf_solver_name(o.solver));
    w.Key("loss");
    w.String(nmf_loss_name(o.loss));
    w.Key("k");
    w.Int(m.k);
    w.Key("iterations");
    w.Int(m.iterations);
    w.Key("stop_reason");
    w.String(m.stop_reason.c_str());
    w.Key("relative_error");
    w.Double(m.relative_error);
    w.Key("device");
    w.String(m.device.c_str());
    if (m.cpu_threads > 0) {  // unknown (0, "") in a model written before tmine recorded them
        w.Key("cpu_threads");
        w.Int(m.cpu_threads);
    }
    if (!m.device_description.empty()) {
        w.Key("device_description");
        w.String(m.device_description.c_str());
    }
    w.Key("terms");
    w.Int64(m.m);
    w.Key("init");
    w.String(nmf_init_name(o.init));
    w.Key("seed");
    w.Uint64(m.seed);
    w.Key("restarts");
    w.Int(std::max(1, int(m.restart_losses.size())));
    w.Key("tol");
    w.Double(o.tol);
    w.Key("alpha_W");
    w.Double(o.alpha_W);
    w.Key("alpha_H");
    w.Double(o.alpha_H < 0 ? o.alpha_W : o.alpha_H);
    w.Key("l1_ratio");
    w.Double(o.l1_ratio);
    w.Key("loss_at_init");
    w.Double(m.loss_at_init);
    w.Key("losses");  // per iteration, scaled as scikit-learn's reconstruction_err_
    w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
    w.StartArray();
    for (double l : m.losses) w.Double(l);
    w.EndArray();
    w.SetFormatOptions(rapidjson::kFormatDefault);
    if (!o.seed_terms.empty()) {  // guided topics: topic j is anchored on seed_terms[j]
        w.Key("guided_topics");
        w.StartArray();
        for (size_t j = 0; j < o.seed_terms.size(); ++j) {
            w.StartObject();
            w.Key("topic");
            w.Int(int(j));
            w.Key("seed_terms");
            w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
            w.StartArray();
            for (int32_t c : o.seed_terms[j])
                if (c >= 0 && size_t(c) < model.vocabulary.size()) w.String(model.vocabulary[c].c_str());
            w.EndArray();
            w.SetFormatOptions(rapidjson::kFormatDefault);
            w.EndObject();
        }
        w.EndArray();
        w.Key("seed_strength");
        w.Double(o.seed_strength);
        w.Key("seed_lambda");
        w.Double(m.seed_lambda);
        w.Key("seed_weight");
        w.Double(m.seed_weight);
    }
    w.EndObject();
    if (!model.k_selection.empty()) {
        const auto& ks = model.k_selection;
        w.Key("k_selection");
        w.StartObject();
        w.Key("rule");
        w.String("highest mean NPMI coherence; ties: smaller k");
        w.Key("recommended");
        w.Int(ks.recommended);
        w.Key("reason");
        w.String(ks.reason.c_str());
        w.Key("coherence_top");
        w.Int(ks.coherence_top);
        w.Key("svd_components");  // the shared SVD of the nndsvd* inits (0: random init)
        w.Int(ks.svd_k);
        w.Key("candidates");
        w.StartArray();
        for (const auto& c : ks.candidates) {
            w.StartObject();
            w.Key("k");
            w.Int(c.k);
            w.Key("iterations");
            w.Int(c.iterations);
            w.Key("stop_reason");
            w.String(c.stop_reason.c_str());
            w.Key("relative_error");
            w.Double(c.relative_error);
            w.Key("npmi");
            w.Double(c.npmi);
            w.Key("umass");
            w.Double(c.umass);
            w.Key("seconds");
            w.Double(c.seconds);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }
    w.Key("corpus");
    w.StartObject();
    w.Key("documents");
    w.Int64(model.corpus.documents);
    w.Key("skipped");  // null: unknown (a fit from a matrix)
    if (model.corpus.skipped >= 0)
        w.Int64(model.corpus.skipped);
    else
        w.Null();
    w.Key("source");
    w.String(model.corpus.source.c_str());
    w.EndObject();
    w.EndObject();
    std::string out(buf.GetString(), buf.GetSize());
    out.push_back('\n');
    return out;
}

std::string k_selection_csv(const KSelection& ks) {
    std::string out = "k,iterations,stop_reason,relative_error,npmi,umass,seconds,recommended\n";
    char num[256];
    for (const auto& c : ks.candidates) {
        std::snprintf(num, sizeof num, "%d,%d,%s,%.9g,%.9g,%.9g,%.3f,%d\n", c.k, c.iterations,
                      c.stop_reason.c_str(), c.relative_error, c.npmi, c.umass, c.seconds,
                      c.k == ks.recommended ? 1 : 0);
        out += num;
    }
    return out;
}

std::string topics_csv(const TopicSummary& summary) {
    std::string out = "topic,label,rank,term,weight\n";
    char num[64];
    for (const auto& t : summary.topics)
        for (size_t r = 0; r < t.terms.size(); ++r) {
            out += std::to_string(t.id) + ",";
            append_csv_field(out, t.label);
            out += "," + std::to_string(r + 1) + ",";
            append_csv_field(out, t.terms[r].term);
            std::snprintf(num, sizeof num, ",%.9g\n", t.terms[r].weight);
            out += num;
        }
    return out;
}

std::string documents_csv(const TopicSummary& summary, const Corpus* corpus) {
    const size_t n = summary.dominant.size();
    if (corpus && corpus->size() != n)
        throw InputError("documents: the corpus has " + std::to_string(corpus->size()) +
                         " documents but the model " + std::to_string(n));
    // topic_label last: a planner reading the file in a spreadsheet sees what the number means
    std::string out = corpus ? "row,id,time,author,source,topic,weight,topic_label\n" : "row,topic,weight,topic_label\n";
    std::vector<std::string> labels(summary.topics.size());
    for (size_t j = 0; j < labels.size(); ++j) append_csv_field(labels[j], summary.topics[j].label);
    char num[64];
    for (size_t d = 0; d < n; ++d) {
        out += std::to_string(d);
        if (corpus) {
            out.push_back(',');
            append_csv_field(out, corpus->ids[d]);
            out += "," + format_timestamp(corpus->time[d]) + ",";
            append_csv_field(out, corpus->authors[d]);
            out.push_back(',');
            append_csv_field(out, corpus->sources[corpus->source[d]]);
        }
        std::snprintf(num, sizeof num, ",%d,%.6g,", summary.dominant[d], summary.dominant_weight[d]);
        out += num;
        const int j = summary.dominant[d];
        if (j >= 0 && size_t(j) < labels.size()) out += labels[j];
        out.push_back('\n');
    }
    return out;
}

}  // namespace tmine
