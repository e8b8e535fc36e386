#include "topiary/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace topiary {

Result<std::string> readFile(const std::string& path, uint64_t maxBytes) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return Status::badInput("file not found: " + path);
  if (std::filesystem::is_directory(path, ec))
    return Status::badInput("expected a file but found a folder: " + path);
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status::badInput("cannot read " + path + ": " + ec.message());
  if (size > maxBytes)
    return Status::badInput(path + " is " + std::to_string(size) + " bytes, over the limit of " +
                            std::to_string(maxBytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::badInput("cannot open " + path + ": " + std::strerror(errno));
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<uint64_t>(in.gcount()) != size)
    return Status::badInput("could not read all of " + path);
  return bytes;
}

bool sameFile(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::exists(a, ec) && std::filesystem::exists(b, ec) &&
         std::filesystem::equivalent(a, b, ec);
}

namespace {

// Writes all of `bytes` to fd and fsyncs it; on failure closes fd.
Status writeAllAndSync(int fd, const std::string& bytes, const std::string& what) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::internal("writing " + what + " failed: " + std::strerror(err));
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return Status::internal("flushing " + what + " failed: " + std::strerror(err));
  }
  return Status::ok();
}

Status renameDurably(const std::string& tmp, const std::string& path, const std::filesystem::path& dir) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    // A path the user can fix (a folder in the way, no permission) is bad
    // input; anything else is the environment's failure.
    const bool user = err == EISDIR || err == ENOTDIR || err == EACCES || err == EPERM || err == EROFS;
    const std::string msg = "cannot write " + path + ": " + std::strerror(err);
    return user ? Status::badInput(msg)
                : Status::internal("renaming " + tmp + " to " + path + " failed: " + std::strerror(err));
  }
  // Make the rename itself durable.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::ok();
}

}  // namespace

Status checkOutputPath(const std::string& path, const std::string& protect) {
  if (path.empty()) return Status::badInput("no output file given (the path is empty)");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) || std::filesystem::path(path).filename().empty())
    return Status::badInput("expected an output file but " + path + " is a folder; give a file name");
  if (!protect.empty() && sameFile(path, protect))
    return Status::badInput("refusing to overwrite the source file " + protect +
                            "; choose another output path");
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir, ec))
    return Status::badInput("output folder does not exist: " + dir.string());
  return Status::ok();
}

Status writeFileAtomic(const std::string& path, const std::string& bytes, const std::string& protect) {
  TOPIARY_RETURN_IF_ERROR(checkOutputPath(path, protect));
  std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::random_device rd;
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp-" + std::to_string(rd()))).string();
#ifdef O_TMPFILE
  // Preferred: an unnamed file in the target folder, named only once it is
  // complete and synced. A process killed while writing leaves nothing
  // behind (the kernel frees the unnamed file), not a partial temp file.
  int anon = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (anon >= 0) {
    TOPIARY_RETURN_IF_ERROR(writeAllAndSync(anon, bytes, "a temporary file in " + dir.string()));
    std::string self = "/proc/self/fd/" + std::to_string(anon);
    int linked = ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW);
    ::close(anon);
    if (linked == 0) return renameDurably(tmp, path, dir);
    // No /proc or no linkat on this file system: fall back to a named temp file.
  }
#endif
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::badInput("cannot write in " + dir.string() + ": " + std::strerror(errno));
  Status st = writeAllAndSync(fd, bytes, tmp);
  if (!st.isOk()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::internal("closing " + tmp + " failed: " + std::strerror(err));
  }
  return renameDurably(tmp, path, dir);
}

}  // namespace topiary
