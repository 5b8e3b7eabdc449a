// tree_digest_test.cc: fingerprints of a directory notice every change to it.
#include "differential/runner/tree_digest.h"

#include <gtest/gtest.h>

#include "differential/runner/scratch_directory.h"
#include "differential/tests/runner/test_files.h"

namespace instar::diff {
namespace {

using testing::write_file;

class TreeDigestTest : public ::testing::Test {
 protected:
  ScratchDirectory dir_{default_temp_root(), "tree-digest-test-"};
};

TEST_F(TreeDigestTest, ListsFilesDirectoriesAndLinks) {
  write_file(dir_.path() / "a", "hello");
  std::filesystem::create_directory(dir_.path() / "sub");
  write_file(dir_.path() / "sub" / "b", "");
  std::filesystem::create_symlink("a", dir_.path() / "link");
  TreeDigest t = digest_tree(dir_.path());
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t["a"].kind, EntryDigest::Kind::file);
  EXPECT_EQ(t["a"].size, 5u);
  EXPECT_EQ(t["sub"].kind, EntryDigest::Kind::directory);
  EXPECT_EQ(t["sub/b"].kind, EntryDigest::Kind::file);
  EXPECT_EQ(t["link"].kind, EntryDigest::Kind::symlink);
}

TEST_F(TreeDigestTest, SameContentSameDigest) {
  write_file(dir_.path() / "a", "hello");
  TreeDigest first = digest_tree(dir_.path());
  write_file(dir_.path() / "a", "hello");
  EXPECT_TRUE(diff_trees(first, digest_tree(dir_.path())).empty());
}

TEST_F(TreeDigestTest, ASingleChangedByteIsNoticed) {
  write_file(dir_.path() / "a", std::string(100000, 'x'));
  TreeDigest before = digest_tree(dir_.path());
  std::string changed(100000, 'x');
  changed[77777] = 'y';
  write_file(dir_.path() / "a", changed);
  auto changes = diff_trees(before, digest_tree(dir_.path()));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].path, "a");
  EXPECT_EQ(changes[0].what, "content changed");
}

TEST_F(TreeDigestTest, ALastByteBeyondSeveralReadsIsNoticed) {
  std::string bytes((3 << 20) + 5, 'z');
  write_file(dir_.path() / "a", bytes);
  TreeDigest before = digest_tree(dir_.path());
  bytes.back() = 'y';
  write_file(dir_.path() / "a", bytes);
  EXPECT_EQ(diff_trees(before, digest_tree(dir_.path())).size(), 1u);
  bytes.back() = 'z';
  write_file(dir_.path() / "a", bytes);
  EXPECT_TRUE(diff_trees(before, digest_tree(dir_.path())).empty());
}

TEST_F(TreeDigestTest, CreationRemovalAndResizeAreNoticed) {
  write_file(dir_.path() / "keep", "1");
  write_file(dir_.path() / "gone", "1");
  TreeDigest before = digest_tree(dir_.path());
  std::filesystem::remove(dir_.path() / "gone");
  write_file(dir_.path() / "new", "");
  write_file(dir_.path() / "keep", "12");
  auto changes = diff_trees(before, digest_tree(dir_.path()), TreeDiffScope::content);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].path, "gone");
  EXPECT_EQ(changes[0].what, "removed");
  EXPECT_EQ(changes[1].path, "keep");
  EXPECT_EQ(changes[1].what, "size 1 -> 2, content changed");
  EXPECT_EQ(changes[2].path, "new");
  EXPECT_EQ(changes[2].what, "created");
}

}  // namespace
}  // namespace instar::diff
