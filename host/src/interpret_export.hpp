#pragma once
// The interpretation sections of topics.json (schema v2), written by export.cpp's
// topics_json through these helpers (host/src/interpret_export.cpp). Private to host/src.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "tmine/interpret.hpp"

namespace tmine::detail {

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

/// Inside a topic object: "coherence", "group", "representative_posts" (what was computed).
void write_topic_interpretation(JsonWriter& w, const Interpretation& it, int topic);
/// Top-level sections: "coherence", "clusters", "topics_over_time", "emerging".
void write_interpretation_sections(JsonWriter& w, const Interpretation& it);

}  // namespace tmine::detail
