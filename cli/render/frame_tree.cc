#include "cli/render/frame_tree.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gspy {
namespace render_internal {
namespace {

// Lines kept per node: past it, new lines are not tracked (the value still
// counts). Hot lines come early, so the hottest is almost always among them.
constexpr size_t kMaxLinesPerNode = 16;

}  // namespace

int64_t TreeNode::HottestLine() const {
  int64_t best = 0;
  int64_t best_value = -1;
  for (const auto& [line, value] : lines) {
    if (value > best_value) {
      best = line;
      best_value = value;
    }
  }
  return best;
}

FrameTree::FrameTree() {
  Intern("");
  nodes_.push_back(TreeNode{.name = Intern("all")});
}

uint32_t FrameTree::Intern(const std::string& s) {
  auto [it, inserted] =
      string_index_.try_emplace(s, static_cast<uint32_t>(strings_.size()));
  if (inserted) strings_.push_back(s);
  return it->second;
}

int64_t FrameTree::total(Side side) const {
  return side == Side::kValue ? nodes_[0].value : nodes_[0].base;
}

absl::StatusOr<ValueKind> FrameTree::Add(
    const perftools::profiles::Profile& profile, const RenderOptions& options,
    Side side) {
  const auto add = [side](TreeNode& n, int64_t v) {
    int64_t& slot = side == Side::kValue ? n.value : n.base;
    slot = SaturatingAdd(slot, v);
  };
  return ForEachStack(
      profile, options, [&](const std::vector<Frame>& frames, int64_t value) {
        uint32_t at = 0;
        add(nodes_[at], value);
        for (const Frame& f : frames) {
          const uint32_t name = Intern(f.name);
          uint32_t next;
          if (auto it = nodes_[at].children.find(name);
              it != nodes_[at].children.end()) {
            next = it->second;
          } else {
            next = static_cast<uint32_t>(nodes_.size());
            nodes_[at].children.emplace(name, next);
            const uint32_t file = Intern(f.file);
            nodes_.push_back(TreeNode{.name = name, .file = file});
          }
          at = next;
          TreeNode& node = nodes_[at];
          add(node, value);
          if (side == Side::kValue && f.line > 0) {
            bool found = false;
            for (auto& [line, v] : node.lines) {
              if (line == f.line) {
                v = SaturatingAdd(v, value);
                found = true;
                break;
              }
            }
            if (!found && node.lines.size() < kMaxLinesPerNode) {
              node.lines.emplace_back(f.line, value);
            }
          }
        }
      });
}

}  // namespace render_internal
}  // namespace gspy
