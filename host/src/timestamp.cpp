// parse_timestamp: epoch numbers, ISO-8601 and Twitter's created_at, all to UTC seconds.
// Calendar arithmetic is days_from_civil (H. Hinnant), so no timegm / TZ / locale is involved.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "tmine/ingest.hpp"

namespace tmine {
namespace {

/// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
    static const unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// A cursor over the text with small "expect" helpers; every helper fails without moving.
struct Cursor {
    std::string_view s;
    size_t i = 0;

    bool done() const { return i == s.size(); }
    char peek() const { return i < s.size() ? s[i] : '\0'; }
    bool eat(char c) {
        if (peek() != c) return false;
        ++i;
        return true;
    }
    /// Exactly n digits.
    bool digits(int n, int& v) {
        if (i + n > s.size()) return false;
        int r = 0;
        for (int k = 0; k < n; ++k) {
            if (!is_digit(s[i + k])) return false;
            r = r * 10 + (s[i + k] - '0');
        }
        v = r;
        i += n;
        return true;
    }
    /// One or two digits (Twitter / RFC day numbers).
    bool digits12(int& v) {
        if (!is_digit(peek())) return false;
        v = s[i++] - '0';
        if (is_digit(peek())) v = v * 10 + (s[i++] - '0');
        return true;
    }
    bool word(std::string_view w) {
        if (s.substr(i, w.size()) != w) return false;
        i += w.size();
        return true;
    }
};

std::optional<int64_t> make_time(int64_t y, int mo, int d, int h, int mi, int sec, int offset_s) {
    if (mo < 1 || mo > 12 || d < 1 || d > static_cast<int>(days_in_month(y, mo))) return {};
    if (h > 23 || mi > 59 || sec > 60) return {};
    // 60: a leap second, which only the last minute of a UTC day has (23:59:60Z, 00:59:60+01:00)
    if (sec == 60 && ((h * 3600 + mi * 60 + sec - offset_s) % 86400 + 86400) % 86400 != 0) return {};
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
}

/// "Z", "UTC", "GMT", "+HH:MM", "+HHMM", "+HH" (also "-"); sets the offset east of UTC.
bool parse_zone(Cursor& c, int& offset_s) {
    offset_s = 0;
    if (c.eat('Z') || c.eat('z') || c.word("UTC") || c.word("GMT")) return true;
    const char sign = c.peek();
    if (sign != '+' && sign != '-') return false;
    ++c.i;
    int hh = 0, mm = 0;
    if (!c.digits(2, hh)) return false;
    if (c.eat(':')) {
        if (!c.digits(2, mm)) return false;
    } else if (is_digit(c.peek())) {
        if (!c.digits(2, mm)) return false;
    }
    if (hh > 23 || mm > 59) return false;
    offset_s = (hh * 3600 + mm * 60) * (sign == '-' ? -1 : 1);
    return true;
}

/// YYYY-MM-DD[(T|t| )HH:MM[:SS[.fff]]][ ][zone]
std::optional<int64_t> parse_iso(std::string_view s) {
    Cursor c{s};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, off = 0;
    if (!c.digits(4, y) || !c.eat('-') || !c.digits(2, mo) || !c.eat('-') || !c.digits(2, d))
        return {};
    if (!c.done()) {
        if (!(c.eat('T') || c.eat('t') || c.eat(' '))) return {};
        if (!c.digits(2, h) || !c.eat(':') || !c.digits(2, mi)) return {};
        if (c.eat(':')) {
            if (!c.digits(2, sec)) return {};
            if (c.eat('.') || c.eat(',')) {  // fractional seconds: truncated
                if (!is_digit(c.peek())) return {};
                while (is_digit(c.peek())) ++c.i;
            }
        }
        if (!c.done()) {
            c.eat(' ');
            if (!parse_zone(c, off) || !c.done()) return {};
        }
    }
    return make_time(y, mo, d, h, mi, sec, off);
}

int month_from_name(Cursor& c) {
    static const char* kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int m = 0; m < 12; ++m)
        if (c.word(kMonths[m])) return m + 1;
    return 0;
}

bool weekday_name(Cursor& c) {
    static const char* kDays[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    for (const char* d : kDays)
        if (c.word(d)) return true;
    return false;
}

/// Twitter: "Tue Oct 31 22:10:47 +0000 2017".
std::optional<int64_t> parse_twitter(std::string_view s) {
    Cursor c{s};
    int mo = 0, d = 0, h = 0, mi = 0, sec = 0, off = 0, y = 0;
    if (!weekday_name(c) || !c.eat(' ')) return {};
    if ((mo = month_from_name(c)) == 0 || !c.eat(' ')) return {};
    if (!c.digits12(d) || !c.eat(' ')) return {};
    if (!c.digits(2, h) || !c.eat(':') || !c.digits(2, mi) || !c.eat(':') || !c.digits(2, sec))
        return {};
    if (!c.eat(' ') || !parse_zone(c, off) || !c.eat(' ') || !c.digits(4, y) || !c.done())
        return {};
    return make_time(y, mo, d, h, mi, sec, off);
}

/// Epoch seconds or milliseconds: [+-]digits[.digits][e[+-]digits].
std::optional<int64_t> parse_epoch(std::string_view s) {
    size_t i = 0;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    const size_t int_begin = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    const size_t int_end = i;
    if (int_end == int_begin) return {};
    if (i == s.size() && int_end - int_begin <= 18) {  // plain integer: exact
        int64_t v = 0;
        for (size_t k = int_begin; k < int_end; ++k) v = v * 10 + (s[k] - '0');
        if (neg) v = -v;
        if (v > 100000000000LL || v < -100000000000LL) {  // milliseconds: floor division
            return v >= 0 ? v / 1000 : -((-v + 999) / 1000);
        }
        return v;
    }
    // Decimal or exponent form: validate the grammar, then convert.
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (i == s.size() || !is_digit(s[i])) return {};
        while (i < s.size() && is_digit(s[i])) ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (i == s.size() || !is_digit(s[i])) return {};
        while (i < s.size() && is_digit(s[i])) ++i;
    }
    if (i != s.size()) return {};
    if (int_end - int_begin <= 18 && int_end < s.size() && s[int_end] == '.' &&
        s.find_first_of("eE", int_end) == std::string_view::npos) {
        // A decimal without exponent: floored exactly from its digits (a double rounds
        // 1609459199.9999999 up to the next second, and so into the next day).
        int64_t v = 0;
        for (size_t k = int_begin; k < int_end; ++k) v = v * 10 + (s[k] - '0');
        const bool fraction = s.find_first_not_of('0', int_end + 1) != std::string_view::npos;
        const bool ms = v > 100000000000LL || (v == 100000000000LL && fraction);
        if (neg) v = -v - (fraction ? 1 : 0);  // floor of a negative value with a fraction
        if (ms) v = v >= 0 ? v / 1000 : -((-v + 999) / 1000);
        return v;
    }
    // from_chars: locale-independent; it takes no leading '+'.
    const char* first = s.data() + (s.front() == '+' ? 1 : 0);
    double v = 0;
    if (std::from_chars(first, s.data() + s.size(), v).ec != std::errc()) return {};
    if (!std::isfinite(v)) return {};
    if (std::fabs(v) > 1e11) v /= 1000.0;
    v = std::floor(v);
    if (std::fabs(v) > 1e15) return {};  // beyond any calendar date worth keeping
    return static_cast<int64_t>(v);
}

}  // namespace

std::optional<int64_t> parse_timestamp(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    if (s.empty()) return {};
    const char c0 = s.front();
    if (s.size() >= 10 && is_digit(c0) && s[4] == '-') return parse_iso(s);
    if ((s.size() == 8 || s.size() == 14) && std::all_of(s.begin(), s.end(), is_digit)) {
        // ISO 8601's basic form, YYYYMMDD or YYYYMMDDhhmmss (UTC), when it is a date of years
        // 1900..2199: as epoch seconds those 8 digits would be a day of 1970-73 and those 14
        // digits a date centuries ahead, neither a post's time.
        auto num = [&](size_t at, size_t len) {
            int v = 0;
            for (size_t i = at; i < at + len; ++i) v = v * 10 + (s[i] - '0');
            return v;
        };
        const int y = num(0, 4);
        if (y >= 1900 && y <= 2199) {
            const bool full = s.size() == 14;
            return make_time(y, num(4, 2), num(6, 2), full ? num(8, 2) : 0, full ? num(10, 2) : 0,
                             full ? num(12, 2) : 0, 0);
        }
    }
    if (is_digit(c0) || c0 == '-' || c0 == '+') return parse_epoch(s);
    if (c0 >= 'A' && c0 <= 'Z') return parse_twitter(s);
    return {};
}

std::string format_timestamp(int64_t t) {
    if (t == kNoTime) return "";
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char b[48];  // the year as ISO 8601 writes it: at least 4 digits (0001, not 1)
    std::snprintf(b, sizeof b, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return b;
}

}  // namespace tmine
