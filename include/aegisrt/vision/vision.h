// Umbrella header for the vision layer: image I/O and drawing, CPU/CUDA
// pre-processing, and post-processing (detections, depth, keypoints, tracks).
#pragma once

#include "aegisrt/vision/depth.h"
#include "aegisrt/vision/detection.h"
#include "aegisrt/vision/draw.h"
#include "aegisrt/vision/geometry.h"
#include "aegisrt/vision/image.h"
#include "aegisrt/vision/keypoints.h"
#include "aegisrt/vision/preprocess.h"
#include "aegisrt/vision/preprocess_cuda.h"
#include "aegisrt/vision/tracking.h"
