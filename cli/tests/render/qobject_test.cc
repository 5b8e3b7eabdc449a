#include "cli/render/qobject.h"

#include <gtest/gtest.h>

namespace instar::cli {
namespace {

std::vector<std::string> keys_in_order(const QObject& dict) {
  std::vector<std::string> out;
  for (const auto* e : dict.dict_entries()) out.push_back(e->first);
  return out;
}

// The orders below are what qemu-img 7.2 prints for `info --output=json`.
TEST(QDictOrder, ImageInfoKeys) {
  QObject o = QObject::dict();
  for (const char* k :
       {"filename", "format", "dirty-flag", "actual-size", "virtual-size", "cluster-size", "format-specific"})
    o.put(k, QObject::integer(0));
  EXPECT_EQ(keys_in_order(o), (std::vector<std::string>{"virtual-size", "filename", "cluster-size", "format",
                                                        "actual-size", "format-specific", "dirty-flag"}));
}

TEST(QDictOrder, Qcow2SpecificKeys) {
  QObject o = QObject::dict();
  for (const char* k :
       {"compat", "extended-l2", "lazy-refcounts", "corrupt", "refcount-bits", "compression-type"})
    o.put(k, QObject::integer(0));
  EXPECT_EQ(keys_in_order(o), (std::vector<std::string>{"compat", "compression-type", "lazy-refcounts",
                                                        "refcount-bits", "corrupt", "extended-l2"}));
}

TEST(JsonPretty, EmptyContainersOpenAndCloseOnSeparateLines) {
  QObject o = QObject::dict();
  o.put("data", QObject::dict());
  o.put("children", QObject::list());
  EXPECT_EQ(to_json_pretty(o), "{\n    \"children\": [\n    ],\n    \"data\": {\n    }\n}");
}

TEST(JsonPretty, EscapesControlAndNonAscii) {
  QObject o = QObject::string("a\"b\\c\n\x01\xc3\xa9\xff");
  EXPECT_EQ(to_json_pretty(o), "\"a\\\"b\\\\c\\n\\u0001\\u00E9\\uFFFD\"");
}

TEST(DumpQObject, ReplacesDashesAndIndentsLists) {
  QObject o = QObject::dict();
  QObject flags = QObject::list();
  flags.append(QObject::string("auto"));
  o.put("flags", std::move(flags));
  std::string out;
  dump_qobject(o, 1, out);
  EXPECT_EQ(out, "    flags:\n        [0]: auto\n");
}

}  // namespace
}  // namespace instar::cli
