// Label files (CSV or JSON Lines `id,label`), resolved against the corpus ids, with errors
// that name the file and line.
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "tmine/io.hpp"
#include "tmine/classify.hpp"
#include "tmine/error.hpp"

namespace tmine {
namespace {

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}
std::string lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

struct RawLabel {
    std::string id, label;
    int64_t line;
    const std::string* path = nullptr;
    bool weak = false;  ///< from LabelReadOptions::weak_paths
};

using CsvRecords = std::vector<std::pair<int64_t, std::vector<std::string>>>;

/// RFC 4180 records with the line each starts on, fields split at `delim`; at most
/// `max_records` of them. Records whose fields are all blank (a spreadsheet's empty rows,
/// ",,,") are left out.
void parse_csv(const std::string& path, const std::string& s, char delim, CsvRecords& records,
               size_t max_records = SIZE_MAX) {
    size_t i = 0;
    int64_t line = 1;
    i = bom_length(s);
    while (i < s.size() && records.size() < max_records) {
        std::vector<std::string> fields;
        int64_t start = line;
        std::string f;
        for (;;) {
            size_t quoted = 0;  // bytes of f from a quoted part: a CR there is data
            if (i < s.size() && s[i] == '"') {
                size_t open = line;
                ++i;
                for (;;) {
                    if (i >= s.size())
                        throw InputError(path + ":" + std::to_string(open) +
                                         ": unterminated quoted field");
                    if (s[i] == '"') {
                        if (i + 1 < s.size() && s[i + 1] == '"') {
                            f += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        break;
                    }
                    if (s[i] == '\n') ++line;
                    f += s[i++];
                }
                quoted = f.size();
            }
            while (i < s.size() && s[i] != delim && s[i] != '\n') {
                f += s[i++];
            }
            if (f.size() > quoted && f.back() == '\r') f.pop_back();  // a CRLF line end
            fields.push_back(std::move(f));
            f.clear();
            if (i < s.size() && s[i] == delim) {
                ++i;
                continue;
            }
            if (i < s.size()) ++i, ++line;  // '\n'
            break;
        }
        if (!std::all_of(fields.begin(), fields.end(),
                                   [](const std::string& v) { return trim(v).empty(); }))
            records.emplace_back(start, std::move(fields));
    }
}

void read_csv_labels(const std::string& path, const std::string& content,
                     std::vector<RawLabel>& out) {
    // The delimiter is the one of , ; and tab that makes the header name both columns: a
    // spreadsheet saves "CSV" with ';' where ',' is the decimal mark (French, German), and
    // tab-separated text.
    int id_col = -1, label_col = -1;
    char delim = 0;
    CsvRecords recs;
    int64_t header_line = 0;
    for (char d : {',', ';', '\t'}) {
        recs.clear();
        parse_csv(path, content, d, recs, 1);
        if (recs.empty()) throw InputError(path + ": the label file is empty");
        if (!header_line) header_line = recs[0].first;
        const auto& header = recs[0].second;
        id_col = label_col = -1;
        for (size_t c = 0; c < header.size(); ++c) {
            std::string h = lower(trim(header[c]));
            if (h == "id" && id_col < 0) id_col = int(c);
            if (h == "label" && label_col < 0) label_col = int(c);
        }
        if (id_col >= 0 && label_col >= 0) {
            delim = d;
            break;
        }
    }
    if (!delim)
        throw InputError(path + ":" + std::to_string(header_line) +
                         ": the header must name an 'id' and a 'label' column (separated by , ; or tab)");
    recs.clear();
    parse_csv(path, content, delim, recs);
    const auto& header = recs[0].second;
    for (size_t r = 1; r < recs.size(); ++r) {
        const auto& f = recs[r].second;
        size_t need = size_t(std::max(id_col, label_col)) + 1;
        if (f.size() < need)
            throw InputError(path + ":" + std::to_string(recs[r].first) + ": the row has " +
                             std::to_string(f.size()) + " fields, the header has " +
                             std::to_string(header.size()));
        // the id as written (PostIds::resolve() tries it without white space around it only
        // when no post has it as it is), the label without white space around it
        out.push_back({f[id_col], trim(f[label_col]), recs[r].first, &path});
    }
}

std::string json_scalar(const rapidjson::Value& v, bool& ok, bool trimmed = true) {
    ok = true;
    if (v.IsString()) {
        const std::string_view s(v.GetString(), v.GetStringLength());
        return trimmed ? trim(s) : std::string(s);
    }
    if (v.IsBool()) return v.GetBool() ? "true" : "false";
    if (v.IsNull()) return "";
    ok = false;
    return "";
}

void read_jsonl_labels(const std::string& path, const std::string& content,
                       std::vector<RawLabel>& out) {
    size_t i = 0;
    int64_t line = 0;
    i = bom_length(content);
    while (i < content.size()) {
        size_t e = content.find('\n', i);
        if (e == std::string::npos) e = content.size();
        ++line;
        std::string l = trim(std::string_view(content).substr(i, e - i));
        i = e + 1;
        if (l.empty()) continue;
        rapidjson::Document d;
        // iterative: no recursion, so deep nesting cannot exhaust the stack
        d.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseIterativeFlag>(l.c_str(), l.size());
        const std::string where = path + ":" + std::to_string(line);
        if (d.HasParseError() || !d.IsObject())
            throw InputError(where + ": not a JSON object");
        auto id = d.FindMember("id");
        auto lab = d.FindMember("label");
        if (id == d.MemberEnd()) throw InputError(where + ": no \"id\" field");
        if (lab == d.MemberEnd()) throw InputError(where + ": no \"label\" field");
        bool ok1, ok2;
        RawLabel r{json_scalar(id->value, ok1, false), json_scalar(lab->value, ok2), line, &path};
        if (!ok1) throw InputError(where + ": \"id\" must be a string or a number");
        if (!ok2) throw InputError(where + ": \"label\" must be a string, number or boolean");
        out.push_back(std::move(r));
    }
}

/// "1.23457E+18", "1,23457E+18": how a spreadsheet shows and saves a long number it rounded.
bool rounded_by_spreadsheet(std::string_view id) {
    size_t i = 0;
    auto digits = [&] {
        const size_t b = i;
        while (i < id.size() && id[i] >= '0' && id[i] <= '9') ++i;
        return i > b;
    };
    if (!digits()) return false;
    if (i < id.size() && (id[i] == '.' || id[i] == ',')) {
        ++i;
        if (!digits()) return false;
    }
    if (i >= id.size() || (id[i] != 'E' && id[i] != 'e')) return false;
    ++i;
    if (i < id.size() && id[i] == '+') ++i;
    return digits() && i == id.size();
}

bool ends_with(const std::string& path, const char* suffix) {
    const std::string p = lower(path), s = suffix;
    return p.size() >= s.size() && p.compare(p.size() - s.size(), s.size(), s) == 0;
}

bool looks_jsonl(const std::string& path, const std::string& content) {
    if (labels_named_jsonl(path)) return true;
    if (ends_with(path, ".csv")) return false;
    for (char c : content)
        if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
    return false;
}

}  // namespace

bool labels_named_jsonl(const std::string& path) {
    return ends_with(path, ".jsonl") || ends_with(path, ".ndjson") || ends_with(path, ".json");
}

LabelSet read_labels(const std::vector<std::string>& paths, const Corpus* corpus,
                     int64_t n_rows, const LabelReadOptions& opts) {
    if (paths.empty() && opts.weak_paths.empty()) throw InputError("no label file given");
    std::vector<RawLabel> raw;
    size_t first_weak = 0;  // raw[first_weak..] came from the weak files
    for (const auto* list : {&paths, &opts.weak_paths}) {
        if (list == &opts.weak_paths) first_weak = raw.size();
        for (const std::string& path : *list) {
            std::ifstream in = open_input(path, path + ": cannot open the label file");
            std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            if (starts_utf16(content)) throw InputError(path + ": " + std::string(kUtf16Advice));
            if (looks_jsonl(path, content))
                read_jsonl_labels(path, content, raw);
            else
                read_csv_labels(path, content, raw);
        }
    }
    for (size_t q = first_weak; q < raw.size(); ++q) raw[q].weak = true;
    const size_t files = paths.size() + opts.weak_paths.size();
    const std::string path = files > 1 ? std::string("the label files")
                             : paths.empty() ? opts.weak_paths[0] : paths[0];
    std::unordered_set<int64_t> overridden_rows;

    // ids: the corpus's own ids when it has any, else 0-based row numbers
    const PostIds ids(corpus, n_rows);
    const bool use_ids = ids.by_ids();
    std::unordered_map<int64_t, size_t> seen;  // row -> index into raw
    std::vector<size_t> kept;
    std::vector<int64_t> rows;
    for (size_t q = 0; q < raw.size(); ++q) {
        const RawLabel& r = raw[q];
        const std::string where = *r.path + ":" + std::to_string(r.line);
        // a label becomes a class name in classifier.json, an id is matched to the corpus's
        auto check_utf8 = [&](const std::string& value, const char* field) {
            const size_t bad = utf8_error_at(value);
            if (bad != std::string::npos)
                throw InputError(where + ": invalid UTF-8 in the " + field + " (byte " +
                                 std::to_string(bad + 1) +
                                 " of the value; a spreadsheet that saved the file in its local "
                                 "encoding does this: save it as \"CSV UTF-8\")");
        };
        check_utf8(r.id, "id");
        check_utf8(r.label, "label");
        if (trim(r.id).empty()) throw InputError(where + ": empty id");
        if (r.label.empty()) {
            if (opts.allow_empty) continue;
            throw InputError(where + ": empty label for id '" + r.id +
                             "' (fill it in or delete the row; --allow-empty skips such rows)");
        }
        // A spreadsheet keeps an id such as 007 or a 19-digit post id as text only behind an
        // apostrophe (pick writes one there): without its match, the id behind it.
        int64_t row = -1;
        if (use_ids) {
            const PostIds::Match match = ids.find(ids.resolve(r.id));
            if (match.rows == 0)
                throw InputError(where + ": unknown id '" + r.id + "' (not an id of the corpus" +
                                 (rounded_by_spreadsheet(trim(r.id))
                                      ? "; a spreadsheet rounded it as a number: open the pick file "
                                        "again with the id column imported as text, or fill in the "
                                        "label column in a text editor)"
                                      : ")"));
            if (match.rows > 1)
                throw InputError(where + ": id '" + r.id + "' is the id of " + std::to_string(match.rows) +
                                 " corpus rows, so it cannot say which post is labelled (ingest with an "
                                 "--id-field that names one post each)");
            row = match.row;
        } else {
            const std::string trimmed = trim(r.id);
            std::string_view id = trimmed;
            if (id.size() > 1 && id[0] == '\'') id.remove_prefix(1);
            char* end = nullptr;
            const std::string digits(id);
            long long v = std::strtoll(digits.c_str(), &end, 10);
            if (*end != '\0' || v < 0 || v >= n_rows)
                throw InputError(where + ": unknown id '" + r.id + "' (" +
                                 (corpus ? "the corpus has no ids, so ids are row numbers 0.."
                                         : "without --corpus, ids are row numbers 0..") +
                                 std::to_string(n_rows - 1) + ")");
            row = v;
        }
        auto [it, fresh] = seen.emplace(row, q);
        if (!fresh) {
            const RawLabel& first = raw[it->second];
            if (r.weak && !first.weak) {  // a person's label stands over the query's
                if (first.label != r.label) overridden_rows.insert(row);  // once, however many weak files
                continue;
            }
            if (first.label != r.label)
                throw InputError(where + ": id '" + r.id + "' is labelled '" + r.label +
                                 "' here but '" + first.label + "' at " +
                                 (first.path == r.path ? "line " : *first.path + ":") +
                                 std::to_string(first.line));
            continue;  // same label twice: counted once
        }
        kept.push_back(q);
        rows.push_back(row);
    }
    LabelSet ls;
    for (size_t q : kept) ls.classes.push_back(raw[q].label);
    std::sort(ls.classes.begin(), ls.classes.end());
    ls.classes.erase(std::unique(ls.classes.begin(), ls.classes.end()), ls.classes.end());
    if (kept.empty() && opts.for_training) throw InputError(path + ": no labelled rows");
    if (ls.classes.size() < 2 && opts.for_training)
        throw InputError(path + ": every labelled row has the label '" + ls.classes[0] +
                         "'; a classifier needs at least two classes");
    ls.rows = rows;
    ls.weak_overridden = int64_t(overridden_rows.size());
    for (size_t q : kept) ls.weak_rows += raw[q].weak;
    for (size_t q : kept) {
        ls.y.push_back(static_cast<int32_t>(
            std::lower_bound(ls.classes.begin(), ls.classes.end(), raw[q].label) -
            ls.classes.begin()));
        ls.lines.push_back(raw[q].line);
    }
    return ls;
}

int choose_positive(const std::vector<std::string>& classes, const std::string& wanted) {
    if (!wanted.empty()) {
        auto it = std::find(classes.begin(), classes.end(), wanted);
        if (it == classes.end()) {
            std::string all;
            for (const auto& c : classes) all += (all.empty() ? "" : ", ") + c;
            throw InputError("--positive: '" + wanted + "' is not a class (classes: " + all + ")");
        }
        return static_cast<int>(it - classes.begin());
    }
    if (classes.size() != 2) return -1;
    static const std::pair<const char*, const char*> kPairs[] = {
        {"0", "1"}, {"false", "true"}, {"no", "yes"}, {"irrelevant", "relevant"}, {"n", "y"}};
    std::string a = lower(classes[0]), b = lower(classes[1]);
    for (auto [neg, pos] : kPairs) {
        if (a == neg && b == pos) return 1;
        if (a == pos && b == neg) return 0;
    }
    return 1;
}

}  // namespace tmine
