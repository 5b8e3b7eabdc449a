// qobject.cc: QDict iteration order, qemu's JSON pretty printer and human dump.
#include "cli/render/qobject.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace instar::cli {

QObject QObject::string(std::string s) {
  QObject o(Kind::string);
  o.string_ = std::move(s);
  return o;
}
QObject QObject::integer(int64_t v) {
  QObject o(Kind::integer);
  o.int_ = v;
  return o;
}
QObject QObject::unsigned_integer(uint64_t v) {
  QObject o(Kind::unsigned_integer);
  o.uint_ = v;
  return o;
}
QObject QObject::boolean(bool v) {
  QObject o(Kind::boolean);
  o.bool_ = v;
  return o;
}

QObject& QObject::put(const std::string& key, QObject value) {
  dict_.emplace_back(key, std::move(value));
  return *this;
}

QObject& QObject::append(QObject value) {
  list_.push_back(std::move(value));
  return *this;
}

unsigned qdict_bucket(const std::string& key) {
  // qemu's QDict hashes keys into 512 buckets (the tdb hash).
  uint32_t value = 0x238F13AFu * static_cast<uint32_t>(key.size());
  for (size_t i = 0; i < key.size(); i++)
    value += static_cast<uint32_t>(static_cast<unsigned char>(key[i])) << ((i * 5) % 24);
  return (1103515243u * value + 12345u) % 512u;
}

std::vector<const std::pair<std::string, QObject>*> QObject::dict_entries() const {
  // Buckets in ascending order; within a bucket the newest entry comes first.
  std::vector<std::pair<std::pair<unsigned, size_t>, const std::pair<std::string, QObject>*>> keyed;
  for (size_t i = 0; i < dict_.size(); i++)
    keyed.push_back({{qdict_bucket(dict_[i].first), dict_.size() - i}, &dict_[i]});
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const std::pair<std::string, QObject>*> out;
  for (auto& k : keyed) out.push_back(k.second);
  return out;
}

std::string QObject::scalar_text() const {
  char buf[32];
  switch (kind_) {
    case Kind::string:
      return string_;
    case Kind::integer:
      std::snprintf(buf, sizeof buf, "%" PRId64, int_);
      return buf;
    case Kind::unsigned_integer:
      std::snprintf(buf, sizeof buf, "%" PRIu64, uint_);
      return buf;
    case Kind::boolean:
      return bool_ ? "true" : "false";
    default:
      return "";
  }
}

namespace {

// Decodes one UTF-8 sequence the way qemu's mod_utf8_codepoint() does;
// returns -1 for an invalid sequence (qemu then prints U+FFFD).
int32_t next_codepoint(const std::string& s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    i++;
    return c;
  }
  int len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    i++;
    return -1;
  }
  int32_t cp = c & (0x7f >> len);
  for (int k = 1; k < len; k++) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) {
      i += k;
      return -1;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  static const int32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  i += len;
  if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  return cp;
}

void append_json_string(const std::string& s, std::string& out) {
  out += '"';
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    int32_t cp = next_codepoint(s, i);
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (cp < 0) cp = 0xfffd;
        if (cp >= 0x20 && cp < 0x7f) {
          out += static_cast<char>(cp);
        } else if (cp > 0xffff) {
          int32_t v = cp - 0x10000;
          std::snprintf(buf, sizeof buf, "\\u%04X\\u%04X", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
          out += buf;
        } else {
          std::snprintf(buf, sizeof buf, "\\u%04X", cp);
          out += buf;
        }
    }
  }
  out += '"';
}

void newline_indent(int level, std::string& out) {
  out += '\n';
  out.append(static_cast<size_t>(level) * 4, ' ');
}

void write_json(const QObject& v, int level, std::string& out) {
  switch (v.kind()) {
    case QObject::Kind::dict: {
      out += '{';
      bool first = true;
      for (const auto* entry : v.dict_entries()) {
        if (!first) out += ',';
        first = false;
        newline_indent(level + 1, out);
        append_json_string(entry->first, out);
        out += ": ";
        write_json(entry->second, level + 1, out);
      }
      newline_indent(level, out);
      out += '}';
      break;
    }
    case QObject::Kind::list: {
      out += '[';
      bool first = true;
      for (const auto& element : v.list_elements()) {
        if (!first) out += ',';
        first = false;
        newline_indent(level + 1, out);
        write_json(element, level + 1, out);
      }
      newline_indent(level, out);
      out += ']';
      break;
    }
    case QObject::Kind::string:
      append_json_string(v.string_value(), out);
      break;
    default:
      out += v.scalar_text();
  }
}

}  // namespace

std::string to_json_pretty(const QObject& value) {
  std::string out;
  write_json(value, 0, out);
  return out;
}

void dump_qobject(const QObject& value, int indentation, std::string& out) {
  std::string pad(static_cast<size_t>(indentation) * 4, ' ');
  if (value.kind() == QObject::Kind::dict) {
    for (const auto* entry : value.dict_entries()) {
      std::string key = entry->first;
      std::replace(key.begin(), key.end(), '-', ' ');
      bool composite = entry->second.is_composite();
      out += pad + key + ":" + (composite ? "\n" : " ");
      dump_qobject(entry->second, indentation + 1, out);
      if (!composite) out += "\n";
    }
  } else if (value.kind() == QObject::Kind::list) {
    int i = 0;
    for (const auto& element : value.list_elements()) {
      bool composite = element.is_composite();
      out += pad + "[" + std::to_string(i++) + "]:" + (composite ? "\n" : " ");
      dump_qobject(element, indentation + 1, out);
      if (!composite) out += "\n";
    }
  } else {
    out += value.scalar_text();
  }
}

}  // namespace instar::cli
