#include "resnet/robust/attacks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "resnet/core/check.h"
#include "resnet/core/rng.h"
#include "resnet/explain/targets.h"
#include "resnet/models/input_gradient.h"

namespace resnet::robust {
namespace {

float channel_value(const std::vector<float>& v, int64_t c, float fallback) {
  return v.empty() ? fallback : v[v.size() == 1 ? 0 : static_cast<size_t>(c)];
}

int64_t per_image(const Tensor& x) {
  return x.numel() / x.size(0);
}

double norm2(const float* v, int64_t count) {
  double s = 0;
  for (int64_t e = 0; e < count; ++e) s += static_cast<double>(v[e]) * v[e];
  return std::sqrt(s);
}

// x_adv ← Π(x_adv): into the ε-ball around x, then into [0, 1].
void project(Tensor& x_adv, const Tensor& x, Norm norm, double eps) {
  const int64_t n = x.size(0), per = per_image(x);
  const float e = static_cast<float>(eps);
  for (int64_t i = 0; i < n; ++i) {
    float* a = x_adv.data<float>() + i * per;
    const float* o = x.data<float>() + i * per;
    if (norm == Norm::linf) {
      for (int64_t k = 0; k < per; ++k) a[k] = std::clamp(std::clamp(a[k], o[k] - e, o[k] + e), 0.0f, 1.0f);
      continue;
    }
    double s = 0;
    for (int64_t k = 0; k < per; ++k) s += static_cast<double>(a[k] - o[k]) * (a[k] - o[k]);
    const double length = std::sqrt(s);
    const double scale = length > eps ? eps / length : 1.0;
    for (int64_t k = 0; k < per; ++k)
      a[k] = std::clamp(static_cast<float>(o[k] + scale * (a[k] - o[k])), 0.0f, 1.0f);
  }
}

// x_adv += step_i · direction(g): sign(g) for L∞ (sign(0) = 0), g/‖g‖₂ for L2 (no move where g = 0).
void ascend(Tensor& x_adv, const Tensor& g, Norm norm, const std::vector<double>& step) {
  const int64_t n = x_adv.size(0), per = per_image(x_adv);
  for (int64_t i = 0; i < n; ++i) {
    float* a = x_adv.data<float>() + i * per;
    const float* d = g.data<float>() + i * per;
    const double s = step[static_cast<size_t>(i)];
    if (norm == Norm::linf) {
      const float fs = static_cast<float>(s);
      for (int64_t k = 0; k < per; ++k) a[k] += fs * static_cast<float>((d[k] > 0) - (d[k] < 0));
      continue;
    }
    const double length = norm2(d, per);
    if (length == 0) continue;
    for (int64_t k = 0; k < per; ++k) a[k] = static_cast<float>(a[k] + s * d[k] / length);
  }
}

// A random point of the ε-ball around x (then the box), drawn from (seed, stream, image index, element).
Tensor random_start(const Tensor& x, Norm norm, double eps, uint64_t seed, uint64_t stream, int64_t first) {
  Tensor out = x.clone(Layout::contiguous);
  const int64_t n = x.size(0), per = per_image(x);
  const uint64_t s = mix64(seed ^ mix64(stream + 0x5eed));
  for (int64_t i = 0; i < n; ++i) {
    float* a = out.data<float>() + i * per;
    const uint64_t base = static_cast<uint64_t>(first + i) * static_cast<uint64_t>(2 * per + 1);
    if (norm == Norm::linf) {
      for (int64_t k = 0; k < per; ++k)
        a[k] += static_cast<float>(eps * (2 * counter_uniform(s, base + k) - 1));
      continue;
    }
    std::vector<double> direction(static_cast<size_t>(per));
    double length = 0;
    for (int64_t k = 0; k < per; ++k) {  // Box–Muller from two counter draws
      const double u1 = 1.0 - counter_uniform(s, base + 2 * k), u2 = counter_uniform(s, base + 2 * k + 1);
      direction[static_cast<size_t>(k)] = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
      length += direction[static_cast<size_t>(k)] * direction[static_cast<size_t>(k)];
    }
    length = std::sqrt(length);
    const double radius = eps * counter_uniform(s, base + 2 * per);
    for (int64_t k = 0; k < per; ++k)
      a[k] += static_cast<float>(length > 0 ? radius * direction[static_cast<size_t>(k)] / length : 0.0);
  }
  project(out, x, norm, eps);
  return out;
}

void copy_row(Tensor& to, int64_t i, const Tensor& from, int64_t j) {
  const int64_t per = per_image(to);
  std::copy_n(from.data<float>() + j * per, per, to.data<float>() + i * per);
}

Tensor rows_of(const Tensor& t, const std::vector<int64_t>& rows) {
  Shape shape = t.shape();
  shape[0] = static_cast<int64_t>(rows.size());
  Tensor out = Tensor::empty(shape);
  for (size_t r = 0; r < rows.size(); ++r) copy_row(out, static_cast<int64_t>(r), t, rows[r]);
  return out;
}

// What the attacks keep per image across restarts and targets: an example that fools the model if one
// was found, else the one with the highest loss.
struct Best {
  Tensor x;
  std::vector<bool> fooled;
  std::vector<double> loss;
  Best(const Tensor& start, int64_t n)
      : x(start.clone(Layout::contiguous)),
        fooled(static_cast<size_t>(n), false),
        loss(static_cast<size_t>(n), -INFINITY) {}
  // Candidate rows (row r of `candidate` is image rows[r]).
  void offer(const Tensor& candidate, const std::vector<int64_t>& rows, const std::vector<bool>& fools,
             const std::vector<double>& losses) {
    for (size_t r = 0; r < rows.size(); ++r) {
      const size_t i = static_cast<size_t>(rows[r]);
      if (fooled[i]) continue;
      if (fools[r] || losses[r] > loss[i]) {
        copy_row(x, rows[r], candidate, static_cast<int64_t>(r));
        fooled[i] = fools[r], loss[i] = losses[r];
      }
    }
  }
  std::vector<int64_t> not_fooled() const {
    std::vector<int64_t> rows;
    for (size_t i = 0; i < fooled.size(); ++i)
      if (!fooled[i]) rows.push_back(static_cast<int64_t>(i));
    return rows;
  }
};

// The rows still to attack, padded with repeats of the first to a multiple of 32 (at most n): a new batch
// size costs the network new oneDNN primitives, so the subsets keep to a few sizes. A repeated row is the
// same image with the same start, so offering its result twice changes nothing.
std::vector<int64_t> padded(std::vector<int64_t> rows, int64_t n) {
  if (rows.empty()) return rows;
  const int64_t size = std::min<int64_t>(n, (static_cast<int64_t>(rows.size()) + 31) / 32 * 32);
  while (static_cast<int64_t>(rows.size()) < size) rows.push_back(rows.front());
  return rows;
}

std::vector<bool> misclassified(const Tensor& logits, const std::vector<int64_t>& labels) {
  const std::vector<int64_t> p = explain::predicted_classes(logits);
  std::vector<bool> out(p.size());
  for (size_t i = 0; i < p.size(); ++i) out[i] = p[i] != labels[i];
  return out;
}

// Madry's PGD (FGSM when steps = 1, α = ε, no random start) from `start`; returns the last iterate.
Tensor pgd_run(PixelModel& model, const Tensor& x, Tensor x_adv, const std::vector<int64_t>& labels,
               Norm norm, double eps, double alpha, int64_t steps) {
  const std::vector<double> step(static_cast<size_t>(x.size(0)), alpha);
  for (int64_t s = 0; s < steps; ++s) {
    const PixelModel::Step g = model.loss_gradient(x_adv, Loss::cross_entropy, labels);
    ascend(x_adv, g.gradient, norm, step);
    project(x_adv, x, norm, eps);
  }
  return x_adv;
}

// One APGD run (Croce & Hein 2020, Alg. 1) from `start`, offering every iterate to `best`.
void apgd_run(PixelModel& model, const Tensor& x, const Tensor& start, const std::vector<int64_t>& labels,
              const std::vector<int64_t>& targets, Loss loss, Norm norm, double eps, int64_t iterations,
              const std::vector<int64_t>& rows, Best& best) {
  constexpr double kMomentum = 0.75, kRho = 0.75;
  const int64_t n = x.size(0);
  const std::vector<int64_t> checkpoints = apgd_checkpoints(iterations);
  std::vector<double> eta(static_cast<size_t>(n), 2 * eps);
  auto evaluate = [&](const Tensor& point) {
    PixelModel::Step s = model.loss_gradient(point, loss, labels, targets);
    best.offer(point, rows, misclassified(s.logits, labels), s.loss);
    return s;
  };
  Tensor x_prev = start.clone(Layout::contiguous);
  PixelModel::Step s = evaluate(x_prev);
  std::vector<std::vector<double>> f{s.loss};  // f[k][i]: the loss of x^(k)
  Tensor x_max = x_prev.clone(Layout::contiguous), g_max = s.gradient.clone(Layout::contiguous);
  std::vector<double> f_max = s.loss;
  Tensor x_cur = x_prev.clone(Layout::contiguous);
  ascend(x_cur, s.gradient, norm, eta);
  project(x_cur, x, norm, eps);
  s = evaluate(x_cur);
  f.push_back(s.loss);
  Tensor g_cur = s.gradient;
  auto update_max = [&](const Tensor& point, const PixelModel::Step& at) {
    for (int64_t i = 0; i < n; ++i)
      if (at.loss[static_cast<size_t>(i)] > f_max[static_cast<size_t>(i)]) {
        f_max[static_cast<size_t>(i)] = at.loss[static_cast<size_t>(i)];
        copy_row(x_max, i, point, i), copy_row(g_max, i, at.gradient, i);
      }
  };
  update_max(x_cur, s);
  // Condition 2's memory: f_max and whether η was halved, at the previous checkpoint (w_0 = 0: f(x^(0))).
  std::vector<double> f_max_at_check = f[0];
  std::vector<bool> halved_at_check(static_cast<size_t>(n), false);
  size_t next_check = 1;
  const int64_t per = per_image(x);
  for (int64_t k = 1; k < iterations; ++k) {
    Tensor z = x_cur.clone(Layout::contiguous);
    ascend(z, g_cur, norm, eta);
    project(z, x, norm, eps);
    Tensor x_next = Tensor::empty(x.shape());
    const double a = kMomentum;
    for (int64_t e = 0; e < n * per; ++e) {
      const float xc = x_cur.data<float>()[e];
      x_next.data<float>()[e] =
          static_cast<float>(xc + a * (z.data<float>()[e] - xc) + (1 - a) * (xc - x_prev.data<float>()[e]));
    }
    project(x_next, x, norm, eps);
    s = evaluate(x_next);
    f.push_back(s.loss);
    update_max(x_next, s);
    g_cur = s.gradient;
    if (next_check < checkpoints.size() && k == checkpoints[next_check]) {
      const int64_t w0 = checkpoints[next_check - 1], w1 = checkpoints[next_check];
      for (int64_t i = 0; i < n; ++i) {
        const size_t ii = static_cast<size_t>(i);
        int64_t rises = 0;
        for (int64_t t = w0; t < w1; ++t)
          rises += f[static_cast<size_t>(t + 1)][ii] > f[static_cast<size_t>(t)][ii];
        const bool condition1 = static_cast<double>(rises) < kRho * static_cast<double>(w1 - w0);
        const bool condition2 = !halved_at_check[ii] && f_max_at_check[ii] == f_max[ii];
        halved_at_check[ii] = condition1 || condition2;
        f_max_at_check[ii] = f_max[ii];
        if (halved_at_check[ii]) {
          eta[ii] /= 2;
          copy_row(x_next, i, x_max, i), copy_row(g_cur, i, g_max, i);
        }
      }
      ++next_check;
    }
    x_prev = std::move(x_cur);
    x_cur = std::move(x_next);
  }
}

}  // namespace

PixelModel::PixelModel(models::ResNet& model, std::vector<float> mean, std::vector<float> std)
    : model_(model), mean_(std::move(mean)), std_(std::move(std)) {
  const int64_t c = model_.spec().in_channels;
  for (const auto* v : {&mean_, &std_})
    RESNET_CHECK(v->empty() || v->size() == 1 || static_cast<int64_t>(v->size()) == c)
        << "normalisation of " << v->size() << " values for " << c << " channels";
  for (float s : std_) RESNET_CHECK(s > 0) << "std " << s;
}

int64_t PixelModel::classes() const {
  return model_.spec().num_classes;
}

Tensor PixelModel::normalise(const Tensor& x01) const {
  Tensor out = x01.clone(Layout::contiguous);
  const int64_t n = out.size(0), c = out.size(1), plane = out.size(2) * out.size(3);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float m = channel_value(mean_, ch, 0.0f), s = channel_value(std_, ch, 1.0f);
      float* v = out.data<float>() + (i * c + ch) * plane;
      for (int64_t p = 0; p < plane; ++p) v[p] = (v[p] - m) / s;
    }
  return out;
}

Tensor PixelModel::logits(const Tensor& x01) {
  return explain::model_logits(model_)(normalise(x01)).clone(Layout::contiguous);
}

PixelModel::Step PixelModel::loss_gradient(const Tensor& x01, Loss loss, const std::vector<int64_t>& labels,
                                           const std::vector<int64_t>& targets) {
  Step step;
  models::InputGradient g = models::input_gradient(model_, normalise(x01), [&](const Tensor& logits) {
    LossAndGradient l = loss_and_gradient(loss, logits, labels, targets);
    step.loss = std::move(l.loss);
    return l.dlogits;
  });
  step.logits = std::move(g.logits);
  // d/dx01 = d/dx_normalised / std, per channel.
  const int64_t n = g.input.size(0), c = g.input.size(1), plane = g.input.size(2) * g.input.size(3);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float s = channel_value(std_, ch, 1.0f);
      float* v = g.input.data<float>() + (i * c + ch) * plane;
      for (int64_t p = 0; p < plane; ++p) v[p] /= s;
    }
  step.gradient = std::move(g.input);
  return step;
}

Attack parse_attack(std::string_view name) {
  for (Attack a : {Attack::fgsm, Attack::pgd, Attack::apgd_ce, Attack::apgd_dlr})
    if (name == attack_name(a)) return a;
  throw UserError("unknown attack '" + std::string(name) + "': give fgsm, pgd, apgd-ce or apgd-dlr");
}

std::string_view attack_name(Attack attack) {
  switch (attack) {
    case Attack::fgsm:
      return "fgsm";
    case Attack::pgd:
      return "pgd";
    case Attack::apgd_ce:
      return "apgd-ce";
    case Attack::apgd_dlr:
      return "apgd-dlr";
  }
  return "?";
}

Norm parse_norm(std::string_view name) {
  if (name == "linf" || name == "Linf" || name == "inf") return Norm::linf;
  if (name == "l2" || name == "L2") return Norm::l2;
  throw UserError("unknown norm '" + std::string(name) + "': give linf or l2");
}

std::string_view norm_name(Norm norm) {
  return norm == Norm::linf ? "linf" : "l2";
}

void check_options(const AttackOptions& o, int64_t classes) {
  if (!(o.eps >= 0) || (o.norm == Norm::linf && o.eps > 1) || !std::isfinite(o.eps)) {
    char eps[32];
    std::snprintf(eps, sizeof eps, "%g", o.eps);
    throw UserError(std::string("--eps ") + eps + " is outside " +
                    (o.norm == Norm::linf ? "[0, 1]" : "[0, ∞)") + " for " + std::string(norm_name(o.norm)) +
                    ": ε is in pixel units of [0, 1] images (8/255 ≈ 0.031 is usual for L∞)");
  }
  if (o.steps < 1 || o.steps > 100000)
    throw UserError("--steps " + std::to_string(o.steps) +
                    " is not allowed: give 1 to 100000 (10–100 is usual)");
  if (!(o.alpha >= 0) || !std::isfinite(o.alpha))
    throw UserError("--alpha must be a finite step ≥ 0 (0: 2.5·ε/steps)");
  if (o.restarts < 1 || o.restarts > 1000)
    throw UserError("--restarts " + std::to_string(o.restarts) + " is not allowed: give 1 to 1000");
  if (o.attack == Attack::apgd_dlr && classes < min_classes(Loss::dlr_targeted))
    throw UserError("apgd-dlr needs at least 4 classes (the targeted DLR loss); this model has " +
                    std::to_string(classes) + ": use apgd-ce or pgd");
  if (o.attack == Attack::apgd_dlr && o.targets < 1)
    throw UserError("--targets " + std::to_string(o.targets) + " is not allowed: give at least 1");
}

std::vector<int64_t> apgd_checkpoints(int64_t iterations) {
  RESNET_CHECK(iterations >= 1) << iterations;
  std::vector<double> p{0.0, 0.22};
  while (true) {
    const double next = p.back() + std::max(p.back() - p[p.size() - 2] - 0.03, 0.06);
    if (next > 1) break;
    p.push_back(next);
  }
  std::vector<int64_t> w;
  for (double pj : p) {
    // p_j·n computed in double can land a hair above an integer (0.22·100 = 22.000000000000004).
    const int64_t wj = static_cast<int64_t>(std::ceil(pj * static_cast<double>(iterations) - 1e-9));
    if (w.empty() || wj > w.back()) w.push_back(wj);
  }
  return w;
}

AttackResult attack(PixelModel& model, const Tensor& x01, const std::vector<int64_t>& labels,
                    const AttackOptions& o, int64_t first_index) {
  RESNET_CHECK(x01.ndim() == 4 && x01.dtype() == DType::f32) << x01.str();
  const int64_t n = x01.size(0);
  RESNET_CHECK_EQ(static_cast<int64_t>(labels.size()), n);
  check_options(o, model.classes());
  const Tensor x = x01.clone(Layout::contiguous);
  std::vector<int64_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), 0);
  Best best(x, n);
  auto offer_final = [&](const Tensor& candidate, const std::vector<int64_t>& rows,
                         const std::vector<int64_t>& row_labels) {
    const Tensor logits = model.logits(candidate);
    best.offer(candidate, rows, misclassified(logits, row_labels),
               loss_and_gradient(Loss::cross_entropy, logits, row_labels).loss);
  };
  switch (o.attack) {
    case Attack::fgsm:
      offer_final(pgd_run(model, x, x, labels, o.norm, o.eps, o.eps, 1), all, labels);
      break;
    case Attack::pgd: {
      const double alpha = o.alpha > 0 ? o.alpha : 2.5 * o.eps / static_cast<double>(o.steps);
      const bool random = o.random_start || o.restarts > 1;
      for (int64_t r = 0; r < o.restarts; ++r) {
        const std::vector<int64_t> rows = r == 0 ? all : padded(best.not_fooled(), n);
        if (rows.empty()) break;
        const Tensor xs = rows_of(x, rows);
        std::vector<int64_t> ls;
        for (int64_t row : rows) ls.push_back(labels[static_cast<size_t>(row)]);
        // Random draws are keyed by data-set index, so a subset draws what the full batch would have.
        Tensor start = xs.clone(Layout::contiguous);
        if (random) {
          Tensor full_start = random_start(x, o.norm, o.eps, o.seed, static_cast<uint64_t>(r), first_index);
          start = rows_of(full_start, rows);
        }
        offer_final(pgd_run(model, xs, start, ls, o.norm, o.eps, alpha, o.steps), rows, ls);
      }
      break;
    }
    case Attack::apgd_ce:
    case Attack::apgd_dlr: {
      const bool targeted = o.attack == Attack::apgd_dlr;
      const Tensor clean = model.logits(x);
      const int64_t classes = clean.size(1);
      const int64_t target_count = targeted ? std::min(o.targets, classes - 1) : 1;
      for (int64_t t = 0; t < target_count; ++t)
        for (int64_t r = 0; r < o.restarts; ++r) {
          const std::vector<int64_t> rows = padded(best.not_fooled(), n);
          if (rows.empty()) break;
          const Tensor xs = rows_of(x, rows);
          std::vector<int64_t> ls, ts;
          for (int64_t row : rows) {
            const int64_t y = labels[static_cast<size_t>(row)];
            ls.push_back(y);
            if (!targeted) continue;
            // The (t+1)-th highest clean logit among the classes other than y.
            std::vector<int64_t> order(static_cast<size_t>(classes));
            std::iota(order.begin(), order.end(), 0);
            const float* z = clean.data<float>() + row * classes;
            std::stable_sort(order.begin(), order.end(), [z](int64_t a, int64_t b) { return z[a] > z[b]; });
            order.erase(std::find(order.begin(), order.end(), y));
            ts.push_back(order[static_cast<size_t>(t)]);
          }
          Tensor start = xs.clone(Layout::contiguous);
          if (o.apgd_random || o.random_start) {
            const uint64_t stream = 1000 + static_cast<uint64_t>(t * o.restarts + r);
            start = rows_of(random_start(x, o.norm, o.eps, o.seed, stream, first_index), rows);
          }
          apgd_run(model, xs, start, ls, ts, targeted ? Loss::dlr_targeted : Loss::cross_entropy, o.norm,
                   o.eps, o.steps, rows, best);
        }
      break;
    }
  }
  AttackResult result{best.x, model.logits(best.x), {}};
  result.predicted = explain::predicted_classes(result.logits);
  return result;
}

}  // namespace resnet::robust
