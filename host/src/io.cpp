#include "tmine/io.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

#include "tmine/error.hpp"

namespace tmine {

[[noreturn]] void assert_fail(const char* cond, const char* file, int line,
                              const std::string& msg) {
    throw std::logic_error(std::string("tmine internal error: ") + cond + " failed at " + file +
                           ":" + std::to_string(line) + ": " + msg);
}

static std::string errno_text() { return std::strerror(errno); }

namespace {
// The temp files being written, for remove_temp_files() in a signal handler: fixed slots (no
// allocation there), each a path and a flag that says it holds one.
constexpr int kTempSlots = 64;
constexpr size_t kTempPathMax = 4096;
struct TempSlot {
    std::atomic<int> state{0};  // 0 free, 1 being filled or emptied, 2 holds a path
    char path[kTempPathMax];
};
TempSlot g_temps[kTempSlots];

/// A slot for `tmp`, or -1 (all taken, or too long a path: the file is then only removed by
/// the destructor, as before).
int claim_temp(const std::string& tmp) {
    if (tmp.size() >= kTempPathMax) return -1;
    for (int i = 0; i < kTempSlots; ++i) {
        int expected = 0;
        if (g_temps[i].state.compare_exchange_strong(expected, 1)) {
            std::memcpy(g_temps[i].path, tmp.c_str(), tmp.size() + 1);
            g_temps[i].state.store(2);
            return i;
        }
    }
    return -1;
}

void release_temp(int slot) {
    if (slot >= 0) g_temps[slot].state.store(0);
}
}  // namespace

namespace {
struct InputFile {
    dev_t dev;
    ino_t ino;
    std::string path;
    bool same(const struct stat& st) const { return dev == st.st_dev && ino == st.st_ino; }
};
std::mutex g_inputs_mutex;
std::vector<InputFile> g_inputs;
std::atomic<bool> g_guard{false};

/// With the guard on and `path` an existing file: its identity in `st`, the noted inputs locked.
std::unique_lock<std::mutex> guarded(const std::string& path, struct stat& st) {
    if (!g_guard || ::stat(path.c_str(), &st) != 0) return {};
    return std::unique_lock<std::mutex>(g_inputs_mutex);
}
}  // namespace

void guard_inputs(bool on) {
    std::lock_guard<std::mutex> lock(g_inputs_mutex);
    g_guard = on;
    g_inputs.clear();
}

void note_input(const std::string& path) {
    struct stat st;
    auto lock = guarded(path, st);
    if (!lock || !S_ISREG(st.st_mode)) return;
    for (const auto& f : g_inputs)
        if (f.same(st)) return;
    g_inputs.push_back({st.st_dev, st.st_ino, path});
}

std::ifstream open_input(const std::string& path, const std::string& cannot) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw IoError(cannot + ": it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(cannot + ": " + errno_text());
    note_input(path);
    return in;
}

std::ifstream open_argument_file(const std::string& path, const std::string& cannot) {
    try {
        return open_input(path, cannot);
    } catch (const IoError& e) {
        throw InputError(e.what());
    }
}

void forget_input(const std::string& path) {
    struct stat st;
    if (auto lock = guarded(path, st))
        g_inputs.erase(std::remove_if(g_inputs.begin(), g_inputs.end(), [&](const InputFile& f) { return f.same(st); }),
                       g_inputs.end());
}

void refuse_input_as_output(const std::string& path) {
    struct stat st;
    auto lock = guarded(path, st);  // none: no guard, or a new file
    if (!lock) return;
    for (const auto& f : g_inputs)
        if (f.same(st))
            throw IoError("cannot write " + path + ": it is " +
                          (f.path == path ? std::string("an input") : "the input " + f.path) +
                          " of this command, which would be lost; write to another file");
}

void remove_temp_files() noexcept {
    for (auto& t : g_temps)
        if (t.state.load() == 2) ::unlink(t.path);
}

namespace {
// Deferred commits (defer_commits): the outputs written and closed, waiting for their rename.
struct Pending {
    std::string tmp, path;
    int slot;
};
std::mutex g_pending_mutex;
std::vector<Pending> g_pending;
bool g_defer = false;
std::atomic<uint64_t> g_temp_counter{0};
/// The outputs of the running command (deferred commits on), by file: two outputs that name
/// one file would leave only the last written.
struct OutputName {
    std::string key, path;
};
std::vector<OutputName> g_outputs;  // under g_pending_mutex
std::vector<std::string> g_removals;  // remove_on_commit(), under g_pending_mutex
}  // namespace

void remove_on_commit(const std::string& path) {
    {
        std::lock_guard<std::mutex> lock(g_pending_mutex);
        if (g_defer) {
            g_removals.push_back(path);
            return;
        }
    }
    std::error_code ec;
    std::filesystem::remove(path, ec);
}

void defer_commits(bool on) {
    std::lock_guard<std::mutex> lock(g_pending_mutex);
    g_defer = on;
    g_outputs.clear();
}

void commit_deferred() {
    std::vector<Pending> pending;
    std::vector<std::string> removals;
    {
        std::lock_guard<std::mutex> lock(g_pending_mutex);
        pending.swap(g_pending);
        g_outputs.clear();  // the command's outputs are done
        removals.swap(g_removals);
    }
    for (size_t i = 0; i < pending.size(); ++i) {
        const Pending& p = pending[i];
        if (std::rename(p.tmp.c_str(), p.path.c_str()) != 0) {
            const std::string e = errno_text();
            for (size_t j = i; j < pending.size(); ++j) {
                std::remove(pending[j].tmp.c_str());
                release_temp(pending[j].slot);
            }
            throw IoError("cannot write " + p.path + ": " + e);
        }
        release_temp(p.slot);
    }
    std::error_code ec;
    for (const std::string& r : removals) std::filesystem::remove(r, ec);  // stale: best effort
}

void discard_deferred() noexcept {
    std::lock_guard<std::mutex> lock(g_pending_mutex);
    for (const Pending& p : g_pending) {
        std::remove(p.tmp.c_str());
        release_temp(p.slot);
    }
    g_pending.clear();
    g_outputs.clear();
    g_removals.clear();
}

namespace {
/// `path` with its symbolic links followed (a dangling link: the file it names); the path
/// itself when it is no link.
std::string follow_links(const std::string& path) {
    namespace fs = std::filesystem;
    fs::path p = path;
    std::error_code ec;
    for (int hops = 0; hops < 40 && fs::is_symlink(p, ec); ++hops) {
        const fs::path t = fs::read_symlink(p, ec);
        if (ec) break;
        p = t.is_absolute() ? t : p.parent_path() / t;
    }
    return p.string();
}

/// A name for the file `path` will be, the same for every spelling of it (absolute, links
/// followed, "." and ".." resolved).
std::string output_key(const std::string& path) {
    std::error_code ec;
    auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
    return ec ? path : p.string();
}
}  // namespace

bool same_file(const std::string& a, const std::string& b) { return output_key(a) == output_key(b); }

AtomicFile::AtomicFile(std::string path, bool immediate) : path_(std::move(path)), immediate_(immediate) {
    refuse_input_as_output(path_);
    std::error_code ec;
    if (std::filesystem::is_directory(path_, ec)) throw IoError("cannot write " + path_ + ": is a directory");
    if (!immediate_) {
        std::lock_guard<std::mutex> lock(g_pending_mutex);
        if (g_defer) {
            const std::string key = output_key(path_);
            for (const OutputName& o : g_outputs)
                if (o.key == key)
                    throw IoError("cannot write " + path_ + ": " +
                                  (o.path == path_ ? std::string("it is") : "it is " + o.path + ",") +
                                  " another output of this command too, which it would overwrite; "
                                  "give each output its own file");
            g_outputs.push_back({key, path_});
        }
    }
    // A link is followed (the file it names is replaced, the link stays); a device, a pipe or
    // a socket (/dev/null, /dev/stdout, a FIFO) is written directly: renaming over it would
    // replace it with an ordinary file.
    // The kernel's stat() first: /dev/stdout on a pipe is a link to /proc/self/fd/1, itself a
    // link to "pipe:[N]", which names no file to follow.
    struct stat st;
    direct_ = ::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    target_ = direct_ ? path_ : follow_links(path_);
    if (!direct_) direct_ = ::stat(target_.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    // pid and a counter: two outputs of one process to the same path (one deferred) never share
    // a temp file.
    if (!direct_) tmp_ = target_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(g_temp_counter++);
    hash_ = XXH3_createState();
    if (!hash_) throw std::bad_alloc();
    XXH3_64bits_reset(hash_);
    if (!direct_) slot_ = claim_temp(tmp_);
    f_ = std::fopen(direct_ ? target_.c_str() : tmp_.c_str(), "wb");
    if (!f_) {
        const std::string e = errno_text();
        release_temp(slot_);
        XXH3_freeState(hash_);
        throw IoError("cannot write " + path_ + ": " + e);
    }
}

AtomicFile::~AtomicFile() {
    if (f_) {
        std::fclose(f_);
        if (!direct_) std::remove(tmp_.c_str());
    }
    release_temp(slot_);
    XXH3_freeState(hash_);
}

void AtomicFile::write_checksum() {
    const uint64_t h = XXH3_64bits_digest(hash_);
    write(&h, sizeof h);
}

void AtomicFile::write(const void* data, size_t n) {
    XXH3_64bits_update(hash_, data, n);
    if (n && std::fwrite(data, 1, n, f_) != n)
        throw IoError("cannot write " + path_ + ": " + errno_text());
}

void AtomicFile::commit() {
    if (!f_) throw IoError("cannot write " + path_ + ": already committed");
    if (direct_) {  // a device or a pipe: written as it went
        const bool ok = std::fflush(f_) == 0;
        const std::string e = ok ? std::string() : errno_text();
        const bool closed = std::fclose(f_) == 0;
        f_ = nullptr;
        if (!ok || !closed) throw IoError("cannot write " + path_ + ": " + (ok ? errno_text() : e));
        return;
    }
    bool ok = std::fflush(f_) == 0 && ::fsync(::fileno(f_)) == 0;
    ok = (std::fclose(f_) == 0) && ok;
    f_ = nullptr;
    if (ok && !immediate_) {
        std::lock_guard<std::mutex> lock(g_pending_mutex);
        if (g_defer) {  // renamed by commit_deferred(), or removed by discard_deferred()
            g_pending.push_back({tmp_, target_, slot_});
            slot_ = -1;
            return;
        }
    }
    if (!ok || std::rename(tmp_.c_str(), target_.c_str()) != 0) {
        std::string e = errno_text();
        std::remove(tmp_.c_str());
        release_temp(slot_);
        slot_ = -1;
        throw IoError("cannot write " + path_ + ": " + e);
    }
    release_temp(slot_);  // renamed: nothing left to remove
    slot_ = -1;
}

void write_file_atomic(const std::string& path, std::string_view content) {
    AtomicFile f(path);
    f.write(content);
    f.commit();
}

BinaryReader::BinaryReader(const std::string& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_) throw IoError("cannot open " + path + ": " + errno_text());
    note_input(path);
    std::error_code ec;
    size_ = std::filesystem::file_size(path, ec);
    hash_ = XXH3_createState();
    if (ec || !hash_) {
        std::fclose(f_);
        XXH3_freeState(hash_);
        if (!hash_) throw std::bad_alloc();
        throw IoError("cannot stat " + path + ": " + ec.message());
    }
    XXH3_64bits_reset(hash_);
}

BinaryReader::~BinaryReader() {
    if (f_) std::fclose(f_);
    XXH3_freeState(hash_);
}

void BinaryReader::verify_checksum() {
    const uint64_t want = XXH3_64bits_digest(hash_);
    uint64_t have = 0;
    if (remaining() < sizeof have || std::fread(&have, 1, sizeof have, f_) != sizeof have) fail("checksum");
    pos_ += sizeof have;
    if (have != want)
        throw InputError(path_ + ": corrupt file: its contents do not match the checksum it was written with "
                                 "(damaged on disk or in a copy); write it again");
    if (remaining() != 0) throw InputError(path_ + ": " + std::to_string(remaining()) + " unexpected bytes after the end");
}

void BinaryReader::fail(const char* what) const {
    throw InputError(path_ + ": truncated or not a tmine file (while reading " + what + ")");
}

void BinaryReader::read(void* data, size_t n, const char* what) {
    if (n > remaining() || std::fread(data, 1, n, f_) != n) fail(what);
    XXH3_64bits_update(hash_, data, n);
    pos_ += n;
}

void BinaryReader::skip(uint64_t n, const char* what) {
    std::vector<char> buf(size_t(std::min<uint64_t>(n, uint64_t(1) << 20)));
    while (n > 0) {
        const size_t piece = size_t(std::min<uint64_t>(n, buf.size()));
        read(buf.data(), piece, what);
        n -= piece;
    }
}

void append_csv_field(std::string& out, std::string_view v, char delimiter) {
    const char special[] = {delimiter, '"', '\r', '\n', '\0'};
    if (v.find_first_of(special) == std::string_view::npos) {
        out.append(v);
        return;
    }
    out.push_back('"');
    for (char c : v) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

bool spreadsheet_would_alter(std::string_view v) {
    if (v.empty()) return false;
    auto digits = [](std::string_view s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    const char c = v[0];
    // a formula, or '+': "+33 6…" is a formula, "+4915…" a number that loses its '+'
    if (c == '=' || c == '@' || c == '+' || c == '\t' || c == '\r') return true;
    if (c == '-') {
        // a plain negative number (-1, -0.25, -3.2e-05, as tmine prints them) is read as that
        // number: harmless
        std::string_view rest = v.substr(1);
        const size_t e = rest.find_first_of("eE");
        if (e != std::string_view::npos) {
            std::string_view exp = rest.substr(e + 1);
            if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) exp.remove_prefix(1);
            if (!digits(exp) || exp.size() > 3) return true;
            rest = rest.substr(0, e);
        }
        const size_t dot = rest.find('.');
        const std::string_view whole = rest.substr(0, dot);
        const std::string_view frac = dot == std::string_view::npos ? std::string_view("0") : rest.substr(dot + 1);
        return !(digits(whole) && digits(frac) && whole.size() <= kSpreadsheetIntegerDigits &&
                 whole.size() + frac.size() <= 15);
    }
    // an id of digits: a leading zero is dropped, and past 11 digits a spreadsheet shows (and
    // saves as CSV) 1.23457E+11
    return digits(v) && ((v.size() > 1 && c == '0') || v.size() > kSpreadsheetIntegerDigits);
}

std::string json_string(std::string_view v) {
    std::string o = "\"";
    o.reserve(v.size() + 2);
    for (unsigned char c : v) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += char(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            o += buf;
        } else {
            o += char(c);
        }
    }
    return o + "\"";
}

void append_spreadsheet_field(std::string& out, std::string_view v, char delimiter) {
    if (!spreadsheet_would_alter(v)) return append_csv_field(out, v, delimiter);
    std::string marked;
    marked.reserve(v.size() + 1);
    marked.push_back('\'');
    marked.append(v);
    append_csv_field(out, marked, delimiter);
}

std::string recode_csv(std::string_view csv, char delimiter, bool spreadsheet) {
    if (delimiter == ',' && !spreadsheet) return std::string(csv);
    std::string out;
    out.reserve(csv.size() + csv.size() / 16 + 3);
    if (spreadsheet) out += kUtf8Bom;
    std::string field;
    const size_t n = csv.size();
    size_t i = 0;
    bool first = true;  // the record's first field
    while (i < n) {
        // one field: quoted parts with "" for a quote, up to the next unquoted ',' or line end
        field.clear();
        bool in_quotes = false, raw_cr = false;  // raw_cr: the last byte is an unquoted '\r'
        for (; i < n; ++i) {
            const char ch = csv[i];
            if (in_quotes) {
                if (ch != '"') field += ch;
                else if (i + 1 < n && csv[i + 1] == '"') field += '"', ++i;
                else in_quotes = false;
                raw_cr = false;
            } else if (ch == '"') {
                in_quotes = true;
            } else if (ch == ',' || ch == '\n') {
                break;
            } else {
                field += ch;
                raw_cr = ch == '\r';
            }
        }
        if (raw_cr && (i == n || csv[i] == '\n')) field.pop_back();  // a CRLF line end
        if (!first) out += delimiter;
        if (spreadsheet)
            append_spreadsheet_field(out, field, delimiter);
        else
            append_csv_field(out, field, delimiter);
        first = false;
        if (i < n && csv[i] == ',') {
            ++i;
            if (i == n || csv[i] == '\n' || (csv[i] == '\r' && i + 1 < n && csv[i + 1] == '\n'))
                out += delimiter;  // an empty last field
            if (i < n && csv[i] == '\r' && i + 1 < n && csv[i + 1] == '\n') ++i;
        }
        if (i < n && csv[i] == '\n') {
            out += '\n';
            ++i;
            first = true;
        }
    }
    return out;
}

char parse_csv_delimiter(const std::string& value, const char* option) {
    if (value == "," || value == "comma") return ',';
    if (value == ";" || value == "semicolon") return ';';
    if (value == "tab" || value == "\t") return '\t';
    throw InputError(std::string(option) + ": expected , ; or tab, got '" + value + "'");
}

std::string cut_for_cell(std::string_view v, size_t max_bytes) {
    if (v.size() <= max_bytes) return std::string(v);
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80) --cut;
    const size_t more = v.size() - cut;
    return std::string(v.substr(0, cut)) + " [\xE2\x80\xA6 " + std::to_string(more) +
           (more == 1 ? " more byte]" : " more bytes]");
}

void make_dirs(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw IoError("cannot create directory " + path + ": " + ec.message());
}

}  // namespace tmine
