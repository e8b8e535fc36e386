// Recipe <-> JSON. Every key is checked; errors name the key path and value.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <vector>

#include "topiary/file_util.h"
#include "topiary/recipe.h"

namespace topiary {

using json = nlohmann::json;

const char* pruneMethodName(PruneMethod m) {
  switch (m) {
    case PruneMethod::Magnitude: return "magnitude";
    case PruneMethod::Admm: return "admm";
    case PruneMethod::Dns: return "dns";
  }
  return "?";
}

const char* scheduleKindName(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::OneShot: return "one-shot";
    case ScheduleKind::Iterative: return "iterative";
    case ScheduleKind::Agp: return "agp";
  }
  return "?";
}

namespace {

// A value as it appears in an error message: invalid UTF-8 replaced instead
// of throwing, long values cut so a hostile recipe cannot flood the message.
std::string shown(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// A number as a person writes it (0.9, not std::to_string's 0.900000).
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Status keyError(const std::string& key, const json& v, const std::string& why) {
  return Status::badInput("recipe key '" + key + "': " + shown(v) + " " + why);
}

// Fails on keys of `obj` not in `allowed`.
Status checkKeys(const json& obj, const std::string& path, const std::set<std::string>& allowed) {
  if (!obj.is_object()) return Status::badInput("recipe key '" + path + "' must be an object, got " + shown(obj));
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (!allowed.count(it.key())) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return Status::badInput("recipe key '" + (path.empty() ? "" : path + ".") + it.key() +
                              "' is unknown (expected one of: " + list + ")");
    }
  return Status::ok();
}

Status getNumber(const json& v, const std::string& key, double lo, double hi, bool hiOpen, double& out) {
  if (!v.is_number()) return keyError(key, v, "is not a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || (hiOpen ? d >= hi : d > hi)) {
    char range[96];
    std::snprintf(range, sizeof range, "is outside [%g, %g%s", lo, hi, hiOpen ? ")" : "]");
    return keyError(key, v, range);
  }
  out = d;
  return Status::ok();
}

Status getInt(const json& v, const std::string& key, int64_t lo, int64_t hi, int64_t& out) {
  if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
    return keyError(key, v, "is not an integer");
  double d = v.get<double>();
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
    return keyError(key, v, "is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  out = static_cast<int64_t>(d);
  return Status::ok();
}

// A positive number stored as a 32-bit float (a learning rate, ADMM's rho):
// a value so small that it rounds to 0 is refused here, or the recipe would
// save a 0 that the next load refuses as not positive.
Status getPositiveFloat(const json& v, const std::string& key, double hi, float& out) {
  double d;
  TOPIARY_RETURN_IF_ERROR(getNumber(v, key, 0, hi, false, d));
  if (d <= 0) return keyError(key, v, "must be positive");
  float f = static_cast<float>(d);
  if (!(f > 0) || !std::isnormal(f)) return keyError(key, v, "is too small (below 1.2e-38, the least normal 32-bit float)");
  out = f;
  return Status::ok();
}

Status getBool(const json& v, const std::string& key, bool& out) {
  if (!v.is_boolean()) return keyError(key, v, "is not true or false");
  out = v.get<bool>();
  return Status::ok();
}

Status getString(const json& v, const std::string& key, std::string& out) {
  if (!v.is_string()) return keyError(key, v, "is not a string");
  out = v.get<std::string>();
  return Status::ok();
}

const std::set<std::string> kLayerKeys = {"granularity", "sparsity", "criterion", "n", "m", "nm_pattern", "locked"};

Status parseLayer(const json& obj, const std::string& path, LayerOverride& o) {
  TOPIARY_RETURN_IF_ERROR(checkKeys(obj, path, kLayerKeys));
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::string key = path + "." + it.key();
    const json& v = it.value();
    if (it.key() == "granularity") {
      std::string s;
      Granularity g;
      TOPIARY_RETURN_IF_ERROR(getString(v, key, s));
      if (!parseGranularity(s, g))
        return keyError(key, v, "is not a granularity (element, nm, kernel, filter, channel, neuron, layer)");
      o.granularity = g;
    } else if (it.key() == "criterion") {
      std::string s;
      Criterion c;
      TOPIARY_RETURN_IF_ERROR(getString(v, key, s));
      if (!parseCriterion(s, c)) return keyError(key, v, "is not a criterion (l1, l2, taylor, bn_scale, random)");
      o.criterion = c;
    } else if (it.key() == "sparsity") {
      double d;
      TOPIARY_RETURN_IF_ERROR(getNumber(v, key, 0, 1, true, d));
      o.sparsity = d;
    } else if (it.key() == "n" || it.key() == "m") {
      int64_t i;
      TOPIARY_RETURN_IF_ERROR(getInt(v, key, 1, 32, i));
      (it.key() == "n" ? o.n : o.m) = static_cast<int>(i);
    } else if (it.key() == "nm_pattern") {
      std::string s;
      TOPIARY_RETURN_IF_ERROR(getString(v, key, s));
      if (s != "tap" && s != "kernel") return keyError(key, v, "is not an N:M pattern (tap, kernel)");
      o.nmKernel = s == "kernel";
    } else if (it.key() == "locked") {
      bool b;
      TOPIARY_RETURN_IF_ERROR(getBool(v, key, b));
      o.locked = b;
    }
  }
  return Status::ok();
}

void applyOverride(LayerPruneConfig& c, const LayerOverride& o) {
  if (o.granularity) c.granularity = *o.granularity;
  if (o.sparsity) c.sparsity = *o.sparsity;
  if (o.criterion) c.criterion = *o.criterion;
  if (o.n) c.n = *o.n;
  if (o.m) c.m = *o.m;
  if (o.nmKernel) c.nmKernel = *o.nmKernel;
  if (o.locked) c.locked = *o.locked;
}

Status checkNM(const LayerPruneConfig& c, const std::string& path) {
  if (c.n >= c.m)
    return Status::badInput("recipe key '" + path + ".n': " + std::to_string(c.n) + " must be less than m (" +
                            std::to_string(c.m) + ")");
  return Status::ok();
}

}  // namespace

Result<Recipe> recipeFromJson(const json& j) {
  Recipe r;
  TOPIARY_RETURN_IF_ERROR(checkKeys(j, "", {"default", "layers", "ranking", "method", "schedule", "finetune", "admm",
                                            "dns", "quantize", "comment", "name"}));
  // Free text the engine does not use, but still text: a number or an
  // object there is a mistake in the recipe, not a label.
  for (const char* key : {"name", "comment"}) {
    std::string text;
    if (j.contains(key)) TOPIARY_RETURN_IF_ERROR(getString(j[key], key, text));
  }
  if (j.contains("default")) {
    LayerOverride o;
    TOPIARY_RETURN_IF_ERROR(parseLayer(j["default"], "default", o));
    applyOverride(r.defaults, o);
    TOPIARY_RETURN_IF_ERROR(checkNM(r.defaults, "default"));
  }
  if (j.contains("layers")) {
    const json& L = j["layers"];
    if (!L.is_object()) return keyError("layers", L, "is not an object of layer name -> settings");
    for (auto it = L.begin(); it != L.end(); ++it) {
      LayerOverride o;
      TOPIARY_RETURN_IF_ERROR(parseLayer(it.value(), "layers." + it.key(), o));
      LayerPruneConfig c = r.defaults;
      applyOverride(c, o);
      TOPIARY_RETURN_IF_ERROR(checkNM(c, "layers." + it.key()));
      r.layers[it.key()] = o;
    }
  }
  if (j.contains("ranking")) {
    std::string s;
    TOPIARY_RETURN_IF_ERROR(getString(j["ranking"], "ranking", s));
    if (s != "layer" && s != "global") return keyError("ranking", j["ranking"], "is not 'layer' or 'global'");
    r.globalRanking = s == "global";
  }
  if (j.contains("method")) {
    std::string s;
    TOPIARY_RETURN_IF_ERROR(getString(j["method"], "method", s));
    if (s == "magnitude") r.method = PruneMethod::Magnitude;
    else if (s == "admm") r.method = PruneMethod::Admm;
    else if (s == "dns") r.method = PruneMethod::Dns;
    else return keyError("method", j["method"], "is not a method (magnitude, admm, dns)");
  }
  if (j.contains("schedule")) {
    const json& s = j["schedule"];
    TOPIARY_RETURN_IF_ERROR(checkKeys(s, "schedule", {"kind", "steps", "initial_sparsity"}));
    if (s.contains("kind")) {
      std::string k;
      TOPIARY_RETURN_IF_ERROR(getString(s["kind"], "schedule.kind", k));
      if (k == "one-shot" || k == "oneshot") r.schedule.kind = ScheduleKind::OneShot;
      else if (k == "iterative") r.schedule.kind = ScheduleKind::Iterative;
      else if (k == "agp") r.schedule.kind = ScheduleKind::Agp;
      else return keyError("schedule.kind", s["kind"], "is not a schedule (one-shot, iterative, agp)");
    }
    int64_t i;
    if (s.contains("steps")) {
      TOPIARY_RETURN_IF_ERROR(getInt(s["steps"], "schedule.steps", 1, 1000, i));
      r.schedule.steps = static_cast<int>(i);
    }
    if (s.contains("initial_sparsity"))
      TOPIARY_RETURN_IF_ERROR(getNumber(s["initial_sparsity"], "schedule.initial_sparsity", 0, 1, true, r.schedule.initialSparsity));
    // A one-shot schedule prunes once, and only agp starts from an initial
    // sparsity: other values would be ignored without a word. The values
    // recipeToJson writes for such schedules (steps 1, initial_sparsity 0)
    // are accepted, so a saved recipe loads again.
    const std::string kind =
        std::string("'") + scheduleKindName(r.schedule.kind) + "'" + (s.contains("kind") ? "" : " (the default)");
    if (r.schedule.kind == ScheduleKind::OneShot && r.schedule.steps > 1)
      return keyError("schedule.steps", s["steps"],
                      "means nothing for schedule kind " + kind + ", which prunes once (use iterative or agp)");
    if (r.schedule.kind != ScheduleKind::Agp && r.schedule.initialSparsity > 0)
      return keyError("schedule.initial_sparsity", s["initial_sparsity"],
                      "means nothing for schedule kind " + kind + " (only agp starts from an initial sparsity)");
  }
  if (j.contains("finetune")) {
    const json& f = j["finetune"];
    TOPIARY_RETURN_IF_ERROR(checkKeys(f, "finetune", {"epochs", "lr", "data", "batch", "limit", "max_batches", "optimizer",
                                                         "lr_schedule", "augment_shift", "augment_flip"}));
    int64_t i;
    if (f.contains("epochs")) {
      TOPIARY_RETURN_IF_ERROR(getInt(f["epochs"], "finetune.epochs", 0, 10000, i));
      r.finetune.epochs = static_cast<int>(i);
    }
    if (f.contains("lr")) TOPIARY_RETURN_IF_ERROR(getPositiveFloat(f["lr"], "finetune.lr", 10, r.finetune.lr));
    if (f.contains("data")) TOPIARY_RETURN_IF_ERROR(getString(f["data"], "finetune.data", r.finetune.data));
    if (f.contains("batch")) {
      TOPIARY_RETURN_IF_ERROR(getInt(f["batch"], "finetune.batch", 1, 65536, i));
      r.finetune.batch = static_cast<int>(i);
    }
    if (f.contains("limit")) TOPIARY_RETURN_IF_ERROR(getInt(f["limit"], "finetune.limit", 0, INT64_MAX / 2, r.finetune.limit));
    if (f.contains("max_batches"))
      TOPIARY_RETURN_IF_ERROR(getInt(f["max_batches"], "finetune.max_batches", 0, INT64_MAX / 2, r.finetune.maxBatches));
    if (f.contains("optimizer")) {
      TOPIARY_RETURN_IF_ERROR(getString(f["optimizer"], "finetune.optimizer", r.finetune.optimizer));
      if (r.finetune.optimizer != "sgd" && r.finetune.optimizer != "adam")
        return keyError("finetune.optimizer", f["optimizer"], "is not 'sgd' or 'adam'");
    }
    if (f.contains("lr_schedule")) {
      TOPIARY_RETURN_IF_ERROR(getString(f["lr_schedule"], "finetune.lr_schedule", r.finetune.lrSchedule));
      if (r.finetune.lrSchedule != "none" && r.finetune.lrSchedule != "cosine")
        return keyError("finetune.lr_schedule", f["lr_schedule"], "is not 'none' or 'cosine'");
    }
    if (f.contains("augment_shift")) {
      TOPIARY_RETURN_IF_ERROR(getInt(f["augment_shift"], "finetune.augment_shift", 0, 8, i));
      r.finetune.augmentShift = static_cast<int>(i);
    }
    if (f.contains("augment_flip"))
      TOPIARY_RETURN_IF_ERROR(getBool(f["augment_flip"], "finetune.augment_flip", r.finetune.augmentFlip));
  }
  if (j.contains("admm")) {
    const json& a = j["admm"];
    TOPIARY_RETURN_IF_ERROR(checkKeys(a, "admm", {"rho", "iterations", "epochs", "rho_growth"}));
    int64_t i;
    double d;
    if (a.contains("rho")) TOPIARY_RETURN_IF_ERROR(getPositiveFloat(a["rho"], "admm.rho", 1e6, r.admm.rho));
    if (a.contains("iterations")) {
      TOPIARY_RETURN_IF_ERROR(getInt(a["iterations"], "admm.iterations", 1, 1000, i));
      r.admm.iterations = static_cast<int>(i);
    }
    if (a.contains("epochs")) {
      TOPIARY_RETURN_IF_ERROR(getInt(a["epochs"], "admm.epochs", 1, 1000, i));
      r.admm.epochs = static_cast<int>(i);
    }
    if (a.contains("rho_growth")) {
      TOPIARY_RETURN_IF_ERROR(getNumber(a["rho_growth"], "admm.rho_growth", 1, 100, false, d));
      r.admm.rhoGrowth = static_cast<float>(d);
    }
  }
  if (j.contains("dns")) {
    const json& a = j["dns"];
    TOPIARY_RETURN_IF_ERROR(checkKeys(a, "dns", {"hysteresis", "update_every"}));
    double d;
    int64_t i;
    if (a.contains("hysteresis")) {
      TOPIARY_RETURN_IF_ERROR(getNumber(a["hysteresis"], "dns.hysteresis", 0, 10, false, d));
      r.dns.hysteresis = static_cast<float>(d);
    }
    if (a.contains("update_every")) {
      TOPIARY_RETURN_IF_ERROR(getInt(a["update_every"], "dns.update_every", 1, 1000000, i));
      r.dns.updateEvery = static_cast<int>(i);
    }
  }
  if (j.contains("quantize")) {
    const json& q = j["quantize"];
    TOPIARY_RETURN_IF_ERROR(checkKeys(q, "quantize", {"bits", "per_channel", "aware"}));
    int64_t i;
    if (q.contains("bits")) {
      TOPIARY_RETURN_IF_ERROR(getInt(q["bits"], "quantize.bits", 1, 8, i));
      r.quantize.bits = static_cast<int>(i);
    }
    if (q.contains("per_channel")) TOPIARY_RETURN_IF_ERROR(getBool(q["per_channel"], "quantize.per_channel", r.quantize.perChannel));
    if (q.contains("aware")) TOPIARY_RETURN_IF_ERROR(getBool(q["aware"], "quantize.aware", r.quantize.aware));
  }
  if (r.schedule.kind == ScheduleKind::Agp && r.schedule.initialSparsity > r.defaults.sparsity && r.defaults.sparsity > 0)
    return Status::badInput("recipe key 'schedule.initial_sparsity': " + num(r.schedule.initialSparsity) +
                            " is above the final sparsity " + num(r.defaults.sparsity));
  return r;
}

// Deepest bracket nesting outside strings. A recipe needs 3 levels; refusing
// deep nesting up front keeps recursive code (dump, destructors) safe.
static int nestingDepth(const std::string& text) {
  int depth = 0, deepest = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

Result<Recipe> parseRecipe(const std::string& text) {
  constexpr int kMaxDepth = 32;
  if (int d = nestingDepth(text); d > kMaxDepth)
    return Status::badInput("the recipe nests " + std::to_string(d) + " levels deep (at most " +
                            std::to_string(kMaxDepth) + " are allowed)");
  // A key given twice in one object: JSON parsers keep one of them
  // silently, so the other setting would be lost without a word.
  std::vector<std::set<std::string>> keys;  // per open object: its keys so far
  std::vector<std::string> names;           // per open object: the key being read
  std::string twice;
  auto track = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys.emplace_back();
      names.emplace_back();
    } else if (event == json::parse_event_t::object_end && !keys.empty()) {
      keys.pop_back();
      names.pop_back();
    } else if (event == json::parse_event_t::key && !keys.empty()) {
      names.back() = parsed.get<std::string>();
      if (!keys.back().insert(names.back()).second && twice.empty())
        for (const auto& n : names) twice += (twice.empty() ? "" : ".") + n;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text, track);
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." without the tag.
    std::string what = e.what();
    const size_t tag = what.find("] ");
    return Status::badInput("the recipe is not valid JSON: " +
                            (tag == std::string::npos ? what : what.substr(tag + 2)));
  }
  if (!twice.empty()) return Status::badInput("recipe key '" + twice + "' is given twice in one object");
  return recipeFromJson(j);
}

Result<Recipe> loadRecipe(const std::string& path) {
  auto bytes = readFile(path, 16 << 20);
  if (!bytes) return bytes.status();
  auto r = parseRecipe(bytes.value());
  if (!r) return r.status().withContext(path);
  return r;
}

namespace {
// A 32-bit setting as the shortest decimal that reads back as the same float:
// 0.01, not the double 0.009999999776482582 the float widens to.
double asWritten(float f) {
  char buf[32];
  for (int digits = 1; digits < 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(f));
    const double d = std::strtod(buf, nullptr);  // what a reader parses, then narrows as the recipe does
    if (static_cast<float>(d) == f) return d;
  }
  return static_cast<double>(f);
}

json layerToJson(const LayerPruneConfig& c) {
  json j = {{"granularity", granularityName(c.granularity)}, {"sparsity", c.sparsity},
            {"criterion", criterionName(c.criterion)}};
  // n, m and the pattern also when the default granularity is not N:M: a
  // layer that switches to nm inherits them, and they bound its own n or m.
  const LayerPruneConfig builtIn;
  if (c.granularity == Granularity::NM || c.n != builtIn.n || c.m != builtIn.m || c.nmKernel != builtIn.nmKernel) {
    j["n"] = c.n;
    j["m"] = c.m;
    j["nm_pattern"] = c.nmKernel ? "kernel" : "tap";
  }
  if (c.locked) j["locked"] = true;
  return j;
}
}  // namespace

json recipeToJson(const Recipe& r) {
  json j;
  j["default"] = layerToJson(r.defaults);
  json layers = json::object();
  for (const auto& kv : r.layers) {
    const LayerOverride& o = kv.second;
    json e = json::object();
    if (o.granularity) e["granularity"] = granularityName(*o.granularity);
    if (o.sparsity) e["sparsity"] = *o.sparsity;
    if (o.criterion) e["criterion"] = criterionName(*o.criterion);
    if (o.n) e["n"] = *o.n;
    if (o.m) e["m"] = *o.m;
    if (o.nmKernel) e["nm_pattern"] = *o.nmKernel ? "kernel" : "tap";
    if (o.locked) e["locked"] = *o.locked;
    layers[kv.first] = e;
  }
  j["layers"] = layers;
  j["ranking"] = r.globalRanking ? "global" : "layer";
  j["method"] = pruneMethodName(r.method);
  j["schedule"] = {{"kind", scheduleKindName(r.schedule.kind)}, {"steps", r.schedule.steps},
                   {"initial_sparsity", r.schedule.initialSparsity}};
  j["finetune"] = {{"epochs", r.finetune.epochs}, {"lr", asWritten(r.finetune.lr)}, {"data", r.finetune.data},
                   {"batch", r.finetune.batch}, {"limit", r.finetune.limit},
                   {"max_batches", r.finetune.maxBatches}, {"optimizer", r.finetune.optimizer},
                   {"lr_schedule", r.finetune.lrSchedule}, {"augment_shift", r.finetune.augmentShift},
                   {"augment_flip", r.finetune.augmentFlip}};
  if (r.method == PruneMethod::Admm)
    j["admm"] = {{"rho", asWritten(r.admm.rho)}, {"iterations", r.admm.iterations}, {"epochs", r.admm.epochs},
                 {"rho_growth", asWritten(r.admm.rhoGrowth)}};
  if (r.method == PruneMethod::Dns)
    j["dns"] = {{"hysteresis", asWritten(r.dns.hysteresis)}, {"update_every", r.dns.updateEvery}};
  if (r.quantize.bits > 0)
    j["quantize"] = {{"bits", r.quantize.bits}, {"per_channel", r.quantize.perChannel}, {"aware", r.quantize.aware}};
  return j;
}

Status saveRecipe(const Recipe& r, const std::string& path) {
  return writeFileAtomic(path, recipeToJson(r).dump(2) + "\n");
}

}  // namespace topiary
