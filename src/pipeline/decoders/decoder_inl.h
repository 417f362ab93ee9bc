// Private: template definitions for decoder.h.
#pragma once

#include "aegisrt/vision/draw.h"
#include "aegisrt/vision/keypoints.h"

namespace aegisrt::pipeline::detail {

template <class Visible>
void draw_keypoints(vision::Image& out, const std::vector<vision::Keypoint>& kps, const DrawStyle& style,
                    Visible visible) {
  if (kps.size() == 17) {
    for (const auto& [a, b] : vision::coco17_skeleton()) {
      const auto& ka = kps[static_cast<std::size_t>(a)];
      const auto& kb = kps[static_cast<std::size_t>(b)];
      if (visible(ka) && visible(kb)) {
        vision::draw_line(out, static_cast<int>(ka.x), static_cast<int>(ka.y), static_cast<int>(kb.x),
                          static_cast<int>(kb.y), vision::palette_color(a), style.thickness);
      }
    }
  }
  for (std::size_t i = 0; i < kps.size(); ++i) {
    const auto& k = kps[i];
    if (visible(k)) {
      vision::draw_circle(out, static_cast<int>(k.x), static_cast<int>(k.y), style.thickness + 2,
                          vision::palette_color(static_cast<int>(i)));
    }
  }
}

}  // namespace aegisrt::pipeline::detail
