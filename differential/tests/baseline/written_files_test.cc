// written_files_test.cc: a written file's recorded size, layout and digests catch every kind of difference.
#include "differential/baseline/written_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "differential/runner/scratch_directory.h"
#include "differential/tests/runner/test_files.h"

namespace instar::diff {
namespace {

// A 1 MiB file with 4 KiB of 0xaa at 64 KiB and the rest a hole; `fill` writes the zeros too.
void write_sparse(const std::filesystem::path& file, bool fill = false, char byte = '\xaa') {
  std::filesystem::remove(file);
  int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  if (fill) {
    std::string zeros(1 << 20, '\0');
    ASSERT_EQ(pwrite(fd, zeros.data(), zeros.size(), 0), static_cast<ssize_t>(zeros.size()));
  }
  std::string data(4096, byte);
  ASSERT_EQ(pwrite(fd, data.data(), data.size(), 65536), 4096);
  ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
  close(fd);
}

class WrittenFilesTest : public ::testing::Test {
 protected:
  std::filesystem::path work() const { return dir_.path(); }
  TreeDigest digest() const { return digest_tree(dir_.path()); }
  ScratchDirectory dir_{default_temp_root(), "written-files-test-"};
};

TEST_F(WrittenFilesTest, RecordsTheLayoutAndDigestOfWhatARunWrote) {
  testing::write_file(work() / "in.raw", "input");
  TreeDigest before = digest();
  write_sparse(work() / "out.raw");
  std::vector<WrittenFile> files = capture_written_files(work(), before, digest());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, "out.raw");
  EXPECT_EQ(files[0].size, 1u << 20);
  ASSERT_EQ(files[0].data.size(), 1u);
  EXPECT_EQ(files[0].data[0].offset, 65536u);
  EXPECT_EQ(files[0].data[0].length, 4096u);
  EXPECT_EQ(files[0].data[0].sha256.size(), 64u);
  EXPECT_TRUE(compare_written_files(files, work(), before, digest()).empty());
}

TEST_F(WrittenFilesTest, AWrongDigestFailsNamingTheBytes) {
  TreeDigest before = digest();
  write_sparse(work() / "out.raw");
  std::vector<WrittenFile> files = capture_written_files(work(), before, digest());
  files[0].data[0].sha256 = std::string(64, '0');
  auto problems = compare_written_files(files, work(), before, digest());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("out.raw: bytes 65536-69632 differ from the reference's"), std::string::npos)
      << problems[0];
}

TEST_F(WrittenFilesTest, ZerosWrittenWhereTheReferenceLeftAHoleFailTheLayout) {
  TreeDigest before = digest();
  write_sparse(work() / "out.raw");
  std::vector<WrittenFile> files = capture_written_files(work(), before, digest());
  write_sparse(work() / "out.raw", true);  // the same bytes, but no hole
  auto problems = compare_written_files(files, work(), before, digest());
  ASSERT_EQ(problems.size(), 1u) << problems[0];
  EXPECT_NE(problems[0].find("out.raw: data/hole layout differs"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("-hole 0-65536 (65536 bytes)"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("+data 0-1048576 (1048576 bytes)"), std::string::npos) << problems[0];
}

TEST_F(WrittenFilesTest, OtherBytesInTheSameLayoutFail) {
  TreeDigest before = digest();
  write_sparse(work() / "out.raw");
  std::vector<WrittenFile> files = capture_written_files(work(), before, digest());
  write_sparse(work() / "out.raw", false, '\xbb');
  auto problems = compare_written_files(files, work(), before, digest());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("bytes 65536-69632 differ"), std::string::npos) << problems[0];
}

TEST_F(WrittenFilesTest, AWrongRecordedLayoutFails) {
  TreeDigest before = digest();
  write_sparse(work() / "out.raw");
  std::vector<WrittenFile> files = capture_written_files(work(), before, digest());
  files[0].data[0].offset = 0;  // as if the reference had written at 0
  auto problems = compare_written_files(files, work(), before, digest());
  ASSERT_GE(problems.size(), 2u);
  EXPECT_NE(problems[0].find("data/hole layout differs"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("bytes 0-4096 differ"), std::string::npos) << problems[1];
  EXPECT_NE(problems.back().find("non-zero byte at offset 65536, where the reference left zeros"),
            std::string::npos)
      << problems.back();
}

TEST_F(WrittenFilesTest, SizeMissingExtraAndTouchedFilesFail) {
  testing::write_file(work() / "in.raw", "input");
  testing::write_file(work() / "gone.raw", "x");
  TreeDigest before = digest();
  write_sparse(work() / "out.raw");
  std::filesystem::remove(work() / "gone.raw");
  std::vector<WrittenFile> files = capture_written_files(work(), before, digest());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].kind, WrittenFile::Kind::removed);
  // The subject: a shorter out.raw, gone.raw kept, in.raw changed, an extra file.
  std::filesystem::remove(work() / "out.raw");
  testing::write_file(work() / "gone.raw", "x");
  testing::write_file(work() / "out.raw.tmp", "");
  testing::write_file(work() / "out.raw", "short");
  testing::write_file(work() / "in.raw", "other");
  auto problems = compare_written_files(files, work(), before, digest());
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find("gone.raw: the reference removed it, the subject left it"), std::string::npos) << all;
  EXPECT_NE(all.find("out.raw: size differs: reference 1048576, subject 5"), std::string::npos) << all;
  EXPECT_NE(all.find("in.raw: the subject changed it (content changed"), std::string::npos) << all;
  EXPECT_NE(all.find("out.raw.tmp: only the subject left it"), std::string::npos) << all;
}

TEST_F(WrittenFilesTest, ARecordNamingAPathOutsideIsRefused) {
  TreeDigest before = digest();
  std::vector<WrittenFile> files = {WrittenFile{"../escape", WrittenFile::Kind::file, 0, {}}};
  auto problems = compare_written_files(files, work(), before, digest());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("outside the work directory"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace instar::diff
