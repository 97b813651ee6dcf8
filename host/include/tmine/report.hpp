#pragma once
/// The HTML report a planner opens in a browser: one self-contained file (inline CSS and SVG,
/// no script, nothing fetched from the network) with the model's settings and corpus counts,
/// top-term bars per topic, topic volume and share over time, emerging topics, the topic
/// cluster tree and representative posts. Layout and sections: docs/report.md.
#include <string>
#include <string_view>

#include "tmine/interpret.hpp"
#include "tmine/topics.hpp"

namespace tmine {

struct ReportOptions {
    std::string title = "Topics";
    int bar_terms = 10;    ///< terms drawn as bars per topic
    int chart_topics = 8;  ///< largest topics drawn in the share-over-time chart
};

/// The whole page. Every text that comes from the data (terms, labels, posts, authors,
/// sources, paths) is HTML-escaped.
std::string html_report(const TopicModel& model, const TopicSummary& summary,
                        const Interpretation& it, const ReportOptions& opts = {});

/// &, <, >, " and ' as character references; control characters other than white space
/// (which HTML does not allow in its text) as U+FFFD.
std::string html_escape(std::string_view s);

}  // namespace tmine
