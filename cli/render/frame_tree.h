// The merged call tree the HTML flame graphs draw: one node per distinct
// root-to-frame path, with its inclusive value in one profile (and, for a
// diff, in a second), and the file and hottest line of its function.
#ifndef GSPY_CLI_RENDER_FRAME_TREE_H_
#define GSPY_CLI_RENDER_FRAME_TREE_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "cli/render/flame_graph.h"
#include "cli/render/stacks.h"
#include "proto/pprof/profile.pb.h"

namespace gspy {
namespace render_internal {

struct TreeNode {
  uint32_t name = 0;    // index into FrameTree::strings()
  uint32_t file = 0;    // index into FrameTree::strings(); 0: ""
  int64_t value = 0;    // inclusive, in the profile drawn
  int64_t base = 0;     // inclusive, in the base profile of a diff
  // Lines seen in this node and their value; a few at most in practice,
  // bounded so a hostile profile cannot make it grow.
  std::vector<std::pair<int64_t, int64_t>> lines;
  std::map<uint32_t, uint32_t> children;  // by name index: stable order
  int64_t HottestLine() const;
};

class FrameTree {
 public:
  enum class Side { kValue, kBase };

  FrameTree();

  // Adds every stack of the profile to the nodes' value or base. Errors as
  // CollectStacks.
  absl::StatusOr<ValueKind> Add(const perftools::profiles::Profile& profile,
                                const RenderOptions& options, Side side);

  // Parents before children (node 0 is the root, "all").
  const std::vector<TreeNode>& nodes() const { return nodes_; }
  // Function, group and file names, deduplicated; 0 is "".
  const std::vector<std::string>& strings() const { return strings_; }
  int64_t total(Side side) const;

 private:
  uint32_t Intern(const std::string& s);

  std::vector<TreeNode> nodes_;
  std::vector<std::string> strings_;
  absl::flat_hash_map<std::string, uint32_t> string_index_;
};

}  // namespace render_internal
}  // namespace gspy

#endif  // GSPY_CLI_RENDER_FRAME_TREE_H_
