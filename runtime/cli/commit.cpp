// cli/commit.cpp — `skiff commit [-a] [-m] [-c]… [-p] CONTAINER [REPOSITORY[:TAG]]`,
// Docker's `docker commit`: a container's changes become a new image.
// Lesson: lessons/05-images. The work is in 05-images/commit.hpp; this file
// finds the container, freezes it while its upper dir is read (Docker's
// --pause, on by default) and thaws it again whatever happens.
#include <iostream>

#include "01-lifecycle/lifecycle.hpp"
#include "05-images/commit.hpp"
#include "cli/command.hpp"
#include "core/error.hpp"
#include "launch/spec.hpp"

namespace skiff::cli {

namespace {

// pflag's booleans: "-p", "-p=false", "--pause=0". Boost has no such
// "optional value glued with =" for short options, so they are spelled
// out here as --pause=VALUE before parsing.
std::vector<std::string> normalise_pause(std::vector<std::string> args) {
  for (auto& a : args) {
    if (a == "-p" || a == "--pause") a = "--pause=true";
    else if (a.starts_with("-p=")) a = "--pause=" + a.substr(3);
  }
  return args;
}

bool parse_bool(const std::string& text) {
  if (text == "1" || text == "t" || text == "T" || text == "true" || text == "TRUE" || text == "True")
    return true;
  if (text == "0" || text == "f" || text == "F" || text == "false" || text == "FALSE" ||
      text == "False")
    return false;
  throw core::Error("invalid argument \"" + text + "\" for \"-p, --pause\" flag: expected true or false",
                    kExitFailure);
}

// Freezes the container for as long as it lives (when asked to), and thaws
// it when it ends, even when the commit failed.
class PausedForCommit {
 public:
  PausedForCommit(const engine::Store& store, std::string id, bool pause)
      : store_(store), id_(std::move(id)), paused_(pause) {
    if (paused_) lifecycle::set_paused(store_, id_, true);
  }
  PausedForCommit(const PausedForCommit&) = delete;
  PausedForCommit& operator=(const PausedForCommit&) = delete;
  ~PausedForCommit() { resume(); }
  void resume() noexcept {
    if (!std::exchange(paused_, false)) return;
    try {
      lifecycle::set_paused(store_, id_, false);
    } catch (const std::exception& e) {
      std::cerr << "skiff: commit: could not unpause " << id_.substr(0, 12) << ": " << e.what() << "\n";
    }
  }

 private:
  const engine::Store& store_;
  std::string id_;
  bool paused_;
};

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

images::CommitRequest request_for(const engine::ContainerConfig& c, const po::variables_map& o) {
  images::CommitRequest r;
  r.parent_id = c.image_id;
  r.container = {c.env, c.entrypoint, c.cmd, c.working_dir, c.user};
  r.created_by = joined(c.cmd);  // Docker's history shows the container's Cmd
  r.author = o["author"].as<std::string>();
  r.comment = o["message"].as<std::string>();
  if (o.count("change")) r.changes = o["change"].as<std::vector<std::string>>();
  return r;
}

std::string commit(Context& ctx, const Parsed& p, bool pause) {
  const std::string& key = p.positional[0];
  auto id = ctx.store.resolve(key);
  if (!id) throw core::Error("No such container: " + key, kExitFailure);
  auto config = ctx.store.load_config(*id);
  images::CommitRequest request = request_for(config, p.options);
  if (p.positional.size() == 2) request.name = images::parse_reference(p.positional[1]);
  images::apply_changes({}, request.changes);  // a bad -c stops here: nothing paused, nothing stored
  auto state = lifecycle::current_state(ctx.store, *id);
  bool running = state.status == engine::Status::running && !state.paused;
  PausedForCommit frozen(ctx.store, *id, pause && running);
  images::PendingLayer layer =
      images::diff_container(ctx.store.images_dir(), launch::upper_dir(config.spec));
  frozen.resume();  // the tar is written: the container may run on
  return images::commit_image(ctx.store.images_dir(), std::move(layer), request);
}

}  // namespace

int cmd_commit(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()
      ("author,a", po::value<std::string>()->default_value(""),
       "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")")
      ("change,c", po::value<std::vector<std::string>>()->composing(),
       "Apply Dockerfile instruction to the created image")
      ("message,m", po::value<std::string>()->default_value(""), "Commit message")
      ("pause", po::value<std::string>()->default_value("true"),
       "Pause container during commit (-p, --pause; default true)");
  auto p = parse("commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n\n"
                 "Create a new image from a container's changes", o, normalise_pause(args));
  if (p.positional.empty() || p.positional.size() > 2)
    throw core::Error("\"commit\" requires at least 1 and at most 2 arguments (see 'skiff commit --help')",
                      kExitFailure);
  bool pause = parse_bool(p.options["pause"].as<std::string>());
  try {
    std::cout << commit(ctx, p, pause) << "\n";
  } catch (const std::exception& e) {
    // Like Docker's client, every failure of commit exits 1.
    throw core::Error(e.what(), kExitFailure);
  }
  return 0;
}

}  // namespace skiff::cli
