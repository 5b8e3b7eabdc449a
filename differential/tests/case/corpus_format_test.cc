// corpus_format_test.cc: every case file in corpora/cases parses, is named after its file and is in canonical
// form.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "differential/case/case.h"

namespace instar::diff {
namespace {

std::vector<std::filesystem::path> corpus_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(INSTAR_CASES_DIR)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  return files;
}

TEST(CorpusFormat, EveryCaseFileIsCanonical) {
  auto files = corpus_files();
  if (files.empty()) GTEST_SKIP() << "no case files under " << INSTAR_CASES_DIR;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    Case c;
    ASSERT_NO_THROW(c = parse_case(text.str()));
    EXPECT_EQ(c.name, file.stem().string()) << "a case is named after its file";
    EXPECT_EQ(serialise_case(c), text.str()) << "not in canonical form; this is it:\n" << serialise_case(c);
  }
}

}  // namespace
}  // namespace instar::diff

namespace instar::diff {
namespace {

// Every "divergence" a case names is documented: docs/divergences.md has a "## <id>" heading.
TEST(CorpusFormat, EveryDivergenceIsDocumented) {
  std::ifstream doc(std::filesystem::path(INSTAR_CASES_DIR) / ".." / ".." / "docs" / "divergences.md");
  ASSERT_TRUE(doc) << "docs/divergences.md is missing";
  std::ostringstream text;
  text << doc.rdbuf();
  size_t with_divergence = 0;
  for (const auto& file : corpus_files()) {
    Case c = load_case(file);
    if (c.divergence.empty()) continue;
    with_divergence++;
    EXPECT_NE(text.str().find("\n## " + c.divergence + "\n"), std::string::npos)
        << file << " names divergence '" << c.divergence << "' which docs/divergences.md does not document";
  }
  EXPECT_GT(with_divergence, 0u);
}

}  // namespace
}  // namespace instar::diff
