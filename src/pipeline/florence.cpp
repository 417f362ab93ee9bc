// Florence-2 greedy generation over the five ONNX parts (see florence.h).
#include "pipeline/florence.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <regex>
#include <utility>

#include "aegisrt/backend/registry.h"
#include "aegisrt/core/file_util.h"

namespace aegisrt::pipeline::florence {
namespace {

Result<std::unique_ptr<ExecutionContext>> load_part(const std::filesystem::path& path, const std::string& backend,
                                                    const std::string& part) {
  if (auto st = check_regular_file(path, "florence part " + part); !st) return std::move(st).error();
  auto be = BackendFactory::create(backend);
  if (!be) return std::move(be).error().with_context("florence part " + part);
  ContextBudget budget;
  budget.device_memory_bytes = std::size_t{16} << 30;
  budget.max_streams = 1;
  budget.compute_time_per_call = std::chrono::minutes(10);
  auto ctx = ExecutionContext::create(ModelId("florence." + part), budget, std::move(*be));
  if (!ctx) return std::move(ctx).error().with_context("florence part " + part);
  LoadOptions lo;
  lo.artifact_path = path;
  if (auto r = (*ctx)->load(lo); !r) return std::move(r).error().with_context("loading florence part " + part);
  return std::move(*ctx);
}

Result<const Tensor*> output(const ExecutionResult& r, const std::string& name, const std::string& part) {
  const Tensor* t = r.find(name);
  if (t == nullptr) {
    return Error(ErrorCode::NotFound, "florence part " + part + " has no output '" + name + "'");
  }
  return t;
}

ExecutionRequest request(std::vector<NamedTensorView> inputs) {
  ExecutionRequest r;
  r.inputs = std::move(inputs);
  return r;
}

// argmax over the last position of logits [1, t, V] (first index on ties, as
// torch.argmax); `margin` is lowered to the top1 - top2 gap of that row.
Result<std::int64_t> last_argmax(const Tensor& logits, const std::string& part, float& margin) {
  if (logits.dtype() != DType::Float32 || logits.shape().size() != 3 || logits.shape()[0] != 1 ||
      logits.shape()[1] < 1 || logits.shape()[2] < 1) {
    return Error(ErrorCode::InvalidArgument, "florence part " + part + ": logits must be float32 [1, t, V], got " +
                                                 shape_to_string(logits.shape()));
  }
  const std::int64_t v = logits.shape()[2];
  const float* row = logits.data_as<float>() + (logits.shape()[1] - 1) * v;
  const auto best = static_cast<std::int64_t>(std::max_element(row, row + v) - row);
  if (v > 1) {
    float second = -std::numeric_limits<float>::infinity();
    for (std::int64_t i = 0; i < v; ++i) {
      if (i != best) second = std::max(second, row[i]);
    }
    margin = std::min(margin, row[best] - second);
  }
  return best;
}

}  // namespace

Result<std::unique_ptr<Generator>> Generator::load(const PartPaths& parts, const std::string& backend) {
  auto g = std::unique_ptr<Generator>(new Generator());
  struct Item {
    const std::filesystem::path* path;
    std::unique_ptr<ExecutionContext>* ctx;
    const char* name;
  };
  for (const Item& it : {Item{&parts.vision_encoder, &g->owned_vision_, "vision_encoder"},
                         Item{&parts.embed_tokens, &g->embed_, "embed_tokens"},
                         Item{&parts.encoder_model, &g->encoder_, "encoder_model"},
                         Item{&parts.decoder_model, &g->decoder_, "decoder_model"},
                         Item{&parts.decoder_with_past, &g->decoder_past_, "decoder_with_past"}}) {
    auto c = load_part(*it.path, backend, it.name);
    if (!c) return std::move(c).error();
    *it.ctx = std::move(*c);
  }
  g->vision_ = g->owned_vision_.get();
  return g;
}

Result<std::unique_ptr<Generator>> Generator::from_contexts(ExecutionContext* vision,
                                                            std::array<std::unique_ptr<ExecutionContext>, 4> parts) {
  if (vision == nullptr) return Error(ErrorCode::InvalidArgument, "florence: no vision_encoder context");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i]) return Error(ErrorCode::InvalidArgument, std::string("florence: no context for part ") + kPartNames[i]);
  }
  auto g = std::unique_ptr<Generator>(new Generator());
  g->vision_ = vision;
  g->embed_ = std::move(parts[0]);
  g->encoder_ = std::move(parts[1]);
  g->decoder_ = std::move(parts[2]);
  g->decoder_past_ = std::move(parts[3]);
  return g;
}

Result<std::unique_ptr<Generator>> Generator::create_instance(ExecutionContext* vision) const {
  std::array<std::unique_ptr<ExecutionContext>, 4> parts;
  const std::array<const ExecutionContext*, 4> mine = {embed_.get(), encoder_.get(), decoder_.get(),
                                                       decoder_past_.get()};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto c = ExecutionContext::create_instance(mine[i]->shared_model(), mine[i]->budget());
    if (!c) return std::move(c).error().with_context(std::string("another instance of florence part ") + kPartNames[i]);
    parts[i] = std::move(c).value();
  }
  return from_contexts(vision, std::move(parts));
}

Result<std::vector<std::int64_t>> Generator::generate(const TensorView& pixel_values,
                                                      const std::vector<std::int64_t>& text_ids,
                                                      const GenerateOptions& options) {
  if (text_ids.empty()) return Error(ErrorCode::InvalidArgument, "florence: empty prompt ids");
  if (options.max_new_tokens < 1) {
    return Error(ErrorCode::InvalidArgument, "florence: max_new_tokens must be >= 1");
  }
  last_min_margin_ = std::numeric_limits<float>::infinity();
  float margin = std::numeric_limits<float>::infinity();
  auto vis = vision_->execute(request({{"pixel_values", pixel_values}}));
  if (!vis) return std::move(vis).error().with_context("florence vision_encoder");
  auto feats = output(*vis, "image_features", "vision_encoder");
  if (!feats) return std::move(feats).error();
  const Shape& fs = (*feats)->shape();
  if (fs.size() != 3 || fs[0] != 1) {
    return Error(ErrorCode::InvalidArgument, "florence vision_encoder: image_features must be [1, N, D], got " +
                                                 shape_to_string(fs));
  }
  const std::int64_t n_img = fs[1];
  const std::int64_t d = fs[2];
  const auto n_text = static_cast<std::int64_t>(text_ids.size());
  auto emb = embed_->execute(request({{"input_ids", TensorView(text_ids.data(), {1, n_text}, DType::Int64)}}));
  if (!emb) return std::move(emb).error().with_context("florence embed_tokens");
  auto te = output(*emb, "inputs_embeds", "embed_tokens");
  if (!te) return std::move(te).error();
  if ((*te)->shape() != Shape{1, n_text, d} || (*te)->dtype() != DType::Float32) {
    return Error(ErrorCode::InvalidArgument, "florence embed_tokens: inputs_embeds is " +
                                                 shape_to_string((*te)->shape()) + ", expected [1, " +
                                                 std::to_string(n_text) + ", " + std::to_string(d) + "] float32");
  }
  const std::int64_t n = n_img + n_text;
  std::vector<float> embeds(static_cast<std::size_t>(n * d));
  std::memcpy(embeds.data(), (*feats)->data(), static_cast<std::size_t>(n_img * d) * sizeof(float));
  std::memcpy(embeds.data() + n_img * d, (*te)->data(), static_cast<std::size_t>(n_text * d) * sizeof(float));
  const std::vector<std::int64_t> mask(static_cast<std::size_t>(n), 1);
  const TensorView mask_view(mask.data(), {1, n}, DType::Int64);
  auto enc = encoder_->execute(request({{"inputs_embeds", TensorView(embeds.data(), {1, n, d}, DType::Float32)},
                                 {"attention_mask", mask_view}}));
  if (!enc) return std::move(enc).error().with_context("florence encoder_model");
  auto hidden = output(*enc, "last_hidden_state", "encoder_model");
  if (!hidden) return std::move(hidden).error();

  std::vector<std::int64_t> generated{options.decoder_start_token_id};
  std::int64_t token = options.decoder_start_token_id;
  auto first = decoder_->execute(request({{"input_ids", TensorView(&token, {1, 1}, DType::Int64)},
                                   {"encoder_hidden_states", (*hidden)->view()},
                                   {"encoder_attention_mask", mask_view}}));
  if (!first) return std::move(first).error().with_context("florence decoder_model");
  int layers = options.decoder_layers;
  if (layers == 0) {
    while (first->find("present." + std::to_string(layers) + ".decoder.key") != nullptr) ++layers;
  }
  if (layers == 0) return Error(ErrorCode::NotFound, "florence decoder_model has no present.0.decoder.key output");
  // The cache: self-attention (grows), cross-attention (fixed, from the first step).
  std::vector<Tensor> self_kv;   // [2*layers]: key, value
  std::vector<Tensor> cross_kv;  // [2*layers]
  for (int i = 0; i < layers; ++i) {
    for (const char* kind : {"key", "value"}) {
      const std::string base = "present." + std::to_string(i);
      auto s = output(*first, base + ".decoder." + kind, "decoder_model");
      auto c = output(*first, base + ".encoder." + kind, "decoder_model");
      if (!s) return std::move(s).error();
      if (!c) return std::move(c).error();
      auto sc = (*s)->clone();
      auto cc = (*c)->clone();
      if (!sc) return std::move(sc).error();
      if (!cc) return std::move(cc).error();
      self_kv.push_back(std::move(*sc));
      cross_kv.push_back(std::move(*cc));
    }
  }
  const Tensor* logits = first->find("logits");
  if (logits == nullptr) return Error(ErrorCode::NotFound, "florence decoder_model has no output 'logits'");
  auto next = last_argmax(*logits, "decoder_model", margin);
  for (int step = 0; step < options.max_new_tokens; ++step) {
    if (!next) return std::move(next).error();
    token = *next;
    generated.push_back(token);
    if (token == options.eos_token_id || step + 1 == options.max_new_tokens) break;
    ExecutionRequest req;
    req.inputs.push_back({"input_ids", TensorView(&token, {1, 1}, DType::Int64)});
    req.inputs.push_back({"encoder_hidden_states", (*hidden)->view()});
    req.inputs.push_back({"encoder_attention_mask", mask_view});
    for (int i = 0; i < layers; ++i) {
      const std::string base = "past_key_values." + std::to_string(i);
      req.inputs.push_back({base + ".decoder.key", self_kv[static_cast<std::size_t>(2 * i)].view()});
      req.inputs.push_back({base + ".decoder.value", self_kv[static_cast<std::size_t>(2 * i + 1)].view()});
      req.inputs.push_back({base + ".encoder.key", cross_kv[static_cast<std::size_t>(2 * i)].view()});
      req.inputs.push_back({base + ".encoder.value", cross_kv[static_cast<std::size_t>(2 * i + 1)].view()});
    }
    auto r = decoder_past_->execute(req);
    if (!r) return std::move(r).error().with_context("florence decoder_with_past (step " + std::to_string(step) + ")");
    for (int i = 0; i < layers; ++i) {
      const std::string base = "present." + std::to_string(i);
      for (int k = 0; k < 2; ++k) {
        auto t = output(*r, base + ".decoder." + (k == 0 ? "key" : "value"), "decoder_with_past");
        if (!t) return std::move(t).error();
        auto c = (*t)->clone();
        if (!c) return std::move(c).error();
        self_kv[static_cast<std::size_t>(2 * i + k)] = std::move(*c);
      }
    }
    const Tensor* lg = r->find("logits");
    if (lg == nullptr) return Error(ErrorCode::NotFound, "florence decoder_with_past has no output 'logits'");
    next = last_argmax(*lg, "decoder_with_past", margin);
  }
  last_min_margin_ = margin;
  return generated;
}

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

std::string strip(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\n\r\f\v") - b + 1);
}

void replace_first(std::string& s, const std::string& from) {
  if (const auto at = s.find(from); at != std::string::npos) s.erase(at, from.size());
}

}  // namespace

Result<std::string> task_question(const std::string& task, const std::string& text_input) {
  static const std::vector<std::pair<std::string, std::string>> without = {
      {"<OCR>", "What is the text in the image?"},
      {"<OCR_WITH_REGION>", "What is the text in the image, with regions?"},
      {"<CAPTION>", "What does the image describe?"},
      {"<DETAILED_CAPTION>", "Describe in detail what is shown in the image."},
      {"<MORE_DETAILED_CAPTION>", "Describe with a paragraph what is shown in the image."},
      {"<OD>", "Locate the objects with category name in the image."},
      {"<DENSE_REGION_CAPTION>", "Locate the objects in the image, with their descriptions."},
      {"<REGION_PROPOSAL>", "Locate the region proposals in the image."}};
  static const std::vector<std::pair<std::string, std::string>> with = {
      {"<CAPTION_TO_PHRASE_GROUNDING>", "Locate the phrases in the caption: "},
      {"<OPEN_VOCABULARY_DETECTION>", "Locate "}};
  for (const auto& [t, q] : without) {
    if (t == task) {
      if (!strip(text_input).empty()) {
        return Error(ErrorCode::InvalidArgument, "florence task " + task + " takes no text (--text)");
      }
      return q;
    }
  }
  for (const auto& [t, q] : with) {
    if (t == task) {
      if (strip(text_input).empty()) {
        return Error(ErrorCode::InvalidArgument, "florence task " + task + " needs a text (--text)");
      }
      return t == "<OPEN_VOCABULARY_DETECTION>" ? q + strip(text_input) + " in the image." : q + strip(text_input);
    }
  }
  return Error(ErrorCode::Unsupported, "florence task (--task) '" + task +
                                           "' is not supported (supported: <CAPTION>, <DETAILED_CAPTION>, "
                                           "<MORE_DETAILED_CAPTION>, <OCR>, <OD>, <DENSE_REGION_CAPTION>, "
                                           "<REGION_PROPOSAL>, <CAPTION_TO_PHRASE_GROUNDING>, "
                                           "<OPEN_VOCABULARY_DETECTION>)");
}

std::array<int, 4> dequantize_box(const std::array<int, 4>& bins, int width, int height) {
  // transformers' Florence2PostProcessor.dequantize: float32 tensor arithmetic, then .int().
  const float per_w = static_cast<float>(static_cast<double>(width) / 1000.0);
  const float per_h = static_cast<float>(static_cast<double>(height) / 1000.0);
  std::array<int, 4> out{};
  for (std::size_t k = 0; k < 4; ++k) {
    const float per = (k % 2 == 0) ? per_w : per_h;
    out[k] = static_cast<int>((static_cast<float>(bins[k]) + 0.5f) * per);
  }
  return out;
}

Result<Parsed> parse(const std::string& task, const std::string& raw, int width, int height) {
  Parsed p;
  p.task = task;
  const bool boxes = task == "<OD>" || task == "<DENSE_REGION_CAPTION>" || task == "<REGION_PROPOSAL>" ||
                     task == "<CAPTION_TO_PHRASE_GROUNDING>" || task == "<OPEN_VOCABULARY_DETECTION>";
  if (task == "<OCR_WITH_REGION>") {
    // post_process_generation's 'ocr': quad boxes (8 locations) per text; not implemented.
    return Error(ErrorCode::Unsupported, "florence task <OCR_WITH_REGION> (--task): parsing its quad boxes is not "
                                         "implemented; use <OCR> for the text");
  }
  if (!boxes) {
    p.text = strip(replace_all(replace_all(raw, "<s>", ""), "</s>", ""));
    return p;
  }
  if (task == "<REGION_PROPOSAL>") {
    return Error(ErrorCode::Unsupported, "florence task <REGION_PROPOSAL> (--task): parsing not implemented");
  }
  const bool grounding = task == "<CAPTION_TO_PHRASE_GROUNDING>";
  const std::string text = replace_all(replace_all(replace_all(raw, "<s>", ""), "</s>", ""), "<pad>", "");
  static const std::regex phrase_re("([^<]+(?:<loc_\\d+>){4,})");
  static const std::regex text_re("^\\s*(.*?)(?=<od>|</od>|<box>|</box>|<bbox>|</bbox>|<loc_)");
  static const std::regex box_re("<loc_(\\d+)><loc_(\\d+)><loc_(\\d+)><loc_(\\d+)>");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), phrase_re); it != std::sregex_iterator(); ++it) {
    std::string phrase_text = (*it)[1].str();
    replace_first(phrase_text, "<ground>");
    replace_first(phrase_text, "<obj>");
    if (phrase_text.empty()) continue;
    std::smatch m;
    if (!std::regex_search(phrase_text, m, text_re)) continue;
    std::string phrase = strip(m[0].str());
    if (grounding && phrase == "the image") continue;  // banned_grounding_tokens
    std::string ascii;
    for (char c : phrase) {
      if (static_cast<unsigned char>(c) < 0x80) ascii += c;
    }
    for (auto b = std::sregex_iterator(phrase_text.begin(), phrase_text.end(), box_re); b != std::sregex_iterator(); ++b) {
      std::array<int, 4> bins{};
      for (std::size_t k = 0; k < 4; ++k) bins[k] = std::stoi((*b)[static_cast<int>(k) + 1].str());
      p.boxes.push_back(dequantize_box(bins, width, height));
      p.labels.push_back(ascii);
    }
  }
  return p;
}

}  // namespace aegisrt::pipeline::florence
