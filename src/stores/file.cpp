#include <jwtkit/stores/file.hpp>

#include <jwtkit/json.hpp>

#include "crypto_util.hpp"

#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace jwtkit {

namespace {

constexpr std::string_view kPrefix = "key-";
constexpr std::string_view kSuffix = ".json";
constexpr const char* kLockName = ".lock";
constexpr std::size_t kMaxFileBytes = 256 * 1024;

Error io_error(const std::string& what, const std::string& path, int err) {
  return Error(Errc::io_error, what + " '" + path + "': " + std::strerror(err),
               std::error_code(err, std::generic_category()));
}

Error corrupt(const std::string& path, const std::string& why) {
  return Error(Errc::malformed, "key file '" + path + "' is corrupt: " + why);
}

/// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  /// Closes now, reporting the error close() gives (it can report a failed write).
  int close() noexcept {
    int rc = fd_ >= 0 ? ::close(fd_) : 0;
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool is_key_file_name(std::string_view name) {
  if (name.size() != kPrefix.size() + 64 + kSuffix.size()) return false;
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
  for (char c : name.substr(kPrefix.size(), 64)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

/// An flock on the directory's lock file, held for the object's lifetime. Each holder opens
/// the file itself, so the lock also excludes other threads of this process.
class DirLock {
 public:
  static Result<DirLock> acquire(const std::string& dir, bool exclusive) {
    const std::string path = dir + "/" + kLockName;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return io_error("cannot open lock file", path, errno);
    DirLock lock(fd);
    while (::flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
      if (errno != EINTR) return io_error("cannot lock", path, errno);
    }
    return lock;
  }
  DirLock(DirLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  DirLock& operator=(DirLock&&) = delete;
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

 private:
  explicit DirLock(int fd) noexcept : fd_(fd) {}
  int fd_;
};

Result<void> fsync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return io_error("cannot open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return io_error("cannot fsync directory", dir, errno);
  return ok();
}

Result<std::string> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return io_error("cannot open key file", path, errno);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read key file", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxFileBytes) return corrupt(path, "larger than 256 KiB");
  }
  return out;
}

Result<KeyRecord> parse_record(const std::string& path, std::string_view text,
                               std::string_view expected_name) {
  auto rec = key_record_from_json(text);
  if (!rec) return corrupt(path, rec.error().message());
  auto expected = detail::sha256_hex(rec->kid());
  if (!expected) return std::move(expected).error();
  if (expected_name != std::string(kPrefix) + *expected + std::string(kSuffix)) {
    return corrupt(path, "the file name does not match the kid it holds");
  }
  return rec;
}

Result<std::string> serialize(const KeyRecord& r) {
  auto text = key_record_to_json(r, 2);
  if (!text) return text;
  return *text + "\n";
}

/// A file written and fsync'ed under a temporary name, not yet renamed into place.
struct Staged {
  std::string temp;
  std::string target;
};

Result<Staged> stage(const std::string& dir, const std::string& target, const std::string& text) {
  auto suffix = detail::random_id();
  if (!suffix) return std::move(suffix).error();
  Staged s{dir + "/.tmp-" + *suffix, target};
  Fd fd(::open(s.temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return io_error("cannot create", s.temp, errno);
  auto fail = [&](const char* what) {
    const int err = errno;
    ::unlink(s.temp.c_str());
    return io_error(what, s.temp, err);
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail("cannot chmod");
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("cannot fsync");
  if (fd.close() != 0) return fail("cannot close");
  return s;
}

void discard(const std::vector<Staged>& staged) {
  for (const auto& s : staged) ::unlink(s.temp.c_str());
}

/// Writes every record under a temporary name first, then renames them all into place, so a
/// failed write changes nothing: files replaced before a failed rename are put back.
Result<void> write_records(const FileKeyStore& store, const std::vector<KeyRecord>& records) {
  std::vector<Staged> staged;
  for (const auto& r : records) {
    auto target = store.path_for(r.kid());
    if (!target) {
      discard(staged);
      return std::move(target).error();
    }
    auto text = serialize(r);
    if (!text) {
      discard(staged);
      return std::move(text).error();
    }
    auto s = stage(store.directory(), *target, *text);
    if (!s) {
      discard(staged);
      return std::move(s).error();
    }
    staged.push_back(std::move(*s));
  }
  if (staged.size() == 1) {  // a single rename is atomic by itself
    if (::rename(staged[0].temp.c_str(), staged[0].target.c_str()) != 0) {
      const int err = errno;
      discard(staged);
      return io_error("cannot rename into place", staged[0].target, err);
    }
    return fsync_dir(store.directory());
  }

  // Several files: keep a hard link to each file about to be replaced, to undo with.
  std::vector<std::string> backups(staged.size());
  auto drop_backups = [&] {
    for (const auto& b : backups) {
      if (!b.empty()) ::unlink(b.c_str());
    }
  };
  for (std::size_t i = 0; i < staged.size(); ++i) {
    auto suffix = detail::random_id();
    if (!suffix) {
      drop_backups();
      discard(staged);
      return std::move(suffix).error();
    }
    const std::string backup = store.directory() + "/.bak-" + *suffix;
    if (::link(staged[i].target.c_str(), backup.c_str()) == 0) {
      backups[i] = backup;
    } else if (errno != ENOENT) {
      const int err = errno;
      drop_backups();
      discard(staged);
      return io_error("cannot keep a backup of", staged[i].target, err);
    }
  }
  for (std::size_t i = 0; i < staged.size(); ++i) {
    if (::rename(staged[i].temp.c_str(), staged[i].target.c_str()) == 0) continue;
    const int err = errno;
    for (std::size_t j = 0; j < i; ++j) {  // undo the renames already done
      if (backups[j].empty()) {
        ::unlink(staged[j].target.c_str());
      } else {
        ::rename(backups[j].c_str(), staged[j].target.c_str());
        backups[j].clear();
      }
    }
    drop_backups();
    discard(std::vector<Staged>(staged.begin() + static_cast<std::ptrdiff_t>(i), staged.end()));
    return io_error("cannot rename into place", staged[i].target, err);
  }
  drop_backups();
  return fsync_dir(store.directory());
}

Result<std::vector<KeyRecord>> load_locked(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return io_error("cannot read key directory", dir, errno);
  std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    if (is_key_file_name(e->d_name)) names.emplace_back(e->d_name);
    errno = 0;
  }
  if (errno != 0) return io_error("cannot list key directory", dir, errno);

  std::vector<KeyRecord> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    auto text = read_file(path);
    if (!text) {
      // Removed between listing and reading: not an error.
      if (text.error().cause() == std::errc::no_such_file_or_directory) continue;
      return std::move(text).error();
    }
    auto rec = parse_record(path, *text, name);
    if (!rec) return std::move(rec).error();
    out.push_back(std::move(*rec));
  }
  return out;
}

Error no_kid() { return Error(Errc::invalid_argument, "key record has no kid"); }

}  // namespace

Result<std::shared_ptr<FileKeyStore>> FileKeyStore::open(const std::string& dir) {
  if (dir.empty()) return Error(Errc::invalid_argument, "key directory must not be empty");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return io_error("cannot access key directory", dir, errno);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return io_error("cannot create key directory", dir, errno);
    }
    if (::stat(dir.c_str(), &st) != 0) return io_error("cannot access key directory", dir, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(Errc::io_error, "key directory '" + dir + "' is not a directory");
  }
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return io_error("cannot use key directory", dir, errno);
  }
  return std::shared_ptr<FileKeyStore>(new FileKeyStore(dir));
}

Result<std::string> FileKeyStore::path_for(std::string_view kid) const {
  if (kid.empty()) return no_kid();
  auto hash = detail::sha256_hex(kid);
  if (!hash) return std::move(hash).error();
  return dir_ + "/" + std::string(kPrefix) + *hash + std::string(kSuffix);
}

Result<std::vector<KeyRecord>> FileKeyStore::load_all() {
  try {
    auto lock = DirLock::acquire(dir_, false);
    if (!lock) return std::move(lock).error();
    return load_locked(dir_);
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("FileKeyStore::load_all: ") + e.what());
  }
}

Result<void> FileKeyStore::save(const KeyRecord& record) {
  if (record.kid().empty()) return no_kid();
  try {
    auto lock = DirLock::acquire(dir_, true);
    if (!lock) return std::move(lock).error();
    return write_records(*this, {record});
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("FileKeyStore::save: ") + e.what());
  }
}

Result<void> FileKeyStore::remove(std::string_view kid) {
  try {
    auto path = path_for(kid);
    if (!path) return std::move(path).error();
    auto lock = DirLock::acquire(dir_, true);
    if (!lock) return std::move(lock).error();
    if (::unlink(path->c_str()) != 0) {
      if (errno == ENOENT) return ok();
      return io_error("cannot remove key file", *path, errno);
    }
    return fsync_dir(dir_);
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("FileKeyStore::remove: ") + e.what());
  }
}

Result<void> FileKeyStore::save_if_active(std::string_view expected_active_kid,
                                          const std::vector<KeyRecord>& records) {
  for (const auto& r : records) {
    if (r.kid().empty()) return no_kid();
  }
  try {
    auto lock = DirLock::acquire(dir_, true);
    if (!lock) return std::move(lock).error();
    auto current = load_locked(dir_);
    if (!current) return std::move(current).error();
    std::size_t active_count = 0;
    bool expected_is_active = false;
    for (const auto& r : *current) {
      if (r.state != KeyState::active) continue;
      ++active_count;
      if (r.kid() == expected_active_kid) expected_is_active = true;
    }
    const bool holds = key_store_expectation_holds(active_count, expected_is_active, expected_active_kid);
    if (!holds) {
      return Error(Errc::store_conflict, "the active key is no longer '" +
                                             std::string(expected_active_kid) + "'");
    }
    return write_records(*this, records);
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("FileKeyStore::save_if_active: ") + e.what());
  }
}

}  // namespace jwtkit
