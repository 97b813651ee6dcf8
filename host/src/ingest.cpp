// Stage 1, ingest: JSON Lines / JSON arrays / CSV, plain or gzip, streamed into a Corpus.
//
// Every input goes through GzInput (zlib's inflate for gzip, plain files as they are). JSON is parsed with
// RapidJSON's SAX Reader (never a DOM): JSON Lines one line at a time, a JSON array as one
// stream whose element objects are the records. CSV is a small RFC 4180 state machine.
// A bad record is counted and located (file:line: reason) and the run goes on.
#include "tmine/io.hpp"
#include "tmine/ingest.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <unordered_map>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tmine/error.hpp"

namespace tmine {
namespace {

// ---------------------------------------------------------------------------------------------
// UTF-8

/// Byte offset of the first invalid UTF-8 sequence in `s`, or npos when `s` is valid
/// (no overlong forms, no surrogates, nothing above U+10FFFF).
size_t invalid_utf8_at(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        // ASCII fast path, 8 bytes at a time.
        while (i + 8 <= n) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i == n) break;
        const unsigned c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;  // overlong
            if (c == 0xED) hi = 0x9F;  // surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;  // overlong
            if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
        } else {
            return i;
        }
        if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
        for (size_t k = 2; k < len; ++k)
            if ((p[i + k] & 0xC0) != 0x80) return i;
        i += len;
    }
    return std::string_view::npos;
}

/// Byte offset of the first UTF-16 surrogate (U+D800..DFFF, bytes ED A0..BF ..) in `s`, or
/// npos. RapidJSON validates a JSON text's bytes and refuses an unpaired high-surrogate escape,
/// but writes an unpaired low one (\udc00) into the string as such a sequence, not UTF-8.
size_t surrogate_at(std::string_view s) {
    for (size_t i = 0; (i = s.find('\xED', i)) != std::string_view::npos; ++i)
        if (i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0xA0) return i;
    return std::string_view::npos;
}

/// A value quoted inside a reason: at most 40 bytes (cut on a character boundary),
/// control characters shown as '?'.
std::string shown(std::string_view v) {
    constexpr size_t kMax = 40;
    std::string out;
    size_t n = v.size();
    if (n > kMax) {
        n = kMax;
        while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
    }
    for (size_t i = 0; i < n; ++i) out += static_cast<unsigned char>(v[i]) < 0x20 ? '?' : v[i];
    if (n < v.size()) out += "...";
    return out;
}

// ---------------------------------------------------------------------------------------------
// Input: a buffered gzread stream with line and byte access.

class GzInput {
  public:
    explicit GzInput(const std::string& path) : path_(path) {
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec))
            throw IoError("cannot read " + path + ": is a directory");
        f_ = std::fopen(path.c_str(), "rb");
        if (!f_) throw IoError("cannot open " + path + ": " + std::strerror(errno));
        note_input(path);
        in_.resize(kInChunk);
        // gzip (one member or several) when the file starts with gzip's magic bytes, plain text
        // otherwise, whatever its name.
        fill_input();
        gzip_ = in_end_ >= 2 && static_cast<unsigned char>(in_[0]) == 0x1f &&
                static_cast<unsigned char>(in_[1]) == 0x8b;
        if (gzip_ && inflateInit2(&z_, 15 + 16) != Z_OK) throw std::bad_alloc();
        buf_.resize(kChunk + 1);
        // A UTF-8 byte order mark is not part of the first record.
        while (end_ < 3 && !eof_) read_more();
        pos_ = scan_ = bom_length(std::string_view(buf_.data(), end_));
    }
    ~GzInput() {
        if (gzip_) inflateEnd(&z_);
        if (f_) std::fclose(f_);
    }
    GzInput(const GzInput&) = delete;
    GzInput& operator=(const GzInput&) = delete;

    /// Next line, '\n' (and a '\r' before it) removed, NUL-terminated in place. `complete` is
    /// false for a last line that ended without '\n'. The pointer is valid until the next call.
    bool next_line(char*& line, size_t& len, bool& complete) {
        for (;;) {
            if (scan_ < end_) {
                void* nl = std::memchr(buf_.data() + scan_, '\n', end_ - scan_);
                if (nl) {
                    char* e = static_cast<char*>(nl);
                    line = buf_.data() + pos_;
                    len = e - line;
                    *e = '\0';
                    pos_ = scan_ = e - buf_.data() + 1;
                    complete = true;
                    strip_cr(line, len);
                    return true;
                }
                scan_ = end_;
            }
            if (eof_) {
                if (pos_ == end_) return false;
                line = buf_.data() + pos_;
                len = end_ - pos_;
                buf_[end_] = '\0';
                pos_ = scan_ = end_;
                complete = false;
                strip_cr(line, len);
                return true;
            }
            read_more();
        }
    }

    /// Byte access: -1 at the end of the data.
    int peek() {
        if (pos_ == end_ && !refill()) return -1;
        return static_cast<unsigned char>(buf_[pos_]);
    }
    int get() {
        if (pos_ == end_ && !refill()) return -1;
        return static_cast<unsigned char>(buf_[pos_++]);
    }

    /// The first byte that is not blank (space, tab, CR, LF), without consuming; -1 if none.
    int first_nonblank() {
        for (size_t k = 0;; ++k) {  // relative to pos_: read_more() moves the data
            while (pos_ + k == end_) {
                if (eof_) return -1;
                read_more();
            }
            const char c = buf_[pos_ + k];
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
                return static_cast<unsigned char>(c);
        }
    }

    /// Non-empty when the data ended early: a truncated or corrupt gzip stream.
    const std::string& error() const { return error_; }
    uint64_t bytes() const { return bytes_; }

  private:
    static constexpr size_t kChunk = 4 << 20;

    static void strip_cr(char* line, size_t& len) {
        if (len && line[len - 1] == '\r') line[--len] = '\0';
    }

    bool refill() {
        pos_ = scan_ = end_ = 0;
        while (end_ == 0 && !eof_) read_more();
        return end_ > 0;
    }

    /// Appends decompressed bytes after end_, keeping [pos_, end_); grows for long lines.
    void read_more() {
        if (pos_ > 0) {
            std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
            end_ -= pos_;
            scan_ -= pos_;
            pos_ = 0;
        }
        if (buf_.size() - 1 - end_ < kChunk / 2)
            buf_.resize(std::max(buf_.size() * 2, end_ + kChunk + 1));
        const size_t want = std::min<size_t>(buf_.size() - 1 - end_, 1u << 30);
        const size_t got = gzip_ ? inflate_into(buf_.data() + end_, want) : read_plain(buf_.data() + end_, want);
        end_ += got;
        bytes_ += got;
        if (got == 0) eof_ = true;
    }

    /// At least `need` unread compressed (or plain) bytes in in_ [in_pos_, in_end_), unless the
    /// file ends first: the unread tail moves to the front and the file fills the rest.
    void fill_input(size_t need = 1) {
        if (in_end_ - in_pos_ >= need || file_done_) return;
        const size_t tail = in_end_ - in_pos_;
        std::memmove(in_.data(), in_.data() + in_pos_, tail);
        in_pos_ = 0;
        in_end_ = tail + std::fread(in_.data() + tail, 1, in_.size() - tail, f_);
        if (in_end_ < in_.size()) {
            if (std::ferror(f_)) throw IoError("cannot read " + path_ + ": " + std::strerror(errno));
            file_done_ = true;
        }
    }

    size_t read_plain(char* out, size_t want) {
        size_t got = 0;
        while (got < want) {
            fill_input();
            if (in_pos_ == in_end_) break;
            const size_t n = std::min(want - got, in_end_ - in_pos_);
            std::memcpy(out + got, in_.data() + in_pos_, n);
            in_pos_ += n;
            got += n;
        }
        return got;
    }

    /// Inflates up to `want` bytes into `out`. Every byte decoded before a damaged spot is
    /// returned (zlib's gzread drops a whole read's worth on an error, a bad trailer checksum
    /// included); the damage itself ends the data and sets error_.
    size_t inflate_into(char* out, size_t want) {
        z_.next_out = reinterpret_cast<Bytef*>(out);
        z_.avail_out = static_cast<uInt>(want);
        while (z_.avail_out > 0 && !z_done_) {
            fill_input();
            if (in_pos_ == in_end_) {  // no more compressed bytes inside a member
                error_ = "truncated gzip file (the compressed stream ends early)";
                z_done_ = true;
                break;
            }
            z_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
            z_.avail_in = static_cast<uInt>(in_end_ - in_pos_);
            const int rc = inflate(&z_, Z_NO_FLUSH);
            in_pos_ = in_end_ - z_.avail_in;
            if (rc == Z_STREAM_END) {
                // Another member follows (concatenated gzip files), or the data ends: bytes
                // after the last member that are not a gzip header are ignored, as gzip does.
                fill_input(2);  // the next header's magic, even across the buffer's end
                const bool more = in_end_ - in_pos_ >= 2 && static_cast<unsigned char>(in_[in_pos_]) == 0x1f &&
                                  static_cast<unsigned char>(in_[in_pos_ + 1]) == 0x8b;
                if (!more || inflateReset(&z_) != Z_OK) z_done_ = true;
            } else if (rc == Z_MEM_ERROR) {
                throw std::bad_alloc();
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                error_ = std::string("corrupt gzip data (") + (z_.msg ? z_.msg : "unknown error") + ")";
                z_done_ = true;
            }
        }
        return want - z_.avail_out;
    }

    static constexpr size_t kInChunk = 1 << 20;
    std::string path_;
    std::FILE* f_ = nullptr;
    z_stream z_{};
    bool gzip_ = false, z_done_ = false, file_done_ = false;
    std::vector<char> in_;  // compressed (or plain) bytes [in_pos_, in_end_)
    size_t in_pos_ = 0, in_end_ = 0;
    std::vector<char> buf_;  // one spare byte after end_ for a terminating NUL
    size_t pos_ = 0, end_ = 0, scan_ = 0;
    bool eof_ = false;
    uint64_t bytes_ = 0;
    std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Records: the mapped fields of one record and what becomes of it.

enum Field { kText, kTime, kId, kAuthor, kSource, kFields };
const char* const kFieldRole[kFields] = {"text", "time", "id", "author", "source"};

enum class Kind { Missing, Null, Bool, Number, String, Object, Array };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::Missing:
            return "missing";
        case Kind::Null:
            return "null";
        case Kind::Bool:
            return "a boolean";
        case Kind::Number:
            return "a number";
        case Kind::String:
            return "a string";
        case Kind::Object:
            return "an object";
        case Kind::Array:
            return "an array";
    }
    return "?";
}

struct Value {
    Kind kind = Kind::Missing;
    std::string text;
};

struct Fields {
    Value v[kFields];
    void reset() {
        for (Value& x : v) {
            x.kind = Kind::Missing;
            x.text.clear();
        }
    }
};

/// Turns records into corpus rows or skip reports; owns the counting and the progress lines.
class Sink {
  public:
    Sink(const IngestOptions& opts, Corpus& out, IngestReport& rep)
        : opts_(opts), out_(out), rep_(rep) {
        names_[kText] = &opts.text_field;
        names_[kTime] = &opts.time_field;
        names_[kId] = &opts.id_field;
        names_[kAuthor] = &opts.author_field;
        names_[kSource] = &opts.source_field;
    }

    void start_file(const std::string& file, uint32_t source, const GzInput* in) {
        file_ = &file;
        source_ = source;
        in_ = in;
        file_records_ = 0;
    }

    const std::string& name(Field f) const { return *names_[f]; }

    /// A warning for each mapped optional field that no record held (a misspelt name: JSON
    /// records may lack any field, so a typo would otherwise pass unseen).
    void warn_absent_fields() const {
        if (present_[kText] == 0) return;  // no record with a text: the skips say why
        for (Field k : {kTime, kId, kAuthor, kSource})
            if (!name(k).empty() && present_[k] == 0)
                rep_.warnings.push_back("--" + std::string(kFieldRole[k]) + "-field '" + name(k) +
                                        "' is in none of the " + std::to_string(present_[kText]) +
                                        " records read (field names are matched exactly)");
    }

    void skip(uint64_t line, std::string reason) {
        ++rep_.skipped;
        // what ends a file early is always listed, not only within the first examples
        const bool file_level = reason.find("(rest of file not read") != std::string::npos;
        if (rep_.examples.size() < opts_.max_examples || file_level)
            rep_.examples.push_back({*file_, line, std::move(reason)});
        counted();
    }

    /// `check_utf8`: the values were not validated by a parser (CSV); else (JSON) they are
    /// checked for the surrogates the parser lets through.
    void record(const Fields& f, uint64_t line, bool check_utf8) {
        for (int i = 0; i < kFields; ++i) present_[i] += f.v[i].kind != Kind::Missing;
        for (int i = 0; i < kFields; ++i) {
            if (f.v[i].kind != Kind::String) continue;
            const size_t at = check_utf8 ? invalid_utf8_at(f.v[i].text) : surrogate_at(f.v[i].text);
            if (at != std::string_view::npos)
                return skip(line, "invalid UTF-8 in field '" + name(Field(i)) + "' (byte " +
                                      std::to_string(at + 1) + " of the value" +
                                      (check_utf8 ? ")" : ": a UTF-16 surrogate, as an unpaired \\udc00 escape gives)"));
        }
        const Value& text = f.v[kText];
        if (text.kind == Kind::Missing)
            return skip(line, "missing text field '" + name(kText) + "'");
        if (text.kind != Kind::String)
            return skip(line, "text field '" + name(kText) + "' is " + kind_name(text.kind) +
                                  ", not a string");
        for (Field k : {kId, kAuthor, kSource}) {
            const Kind kind = f.v[k].kind;
            if (kind == Kind::Object || kind == Kind::Array)
                return skip(line, std::string(kFieldRole[k]) + " field '" + name(k) + "' is " +
                                      kind_name(kind) + ", not a string or number");
        }
        int64_t t = kNoTime;
        const Value& tv = f.v[kTime];
        if (tv.kind == Kind::String || tv.kind == Kind::Number) {
            if (!tv.text.empty()) {  // an empty CSV cell is "no time"
                const std::optional<int64_t> p = parse_timestamp(tv.text);
                if (!p)
                    return skip(line, "bad timestamp '" + shown(tv.text) + "' in field '" +
                                          name(kTime) + "'");
                t = *p;
            }
        } else if (tv.kind != Kind::Missing && tv.kind != Kind::Null) {
            return skip(line, "bad timestamp (" + std::string(kind_name(tv.kind)) + ") in field '" +
                                  name(kTime) + "'");
        }
        if (opts_.since || opts_.until) {
            if (t == kNoTime)
                return skip(line,
                            "no timestamp in field '" + name(kTime) + "' (a time window is set)");
            if ((opts_.since && t < *opts_.since) || (opts_.until && t >= *opts_.until)) {
                ++rep_.out_of_window;
                return counted();
            }
        }
        // A post from after the crawl is a misread value (a number in other units, a corrupt
        // field): skipped, where it would stretch every time series to it.
        if (t != kNoTime && t > latest_)
            return skip(line, "timestamp '" + shown(tv.text) + "' in field '" + name(kTime) +
                                  "' is in the future (" + format_timestamp(t) + "; --keep-future-times keeps it)");
        // Before online conversation (1980, unless the window or the options say): a time of
        // 0 or a misread value, skipped where it would stretch every time series back to it.
        if (t != kNoTime && t < earliest_)
            return skip(line, "timestamp '" + shown(tv.text) + "' in field '" + name(kTime) +
                                  "' is before " + format_timestamp(earliest_).substr(0, 10) +
                                  " (" + format_timestamp(t) +
                                  (t == 0 ? ", often a missing time written as 0" : "") +
                                  "; --keep-old-times keeps it)");
        uint32_t source = source_;
        const std::string& sv = f.v[kSource].text;
        if (!sv.empty() && (f.v[kSource].kind == Kind::String || f.v[kSource].kind == Kind::Number ||
                            f.v[kSource].kind == Kind::Bool)) {  // as ids and authors: its text
            // A mapped source (site, platform, forum): interned into the corpus's sources.
            auto it = source_ids_.find(sv);
            if (it == source_ids_.end()) {
                if (out_.sources.size() >= UINT32_MAX) throw InputError("ingest: too many sources");
                it = source_ids_.emplace(sv, uint32_t(out_.sources.size())).first;
                out_.sources.push_back(sv);
            }
            source = it->second;
        }
        out_.add(text.text, t, f.v[kId].text, f.v[kAuthor].text, source);
        ++rep_.kept;
        counted();
    }

  private:
    uint64_t present_[kFields] = {};  // records that held each field
    void counted() {
        ++rep_.records;
        if (++file_records_ % 100000 == 0 && opts_.progress)
            std::fprintf(stderr, "ingest: %s: %llu records (%.0f MB)\n", file_->c_str(),
                         static_cast<unsigned long long>(file_records_),
                         in_ ? in_->bytes() / 1e6 : 0.0);
    }

    const IngestOptions& opts_;
    Corpus& out_;
    IngestReport& rep_;
    /// The latest time a post may have: a day after this run started, unless the options say.
    const int64_t latest_ = opts_.latest ? *opts_.latest : static_cast<int64_t>(std::time(nullptr)) + 86400;
    /// The earliest time a post may have: kEarliestTime, or the window's start when earlier.
    const int64_t earliest_ = opts_.earliest ? *opts_.earliest
                              : opts_.since  ? std::min(kEarliestTime, *opts_.since)
                                             : kEarliestTime;
    const std::string* names_[kFields];
    const std::string* file_ = nullptr;
    const GzInput* in_ = nullptr;
    uint32_t source_ = 0;
    uint64_t file_records_ = 0;
    std::unordered_map<std::string, uint32_t> source_ids_;  ///< values of the source field
};

// ---------------------------------------------------------------------------------------------
// JSON: a SAX handler that captures the mapped fields of record objects.

/// Records are the objects at container depth `record_level`: 0 for JSON Lines (the line's
/// root), 1 for a JSON array (its elements). Values are matched by their dotted key path from
/// the record object; values inside arrays never match.
class JsonHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, JsonHandler> {
  public:
    JsonHandler(const Sink& sink, size_t record_level) : sink_(sink), record_level_(record_level) {}

    /// JSON Lines: clears the state before each line.
    void reset() {
        stack_.clear();
        path_.clear();
        in_record_ = done_ = expect_value_ = false;
        arrays_ = 0;
        root_kind_ = Kind::Missing;
    }
    /// JSON arrays: where the stream is, and who takes complete records.
    void stream_into(const uint64_t* line, Sink* sink) {
        line_ = line;
        emit_ = sink;
    }

    bool record_done() const { return done_; }
    Kind root_kind() const { return root_kind_; }
    const Fields& fields() const { return fields_; }
    /// For error messages: the field whose value was being parsed, if any.
    const std::string* pending_field() const {
        return expect_value_ && in_record_ && arrays_ == 0 ? &path_ : nullptr;
    }

    bool Null() { return scalar(Kind::Null, "", 0); }
    bool Bool(bool b) { return b ? scalar(Kind::Bool, "true", 4) : scalar(Kind::Bool, "false", 5); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
        return scalar(Kind::Number, s, n);
    }
    bool String(const char* s, rapidjson::SizeType n, bool) { return scalar(Kind::String, s, n); }

    bool StartObject() {
        if (stack_.size() == record_level_) {
            if (record_level_ == 1 && !stack_[0].array) return false;  // cannot happen
            fields_.reset();
            in_record_ = true;
            record_line_ = line_ ? *line_ : 0;
            path_.clear();
            stack_.push_back({false, 0});
            return true;
        }
        if (stack_.empty()) {  // a JSON file whose root is one object: that object is a record
            record_level_ = 0;
            return StartObject();
        }
        container(Kind::Object);
        stack_.push_back({false, path_.size()});
        return true;
    }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        path_.resize(stack_.back().prefix);
        if (stack_.size() > record_level_ + 1) path_ += '.';
        path_.append(s, n);
        expect_value_ = true;
        return true;
    }
    bool EndObject(rapidjson::SizeType) {
        stack_.pop_back();
        if (stack_.size() == record_level_ && in_record_) {
            in_record_ = false;
            expect_value_ = false;
            if (emit_) {
                emit_->record(fields_, record_line_, false);
            } else {
                done_ = true;
                root_kind_ = Kind::Object;
            }
        }
        return true;
    }
    bool StartArray() {
        if (stack_.size() == record_level_) {
            not_a_record(Kind::Array);
        } else {
            container(Kind::Array);
            if (in_record_) ++arrays_;
        }
        stack_.push_back({true, path_.size()});
        return true;
    }
    bool EndArray(rapidjson::SizeType) {
        stack_.pop_back();
        if (in_record_ && stack_.size() > record_level_) --arrays_;
        return true;
    }

  private:
    struct Frame {
        bool array;
        size_t prefix;  // path_ length of the key holding this container
    };

    bool scalar(Kind k, const char* s, size_t n) {
        if (stack_.size() == record_level_ || stack_.empty()) {
            not_a_record(k);
            return true;
        }
        if (in_record_ && arrays_ == 0 && expect_value_) {
            for (int i = 0; i < kFields; ++i) {
                const std::string& name = sink_.name(Field(i));
                if (!name.empty() && path_ == name) {
                    fields_.v[i].kind = k;
                    fields_.v[i].text.assign(s, n);
                }
            }
        }
        expect_value_ = false;
        return true;
    }
    /// An object or array value inside a record: a mapped path holding it is an error.
    void container(Kind k) {
        if (in_record_ && arrays_ == 0 && expect_value_) {
            for (int i = 0; i < kFields; ++i) {
                const std::string& name = sink_.name(Field(i));
                if (!name.empty() && path_ == name) fields_.v[i].kind = k;
            }
        }
        expect_value_ = false;
    }
    void not_a_record(Kind k) {
        if (emit_ && stack_.empty()) {
            emit_->skip(*line_, std::string("the top-level JSON value is ") + kind_name(k) +
                                    ", not an array of objects");
        } else if (emit_) {
            emit_->skip(*line_,
                        std::string("array element is ") + kind_name(k) + ", not an object");
        } else {
            root_kind_ = k;
        }
    }

    const Sink& sink_;
    size_t record_level_;
    std::vector<Frame> stack_;
    std::string path_;
    Fields fields_;
    bool in_record_ = false, done_ = false, expect_value_ = false;
    int arrays_ = 0;
    Kind root_kind_ = Kind::Missing;
    const uint64_t* line_ = nullptr;
    uint64_t record_line_ = 0;
    Sink* emit_ = nullptr;
};

constexpr unsigned kJsonFlags = rapidjson::kParseValidateEncodingFlag |
                                rapidjson::kParseNumbersAsStringsFlag |
                                rapidjson::kParseIterativeFlag;  // no recursion on deep nesting

std::string json_error(const rapidjson::ParseResult& r, const JsonHandler& h, uint64_t column) {
    const std::string where = column ? " at column " + std::to_string(column) : std::string();
    if (r.Code() == rapidjson::kParseErrorStringInvalidEncoding ||
        r.Code() == rapidjson::kParseErrorStringUnicodeSurrogateInvalid) {
        const std::string why = r.Code() == rapidjson::kParseErrorStringInvalidEncoding
                                    ? ""
                                    : ": a UTF-16 surrogate, as an unpaired \\ud800 escape gives";
        if (const std::string* f = h.pending_field())
            return "invalid UTF-8 in field '" + *f + "'" + where + why;
        return "invalid UTF-8 in a JSON string" + where + why;
    }
    return "JSON syntax error" + where + ": " + rapidjson::GetParseError_En(r.Code());
}

void ingest_jsonl(GzInput& in, Sink& sink) {
    rapidjson::Reader reader;
    JsonHandler h(sink, 0);
    char* p;
    size_t len;
    bool complete;
    uint64_t line = 0;
    while (in.next_line(p, len, complete)) {
        ++line;
        if (!complete && !in.error().empty()) {
            sink.skip(line, in.error() + " (rest of file not read)");
            return;
        }
        size_t i = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r')) ++i;
        if (i == len) continue;  // blank lines are not records
        h.reset();
        rapidjson::StringStream ss(p);
        const rapidjson::ParseResult r = reader.Parse<kJsonFlags>(ss, h);
        if (r.IsError()) {
            sink.skip(line, json_error(r, h, r.Offset() + 1));
        } else if (ss.Tell() != len) {
            sink.skip(line, "NUL byte at column " + std::to_string(ss.Tell() + 1));
        } else if (!h.record_done()) {
            sink.skip(line, std::string("the line is ") + kind_name(h.root_kind()) +
                                ", not a JSON object");
        } else {
            sink.record(h.fields(), line, false);
        }
    }
    if (!in.error().empty()) sink.skip(line + 1, in.error() + " (rest of file not read)");
}

/// RapidJSON input stream over GzInput that counts lines.
class GzJsonStream {
  public:
    typedef char Ch;
    explicit GzJsonStream(GzInput& in) : in_(in) {}
    Ch Peek() const {
        const int c = in_.peek();
        return c < 0 ? '\0' : static_cast<char>(c);
    }
    Ch Take() {
        const int c = in_.get();
        if (c < 0) return '\0';
        ++count_;
        if (c == '\n') ++line;
        return static_cast<char>(c);
    }
    size_t Tell() const { return count_; }
    Ch* PutBegin() { return nullptr; }
    void Put(Ch) {}
    void Flush() {}
    size_t PutEnd(Ch*) { return 0; }

    uint64_t line = 1;

  private:
    GzInput& in_;
    size_t count_ = 0;
};

void ingest_json_array(GzInput& in, Sink& sink) {
    if (in.first_nonblank() < 0) {  // an empty file holds no records
        if (!in.error().empty()) sink.skip(1, in.error() + " (rest of file not read)");
        return;
    }
    rapidjson::Reader reader;
    GzJsonStream s(in);
    JsonHandler h(sink, 1);
    h.stream_into(&s.line, &sink);
    const rapidjson::ParseResult r = reader.Parse<kJsonFlags>(s, h);
    if (!in.error().empty()) {
        sink.skip(s.line, in.error() + " (rest of file not read)");
    } else if (r.IsError()) {
        // one JSON value, then another: a JSON Lines file read as one JSON document
        const bool lines = r.Code() == rapidjson::kParseErrorDocumentRootNotSingular;
        sink.skip(s.line, json_error(r, h, 0) + " (rest of file not read" +
                              (lines ? "; one record per line is JSON Lines: --format jsonl" : "") + ")");
    }
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180): a header row names the columns; quoted fields with "" escapes and newlines.

struct CsvRecord {
    std::vector<std::string> fields;  // capacity reused; `n` are in use
    size_t n = 0;
    bool quoted = false;                // some field was quoted
    bool at_eof = false;                // ended by the end of the data rather than a newline
    bool unterminated = false;          // the data ended inside a quoted field
    size_t bad_quote_field = SIZE_MAX;  // a field with text after its closing quote

    std::string& next() {
        if (n == fields.size()) fields.emplace_back();
        std::string& f = fields[n++];
        f.clear();
        return f;
    }
    bool blank() const { return n == 1 && !quoted && fields[0].empty(); }
};

/// Reads one record; false at the end of the data. `line` counts the newlines consumed.
bool read_csv_record(GzInput& in, CsvRecord& r, uint64_t& line) {
    r.n = 0;
    r.quoted = r.at_eof = r.unterminated = false;
    r.bad_quote_field = SIZE_MAX;
    if (in.peek() < 0) return false;
    for (;;) {
        std::string& cur = r.next();
        int c = in.peek();
        if (c == '"') {
            r.quoted = true;
            in.get();
            for (;;) {
                c = in.get();
                if (c < 0) {
                    r.unterminated = r.at_eof = true;
                    return true;
                }
                if (c == '"') {
                    if (in.peek() != '"') break;
                    in.get();
                } else if (c == '\n') {
                    ++line;
                }
                cur += static_cast<char>(c);
            }
        }
        const bool after_quote = c == '"';  // only the delimiter or a line end may follow it
        for (;;) {  // unquoted text (or what follows a closing quote)
            c = in.get();
            if (c < 0) {
                r.at_eof = true;
                return true;
            }
            if (c == ',') break;
            if (c == '\n') {
                ++line;
                return true;
            }
            if (c == '\r' && (in.peek() == '\n' || in.peek() < 0)) continue;  // CRLF, or a CR ending the data
            if (after_quote && r.bad_quote_field == SIZE_MAX) r.bad_quote_field = r.n - 1;
            cur += static_cast<char>(c);
        }
    }
}

void ingest_csv(GzInput& in, Sink& sink, const std::string& file) {
    CsvRecord rec;
    uint64_t line = 1;
    // Header: the first non-blank record.
    do {
        if (!read_csv_record(in, rec, line)) {
            if (!in.error().empty()) sink.skip(line, in.error() + " (rest of file not read)");
            return;
        }
    } while (rec.blank());
    if (rec.unterminated) {
        sink.skip(1, "unterminated quoted field in the CSV header (rest of file not read)");
        return;
    }
    const std::vector<std::string> header(rec.fields.begin(), rec.fields.begin() + rec.n);
    if (!header.empty() && starts_utf16(header[0])) throw InputError(file + ": " + std::string(kUtf16Advice));
    size_t column[kFields];
    for (int i = 0; i < kFields; ++i) {
        column[i] = SIZE_MAX;
        const std::string& name = sink.name(Field(i));
        if (name.empty()) continue;
        const auto it = std::find(header.begin(), header.end(), name);
        if (it == header.end()) {
            std::string cols;
            for (const std::string& h : header) cols += (cols.empty() ? "'" : ", '") + h + "'";
            // A header cell with text after its closing quote ("text"x) reads as that text
            // joined: say so, as that is the likely reason the name is not found.
            std::string quote;
            if (rec.bad_quote_field != SIZE_MAX)
                quote = "; column " + std::to_string(rec.bad_quote_field + 1) +
                        " has text after its closing quote, read as '" +
                        header[rec.bad_quote_field] + "'";
            throw InputError(file + ": the CSV header has no column '" + name + "' for the " +
                             kFieldRole[i] + " field (columns: " + cols + ")" + quote);
        }
        if (std::find(it + 1, header.end(), name) != header.end())
            throw InputError(file + ": the CSV header names column '" + name + "' twice (columns " +
                             std::to_string(it - header.begin() + 1) + " and " +
                             std::to_string(std::find(it + 1, header.end(), name) - header.begin() + 1) +
                             "), so the " + std::string(kFieldRole[i]) + " field is ambiguous");
        column[i] = it - header.begin();
    }
    auto column_name = [&](size_t k) {
        return k < header.size() && !header[k].empty() ? "'" + header[k] + "'"
                                                       : "#" + std::to_string(k + 1);
    };

    Fields f;
    for (;;) {
        const uint64_t start = line;
        if (!read_csv_record(in, rec, line)) break;
        if (rec.at_eof && !in.error().empty()) {
            sink.skip(start, in.error() + " (rest of file not read)");
            return;
        }
        if (rec.blank()) continue;
        if (rec.unterminated) {
            sink.skip(start, "unterminated quoted field in column " + column_name(rec.n - 1) +
                                 " (rest of file not read)");
            return;
        }
        if (rec.bad_quote_field != SIZE_MAX) {
            sink.skip(start,
                      "text after the closing quote in column " + column_name(rec.bad_quote_field));
            continue;
        }
        if (rec.n != header.size()) {
            sink.skip(start, "the row has " + std::to_string(rec.n) + " fields, the header has " +
                                 std::to_string(header.size()));
            continue;
        }
        for (int i = 0; i < kFields; ++i) {
            if (column[i] == SIZE_MAX) continue;
            f.v[i].kind = Kind::String;
            f.v[i].text.assign(rec.fields[column[i]]);
        }
        sink.record(f, start, true);
    }
    if (!in.error().empty()) sink.skip(line, in.error() + " (rest of file not read)");
}

// ---------------------------------------------------------------------------------------------

InputFormat detect_format(const std::string& path, GzInput& in) {
    std::string name = std::filesystem::path(path).filename().string();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto ends_with = [&](std::string_view suffix) {
        return name.size() >= suffix.size() &&
               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with(".gz")) name.resize(name.size() - 3);
    if (ends_with(".jsonl") || ends_with(".ndjson")) return InputFormat::Jsonl;
    if (ends_with(".csv")) return InputFormat::Csv;
    const int c = in.first_nonblank();  // ".json" and anything else: look at the data
    if (c == '[') return InputFormat::Json;
    if (c == '{' || c < 0) return InputFormat::Jsonl;
    return InputFormat::Csv;
}

}  // namespace

InputFormat parse_input_format(std::string_view s) {
    if (s == "auto") return InputFormat::Auto;
    if (s == "jsonl" || s == "ndjson") return InputFormat::Jsonl;
    if (s == "json") return InputFormat::Json;
    if (s == "csv") return InputFormat::Csv;
    throw InputError("unknown input format '" + std::string(s) +
                     "' (expected auto, jsonl, json or csv)");
}

std::string IngestReport::summary() const {
    std::string s;
    for (const SkippedLine& e : examples)
        s += e.file + ":" + std::to_string(e.line) + ": " + e.reason + "\n";
    if (skipped > examples.size())
        s += "... and " + std::to_string(skipped - examples.size()) + " more skipped records\n";
    for (const std::string& w : warnings) s += "ingest: warning: " + w + "\n";
    s += "ingest: " + std::to_string(records) + " records, " + std::to_string(kept) + " kept, " +
         std::to_string(skipped) + " skipped, " + std::to_string(out_of_window) +
         " outside the time window\n";
    return s;
}

IngestReport ingest(const std::vector<std::string>& inputs, const IngestOptions& opts,
                    Corpus& out) {
    if (opts.text_field.empty()) throw InputError("ingest: the text field name is empty");
    if ((opts.since || opts.until) && opts.time_field.empty())
        throw InputError("ingest: a time window (since/until) needs a time field");
    IngestReport rep;
    Sink sink(opts, out, rep);
    for (const std::string& path : inputs) {
        GzInput in(path);
        if (out.sources.size() >= UINT32_MAX) throw InputError("ingest: too many input files");
        const auto source = static_cast<uint32_t>(out.sources.size());
        out.sources.push_back(path);
        sink.start_file(path, source, &in);
        const InputFormat fmt =
            opts.format == InputFormat::Auto ? detect_format(path, in) : opts.format;
        switch (fmt) {
            case InputFormat::Jsonl:
                ingest_jsonl(in, sink);
                break;
            case InputFormat::Json:
                ingest_json_array(in, sink);
                break;
            case InputFormat::Csv:
                ingest_csv(in, sink, path);
                break;
            case InputFormat::Auto:
                TMINE_ASSERT(false, "format not resolved");
        }
        rep.bytes += in.bytes();
        sink.start_file(path, source, nullptr);
    }
    sink.warn_absent_fields();
    return rep;
}

}  // namespace tmine
