#pragma once
/// Small file helpers shared by every stage: atomic output and binary columns.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

struct XXH3_state_s;

namespace tmine {

/// Writes to "<path>.tmp.<pid>.<n>" and renames onto `path` in commit(); a destroyed,
/// uncommitted AtomicFile removes its temp file, so readers never see a half-written file.
/// With defer_commits(true) commit() completes the temp file and leaves the rename to
/// commit_deferred(), unless the file is `immediate` (a checkpoint must be there while the
/// run goes on).
class AtomicFile {
public:
    explicit AtomicFile(std::string path, bool immediate = false);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* data, size_t n);
    void write(std::string_view s) { write(s.data(), s.size()); }
    template <class T>
    void write_pod(const T& v) { write(&v, sizeof(T)); }
    template <class T>
    void write_vector(const std::vector<T>& v) {
        write_pod<uint64_t>(v.size());
        if (!v.empty()) write(v.data(), v.size() * sizeof(T));
    }
    /// Appends the XXH3-64 of every byte written so far; BinaryReader::verify_checksum() reads it.
    void write_checksum();
    /// Flushes, fsyncs and renames (a device or a pipe, /dev/stdout or a FIFO, is written in
    /// place instead; a symbolic link is followed, and the file it names replaced). Throws
    /// IoError naming the path.
    void commit();
    const std::string& path() const { return path_; }

private:
    std::string path_, tmp_;
    std::string target_;  // path_ with its links followed: what the temp file replaces
    std::FILE* f_ = nullptr;
    int slot_ = -1;  // its entry among the temp files remove_temp_files() knows
    bool immediate_ = false;
    bool direct_ = false;  // a device or a pipe, written in place (no temp file)
    XXH3_state_s* hash_ = nullptr;  // of the bytes written
};

/// All or nothing for a command's outputs (the CLI turns it on): with deferral on, each
/// committed AtomicFile waits, complete, in its temp file; commit_deferred() renames them all
/// (in the order written) once the command has succeeded, and discard_deferred() removes them
/// when it has failed. So a command that fails halfway (its third output's path unwritable, a
/// later stage's error) leaves every earlier output as it was.
void defer_commits(bool on);
void commit_deferred();
void discard_deferred() noexcept;
/// Removes `path` (a file an earlier run left that this one's outputs make stale) when the
/// command's outputs are committed; at once when deferral is off.
void remove_on_commit(const std::string& path);

/// Removes the temp files of every AtomicFile not yet committed or destroyed. Async-signal-safe
/// (unlink only): the CLI calls it from its SIGINT/SIGTERM/SIGHUP handler, so an interrupted
/// run leaves neither a partial output nor a "<path>.tmp.<pid>" beside it.
void remove_temp_files() noexcept;

/// Turns the input guard on (the CLI does, for its one command) or off, forgetting the noted
/// inputs. Off by default, so that a program using the library may rewrite what it read.
void guard_inputs(bool on);
/// With the guard on, records that this process reads `path` (a regular file), so that no
/// AtomicFile of the same process replaces it: a command whose output names one of its inputs
/// fails with a message instead of destroying the input. Every reader of a user's file calls it.
void note_input(const std::string& path);
/// An input file opened for reading (binary) and noted (note_input). Throws IoError
/// "<cannot>: <why>" when it cannot be opened, and when it is a directory (which opens, and
/// then reads as nothing).
std::ifstream open_input(const std::string& path, const std::string& cannot);
/// open_input() for a file an option names where a missing file is a wrong argument (as an
/// unknown list name is): the same message as an InputError.
std::ifstream open_argument_file(const std::string& path, const std::string& cannot);
/// Takes `path` out of the noted inputs: a command that reads a file in order to replace it
/// (a resumed fit's checkpoint) says so.
void forget_input(const std::string& path);
/// Throws IoError when `path` is a file noted by note_input() (the same file, by device and
/// inode, whatever the spelling of the path). AtomicFile calls it; so can a command that wants
/// to refuse before its work.
void refuse_input_as_output(const std::string& path);
/// Whether two spellings name one file (absolute, links followed, "." and ".." resolved).
bool same_file(const std::string& a, const std::string& b);

/// Writes a whole text file atomically.
void write_file_atomic(const std::string& path, std::string_view content);

/// Sequential binary reader over a whole file with bounds checks: a truncated or foreign
/// file throws InputError naming the path and what was being read.
class BinaryReader {
public:
    explicit BinaryReader(const std::string& path);
    ~BinaryReader();
    BinaryReader(const BinaryReader&) = delete;
    BinaryReader& operator=(const BinaryReader&) = delete;

    void read(void* data, size_t n, const char* what);
    template <class T>
    T read_pod(const char* what) {
        T v;
        read(&v, sizeof(T), what);
        return v;
    }
    template <class T>
    std::vector<T> read_vector(const char* what, uint64_t max_elems = UINT64_MAX) {
        uint64_t n = read_pod<uint64_t>(what);
        if (n > max_elems || n > remaining() / (sizeof(T) ? sizeof(T) : 1)) fail(what);
        std::vector<T> v(n);
        if (n) read(v.data(), n * sizeof(T), what);
        return v;
    }
    /// Elements [from, to) of a vector written by AtomicFile::write_vector, reading the others
    /// through (into the checksum) without keeping them; fails when the vector is shorter than `to`.
    /// `length` receives the whole vector's.
    template <class T>
    std::vector<T> read_vector_part(const char* what, uint64_t from, uint64_t to, uint64_t* length = nullptr) {
        uint64_t n = read_pod<uint64_t>(what);
        if (length) *length = n;
        if (from > to || to > n || n > remaining() / (sizeof(T) ? sizeof(T) : 1)) fail(what);
        skip(from * sizeof(T), what);
        std::vector<T> v(to - from);
        if (to > from) read(v.data(), (to - from) * sizeof(T), what);
        skip((n - to) * sizeof(T), what);
        return v;
    }
    /// Reads n bytes into the checksum only.
    void skip(uint64_t n, const char* what);
    uint64_t remaining() const { return size_ - pos_; }
    /// Reads the checksum AtomicFile::write_checksum() wrote here and compares it with the
    /// bytes read so far: a file damaged on disk or in a copy is an InputError naming it, not
    /// numbers that are silently wrong.
    void verify_checksum();
    [[noreturn]] void fail(const char* what) const;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::FILE* f_ = nullptr;
    uint64_t size_ = 0, pos_ = 0;
    XXH3_state_s* hash_ = nullptr;  // of the bytes read
};

/// Appends `v` as one RFC 4180 CSV field: quoted, with doubled quotes, when it holds the
/// delimiter, a quote or a line break.
void append_csv_field(std::string& out, std::string_view v, char delimiter = ',');
/// Digits a spreadsheet shows of a number in its General format: past 11 it shows (and saves
/// as CSV) 1.23457E+11.
constexpr size_t kSpreadsheetIntegerDigits = 11;
/// True when a spreadsheet that opens a CSV file would not keep `v` as the text it is: it
/// starts with = + - @, a tab or a carriage return (read as a formula: "@user thanks" shows as
/// an error, "=HYPERLINK(...)" from a crawled post would run; "+4915..." loses its '+'), unless
/// it is a plain negative number such as -0.5 or -3.2e-05; or it is all digits with a leading
/// zero or more than kSpreadsheetIntegerDigits of them (read as a number: "007" becomes 7, a
/// 19-digit post id is saved back as 1.23457E+18).
bool spreadsheet_would_alter(std::string_view v);
/// append_csv_field() for a file people open in a spreadsheet: a value the spreadsheet would
/// alter gets a leading apostrophe, the spreadsheets' mark for "this is text"
/// (read_labels() takes it off an id again).
void append_spreadsheet_field(std::string& out, std::string_view v, char delimiter = ',');
/// A CSV text tmine wrote (RFC 4180, ',', '\n' line ends) with its fields separated by
/// `delimiter` instead; with `spreadsheet`, also for a spreadsheet: a UTF-8 byte-order mark
/// first and every field through append_spreadsheet_field().
std::string recode_csv(std::string_view csv, char delimiter, bool spreadsheet);
/// The delimiter a --delimiter option names: "," or "comma", ";" or "semicolon", "tab".
/// Throws InputError naming `option` otherwise.
char parse_csv_delimiter(const std::string& value, const char* option = "--delimiter");
/// A spreadsheet cell holds 32,767 characters; a longer CSV field spills into the next rows.
constexpr size_t kSpreadsheetCellBytes = 32000;
/// `v` cut to at most `max_bytes` at a UTF-8 character boundary, with " [… N more bytes]" when
/// something was cut.
std::string cut_for_cell(std::string_view v, size_t max_bytes = kSpreadsheetCellBytes);
/// UTF-8's byte-order mark, which spreadsheets write at a file's start (and tmine writes for
/// them); bom_length(): its length at the start of `s` (3), or 0 without one.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
inline size_t bom_length(std::string_view s) { return s.substr(0, 3) == kUtf8Bom ? 3 : 0; }
/// True when `s` starts with a UTF-16 byte-order mark (either order): a spreadsheet's "Unicode
/// Text". kUtf16Advice says what to do instead, for the error naming the file.
inline bool starts_utf16(std::string_view s) {
    return s.substr(0, 2) == "\xFF\xFE" || s.substr(0, 2) == "\xFE\xFF";
}
inline constexpr std::string_view kUtf16Advice =
    "the file is UTF-16 (what a spreadsheet's \"Unicode Text\" writes); save it as \"CSV UTF-8\"";

/// `v` as a JSON string literal, quotes included (`"`, `\` and control characters escaped;
/// `v` must be UTF-8).
std::string json_string(std::string_view v);

/// `v` as one CSV field (see append_csv_field).
inline std::string csv_field(std::string_view v) {
    std::string out;
    append_csv_field(out, v);
    return out;
}

/// Creates a directory (and parents) if missing. Throws IoError.
void make_dirs(const std::string& path);

}  // namespace tmine
