// Florence-2 generation (greedy or beam search) over the five ONNX parts (see florence.h).
#include "pipeline/florence.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
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

// The first decoder step (decoder_model) on `token`.
ExecutionRequest first_request(const std::int64_t& token, const Tensor& hidden, const TensorView& mask_view) {
  return request({{"input_ids", TensorView(&token, {1, 1}, DType::Int64)},
                  {"encoder_hidden_states", hidden.view()},
                  {"encoder_attention_mask", mask_view}});
}

// The names of layers [names.size(), layers).
void add_layer_names(std::vector<LayerNames>& names, int layers) {
  for (auto i = static_cast<int>(names.size()); i < layers; ++i) {
    const std::string past = "past_key_values." + std::to_string(i);
    const std::string present = "present." + std::to_string(i);
    names.push_back({{past + ".decoder.key", past + ".decoder.value", past + ".encoder.key", past + ".encoder.value"},
                     {present + ".decoder.key", present + ".decoder.value"},
                     {present + ".encoder.key", present + ".encoder.value"}});
  }
}

// The decoder layers: options.decoder_layers, else counted from decoder_model's
// present.{i}.decoder.key outputs.
Result<int> decoder_layers(const ExecutionResult& first, const GenerateOptions& options) {
  int layers = options.decoder_layers;
  if (layers == 0) {
    while (first.find("present." + std::to_string(layers) + ".decoder.key") != nullptr) ++layers;
  }
  if (layers == 0) return Error(ErrorCode::NotFound, "florence decoder_model has no present.0.decoder.key output");
  return layers;
}

// present.{i}.decoder.key/value (self) or present.{i}.encoder.key/value
// (cross) of a decoder result, key then value per layer, cloned (the result's
// buffers are reused by the next run).
Result<std::vector<Tensor>> cache_of(const ExecutionResult& r, const std::vector<LayerNames>& names, int layers,
                                     bool self, const std::string& part) {
  std::vector<Tensor> kv;
  for (int i = 0; i < layers; ++i) {
    const LayerNames& n = names[static_cast<std::size_t>(i)];
    for (const std::string& name : self ? n.present_self : n.present_cross) {
      AEGIS_ASSIGN_OR_RETURN(const Tensor* t, output(r, name, part));
      AEGIS_ASSIGN_OR_RETURN(Tensor c, t->clone());
      kv.push_back(std::move(c));
    }
  }
  return kv;
}

// The last position's row of logits [1, t, V].
Result<const float*> last_row(const Tensor& logits, const std::string& part, std::int64_t& vocab) {
  if (logits.dtype() != DType::Float32 || logits.shape().size() != 3 || logits.shape()[0] != 1 ||
      logits.shape()[1] < 1 || logits.shape()[2] < 1) {
    return Error(ErrorCode::InvalidArgument, "florence part " + part + ": logits must be float32 [1, t, V], got " +
                                                 shape_to_string(logits.shape()));
  }
  vocab = logits.shape()[2];
  return logits.data_as<float>() + (logits.shape()[1] - 1) * vocab;
}

// Greedy: the processors on the last row, then argmax (first index on ties, as
// torch.argmax); `margin` is lowered to the top1 - top2 gap of the processed
// row (ignoring -inf, e.g. a forced token).
Result<std::int64_t> greedy_next(const Tensor& logits, const std::string& part, const std::vector<std::int64_t>& seq,
                                 const GenerateOptions& options, int max_length, float& margin) {
  std::int64_t v = 0;
  AEGIS_ASSIGN_OR_RETURN(const float* raw, last_row(logits, part, v));
  std::vector<float> row(raw, raw + v);
  for (float x : row) {
    if (std::isnan(x)) return Error(ErrorCode::InvalidArgument, "florence part " + part + ": logits contain NaN");
  }
  AEGIS_TRY(apply_processors(seq, row.data(), v, options, max_length));
  const auto best = static_cast<std::int64_t>(std::max_element(row.begin(), row.end()) - row.begin());
  float second = -std::numeric_limits<float>::infinity();
  for (std::int64_t i = 0; i < v; ++i) {
    if (i != best) second = std::max(second, row[static_cast<std::size_t>(i)]);
  }
  if (std::isfinite(second)) margin = std::min(margin, row[static_cast<std::size_t>(best)] - second);
  return best;
}

// Scores below this carry beam search's -1e9 masks (dummy / finished beams):
// never a decision between real hypotheses.
constexpr float kReal = -1.0e8F;
constexpr float kMask = -1.0e9F;

bool real(float s) { return std::isfinite(s) && s > kReal; }

// log_softmax of one row in float32 (the sum of exponentials in double).
void log_softmax(const float* in, float* out, std::int64_t v) {
  const float mx = *std::max_element(in, in + v);
  double sum = 0;
  for (std::int64_t i = 0; i < v; ++i) {
    out[i] = in[i] - mx;
    sum += std::exp(static_cast<double>(out[i]));
  }
  const auto lse = static_cast<float>(std::log(sum));
  for (std::int64_t i = 0; i < v; ++i) out[i] -= lse;
}

float length_norm(int length, float penalty) {
  return static_cast<float>(std::pow(static_cast<double>(length), static_cast<double>(penalty)));
}

}  // namespace

Result<void> validate(const GenerateOptions& o) {
  if (o.num_beams < 1 || o.num_beams > kMaxBeams) {
    return Error(ErrorCode::InvalidArgument, "florence: num_beams (output.generation.num_beams / --num-beams) must be "
                                             "within [1, " + std::to_string(kMaxBeams) + "], got " +
                                                 std::to_string(o.num_beams));
  }
  if (o.no_repeat_ngram_size < 0) {
    return Error(ErrorCode::InvalidArgument, "florence: no_repeat_ngram_size (output.generation.no_repeat_ngram_size) "
                                             "must be >= 0, got " + std::to_string(o.no_repeat_ngram_size));
  }
  if (o.min_length < 0) {
    return Error(ErrorCode::InvalidArgument,
                 "florence: min_length (output.generation.min_length) must be >= 0, got " + std::to_string(o.min_length));
  }
  if (o.max_new_tokens < 1) {
    return Error(ErrorCode::InvalidArgument, "florence: max_new_tokens (output.generation.max_new_tokens) must be "
                                             ">= 1, got " + std::to_string(o.max_new_tokens));
  }
  if (!std::isfinite(o.length_penalty)) {
    return Error(ErrorCode::InvalidArgument, "florence: length_penalty (output.generation.length_penalty) must be finite");
  }
  return {};
}

Result<GenerateOptions> options_from(const models::GenerationSpec& spec, GenerateOptions o) {
  o.num_beams = spec.num_beams;
  o.no_repeat_ngram_size = spec.no_repeat_ngram_size;
  o.forced_bos_token_id = spec.forced_bos_token_id.value_or(-1);
  o.forced_eos_token_id = spec.forced_eos_token_id.value_or(-1);
  o.min_length = spec.min_length;
  o.length_penalty = static_cast<float>(spec.length_penalty);
  if (spec.max_new_tokens > 0) o.max_new_tokens = spec.max_new_tokens;
  if (spec.early_stopping == "true") {
    o.early_stopping = EarlyStopping::True;
  } else if (spec.early_stopping == "false") {
    o.early_stopping = EarlyStopping::False;
  } else if (spec.early_stopping == "never") {
    o.early_stopping = EarlyStopping::Never;
  } else {
    return Error(ErrorCode::InvalidArgument, "florence: output.generation.early_stopping must be true, false or never, "
                                             "got '" + spec.early_stopping + "'");
  }
  AEGIS_TRY(validate(o));
  return o;
}

std::vector<std::int64_t> banned_ngram_tokens(const std::vector<std::int64_t>& seq, int n) {
  std::vector<std::int64_t> banned;
  const auto len = static_cast<std::ptrdiff_t>(seq.size());
  if (n < 1 || len < n) return banned;
  // The last n - 1 tokens; each earlier window of n whose first n - 1 match bans its last.
  const auto prefix = seq.begin() + (len + 1 - n);
  for (std::ptrdiff_t s = 0; s + n <= len; ++s) {
    if (std::equal(prefix, seq.end(), seq.begin() + s)) banned.push_back(seq[static_cast<std::size_t>(s + n - 1)]);
  }
  return banned;
}

Result<void> apply_processors(const std::vector<std::int64_t>& seq, float* scores, std::int64_t vocab,
                              const GenerateOptions& o, int max_length) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const auto in_vocab = [&](std::int64_t id, const char* what) -> Result<void> {
    if (id < 0 || id >= vocab) {
      return Error(ErrorCode::InvalidArgument, std::string("florence: ") + what + " " + std::to_string(id) +
                                                   " is outside the vocabulary of " + std::to_string(vocab));
    }
    return {};
  };
  const auto len = static_cast<std::int64_t>(seq.size());
  for (std::int64_t t : banned_ngram_tokens(seq, o.no_repeat_ngram_size)) {
    if (t >= 0 && t < vocab) scores[t] = -kInf;  // (transformers: ids beyond the logits are ignored)
  }
  if (len < o.min_length) {
    AEGIS_TRY(in_vocab(o.eos_token_id, "eos_token_id"));
    scores[o.eos_token_id] = -kInf;
  }
  if (o.forced_bos_token_id >= 0 && len == 1) {
    AEGIS_TRY(in_vocab(o.forced_bos_token_id, "output.generation.forced_bos_token_id"));
    std::fill(scores, scores + vocab, -kInf);
    scores[o.forced_bos_token_id] = 0.0F;
  }
  if (o.forced_eos_token_id >= 0 && len == max_length - 1) {
    AEGIS_TRY(in_vocab(o.forced_eos_token_id, "output.generation.forced_eos_token_id"));
    std::fill(scores, scores + vocab, -kInf);
    scores[o.forced_eos_token_id] = 0.0F;
  }
  return {};
}

BeamSearch::BeamSearch(const GenerateOptions& options)
    : opt_(options),
      n_(std::max(1, options.num_beams)),
      max_length_(1 + options.max_new_tokens),
      running_(static_cast<std::size_t>(n_), std::vector<std::int64_t>{options.decoder_start_token_id}),
      running_score_(static_cast<std::size_t>(n_), kMask),
      finished_(running_),
      finished_score_(static_cast<std::size_t>(n_), kMask),
      finished_done_(static_cast<std::size_t>(n_), 0),
      min_gap_(std::numeric_limits<float>::infinity()) {
  // Only the first beam is live at first (transformers: 0, then -1e9).
  running_score_[0] = 0.0F;
}

Result<std::vector<int>> BeamSearch::step(const std::vector<const float*>& rows, std::int64_t vocab) {
  if (done_) return Error(ErrorCode::Internal, "florence beam search: step() after the search ended");
  const auto n = static_cast<std::size_t>(n_);
  const std::size_t k_keep = 2 * n;  // transformers' beams_to_keep with one EOS token
  if (rows.size() != n) {
    return Error(ErrorCode::Internal, "florence beam search: " + std::to_string(rows.size()) + " logits rows for " +
                                          std::to_string(n) + " beams");
  }
  if (vocab < 1 || static_cast<std::size_t>(vocab) * n < k_keep + n) {
    return Error(ErrorCode::InvalidArgument, "florence beam search: a vocabulary of " + std::to_string(vocab) +
                                                 " is too small for " + std::to_string(n) + " beams");
  }
  const auto v = static_cast<std::size_t>(vocab);
  // b. log_softmax, processors, + the beam's running score.
  std::vector<float> flat(n * v);
  for (std::size_t b = 0; b < n; ++b) {
    float* row = flat.data() + b * v;
    for (std::size_t i = 0; i < v; ++i) {
      if (std::isnan(rows[b][i])) return Error(ErrorCode::InvalidArgument, "florence beam search: logits contain NaN");
    }
    log_softmax(rows[b], row, vocab);
    AEGIS_TRY(apply_processors(running_[b], row, vocab, opt_, max_length_));
    for (std::size_t i = 0; i < v; ++i) row[i] += running_score_[b];
  }
  // c. The best candidates over all beams (higher score first, lower index on ties).
  const std::size_t m = k_keep + n;
  std::vector<std::size_t> order(flat.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto better = [&](std::size_t a, std::size_t b) { return flat[a] > flat[b] || (flat[a] == flat[b] && a < b); };
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(m), order.end(), better);
  const auto token_of = [&](std::size_t idx) { return static_cast<std::int64_t>(idx % v); };
  const auto hits_stop = [&](std::size_t idx) {
    return token_of(idx) == opt_.eos_token_id || cur_len_ + 1 >= max_length_;
  };
  const auto note_gap = [&](float a, float b) {
    if (real(a) && real(b)) min_gap_ = std::min(min_gap_, a - b);
  };
  // Decisions: who is among the top N candidates; who is the N-th running one.
  note_gap(flat[order[n - 1]], flat[order[n]]);
  {
    std::vector<float> nonhit;
    for (std::size_t i = 0; i < m && nonhit.size() < n + 1; ++i) {
      if (!hits_stop(order[i])) nonhit.push_back(flat[order[i]]);
    }
    if (nonhit.size() == n + 1) note_gap(nonhit[n - 1], nonhit[n]);
  }
  std::vector<float> cand_score(k_keep);
  std::vector<char> hit(k_keep);
  for (std::size_t k = 0; k < k_keep; ++k) {
    cand_score[k] = flat[order[k]];
    hit[k] = hits_stop(order[k]) ? 1 : 0;
  }
  const auto cand_seq = [&](std::size_t k) {
    std::vector<std::int64_t> s = running_[order[k] / v];
    s.push_back(token_of(order[k]));
    return s;
  };
  // e. The running beams of the next step: the best non-finished candidates.
  std::vector<float> rs(k_keep);
  for (std::size_t k = 0; k < k_keep; ++k) rs[k] = cand_score[k] + (hit[k] != 0 ? kMask : 0.0F);
  std::vector<std::size_t> keep(k_keep);
  std::iota(keep.begin(), keep.end(), std::size_t{0});
  std::stable_sort(keep.begin(), keep.end(), [&](std::size_t a, std::size_t b) { return rs[a] > rs[b]; });
  keep.resize(n);
  // f. Finished hypotheses: the top N candidates that hit EOS / max_length,
  // scored sum / length^length_penalty, merged with the earlier ones.
  const float norm = length_norm(cur_len_, opt_.length_penalty);
  const bool all_done =
      std::all_of(finished_done_.begin(), finished_done_.end(), [](char d) { return d != 0; });
  const bool full = all_done && opt_.early_stopping == EarlyStopping::True;
  std::vector<float> merged_score(finished_score_);
  std::vector<char> merged_done(finished_done_);
  for (std::size_t k = 0; k < k_keep; ++k) {
    float s = cand_score[k] / norm;
    if (full) s += kMask;
    if (!heuristic_unsatisfied_) s += kMask;
    const bool just_finished = hit[k] != 0 && k < n;
    if (!just_finished) s += kMask;
    merged_score.push_back(s);
    merged_done.push_back(just_finished ? 1 : 0);
  }
  std::vector<std::size_t> morder(merged_score.size());
  std::iota(morder.begin(), morder.end(), std::size_t{0});
  std::stable_sort(morder.begin(), morder.end(),
                   [&](std::size_t a, std::size_t b) { return merged_score[a] > merged_score[b]; });
  for (std::size_t i = 0; i + 1 < morder.size() && i < n; ++i) {
    note_gap(merged_score[morder[i]], merged_score[morder[i + 1]]);
  }
  std::vector<std::vector<std::int64_t>> fin;
  std::vector<float> fin_score;
  std::vector<char> fin_done;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = morder[i];
    fin.push_back(j < n ? finished_[j] : cand_seq(j - n));
    fin_score.push_back(merged_score[j]);
    fin_done.push_back(merged_done[j]);
  }
  finished_ = std::move(fin);
  finished_score_ = std::move(fin_score);
  finished_done_ = std::move(fin_done);
  std::vector<std::vector<std::int64_t>> next;
  std::vector<float> next_score;
  std::vector<int> parents;
  for (std::size_t k : keep) {
    next.push_back(cand_seq(k));
    next_score.push_back(rs[k]);
    parents.push_back(static_cast<int>(order[k] / v));
  }
  running_ = std::move(next);
  running_score_ = std::move(next_score);
  // g. The stopping condition (transformers' _check_early_stop_heuristic and
  // _beam_search_has_unfinished_sequences).
  ++cur_len_;
  const int best_len = (opt_.early_stopping == EarlyStopping::Never && opt_.length_penalty > 0.0F) ? max_length_ - 1
                                                                                                   : cur_len_ - 1;
  const float best_running = running_score_[0] / length_norm(best_len, opt_.length_penalty);
  const bool now_all_done =
      std::all_of(finished_done_.begin(), finished_done_.end(), [](char d) { return d != 0; });
  if (now_all_done) {
    const float worst = *std::min_element(finished_score_.begin(), finished_score_.end());
    if (real(best_running) && real(worst)) min_gap_ = std::min(min_gap_, std::abs(best_running - worst));
    heuristic_unsatisfied_ = heuristic_unsatisfied_ && best_running > worst;
  } else {
    heuristic_unsatisfied_ = heuristic_unsatisfied_ && best_running > kMask;
  }
  const bool all_hit = std::all_of(hit.begin(), hit.end(), [](char h) { return h != 0; });
  done_ = !heuristic_unsatisfied_ || (now_all_done && opt_.early_stopping == EarlyStopping::True) || all_hit;
  return parents;
}

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
  g->name_layers();
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
  g->name_layers();
  return g;
}

void Generator::name_layers() {
  int declared = 0;
  const std::vector<TensorDesc> inputs = decoder_past_->backend().input_specs();
  const auto has = [&](const std::string& name) {
    return std::any_of(inputs.begin(), inputs.end(), [&](const TensorDesc& d) { return d.name == name; });
  };
  while (has("past_key_values." + std::to_string(declared) + ".decoder.key")) ++declared;
  names_.clear();
  add_layer_names(names_, declared);
}

const std::vector<LayerNames>& Generator::names_for(int layers) {
  add_layer_names(names_, layers);
  return names_;
}

ExecutionRequest Generator::past_request(const std::int64_t& token, const Tensor& hidden, const TensorView& mask_view,
                                         int layers, const std::vector<Tensor>& self_kv,
                                         const std::vector<Tensor>& cross_kv) const {
  ExecutionRequest req = first_request(token, hidden, mask_view);
  for (int i = 0; i < layers; ++i) {
    const auto& past = names_[static_cast<std::size_t>(i)].past;
    const auto key = static_cast<std::size_t>(2 * i);
    req.inputs.push_back({past[0], self_kv[key].view()});
    req.inputs.push_back({past[1], self_kv[key + 1].view()});
    req.inputs.push_back({past[2], cross_kv[key].view()});
    req.inputs.push_back({past[3], cross_kv[key + 1].view()});
  }
  return req;
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
  AEGIS_TRY(validate(options));
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
  if (options.num_beams > 1) return beam_search(**hidden, mask_view, options);

  const int max_length = 1 + options.max_new_tokens;
  std::vector<std::int64_t> generated{options.decoder_start_token_id};
  std::int64_t token = options.decoder_start_token_id;
  auto first = decoder_->execute(first_request(token, **hidden, mask_view));
  if (!first) return std::move(first).error().with_context("florence decoder_model");
  AEGIS_ASSIGN_OR_RETURN(const int layers, decoder_layers(*first, options));
  const std::vector<LayerNames>& names = names_for(layers);
  // The cache: self-attention (grows), cross-attention (fixed, from the first step).
  AEGIS_ASSIGN_OR_RETURN(const std::vector<Tensor> cross_kv, cache_of(*first, names, layers, false, "decoder_model"));
  AEGIS_ASSIGN_OR_RETURN(std::vector<Tensor> self_kv, cache_of(*first, names, layers, true, "decoder_model"));
  const Tensor* logits = first->find("logits");
  if (logits == nullptr) return Error(ErrorCode::NotFound, "florence decoder_model has no output 'logits'");
  auto next = greedy_next(*logits, "decoder_model", generated, options, max_length, margin);
  for (int step = 0; step < options.max_new_tokens; ++step) {
    if (!next) return std::move(next).error();
    token = *next;
    generated.push_back(token);
    if (token == options.eos_token_id || step + 1 == options.max_new_tokens) break;
    auto r = decoder_past_->execute(past_request(token, **hidden, mask_view, layers, self_kv, cross_kv));
    if (!r) return std::move(r).error().with_context("florence decoder_with_past (step " + std::to_string(step) + ")");
    AEGIS_ASSIGN_OR_RETURN(self_kv, cache_of(*r, names, layers, true, "decoder_with_past"));
    const Tensor* lg = r->find("logits");
    if (lg == nullptr) return Error(ErrorCode::NotFound, "florence decoder_with_past has no output 'logits'");
    next = greedy_next(*lg, "decoder_with_past", generated, options, max_length, margin);
  }
  last_min_margin_ = margin;
  return generated;
}

Result<std::vector<std::int64_t>> Generator::beam_search(const Tensor& hidden, const TensorView& mask_view,
                                                         const GenerateOptions& options) {
  const std::int64_t start = options.decoder_start_token_id;
  auto first = decoder_->execute(first_request(start, hidden, mask_view));
  if (!first) return std::move(first).error().with_context("florence decoder_model");
  AEGIS_ASSIGN_OR_RETURN(const int layers, decoder_layers(*first, options));
  const std::vector<LayerNames>& names = names_for(layers);
  AEGIS_ASSIGN_OR_RETURN(const std::vector<Tensor> cross_kv, cache_of(*first, names, layers, false, "decoder_model"));
  using Cache = std::shared_ptr<const std::vector<Tensor>>;
  AEGIS_ASSIGN_OR_RETURN(std::vector<Tensor> kv0, cache_of(*first, names, layers, true, "decoder_model"));
  const auto n = static_cast<std::size_t>(options.num_beams);
  // Every beam starts from the decoder start token: one first step, shared.
  std::vector<Cache> caches(n, std::make_shared<const std::vector<Tensor>>(std::move(kv0)));
  const Tensor* logits0 = first->find("logits");
  if (logits0 == nullptr) return Error(ErrorCode::NotFound, "florence decoder_model has no output 'logits'");
  std::int64_t vocab = 0;
  AEGIS_ASSIGN_OR_RETURN(const float* row0, last_row(*logits0, "decoder_model", vocab));
  std::vector<std::vector<float>> rows(n, std::vector<float>(row0, row0 + vocab));
  BeamSearch search(options);
  for (int step = 0;; ++step) {
    std::vector<const float*> ptrs;
    for (const auto& r : rows) ptrs.push_back(r.data());
    AEGIS_ASSIGN_OR_RETURN(std::vector<int> parents, search.step(ptrs, vocab));
    if (search.done()) break;
    // Each new beam continues its parent's cache with its last token.
    std::vector<Cache> next(n);
    for (std::size_t b = 0; b < n; ++b) {
      const std::int64_t token = search.running()[b].back();
      const Cache& parent = caches[static_cast<std::size_t>(parents[b])];
      auto r = decoder_past_->execute(past_request(token, hidden, mask_view, layers, *parent, cross_kv));
      if (!r) {
        return std::move(r).error().with_context("florence decoder_with_past (step " + std::to_string(step) +
                                                 ", beam " + std::to_string(b) + ")");
      }
      AEGIS_ASSIGN_OR_RETURN(std::vector<Tensor> kv, cache_of(*r, names, layers, true, "decoder_with_past"));
      next[b] = std::make_shared<const std::vector<Tensor>>(std::move(kv));
      const Tensor* lg = r->find("logits");
      if (lg == nullptr) return Error(ErrorCode::NotFound, "florence decoder_with_past has no output 'logits'");
      std::int64_t v = 0;
      AEGIS_ASSIGN_OR_RETURN(const float* row, last_row(*lg, "decoder_with_past", v));
      if (v != vocab) {
        return Error(ErrorCode::InvalidArgument, "florence decoder_with_past: logits over " + std::to_string(v) +
                                                     " tokens, decoder_model's over " + std::to_string(vocab));
      }
      rows[b].assign(row, row + v);
    }
    caches = std::move(next);
  }
  last_min_margin_ = search.min_gap();
  return search.best();
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
