// Exports of the interpretation: the topics.json v2 sections and the CSV files (topic table,
// document-topic weights, time series, clusters). Schema in docs/formats.md.
#include "interpret_export.hpp"

#include <rapidjson/document.h>

#include <algorithm>

#include <cstdio>
#include <ctime>

#include "tmine/error.hpp"
#include "tmine/io.hpp"
#include "tmine/export.hpp"
#include "tmine/ingest.hpp"

namespace tmine {

namespace {
std::string iso(int64_t t) { return format_timestamp(t); }
void str(detail::JsonWriter& w, const std::string& s) {
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}
int group_of(const TopicClusters& c, int topic) {
    for (const auto& g : c.groups)
        for (int t : g.topics)
            if (t == topic) return g.id;
    return -1;
}
}  // namespace

namespace detail {

void write_topic_interpretation(JsonWriter& w, const Interpretation& it, int topic) {
    if (it.coherence.has(topic)) {  // none for a topic of fewer than two terms
        w.Key("coherence");
        w.StartObject();
        w.Key("npmi");
        w.Double(it.coherence.npmi[topic]);
        w.Key("umass");
        w.Double(it.coherence.umass[topic]);
        w.EndObject();
    }
    if (!it.clusters.groups.empty()) {
        w.Key("group");
        w.Int(group_of(it.clusters, topic));
    }
    if (size_t(topic) < it.posts.size()) {
        w.Key("representative_posts");
        w.StartArray();
        for (const auto& p : it.posts[topic]) {
            w.StartObject();
            w.Key("row");
            w.Int64(p.row);
            w.Key("id");
            str(w, p.id);
            w.Key("time");
            str(w, iso(p.time));
            w.Key("author");
            str(w, p.author);
            w.Key("source");
            str(w, p.source);
            w.Key("weight");
            w.Double(p.weight);
            w.Key("text");
            str(w, p.text);
            w.EndObject();
        }
        w.EndArray();
    }
}

void write_interpretation_sections(JsonWriter& w, const Interpretation& it) {
    if (!it.funnel.empty()) {
        w.Key("cleaning");
        w.StartArray();
        for (const auto& f : it.funnel) {
            w.StartObject();
            w.Key("step");
            str(w, f.step);
            w.Key("posts_in");
            w.Uint64(f.rows_in);
            w.Key("kept");
            w.Uint64(f.kept);
            w.Key("removed");
            w.StartObject();
            for (const auto& r : f.reasons) {
                w.Key(r.first.c_str(), rapidjson::SizeType(r.first.size()));
                w.Uint64(r.second);
            }
            w.EndObject();
            w.EndObject();
        }
        w.EndArray();
    }
    if (!it.coherence.npmi.empty()) {
        w.Key("coherence");
        w.StartObject();
        w.Key("top_n");
        w.Int(it.coherence.top_n);
        w.Key("npmi");
        w.Double(it.coherence.npmi_mean);
        w.Key("umass");
        w.Double(it.coherence.umass_mean);
        w.EndObject();
    }
    w.Key("clusters");
    w.StartObject();
    w.Key("metric");
    w.String("cosine");
    w.Key("linkage");
    w.String("average");
    w.Key("merges");
    w.StartArray();
    for (const auto& m : it.clusters.merges) {
        w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
        w.StartArray();
        w.Int(m.a);
        w.Int(m.b);
        w.Double(m.distance);
        w.Int(m.size);
        w.EndArray();
        w.SetFormatOptions(rapidjson::kFormatDefault);
    }
    w.EndArray();
    w.Key("groups");
    w.StartArray();
    for (const auto& g : it.clusters.groups) {
        w.StartObject();
        w.Key("id");
        w.Int(g.id);
        w.Key("label");
        str(w, g.label);
        w.Key("size");
        w.Int64(g.size);
        w.Key("topics");
        w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
        w.StartArray();
        for (int t : g.topics) w.Int(t);
        w.EndArray();
        w.SetFormatOptions(rapidjson::kFormatDefault);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    if (!it.audiences.authors.empty()) {
        const auto& au = it.audiences;
        w.Key("audiences");
        w.StartObject();
        w.Key("authors");
        w.Int64(int64_t(au.authors.size()));
        w.Key("inertia");
        w.Double(au.inertia);
        w.Key("segments");
        w.StartArray();
        for (const auto& g : au.segments) {
            w.StartObject();
            w.Key("id");
            w.Int(g.id);
            w.Key("label");
            str(w, g.label);
            w.Key("authors");
            w.Int64(g.authors);
            w.Key("posts");
            w.Int64(g.posts);
            w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
            w.Key("top_authors");
            w.StartArray();
            for (const auto& a : g.top_authors) str(w, a);
            w.EndArray();
            w.Key("centroid");
            w.StartArray();
            for (float c : g.centroid) w.Double(c);
            w.EndArray();
            w.SetFormatOptions(rapidjson::kFormatDefault);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }
    if (!it.has_series) {
        if (!it.series_left_out.empty()) {
            w.Key("topics_over_time_left_out");  // why a corpus with dates has no series
            str(w, it.series_left_out);
        }
        return;
    }
    const auto& ts = it.series;
    w.Key("topics_over_time");
    w.StartObject();
    w.Key("by");
    w.String(time_bin_name(ts.by));
    w.Key("untimed");
    w.Int64(ts.untimed);
    w.Key("bins");
    w.StartArray();
    for (size_t b = 0; b < ts.start.size(); ++b) {
        w.StartObject();
        w.Key("label");
        str(w, ts.label[b]);
        w.Key("start");
        str(w, iso(ts.start[b]));
        w.Key("posts");
        w.Int64(ts.posts[b]);
        w.Key("unassigned");
        w.Int64(ts.unassigned[b]);
        w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
        w.Key("volume");
        w.StartArray();
        for (int j = 0; j < ts.k; ++j) w.Int64(ts.volume_at(b, j));
        w.EndArray();
        w.Key("share");
        w.StartArray();
        for (int j = 0; j < ts.k; ++j) w.Double(ts.share(b, j));
        w.EndArray();
        w.SetFormatOptions(rapidjson::kFormatDefault);
        w.EndObject();
    }
    w.EndArray();
    if (!it.grouped.empty()) {
        // The same bins per group of posts (--split): posts and volume per bin.
        const auto& g = it.grouped;
        w.Key("split");
        w.StartObject();
        w.Key("by");
        w.String(series_split_name(g.by));
        w.Key("groups");
        w.StartArray();
        for (size_t i = 0; i < g.names.size(); ++i) {
            const TimeSeries& gs = g.series[i];
            w.StartObject();
            w.Key("name");
            str(w, g.names[i]);
            w.Key("posts");
            w.Int64(g.total[i]);
            w.Key("untimed");
            w.Int64(gs.untimed);
            w.SetFormatOptions(rapidjson::kFormatSingleLineArray);
            w.Key("bin_posts");
            w.StartArray();
            for (int64_t p : gs.posts) w.Int64(p);
            w.EndArray();
            w.Key("volume");  // bins x k, row per bin
            w.StartArray();
            for (size_t b = 0; b < gs.start.size(); ++b) {
                w.StartArray();
                for (int j = 0; j < gs.k; ++j) w.Int64(gs.volume_at(b, j));
                w.EndArray();
            }
            w.EndArray();
            w.SetFormatOptions(rapidjson::kFormatDefault);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }
    w.EndObject();
    if (!it.emerging.empty()) {
        // the windows compared: first and last period of each, and their posts
        const EmergingWindow& ew = it.emerging_window;
        const auto& L = it.series.label;
        auto window = [&](const char* name, size_t first, size_t last, int64_t posts) {
            w.Key(name);
            w.StartObject();
            w.Key("from");
            str(w, L[first]);
            w.Key("to");
            str(w, L[last]);
            w.Key("posts");
            w.Int64(posts);
            w.EndObject();
        };
        w.Key("emerging_window");
        w.StartObject();
        window("recent", ew.recent_first, ew.recent_end - 1, ew.recent_posts);
        window("trailing", ew.trailing_first, ew.recent_first - 1, ew.trailing_posts);
        w.Key("few_posts");
        w.Bool(ew.few_posts);
        w.EndObject();
    }
    w.Key("emerging");
    w.StartArray();
    for (const auto& e : it.emerging) {
        w.StartObject();
        w.Key("topic");
        w.Int(e.topic);
        w.Key("recent_share");
        w.Double(e.recent_share);
        w.Key("trailing_share");
        w.Double(e.trailing_share);
        w.Key("lift");
        w.Double(e.lift);
        w.Key("score");
        w.Double(e.score);
        w.EndObject();
    }
    w.EndArray();
}

}  // namespace detail

std::string topic_table_csv(const TopicSummary& summary, const Interpretation& it) {
    std::string out = "topic,label,size,weight_share,npmi,umass,group,group_label\n";
    char num[96];
    for (const auto& t : summary.topics) {
        out += std::to_string(t.id) + ",";
        append_csv_field(out, t.label);
        std::snprintf(num, sizeof num, ",%lld,%.9g,", (long long)t.size, t.weight_share);
        out += num;
        if (it.coherence.has(t.id)) {
            std::snprintf(num, sizeof num, "%.9g,%.9g", it.coherence.npmi[t.id],
                          it.coherence.umass[t.id]);
            out += num;
        } else {
            out += ",";
        }
        const int g = group_of(it.clusters, t.id);
        out += "," + (g >= 0 ? std::to_string(g) : std::string()) + ",";
        if (g >= 0) append_csv_field(out, it.clusters.groups[g].label);
        out += "\n";
    }
    return out;
}

std::string document_weights_csv(const TopicModel& model) {
    const auto& f = model.nmf;
    std::string out = "row,topic,weight\n";
    char buf[64];
    for (int64_t d = 0; d < f.n; ++d)
        for (int j = 0; j < f.k; ++j) {
            const float v = f.W[size_t(d) * f.k + j];
            if (v == 0.0f) continue;
            std::snprintf(buf, sizeof buf, "%lld,%d,%.6g\n", (long long)d, j, v);
            out += buf;
        }
    return out;
}

namespace {
/// The rows bin,start,topic,volume,share,posts of a series, each after `group` (a quoted CSV
/// field and a comma) when given.
void append_series_rows(std::string& out, const TimeSeries& ts, const std::string* group) {
    char buf[160];
    for (size_t b = 0; b < ts.start.size(); ++b)
        for (int j = 0; j < ts.k; ++j) {
            if (group) {
                append_csv_field(out, *group);
                out.push_back(',');
            }
            std::snprintf(buf, sizeof buf, "%s,%s,%d,%lld,%.9g,%lld\n", ts.label[b].c_str(),
                          iso(ts.start[b]).c_str(), j, (long long)ts.volume_at(b, j),
                          ts.share(b, j), (long long)ts.posts[b]);
            out += buf;
        }
}
}  // namespace

std::string time_series_csv(const TimeSeries& ts) {
    std::string out = "bin,start,topic,volume,share,posts\n";
    append_series_rows(out, ts, nullptr);
    return out;
}

std::vector<Interpretation::FunnelStep> cleaning_funnel(std::string_view clean_json,
                                                        const std::string& origin) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseIterativeFlag>(clean_json.data(), clean_json.size());  // no recursion on deep nesting
    auto bad = [&](const std::string& why) {
        return InputError(origin + ": not a tmine clean report (" + why + ")");
    };
    if (d.HasParseError() || !d.IsObject()) throw bad("not a JSON object");
    if (!d.HasMember("steps") || !d["steps"].IsArray()) throw bad("no \"steps\" array");
    std::vector<Interpretation::FunnelStep> out;
    for (const auto& st : d["steps"].GetArray()) {
        if (!st.IsObject() || !st.HasMember("step") || !st["step"].IsString() ||
            !st.HasMember("rows_in") || !st["rows_in"].IsUint64() || !st.HasMember("kept") ||
            !st["kept"].IsUint64())
            throw bad("a step lacks step, rows_in or kept");
        Interpretation::FunnelStep f;
        f.step = st["step"].GetString();
        f.rows_in = st["rows_in"].GetUint64();
        f.kept = st["kept"].GetUint64();
        if (st.HasMember("reasons") && st["reasons"].IsObject())
            for (const auto& r : st["reasons"].GetObject())
                if (r.value.IsObject() && r.value.HasMember("count") && r.value["count"].IsUint64())
                    f.reasons.emplace_back(r.name.GetString(), r.value["count"].GetUint64());
        std::stable_sort(f.reasons.begin(), f.reasons.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        out.push_back(std::move(f));
    }
    return out;
}

std::string grouped_series_csv(const GroupedSeries& g) {
    std::string out = std::string(series_split_name(g.by)) + ",bin,start,topic,volume,share,posts\n";
    for (size_t i = 0; i < g.names.size(); ++i) append_series_rows(out, g.series[i], &g.names[i]);
    return out;
}

std::string authors_csv(const Audiences& au, int k) {
    std::string out = "author,posts,segment";
    for (int j = 0; j < k; ++j) out += ",topic_" + std::to_string(j);
    out += "\n";
    char buf[32];
    for (const auto& a : au.authors) {
        append_csv_field(out, a.author);
        out += "," + std::to_string(a.posts) + "," + std::to_string(a.segment);
        for (float v : a.mixture) {
            std::snprintf(buf, sizeof buf, ",%.6g", v);
            out += buf;
        }
        out += "\n";
    }
    return out;
}

std::string clusters_csv(const TopicSummary& summary, const TopicClusters& clusters) {
    std::string out = "group,group_label,topic,topic_label\n";
    for (const auto& g : clusters.groups)
        for (int t : g.topics) {
            out += std::to_string(g.id) + ",";
            append_csv_field(out, g.label);
            out += "," + std::to_string(t) + ",";
            append_csv_field(out, summary.topics[t].label);
            out += "\n";
        }
    return out;
}

}  // namespace tmine
