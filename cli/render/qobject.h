// qobject.h: a model of qemu's QObject values, so output is printed in the
// order and shape qemu prints it (QDict iterates in its hash-bucket order).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace instar::cli {

class QObject {
 public:
  enum class Kind { dict, list, string, integer, unsigned_integer, boolean };

  static QObject dict() { return QObject(Kind::dict); }
  static QObject list() { return QObject(Kind::list); }
  static QObject string(std::string s);
  static QObject integer(int64_t v);
  static QObject unsigned_integer(uint64_t v);
  static QObject boolean(bool v);

  Kind kind() const { return kind_; }
  bool is_composite() const { return kind_ == Kind::dict || kind_ == Kind::list; }

  // Dict: insert in QAPI field order (it decides the order within a hash bucket).
  QObject& put(const std::string& key, QObject value);
  // List: append.
  QObject& append(QObject value);

  // Dict entries in qemu's iteration order; list elements in order.
  std::vector<const std::pair<std::string, QObject>*> dict_entries() const;
  const std::vector<QObject>& list_elements() const { return list_; }
  const std::string& string_value() const { return string_; }
  std::string scalar_text() const;  // qemu's text for a scalar (no quotes)

 private:
  explicit QObject(Kind kind) : kind_(kind) {}
  Kind kind_;
  std::vector<std::pair<std::string, QObject>> dict_;
  std::vector<QObject> list_;
  std::string string_;
  int64_t int_ = 0;
  uint64_t uint_ = 0;
  bool bool_ = false;
};

// qemu's QDict bucket of a key (the order in which qdict_first/next visit entries).
unsigned qdict_bucket(const std::string& key);

// qobject_to_json_pretty().
std::string to_json_pretty(const QObject& value);

// block/qapi.c's dump_qobject(): the human "Format specific information" tree.
void dump_qobject(const QObject& value, int indentation, std::string& out);

}  // namespace instar::cli
