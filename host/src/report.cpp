// The self-contained HTML report (host/include/tmine/report.hpp): inline CSS and SVG only.
#include "tmine/report.hpp"
#include "tmine/io.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <numeric>

namespace tmine {

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const unsigned char u = static_cast<unsigned char>(c);
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                // Control characters other than white space (C0, DEL, and C1 as UTF-8 C2 80..9F)
                // are parse errors in HTML (NUL is replaced): shown as U+FFFD instead.
                if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || u == 0x7F) {
                    out += "\xEF\xBF\xBD";
                } else if (u == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                           static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
                    out += "\xEF\xBF\xBD";
                    ++i;
                } else {
                    out.push_back(c);
                }
        }
    }
    return out;
}

namespace {

const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char* colour(int i) { return kPalette[((i % 10) + 10) % 10]; }

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}
std::string date_of(int64_t t) {
    if (t == kNoTime) return "no date";
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char b[48];  // the year with at least 4 digits, as format_timestamp()
    std::snprintf(b, sizeof b, "%04lld-%02d-%02d %02d:%02d UTC", (long long)tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    return b;
}
std::string esc(std::string_view s) { return html_escape(s); }

void row(std::string& o, const std::string& k, const std::string& v) {
    o += "<tr><th>" + esc(k) + "</th><td>" + esc(v) + "</td></tr>\n";
}

// ---- section: settings and counts
void settings(std::string& o, const TopicModel& model, const Interpretation& it) {
    const auto& m = model.nmf;
    const auto& opt = model.options;
    o += "<section id=\"settings\"><h2>Model settings and corpus counts</h2>\n<div class=\"cols\">"
         "<table class=\"kv\"><caption>Corpus</caption>\n";
    row(o, "documents in the model", std::to_string(model.corpus.documents));
    if (model.corpus.skipped >= 0) row(o, "records skipped at ingest", std::to_string(model.corpus.skipped));
    if (it.corpus_posts) row(o, "posts in the corpus file", std::to_string(it.corpus_posts));
    if (it.has_series) {
        int64_t timed = std::accumulate(it.series.posts.begin(), it.series.posts.end(), int64_t(0));
        row(o, "posts with a date", std::to_string(timed));
        row(o, "posts without a date", std::to_string(it.series.untimed));
        row(o, "first period", it.series.label.front());
        row(o, "last period", it.series.label.back());
    }
    row(o, "vocabulary (terms)", std::to_string(m.m));
    row(o, "fitted from", model.corpus.source.empty() ? "unknown" : model.corpus.source);
    if (!it.corpus_path.empty() && !same_file(it.corpus_path, model.corpus.source)) row(o, "corpus file", it.corpus_path);
    o += "</table>\n<table class=\"kv\"><caption>Model</caption>\n";
    row(o, "algorithm",
        std::string("NMF, solver ") + nmf_solver_name(opt.solver) + ", loss " +
            nmf_loss_name(opt.loss));
    row(o, "topics (k)", std::to_string(m.k));
    row(o, "iterations", std::to_string(m.iterations) + " (stopped: " + m.stop_reason + ")");
    row(o, "relative error", fmt("%.5f", m.relative_error));
    row(o, "init / seed", std::string(nmf_init_name(opt.init)) + " / " + std::to_string(m.seed));
    row(o, "tol", fmt("%g", opt.tol));
    row(o, "alpha W / alpha H / l1 ratio",
        fmt("%g", opt.alpha_W) + " / " + fmt("%g", opt.alpha_H < 0 ? opt.alpha_W : opt.alpha_H) +
            " / " + fmt("%g", opt.l1_ratio));
    row(o, "device", m.device);
    for (size_t j = 0; j < opt.seed_terms.size(); ++j) {
        std::string list;
        for (int32_t c : opt.seed_terms[j])
            if (c >= 0 && size_t(c) < model.vocabulary.size())
                list += (list.empty() ? "" : ", ") + model.vocabulary[c];
        row(o, "guided topic " + std::to_string(j) + " (strength " + fmt("%g", opt.seed_strength) + ")",
            list);
    }
    if (!it.coherence.npmi.empty()) {
        row(o, "coherence NPMI (mean, top " + std::to_string(it.coherence.top_n) + ")",
            fmt("%.4f", it.coherence.npmi_mean));
        row(o, "coherence UMass (mean)", fmt("%.4f", it.coherence.umass_mean));
    }
    o += "</table></div></section>\n";
}

// ---- section: topics with their term bars
std::string sparkline(const TimeSeries& ts, int j) {
    const size_t B = ts.start.size();
    if (B == 0) return "";
    int64_t mx = 1;
    for (size_t b = 0; b < B; ++b) mx = std::max(mx, ts.volume_at(b, j));
    const double W = 220, H = 36;
    std::string pts;
    for (size_t b = 0; b < B; ++b) {
        double x = B > 1 ? W * double(b) / double(B - 1) : W / 2;
        double y = H - 2 - (H - 4) * double(ts.volume_at(b, j)) / double(mx);
        pts += fmt("%.1f", x) + "," + fmt("%.1f", y) + " ";
    }
    return "<svg class=\"spark\" width=\"220\" height=\"36\" viewBox=\"0 0 220 36\" role=\"img\">"
           "<title>posts per " +
           std::string(time_bin_name(ts.by)) +
           "</title>"
           "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"" +
           pts + "\"/></svg>";
}

void topics(std::string& o, const TopicSummary& s, const Interpretation& it,
            const ReportOptions& opts) {
    o += "<section id=\"topics\"><h2>Topics and their top terms</h2>\n<div class=\"grid\">\n";
    for (const auto& t : s.topics) {
        o += "<div class=\"topic\" id=\"topic-" + std::to_string(t.id) + "\"><h3>" +
             std::to_string(t.id) + ". " + esc(t.label) + "</h3>\n<p class=\"meta\">" +
             std::to_string(t.size) + " posts, " + fmt("%.1f", 100 * t.weight_share) +
             "% of the weight";
        if (it.coherence.has(t.id))
            o += ", NPMI " + fmt("%.3f", it.coherence.npmi[t.id]) + ", UMass " +
                 fmt("%.2f", it.coherence.umass[t.id]);
        o += "</p>\n";
        const int nb = std::min<int>(opts.bar_terms, int(t.terms.size()));
        const float mx = nb > 0 ? std::max(t.terms[0].weight, 1e-30f) : 1.0f;
        const int rowh = 18, H = nb * rowh + 4;
        o += "<svg class=\"bars\" width=\"320\" height=\"" + std::to_string(H) +
             "\" viewBox=\"0 0 320 " + std::to_string(H) +
             "\" role=\"img\"><title>top terms of topic " + std::to_string(t.id) + "</title>\n";
        for (int r = 0; r < nb; ++r) {
            const double w = 190.0 * t.terms[r].weight / mx;
            const int y = 2 + r * rowh;
            o += "<text x=\"118\" y=\"" + std::to_string(y + 13) + "\" text-anchor=\"end\">" +
                 esc(t.terms[r].term) + "</text><rect x=\"122\" y=\"" + std::to_string(y + 2) +
                 "\" width=\"" + fmt("%.1f", std::max(1.0, w)) + "\" height=\"" +
                 std::to_string(rowh - 5) + "\" fill=\"" + colour(t.id) + "\"><title>" +
                 esc(t.terms[r].term) + " " + fmt("%.4f", t.terms[r].weight) + "</title></rect>\n";
        }
        o += "</svg>\n";
        if (it.has_series) o += sparkline(it.series, t.id);
        o += "</div>\n";
    }
    o += "</div></section>\n";
}

// ---- section: volume and share over time
void grouped_section(std::string& o, const TopicSummary& s, const Interpretation& it);

void time_section(std::string& o, const TopicSummary& s, const Interpretation& it,
                  const ReportOptions& opts) {
    o += "<section id=\"time\"><h2>Topic volume over time</h2>\n";
    if (!it.has_series) {
        if (!it.series_left_out.empty())
            o += "<p>Left out: " + esc(it.series_left_out) + ".</p></section>\n";
        else
            o += "<p>No dates: export with <code>--corpus</code> of a corpus whose posts carry a "
                 "time.</p></section>\n";
        return;
    }
    const auto& ts = it.series;
    const size_t B = ts.start.size();
    const double L = 60, R = 20, T = 14, Bm = 50, PW = 900, PH = 220;
    auto xat = [&](size_t b) { return L + PW * (double(b) + 0.5) / double(B); };
    auto axis_labels = [&](double y0) {
        std::string a;
        const size_t step = std::max<size_t>(1, (B + 11) / 12);
        for (size_t b = 0; b < B; b += step)
            a += "<text x=\"" + fmt("%.1f", xat(b)) + "\" y=\"" + fmt("%.1f", y0 + 16) +
                 "\" text-anchor=\"middle\" class=\"ax\">" + esc(ts.label[b]) + "</text>";
        return a;
    };
    // Posts per bin (bars).
    int64_t pmax = 1;
    for (auto p : ts.posts) pmax = std::max(pmax, p);
    const double W = L + PW + R, H = T + PH + Bm;
    o += "<h3>Posts per " + std::string(time_bin_name(ts.by)) +
         "</h3>\n<svg id=\"volume-chart\" width=\"" + fmt("%.0f", W) + "\" height=\"" +
         fmt("%.0f", H) + "\" viewBox=\"0 0 " + fmt("%.0f", W) + " " + fmt("%.0f", H) +
         "\" role=\"img\"><title>posts per period</title>\n";
    const double bw = std::max(1.0, PW / double(std::max<size_t>(B, 1)) * 0.8);
    for (size_t b = 0; b < B; ++b) {
        const double h = PH * double(ts.posts[b]) / double(pmax);
        o += "<rect x=\"" + fmt("%.1f", xat(b) - bw / 2) + "\" y=\"" + fmt("%.1f", T + PH - h) +
             "\" width=\"" + fmt("%.1f", bw) + "\" height=\"" + fmt("%.1f", h) +
             "\" fill=\"#9ecae1\"><title>" + esc(ts.label[b]) + ": " + std::to_string(ts.posts[b]) +
             " posts</title></rect>";
    }
    o += "<line x1=\"" + fmt("%.0f", L) + "\" y1=\"" + fmt("%.0f", T + PH) + "\" x2=\"" +
         fmt("%.0f", L + PW) + "\" y2=\"" + fmt("%.0f", T + PH) + "\" stroke=\"#333\"/>";
    o += "<text x=\"" + fmt("%.0f", L - 6) + "\" y=\"" + fmt("%.0f", T + 8) +
         "\" text-anchor=\"end\" class=\"ax\">" + std::to_string(pmax) + "</text><text x=\"" +
         fmt("%.0f", L - 6) + "\" y=\"" + fmt("%.0f", T + PH) +
         "\" text-anchor=\"end\" class=\"ax\">0</text>";
    o += axis_labels(T + PH) + "</svg>\n";

    // Share of the largest topics (lines).
    std::vector<int> order(s.topics.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return s.topics[a].size > s.topics[b].size; });
    order.resize(std::min<size_t>(order.size(), size_t(std::max(1, opts.chart_topics))));
    double smax = 1e-9;
    for (int j : order)
        for (size_t b = 0; b < B; ++b) smax = std::max(smax, ts.share(b, j));
    o += "<h3>Share of posts, largest " + std::to_string(order.size()) +
         " topics</h3>\n<svg id=\"share-chart\" width=\"" + fmt("%.0f", W) + "\" height=\"" +
         fmt("%.0f", H) + "\" viewBox=\"0 0 " + fmt("%.0f", W) + " " + fmt("%.0f", H) +
         "\" role=\"img\"><title>share of posts per topic</title>\n";
    for (size_t c = 0; c < order.size(); ++c) {
        const int j = order[c];
        std::string pts;  // bins without posts have no share: the line joins the bins around them
        for (size_t b = 0; b < B; ++b)
            if (ts.posts[b] > 0)
                pts += fmt("%.1f", xat(b)) + "," +
                       fmt("%.1f", T + PH - PH * ts.share(b, j) / smax) + " ";
        o += "<polyline fill=\"none\" stroke=\"" + std::string(colour(int(c))) +
             "\" stroke-width=\"2\" points=\"" + pts + "\"><title>" + esc(s.topics[j].label) +
             "</title></polyline>\n";
    }
    o += "<line x1=\"" + fmt("%.0f", L) + "\" y1=\"" + fmt("%.0f", T + PH) + "\" x2=\"" +
         fmt("%.0f", L + PW) + "\" y2=\"" + fmt("%.0f", T + PH) + "\" stroke=\"#333\"/>";
    o += "<text x=\"" + fmt("%.0f", L - 6) + "\" y=\"" + fmt("%.0f", T + 8) +
         "\" text-anchor=\"end\" class=\"ax\">" + fmt("%.0f%%", 100 * smax) + "</text><text x=\"" +
         fmt("%.0f", L - 6) + "\" y=\"" + fmt("%.0f", T + PH) +
         "\" text-anchor=\"end\" class=\"ax\">0%</text>";
    o += axis_labels(T + PH) + "</svg>\n<ul class=\"legend\">";
    for (size_t c = 0; c < order.size(); ++c)
        o += "<li><span class=\"sw\" style=\"background:" + std::string(colour(int(c))) +
             "\"></span>" + std::to_string(order[c]) + ". " + esc(s.topics[order[c]].label) +
             "</li>";
    o += "</ul>\n";
    if (ts.untimed)
        o += "<p>" + std::to_string(ts.untimed) + " posts carry no date and are not drawn.</p>\n";
    grouped_section(o, s, it);
    o += "</section>\n";

    o += "<section id=\"emerging\"><h2>Emerging topics</h2>\n";
    if (it.emerging.empty()) {
        o += "<p>Too few periods with posts to compare.</p></section>\n";
        return;
    }
    const EmergingWindow& ew = it.emerging_window;
    const auto& labels = it.series.label;
    auto span = [&](size_t a, size_t b) { return a == b ? labels[a] : labels[a] + " to " + labels[b]; };
    o += "<p>Share of posts in the recent window, " + esc(span(ew.recent_first, ew.recent_end - 1)) + " (" +
         std::to_string(ew.recent_posts) + " posts), against the periods just before it, " +
         esc(span(ew.trailing_first, ew.recent_first - 1)) + " (" + std::to_string(ew.trailing_posts) +
         " posts); score = two-proportion z (docs/report.md): above about 3 the growth is unlikely to be "
         "sampling noise.</p>\n";
    if (ew.few_posts)
        o += "<p class=\"note\">The recent window holds only " + std::to_string(ew.recent_posts) +
             " posts: read these scores as weak evidence.</p>\n";
    o += "<table "
         "class=\"list\"><tr><th>topic</th><th>recent share</th>"
         "<th>trailing share</th><th>lift</th><th>score</th></tr>\n";
    for (size_t i = 0; i < std::min<size_t>(10, it.emerging.size()); ++i) {
        const auto& e = it.emerging[i];
        o += "<tr><td>" + std::to_string(e.topic) + ". " + esc(s.topics[e.topic].label) +
             "</td><td>" + fmt("%.2f%%", 100 * e.recent_share) + "</td><td>" +
             fmt("%.2f%%", 100 * e.trailing_share) + "</td><td>" + fmt("%.2f", e.lift) +
             "</td><td>" + fmt("%.1f", e.score) + "</td></tr>\n";
    }
    o += "</table></section>\n";
}

// ---- section: the cleaning funnel (only when the corpus was cleaned and the report given)
void funnel_section(std::string& o, const Interpretation& it) {
    if (it.funnel.empty()) return;
    o += "<section id=\"cleaning\"><h2>Cleaning funnel</h2>\n<p>Posts kept after each cleaning "
         "step (docs/cleaning.md); the removal reasons beside each bar.</p>\n";
    const double L = 150, PW = 560, bh = 22, gap = 8, R = 10;
    const size_t S = it.funnel.size() + 1;
    const double W = L + PW + R, H = S * (bh + gap) + gap;
    const double top = double(std::max<uint64_t>(1, it.funnel.front().rows_in));
    o += "<svg id=\"funnel-chart\" width=\"" + fmt("%.0f", W) + "\" height=\"" + fmt("%.0f", H) +
         "\" viewBox=\"0 0 " + fmt("%.0f", W) + " " + fmt("%.0f", H) +
         "\" role=\"img\"><title>posts kept after each cleaning step</title>\n";
    auto bar = [&](size_t i, const std::string& name, uint64_t v) {
        const double y = gap + double(i) * (bh + gap), w = std::max(1.0, PW * double(v) / top);
        o += "<text x=\"" + fmt("%.0f", L - 6) + "\" y=\"" + fmt("%.1f", y + bh * 0.7) +
             "\" text-anchor=\"end\">" + esc(name) + "</text><rect x=\"" + fmt("%.0f", L) +
             "\" y=\"" + fmt("%.1f", y) + "\" width=\"" + fmt("%.1f", w) + "\" height=\"" +
             fmt("%.0f", bh) + "\" fill=\"#9ecae1\"><title>" + esc(name) + ": " +
             std::to_string(v) + " posts</title></rect><text x=\"" + fmt("%.1f", L + 4) +
             "\" y=\"" + fmt("%.1f", y + bh * 0.7) + "\">" + std::to_string(v) + "</text>";
    };
    bar(0, "ingested", it.funnel.front().rows_in);
    for (size_t i = 0; i < it.funnel.size(); ++i) bar(i + 1, "after " + it.funnel[i].step, it.funnel[i].kept);
    o += "</svg>\n<table class=\"list\"><tr><th>step</th><th>in</th><th>kept</th><th>removed</th>"
         "<th>reasons</th></tr>\n";
    for (const auto& f : it.funnel) {
        std::string reasons;
        for (const auto& r : f.reasons)
            reasons += (reasons.empty() ? "" : ", ") + r.first + " " + std::to_string(r.second);
        o += "<tr><td>" + esc(f.step) + "</td><td>" + std::to_string(f.rows_in) + "</td><td>" +
             std::to_string(f.kept) + "</td><td>" + std::to_string(f.rows_in - f.kept) +
             "</td><td>" + esc(reasons) + "</td></tr>\n";
    }
    o += "</table></section>\n";
}

// ---- the time series per source or language (--split)
void grouped_section(std::string& o, const TopicSummary& s, const Interpretation& it) {
    const auto& g = it.grouped;
    if (g.empty() || !it.has_series) return;
    const auto& ts = it.series;
    const size_t B = ts.start.size();
    const std::string by = series_split_name(g.by);
    o += "<h3 id=\"split\">Posts per " + std::string(time_bin_name(ts.by)) + " by " + by + "</h3>\n";
    const double L = 60, R = 20, T = 14, Bm = 40, PW = 900, PH = 180;
    auto xat = [&](size_t b) { return L + PW * (double(b) + 0.5) / double(B); };
    int64_t mx = 1;
    for (const auto& gs : g.series)
        for (int64_t p : gs.posts) mx = std::max(mx, p);
    const double W = L + PW + R, H = T + PH + Bm;
    o += "<svg id=\"split-chart\" width=\"" + fmt("%.0f", W) + "\" height=\"" + fmt("%.0f", H) +
         "\" viewBox=\"0 0 " + fmt("%.0f", W) + " " + fmt("%.0f", H) + "\" role=\"img\"><title>posts per period by " +
         by + "</title>\n";
    for (size_t i = 0; i < g.names.size(); ++i) {
        std::string pts;
        for (size_t b = 0; b < B; ++b)
            pts += fmt("%.1f", xat(b)) + "," +
                   fmt("%.1f", T + PH - PH * double(g.series[i].posts[b]) / double(mx)) + " ";
        o += "<polyline fill=\"none\" stroke=\"" + std::string(colour(int(i))) +
             "\" stroke-width=\"2\" points=\"" + pts + "\"><title>" + esc(g.names[i]) +
             "</title></polyline>\n";
    }
    o += "<line x1=\"" + fmt("%.0f", L) + "\" y1=\"" + fmt("%.0f", T + PH) + "\" x2=\"" +
         fmt("%.0f", L + PW) + "\" y2=\"" + fmt("%.0f", T + PH) + "\" stroke=\"#333\"/><text x=\"" +
         fmt("%.0f", L - 6) + "\" y=\"" + fmt("%.0f", T + 8) + "\" text-anchor=\"end\" class=\"ax\">" +
         std::to_string(mx) + "</text>";
    const size_t step = std::max<size_t>(1, (B + 11) / 12);
    for (size_t b = 0; b < B; b += step)
        o += "<text x=\"" + fmt("%.1f", xat(b)) + "\" y=\"" + fmt("%.1f", T + PH + 16) +
             "\" text-anchor=\"middle\" class=\"ax\">" + esc(ts.label[b]) + "</text>";
    o += "</svg>\n<table class=\"list\"><tr><th>" + esc(by) +
         "</th><th>posts</th><th>its largest topics (share of its posts)</th></tr>\n";
    for (size_t i = 0; i < g.names.size(); ++i) {
        const TimeSeries& gs = g.series[i];
        std::vector<int64_t> vol(gs.k, 0);
        int64_t dated = 0;
        for (size_t b = 0; b < gs.start.size(); ++b) {
            dated += gs.posts[b];
            for (int j = 0; j < gs.k; ++j) vol[j] += gs.volume_at(b, j);
        }
        std::vector<int> order(gs.k);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return vol[a] > vol[b]; });
        std::string tops;
        for (int r = 0; r < std::min(3, gs.k); ++r)
            if (vol[order[r]] > 0 && dated > 0)
                tops += (tops.empty() ? "" : "; ") + std::to_string(order[r]) + ". " +
                        s.topics[order[r]].label + " (" +
                        fmt("%.0f%%", 100.0 * double(vol[order[r]]) / double(dated)) + ")";
        o += "<tr><td><span class=\"sw\" style=\"background:" + std::string(colour(int(i))) +
             "\"></span>" + esc(g.names[i]) + "</td><td>" + std::to_string(g.total[i]) + "</td><td>" +
             esc(tops) + "</td></tr>\n";
    }
    o += "</table>\n";
}

// ---- section: how k was chosen (only when it was: -k FROM:TO:STEP)
void k_section(std::string& o, const TopicModel& model) {
    const auto& ks = model.k_selection;
    if (ks.empty()) return;
    o += "<section id=\"k-selection\"><h2>Choosing the number of topics</h2>\n<p>" + esc(ks.reason) +
         ".</p>\n";
    // Two lines over k: mean NPMI (left axis) and relative error (right axis).
    const size_t C = ks.candidates.size();
    const double L = 60, R = 60, T = 14, Bm = 40, PW = 700, PH = 200;
    double nlo = 1e300, nhi = -1e300, elo = 1e300, ehi = -1e300;
    for (const auto& c : ks.candidates) {
        nlo = std::min(nlo, c.npmi), nhi = std::max(nhi, c.npmi);
        elo = std::min(elo, c.relative_error), ehi = std::max(ehi, c.relative_error);
    }
    if (nhi - nlo < 1e-9) nhi = nlo + 1e-9;
    if (ehi - elo < 1e-9) ehi = elo + 1e-9;
    auto xat = [&](size_t i) { return L + (C > 1 ? PW * double(i) / double(C - 1) : PW / 2); };
    auto yn = [&](double v) { return T + PH - PH * (v - nlo) / (nhi - nlo); };
    auto ye = [&](double v) { return T + PH - PH * (v - elo) / (ehi - elo); };
    const double W = L + PW + R, H = T + PH + Bm;
    o += "<svg id=\"k-chart\" width=\"" + fmt("%.0f", W) + "\" height=\"" + fmt("%.0f", H) +
         "\" viewBox=\"0 0 " + fmt("%.0f", W) + " " + fmt("%.0f", H) +
         "\" role=\"img\"><title>coherence and relative error per k</title>\n";
    std::string pn, pe;
    for (size_t i = 0; i < C; ++i) {
        const auto& c = ks.candidates[i];
        pn += fmt("%.1f", xat(i)) + "," + fmt("%.1f", yn(c.npmi)) + " ";
        pe += fmt("%.1f", xat(i)) + "," + fmt("%.1f", ye(c.relative_error)) + " ";
        o += "<text x=\"" + fmt("%.1f", xat(i)) + "\" y=\"" + fmt("%.0f", T + PH + 16) +
             "\" text-anchor=\"middle\" class=\"ax\">" + std::to_string(c.k) + "</text>";
        if (c.k == ks.recommended)
            o += "<circle cx=\"" + fmt("%.1f", xat(i)) + "\" cy=\"" + fmt("%.1f", yn(c.npmi)) +
                 "\" r=\"5\" fill=\"#1f77b4\"><title>recommended k=" + std::to_string(c.k) +
                 "</title></circle>";
    }
    o += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"" + pn +
         "\"><title>mean NPMI</title></polyline>\n<polyline fill=\"none\" stroke=\"#ff7f0e\" "
         "stroke-width=\"2\" stroke-dasharray=\"5,3\" points=\"" +
         pe + "\"><title>relative error</title></polyline>\n";
    o += "<text x=\"" + fmt("%.0f", L - 6) + "\" y=\"" + fmt("%.0f", T + 8) +
         "\" text-anchor=\"end\" class=\"ax\">" + fmt("%.3f", nhi) + "</text><text x=\"" +
         fmt("%.0f", L - 6) + "\" y=\"" + fmt("%.0f", T + PH) + "\" text-anchor=\"end\" class=\"ax\">" +
         fmt("%.3f", nlo) + "</text><text x=\"" + fmt("%.0f", L + PW + 6) + "\" y=\"" +
         fmt("%.0f", T + 8) + "\" class=\"ax\">" + fmt("%.4f", ehi) + "</text><text x=\"" +
         fmt("%.0f", L + PW + 6) + "\" y=\"" + fmt("%.0f", T + PH) + "\" class=\"ax\">" +
         fmt("%.4f", elo) + "</text><text x=\"" + fmt("%.0f", L + PW / 2) + "\" y=\"" +
         fmt("%.0f", T + PH + 34) + "\" text-anchor=\"middle\" class=\"ax\">k</text></svg>\n";
    o += "<ul class=\"legend\"><li><span class=\"sw\" style=\"background:#1f77b4\"></span>mean NPMI "
         "(left axis, higher is more coherent)</li><li><span class=\"sw\" "
         "style=\"background:#ff7f0e\"></span>relative error (right axis)</li></ul>\n";
    o += "<table class=\"list\"><tr><th>k</th><th>NPMI</th><th>UMass</th><th>relative error</th>"
         "<th>iterations</th><th>seconds</th></tr>\n";
    for (const auto& c : ks.candidates)
        o += std::string(c.k == ks.recommended ? "<tr class=\"pick\">" : "<tr>") + "<td>" +
             std::to_string(c.k) + (c.k == ks.recommended ? " (recommended)" : "") + "</td><td>" +
             fmt("%.4f", c.npmi) + "</td><td>" + fmt("%.3f", c.umass) + "</td><td>" +
             fmt("%.5f", c.relative_error) + "</td><td>" + std::to_string(c.iterations) + " (" +
             esc(c.stop_reason) + ")</td><td>" + fmt("%.1f", c.seconds) + "</td></tr>\n";
    o += "</table></section>\n";
}

// ---- section: the cluster tree
void clusters(std::string& o, const TopicSummary& s, const Interpretation& it) {
    const auto& c = it.clusters;
    const int k = int(s.topics.size());
    o += "<section id=\"clusters\"><h2>Topic clusters</h2>\n<p>Average-linkage clustering of the "
         "topics by the "
         "cosine distance between their term vectors, cut into " +
         std::to_string(c.groups.size()) + " groups.</p>\n<ol class=\"groups\">";
    std::vector<int> group(k, -1);
    for (const auto& g : c.groups) {
        o += "<li><span class=\"sw\" style=\"background:" + std::string(colour(g.id)) +
             "\"></span><strong>" + esc(g.label) + "</strong> (" + std::to_string(g.size) +
             " posts): ";
        for (size_t i = 0; i < g.topics.size(); ++i) {
            group[g.topics[i]] = g.id;
            o += (i ? ", " : "") + std::to_string(g.topics[i]) + ". " +
                 esc(s.topics[g.topics[i]].label);
        }
        o += "</li>\n";
    }
    o += "</ol>\n";
    if (c.merges.empty()) {
        o += "</section>\n";
        return;
    }
    // Leaves in tree order; each node at (distance, mean y of its children).
    std::vector<std::pair<int, int>> kids(c.merges.size());
    for (size_t i = 0; i < c.merges.size(); ++i) kids[i] = {c.merges[i].a, c.merges[i].b};
    std::vector<int> leaves;
    std::function<void(int)> walk = [&](int node) {
        if (node < k) {
            leaves.push_back(node);
            return;
        }
        walk(kids[node - k].first);
        walk(kids[node - k].second);
    };
    walk(k + int(c.merges.size()) - 1);
    const double rowh = 18, L = 300, PW = 560, T = 10;
    // x from the lowest merge distance (rounded down to 0.1) to the highest: topics of a fine
    // model are nearly orthogonal, and a 0-based axis would squeeze the tree against its root.
    double dmax = 1e-9, dmin = 1e300;
    for (const auto& m : c.merges) {
        dmax = std::max(dmax, m.distance);
        dmin = std::min(dmin, m.distance);
    }
    const double d0 = std::min(std::floor(dmin * 10) / 10, dmax * 0.9);
    std::vector<double> y(2 * k), x(2 * k, L);
    for (size_t i = 0; i < leaves.size(); ++i) y[leaves[i]] = T + rowh * (double(i) + 0.5);
    const double H = T * 2 + rowh * k + 14, W = L + PW + 40;
    o += "<svg id=\"cluster-tree\" width=\"" + fmt("%.0f", W) + "\" height=\"" + fmt("%.0f", H) +
         "\" viewBox=\"0 0 " + fmt("%.0f", W) + " " + fmt("%.0f", H) +
         "\" role=\"img\"><title>topic cluster tree</title>\n";
    for (int leaf : leaves)
        o += "<text x=\"" + fmt("%.0f", L - 6) + "\" y=\"" + fmt("%.1f", y[leaf] + 4) +
             "\" text-anchor=\"end\" fill=\"" + colour(group[leaf]) + "\">" + std::to_string(leaf) +
             ". " + esc(s.topics[leaf].label) + "</text>\n";
    for (size_t i = 0; i < c.merges.size(); ++i) {
        const int a = c.merges[i].a, b = c.merges[i].b, nd = k + int(i);
        x[nd] = L + PW * (c.merges[i].distance - d0) / (dmax - d0);
        y[nd] = (y[a] + y[b]) / 2;
        o += "<path fill=\"none\" stroke=\"#555\" d=\"M" + fmt("%.1f", x[a]) + " " +
             fmt("%.1f", y[a]) + "H" + fmt("%.1f", x[nd]) + "V" + fmt("%.1f", y[b]) + "H" +
             fmt("%.1f", x[b]) + "\"><title>distance " + fmt("%.3f", c.merges[i].distance) +
             "</title></path>\n";
    }
    o += "<text x=\"" + fmt("%.0f", L) + "\" y=\"" + fmt("%.0f", H - 1) + "\" class=\"ax\">" +
         fmt("%.2f", d0) + "</text><text x=\"" + fmt("%.0f", L + PW) + "\" y=\"" +
         fmt("%.0f", H - 1) + "\" class=\"ax\" text-anchor=\"end\">" + fmt("%.2f", dmax) +
         " (cosine distance)</text></svg>\n</section>\n";
}

// ---- section: audiences
void audiences_section(std::string& o, const Interpretation& it) {
    const auto& au = it.audiences;
    o += "<section id=\"audiences\"><h2>Audiences</h2>\n";
    if (au.authors.empty()) {
        o += "<p>No authors: ingest with <code>--author-field</code> and export with "
             "<code>--corpus</code>.</p></section>\n";
        return;
    }
    o += "<p>" + std::to_string(au.authors.size()) +
         " authors with enough posts, grouped by their mean topic mixture (k-means).</p>\n<table "
         "class=\"list\">"
         "<tr><th>segment</th><th>authors</th><th>posts</th><th>main topics</th><th>largest "
         "authors</th></tr>\n";
    for (const auto& g : au.segments) {
        std::string names;
        for (size_t i = 0; i < g.top_authors.size(); ++i)
            names += (i ? ", " : "") + esc(g.top_authors[i]);
        o += "<tr><td>" + std::to_string(g.id) + "</td><td>" + std::to_string(g.authors) +
             "</td><td>" + std::to_string(g.posts) + "</td><td>" + esc(g.label) + "</td><td>" +
             names + "</td></tr>\n";
    }
    o += "</table></section>\n";
}

// ---- section: representative posts
void posts(std::string& o, const TopicSummary& s, const Interpretation& it) {
    o += "<section id=\"posts\"><h2>Representative posts</h2>\n";
    if (it.posts.empty()) {
        o += "<p>No corpus given: export with <code>--corpus</code> to see posts.</p></section>\n";
        return;
    }
    o += "<p>Posts whose dominant topic it is, by topic weight; near-duplicates removed.</p>\n";
    for (const auto& t : s.topics) {
        o += "<h3>" + std::to_string(t.id) + ". " + esc(t.label) + "</h3>\n";
        if (it.posts[t.id].empty()) o += "<p>No post.</p>\n";
        for (const auto& p : it.posts[t.id]) {
            o += "<div class=\"post\"><p class=\"meta\">" + esc(date_of(p.time));
            if (!p.author.empty()) o += " &middot; " + esc(p.author);
            if (!p.source.empty()) o += " &middot; " + esc(p.source);
            if (!p.id.empty()) o += " &middot; id " + esc(p.id);
            o += " &middot; weight " + fmt("%.3f", p.weight) + "</p><blockquote>" + esc(p.text) +
                 "</blockquote></div>\n";
        }
    }
    o += "</section>\n";
}

const char* kStyle = R"(
body{font:14px/1.4 "DejaVu Sans",Arial,sans-serif;margin:0 auto;max-width:1200px;padding:12px 24px;color:#222}
h1{font-size:24px;margin:8px 0}h2{font-size:19px;border-bottom:2px solid #ccc;padding-bottom:3px;margin-top:28px}
h3{font-size:15px;margin:10px 0 4px}nav a{margin-right:14px}
table.kv{border-collapse:collapse;margin:0 24px 12px 0}table.kv th,table.kv td{text-align:left;padding:2px 10px 2px 0;vertical-align:top}
table.kv caption{text-align:left;font-weight:bold;padding-bottom:4px}.cols{display:flex;flex-wrap:wrap}
table.list{border-collapse:collapse}tr.pick td{font-weight:bold}table.list td,table.list th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}
.grid{display:flex;flex-wrap:wrap}.topic{width:340px;margin:0 12px 14px 0;border:1px solid #ddd;border-radius:4px;padding:6px 8px}
.meta{color:#666;font-size:12px;margin:2px 0}.note{color:#8a4b00}svg text{font-size:11px;fill:#222}svg text.ax{fill:#555;font-size:10px}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap}.legend li{margin-right:16px}
.sw{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:middle}
ol.groups{padding-left:20px}.post blockquote{margin:2px 0 10px 0;padding:4px 10px;border-left:3px solid #9ecae1;white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f9fb}
)";

}  // namespace

std::string html_report(const TopicModel& model, const TopicSummary& summary,
                        const Interpretation& it, const ReportOptions& opts) {
    std::string o;
    o.reserve(1 << 20);
    o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         esc(opts.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" +
         esc(opts.title) + "</h1>\n<p class=\"meta\">" + std::to_string(model.nmf.k) +
         " topics over " + std::to_string(model.corpus.documents) +
         " posts &middot; made by tmine</p>\n<nav><a href=\"#settings\">Settings</a><a "
         "href=\"#topics\">Topics</a>"
         "<a href=\"#time\">Over time</a><a href=\"#emerging\">Emerging</a><a "
         "href=\"#clusters\">Clusters</a>"
         "<a href=\"#audiences\">Audiences</a>"
         "<a href=\"#posts\">Posts</a>" +
         std::string(it.funnel.empty() ? "" : "<a href=\"#cleaning\">Cleaning</a>") +
         std::string(model.k_selection.empty() ? "" : "<a href=\"#k-selection\">Choosing k</a>") +
         "</nav>\n";
    settings(o, model, it);
    funnel_section(o, it);
    k_section(o, model);
    topics(o, summary, it, opts);
    time_section(o, summary, it, opts);
    if (!it.has_series)
        o += "<section id=\"emerging\"><h2>Emerging topics</h2><p>No dates.</p></section>\n";
    clusters(o, summary, it);
    audiences_section(o, it);
    posts(o, summary, it);
    o += "</body>\n</html>\n";
    return o;
}

}  // namespace tmine
