// labs/05-layers/grader/checks.cpp — the checks of lab 05 (applying layers).
//
// Each check writes its own layers (tar archives made here with libarchive,
// with random names and contents) into a temporary folder laid out like a
// small host:
//
//   TMP/host/etc/passwd               a file an attacker would like to reach
//   TMP/host/tmp/outside/             a folder the same; the program runs here
//   TMP/host/var/lib/sentinel-TOKEN   one more, right beside the root
//   TMP/host/var/lib/rootfs/          the root being built
//   TMP/layer-N.tar
//
// then runs `apply-layers ROOTFS layer-1.tar …` and looks at the root. The
// hostile checks also compare everything under TMP/host but the root (names,
// types, modes, link counts, contents) before and after: a layer may aim
// anywhere, but every name a check writes aims inside TMP/host, so even a
// wrong submission cannot reach the real host.
#include <catch2/catch.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <stdexcept>

#include "grading.hpp"

namespace {

namespace stdfs = lab::stdfs;

const std::string kProgram = LAB_PROGRAM;

// ---- writing layers ---------------------------------------------------------------

enum class Type { File, Dir, Symlink, Hardlink };

// One entry of a layer. DATA is a file's contents, or a link's target.
struct Entry {
  std::string name;
  Type type = Type::File;
  std::string data;
  int mode = 0644;
  long uid = 0;
  long gid = 0;
};

Entry file(std::string name, std::string data, int mode = 0644) {
  return {std::move(name), Type::File, std::move(data), mode};
}
Entry dir(std::string name, int mode = 0755) { return {std::move(name), Type::Dir, "", mode}; }
Entry sym(std::string name, std::string target) {
  return {std::move(name), Type::Symlink, std::move(target), 0777};
}
Entry hard(std::string name, std::string target) {
  return {std::move(name), Type::Hardlink, std::move(target), 0644};
}
Entry owned(Entry e, long uid, long gid) {
  e.uid = uid;
  e.gid = gid;
  return e;
}
// A whiteout of NAME in DIR ("" for the root), and an opaque marker.
Entry whiteout(const std::string& dir_name, const std::string& name) {
  return file((dir_name.empty() ? "" : dir_name + "/") + ".wh." + name, "");
}
Entry opaque(const std::string& dir_name) { return file(dir_name + "/.wh..wh..opq", ""); }

using Layer = std::vector<Entry>;

struct WriterFree {
  void operator()(archive* a) const { archive_write_free(a); }
};

void expect_ok(archive* a, int rc, const std::string& what) {
  if (rc < ARCHIVE_WARN)
    throw std::runtime_error("grader: " + what + ": " + (archive_error_string(a) != nullptr ? archive_error_string(a) : "libarchive"));
}

// The layer as a pax tar (long names and big ids are fine), entries in the
// order given: the order is part of what some checks test.
void write_layer(const stdfs::path& path, const Layer& layer) {
  std::unique_ptr<archive, WriterFree> out(archive_write_new());
  expect_ok(out.get(), archive_write_set_format_pax_restricted(out.get()), "tar format");
  expect_ok(out.get(), archive_write_open_filename(out.get(), path.c_str()), "open " + path.string());
  for (const auto& e : layer) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                        archive_entry_free);
    archive_entry* a = entry.get();
    archive_entry_copy_pathname(a, e.name.c_str());
    archive_entry_set_perm(a, e.mode);
    archive_entry_set_uid(a, e.uid);
    archive_entry_set_gid(a, e.gid);
    archive_entry_set_mtime(a, 1'700'000'000, 0);
    switch (e.type) {
      case Type::File:
        archive_entry_set_filetype(a, AE_IFREG);
        archive_entry_set_size(a, static_cast<la_int64_t>(e.data.size()));
        break;
      case Type::Dir:
        archive_entry_set_filetype(a, AE_IFDIR);
        break;
      case Type::Symlink:
        archive_entry_set_filetype(a, AE_IFLNK);
        archive_entry_copy_symlink(a, e.data.c_str());
        break;
      case Type::Hardlink:
        archive_entry_set_filetype(a, AE_IFREG);
        archive_entry_copy_hardlink(a, e.data.c_str());
        break;
    }
    expect_ok(out.get(), archive_write_header(out.get(), a), "write " + e.name);
    if (e.type == Type::File && !e.data.empty())
      expect_ok(out.get(), static_cast<int>(archive_write_data(out.get(), e.data.data(), e.data.size())),
                "write " + e.name);
  }
  expect_ok(out.get(), archive_write_close(out.get()), "close " + path.string());
}

// ---- looking at folders -------------------------------------------------------------

// Everything below DIR, a line each, sorted: "name/" for a folder,
// "name -> target" for a symlink, "name = contents" for a file. DETAILS adds
// the mode, owner and link count. SKIP (a folder below DIR) is listed, not
// entered.
std::string listing(const stdfs::path& dir, bool details = false, const stdfs::path& skip = {}) {
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    const stdfs::path& p = it->path();
    if (!skip.empty() && p == skip) {
      it.disable_recursion_pending();
      lines.push_back(p.lexically_relative(dir).string() + "/ (the root: not compared)");
      continue;
    }
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    std::string line = p.lexically_relative(dir).string();
    if (S_ISDIR(st.st_mode)) line += "/";
    if (S_ISLNK(st.st_mode)) line += " -> " + stdfs::read_symlink(p).string();
    if (S_ISREG(st.st_mode)) line += " = " + lab::read_file(p);
    if (details) {
      char extra[96];
      std::snprintf(extra, sizeof extra, "  (mode %04o, owner %u:%u, links %lu)", st.st_mode & 07777, st.st_uid,
                    st.st_gid, static_cast<unsigned long>(st.st_nlink));
      line += extra;
    }
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::string expected(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// ---- one stage: a small host, a root in it, layers --------------------------------

struct Stage {
  lab::TempDir tmp{"lab05"};
  std::string token = lab::random_token(8);
  stdfs::path host = tmp / "host";
  stdfs::path rootfs = host / "var/lib/rootfs";
  stdfs::path passwd = host / "etc/passwd";
  stdfs::path outside = host / "tmp/outside";
  std::string sentinel = "sentinel-" + token;

  Stage() {
    stdfs::create_directories(rootfs);
    stdfs::create_directories(outside);
    stdfs::create_directories(host / "etc");
    lab::write_file(passwd, "root:x:0:0:" + token + ":/root:/bin/sh\n");
    lab::write_file(outside / "file", "outside " + token + "\n");
    lab::write_file(host / "var/lib" / sentinel, "beside the root " + token + "\n");
  }
  // Everything under host/ but the root, in detail.
  std::string host_state() const { return listing(host, true, rootfs); }
  std::string tree() const { return listing(rootfs); }

  // Writes LAYERS as layer-1.tar … and runs apply-layers on them, from
  // host/tmp/outside (outside the root: a name that is not made relative to
  // the root lands beside the host's files, where it shows).
  lab::RunResult apply(const std::vector<Layer>& layers) const {
    std::vector<std::string> argv = {kProgram, rootfs.string()};
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const auto tar = tmp / ("layer-" + std::to_string(i + 1) + ".tar");
      write_layer(tar, layers[i]);
      argv.push_back(tar.string());
    }
    return lab::run(argv, lab::RunOptions{.cwd = outside});
  }
};

std::string describe_layers(const std::vector<Layer>& layers) {
  std::string s = "the layers, bottom first —\n";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    s += "layer " + std::to_string(i + 1) + ":";
    for (const auto& e : layers[i]) {
      s += " " + e.name;
      if (e.type == Type::Dir && !e.name.ends_with('/')) s += "/";
      if (e.type == Type::Symlink) s += " -> " + e.data;
      if (e.type == Type::Hardlink) s += " (hard link to " + e.data + ")";
      s += ",";
    }
    s.back() = '\n';
  }
  return s + "result: ";
}

// A hostile stack: LAYERS(stage) gives the layers and the name of the entry
// that must be refused. apply-layers must exit 125, name that entry, and
// leave everything outside the root as it was.
void expect_refused(const std::function<std::pair<std::vector<Layer>, std::string>(const Stage&)>& make) {
  const Stage stage;
  const auto [layers, entry] = make(stage);
  const auto before = stage.host_state();
  const auto r = stage.apply(layers);
  const auto after = stage.host_state();
  INFO(describe_layers(layers) << r.describe());
  INFO("the entry \"" << entry << "\" must be refused: exit code 125");
  CHECK(r.exit_code == 125);
  INFO("the error message must name the entry \"" << entry << "\"");
  CHECK(r.err.find(entry) != std::string::npos);
  INFO("nothing outside the root may change. Before:\n" << before << "after:\n" << after);
  CHECK(after == before);
}

// A stack that must apply: exit 0 and nothing outside the root touched.
void expect_applied(const Stage& stage, const std::vector<Layer>& layers, const std::string& want) {
  const auto before = stage.host_state();
  const auto r = stage.apply(layers);
  INFO(describe_layers(layers) << r.describe());
  REQUIRE(r.exit_code == 0);
  INFO("nothing outside the root may change");
  CHECK(stage.host_state() == before);
  INFO("the root must hold exactly:\n" << want);
  CHECK(stage.tree() == want);
}

struct stat lstat_of(const stdfs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) st.st_mode = 0;
  return st;
}

}  // namespace

// ---- applying a stack -------------------------------------------------------------

TEST_CASE("a stack of three layers: a later entry replaces an earlier one, the rest stays", "[points=15]") {
  const Stage s;
  const std::string t = s.token;
  const std::vector<Layer> layers = {
      {dir("etc"), file("etc/conf", "one " + t), dir("bin"), file("bin/tool", "tool " + t, 0755), dir("lib"),
       file("lib/real", "real " + t), sym("lib/link", "real"), file("notes", "notes " + t),
       dir("keep"), file("keep/a", "a " + t)},
      {file("etc/conf", "two " + t), file("lib/link", "was a link " + t), file("etc/new", "new " + t)},
      {file("etc/conf", "three " + t), sym("bin/tool", "../etc/conf"), dir("notes"),
       file("notes/inside", "inside " + t)},
  };
  expect_applied(s, layers,
                 expected({"bin/", "bin/tool -> ../etc/conf", "etc/", "etc/conf = three " + t, "etc/new = new " + t,
                           "keep/", "keep/a = a " + t, "lib/", "lib/link = was a link " + t,
                           "lib/real = real " + t, "notes/", "notes/inside = inside " + t}));
}

TEST_CASE("a whiteout deletes a file and a whole directory of the layers below", "[points=10]") {
  const Stage s;
  const std::string t = s.token, gone = "gone-" + t, tree = "tree-" + t;
  const std::vector<Layer> layers = {
      {file("keep", "keep " + t), file(gone, "gone"), dir(tree), file(tree + "/a", "a"), dir(tree + "/sub"),
       file(tree + "/sub/b", "b"), sym(tree + "/sub/c", s.outside.string()), dir("other"), file("other/x", "x"),
       dir("re"), file("re/old", "old")},
      // The whiteout of "re" comes after this layer's own re/new: it deletes
      // the lower re/, not this layer's. A whiteout of nothing is no error.
      {whiteout("", gone), whiteout("", tree), whiteout("other", "x"), file("other/y", "y " + t), dir("re"),
       file("re/new", "new " + t), whiteout("", "re"), whiteout("", "never-" + t)},
  };
  expect_applied(s, layers,
                 expected({"keep = keep " + t, "other/", "other/y = y " + t, "re/", "re/new = new " + t}));
}

// The lower layer of the two opaque checks, and what stays of it.
Layer lower_of_opaque(const Stage& s) {
  const std::string t = s.token;
  return {dir("op", 0750), file("op/old", "old"), dir("op/sub"), file("op/sub/deep", "deep"),
          sym("op/link", s.outside.string()), file("op/both", "lower " + t), dir("side"),
          file("side/s", "s " + t), dir("op2", 0750), file("op2/old", "old")};
}

TEST_CASE("an opaque directory, marker first: the lower layers' content is gone, the new one stays", "[points=5]") {
  const Stage s;
  const std::string t = s.token;
  const std::vector<Layer> layers = {
      lower_of_opaque(s),
      {dir("op", 0750), opaque("op"), file("op/new", "new " + t), file("op/both", "upper " + t), dir("op/newdir"),
       file("op/newdir/f", "f " + t)},
  };
  expect_applied(s, layers,
                 expected({"op/", "op/both = upper " + t, "op/new = new " + t, "op/newdir/", "op/newdir/f = f " + t,
                           "op2/", "op2/old = old", "side/", "side/s = s " + t}));
}

TEST_CASE("an opaque directory, marker last: this layer's files before it stay", "[points=10]") {
  const Stage s;
  const std::string t = s.token;
  // The marker after the files it must keep, and op2 with no entry of its own.
  const std::vector<Layer> layers = {
      lower_of_opaque(s),
      {dir("op", 0750), file("op/new", "new " + t), file("op/both", "upper " + t), dir("op/newdir"),
       file("op/newdir/f", "f " + t), opaque("op"), file("op2/fresh", "fresh " + t), opaque("op2")},
  };
  expect_applied(s, layers,
                 expected({"op/", "op/both = upper " + t, "op/new = new " + t, "op/newdir/", "op/newdir/f = f " + t,
                           "op2/", "op2/fresh = fresh " + t, "side/", "side/s = s " + t}));
  INFO("op2/ (no entry in the upper layer) is still the lower layers' directory, with its mode 0750");
  CHECK((lstat_of(s.rootfs / "op2").st_mode & 07777) == 0750);
}

TEST_CASE("hard links within a layer and symlinks inside the root are unpacked as such", "[points=10]") {
  const Stage s;
  const std::string t = s.token;
  // Hard link targets are entry names: relative, "./", or "/" (the root's).
  const std::vector<Layer> layers = {
      {dir("data"), file("data/orig", "orig " + t), hard("data/hard", "data/orig"), dir("deep"),
       dir("deep/x"), hard("deep/x/hard2", "/data/orig"), hard("./data/hard3", "./data/orig"),
       sym("data/sym", "orig"), sym("abs", "/data/orig"), sym("up", "../data/orig")},
  };
  expect_applied(s, layers,
                 expected({"abs -> /data/orig", "data/", "data/hard = orig " + t, "data/hard3 = orig " + t,
                           "data/orig = orig " + t, "data/sym -> orig", "deep/", "deep/x/",
                           "deep/x/hard2 = orig " + t, "up -> ../data/orig"}));
  const auto orig = lstat_of(s.rootfs / "data/orig");
  for (const char* name : {"data/hard", "data/hard3", "deep/x/hard2"}) {
    INFO(name << " must be a hard link to data/orig (the same inode)");
    CHECK(lstat_of(s.rootfs / name).st_ino == orig.st_ino);
  }
  CHECK(orig.st_nlink == 4);
}

TEST_CASE("modes are applied, and owners when run as root", "[points=10]") {
  const Stage s;
  const std::string t = s.token;
  const std::vector<Layer> layers = {
      {owned(dir("m", 0777), 1234, 2345), owned(file("m/f", "f " + t, 0746), 3456, 4567),
       file("m/suid", "s", 04755), file("m/ro", "ro", 0400), dir("later", 0755), dir("open", 0777)},
      {owned(dir("later", 0700), 42, 43)},
  };
  const mode_t old_umask = ::umask(022);  // the umask a careless unpacker would apply
  const auto r = s.apply(layers);
  ::umask(old_umask);
  INFO(describe_layers(layers) << r.describe());
  REQUIRE(r.exit_code == 0);
  INFO("modes and owners in the root:\n" << listing(s.rootfs, true));
  CHECK((lstat_of(s.rootfs / "m").st_mode & 07777) == 0777);
  CHECK((lstat_of(s.rootfs / "m/f").st_mode & 07777) == 0746);
  CHECK((lstat_of(s.rootfs / "m/suid").st_mode & 07777) == 04755);
  CHECK((lstat_of(s.rootfs / "m/ro").st_mode & 07777) == 0400);
  CHECK((lstat_of(s.rootfs / "open").st_mode & 07777) == 0777);
  INFO("a later layer's directory entry sets the mode of the directory already there");
  CHECK((lstat_of(s.rootfs / "later").st_mode & 07777) == 0700);
  if (::geteuid() != 0) {
    WARN("not root: the owners are not checked");
    return;
  }
  INFO("owners are the numbers in the tar");
  CHECK(lstat_of(s.rootfs / "m").st_uid == 1234);
  CHECK(lstat_of(s.rootfs / "m").st_gid == 2345);
  CHECK(lstat_of(s.rootfs / "m/f").st_uid == 3456);
  CHECK(lstat_of(s.rootfs / "m/f").st_gid == 4567);
  CHECK(lstat_of(s.rootfs / "later").st_uid == 42);
}

// ---- hostile layers -----------------------------------------------------------------

TEST_CASE("absolute names are placed under the root, not on the host", "[points=5]") {
  const Stage s;
  const std::string t = s.token;
  // Names that, taken as they are, would land in the host's etc/.
  const auto abs_file = (s.host / "etc" / ("abs-" + t)).string();
  const auto abs_dir = (s.host / "etc" / ("absdir-" + t)).string();
  const std::vector<Layer> layers = {
      {dir("./"), file(abs_file, "abs " + t), dir(abs_dir + "/"), file(abs_dir + "//./in", "in " + t),
       file("/top-" + t, "top " + t)},
  };
  const auto in_root = [&](const std::string& abs) { return abs.substr(1); };
  std::vector<std::string> want = {in_root(abs_file) + " = abs " + t, in_root(abs_dir) + "/",
                                   in_root(abs_dir) + "/in = in " + t, "top-" + t + " = top " + t};
  for (auto p = stdfs::path(in_root(abs_dir)).parent_path(); !p.empty(); p = p.parent_path())
    want.push_back(p.string() + "/");
  expect_applied(s, layers, expected(want));
}

TEST_CASE("an entry that climbs out with .. is refused", "[points=5]") {
  expect_refused([](const Stage& s) {
    const std::string name = "../" + s.sentinel;  // would replace host/var/lib/sentinel-…
    return std::pair{std::vector<Layer>{{file("fine", "fine"), file(name, "replaced")}}, name};
  });
  expect_refused([](const Stage& s) {
    const std::string name = "sub/../../escape-" + s.token;
    return std::pair{std::vector<Layer>{{dir("sub"), file(name, "escaped")}}, name};
  });
}

TEST_CASE("a write through a symlink to an absolute path is refused", "[points=5]") {
  // link -> host/tmp/outside, then link/file: the same layer, then the next.
  expect_refused([](const Stage& s) {
    const std::string name = "link/file";
    return std::pair{std::vector<Layer>{{sym("link", s.outside.string()), file(name, "through " + s.token)}},
                     name};
  });
  expect_refused([](const Stage& s) {
    const std::string name = "etc/passwd";
    return std::pair{std::vector<Layer>{{sym("etc", (s.host / "etc").string())},
                                        {file(name, "root::0:0::/:/bin/sh\n")}},
                     name};
  });
  // A directory entry over such a symlink replaces the link: the host's
  // folder keeps its mode.
  {
    const Stage s;
    const std::vector<Layer> layers = {{sym("cfg", s.outside.string())}, {dir("cfg", 0777), file("cfg/x", "x")}};
    expect_applied(s, layers, expected({"cfg/", "cfg/x = x"}));
  }
  // A directory, then a symlink of the same name in the same layer: the
  // directory's mode (set when the writer closes) must not reach the target.
  {
    const Stage s;
    const std::vector<Layer> layers = {{dir("d", 0777), sym("d", s.outside.string())}};
    expect_applied(s, layers, expected({"d -> " + s.outside.string()}));
  }
}

TEST_CASE("a write through a symlink that climbs out with ../../.. is refused", "[points=5]") {
  // From host/var/lib/rootfs, ../../.. is host/.
  expect_refused([](const Stage& s) {
    const std::string name = "link/x-" + s.token;
    return std::pair{std::vector<Layer>{{sym("link", "../../.."), file(name, "x")}}, name};
  });
  expect_refused([](const Stage& s) {
    const std::string name = "a/up/etc/passwd";
    return std::pair{std::vector<Layer>{{dir("a"), sym("a/up", "../../../..")},
                                        {file(name, "root::0:0::/:/bin/sh\n")}},
                     name};
  });
}

TEST_CASE("a hard link to a file outside the root is refused", "[points=10]") {
  // An absolute target is a name in the root: host/etc/passwd is not there.
  expect_refused([](const Stage& s) {
    const std::string name = "h1-" + s.token;
    return std::pair{std::vector<Layer>{{file("fine", "fine"), hard(name, s.passwd.string())}}, name};
  });
  expect_refused([](const Stage& s) {
    const std::string name = "h2-" + s.token;
    return std::pair{std::vector<Layer>{{hard(name, "../../../etc/passwd")}}, name};
  });
  // Through a symlink inside the root.
  expect_refused([](const Stage& s) {
    const std::string name = "h3-" + s.token;
    return std::pair{std::vector<Layer>{{sym("hostetc", (s.host / "etc").string()), hard(name, "hostetc/passwd")}},
                     name};
  });
}

TEST_CASE("a whiteout cannot delete outside the root", "[points=10]") {
  // ".wh..." whites out "..": the folder holding the root.
  expect_refused([](const Stage&) {
    return std::pair{std::vector<Layer>{{file("fine", "fine")}, {whiteout("", "..")}}, std::string(".wh...")};
  });
  expect_refused([](const Stage& s) {
    const std::string name = "../.wh." + s.sentinel;
    return std::pair{std::vector<Layer>{{file("fine", "fine")}, {file(name, "")}}, name};
  });
  // Through a symlink a lower layer left: etc -> host/etc.
  expect_refused([](const Stage& s) {
    const std::string name = "etc/.wh.passwd";
    return std::pair{std::vector<Layer>{{sym("etc", (s.host / "etc").string())}, {file(name, "")}}, name};
  });
}
